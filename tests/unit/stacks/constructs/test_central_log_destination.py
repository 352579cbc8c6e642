"""The central archive's intake: destination, its roles, the Firehose stream, the bucket policy.

Policies are evaluated by the IAM simulator (tests/support/iam_simulator.py) with the request
context AWS documents for each caller; the stream's partitioning is run with jq 1.6 (the version
Firehose's inline parsing uses) on records shaped as CloudWatch Logs sends them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import lint

from tests.support.policy_lint import parliament_findings
from tests.unit.stacks.iam_policies import (
    ACCOUNT,
    PARTITION,
    REGION,
    identity_policies,
    resolve,
    role_arn,
)
from tests.unit.stacks.log_archive import (
    ADMIN_POLICY,
    FLOW_LOG_KEY,
    MEMBER_ACCOUNT,
    OTHER_ORG,
    bucket_policy,
    delivery,
    flow_logs_bucket,
    inline_statements,
    render,
    request,
    simulate,
    stream_s3_configuration,
)
from tests.unit.stacks.synthesis import ORG
from tests.unit.stacks.synthesis import synth_log_archive as synth

EVENTS = Path(__file__).resolve().parents[3] / "events"
CENTRAL = {"centralLogDestination": "true"}
NAME = "VpcFlowLogsGuardLogArchive-CentralArchive"
STREAM_ARN = f"arn:{PARTITION}:firehose:{REGION}:{ACCOUNT}:deliverystream/{NAME}"
DESTINATION_ARN = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:destination:{NAME}"
MEMBER_LOG_GROUP = f"arn:aws:logs:{REGION}:{MEMBER_ACCOUNT}:log-group:/aws/vpc-flow-logs/vpc-1"


@pytest.fixture(scope="module")
def central() -> Any:
    return synth(CENTRAL)[0]


@pytest.fixture(scope="module")
def central_kms() -> Any:
    return synth({**CENTRAL, "logArchiveKmsKey": "true"})[0]


def only(template: Any, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = Template.from_json(template).find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    logical_id, resource = next(iter(found.items()))
    return logical_id, resolve(resource, template["Resources"])


def role(template: Any, service: str) -> tuple[str, dict[str, Any]]:
    """The role only ``service`` may assume, with its intrinsics resolved."""
    (found,) = [
        (logical_id, resolve(resource, template["Resources"]))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and resource["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": service}
    ]
    return found


def stream_destination(template: Any) -> dict[str, Any]:
    """The stream's S3 configuration, intrinsics resolved."""
    config: dict[str, Any] = resolve(stream_s3_configuration(template, NAME), template["Resources"])
    return config


def access_policy(template: Any) -> dict[str, Any]:
    _, destination = only(template, "AWS::Logs::Destination")
    policy: dict[str, Any] = json.loads(destination["Properties"]["DestinationPolicy"])
    return policy


# --- nothing changes until it is asked for ------------------------------------------------------


def test_nothing_of_the_central_archive_by_default() -> None:
    template, _ = synth()

    for resource_type in (
        "AWS::Logs::Destination",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::IAM::Role",
    ):
        assert Template.from_json(template).find_resources(resource_type) == {}
    assert "CentralLogDestinationArn" not in template["Outputs"]


# --- the destination ----------------------------------------------------------------------------


def test_destination_feeds_the_stream_through_the_logs_role(central: Any) -> None:
    _, destination = only(central, "AWS::Logs::Destination")
    logs_role, _ = role(central, "logs.amazonaws.com")

    properties = destination["Properties"]
    assert properties["DestinationName"] == NAME
    assert properties["TargetArn"] == STREAM_ARN
    assert properties["RoleArn"] == role_arn(central, logs_role)


def test_destination_policy_admits_the_organization_to_subscribe_and_nothing_else(
    central: Any,
) -> None:
    assert access_policy(central) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrganizationAccountsSubscribe",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
                "Resource": DESTINATION_ARN,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
            }
        ],
    }


def _member(org: str, action: str, account: str = MEMBER_ACCOUNT) -> dict[str, Any]:
    return request(
        f"arn:aws:iam::{account}:role/Admin",
        action,
        DESTINATION_ARN,
        {"aws:PrincipalOrgID": org, "aws:PrincipalAccount": account},
        [ADMIN_POLICY],
    )


# logs:PutAccountPolicy is left to the exact-policy test above: the Service Authorization Reference
# lists no resource type for it, so the simulator refuses it on a destination ARN, while CloudWatch
# Logs checks it against the destination's policy for a cross-account target (walkthrough step 2).
DESTINATION_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "organization member: subscription filter": (
        _member(ORG, "logs:PutSubscriptionFilter"),
        "Allowed",
    ),
    "account of another organization": (
        _member(OTHER_ORG, "logs:PutSubscriptionFilter", "777788889999"),
        "ImplicitlyDenied",
    ),
    "organization member: replacing the destination's policy": (
        _member(ORG, "logs:PutDestinationPolicy"),
        "ImplicitlyDenied",
    ),
    "organization member: deleting the destination": (
        _member(ORG, "logs:DeleteDestination"),
        "ImplicitlyDenied",
    ),
}


