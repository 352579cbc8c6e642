from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_config as config

from enable_vpc_flow_logs import boundary as script
from stacks.build.runbook_document import build_document
from stacks.constructs.auto_remediation import AutoRemediation, AutoRemediationProps
from stacks.constructs.remediation_runbook import DOCUMENT_PATH
from tests.unit.stacks.synthesis import KMS_KEY_ARN

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.unit.stacks.synthesis import Synthesized


def remediation(synthesized: Synthesized) -> dict[str, Any]:
    _, found = synthesized.only("AWS::Config::RemediationConfiguration")
    return found


def static(parameters: dict[str, Any]) -> dict[str, str]:
    """Parameter name -> its one static value (the resource value is left out)."""
    values: dict[str, str] = {}
    for name, value in parameters.items():
        if "StaticValue" in value:
            (values[name],) = value["StaticValue"]["Values"]
    return values


def test_remediation_runs_the_document_on_the_noncompliant_vpc(default: Synthesized) -> None:
    rule_id, _ = default.only("AWS::Config::ConfigRule")
    document_id, _ = default.only("AWS::SSM::Document")
    automation_role_id = next(
        logical_id
        for logical_id, role in default.resources("AWS::IAM::Role").items()
        if "AutomationRole" in logical_id
    )
    boundary_id, _ = default.only("AWS::IAM::ManagedPolicy")

    found = remediation(default)

    assert found["Properties"] == {
        "ConfigRuleName": {"Ref": rule_id},
        "TargetType": "SSM_DOCUMENT",
        "TargetId": {"Ref": document_id},
        "ResourceType": "AWS::EC2::VPC",
        "Automatic": True,
        "MaximumAutomaticAttempts": 5,
        "RetryAttemptSeconds": 3600,
        "ExecutionControls": {
            "SsmControls": {"ConcurrentExecutionRatePercentage": 10, "ErrorPercentage": 20}
        },
        "Parameters": {
            "VpcId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
            "AutomationAssumeRole": {
                "StaticValue": {"Values": [{"Fn::GetAtt": [automation_role_id, "Arn"]}]}
            },
            "DeliveryRoleName": {"StaticValue": {"Values": ["VpcFlowLogsDeliveryRole"]}},
            "DeliveryRoleBoundaryArn": {"StaticValue": {"Values": [{"Ref": boundary_id}]}},
            "DestinationType": {"StaticValue": {"Values": ["cloud-watch-logs"]}},
            "MaxAggregationInterval": {"StaticValue": {"Values": ["600"]}},
            "RetentionInDays": {"StaticValue": {"Values": ["365"]}},
            "TrafficType": {"StaticValue": {"Values": ["REJECT"]}},
        },
    }
    assert "TargetVersion" not in found["Properties"]  # the document's default version


def test_remediation_is_created_after_the_rule(default: Synthesized) -> None:
    # A Ref is a dependency to CloudFormation: the rule exists before its remediation.
    rule_id, _ = default.only("AWS::Config::ConfigRule")

    assert remediation(default)["Properties"]["ConfigRuleName"] == {"Ref": rule_id}


def test_remediation_parameters_are_document_parameters(everything: Synthesized) -> None:
    declared = build_document(DOCUMENT_PATH)["parameters"]
    given = remediation(everything)["Properties"]["Parameters"]

    assert set(given) <= set(declared)
    required = {name for name, spec in declared.items() if "default" not in spec}
    assert required <= set(given)


def test_parameters_left_out_are_the_document_defaults_we_want(default: Synthesized) -> None:
    # Config refuses empty static values, so "no KMS key", "one log group per VPC" and "AWS
    # default format" are left to the document's defaults: they must be empty there. The S3
    # object options do not apply to CloudWatch Logs: their defaults are EC2's own. Nor do the
    # Firehose stream and roles: empty.
    declared = build_document(DOCUMENT_PATH)["parameters"]
    given = remediation(default)["Properties"]["Parameters"]

    left_out = set(declared) - set(given)

    assert {name: declared[name]["default"] for name in left_out} == {
        "KmsKeyArn": "",
        "LogGroupName": "",
        "LogFormat": "",
        "S3BucketArn": "",
        "FirehoseArn": "",
        "DeliverLogsPermissionArn": "",
        "DeliverCrossAccountRole": "",
        "S3FileFormat": "plain-text",
        "S3HiveCompatiblePartitions": "false",
        "S3PerHourPartition": "false",
    }
    assert static(given)["DestinationType"] == "cloud-watch-logs"


