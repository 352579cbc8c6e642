"""The runbook script, against moto.

moto plays EC2, IAM and CloudWatch Logs. What moto cannot produce (IAM propagation delays,
``Unsuccessful`` items, a KMS key policy that refuses CloudWatch Logs, AssociateKmsKey, a
delivery that failed) is injected with a botocore ``before-call`` hook on the session the
script's clients come from. Every AWS call the script makes is recorded by name, so tests can
assert the exact sequence and that a second run writes nothing.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

import boto3
import botocore.loaders
import botocore.retries.bucket
import botocore.session
import parliament
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

import enable_vpc_flow_logs as script
from enable_vpc_flow_logs import (
    Clients,
    InvalidInputError,
    RemediationError,
    Request,
    Run,
    RunbookInput,
    RunbookOutput,
)
from local_aws.moto_fixes import patch_moto

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef, TagSpecificationTypeDef, TagTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient

    Scenario = Callable[[boto3.session.Session, str], None]

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "VpcFlowLogsDeliveryRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-Boundary-1A2B"
OTHER_REGIONS_BOUNDARY = BOUNDARY_ARN.replace("1A2B", "9Z8Y")
OURS: list[TagTypeDef] = [{"Key": "ManagedBy", "Value": "vpc-flow-logs-guard"}]
TAG_OURS: list[TagSpecificationTypeDef] = [{"ResourceType": "vpc-flow-log", "Tags": OURS}]
PROPAGATION = "Unable to assume given IAM role: 'arn:aws:iam::123456789012:role/{}'"

READS = ("Describe", "Get", "List")

# The automation role's actions (issue 3's report): exactly what the script may call. With an S3
# destination it calls no IAM and no CloudWatch Logs API (S3_AUTOMATION_ROLE_ACTIONS).
AUTOMATION_ROLE_ACTIONS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "ec2:CreateTags",
    "ec2:DeleteFlowLogs",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:TagRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:PassRole",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:TagResource",
    "logs:PutRetentionPolicy",
    "logs:ListTagsForResource",
    "logs:AssociateKmsKey",
)
S3_AUTOMATION_ROLE_ACTIONS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "ec2:CreateTags",
    "ec2:DeleteFlowLogs",
)


# --------------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------------

_MODELS = botocore.loaders.create_loader()


def new_session(**kwargs: Any) -> boto3.session.Session:
    """A fresh session (own events, own credentials) that shares parsed service models.

    Parsing EC2's model takes most of a test's time; sessions that share one loader parse it
    once per test run.
    """
    core = botocore.session.Session()
    core.register_component("data_loader", _MODELS)
    return boto3.session.Session(botocore_session=core, **kwargs)


@dataclass
class Calls:
    """Every AWS call made through a session, in order, with its parameters."""

    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        self.made.append((f"{service.replace('cloudwatch-logs', 'logs')}:{operation}", params))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.made]

    @property
    def writes(self) -> list[str]:
        return [name for name in self.names if not name.split(":")[1].startswith(READS)]

    def params(self, name: str) -> list[dict[str, Any]]:
        return [params for made, params in self.made if made == name]


def response(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://aws.invalid", status, HTTPHeaders(), None), body


def error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return response(400, {"Error": {"Code": code, "Message": message}})


def inject(
    session: boto3.session.Session,
    operation: str,
    answers: Sequence[tuple[AWSResponse, dict[str, Any]]],
    when: Callable[[Any], bool] = lambda body: True,
) -> None:
    """Answer the next calls of ``service.Operation`` with ``answers``.

    ``when`` sees the serialized request body (a dict for EC2's query protocol) and can limit
    the answers to some calls.
    """
    queue = list(answers)

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if queue and when(params.get("body")):
            return queue.pop(0)
        return None  # moto answers

    session.events.register(f"before-call.{operation}", cast("Callable[..., None]", answer))


def before(session: boto3.session.Session, operation: str, action: Callable[[], None]) -> None:
    """Run ``action`` once, just before the first ``service.Operation`` call goes to AWS."""
    done: list[bool] = []

    def hook(**_: Any) -> None:
        if not done:
            done.append(True)
            action()

    session.events.register(f"before-call.{operation}", hook)


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    return new_session(region_name=REGION)


@pytest.fixture
def calls(session: boto3.session.Session) -> Calls:
    recorder = Calls()
    session.events.register("before-parameter-build.*.*", recorder.record)
    return recorder


@pytest.fixture
def ec2(aws: None) -> EC2Client:
    return new_session().client("ec2", region_name=REGION)


@pytest.fixture
def iam(aws: None) -> IAMClient:
    return new_session().client("iam", region_name=REGION)


@pytest.fixture
def logs(aws: None) -> CloudWatchLogsClient:
    return new_session().client("logs", region_name=REGION)


@pytest.fixture
def vpc_id(ec2: EC2Client) -> str:
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@dataclass(frozen=True)
class Env:
    """The moto world of one test: the script's session (recorded), a VPC, setup clients."""

    session: boto3.session.Session
    calls: Calls
    vpc_id: str
    ec2: EC2Client
    iam: IAMClient
    logs: CloudWatchLogsClient


@pytest.fixture
def env(session: boto3.session.Session, calls: Calls, vpc_id: str) -> Env:
    setup = new_session(region_name=REGION)
    return Env(
        session,
        calls,
        vpc_id,
        ec2=setup.client("ec2"),
        iam=setup.client("iam"),
        logs=setup.client("logs"),
    )


def events(vpc_id: str, **overrides: object) -> RunbookInput:
    payload: dict[str, object] = {
        "VpcId": vpc_id,
        "TrafficType": "REJECT",
        "LogGroupName": "",
        "RetentionInDays": 365,
        "KmsKeyArn": "",
        "DeliveryRoleName": ROLE,
        "DeliveryRoleBoundaryArn": BOUNDARY_ARN,
        "MaxAggregationInterval": 600,
        "LogFormat": "",
        "DestinationType": "cloud-watch-logs",
        "S3BucketArn": "",
        "AccountId": ACCOUNT,
        "Region": REGION,
        "Partition": "aws",
    }
    payload.update(overrides)
    return payload  # type: ignore[return-value]  # tests also pass values of the wrong type


def remediate(
    session: boto3.session.Session,
    vpc_id: str,
    *,
    sleeps: list[float] | None = None,
    **overrides: object,
) -> RunbookOutput:
    request = script.parse_request(events(vpc_id, **overrides))
    region = request.region
    clients = Clients.create(region, session)
    pause = sleeps.append if sleeps is not None else _no_sleep
    return script.remediate(Run(request=request, aws=clients, sleep=pause))


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep of {seconds}s")


def group_name(vpc_id: str) -> str:
    return f"/aws/vpc-flow-logs/{vpc_id}"


def vpc_flow_logs(ec2: EC2Client, vpc_id: str) -> list[FlowLogTypeDef]:
    return ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]


def create_role(
    iam: IAMClient, name: str, trust: dict[str, Any], boundary: str | None = BOUNDARY_ARN
) -> str:
    """The role as an admin (or an earlier run, ``boundary=None``) would have created it."""
    document = json.dumps(trust)
    if boundary is None:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]
    created = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=document, PermissionsBoundary=boundary
    )
    return created["Role"]["Arn"]


def put_policy(iam: IAMClient, policy: dict[str, Any]) -> None:
    iam.put_role_policy(
        RoleName=ROLE, PolicyName="VpcFlowLogsDelivery", PolicyDocument=json.dumps(policy)
    )


def our_trust() -> dict[str, Any]:
    return script.trust_policy("aws", ACCOUNT)


def our_policy() -> dict[str, Any]:
    return script.delivery_policy("aws", ACCOUNT)


def log_group(logs: CloudWatchLogsClient, name: str) -> dict[str, Any]:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = [dict(group) for group in groups if group.get("logGroupName") == name]
    assert len(found) == 1
    return found[0]