def test_destination_policy_evaluated(central: Any) -> None:
    decisions = simulate(access_policy(central), [case for case, _ in DESTINATION_CASES.values()])

    assert dict(zip(DESTINATION_CASES, decisions, strict=True)) == {
        name: expected for name, (_, expected) in DESTINATION_CASES.items()
    }


# --- the role CloudWatch Logs assumes -----------------------------------------------------------


def test_logs_role_trusts_cloudwatch_logs_for_the_organization_in_this_region(
    central: Any,
) -> None:
    _, logs_role = role(central, "logs.amazonaws.com")

    assert logs_role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceOrgID": ORG},
                "ArnLike": {"aws:SourceArn": f"arn:{PARTITION}:logs:{REGION}:*:*"},
            },
        }
    ]


def test_logs_role_may_only_put_records_to_the_stream(central: Any) -> None:
    _, logs_role = role(central, "logs.amazonaws.com")

    assert inline_statements(logs_role) == [
        {
            "Effect": "Allow",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": STREAM_ARN,
        }
    ]


def _logs_assumes(source_arn: str, org: str) -> dict[str, Any]:
    account = source_arn.split(":")[4]
    return request(
        "logs.amazonaws.com",
        "sts:AssumeRole",
        "",
        {
            "aws:SourceArn": source_arn,
            "aws:SourceAccount": account,
            "aws:SourceOrgID": org,
            "aws:PrincipalServiceName": "logs.amazonaws.com",
        },
    )


TRUST_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "a member's log group in the destination's region": (
        _logs_assumes(MEMBER_LOG_GROUP, ORG),
        "Allowed",
    ),
    "the destination's own test message at creation": (
        _logs_assumes(DESTINATION_ARN, ORG),
        "Allowed",
    ),
    "a log group of another organization": (
        _logs_assumes(MEMBER_LOG_GROUP.replace(MEMBER_ACCOUNT, "777788889999"), OTHER_ORG),
        "ImplicitlyDenied",
    ),
    "a member's log group in another region": (
        _logs_assumes(MEMBER_LOG_GROUP.replace(REGION, "eu-west-1"), ORG),
        "ImplicitlyDenied",
    ),
}


def test_logs_role_trust_evaluated(central: Any) -> None:
    logs_role, resource = role(central, "logs.amazonaws.com")
    trust = resource["Properties"]["AssumeRolePolicyDocument"]
    requests = [
        {**case, "resource": role_arn(central, logs_role)} for case, _ in TRUST_CASES.values()
    ]

    decisions = simulate(trust, requests)

    assert dict(zip(TRUST_CASES, decisions, strict=True)) == {
        name: expected for name, (_, expected) in TRUST_CASES.items()
    }


# --- the Firehose stream (what both streams share: test_archive_stream.py) ----------------------


