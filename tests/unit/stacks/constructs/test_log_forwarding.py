"""The member side of the central archive: the setting, the account policy, the rule's inputs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from cfnlint.api import lint

from local_aws.moto_patches.logs_account_policies import matches
from stacks.constructs.config_rule import RULE_PACKAGE
from stacks.constructs.log_forwarding import (
    FILTER_PATTERN_MAX_CHARS,
    POLICY_NAME,
    flow_log_records,
)
from stacks.settings.account import Settings, SettingsError
from tests.unit.stacks.aws_calls import aws_actions
from tests.unit.stacks.iam_policies import (
    ACCOUNT,
    PARTITION,
    REGION,
    identity_policies,
    resolve,
)
from tests.unit.stacks.synthesis import cdk_json_context, settings_with, synth_stack, synthesize

if TYPE_CHECKING:
    from tests.unit.stacks.synthesis import Synthesized

ARCHIVE_ACCOUNT = "111122223333"
NAME = "VpcFlowLogsGuardLogArchive-CentralArchive"
TEMPLATED = f"arn:aws:logs:{{region}}:{ARCHIVE_ACCOUNT}:destination:{NAME}"
IN_REGION = f"arn:{PARTITION}:logs:{REGION}:{ARCHIVE_ACCOUNT}:destination:{NAME}"
FORWARDING = {"centralLogDestinationArn": TEMPLATED}
DEFAULT_FORMAT_RECORDS = (
    '[version=2, account_id, interface_id="eni-*", srcaddr, dstaddr, srcport, dstport, protocol, '
    "packets, bytes, start, end, action, log_status]"
)


@pytest.fixture(scope="module")
def forwarding() -> Synthesized:
    return synthesize(FORWARDING)


def account_policy(synthesized: Synthesized) -> dict[str, Any]:
    _, policy = synthesized.only("AWS::Logs::AccountPolicy")
    resolved: dict[str, Any] = resolve(policy["Properties"], synthesized.json["Resources"])
    return resolved


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [TEMPLATED, IN_REGION, f" {TEMPLATED} "])
def test_a_destination_arn_with_a_region_or_the_placeholder_is_accepted(value: str) -> None:
    assert settings_with(centralLogDestinationArn=value).central_log_destination_arn == (
        value.strip()
    )


@pytest.mark.parametrize(
    "value",
    [
        NAME,
        f"arn:aws:firehose:us-east-1:{ARCHIVE_ACCOUNT}:deliverystream/{NAME}",
        f"arn:aws:logs:{{region}}:{ARCHIVE_ACCOUNT}:log-group:/aws/vpc-flow-logs/x",
        f"arn:aws:logs:{{region}}:{ARCHIVE_ACCOUNT}:destination:a*",
        f"arn:aws:logs:{{Region}}:{ARCHIVE_ACCOUNT}:destination:{NAME}",
        f"arn:aws:logs:us-east-1:1111:destination:{NAME}",
        ["not", "a", "string"],
    ],
)
def test_anything_else_is_refused_naming_key_value_and_what_is_allowed(value: object) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(centralLogDestinationArn=value)

    message = str(caught.value)
    assert "setting 'centralLogDestinationArn'" in message
    assert repr(value) in message
    assert "a CloudWatch Logs destination ARN, with {region}" in message


def test_forwarding_needs_the_cloud_watch_logs_destination() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(destination="s3", centralBucketArn="arn:aws:s3:::org-flow-logs", **FORWARDING)

    assert "'centralLogDestinationArn'" in str(caught.value)
    assert "but 'destination' is 's3'" in str(caught.value)


def test_forwarding_a_custom_format_needs_its_interface_id() -> None:
    no_eni = "${version} ${srcaddr} ${dstaddr} ${action}"

    with pytest.raises(SettingsError) as caught:
        settings_with(logFormat=no_eni, **FORWARDING)

    assert f"setting 'logFormat' = {no_eni!r} has no ${{interface-id}}" in str(caught.value)
    assert settings_with(logFormat=no_eni).log_format == no_eni  # without forwarding: allowed


def test_without_the_setting_nothing_is_forwarded_or_read(default: Synthesized) -> None:
    assert default.resources("AWS::Logs::AccountPolicy") == {}
    _, rule = default.only("AWS::Config::ConfigRule")
    assert "CentralLogDestinationArn" not in json.dumps(rule["Properties"])
    assert "DescribeAccountPolicies" not in json.dumps(default.json)


# --- the account policy --------------------------------------------------------------------------


def test_the_account_policy_forwards_flow_log_records_to_the_destination_of_its_region(
    forwarding: Synthesized,
) -> None:
    policy = account_policy(forwarding)

    assert policy["PolicyName"] == POLICY_NAME
    assert policy["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    assert policy["Scope"] == "ALL"
    assert json.loads(policy["PolicyDocument"]) == {
        "DestinationArn": IN_REGION,
        "FilterPattern": DEFAULT_FORMAT_RECORDS,
    }


def test_the_policy_excludes_the_rules_own_log_group_by_its_exact_name(
    forwarding: Synthesized,
) -> None:
    log_group_id, _ = forwarding.only("AWS::Logs::LogGroup")

    _, policy = forwarding.only("AWS::Logs::AccountPolicy")

    criteria = policy["Properties"]["SelectionCriteria"]
    assert criteria == {"Fn::Join": ["", ['LogGroupName NOT IN ["', {"Ref": log_group_id}, '"]']]}


def test_the_filter_pattern_has_every_field_of_the_default_format() -> None:
    # The default format, as the VPC User Guide lists it (the runbook's empty LogFormat).
    default_format = (
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
        "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
    )
    pattern = flow_log_records("")
    fields = [f.split("=")[0].strip() for f in pattern.strip("[]").split(",")]

    assert fields == [f[2:-1].replace("-", "_") for f in default_format.split()]
    assert pattern == DEFAULT_FORMAT_RECORDS


def test_with_a_custom_log_format_the_policy_forwards_records_of_that_format() -> None:
    custom = "${version} ${vpc-id} ${interface-id} ${pkt-srcaddr} ${action} ${flow-direction}"
    synthesized = synthesize({**FORWARDING, "logFormat": custom})

    document = json.loads(account_policy(synthesized)["PolicyDocument"])

    # A custom format's version is its fields' highest (VPC User Guide): not pinned to 2.
    assert document["FilterPattern"] == (
        '[version, vpc_id, interface_id="eni-*", pkt_srcaddr, action, flow_direction]'
    )
    _, rule = synthesized.only("AWS::Config::ConfigRule")
    runbook_format = rule["Properties"]["InputParameters"]["LogFormat"]
    assert runbook_format == custom  # the rule requires the format the policy forwards


@pytest.mark.parametrize(
    ("message", "forwarded"),
    [
        ("5 vpc-0a1b eni-0c2d 10.0.0.9 REJECT ingress", True),
        ("5 vpc-0a1b eni-0c2d - - -", True),  # NODATA: fields without a value are "-"
        ("2 123456789012 eni-0c2d 10.0.0.9 10.0.0.1 443 5000 6 1 40 1 2 ACCEPT OK", False),
        ("INFO request served in 12 ms", False),  # six words, no ENI id third
    ],
)
def test_the_custom_format_pattern_as_the_embedded_aws_matches_it(
    message: str, forwarded: bool
) -> None:
    custom = "${version} ${vpc-id} ${interface-id} ${pkt-srcaddr} ${action} ${flow-direction}"

    assert matches(flow_log_records(custom), message) is forwarded


def test_every_documented_field_at_once_fits_cloudwatch_logs_filter_pattern_limit() -> None:
    # Every field of VPC Flow Logs' versions 2 to 8 (VPC User Guide, "Available fields").
    every_field = [
        "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
        "protocol", "packets", "bytes", "start", "end", "action", "log-status", "vpc-id",
        "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region",
        "az-id", "sublocation-type", "sublocation-id", "pkt-src-aws-service",
        "pkt-dst-aws-service", "flow-direction", "traffic-path", "ecs-cluster-arn",
        "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
        "ecs-container-id", "ecs-second-container-id", "ecs-service-name",
        "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id", "reject-reason", "resource-id",
        "encryption-status",
    ]  # fmt: skip
    model = botocore.session.get_session().get_service_model("logs")
    limit = model.shape_for("FilterPattern").metadata["max"]

    pattern = flow_log_records(" ".join(f"${{{f}}}" for f in every_field))

    assert limit == FILTER_PATTERN_MAX_CHARS
    assert len(pattern) <= limit
    with pytest.raises(ValueError, match=rf"'logFormat' has 84 fields.*allows {limit}"):
        flow_log_records(" ".join(f"${{{f}}}" for f in every_field * 2))


def test_a_templated_arn_needs_no_region_check(forwarding: Synthesized) -> None:
    assert set(forwarding.json.get("Rules", {})) == {"CheckBootstrapVersion"}


def test_a_literal_region_is_asserted_when_the_stack_is_deployed() -> None:
    literal = synthesize({"centralLogDestinationArn": IN_REGION})

    rules = {k: v for k, v in literal.json["Rules"].items() if k != "CheckBootstrapVersion"}

    ((assertion,),) = [rule["Assertions"] for rule in rules.values()]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, REGION]}
    assert REGION in assertion["AssertDescription"]
    assert json.loads(account_policy(literal)["PolicyDocument"])["DestinationArn"] == IN_REGION


# --- the rule ------------------------------------------------------------------------------------


def test_the_rule_requires_the_same_destination_as_the_policy(forwarding: Synthesized) -> None:
    _, rule = forwarding.only("AWS::Config::ConfigRule")

    parameters = resolve(rule["Properties"]["InputParameters"], forwarding.json["Resources"])

    destination = json.loads(account_policy(forwarding)["PolicyDocument"])["DestinationArn"]
    assert parameters["CentralLogDestinationArn"] == destination == IN_REGION


def rule_role_id(synthesized: Synthesized) -> str:
    _, function = synthesized.only("AWS::Lambda::Function")
    role_id: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_id


def test_the_rules_role_reads_the_account_policy(forwarding: Synthesized) -> None:
    role = forwarding.json["Resources"][rule_role_id(forwarding)]
    statements = resolve(
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"],
        forwarding.json["Resources"],
    )

    assert statements[-2:] == [
        {
            "Sid": "ReadAccountSubscriptionPolicy",
            "Effect": "Allow",
            "Action": "logs:DescribeAccountPolicies",
            "Resource": "*",
        },
        {
            "Sid": "ReadSubscriptionFilters",
            "Effect": "Allow",
            "Action": "logs:DescribeSubscriptionFilters",
            "Resource": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:*",
        },
    ]


def test_with_forwarding_the_role_grants_every_call_of_the_rule(forwarding: Synthesized) -> None:
    called = aws_actions(RULE_PACKAGE / "aws_api.py", ["ec2", "logs", "config"])
    role_id = rule_role_id(forwarding)
    granted: set[str] = set()
    for where, policy in identity_policies(forwarding.json).items():
        if role_id in where or "ReadOwnCompliance" in where:
            for statement in policy["Statement"]:
                action = statement["Action"]
                granted.update([action] if isinstance(action, str) else action)

    # DescribeSubscriptionFilters is not called: DescribeAccountPolicies needs it granted
    assert granted == called | {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeSubscriptionFilters",
    }


# --- cdk-nag, cfn-lint ---------------------------------------------------------------------------


def _stack(app: Any) -> Any:
    from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

    context = {**cdk_json_context(), **FORWARDING}
    settings = Settings.from_mapping(context)
    app.node.set_context("aws:cdk:bundling-stacks", [])
    return VpcFlowLogsStack(app, "VpcFlowLogsGuard", settings=settings)


def test_cdk_nag_accepts_the_forwarding_with_one_reviewed_wildcard() -> None:
    _, assembly_dir = synth_stack(_stack, nag=True)

    report = json.loads((assembly_dir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    suppressed = {v["ruleName"] for v in plugin["suppressedViolations"]}
    assert (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
        "<AWS::AccountId>:log-group:*]" in suppressed
    )


@pytest.mark.parametrize("arn", [TEMPLATED, IN_REGION], ids=["templated", "literal"])
def test_template_with_forwarding_passes_cfn_lint(arn: str) -> None:
    template = synthesize({"centralLogDestinationArn": arn}).json

    assert [str(match) for match in lint(json.dumps(template), regions=[REGION])] == []