FRESH_VPC_CALLS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "ec2:CreateFlowLogs",
    "ec2:DescribeFlowLogs",
]
COMPLIANT_VPC_CALLS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "logs:DescribeLogGroups",
]


# --------------------------------------------------------------------------------------------
# Fresh VPC and second run
# --------------------------------------------------------------------------------------------


def test_fresh_vpc_gets_role_log_group_and_flow_log(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    ec2, iam, logs = env.ec2, env.iam, env.logs

    # When the runbook runs for a VPC with nothing
    output = remediate(session, vpc_id)

    # Then it made exactly these calls
    assert calls.names == FRESH_VPC_CALLS

    # And the role trusts only VPC Flow Logs of this account, within its boundary, with our
    # inline policy and tag
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert script.policies_equal(role["AssumeRolePolicyDocument"], our_trust())
    assert role.get("PermissionsBoundary") == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": BOUNDARY_ARN,
    }
    assert calls.params("iam:CreateRole")[0]["PermissionsBoundary"] == BOUNDARY_ARN
    assert role.get("Tags") == OURS
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="VpcFlowLogsDelivery")
    assert script.policies_equal(policy["PolicyDocument"], our_policy())
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["VpcFlowLogsDelivery"]

    # And the log group has the retention and our tag
    group = log_group(logs, group_name(vpc_id))
    assert group["retentionInDays"] == 365
    assert "kmsKeyId" not in group
    assert logs.list_tags_log_group(logGroupName=group_name(vpc_id))["tags"] == {
        "ManagedBy": "vpc-flow-logs-guard"
    }

    # And the VPC has one flow log that the Config rule accepts
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log["DeliverLogsStatus"] == "SUCCESS"
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogGroupName"] == group_name(vpc_id)
    assert flow_log["DeliverLogsPermissionArn"] == ROLE_ARN
    assert flow_log["MaxAggregationInterval"] == 600
    assert flow_log.get("Tags") == OURS
    create = calls.params("ec2:CreateFlowLogs")[0]
    assert "LogFormat" not in create  # empty LogFormat means the AWS default format

    assert output == {
        "FlowLogId": flow_log["FlowLogId"],
        "LogGroupName": group_name(vpc_id),
        "DeliveryRoleArn": ROLE_ARN,
        "Destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "Changes": [
            f"created IAM role {ROLE} with boundary {BOUNDARY_ARN}",
            f"wrote inline policy VpcFlowLogsDelivery of IAM role {ROLE}",
            f"created log group {group_name(vpc_id)}",
            f"set retention of log group {group_name(vpc_id)} to 365 days",
            f"created flow log {flow_log['FlowLogId']} for VPC {vpc_id}",
        ],
    }


def test_second_run_reads_and_writes_nothing(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given a VPC the runbook already remediated
    first = remediate(session, vpc_id)
    calls.made.clear()

    # When it runs again
    second = remediate(session, vpc_id)

    # Then it only reads, and answers with the same flow log
    assert calls.names == COMPLIANT_VPC_CALLS
    assert calls.writes == []
    assert second == first | {"Changes": []}
    assert len(vpc_flow_logs(ec2, vpc_id)) == 1


def test_custom_parameters_reach_the_flow_log(
    session: boto3.session.Session, vpc_id: str, ec2: EC2Client, logs: CloudWatchLogsClient
) -> None:
    log_format = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${log-status}"

    output = remediate(
        session,
        vpc_id,
        TrafficType="ALL",
        LogGroupName="/aws/vpc-flow-logs/shared",
        RetentionInDays="731",  # as a string, the way a Config StaticValue arrives
        MaxAggregationInterval=60,
        LogFormat=log_format,
        DeliveryRoleName="TeamFlowLogs",
    )

    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogGroupName"] == "/aws/vpc-flow-logs/shared"
    assert flow_log["MaxAggregationInterval"] == 60
    assert flow_log["LogFormat"] == log_format
    assert flow_log["DeliverLogsPermissionArn"] == f"arn:aws:iam::{ACCOUNT}:role/TeamFlowLogs"
    assert log_group(logs, "/aws/vpc-flow-logs/shared")["retentionInDays"] == 731
    assert output["LogGroupName"] == "/aws/vpc-flow-logs/shared"


def test_handler_runs_the_whole_runbook(aws: None, vpc_id: str, ec2: EC2Client) -> None:
    output = script.handler(events(vpc_id), context=None)

    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert output["FlowLogId"] == flow_log["FlowLogId"]
    assert output["DeliveryRoleArn"] == ROLE_ARN


def test_two_regions_share_the_global_role_without_rewriting_it(
    session: boto3.session.Session, calls: Calls, vpc_id: str
) -> None:
    # Given the runbook ran in us-east-1
    remediate(session, vpc_id)
    other_vpc = (
        new_session().client("ec2", region_name="eu-west-1").create_vpc(CidrBlock="10.1.0.0/16")
    )
    calls.made.clear()

    # When it runs for a VPC in eu-west-1
    output = remediate(session, other_vpc["Vpc"]["VpcId"], Region="eu-west-1")

    # Then it reuses the role as it is: the policy covers every region
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == []


# --------------------------------------------------------------------------------------------
# Delivery role
# --------------------------------------------------------------------------------------------


def test_existing_correct_role_is_reused_untouched(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    create_role(iam, ROLE, our_trust())
    put_policy(iam, our_policy())

    output = remediate(session, vpc_id)

    assert [name for name in calls.names if name.startswith("iam:")] == [
        "iam:GetRole",
        "iam:GetRolePolicy",
    ]
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert not [change for change in output["Changes"] if "IAM role" in change]


WRONG_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def test_role_with_wrong_trust_fails_naming_it_and_writes_nothing(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role trusts EC2 instead of VPC Flow Logs (its boundary and policy are right)
    create_role(iam, ROLE, WRONG_TRUST)
    put_policy(iam, our_policy())

    # When the runbook runs, it fails naming the role, what differs and the fix
    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    message = str(failure.value)
    assert f"delivery role {ROLE} cannot be used: its trust policy is not the one" in message
    assert f"aws iam update-assume-role-policy --role-name {ROLE} --policy-document '" in message
    document = message.split("--policy-document '", 1)[1].split("'", 1)[0]
    assert json.loads(document) == our_trust()
    assert "boundary" not in message.split("--policy-document", 1)[0]  # the boundary is fine
    # And it changed nothing: the trust policy is still EC2's, and no write was made
    assert calls.writes == []
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert script.policies_equal(trust, WRONG_TRUST)


def test_role_from_an_earlier_version_without_boundary_fails_with_the_fix(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role an earlier version created: right trust and policy, no boundary
    create_role(iam, ROLE, our_trust(), boundary=None)
    put_policy(iam, our_policy())

    # When the runbook runs, it cannot adopt the role (it may not set a boundary): it fails
    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    assert str(failure.value).startswith(
        f"delivery role {ROLE} cannot be used: it has no permissions boundary (an earlier "
        f"version created it without one): aws iam put-role-permissions-boundary --role-name "
        f"{ROLE} --permissions-boundary {BOUNDARY_ARN}. "
    )
    assert "trust policy is not" not in str(failure.value)
    assert calls.writes == []
    assert "PermissionsBoundary" not in iam.get_role(RoleName=ROLE)["Role"]

    # And once a person runs the fix, the next run uses the role and writes no IAM call
    iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=BOUNDARY_ARN)
    calls.made.clear()
    output = remediate(session, vpc_id)
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == []


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param("arn:aws:iam::aws:policy/AdministratorAccess", id="AWS managed"),
        pytest.param(f"arn:aws:iam::{ACCOUNT}:policy/VpcFlowLogsGuard-Boundary", id="other path"),
        pytest.param(
            "arn:aws:iam::444455556666:policy/vpc-flow-logs-guard/Boundary", id="other account"
        ),
    ],
)
def test_role_with_a_boundary_not_ours_fails_naming_it(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient, boundary: str
) -> None:
    create_role(iam, ROLE, WRONG_TRUST, boundary=boundary)

    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    # Both differences are named, each with its fix; nothing is written
    message = str(failure.value)
    assert "its trust policy is not the one this runbook writes" in message
    assert (
        f"its permissions boundary {boundary} is not a policy of account {ACCOUNT} under "
        f"/vpc-flow-logs-guard/: aws iam put-role-permissions-boundary --role-name {ROLE} "
        f"--permissions-boundary {BOUNDARY_ARN}"
    ) in message
    assert calls.writes == []


def test_role_bounded_by_another_regions_boundary_is_used_and_its_policy_repaired(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role another region's stack created, with that stack's boundary, and an
    # inline policy that differs
    create_role(iam, ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)
    put_policy(
        iam,
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
        },
    )

    output = remediate(session, vpc_id)

    # Then the boundary is accepted as it is, and only the inline policy is written
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == ["iam:PutRolePolicy"]
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == OTHER_REGIONS_BOUNDARY


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
            },
            id="too broad",
        ),
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"arn:aws:logs:*:{ACCOUNT}:log-group:/aws/vpc-flow-logs/x",
                    }
                ],
            },
            id="too narrow",
        ),
        pytest.param(None, id="missing"),
    ],
)
def test_wrong_or_missing_inline_policy_is_replaced(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    iam: IAMClient,
    policy: dict[str, Any] | None,
) -> None:
    create_role(iam, ROLE, our_trust())
    if policy is not None:
        put_policy(iam, policy)

    output = remediate(session, vpc_id)

    assert [name for name in calls.writes if name.startswith("iam:")] == ["iam:PutRolePolicy"]
    current = iam.get_role_policy(RoleName=ROLE, PolicyName="VpcFlowLogsDelivery")
    assert script.policies_equal(current["PolicyDocument"], our_policy())
    verb = "wrote" if policy is None else "repaired"
    assert f"{verb} inline policy VpcFlowLogsDelivery of IAM role {ROLE}" in output["Changes"]


