"""Turn one API call into the IAM requests AWS authorizes for it: action, resource, context.

moto authorizes actions only; this module says what AWS would check, so that a recorded run can
be evaluated against the template's policies with their resources and conditions. Per operation
the product calls: the IAM action, the ARN of each resource it touches (the service
authorization reference's resource types; ``"*"`` where the action has none), the implicit
requests AWS makes (``iam:PassRole`` of a flow log's delivery role, ``ec2:CreateTags`` and tag
permissions when a create call carries tags, the log delivery of an S3 or Firehose flow log)
and the request-context keys AWS sends (``aws:RequestTag/<key>``, ``aws:TagKeys``,
``aws:ResourceTag/<key>``, ``iam:PassedToService``, ``iam:AssociatedResourceArn``,
``iam:PermissionsBoundary``, ``ec2:CreateAction``). Resource state (tags, a role's boundary, a
rule's ARN) comes from a :class:`ResourceState` read when the call is made.

An operation missing from the table raises :class:`UnknownOperationError`: nothing is skipped.
Pure: no boto3, no moto.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

FLOW_LOGS_SERVICE: Final = "vpc-flow-logs.amazonaws.com"
LOG_DELIVERY_SERVICE: Final = "delivery.logs.amazonaws.com"
"""The service a Firehose flow log's source account role is passed to (VPC User Guide, "IAM
roles for cross account delivery")."""
LOG_DELIVERY_DESTINATIONS: Final = frozenset({"s3", "kinesis-data-firehose"})
"""Flow-log destinations set up as a log delivery: CreateFlowLogs needs logs:CreateLogDelivery
and DeleteFlowLogs logs:DeleteLogDelivery (VPC User Guide, "Create a flow log that publishes to
Amazon S3" and "... to Amazon Data Firehose")."""
Context = Mapping[str, str | list[str]]


class UnknownOperationError(Exception):
    """An operation this table does not know: add it (with its IAM requests) before using it."""


@dataclass(frozen=True)
class ApiCall:
    """One API request as the service receives it: who, which operation, which parameters."""

    principal_arn: str
    """The caller: an IAM role's ARN (for an assumed-role session) or a user's ARN."""
    service: str
    """The signing name: ``ec2``, ``iam``, ``logs``, ``config``, ``sts``."""
    operation: str
    parameters: Mapping[str, Any]
    account_id: str
    region: str
    partition: str = "aws"


@dataclass(frozen=True)
class IamRequest:
    """One authorization AWS makes for an API call."""

    principal_arn: str
    action: str
    resource: str
    context: Context = field(default_factory=dict)
    operation: str = ""
    """The API operation that caused it (``CreateFlowLogs`` for its ``iam:PassRole``)."""


@dataclass(frozen=True)
class FlowLogState:
    """What AWS knows of an existing flow log when it authorizes a call on it."""

    tags: Mapping[str, str]
    destination_type: str


class ResourceState(Protocol):
    """The account's resources as they are when the call is authorized (before it runs)."""

    def ec2_tags(self, resource_id: str) -> Mapping[str, str]: ...

    def flow_log(self, flow_log_id: str) -> FlowLogState | None: ...

    def role_path(self, role_name: str) -> str: ...

    def role_tags(self, role_name: str) -> Mapping[str, str]: ...

    def role_boundary(self, role_name: str) -> str | None: ...

    def log_group_tags(self, log_group_arn: str) -> Mapping[str, str]: ...

    def config_rule_arn(self, rule_name: str) -> str | None: ...


def iam_requests(call: ApiCall, state: ResourceState) -> list[IamRequest]:
    """Every authorization AWS makes for ``call``, in order; raises on an unknown operation."""
    mapper = _OPERATIONS.get((call.service, call.operation))
    if mapper is None:
        raise UnknownOperationError(
            f"{call.service}:{call.operation} (by {call.principal_arn}) is not in the table of "
            "local_aws.iam_requests: add its IAM action, resources and context keys"
        )
    return [
        IamRequest(
            principal_arn=call.principal_arn,
            action=action,
            resource=resource,
            context={**_global_context(call), **context},
            operation=call.operation,
        )
        for action, resource, context in mapper(call, state)
    ]


# -- the table ------------------------------------------------------------------------------

_Authorization = tuple[str, str, Context]
_Mapper = Callable[[ApiCall, ResourceState], list[_Authorization]]


def _global_context(call: ApiCall) -> dict[str, str | list[str]]:
    """Keys AWS sends with every request (IAM User Guide, "AWS global condition context keys")."""
    return {
        "aws:PrincipalArn": call.principal_arn,
        "aws:PrincipalAccount": call.account_id,
        "aws:RequestedRegion": call.region,
    }


