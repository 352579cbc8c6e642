"""Builders of the runbook scripts' tests: requests, recorded calls, injected answers, moto state.

moto plays EC2, IAM and CloudWatch Logs (accounts from ``tests.support.accounts``). What moto
cannot produce (IAM propagation delays, ``Unsuccessful`` items, a KMS key policy that refuses
CloudWatch Logs, AssociateKmsKey, a delivery that failed, throttling) is injected with a botocore
``before-call`` or ``before-send`` hook on the session the scripts' clients come from. Every AWS
call the steps make is recorded by name (``Calls``), so tests can assert the exact sequence
and that a second run writes nothing. ``remediate`` plays the whole document in this process
(``tests.support.runbook``). The fixtures that put these together are in conftest.py.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from enable_vpc_flow_logs.common import RemediationError
from enable_vpc_flow_logs.delivery_role import delivery_policy, trust_policy
from enable_vpc_flow_logs.request import parse_request
from local_aws.moto_patches import patch_moto
from tests.support import accounts
from tests.support.accounts import (
    ACCOUNT_ID,
    DELIVERY_ROLE,
    DELIVERY_ROLE_NAME,
    REGION,
    World,
    new_session,
)
from tests.support.runbook import play
from tests.unit.ssm_documents.payloads import BOUNDARY_ARN
from tests.unit.ssm_documents.payloads import runbook_input as events

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import boto3
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef, TagSpecificationTypeDef, TagTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from enable_vpc_flow_logs.request import Request

    Scenario = Callable[[World, str], None]

__all__ = [  # what the runbook script's test files import from here
    "ACCOUNT",
    "AUTOMATION_ROLE_ACTIONS",
    "BOTOCORE_FLOOR",
    "BOUNDARY_ARN",
    "BUCKET",
    "BUCKET_ARN",
    "COMPLIANT_VPC_CALLS",
    "DESTINATION_ROLE",
    "FIREHOSE_AUTOMATION_ROLE_ACTIONS",
    "FRESH_VPC_CALLS",
    "MANAGED_BY",
    "OTHER_REGIONS_BOUNDARY",
    "OURS",
    "PROPAGATION",
    "READS",
    "REGION",
    "ROLE",
    "ROLE_ARN",
    "S3_AUTOMATION_ROLE_ACTIONS",
    "S3_FRESH_VPC_CALLS",
    "SOURCE_ROLE",
    "STREAM",
    "STREAM_ACCOUNT",
    "TAG_OURS",
    "THROTTLED",
    "WRONG_TRUST",
    "Calls",
    "Env",
    "FirehoseDestination",
    "S3Destination",
    "allows",
    "before",
    "create_role",
    "error",
    "events",
    "flow_log",
    "group_name",
    "inject",
    "log_group",
    "new_session",
    "no_sleep",
    "our_policy",
    "our_trust",
    "put_policy",
    "read_back",
    "remediate",
    "request",
    "response",
    "run_with_actions",
    "throttled",
    "to_firehose",
    "to_s3",
    "vpc_flow_logs",
]

ACCOUNT: Final = ACCOUNT_ID
ROLE: Final = DELIVERY_ROLE_NAME
ROLE_ARN: Final = DELIVERY_ROLE
OTHER_REGIONS_BOUNDARY: Final = BOUNDARY_ARN.replace("1A2B", "9Z8Y")
MANAGED_BY: Final = {"ManagedBy": "vpc-flow-logs-guard"}
OURS: list[TagTypeDef] = [{"Key": "ManagedBy", "Value": "vpc-flow-logs-guard"}]
TAG_OURS: list[TagSpecificationTypeDef] = [{"ResourceType": "vpc-flow-log", "Tags": OURS}]
PROPAGATION: Final = "Unable to assume given IAM role: 'arn:aws:iam::123456789012:role/{}'"
BUCKET: Final = "central-flow-logs"
BUCKET_ARN: Final = f"arn:aws:s3:::{BUCKET}"
STREAM_ACCOUNT: Final = "111122223333"
"""The log-archive account, whose Firehose stream the flow logs deliver to."""
STREAM: Final = f"arn:aws:firehose:{REGION}:{STREAM_ACCOUNT}:deliverystream/central-flow-logs"
SOURCE_ROLE: Final = f"arn:aws:iam::{ACCOUNT_ID}:role/vpc-flow-logs-guard/Guard-FirehoseSource-1A2B"
"""The stack's source account role (a generated name under the project's path)."""
DESTINATION_ROLE: Final = (
    f"arn:aws:iam::{STREAM_ACCOUNT}:role/AWSLogDeliveryFirehoseCrossAccountRole-{REGION}"
)

READS: Final = ("Describe", "Get", "List")
BOTOCORE_FLOOR: Final = "1.31.0"
"""The oldest botocore whose service models every request of the script must fit (conftest's
autouse fixture; ``test_sdk_floor`` says why this one)."""

# The automation role's actions (the stack grants these): exactly what the script may call.
# With an S3 destination it calls no IAM and no CloudWatch Logs API.
AUTOMATION_ROLE_ACTIONS: Final = (
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
S3_AUTOMATION_ROLE_ACTIONS: Final = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "ec2:CreateTags",
    "ec2:DeleteFlowLogs",
)
# With Firehose it also passes the stack's source role (and manages no IAM or Logs resource).
FIREHOSE_AUTOMATION_ROLE_ACTIONS: Final = (*S3_AUTOMATION_ROLE_ACTIONS, "iam:PassRole")

# By step: CheckInput, DeliveryRole, LogGroup, FlowLog, Verify (the read-back).
FRESH_VPC_CALLS: Final = [
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
COMPLIANT_VPC_CALLS: Final = [
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "logs:DescribeLogGroups",
    "ec2:DescribeFlowLogs",
]
S3_FRESH_VPC_CALLS: Final = [
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "ec2:DescribeFlowLogs",
]

WRONG_TRUST: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


# --------------------------------------------------------------------------------------------
# Recording and injecting calls
# --------------------------------------------------------------------------------------------


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


def read_back(body: Any) -> bool:
    """Verify's DescribeFlowLogs (by id), not CheckInput's look-up (by VPC)."""
    return "FlowLogId.1" in body


THROTTLED: Final = (
    b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
    b"exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>"
)


def throttled() -> AWSResponse:
    """EC2's throttling answer over HTTP, for a ``before-send`` hook (botocore retries it)."""
    return AWSResponse("https://aws.invalid", 503, HTTPHeaders(), _Raw(THROTTLED))


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