def test_role_created_by_a_concurrent_run_counts_as_success(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient, ec2: EC2Client
) -> None:
    # Given another run (another region or VPC) creates the role between our GetRole and
    # CreateRole, without its inline policy yet
    def other_run() -> None:
        create_role(iam, ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)

    before(session, "iam.CreateRole", other_run)

    # When ours runs
    output = remediate(session, vpc_id)

    # Then CreateRole's EntityAlreadyExists is success: it reads the role and finishes it
    assert calls.names[2:6] == [
        "iam:GetRole",
        "iam:CreateRole",
        "iam:GetRole",
        "iam:GetRolePolicy",
    ]
    assert f"created IAM role {ROLE}" not in output["Changes"]
    assert f"wrote inline policy VpcFlowLogsDelivery of IAM role {ROLE}" in output["Changes"]
    assert vpc_flow_logs(ec2, vpc_id)[0]["DeliverLogsPermissionArn"] == ROLE_ARN


# --------------------------------------------------------------------------------------------
# Log group
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "expected", "writes_retention"),
    [
        pytest.param(30, 365, True, id="shorter is raised"),
        pytest.param(365, 365, False, id="equal is kept"),
        pytest.param(731, 731, False, id="longer is kept"),
        pytest.param(None, None, False, id="never expires is kept"),
    ],
)
def test_existing_log_group_retention(
    env: Env,
    existing: int | None,
    expected: int | None,
    writes_retention: bool,
) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    logs.create_log_group(logGroupName=group_name(vpc_id))
    if existing is not None:
        logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=existing)

    output = remediate(session, vpc_id)

    assert log_group(logs, group_name(vpc_id)).get("retentionInDays") == expected
    assert ("logs:PutRetentionPolicy" in calls.names) is writes_retention
    assert "logs:CreateLogGroup" not in calls.names
    if writes_retention:
        assert (
            f"raised retention of log group {group_name(vpc_id)} from 30 to 365"
            in output["Changes"]
        )


def test_retention_is_set_on_our_group_left_without_one_by_a_failed_run(env: Env) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    # Given a run that created the log group and then failed to set its retention
    inject(session, "cloudwatch-logs.PutRetentionPolicy", [error("AccessDeniedException", "no")])
    with pytest.raises(RemediationError, match="AccessDeniedException"):
        remediate(session, vpc_id)
    assert "retentionInDays" not in log_group(logs, group_name(vpc_id))
    calls.made.clear()

    # When the runbook runs again
    output = remediate(session, vpc_id)

    # Then the group it created gets the requested retention (it read the tags to know)
    assert log_group(logs, group_name(vpc_id))["retentionInDays"] == 365
    assert calls.params("logs:ListTagsForResource") == [
        {"resourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}"}
    ]
    assert calls.params("logs:PutRetentionPolicy") == [
        {"logGroupName": group_name(vpc_id), "retentionInDays": 365}
    ]
    assert (
        f"set retention of log group {group_name(vpc_id)} to 365 days (an earlier run created "
        "it and did not set one)" in output["Changes"]
    )


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="untagged"),
        pytest.param({"ManagedBy": "someone-else"}, id="managed by someone else"),
    ],
)
def test_users_never_expiring_group_is_kept(env: Env, tags: dict[str, str] | None) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    logs.create_log_group(logGroupName=group_name(vpc_id))
    if tags:
        logs.tag_log_group(logGroupName=group_name(vpc_id), tags=tags)

    remediate(session, vpc_id)

    assert "retentionInDays" not in log_group(logs, group_name(vpc_id))
    assert "logs:ListTagsForResource" in calls.names
    assert "logs:PutRetentionPolicy" not in calls.names


def test_log_group_created_by_a_concurrent_run_is_used(
    session: boto3.session.Session, calls: Calls, vpc_id: str, logs: CloudWatchLogsClient
) -> None:
    def other_run() -> None:
        logs.create_log_group(logGroupName=group_name(vpc_id))
        logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=3653)

    before(session, "cloudwatch-logs.CreateLogGroup", other_run)

    output = remediate(session, vpc_id)

    assert log_group(logs, group_name(vpc_id))["retentionInDays"] == 3653
    assert "logs:PutRetentionPolicy" not in calls.names
    assert not [change for change in output["Changes"] if "log group" in change]


# --------------------------------------------------------------------------------------------
# KMS
# --------------------------------------------------------------------------------------------


@pytest.fixture
def key_arn(aws: None) -> str:
    return new_session().client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


KEY_REFUSALS = [
    pytest.param(
        "AccessDeniedException",
        "The specified KMS key does not exist or is not allowed to be used with Arn "
        "'arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/x'",
        id="AccessDenied",
    ),
    pytest.param(
        "InvalidParameterException",
        "Unable to validate if specified KMS key is valid.",
        id="InvalidParameter",
    ),
]