CENTRAL_BUCKET = "arn:aws:s3:::org-vpc-flow-logs"


def assert_satisfy_the_document(values: dict[str, str]) -> None:
    """Each value is one its document parameter allows (allowedValues, allowedPattern)."""
    declared = build_document(DOCUMENT_PATH)["parameters"]
    for name, value in values.items():
        spec = declared[name]
        if "allowedValues" in spec:
            assert value in [str(allowed) for allowed in spec["allowedValues"]], name
        if "allowedPattern" in spec:
            assert re.search(spec["allowedPattern"], value), name


TO_CENTRAL_BUCKET = {"destination": "s3", "centralBucketArn": CENTRAL_BUCKET}


def test_with_the_central_bucket_the_runbook_delivers_there(
    synth: Callable[..., Synthesized],
) -> None:
    synthesized = synth({**TO_CENTRAL_BUCKET, "trafficType": "ALL"})

    values = static(remediation(synthesized)["Properties"]["Parameters"])
    values.pop("AutomationAssumeRole")

    # Only the S3 path's parameters: no delivery role, log group, retention or key
    assert values == {
        "DestinationType": "s3",
        "S3BucketArn": CENTRAL_BUCKET,
        "TrafficType": "ALL",
        "MaxAggregationInterval": "600",
        "S3FileFormat": "plain-text",
        "S3HiveCompatiblePartitions": "false",
        "S3PerHourPartition": "false",
    }
    assert_satisfy_the_document(values)
    # and the rule accepts what the runbook creates there
    _, rule = synthesized.only("AWS::Config::ConfigRule")
    assert rule["Properties"]["InputParameters"]["S3BucketArn"] == CENTRAL_BUCKET
    assert "s3" in rule["Properties"]["InputParameters"]["AllowedDestinationTypes"]


def test_static_values_satisfy_the_document_constraints(everything: Synthesized) -> None:
    values = static(remediation(everything)["Properties"]["Parameters"])
    values.pop("AutomationAssumeRole")  # a token here; its pattern is checked on the ARN form
    values.pop("DeliveryRoleBoundaryArn")  # a Ref too: see the test below

    assert values
    assert_satisfy_the_document(values)


def test_boundary_arn_as_deployed_satisfies_the_document_and_the_script(
    everything: Synthesized,
) -> None:
    # Given the boundary's ARN as IAM gives it: its path, a name CloudFormation generates
    # (<stack>-<logical id>-<suffix>, at most 128 characters), in any account
    declared = build_document(DOCUMENT_PATH)["parameters"]["DeliveryRoleBoundaryArn"]
    boundary_id, boundary = everything.only("AWS::IAM::ManagedPolicy")
    name = f"StackSet-VpcFlowLogsGuard-{'0' * 36}-{boundary_id}-ABCDEFGHIJKL"[:128]
    arn = f"arn:aws:iam::111122223333:policy{boundary['Properties']['Path']}{name}"

    # Then the document's pattern and the script both accept it, for that account only
    assert re.search(declared["allowedPattern"], arn)
    assert script.is_boundary_of_account(arn, "aws", "111122223333")
    assert not script.is_boundary_of_account(arn, "aws", "444455556666")
    assert not re.search(declared["allowedPattern"], arn.replace("/vpc-flow-logs-guard/", "/"))


def test_remediation_creates_what_the_rule_accepts(synth: Callable[..., Synthesized]) -> None:
    # -c values arrive as strings; rule and remediation must move together
    synthesized = synth({"trafficType": "ALL", "minRetentionDays": "400", "retentionInDays": "731"})

    _, rule = synthesized.only("AWS::Config::ConfigRule")
    values = static(remediation(synthesized)["Properties"]["Parameters"])

    assert rule["Properties"]["InputParameters"]["TrafficType"] == "ALL"
    assert values["TrafficType"] == "ALL"
    assert rule["Properties"]["InputParameters"]["MinRetentionDays"] == "400"
    assert values["RetentionInDays"] == "731"
    assert "cloud-watch-logs" in rule["Properties"]["InputParameters"]["AllowedDestinationTypes"]


