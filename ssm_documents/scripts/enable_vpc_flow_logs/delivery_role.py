"""Step ``DeliveryRole`` (CloudWatch Logs only): the IAM role VPC Flow Logs delivers with.

Creates the role within its permissions boundary, or checks an existing one: a trust policy
other than the one written here, a missing boundary or one not ours fails the step with what
differs and the command that fixes it, since the automation role may change neither (README,
"Security model"). Then writes the inline policy if it differs. When the flow log the plan keeps
delivers with another role, ours is left alone. Outputs the role's ARN.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final, TypedDict
from urllib.parse import unquote

import boto3

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH, is_boundary_of_account
from enable_vpc_flow_logs.common import (
    LOG_GROUP_PREFIX,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    RETRY_CONFIG,
    RemediationError,
    failing,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import RoleTypeDef

    from enable_vpc_flow_logs.flow_log_plan import FlowLogDecision
    from enable_vpc_flow_logs.request import Request

INLINE_POLICY_NAME: Final = "VpcFlowLogsDelivery"
FLOW_LOGS_SERVICE: Final = "vpc-flow-logs.amazonaws.com"


class DeliveryRoleInput(TypedDict):
    """The step's InputPayload: ``CheckInput``'s outputs."""

    Request: str
    FlowLogPlan: str


class DeliveryRoleOutput(TypedDict):
    """The step's Payload; ``DeliveryRoleArn`` is its output."""

    DeliveryRoleArn: str
    Changes: list[str]


def run(events: DeliveryRoleInput, session: boto3.session.Session) -> DeliveryRoleOutput:
    """Create or check the role with a client from ``session``."""
    request: Request = json.loads(events["Request"])
    plan: FlowLogDecision = json.loads(events["FlowLogPlan"])
    kept_role = plan["KeepDeliveryRoleArn"]
    if kept_role and kept_role.rsplit("/", 1)[-1] != request["DeliveryRoleName"]:
        # the flow log the VPC keeps delivers with its own role: ours is not needed
        return {"DeliveryRoleArn": kept_role, "Changes": []}
    changes: list[str] = []
    iam = session.client("iam", region_name=request["Region"], config=RETRY_CONFIG)
    return {"DeliveryRoleArn": ensure_delivery_role(iam, request, changes), "Changes": changes}


def ensure_delivery_role(iam: IAMClient, request: Request, changes: list[str]) -> str:
    """Create the role within its boundary, or check it; write its inline policy; its ARN."""
    trust = trust_policy(request["Partition"], request["AccountId"])
    policy = delivery_policy(request["Partition"], request["AccountId"])
    name, boundary = request["DeliveryRoleName"], request["DeliveryRoleBoundaryArn"]
    with failing(f"delivery role {name}"):
        role = _get_role(iam, name)
        created = False
        if role is None:
            try:
                role = iam.create_role(
                    RoleName=name,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    PermissionsBoundary=boundary,
                    Description="Lets VPC Flow Logs deliver flow logs to CloudWatch Logs "
                    f"log groups under {LOG_GROUP_PREFIX}",
                    Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
                )["Role"]
                created = True
                changes.append(f"created IAM role {name} with boundary {boundary}")
            except iam.exceptions.EntityAlreadyExistsException:
                # Another run (another region or VPC) created it a moment ago: use theirs.
                role = _get_role(iam, name)
                if role is None:
                    raise RemediationError(
                        f"delivery role {name}: CreateRole says it exists but GetRole cannot "
                        "find it"
                    ) from None
        if not created:
            problems = delivery_role_problems(role, trust, request)
            if problems:
                raise RemediationError(
                    f"delivery role {name} cannot be used: {'; '.join(problems)}. This runbook "
                    "may not change a role's trust policy or boundary; fix the role by hand "
                    '(README, "Security model") and run it again.'
                )
        current = None if created else _get_inline_policy(iam, name)
        if current is None or not policies_equal(current, policy):
            iam.put_role_policy(
                RoleName=name, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(policy)
            )
            verb = "wrote" if current is None else "repaired"
            changes.append(f"{verb} inline policy {INLINE_POLICY_NAME} of IAM role {name}")
        return role["Arn"]