def test_new_log_group_is_created_with_the_key(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    output = remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert calls.params("logs:CreateLogGroup")[0]["kmsKeyId"] == key_arn
    assert log_group(logs, group_name(vpc_id))["kmsKeyId"] == key_arn
    assert "logs:AssociateKmsKey" not in calls.names
    assert f"created log group {group_name(vpc_id)} encrypted with {key_arn}" in output["Changes"]


def test_key_is_associated_with_an_existing_group(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    # Given an unencrypted group (moto has no AssociateKmsKey: AWS's empty answer is injected)
    logs.create_log_group(logGroupName=group_name(vpc_id))
    inject(session, "cloudwatch-logs.AssociateKmsKey", [response(200, {})])

    output = remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert calls.params("logs:AssociateKmsKey") == [
        {"logGroupName": group_name(vpc_id), "kmsKeyId": key_arn}
    ]
    assert f"associated KMS key {key_arn} with log group {group_name(vpc_id)}" in output["Changes"]


def test_group_already_using_the_key_is_left_alone(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    logs.create_log_group(logGroupName=group_name(vpc_id), kmsKeyId=key_arn)
    logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=365)

    remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert not [name for name in calls.writes if name.startswith("logs:")]


@pytest.mark.parametrize(("code", "message"), KEY_REFUSALS)
@pytest.mark.parametrize("group_exists", [False, True], ids=["new group", "existing group"])
def test_key_policy_refusal_is_a_clear_error(
    env: Env,
    key_arn: str,
    code: str,
    message: str,
    group_exists: bool,
) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    # Given a key whose policy does not let CloudWatch Logs use it
    if group_exists:
        logs.create_log_group(logGroupName=group_name(vpc_id))
    operation = "AssociateKmsKey" if group_exists else "CreateLogGroup"
    inject(session, f"cloudwatch-logs.{operation}", [error(code, message)])

    # When the runbook runs, then it stops with a message naming the key and what to allow
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, KmsKeyArn=key_arn)

    text = str(raised.value)
    assert key_arn in text
    assert group_name(vpc_id) in text
    assert message in text
    assert "logs.us-east-1.amazonaws.com" in text
    assert "kms:GenerateDataKey*" in text
    assert "kms:EncryptionContext:aws:logs:arn" in text
    assert f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}" in text
    assert "ec2:CreateFlowLogs" not in calls.names


def test_other_log_group_errors_name_the_group(session: boto3.session.Session, vpc_id: str) -> None:
    inject(
        session,
        "cloudwatch-logs.CreateLogGroup",
        [error("LimitExceededException", "Resource limit exceeded.")],
    )

    with pytest.raises(RemediationError, match=r"log group /aws/vpc-flow-logs/vpc-\w+ failed"):
        remediate(session, vpc_id)


# --------------------------------------------------------------------------------------------
# Existing flow logs
# --------------------------------------------------------------------------------------------


def test_existing_satisfying_flow_log_means_nothing_is_created(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    ec2, iam, logs = env.ec2, env.iam, env.logs

    # Given someone else's flow log of ALL traffic to the log group, with their own role
    team_role = create_role(iam, "TeamFlowLogsRole", our_trust())
    logs.create_log_group(logGroupName=group_name(vpc_id))
    logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=3653)
    existing = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogGroupName=group_name(vpc_id),
        DeliverLogsPermissionArn=team_role,
    )["FlowLogIds"][0]

    # When the runbook asks for REJECT
    output = remediate(session, vpc_id)

    # Then ALL covers it: nothing is written, not even our role
    assert calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs", "logs:DescribeLogGroups"]
    assert output == {
        "FlowLogId": existing,
        "LogGroupName": group_name(vpc_id),
        "DeliveryRoleArn": team_role,
        "Destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "Changes": [],
    }


def test_our_flow_log_that_no_longer_satisfies_is_replaced(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given our REJECT flow log
    old = remediate(session, vpc_id)["FlowLogId"]
    calls.made.clear()

    # When ALL is requested
    output = remediate(session, vpc_id, TrafficType="ALL")

    # Then the VPC ends with one flow log to the group, of ALL traffic
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["FlowLogId"] == output["FlowLogId"] != old
    # moto, like AWS when the configuration is the same, refuses a second flow log to the
    # same destination: ours is deleted first, then created anew
    assert calls.writes == ["ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:CreateFlowLogs"]
    assert calls.params("ec2:DeleteFlowLogs") == [{"FlowLogIds": [old]}]
    assert f"deleted flow logs {old} (replaced)" in output["Changes"]


def test_our_failed_flow_log_is_replaced_after_the_new_one_exists(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given our flow log to the group whose delivery FAILED (moto fails a LogDestination
    # flow log whose group does not exist yet)
    old = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogDestination=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        DeliverLogsPermissionArn=ROLE_ARN,
        TagSpecifications=TAG_OURS,
    )["FlowLogIds"][0]
    assert vpc_flow_logs(ec2, vpc_id)[0]["DeliverLogsStatus"] == "FAILED"

    output = remediate(session, vpc_id)

    # Then the new one is created before the old one is deleted
    writes = calls.writes
    assert writes.index("ec2:CreateFlowLogs") < writes.index("ec2:DeleteFlowLogs")
    assert writes.count("ec2:CreateFlowLogs") == 1
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["FlowLogId"] == output["FlowLogId"] != old
    assert flow_log["DeliverLogsStatus"] == "SUCCESS"
    assert f"deleted flow logs {old} (replaced by {output['FlowLogId']})" in output["Changes"]


def test_leftover_flow_log_of_ours_is_cleaned_up_when_another_satisfies(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    ec2 = env.ec2

    # Given an earlier run that created a new flow log but failed to delete the old one
    leftover = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogDestination=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        DeliverLogsPermissionArn=ROLE_ARN,
        TagSpecifications=TAG_OURS,
    )["FlowLogIds"][0]
    kept = remediate(session, vpc_id, TrafficType="ALL")["FlowLogId"]
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogDestination=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}:*",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/Broken",
        TagSpecifications=TAG_OURS,
    )
    calls.made.clear()

    output = remediate(session, vpc_id)

    assert leftover not in [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)]
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [kept]
    assert output["FlowLogId"] == kept
    assert calls.writes == ["ec2:DeleteFlowLogs"]


def test_foreign_flow_log_to_the_same_group_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given someone else's REJECT flow log to the log group the runbook would use
    foreign = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogGroupName=group_name(vpc_id),
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/Theirs",
    )["FlowLogIds"][0]

    # When ALL is requested, then the runbook refuses to touch it and says why
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, TrafficType="ALL")

    assert foreign in str(raised.value)
    assert "traffic type REJECT does not cover ALL" in str(raised.value)
    assert "did not create" in str(raised.value)
    assert calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"]
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [foreign]


def test_foreign_flow_log_to_another_destination_is_left_alone(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    foreign = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogGroupName="/team/network",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/Theirs",
    )["FlowLogIds"][0]

    output = remediate(session, vpc_id)

    ids = {fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)}
    assert ids == {foreign, output["FlowLogId"]}
    assert "ec2:DeleteFlowLogs" not in calls.names


def test_flow_log_created_by_a_concurrent_run_is_used(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given another run creates the same flow log between our DescribeFlowLogs and our create
    theirs: list[str] = []

    def other_run() -> None:
        theirs.extend(
            ec2.create_flow_logs(
                ResourceIds=[vpc_id],
                ResourceType="VPC",
                TrafficType="REJECT",
                LogDestinationType="cloud-watch-logs",
                LogGroupName=group_name(vpc_id),
                DeliverLogsPermissionArn=ROLE_ARN,
                TagSpecifications=TAG_OURS,
            )["FlowLogIds"]
        )

    before(session, "ec2.CreateFlowLogs", other_run)

    # When ours gets FlowLogAlreadyExists, it finds theirs and uses it
    output = remediate(session, vpc_id)

    assert output["FlowLogId"] == theirs[0]
    assert len(vpc_flow_logs(ec2, vpc_id)) == 1
    assert calls.names[-2:] == ["ec2:CreateFlowLogs", "ec2:DescribeFlowLogs"]


def test_concurrent_flow_log_that_does_not_satisfy_is_a_clear_error(
    session: boto3.session.Session, vpc_id: str, ec2: EC2Client
) -> None:
    # Given someone creates an ACCEPT flow log to the group just before ours
    def someone() -> None:
        ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="ACCEPT",
            LogGroupName=group_name(vpc_id),
            DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/Theirs",
        )

    before(session, "ec2.CreateFlowLogs", someone)

    # Then FlowLogAlreadyExists is not hidden: nothing there satisfies the request
    with pytest.raises(RemediationError, match="none there satisfies the request"):
        remediate(session, vpc_id)