def test_stream_is_named_as_the_roles_expect_and_partitions_by_account(central: Any) -> None:
    _, stream = only(central, "AWS::KinesisFirehose::DeliveryStream")
    config = stream_destination(central)

    assert stream["Properties"]["DeliveryStreamName"] == NAME
    assert config["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert config["BufferingHints"]["SizeInMBs"] >= 64  # dynamic partitioning's minimum
    assert [p["Type"] for p in config["ProcessingConfiguration"]["Processors"]] == [
        "Decompression",
        "MetadataExtraction",
        "AppendDelimiterToRecord",
    ]


def _jq(query: str, record: dict[str, Any]) -> Any:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    # Firehose's inline parsing is jq 1.6; the query uses only object construction and field
    # access, which jq 1.6 and 1.7 (Debian 12 and 13 ship one each) evaluate alike.
    out = subprocess.run(  # noqa: S603 - jq with the stream's own query
        [jq, "-c", query], input=json.dumps(record), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def partition_prefix(template: Any, event: str) -> str:
    config = stream_destination(template)
    extraction = next(
        p
        for p in config["ProcessingConfiguration"]["Processors"]
        if p["Type"] == "MetadataExtraction"
    )
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in extraction["Parameters"]}
    assert parameters["JsonParsingEngine"] == "JQ-1.6"
    record = json.loads((EVENTS / event).read_text())
    keys = _jq(parameters["MetadataExtractionQuery"], record)
    return render(config["Prefix"], keys, "2026", "12", "02")


def test_a_member_record_lands_under_its_account_region_and_date(central: Any) -> None:
    assert partition_prefix(central, "cloudWatchLogsSubscriptionFlowLogs.json") == (
        f"CloudWatchLogs/account={MEMBER_ACCOUNT}/region={REGION}/year=2026/month=12/day=02/"
    )


def test_the_destination_health_check_lands_apart_from_every_account(central: Any) -> None:
    # CloudWatch Logs' CONTROL_MESSAGE names no account ("owner": "CloudwatchLogs").
    prefix = partition_prefix(central, "cloudWatchLogsSubscriptionControl.json")

    assert prefix.startswith("CloudWatchLogs/account=CloudwatchLogs/")


# --- the bucket policy with the archive stream --------------------------------------------------


def test_bucket_policy_lets_the_archive_stream_write_under_its_prefix_only(central: Any) -> None:
    logical_id, _ = flow_logs_bucket(central)
    arn = f"arn:aws:s3:::{logical_id.lower()}"
    firehose_role, resource = role(central, "firehose.amazonaws.com")
    firehose_arn = role_arn(central, firehose_role)
    firehose_identity = [
        {"name": "WriteArchive", "policy": resource["Properties"]["Policies"][0]["PolicyDocument"]}
    ]
    archive_key = f"CloudWatchLogs/account={MEMBER_ACCOUNT}/region={REGION}/year=2026/x.gz"
    as_firehose = {"aws:PrincipalArn": firehose_arn, "aws:PrincipalAccount": ACCOUNT}
    admin = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    as_admin = {"aws:PrincipalArn": admin, "aws:PrincipalAccount": ACCOUNT}
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "archive stream under CloudWatchLogs/": (
            request(
                firehose_arn, "s3:PutObject", f"{arn}/{archive_key}", as_firehose, firehose_identity
            ),
            "Allowed",
        ),
        "archive stream under AWSLogs/": (
            request(
                firehose_arn,
                "s3:PutObject",
                f"{arn}/{FLOW_LOG_KEY}",
                as_firehose,
                firehose_identity,
            ),
            "ExplicitlyDenied",
        ),
        "archive stream with an administrator's permissions, elsewhere": (
            request(firehose_arn, "s3:PutObject", f"{arn}/other/x", as_firehose, [ADMIN_POLICY]),
            "ExplicitlyDenied",
        ),
        "an administrator of the log-archive account under CloudWatchLogs/": (
            request(admin, "s3:PutObject", f"{arn}/{archive_key}", as_admin, [ADMIN_POLICY]),
            "ExplicitlyDenied",
        ),
        "the log delivery service, still, under AWSLogs/": (
            {**delivery(ORG, FLOW_LOG_KEY), "resource": f"{arn}/{FLOW_LOG_KEY}"},
            "Allowed",
        ),
        "the log delivery service under CloudWatchLogs/": (
            {**delivery(ORG, archive_key), "resource": f"{arn}/{archive_key}"},
            "ImplicitlyDenied",
        ),
    }

    decisions = simulate(bucket_policy(central, logical_id), [case for case, _ in cases.values()])

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (_, expected) in cases.items()
    }


# --- outputs, cdk-nag, cfn-lint -----------------------------------------------------------------


def test_output_is_the_destination_arn_for_the_member_accounts(central: Any) -> None:
    destination_id, _ = only(central, "AWS::Logs::Destination")

    output = central["Outputs"]["CentralLogDestinationArn"]
    assert output["Value"] == {"Fn::GetAtt": [destination_id, "Arn"]}
    assert "centralLogDestinationArn" in output["Description"]


@pytest.mark.parametrize(
    "overrides", [CENTRAL, {**CENTRAL, "logArchiveKmsKey": "true"}], ids=["sse-s3", "kms"]
)
def test_cdk_nag_accepts_only_the_firehose_object_wildcard(overrides: dict[str, str]) -> None:
    _, assembly_dir = synth(overrides, nag=True)

    report = json.loads((assembly_dir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    assert [
        (v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
        for v in plugin["suppressedViolations"]
    ] == [
        (
            f"AwsSolutions-IAM5[Resource::<{flow_logs_bucket(synth(overrides)[0])[0]}.Arn>"
            "/CloudWatchLogs/*]",
            ["VpcFlowLogsGuardLogArchive/CentralLogDestination/FirehoseRole/Resource"],
        )
    ]


@pytest.mark.parametrize(
    "overrides", [CENTRAL, {**CENTRAL, "logArchiveKmsKey": "true"}], ids=["sse-s3", "kms"]
)
def test_template_with_the_central_archive_passes_cfn_lint(overrides: dict[str, str]) -> None:
    template, _ = synth(overrides)

    assert [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])] == []


def test_role_policies_pass_parliament(central_kms: Any) -> None:
    policies = identity_policies(central_kms)

    findings = {where: parliament_findings(policy) for where, policy in policies.items()}

    assert len(policies) == 2  # Firehose's role and CloudWatch Logs' role, one policy each
    assert findings == {where: [] for where in policies}
