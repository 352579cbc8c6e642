"""The log-archive side of direct Firehose delivery: stream, its role, the destination account
role, the bucket policy with one more writer.

Policies are evaluated by the IAM simulator with the request context AWS documents for each
caller; the cross-account AssumeRole is evaluated as IAM does it, with both halves: the member's
source role policy (from the member template) and this stack's trust policy.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import lint

from tests.support import iam_simulator
from tests.support.iam_simulator import ALLOWED, EXPLICITLY_DENIED, IMPLICITLY_DENIED, Policies
from tests.support.iam_simulator import Request as SimRequest
from tests.support.policy_lint import parliament_findings
from tests.support.service_authorization import statement_problems
from tests.unit.stacks.central_stream import STREAM_NAME, TO_CENTRAL_STREAM, source_role
from tests.unit.stacks.iam_policies import (
    ACCOUNT,
    PARTITION,
    REGION,
    identity_policies,
    resolve,
    role_arn,
    role_policies,
)
from tests.unit.stacks.log_archive import (
    ADMIN_POLICY,
    FLOW_LOG_KEY,
    MEMBER_ACCOUNT,
    OTHER_ORG,
    bucket_policy,
    delivery,
    firehose_stream,
    flow_logs_bucket,
    inline_statements,
    render,
    request,
    simulate,
    stream_role,
    stream_s3_configuration,
)
from tests.unit.stacks.synthesis import ORG, synthesize
from tests.unit.stacks.synthesis import synth_log_archive as synth

FIREHOSE = {"firehoseDelivery": "true"}
VARIANTS = [
    FIREHOSE,
    {**FIREHOSE, "logArchiveKmsKey": "true"},
    {**FIREHOSE, "centralLogDestination": "true"},
]
TAG_KEYS = ["LogDeliveryEnabled"]
UNTAG = {"aws:TagKeys": TAG_KEYS}
NAME = STREAM_NAME
STREAM_ARN = f"arn:{PARTITION}:firehose:{REGION}:{ACCOUNT}:deliverystream/{NAME}"
DESTINATION_ROLE_NAME = f"AWSLogDeliveryFirehoseCrossAccountRole-{REGION}"
DESTINATION_ROLE = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{DESTINATION_ROLE_NAME}"
SOURCE_ROLE = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/vpc-flow-logs-guard/Member-FirehoseSource-1A2B"
SERVICE_LINKED_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/delivery.logs.amazonaws.com/"
    "AWSServiceRoleForLogDelivery"
)


@pytest.fixture(scope="module")
def direct() -> Any:
    return synth(FIREHOSE)[0]


@pytest.fixture(scope="module")
def direct_kms() -> Any:
    return synth({**FIREHOSE, "logArchiveKmsKey": "true"})[0]


@pytest.fixture(scope="module")
def both() -> Any:
    return synth({**FIREHOSE, "centralLogDestination": "true"})[0]


def destination_role(template: Any) -> tuple[str, dict[str, Any]]:
    """The role whose name AWS requires, intrinsics resolved."""
    (found,) = [
        (logical_id, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and "RoleName" in resource["Properties"]
    ]
    return found[0], resolve(found[1], template["Resources"])


# --- nothing of it unless asked for -------------------------------------------------------------


def test_nothing_of_direct_delivery_by_default() -> None:
    template, _ = synth()

    assert Template.from_json(template).find_resources("AWS::KinesisFirehose::DeliveryStream") == {}
    assert Template.from_json(template).find_resources("AWS::IAM::Role") == {}
    assert not {"CentralFirehoseArn", "CentralFirehoseRoleArn"} & set(template["Outputs"])


# --- the stream (what both streams share: test_archive_stream.py) ------------------------------


def test_stream_is_tagged_for_log_delivery(direct: Any) -> None:
    properties = firehose_stream(direct, NAME)["Properties"]

    assert properties["Tags"] == [{"Key": "LogDeliveryEnabled", "Value": "true"}]


def test_stream_appends_a_newline_to_each_record_and_does_not_partition(direct: Any) -> None:
    config = stream_s3_configuration(direct, NAME)

    assert config["ProcessingConfiguration"] == {
        "Enabled": True,
        "Processors": [{"Type": "AppendDelimiterToRecord"}],
    }
    # plain-text records, no JSON to partition by: no dynamic partitioning (and its charges)
    assert "DynamicPartitioningConfiguration" not in config


def test_a_record_lands_under_the_streams_region_and_date(direct: Any) -> None:
    prefix = resolve(stream_s3_configuration(direct, NAME)["Prefix"], direct["Resources"])

    assert render(prefix, {}, "2026", "12", "02") == (
        f"VpcFlowLogs/region={REGION}/year=2026/month=12/day=02/"
    )


# --- the destination account role ---------------------------------------------------------------


def test_destination_role_has_the_name_aws_requires_one_per_region(direct: Any) -> None:
    _, destination = destination_role(direct)

    assert destination["Properties"]["RoleName"] == DESTINATION_ROLE_NAME
    # IAM's 64 characters, with the longest Region names
    assert len("AWSLogDeliveryFirehoseCrossAccountRole-ap-southeast-5") <= 64


def test_destination_role_trusts_source_roles_of_the_organization_only(direct: Any) -> None:
    _, destination = destination_role(direct)

    assert destination["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": ORG},
                "ArnLike": {
                    "aws:PrincipalArn": f"arn:{PARTITION}:iam::*:role/vpc-flow-logs-guard/*"
                },
            },
        }
    ]


def test_destination_role_may_only_prepare_this_stream(direct: Any) -> None:
    _, destination = destination_role(direct)

    assert inline_statements(destination) == [
        {
            "Sid": "TagTheStreamForLogDelivery",
            "Effect": "Allow",
            "Action": "firehose:TagDeliveryStream",
            "Resource": STREAM_ARN,
            "Condition": {
                "StringEquals": {"aws:RequestTag/LogDeliveryEnabled": "true"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["LogDeliveryEnabled"]},
            },
        },
        {
            "Sid": "CreateTheLogDeliveryServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": SERVICE_LINKED_ROLE,
            "Condition": {"StringEquals": {"iam:AWSServiceName": "delivery.logs.amazonaws.com"}},
        },
    ]


def _assumes(principal: str, org: str) -> dict[str, Any]:
    account = principal.split(":")[4]
    return request(
        principal,
        "sts:AssumeRole",
        DESTINATION_ROLE,
        {"aws:PrincipalOrgID": org, "aws:PrincipalArn": principal, "aws:PrincipalAccount": account},
    )


TRUST_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "a member's source role": (_assumes(SOURCE_ROLE, ORG), ALLOWED),
    "a source role under a deeper path": (
        _assumes(SOURCE_ROLE.replace("/Member", "/team/Member"), ORG),
        ALLOWED,
    ),
    "a role of the same name pattern in another organization": (
        _assumes(SOURCE_ROLE.replace(MEMBER_ACCOUNT, "777788889999"), OTHER_ORG),
        IMPLICITLY_DENIED,
    ),
    "a member's role outside the path": (
        _assumes(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/Admin", ORG),
        IMPLICITLY_DENIED,
    ),
    "a member's role under a path that only starts the same": (
        _assumes(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/vpc-flow-logs-guard-x/Admin", ORG),
        IMPLICITLY_DENIED,
    ),
    "a member's user under the path": (
        _assumes(f"arn:aws:iam::{MEMBER_ACCOUNT}:user/vpc-flow-logs-guard/someone", ORG),
        IMPLICITLY_DENIED,
    ),
}


def test_destination_role_trust_evaluated(direct: Any) -> None:
    _, destination = destination_role(direct)
    trust = destination["Properties"]["AssumeRolePolicyDocument"]
    # Each principal with a policy allowing the call: the trust decides.
    assume_anything = {
        "name": "assume",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
        },
    }
    requests = [{**case, "identity": [assume_anything]} for case, _ in TRUST_CASES.values()]

    decisions = simulate(trust, requests)

    assert dict(zip(TRUST_CASES, decisions, strict=True)) == {
        name: expected for name, (_, expected) in TRUST_CASES.items()
    }


def test_a_members_source_role_as_deployed_may_assume_the_destination_role(direct: Any) -> None:
    # Both halves of the cross-account call, from the two templates: the member's source role
    # policy (its {region} filled in) and the destination role's trust.
    member = synthesize(
        {
            **TO_CENTRAL_STREAM,
            "centralFirehoseArn": STREAM_ARN.replace(REGION, "{region}"),
            "centralFirehoseRoleArn": DESTINATION_ROLE.replace(REGION, "{region}"),
        }
    )
    source_id, _ = source_role(member)
    member_policies = role_policies(member.json)[source_id]
    _, destination = destination_role(direct)
    trust = destination["Properties"]["AssumeRolePolicyDocument"]
    # the member stack's role as IAM names it: its path, a generated name, the member account
    principal = role_arn(member.json, source_id).replace(ACCOUNT, MEMBER_ACCOUNT)
    principal = principal.replace(":role/", ":role/vpc-flow-logs-guard/")

    def assume(org: str, role_arn_: str = DESTINATION_ROLE) -> SimRequest:
        return SimRequest(
            principal,
            "sts:AssumeRole",
            role_arn_,
            {
                "aws:PrincipalOrgID": org,
                "aws:PrincipalArn": principal,
                "aws:SecureTransport": "true",
            },
            account_id=ACCOUNT,
        )

    decisions = iam_simulator.simulate(
        [
            (assume(ORG), Policies(member_policies, resource=trust)),
            (assume(OTHER_ORG), Policies(member_policies, resource=trust)),
            # another region's destination role: the source role's own policy refuses it
            (
                assume(ORG, DESTINATION_ROLE.replace(REGION, "eu-west-1")),
                Policies(member_policies, resource=trust),
            ),
        ]
    )

    assert decisions == [ALLOWED, IMPLICITLY_DENIED, IMPLICITLY_DENIED]


def test_destination_role_permissions_evaluated(direct: Any) -> None:
    logical_id, destination = destination_role(direct)
    principal = role_arn(direct, logical_id)
    policies = {"p": destination["Properties"]["Policies"][0]["PolicyDocument"]}
    ours = {"aws:RequestTag/LogDeliveryEnabled": "true", "aws:TagKeys": ["LogDeliveryEnabled"]}
    delivery_slr = {"iam:AWSServiceName": "delivery.logs.amazonaws.com"}
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "tag the stream LogDeliveryEnabled=true": (
            request(principal, "firehose:TagDeliveryStream", STREAM_ARN, ours),
            ALLOWED,
        ),
        "create the log delivery service-linked role": (
            request(principal, "iam:CreateServiceLinkedRole", SERVICE_LINKED_ROLE, delivery_slr),
            ALLOWED,
        ),
        "tag the stream with another tag": (
            request(
                principal,
                "firehose:TagDeliveryStream",
                STREAM_ARN,
                {"aws:RequestTag/Owner": "x", "aws:TagKeys": ["Owner"]},
            ),
            IMPLICITLY_DENIED,
        ),
        "tag the stream with our tag and another": (
            request(
                principal,
                "firehose:TagDeliveryStream",
                STREAM_ARN,
                {**ours, "aws:RequestTag/Owner": "x", "aws:TagKeys": [*TAG_KEYS, "Owner"]},
            ),
            IMPLICITLY_DENIED,
        ),
        "tag another stream": (
            request(principal, "firehose:TagDeliveryStream", STREAM_ARN + "-2", ours),
            IMPLICITLY_DENIED,
        ),
        "create another service-linked role": (
            request(
                principal,
                "iam:CreateServiceLinkedRole",
                f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ec2.amazonaws.com/Escalated",
                {"iam:AWSServiceName": "ec2.amazonaws.com"},
            ),
            IMPLICITLY_DENIED,
        ),
        "put records itself": (
            request(principal, "firehose:PutRecordBatch", STREAM_ARN, {}),
            IMPLICITLY_DENIED,
        ),
        "untag the stream": (
            request(principal, "firehose:UntagDeliveryStream", STREAM_ARN, UNTAG),
            IMPLICITLY_DENIED,
        ),
        "change the stream's destination": (
            request(principal, "firehose:UpdateDestination", STREAM_ARN, {}),
            IMPLICITLY_DENIED,
        ),
    }  # fmt: skip
    requests = [{**case, "identity": [{"name": n, "policy": p} for n, p in policies.items()]}
                for case, _ in cases.values()]  # fmt: skip

    decisions = simulate({"Version": "2012-10-17", "Statement": []}, requests)

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (_, expected) in cases.items()
    }


# --- the bucket policy --------------------------------------------------------------------------


def test_bucket_policy_lets_each_stream_write_under_its_own_prefix_only(both: Any) -> None:
    logical_id, _ = flow_logs_bucket(both)
    arn = f"arn:aws:s3:::{logical_id.lower()}"
    direct_id, direct_role = stream_role(both, NAME)
    central_id = next(
        lid for lid in both["Resources"] if lid.startswith("CentralLogDestinationFirehoseRole")
    )
    direct_arn, central_arn = role_arn(both, direct_id), role_arn(both, central_id)
    direct_identity = [
        {
            "name": "WriteFlowLogs",
            "policy": direct_role["Properties"]["Policies"][0]["PolicyDocument"],
        }
    ]
    flow_key = f"VpcFlowLogs/region={REGION}/year=2026/month=12/day=02/x.gz"
    archive_key = f"CloudWatchLogs/account={MEMBER_ACCOUNT}/region={REGION}/year=2026/x.gz"

    def put(principal: str, key: str, identity: list[dict[str, Any]]) -> dict[str, Any]:
        return request(
            principal,
            "s3:PutObject",
            f"{arn}/{key}",
            {"aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT},
            identity,
        )

    admin = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "flow-log stream under VpcFlowLogs/": (put(direct_arn, flow_key, direct_identity), ALLOWED),
        "flow-log stream, admin powers, under CloudWatchLogs/": (
            put(direct_arn, archive_key, [ADMIN_POLICY]),
            EXPLICITLY_DENIED,
        ),
        "flow-log stream, admin powers, under AWSLogs/": (
            put(direct_arn, FLOW_LOG_KEY, [ADMIN_POLICY]),
            EXPLICITLY_DENIED,
        ),
        "archive stream, admin powers, under VpcFlowLogs/": (
            put(central_arn, flow_key, [ADMIN_POLICY]),
            EXPLICITLY_DENIED,
        ),
        "archive stream, admin powers, under CloudWatchLogs/": (
            put(central_arn, archive_key, [ADMIN_POLICY]),
            ALLOWED,
        ),
        "an administrator under VpcFlowLogs/": (
            put(admin, flow_key, [ADMIN_POLICY]),
            EXPLICITLY_DENIED,
        ),
        "the log delivery service, still, under AWSLogs/": (
            {**delivery(ORG, FLOW_LOG_KEY), "resource": f"{arn}/{FLOW_LOG_KEY}"},
            ALLOWED,
        ),
        "the log delivery service under VpcFlowLogs/": (
            {**delivery(ORG, flow_key), "resource": f"{arn}/{flow_key}"},
            IMPLICITLY_DENIED,
        ),
    }  # fmt: skip

    decisions = simulate(bucket_policy(both, logical_id), [case for case, _ in cases.values()])

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (_, expected) in cases.items()
    }


# --- outputs, the reference, linters ------------------------------------------------------------


def test_outputs_are_the_member_settings(direct: Any) -> None:
    stream_id = next(
        lid
        for lid, r in direct["Resources"].items()
        if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"
    )
    destination_id, _ = destination_role(direct)

    outputs = direct["Outputs"]
    assert outputs["CentralFirehoseArn"]["Value"] == {"Fn::GetAtt": [stream_id, "Arn"]}
    assert outputs["CentralFirehoseRoleArn"]["Value"] == {"Fn::GetAtt": [destination_id, "Arn"]}
    assert "centralFirehoseArn" in outputs["CentralFirehoseArn"]["Description"]
    assert "centralFirehoseRoleArn" in outputs["CentralFirehoseRoleArn"]["Description"]


def test_the_roles_statements_match_the_service_authorization_reference(direct_kms: Any) -> None:
    _, destination = destination_role(direct_kms)
    _, firehose = stream_role(direct_kms, NAME)

    checked = [*inline_statements(destination), *inline_statements(firehose)]

    assert len(checked) == 5
    assert statement_problems(checked) == []


@pytest.mark.parametrize(
    "overrides",
    VARIANTS,
    ids=["sse-s3", "kms", "with-central-archive"],
)
def test_cdk_nag_accepts_only_the_firehose_object_wildcards(overrides: dict[str, str]) -> None:
    template, assembly_dir = synth(overrides, nag=True)
    bucket_id = flow_logs_bucket(template)[0]

    report = json.loads((assembly_dir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    found = {
        (v["ruleName"], c["constructPath"])
        for v in plugin["suppressedViolations"]
        for c in v["violatingConstructs"]
    }
    expected = {
        (
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/VpcFlowLogs/*]",
            "VpcFlowLogsGuardLogArchive/FirehoseDelivery/FirehoseRole/Resource",
        )
    }
    if "centralLogDestination" in overrides:
        expected.add(
            (
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/CloudWatchLogs/*]",
                "VpcFlowLogsGuardLogArchive/CentralLogDestination/FirehoseRole/Resource",
            )
        )
    assert found == expected


@pytest.mark.parametrize(
    "overrides",
    VARIANTS,
    ids=["sse-s3", "kms", "with-central-archive"],
)
def test_template_with_direct_delivery_passes_cfn_lint(overrides: dict[str, str]) -> None:
    template, _ = synth(overrides)

    assert [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])] == []


def test_role_policies_pass_parliament(direct_kms: Any) -> None:
    policies = identity_policies(direct_kms)

    findings = {where: parliament_findings(policy) for where, policy in policies.items()}

    assert len(policies) == 2  # Firehose's role and the destination role, one policy each
    assert findings == {where: [] for where in policies}