# --------------------------------------------------------------------------------------------
# S3 destination
# --------------------------------------------------------------------------------------------

BUCKET = "central-flow-logs"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
S3_FRESH_VPC_CALLS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "ec2:DescribeFlowLogs",
]


class S3Destination(TypedDict):
    DestinationType: str
    S3BucketArn: str
    DeliveryRoleBoundaryArn: str


def to_s3(destination: str = BUCKET_ARN) -> S3Destination:
    """The S3 path's parameters (no delivery role, so no boundary either)."""
    return {"DestinationType": "s3", "S3BucketArn": destination, "DeliveryRoleBoundaryArn": ""}


@pytest.fixture
def bucket(aws: None) -> str:
    new_session().client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return BUCKET_ARN


def test_s3_fresh_vpc_gets_only_a_flow_log_to_the_bucket(env: Env, bucket: str) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id

    # When the runbook runs with an S3 destination for a VPC with nothing
    output = remediate(session, vpc_id, **to_s3())

    # Then it creates the flow log only: no role, no log group
    assert calls.names == S3_FRESH_VPC_CALLS
    assert env.iam.list_roles()["Roles"] == []
    assert env.logs.describe_log_groups()["logGroups"] == []
    create = calls.params("ec2:CreateFlowLogs")[0]
    assert create["LogDestinationType"] == "s3"
    assert create["LogDestination"] == BUCKET_ARN
    assert "DeliverLogsPermissionArn" not in create
    assert "LogGroupName" not in create
    (flow_log,) = vpc_flow_logs(env.ec2, vpc_id)
    assert flow_log["LogDestinationType"] == "s3"
    assert flow_log["LogDestination"] == BUCKET_ARN
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log.get("Tags") == OURS
    assert output == {
        "FlowLogId": flow_log["FlowLogId"],
        "LogGroupName": "",
        "DeliveryRoleArn": "",
        "Destination": BUCKET_ARN,
        "Changes": [f"created flow log {flow_log['FlowLogId']} for VPC {vpc_id}"],
    }


def test_s3_second_run_writes_nothing(env: Env, bucket: str) -> None:
    first = remediate(env.session, env.vpc_id, **to_s3())
    env.calls.made.clear()

    second = remediate(env.session, env.vpc_id, **to_s3())

    assert env.calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"]
    assert second == first | {"Changes": []}
    assert len(vpc_flow_logs(env.ec2, env.vpc_id)) == 1


def test_s3_key_prefix_reaches_the_flow_log(env: Env, bucket: str) -> None:
    output = remediate(env.session, env.vpc_id, **to_s3(f"{BUCKET_ARN}/team-a/"))

    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["LogDestination"] == f"{BUCKET_ARN}/team-a"
    assert output["Destination"] == f"{BUCKET_ARN}/team-a"


def test_existing_flow_log_to_the_bucket_satisfies(env: Env, bucket: str) -> None:
    # Given someone else's flow log of ALL traffic to the bucket
    existing = env.ec2.create_flow_logs(
        ResourceIds=[env.vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=BUCKET_ARN,
    )["FlowLogIds"][0]

    output = remediate(env.session, env.vpc_id, **to_s3())

    assert env.calls.writes == []
    assert output["FlowLogId"] == existing
    assert output["Changes"] == []


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param(
            {"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::other"}, id="bucket"
        ),
        pytest.param(
            {"LogDestinationType": "s3", "LogDestination": f"{BUCKET_ARN}/team-b"}, id="prefix"
        ),
        pytest.param(
            {"LogGroupName": "/aws/vpc-flow-logs/x", "DeliverLogsPermissionArn": ROLE_ARN},
            id="log group",
        ),
    ],
)
def test_flow_log_to_another_destination_does_not_satisfy_and_is_left_alone(
    env: Env, bucket: str, elsewhere: dict[str, Any]
) -> None:
    s3 = new_session().client("s3", region_name=REGION)
    s3.create_bucket(Bucket="other")
    other = env.ec2.create_flow_logs(
        ResourceIds=[env.vpc_id], ResourceType="VPC", TrafficType="ALL", **elsewhere
    )["FlowLogIds"][0]

    output = remediate(env.session, env.vpc_id, **to_s3())

    assert output["FlowLogId"] != other
    flow_logs = {fl["FlowLogId"]: fl for fl in vpc_flow_logs(env.ec2, env.vpc_id)}
    assert set(flow_logs) == {other, output["FlowLogId"]}
    assert flow_logs[output["FlowLogId"]]["LogDestination"] == BUCKET_ARN


def test_our_s3_flow_log_that_no_longer_satisfies_is_replaced(env: Env, bucket: str) -> None:
    first = remediate(env.session, env.vpc_id, **to_s3())

    second = remediate(env.session, env.vpc_id, TrafficType="ALL", **to_s3())

    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["FlowLogId"] == second["FlowLogId"] != first["FlowLogId"]
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestination"] == BUCKET_ARN


def test_foreign_s3_flow_log_that_does_not_satisfy_is_a_clear_error(env: Env, bucket: str) -> None:
    foreign = env.ec2.create_flow_logs(
        ResourceIds=[env.vpc_id],
        ResourceType="VPC",
        TrafficType="ACCEPT",
        LogDestinationType="s3",
        LogDestination=BUCKET_ARN,
    )["FlowLogIds"][0]

    with pytest.raises(RemediationError) as caught:
        remediate(env.session, env.vpc_id, **to_s3())

    message = str(caught.value)
    assert f"already has a flow log to S3 {BUCKET_ARN}" in message
    assert foreign in message
    assert "S3BucketArn prefix" in message
    assert env.calls.writes == []


def test_missing_bucket_is_a_clear_error(env: Env) -> None:
    with pytest.raises(RemediationError) as caught:
        remediate(env.session, env.vpc_id, **to_s3())

    assert f"to S3 {BUCKET_ARN} failed" in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert vpc_flow_logs(env.ec2, env.vpc_id) == []


# --------------------------------------------------------------------------------------------
# IAM propagation and CreateFlowLogs errors
# --------------------------------------------------------------------------------------------


def test_iam_propagation_errors_are_retried_with_backoff(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client, sleeps: list[float]
) -> None:
    # Given VPC Flow Logs cannot assume the new role for the first two attempts
    inject(
        session,
        "ec2.CreateFlowLogs",
        [error("InvalidParameter", PROPAGATION.format(ROLE))] * 2,
    )

    output = remediate(session, vpc_id, sleeps=sleeps)

    assert sleeps == [2.0, 4.0]
    assert calls.names.count("ec2:CreateFlowLogs") == 3
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [output["FlowLogId"]]


def test_iam_propagation_in_unsuccessful_items_is_retried(
    session: boto3.session.Session, vpc_id: str, ec2: EC2Client, sleeps: list[float]
) -> None:
    unsuccessful = {
        "FlowLogIds": [],
        "Unsuccessful": [
            {
                "ResourceId": vpc_id,
                "Error": {"Code": "InvalidParameter", "Message": PROPAGATION.format(ROLE)},
            }
        ],
    }
    inject(session, "ec2.CreateFlowLogs", [response(200, unsuccessful)])

    output = remediate(session, vpc_id, sleeps=sleeps)

    assert sleeps == [2.0]
    assert vpc_flow_logs(ec2, vpc_id)[0]["FlowLogId"] == output["FlowLogId"]