def delivery_role_problems(
    role: RoleTypeDef, trust: Mapping[str, Any], request: Request
) -> list[str]:
    """What keeps an existing delivery role from being used; empty when nothing does.

    Its boundary may be any policy of this account under ``BOUNDARY_PATH``: each regional
    stack has its own, all alike, and the role has the boundary of whichever region created
    it. A role without one was created by an earlier version of this runbook. Its path must be
    ``/``: ``FlowLog`` passes the role by ``Request.DeliveryRoleArn``.
    """
    name, partition, account = (
        request["DeliveryRoleName"],
        request["Partition"],
        request["AccountId"],
    )
    problems: list[str] = []
    if role.get("Arn", request["DeliveryRoleArn"]) != request["DeliveryRoleArn"]:
        problems.append(f"its ARN is {role.get('Arn')}, not {request['DeliveryRoleArn']} (path /)")
    if not policies_equal(role.get("AssumeRolePolicyDocument"), trust):
        document = json.dumps(trust, separators=(",", ":"))
        problems.append(
            "its trust policy is not the one this runbook writes (only VPC Flow Logs of "
            f"account {account}): aws iam update-assume-role-policy --role-name "
            f"{name} --policy-document '{document}'"
        )
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
    fix = (
        f"aws iam put-role-permissions-boundary --role-name {name} "
        f"--permissions-boundary {request['DeliveryRoleBoundaryArn']}"
    )
    if not boundary:
        problems.append(
            f"it has no permissions boundary (an earlier version created it without one): {fix}"
        )
    elif not is_boundary_of_account(boundary, partition, account):
        problems.append(
            f"its permissions boundary {boundary} is not a policy of account "
            f"{account} under {BOUNDARY_PATH}: {fix}"
        )
    return problems


def trust_policy(partition: str, account_id: str) -> dict[str, Any]:
    """Only VPC Flow Logs, and only for this account's flow logs (confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": FLOW_LOGS_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:*:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def delivery_policy(partition: str, account_id: str) -> dict[str, Any]:
    """What VPC Flow Logs may do with the role: write to log groups under the prefix.

    The role is global and shared by every region, so the region is a wildcard. The log
    group pattern ends in ``*``, so it covers the group ARN in both forms (with and without
    ``:*``) and every ``…:log-stream:<name>`` ARN under it, whichever of them CloudWatch Logs
    authorizes CreateLogStream, PutLogEvents and DescribeLogStreams against.
    DescribeLogGroups has no resource-level permissions: it needs ``*``.
    """
    prefix_arn = f"arn:{partition}:logs:*:{account_id}:log-group:{LOG_GROUP_PREFIX}*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogStreams",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": prefix_arn,
            },
            {
                "Sid": "FindLogGroups",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
        ],
    }


def policies_equal(current: object, wanted: object) -> bool:
    """Whether two policy documents say the same thing."""
    return normalize_policy(current) == normalize_policy(wanted)


def normalize_policy(document: object) -> object:
    """A canonical form of a policy document, so that equivalent documents compare equal.

    IAM returns documents with its own key order, single values in place of one-item lists
    and statements in any order; none of that changes their meaning.
    """
    if isinstance(document, str):
        document = json.loads(unquote(document) if document.startswith("%") else document)
    if not isinstance(document, dict):
        return document
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    normalized = sorted(
        (_normalize_value(statement) for statement in statements),
        key=lambda statement: json.dumps(statement, sort_keys=True),
    )
    return {"Version": document.get("Version"), "Statement": normalized}


def _normalize_value(value: object) -> object:
    if isinstance(value, dict):
        return {key: _normalize_value(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [item if isinstance(item, str) else _normalize_value(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, str):
        return [value]  # "x" and ["x"] mean the same in a policy
    return value


def _get_role(iam: IAMClient, name: str) -> RoleTypeDef | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _get_inline_policy(iam: IAMClient, name: str) -> object:
    try:
        return iam.get_role_policy(RoleName=name, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None


def handler(events: DeliveryRoleInput, context: object) -> DeliveryRoleOutput:
    """``aws:executeScript`` entry point."""
    return run(events, boto3.session.Session())