# --------------------------------------------------------------------------------------------
# Running the script
# --------------------------------------------------------------------------------------------


def remediate(
    session: boto3.session.Session,
    vpc_id: str,
    *,
    sleeps: list[float] | None = None,
    **overrides: object,
) -> dict[str, Any]:
    """Run the document for ``vpc_id`` with the stack's defaults and ``overrides``: its
    outputs (``FlowLogId``, ``LogGroupName``, ``DeliveryRoleArn``, ``Destination``) and every
    step's ``Changes``. A step's error is raised.

    Its waits go to ``sleeps``; without a list, any wait fails the test.
    """
    pause = sleeps.append if sleeps is not None else no_sleep
    return play(events(vpc_id, **overrides), session, sleep=pause).output


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep of {seconds}s")


def request(**overrides: object) -> Request:
    """A parsed request for a VPC that need not exist (the pure decisions' input)."""
    return parse_request(events("vpc-0123456789abcdef0", **overrides))


def flow_log(**fields: Any) -> FlowLogTypeDef:
    """A flow log as DescribeFlowLogs lists it: REJECT to the VPC's group, delivering."""
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


class S3Destination(TypedDict):
    DestinationType: str
    S3BucketArn: str
    DeliveryRoleBoundaryArn: str


def to_s3(destination: str = BUCKET_ARN) -> S3Destination:
    """The S3 path's parameters (no delivery role, so no boundary either)."""
    return {"DestinationType": "s3", "S3BucketArn": destination, "DeliveryRoleBoundaryArn": ""}