def test_iam_propagation_is_bounded_then_fails_with_the_last_error(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client, sleeps: list[float]
) -> None:
    # Given the role never becomes assumable (each answer is numbered)
    answers = [
        error("InvalidParameter", PROPAGATION.format(ROLE) + f" (answer {number})")
        for number in range(1, 20)
    ]
    inject(session, "ec2.CreateFlowLogs", answers)

    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, sleeps=sleeps)

    # Then it waited about two minutes in growing steps, and reports the last answer
    assert sleeps == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert 100 <= sum(sleeps) <= 120
    attempts = calls.names.count("ec2:CreateFlowLogs")
    assert attempts == 8
    assert f"(answer {attempts})" in str(raised.value)
    assert ROLE_ARN in str(raised.value)
    assert vpc_flow_logs(ec2, vpc_id) == []


def test_other_unsuccessful_items_fail_at_once(
    session: boto3.session.Session, vpc_id: str, sleeps: list[float]
) -> None:
    unsuccessful = {
        "FlowLogIds": [],
        "Unsuccessful": [
            {
                "ResourceId": vpc_id,
                "Error": {"Code": "400", "Message": "LogDestination: group does not exist."},
            }
        ],
    }
    inject(session, "ec2.CreateFlowLogs", [response(200, unsuccessful)])

    with pytest.raises(RemediationError, match=r"400: LogDestination: group does not exist\."):
        remediate(session, vpc_id, sleeps=sleeps)
    assert sleeps == []


def test_other_create_errors_fail_at_once(
    session: boto3.session.Session, vpc_id: str, sleeps: list[float]
) -> None:
    inject(
        session,
        "ec2.CreateFlowLogs",
        [error("UnauthorizedOperation", "You are not authorized to perform this operation.")],
    )

    with pytest.raises(RemediationError, match="UnauthorizedOperation"):
        remediate(session, vpc_id, sleeps=sleeps)
    assert sleeps == []


def test_flow_log_that_fails_verification_is_reported(
    session: boto3.session.Session, vpc_id: str
) -> None:
    # Given the new flow log reads back with FAILED delivery
    failed = {
        "FlowLogs": [
            {
                "FlowLogId": "fl-0123456789abcdef0",
                "FlowLogStatus": "ACTIVE",
                "DeliverLogsStatus": "FAILED",
                "DeliverLogsErrorMessage": "Access error",
            }
        ]
    }
    inject(
        session,
        "ec2.DescribeFlowLogs",
        [response(200, failed)],
        when=lambda body: "FlowLogId.1" in body,  # the read-back, not the initial look-up
    )

    with pytest.raises(RemediationError, match=r"cannot deliver to log group .*: Access error"):
        remediate(session, vpc_id)


def read_back(body: Any) -> bool:
    """The verify step's DescribeFlowLogs (by id), not the initial look-up (by VPC)."""
    return "FlowLogId.1" in body


def test_new_flow_log_not_listed_yet_is_read_again(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client, sleeps: list[float]
) -> None:
    # Given EC2 does not list the new flow log on the first read-back (eventual consistency)
    inject(session, "ec2.DescribeFlowLogs", [response(200, {"FlowLogs": []})], when=read_back)

    output = remediate(session, vpc_id, sleeps=sleeps)

    # Then the run waits once, reads again and succeeds
    assert sleeps == [2.0]
    assert calls.names.count("ec2:DescribeFlowLogs") == 3
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [output["FlowLogId"]]


def test_new_flow_log_never_listed_fails_after_a_minute_with_what_was_seen(
    session: boto3.session.Session, calls: Calls, vpc_id: str, sleeps: list[float]
) -> None:
    inject(session, "ec2.DescribeFlowLogs", [response(200, {"FlowLogs": []})] * 20, when=read_back)

    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, sleeps=sleeps)

    assert sleeps == [2.0, 4.0, 8.0, 16.0, 30.0]
    reads = calls.names.count("ec2:DescribeFlowLogs") - 1
    assert reads == 6
    assert f"DescribeFlowLogs did not list it in {reads} reads over 60s" in str(raised.value)