def test_kms_key_is_passed_to_the_runbook(everything: Synthesized) -> None:
    assert static(remediation(everything)["Properties"]["Parameters"])["KmsKeyArn"] == KMS_KEY_ARN


def test_execution_controls_follow_the_settings(synth: Callable[..., Synthesized]) -> None:
    synthesized = synth(
        {
            "automaticRemediation": "false",
            "maximumAutomaticAttempts": "2",
            "retryAttemptSeconds": "900",
            "concurrentExecutionRatePercentage": "50",
            "errorPercentage": "1",
        }
    )

    properties = remediation(synthesized)["Properties"]

    assert properties["Automatic"] is False
    assert properties["MaximumAutomaticAttempts"] == 2
    assert properties["RetryAttemptSeconds"] == 900
    assert properties["ExecutionControls"] == {
        "SsmControls": {"ConcurrentExecutionRatePercentage": 50, "ErrorPercentage": 1}
    }


def test_construct_refuses_to_have_its_own_parameters_overridden() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    rule = config.ManagedRule(
        stack, "Rule", identifier=config.ManagedRuleIdentifiers.VPC_FLOW_LOGS_ENABLED
    )
    props = AutoRemediationProps(
        rule=rule,
        document_name="Doc",
        automation_role_arn="arn:aws:iam::111122223333:role/Automation",
        static_parameters={"VpcId": "vpc-12345678"},
        automatic=True,
        maximum_automatic_attempts=5,
        retry_attempt_seconds=60,
        concurrent_execution_rate_percentage=10,
        error_percentage=10,
    )

    with pytest.raises(ValueError, match="'VpcId' is set by the construct"):
        AutoRemediation(stack, "Remediation", props)


def _remediation_with(
    static_parameters: dict[str, str], declared: dict[str, dict[str, object]]
) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    rule = config.ManagedRule(
        stack, "Rule", identifier=config.ManagedRuleIdentifiers.VPC_FLOW_LOGS_ENABLED
    )
    AutoRemediation(
        stack,
        "Remediation",
        AutoRemediationProps(
            rule=rule,
            document_name="Doc",
            automation_role_arn="arn:aws:iam::111122223333:role/Automation",
            static_parameters=static_parameters,
            automatic=True,
            maximum_automatic_attempts=5,
            retry_attempt_seconds=60,
            concurrent_execution_rate_percentage=10,
            error_percentage=10,
            document_parameters=declared,
        ),
    )


def test_a_parameter_the_document_does_not_declare_fails_the_synth() -> None:
    declared: dict[str, dict[str, object]] = {
        "DestinationType": {"type": "String", "allowedValues": ["cloud-watch-logs", "s3"]}
    }

    with pytest.raises(ValueError, match="the runbook refuses") as raised:
        _remediation_with(
            {"DestinationType": "kinesis-data-firehose", "FirehoseArn": "arn:x"}, declared
        )

    assert str(raised.value) == (
        "remediation parameters the runbook refuses: 'DestinationType' = 'kinesis-data-firehose' "
        "is not one of its allowedValues ['cloud-watch-logs', 's3']; 'FirehoseArn' is not a "
        "parameter of the document"
    )


def test_declared_values_and_deploy_time_tokens_pass_the_document_check() -> None:
    declared: dict[str, dict[str, object]] = {
        "DestinationType": {"type": "String", "allowedValues": ["s3"]},
        "RetentionInDays": {"type": "String", "allowedValues": [7, 365]},
    }

    _remediation_with(
        {"DestinationType": cdk.Aws.REGION, "RetentionInDays": "365"},  # a token is not judged
        declared,
    )


def test_the_stacks_remediation_matches_the_real_document(everything: Synthesized) -> None:
    # The stack passes the document's declared parameters: every static one is declared.
    declared = build_document(DOCUMENT_PATH)["parameters"]
    parameters = remediation(everything)["Properties"]["Parameters"]

    assert set(parameters) <= set(declared)