class FirehoseDestination(TypedDict):
    DestinationType: str
    FirehoseArn: str
    DeliverLogsPermissionArn: str
    DeliverCrossAccountRole: str
    DeliveryRoleBoundaryArn: str


def to_firehose(
    stream: str = STREAM, destination_role: str = DESTINATION_ROLE
) -> FirehoseDestination:
    """The Firehose path's parameters, as the stack passes them (the source role is its own;
    no delivery role of the runbook's, so no boundary either)."""
    return {
        "DestinationType": "kinesis-data-firehose",
        "FirehoseArn": stream,
        "DeliverLogsPermissionArn": SOURCE_ROLE,
        "DeliverCrossAccountRole": destination_role,
        "DeliveryRoleBoundaryArn": "",
    }


@dataclass(frozen=True)
class Env:
    """The moto world of one test: the script's session (recorded), a VPC, the account."""

    session: boto3.session.Session
    calls: Calls
    vpc_id: str
    world: World

    @property
    def ec2(self) -> EC2Client:
        return self.world.ec2

    @property
    def iam(self) -> IAMClient:
        return self.world.iam

    @property
    def logs(self) -> CloudWatchLogsClient:
        return self.world.logs


# --------------------------------------------------------------------------------------------
# Reading and arranging moto state
# --------------------------------------------------------------------------------------------


def group_name(vpc_id: str) -> str:
    return f"/aws/vpc-flow-logs/{vpc_id}"


def vpc_flow_logs(ec2: EC2Client, vpc_id: str) -> list[FlowLogTypeDef]:
    return ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]


def log_group(logs: CloudWatchLogsClient, name: str) -> dict[str, Any]:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = [dict(group) for group in groups if group.get("logGroupName") == name]
    assert len(found) == 1
    return found[0]


def our_trust() -> dict[str, Any]:
    return trust_policy("aws", ACCOUNT)


def our_policy() -> dict[str, Any]:
    return delivery_policy("aws", ACCOUNT)


def create_role(
    iam: IAMClient, name: str, trust: dict[str, Any], boundary: str | None = BOUNDARY_ARN
) -> str:
    """The role as an admin (or an earlier run, ``boundary=None``) would have created it."""
    return accounts.create_role(iam, name, trust, boundary)


def put_policy(iam: IAMClient, policy: dict[str, Any]) -> None:
    """The delivery role's inline policy, as someone (or an earlier run) wrote it."""
    accounts.put_role_policy(iam, ROLE, "VpcFlowLogsDelivery", policy)


# --------------------------------------------------------------------------------------------
# The automation role: moto enforcing a policy of some actions
# --------------------------------------------------------------------------------------------


def run_with_actions(
    actions: Sequence[str], prepare: Scenario, overrides: dict[str, object]
) -> Exception | None:
    """Arrange ``prepare`` as an admin, then run the document with moto enforcing a policy of
    ``actions`` (resources widened to ``*``, since moto judges actions only); return the
    error of the step that failed, if any."""

    @mock_aws
    @set_initial_no_auth_action_count(3)  # create the admin: user, policy, access key
    def scenario_run() -> Exception | None:
        with patch_moto():
            admin = _user_session(new_session(region_name=REGION), "admin", ["*"])
            world = World(admin)
            vpc_id = world.vpc()
            automation = _user_session(admin, "automation", actions)
            prepare(world, vpc_id)
            try:
                play(events(vpc_id, **overrides), automation, sleep=no_sleep)
            except RemediationError as failure:
                return failure
            return None

    return scenario_run()


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