THROTTLED = (
    b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
    b"exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>"
)


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off, recorded instead of slept; its rate limiter does not wait."""
    waits: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", waits.append)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "_sleep_amount", lambda *_: 0)
    return waits


def test_throttling_is_absorbed_by_the_sdk_up_to_its_attempt_limit(
    session: boto3.session.Session, vpc_id: str, backoff: list[float]
) -> None:
    # Given EC2 throttles DescribeVpcs (over HTTP, so botocore's retry handler sees it)
    throttled = script.MAX_ATTEMPTS - 1
    answered: list[int] = []

    def throttle(**_: Any) -> AWSResponse | None:
        if len(answered) < throttled:
            answered.append(1)
            return AWSResponse("https://aws.invalid", 503, HTTPHeaders(), _Raw(THROTTLED))
        return None

    session.events.register("before-send.ec2.DescribeVpcs", cast("Callable[..., None]", throttle))

    # When the runbook runs, it still succeeds: the last attempt gets through
    output = remediate(session, vpc_id)

    assert output["FlowLogId"].startswith("fl-")
    assert len(backoff) == throttled
    config: Any = Clients.create(REGION, session).ec2.meta.config
    assert config.retries == {
        "mode": "adaptive",
        "total_max_attempts": script.MAX_ATTEMPTS,
    }


@pytest.mark.usefixtures("backoff")
def test_throttling_beyond_the_attempt_limit_is_a_clear_error(
    session: boto3.session.Session, vpc_id: str
) -> None:
    sent: list[int] = []

    def throttle(**_: Any) -> AWSResponse:
        sent.append(1)
        return AWSResponse("https://aws.invalid", 503, HTTPHeaders(), _Raw(THROTTLED))

    session.events.register("before-send.ec2.DescribeVpcs", cast("Callable[..., None]", throttle))

    with pytest.raises(RemediationError, match=f"describing VPC {vpc_id} failed: RequestLimit"):
        remediate(session, vpc_id)
    assert len(sent) == script.MAX_ATTEMPTS


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"VpcId": "vpc-123"}, "VpcId='vpc-123'"),
        ({"VpcId": "i-0123456789abcdef0"}, "VpcId"),
        ({"TrafficType": "BOTH"}, "TrafficType='BOTH'"),
        ({"RetentionInDays": 366}, "RetentionInDays=366"),
        ({"RetentionInDays": "a year"}, "RetentionInDays must be an integer"),
        ({"RetentionInDays": True}, "RetentionInDays must be an integer"),
        ({"MaxAggregationInterval": 300}, "MaxAggregationInterval=300"),
        ({"LogGroupName": "/elsewhere/logs"}, "LogGroupName='/elsewhere/logs'"),
        ({"LogFormat": "version srcaddr"}, "LogFormat"),
        ({"DeliveryRoleName": "a/b"}, "DeliveryRoleName"),
        ({"AccountId": "12345"}, "AccountId"),
        ({"Region": "Mars"}, "Region"),
        ({"VpcId": 42}, "VpcId must be a string"),
        (
            {"KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-" + "0" * 32},
            "a key in us-east-1",
        ),
        ({"KmsKeyArn": "alias/aws/logs"}, "KmsKeyArn"),
        ({"DestinationType": "kinesis-data-firehose"}, "DestinationType='kinesis-data-firehose'"),
        ({"DestinationType": "s3"}, "S3BucketArn='' is not valid"),
        ({"DestinationType": "s3", "S3BucketArn": "central-flow-logs"}, "an S3 bucket ARN"),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::central-flow-logs/AWSLogs"},
            "does not start with AWSLogs",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::b-1/AWSLogs/x"},
            "does not start with AWSLogs",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws-cn:s3:::central-flow-logs"},
            "a bucket in partition aws",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::b-1", "LogGroupName": "/x"},
            "LogGroupName='/x' is not valid: expected empty with DestinationType s3",
        ),
        (
            {
                "DestinationType": "s3",
                "S3BucketArn": "arn:aws:s3:::b-1",
                "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-" + "0" * 32,
            },
            "KmsKeyArn",
        ),
        ({"S3BucketArn": "arn:aws:s3:::b-1"}, "empty unless DestinationType is s3"),
        ({"DeliveryRoleBoundaryArn": ""}, "DeliveryRoleBoundaryArn='' is not valid"),
        (
            {"DeliveryRoleBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            "DeliveryRoleBoundaryArn",
        ),
        (
            {"DeliveryRoleBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/Boundary"},
            "under /vpc-flow-logs-guard/",
        ),
        (
            {"DeliveryRoleBoundaryArn": BOUNDARY_ARN.replace(ACCOUNT, "444455556666")},
            f"a managed policy of account {ACCOUNT}",
        ),
        (
            {"DeliveryRoleBoundaryArn": BOUNDARY_ARN.replace("arn:aws:", "arn:aws-cn:")},
            "DeliveryRoleBoundaryArn",
        ),
    ],
)
def test_invalid_input_is_refused_before_any_call(
    session: boto3.session.Session, calls: Calls, overrides: dict[str, object], message: str
) -> None:
    payload = events("vpc-0123456789abcdef0", **overrides)

    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        script.handler(payload, context=None)
    assert calls.made == []


def test_vpc_that_does_not_exist_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls
) -> None:
    with pytest.raises(RemediationError, match=r"VPC vpc-0123456789abcdef0 does not exist"):
        remediate(session, "vpc-0123456789abcdef0")
    assert calls.names == ["ec2:DescribeVpcs"]


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "requested", "expected"),
    [(None, 365, None), (30, 365, 365), (365, 365, None), (3653, 365, None), (1, 3, 3)],
)
@pytest.mark.parametrize("ours", [False, True])
def test_retention_is_only_ever_raised(
    current: int | None, requested: int, expected: int | None, ours: bool
) -> None:
    if current is None and ours:
        expected = requested  # our group that an interrupted run left without a retention
    assert script.retention_to_set(current, requested, ours=ours) == expected


@pytest.mark.parametrize(
    ("existing", "requested", "covers"),
    [
        ("ALL", "REJECT", True),
        ("ALL", "ACCEPT", True),
        ("ALL", "ALL", True),
        ("REJECT", "REJECT", True),
        ("REJECT", "ALL", False),
        ("ACCEPT", "REJECT", False),
    ],
)
def test_traffic_coverage(existing: str, requested: str, covers: bool) -> None:
    assert script.covers_traffic(existing, requested) is covers


def request(**overrides: object) -> Request:
    return script.parse_request(events("vpc-0123456789abcdef0", **overrides))


def flow_log(**fields: Any) -> FlowLogTypeDef:
    base: dict[str, Any] = {
        "FlowLogId": "fl-1",
        "FlowLogStatus": "ACTIVE",
        "DeliverLogsStatus": "SUCCESS",
        "TrafficType": "REJECT",
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": "/aws/vpc-flow-logs/vpc-0123456789abcdef0",
        "MaxAggregationInterval": 600,
        "LogFormat": "${version} ${action}",
    }
    base.update(fields)
    return base  # type: ignore[return-value]


ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc-flow-logs/vpc-0123456789abcdef0"


@pytest.mark.parametrize(
    ("fields", "overrides", "reason"),
    [
        ({}, {}, None),
        ({"LogGroupName": None, "LogDestination": ARN}, {}, None),
        ({"LogGroupName": None, "LogDestination": ARN + ":*"}, {}, None),
        ({"MaxAggregationInterval": 60}, {}, None),
        ({"LogFormat": "${version}  ${action}"}, {"LogFormat": "${version} ${action}"}, None),
        ({"FlowLogStatus": "DELETING"}, {}, "not ACTIVE"),
        (
            {"DeliverLogsStatus": "FAILED", "DeliverLogsErrorMessage": "Rate limited"},
            {},
            "delivery FAILED (Rate limited)",
        ),
        ({"TrafficType": "ACCEPT"}, {}, "does not cover REJECT"),
        ({"LogGroupName": "/aws/vpc-flow-logs/other"}, {}, "does not deliver"),
        (
            {"LogGroupName": None, "LogDestination": ARN.replace(ACCOUNT, "210987654321")},
            {},
            "does not deliver",
        ),
        ({"LogDestinationType": "s3", "LogGroupName": None}, {}, "does not deliver"),
        ({}, {"MaxAggregationInterval": 60}, "600s is longer than 60s"),
        ({}, {"LogFormat": "${version} ${srcaddr}"}, "log format differs"),
    ],
)
def test_what_satisfies_a_request(
    fields: dict[str, Any], overrides: dict[str, object], reason: str | None
) -> None:
    reasons = script.unmet_requirements(flow_log(**fields), request(**overrides))

    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1
        assert reason in reasons[0]


def test_plan_prefers_our_satisfying_flow_log_and_replaces_only_ours() -> None:
    foreign_ok = flow_log(FlowLogId="fl-a", TrafficType="ALL")
    ours_ok = flow_log(FlowLogId="fl-b", Tags=OURS)
    ours_bad = flow_log(FlowLogId="fl-c", Tags=OURS, DeliverLogsStatus="FAILED")
    foreign_bad = flow_log(FlowLogId="fl-d", TrafficType="ACCEPT")
    elsewhere = flow_log(FlowLogId="fl-e", LogGroupName="/x", TrafficType="ACCEPT")

    plan = script.plan_flow_log([foreign_ok, ours_ok, ours_bad, foreign_bad, elsewhere], request())

    assert plan.satisfying is ours_ok
    assert [fl.get("FlowLogId") for fl in plan.replaceable] == ["fl-c"]
    assert [conflict.split()[0] for conflict in plan.conflicts] == ["fl-d"]


def test_backoff_grows_and_stays_within_two_minutes() -> None:
    delays = script.backoff_delays()

    assert delays == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert sum(delays) <= script.IAM_PROPAGATION_BUDGET_SECONDS
    assert script.backoff_delays(budget=10) == [2.0, 4.0]


@pytest.mark.parametrize(
    "message",
    [
        "Unable to assume given IAM role: 'arn:aws:iam::123456789012:role/x'",
        "unable to assume given iam role",
    ],
)
def test_propagation_errors_are_recognised(message: str) -> None:
    assert script.is_iam_propagation_error(message)


def test_other_errors_are_not_propagation() -> None:
    assert not script.is_iam_propagation_error("You are not authorized to perform this operation.")
    assert not script.is_iam_propagation_error("LogDestination: group does not exist.")


def test_policy_comparison_ignores_form_but_not_meaning() -> None:
    policy = our_policy()
    reshaped = {
        "Statement": [
            {**statement, "Action": sorted(statement["Action"], reverse=True)}
            if isinstance(statement["Action"], list)
            else {**statement, "Action": [statement["Action"]], "Resource": [statement["Resource"]]}
            for statement in reversed(policy["Statement"])
        ],
        "Version": "2012-10-17",
    }
    assert script.policies_equal(reshaped, policy)
    assert script.policies_equal(json.dumps(policy), policy)
    assert script.policies_equal(
        "%7B%22Version%22%3A%222012-10-17%22%7D", {"Version": "2012-10-17"}
    )

    changed = json.loads(json.dumps(policy))
    changed["Statement"][0]["Resource"] = "*"
    assert not script.policies_equal(changed, policy)


# --------------------------------------------------------------------------------------------
# The delivery role's policies, checked as IAM would read them
# --------------------------------------------------------------------------------------------


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement of ``policy`` matches ``action`` on ``resource``."""
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if (
            statement["Effect"] == "Allow"
            and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions)
            and any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources)
        ):
            return True
    return False


@pytest.mark.parametrize("policy", [our_policy(), script.delivery_policy("aws-cn", ACCOUNT)])
def test_delivery_policy_passes_parliament(policy: dict[str, Any]) -> None:
    findings = parliament.analyze_policy_string(json.dumps(policy)).findings

    assert [(finding.issue, finding.detail) for finding in findings] == []


