from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from aws_cdk import aws_iam as iam
from cfnlint.api import lint

from enable_vpc_flow_logs import delivery_role as script
from tests.support.policy_lint import parliament_findings
from tests.unit.stacks.iam_policies import ACCOUNT, PARTITION, identity_policies, resolve
from tests.unit.stacks.nag_findings import ACKNOWLEDGED, ACKNOWLEDGED_RECORDER, nag_report
from tests.unit.stacks.synthesis import KMS_KEY_ARN

if TYPE_CHECKING:
    from collections.abc import Callable

    import aws_cdk as cdk

    from tests.unit.stacks.synthesis import Synthesized

EVERYTHING = {"kmsKeyArn": KMS_KEY_ARN, "createConfigRecorder": "true"}


def test_outputs_name_the_rule_the_document_and_the_automation_role(
    default: Synthesized,
) -> None:
    rule_id, _ = default.only("AWS::Config::ConfigRule")
    document_id, _ = default.only("AWS::SSM::Document")
    automation_role_id = next(
        logical_id
        for logical_id in default.resources("AWS::IAM::Role")
        if "Automation" in logical_id
    )
    boundary_id, _ = default.only("AWS::IAM::ManagedPolicy")

    outputs = {name: output["Value"] for name, output in default.json["Outputs"].items()}

    assert outputs == {
        "RuleName": {"Ref": rule_id},
        "DocumentName": {"Ref": document_id},
        "AutomationRoleArn": {"Fn::GetAtt": [automation_role_id, "Arn"]},
        "DeliveryRoleBoundaryArn": {"Ref": boundary_id},
    }


def test_default_stack_has_exactly_these_resources(default: Synthesized) -> None:
    counts: dict[str, int] = {}
    for resource in default.json["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1

    assert counts == {
        "AWS::Logs::LogGroup": 1,
        "AWS::IAM::Role": 2,
        "AWS::IAM::Policy": 1,
        "AWS::IAM::ManagedPolicy": 1,
        "AWS::Lambda::Function": 1,
        "AWS::Lambda::Permission": 1,
        "AWS::Config::ConfigRule": 1,
        "AWS::SSM::Document": 1,
        "AWS::Config::RemediationConfiguration": 1,
    }


def test_same_settings_give_the_same_template(synth: Callable[..., Synthesized]) -> None:
    assert synth({"trafficType": "ALL"}).json == synth({"trafficType": "ALL"}).json


def test_invalid_setting_fails_the_synth_with_its_name(synth: Callable[..., Synthesized]) -> None:
    with pytest.raises(ValueError, match="setting 'retentionInDays' = '42' is invalid"):
        synth({"retentionInDays": "42"})


@pytest.mark.parametrize("overrides", [{}, EVERYTHING], ids=["default", "everything"])
def test_every_iam_policy_passes_parliament(
    overrides: dict[str, str], synth: Callable[..., Synthesized]
) -> None:
    template = synth(overrides).json
    policies = identity_policies(template)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            document = resource["Properties"]["PolicyDocument"]
            policies[logical_id] = resolve(document, template["Resources"])
    # and the policy the runbook writes on the delivery role
    policies["VpcFlowLogsDeliveryRole/VpcFlowLogsDelivery"] = script.delivery_policy(
        PARTITION, ACCOUNT
    )
    assert len(policies) >= (6 if overrides else 4)

    findings = {where: parliament_findings(policy) for where, policy in policies.items()}

    assert findings == {where: [] for where in policies}


def test_parliament_catches_a_resource_mismatch() -> None:
    # Negative control: the linter does judge resources against actions.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/*",
            }
        ],
    }

    issues = [issue for issue, _ in parliament_findings(policy)]

    assert issues == ["RESOURCE_MISMATCH"]


def test_template_with_every_option_passes_cfn_lint(everything: Synthesized) -> None:
    # `make test` lints cdk.out (the defaults); this lints the optional resources too.
    matches = lint(json.dumps(everything.json), regions=["us-east-1"])

    assert [str(match) for match in matches] == []


@pytest.mark.parametrize(
    ("overrides", "acknowledged"),
    [({}, ACKNOWLEDGED), (EVERYTHING, ACKNOWLEDGED | ACKNOWLEDGED_RECORDER)],
    ids=["default", "everything"],
)
def test_cdk_nag_has_no_unacknowledged_finding(
    overrides: dict[str, str], acknowledged: set[str]
) -> None:
    report = nag_report(overrides)

    (nag,) = [
        plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"
    ]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    # every acknowledgement still matches a finding (none is stale), each with a reason
    assert {finding["ruleName"] for finding in nag["suppressedViolations"]} == acknowledged
    assert all(len(finding["reason"]) > 80 for finding in nag["suppressedViolations"])


def test_cdk_nag_fails_the_synth_on_a_new_finding() -> None:
    # Negative control: an unreviewed wildcard on another role stops the synth.
    def add_wildcard(stack: cdk.Stack) -> None:
        role = iam.Role(stack, "Extra", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["ec2:DescribeVpcs"], resources=["*"]))

    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]") as caught:
        nag_report({}, add_wildcard)

    assert "VpcFlowLogsGuard/Extra" in str(caught.value)