def _arn(call: ApiCall, service: str, resource: str, *, regional: bool = True) -> str:
    region = call.region if regional else ""
    return f"arn:{call.partition}:{service}:{region}:{call.account_id}:{resource}"


def _no_resource(action: str) -> _Mapper:
    """An action without resource-level permissions: AWS authorizes it against ``*``."""

    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        return [(action, "*", {})]

    return mapper


def _nothing(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    """No authorization at all (sts:GetCallerIdentity: "No permissions are required")."""
    return []


def _request_tags(tags: Mapping[str, str]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def _resource_tags(tags: Mapping[str, str], *prefixes: str) -> dict[str, str | list[str]]:
    return {f"{prefix}:ResourceTag/{k}": v for prefix in prefixes for k, v in tags.items()}


def _tag_list(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags or []}


# EC2 ---------------------------------------------------------------------------------------

# CreateFlowLogs' ResourceType -> the resource type's ARN segment (service authorization
# reference, "Resource types defined by Amazon EC2").
_FLOW_LOG_SOURCES: Final = {
    "VPC": "vpc",
    "Subnet": "subnet",
    "NetworkInterface": "network-interface",
    "TransitGateway": "transit-gateway",
    "TransitGatewayAttachment": "transit-gateway-attachment",
}


def _ec2_create_flow_logs(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    parameters = call.parameters
    resource_type = str(parameters.get("ResourceType", ""))
    if resource_type not in _FLOW_LOG_SOURCES:
        raise UnknownOperationError(f"ec2:CreateFlowLogs for ResourceType {resource_type!r}")
    segment = _FLOW_LOG_SOURCES[resource_type]
    tags = {
        key: value
        for specification in parameters.get("TagSpecifications", [])
        if specification.get("ResourceType") == "vpc-flow-log"
        for key, value in _tag_list(specification.get("Tags")).items()
    }
    # The new flow log has no id yet: EC2 authorizes creation against ".../vpc-flow-log/*".
    new_flow_log = _arn(call, "ec2", "vpc-flow-log/*")
    sources = [
        (resource_id, _arn(call, "ec2", f"{segment}/{resource_id}"))
        for resource_id in parameters.get("ResourceIds", [])
    ]
    requests: list[_Authorization] = [
        ("ec2:CreateFlowLogs", arn, _resource_tags(state.ec2_tags(resource_id), "aws", "ec2"))
        for resource_id, arn in sources
    ]
    requests.append(("ec2:CreateFlowLogs", new_flow_log, _request_tags(tags)))
    if tags:
        # Tag on create: EC2 User Guide, "Grant permission to tag Amazon EC2 resources during
        # creation" (ec2:CreateTags with ec2:CreateAction).
        requests.append(
            (
                "ec2:CreateTags",
                new_flow_log,
                {"ec2:CreateAction": "CreateFlowLogs", **_request_tags(tags)},
            )
        )
    role_arn = parameters.get("DeliverLogsPermissionArn")
    destination_type = parameters.get("LogDestinationType")
    if role_arn and destination_type == "kinesis-data-firehose":
        # VPC User Guide, "IAM roles for cross account delivery": the source account role is
        # passed to the log delivery service for the monitored resource (the guide's example
        # conditions PassRole on both keys). Not verified on real AWS: the value AWS sends for
        # iam:AssociatedResourceArn, taken as each monitored resource's ARN.
        requests.extend(
            (
                "iam:PassRole",
                str(role_arn),
                {"iam:PassedToService": LOG_DELIVERY_SERVICE, "iam:AssociatedResourceArn": arn},
            )
            for _, arn in sources
        )
    elif role_arn:
        # VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs": the caller
        # must be allowed iam:PassRole on the delivery role.
        requests.append(("iam:PassRole", str(role_arn), {"iam:PassedToService": FLOW_LOGS_SERVICE}))
    if destination_type in LOG_DELIVERY_DESTINATIONS:
        # logs:CreateLogDelivery has no resource-level permissions.
        requests.append(("logs:CreateLogDelivery", "*", {}))
    return requests


def _ec2_delete_flow_logs(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    requests: list[_Authorization] = []
    for flow_log_id in call.parameters.get("FlowLogIds", []):
        flow_log = state.flow_log(flow_log_id)
        tags = flow_log.tags if flow_log else {}
        requests.append(
            (
                "ec2:DeleteFlowLogs",
                _arn(call, "ec2", f"vpc-flow-log/{flow_log_id}"),
                _resource_tags(tags, "aws", "ec2"),
            )
        )
        if flow_log is not None and flow_log.destination_type in LOG_DELIVERY_DESTINATIONS:
            requests.append(("logs:DeleteLogDelivery", "*", {}))
    return requests


_EC2_ID_PREFIXES: Final = {
    "vpc-": "vpc",
    "fl-": "vpc-flow-log",
    "subnet-": "subnet",
    "eni-": "network-interface",
}


def _ec2_create_tags(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    """Tags on existing resources: no ``ec2:CreateAction`` (that is for tag on create only)."""
    tags = _tag_list(call.parameters.get("Tags"))
    requests: list[_Authorization] = []
    for resource_id in call.parameters.get("Resources", []):
        prefix = next((p for p in _EC2_ID_PREFIXES if str(resource_id).startswith(p)), None)
        if prefix is None:
            raise UnknownOperationError(f"ec2:CreateTags on {resource_id}: unknown resource type")
        arn = _arn(call, "ec2", f"{_EC2_ID_PREFIXES[prefix]}/{resource_id}")
        context = {
            **_resource_tags(state.ec2_tags(resource_id), "aws", "ec2"),
            **_request_tags(tags),
        }
        requests.append(("ec2:CreateTags", arn, context))
    return requests


# IAM ---------------------------------------------------------------------------------------


def _role_arn(call: ApiCall, state: ResourceState, name: str, path: str | None = None) -> str:
    path = path if path is not None else state.role_path(name)
    return _arn(call, "iam", f"role{path}{name}", regional=False)


def _iam_create_role(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    parameters = call.parameters
    name = str(parameters["RoleName"])
    arn = _role_arn(call, state, name, str(parameters.get("Path", "/")))
    tags = _tag_list(parameters.get("Tags"))
    context = _request_tags(tags)
    boundary = parameters.get("PermissionsBoundary")
    if boundary:
        context["iam:PermissionsBoundary"] = str(boundary)
    requests: list[_Authorization] = [("iam:CreateRole", arn, context)]
    if tags:
        # IAM User Guide, "Permissions required to tag IAM entities": creating a role with
        # tags needs iam:TagRole too.
        requests.append(("iam:TagRole", arn, _request_tags(tags)))
    return requests


def _iam_role_action(action: str, *, boundary_key: bool = True) -> _Mapper:
    """An action on an existing role named by ``RoleName``.

    ``iam:PermissionsBoundary`` is the role's current boundary, or the one the request sets
    (PutRolePermissionsBoundary), for actions whose reference lists that key.
    """

    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        name = str(call.parameters["RoleName"])
        context: dict[str, str | list[str]] = _resource_tags(state.role_tags(name), "aws", "iam")
        if "Tags" in call.parameters:
            context.update(_request_tags(_tag_list(call.parameters["Tags"])))
        boundary = call.parameters.get("PermissionsBoundary") or state.role_boundary(name)
        if boundary_key and boundary:
            context["iam:PermissionsBoundary"] = str(boundary)
        return [(action, _role_arn(call, state, name), context)]

    return mapper


# CloudWatch Logs ---------------------------------------------------------------------------


def _log_group_arn(call: ApiCall, name: str) -> str:
    return _arn(call, "logs", f"log-group:{name}")


def _logs_create_log_group(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    arn = _log_group_arn(call, str(call.parameters["logGroupName"]))
    tags = {str(k): str(v) for k, v in (call.parameters.get("tags") or {}).items()}
    requests: list[_Authorization] = [("logs:CreateLogGroup", arn, _request_tags(tags))]
    if tags:
        # AWS refuses it otherwise: "not authorized to perform CreateLogGroup with Tags. An
        # additional permission "logs:TagResource" is required" (seen in
        # DataDog/cloudformation-template#61).
        requests.append(("logs:TagResource", arn, _request_tags(tags)))
    return requests


def _logs_group_action(action: str) -> _Mapper:
    """An action on the log group named by ``logGroupName``."""

    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        arn = _log_group_arn(call, str(call.parameters["logGroupName"]))
        return [(action, arn, _resource_tags(state.log_group_tags(arn), "aws"))]

    return mapper


def _logs_resource_action(action: str) -> _Mapper:
    """An action on the resource named by ``resourceArn`` (TagResource, ListTagsForResource)."""

    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        arn = str(call.parameters["resourceArn"]).removesuffix(":*")
        context = _resource_tags(state.log_group_tags(arn), "aws")
        context.update(_request_tags(call.parameters.get("tags") or {}))
        return [(action, arn, context)]

    return mapper


def _logs_stream_action(action: str) -> _Mapper:
    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        group = str(call.parameters["logGroupName"])
        stream = str(call.parameters["logStreamName"])
        return [(action, _arn(call, "logs", f"log-group:{group}:log-stream:{stream}"), {})]

    return mapper


# Which action lets the caller see each type of account policy (DescribeAccountPolicies, API
# Reference: "To see subscription filter policies, you must have the
# logs:DescribeSubscriptionFilters and logs:DescribeAccountPolicies permissions").
_ACCOUNT_POLICY_READERS: Final = {"SUBSCRIPTION_FILTER_POLICY": "logs:DescribeSubscriptionFilters"}


def _logs_describe_account_policies(call: ApiCall, state: ResourceState) -> list[_Authorization]:
    """DescribeAccountPolicies has no resource type; the second permission is one AWS does not
    say the resource of: taken as every log group of the account and Region, as the rule's role
    grants it (docs/organization.md, "Not verified on real AWS")."""
    policy_type = str(call.parameters.get("policyType", ""))
    if policy_type not in _ACCOUNT_POLICY_READERS:
        raise UnknownOperationError(f"logs:DescribeAccountPolicies for policyType {policy_type!r}")
    return [
        ("logs:DescribeAccountPolicies", "*", {}),
        (_ACCOUNT_POLICY_READERS[policy_type], _log_group_arn(call, "*"), {}),
    ]


# AWS Config --------------------------------------------------------------------------------


def _config_rule_action(action: str) -> _Mapper:
    def mapper(call: ApiCall, state: ResourceState) -> list[_Authorization]:
        name = str(call.parameters["ConfigRuleName"])
        arn = state.config_rule_arn(name)
        if arn is None:  # AWS authorizes before it finds the rule is missing
            arn = _arn(call, "config", f"config-rule/{name}")
        return [(action, arn, {})]

    return mapper


_OPERATIONS: Final[Mapping[tuple[str, str], _Mapper]] = {
    ("ec2", "DescribeVpcs"): _no_resource("ec2:DescribeVpcs"),
    ("ec2", "DescribeFlowLogs"): _no_resource("ec2:DescribeFlowLogs"),
    ("ec2", "CreateFlowLogs"): _ec2_create_flow_logs,
    ("ec2", "DeleteFlowLogs"): _ec2_delete_flow_logs,
    ("ec2", "CreateTags"): _ec2_create_tags,
    ("iam", "CreateRole"): _iam_create_role,
    ("iam", "GetRole"): _iam_role_action("iam:GetRole"),
    ("iam", "GetRolePolicy"): _iam_role_action("iam:GetRolePolicy", boundary_key=False),
    ("iam", "PutRolePolicy"): _iam_role_action("iam:PutRolePolicy"),
    ("iam", "DeleteRolePolicy"): _iam_role_action("iam:DeleteRolePolicy"),
    ("iam", "UpdateAssumeRolePolicy"): _iam_role_action("iam:UpdateAssumeRolePolicy"),
    ("iam", "TagRole"): _iam_role_action("iam:TagRole", boundary_key=False),
    ("iam", "PutRolePermissionsBoundary"): _iam_role_action("iam:PutRolePermissionsBoundary"),
    ("logs", "DescribeLogGroups"): _no_resource("logs:DescribeLogGroups"),
    ("logs", "CreateLogGroup"): _logs_create_log_group,
    ("logs", "PutRetentionPolicy"): _logs_group_action("logs:PutRetentionPolicy"),
    ("logs", "AssociateKmsKey"): _logs_group_action("logs:AssociateKmsKey"),
    ("logs", "ListTagsForResource"): _logs_resource_action("logs:ListTagsForResource"),
    ("logs", "TagResource"): _logs_resource_action("logs:TagResource"),
    ("logs", "CreateLogStream"): _logs_stream_action("logs:CreateLogStream"),
    ("logs", "PutLogEvents"): _logs_stream_action("logs:PutLogEvents"),
    ("logs", "DescribeAccountPolicies"): _logs_describe_account_policies,
    ("config", "PutEvaluations"): _no_resource("config:PutEvaluations"),
    ("config", "GetResourceConfigHistory"): _no_resource("config:GetResourceConfigHistory"),
    ("config", "GetComplianceDetailsByConfigRule"): _config_rule_action(
        "config:GetComplianceDetailsByConfigRule"
    ),
    ("sts", "GetCallerIdentity"): _nothing,
}
KNOWN_OPERATIONS: Final = frozenset(_OPERATIONS)