def test_delivery_policy_has_exactly_the_four_actions() -> None:
    actions = {
        action
        for statement in our_policy()["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
    }


GROUP = "/aws/vpc-flow-logs/vpc-0123456789abcdef0"
INSIDE_GROUP = [
    f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{GROUP}{suffix}"
    for region in ("us-east-1", "eu-west-1")
    for suffix in ("", ":*")
]
INSIDE_STREAM = [
    f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{GROUP}:log-stream:eni-0a1b2c3d-all"
    for region in ("us-east-1", "eu-west-1")
]
OUTSIDE = [
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/vpc-flow-logsX/g:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/other/aws/vpc-flow-logs/g:log-stream:s",
    f"arn:aws:logs:us-east-1:210987654321:log-group:{GROUP}:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f",
]


def test_delivery_policy_covers_groups_and_streams_under_the_prefix_only() -> None:
    policy = our_policy()
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert all(allows(policy, action, arn) for arn in INSIDE_STREAM)
        assert not any(allows(policy, action, arn) for arn in OUTSIDE)
    assert all(allows(policy, "logs:DescribeLogStreams", arn) for arn in INSIDE_GROUP)
    assert not any(allows(policy, "logs:DescribeLogStreams", arn) for arn in OUTSIDE)
    assert allows(policy, "logs:DescribeLogGroups", "*")  # no resource-level permissions
    assert not allows(policy, "logs:CreateLogGroup", INSIDE_GROUP[0])
    assert not allows(policy, "logs:DeleteLogGroup", INSIDE_GROUP[0])
    assert not allows(policy, "logs:GetLogEvents", INSIDE_STREAM[0])


def test_trust_policy_admits_only_vpc_flow_logs_of_this_account() -> None:
    (statement,) = our_trust()["Statement"]

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    source_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    assert fnmatch.fnmatchcase(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/fl-0abc", source_arn)
    assert not fnmatch.fnmatchcase(
        "arn:aws:ec2:eu-west-1:210987654321:vpc-flow-log/fl-0abc", source_arn
    )
    assert not fnmatch.fnmatchcase(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1", source_arn)


# --------------------------------------------------------------------------------------------
# The automation role: the reported actions are enough, and each enforced one is needed
# --------------------------------------------------------------------------------------------


def scenario_fresh(admin: boto3.session.Session, vpc_id: str) -> None:
    """Nothing exists yet."""


def scenario_compliant(admin: boto3.session.Session, vpc_id: str) -> None:
    """The runbook already ran."""
    remediate(admin, vpc_id)


def scenario_other_regions_role(admin: boto3.session.Session, vpc_id: str) -> None:
    """Another region's stack created the role (its boundary); its inline policy is missing."""
    create_role(admin.client("iam"), ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)


def scenario_our_group_never_expires(admin: boto3.session.Session, vpc_id: str) -> None:
    """An interrupted run left our log group without a retention."""
    admin.client("logs").create_log_group(
        logGroupName=group_name(vpc_id), tags={"ManagedBy": "vpc-flow-logs-guard"}
    )


def scenario_bucket(admin: boto3.session.Session, vpc_id: str) -> None:
    """The destination bucket exists (its policy lets the delivery service write)."""
    admin.client("s3").create_bucket(Bucket=BUCKET)


def scenario_s3_compliant(admin: boto3.session.Session, vpc_id: str) -> None:
    """The runbook already delivered the VPC's REJECT traffic to the bucket."""
    scenario_bucket(admin, vpc_id)
    remediate(admin, vpc_id, **to_s3())


SCENARIOS: dict[str, tuple[Scenario, dict[str, object]]] = {
    "fresh": (scenario_fresh, {}),
    "compliant": (scenario_compliant, {}),
    "other region's role": (scenario_other_regions_role, {}),
    "replace": (scenario_compliant, {"TrafficType": "ALL"}),  # our REJECT log gets replaced
    "our group never expires": (scenario_our_group_never_expires, {}),
    "s3 fresh": (scenario_bucket, dict(to_s3())),
    "s3 replace": (scenario_s3_compliant, {"TrafficType": "ALL", **to_s3()}),
}


def run_as_automation_role(actions: Sequence[str], scenario: str) -> Exception | None:
    """Run a scenario with moto enforcing a policy of ``actions`` (resources widened to ``*``,
    since moto judges actions only); return the error, if any."""
    prepare, overrides = SCENARIOS[scenario]

    @mock_aws
    @set_initial_no_auth_action_count(3)  # create the admin: user, policy, access key
    def scenario_run() -> Exception | None:
        with patch_moto():
            return _scenario(actions, prepare, overrides)

    return scenario_run()


def _scenario(
    actions: Sequence[str], prepare: Scenario, overrides: dict[str, object]
) -> Exception | None:
    admin = _user_session(new_session(region_name=REGION), "admin", ["*"])
    vpc_id = admin.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    automation = _user_session(admin, "automation", actions)
    prepare(admin, vpc_id)
    try:
        request = script.parse_request(events(vpc_id, **overrides))
        clients = Clients.create(REGION, automation)
        script.remediate(Run(request=request, aws=clients, sleep=_no_sleep))
    except RemediationError as failure:
        return failure
    return None


def _user_session(
    creator: boto3.session.Session, name: str, actions: Sequence[str]
) -> boto3.session.Session:
    iam = creator.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="actions",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return new_session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=REGION,
    )


@pytest.mark.parametrize("scenario", [name for name in SCENARIOS if not name.startswith("s3")])
def test_reported_automation_actions_are_enough(scenario: str) -> None:
    assert run_as_automation_role(AUTOMATION_ROLE_ACTIONS, scenario) is None


@pytest.mark.parametrize("scenario", [name for name in SCENARIOS if name.startswith("s3")])
def test_s3_destination_needs_no_iam_or_cloudwatch_logs_actions(scenario: str) -> None:
    # logs:CreateLogDelivery / logs:DeleteLogDelivery, which CreateFlowLogs and DeleteFlowLogs
    # need for S3 delivery, are implicit: moto does not check them (the stack tests do).
    assert run_as_automation_role(S3_AUTOMATION_ROLE_ACTIONS, scenario) is None


@pytest.mark.parametrize(
    ("action", "scenario"),
    [
        ("ec2:DescribeVpcs", "fresh"),
        ("ec2:DescribeFlowLogs", "fresh"),
        ("ec2:CreateFlowLogs", "fresh"),
        ("ec2:DeleteFlowLogs", "replace"),
        ("iam:GetRole", "fresh"),
        ("iam:CreateRole", "fresh"),
        ("iam:GetRolePolicy", "compliant"),
        ("iam:PutRolePolicy", "other region's role"),
        ("iam:PutRolePolicy", "fresh"),
        ("logs:DescribeLogGroups", "fresh"),
        ("logs:CreateLogGroup", "fresh"),
        ("logs:PutRetentionPolicy", "fresh"),
        ("logs:ListTagsForResource", "our group never expires"),
        ("ec2:CreateFlowLogs", "s3 fresh"),
        ("ec2:DeleteFlowLogs", "s3 replace"),
    ],
)
def test_each_enforced_automation_action_is_needed(action: str, scenario: str) -> None:
    # moto does not check iam:TagRole, iam:PassRole, logs:TagResource and ec2:CreateTags (the
    # implicit permissions of tag-on-create and of passing the role) nor has AssociateKmsKey.
    without = [granted for granted in AUTOMATION_ROLE_ACTIONS if granted != action]

    failure = run_as_automation_role(without, scenario)

    assert failure is not None
    assert "AccessDenied" in str(failure)
    assert action.split(":")[1] in str(failure) or "403" in str(failure)
