"""The embedded AWS records every request, and maps a role's calls with the state before them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from local_aws.server import EmbeddedAws
from tests.unit.local_aws.roles import allow, assumed_role, service_trust

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local_aws.clients import Aws
    from local_aws.request_log import RecordedRequest

SSM = "ssm.amazonaws.com"
BOUNDARY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
OURS: Any = [{"Key": "ManagedBy", "Value": "vpc-flow-logs-guard"}]


@pytest.fixture(scope="module")
def embedded() -> Iterator[tuple[EmbeddedAws, Aws, str]]:
    """An embedded AWS, a role allowed everything (moto), and its clients."""
    with EmbeddedAws() as aws:
        arn, credentials = assumed_role(aws, "runner", SSM, allow("*"))
        aws.admin.iam().create_role(
            RoleName="bounded",
            AssumeRolePolicyDocument=json.dumps(service_trust(SSM)),
            PermissionsBoundary=BOUNDARY,
            Tags=OURS,
        )
        yield aws, aws.admin.as_identity(credentials), arn


def last(aws: EmbeddedAws, operation: str) -> RecordedRequest:
    return [item for item in aws.requests.items() if item.call.operation == operation][-1]


def test_a_roles_call_is_recorded_with_its_parameters_and_iam_requests(
    embedded: tuple[EmbeddedAws, Aws, str],
) -> None:
    aws, role, role_arn = embedded
    vpc_id = aws.admin.ec2().create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

    role.ec2().create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogGroupName=f"/aws/vpc-flow-logs/{vpc_id}",
        DeliverLogsPermissionArn=role_arn,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": OURS}],
    )

    item = last(aws, "CreateFlowLogs")
    assert item.by_role
    assert item.status == 200
    assert item.call.principal_arn == role_arn
    assert (item.call.service, item.call.region) == ("ec2", "us-east-1")
    assert item.call.parameters["ResourceIds"] == [vpc_id]
    assert item.call.parameters["TagSpecifications"] == [
        {"ResourceType": "vpc-flow-log", "Tags": OURS}
    ]
    assert [request.action for request in item.iam_requests] == [
        "ec2:CreateFlowLogs",
        "ec2:CreateFlowLogs",
        "ec2:CreateTags",
        "iam:PassRole",
    ]
    assert item.iam_requests[0].resource.endswith(f":vpc/{vpc_id}")


def test_the_admins_calls_are_recorded_but_not_mapped(
    embedded: tuple[EmbeddedAws, Aws, str],
) -> None:
    aws, _, _ = embedded
    aws.admin.ec2().describe_vpcs()

    item = last(aws, "DescribeVpcs")
    assert not item.by_role
    assert item.call.principal_arn.endswith(":user/local-aws-admin")
    assert item.iam_requests == ()


def test_tags_are_read_before_the_call_runs(embedded: tuple[EmbeddedAws, Aws, str]) -> None:
    # Given a tagged flow log
    aws, role, role_arn = embedded
    vpc_id = aws.admin.ec2().create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    (flow_log_id,) = aws.admin.ec2().create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogGroupName="/aws/vpc-flow-logs/probe",
        DeliverLogsPermissionArn=role_arn,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": OURS}],
    )["FlowLogIds"]

    # When the role deletes it
    role.ec2().delete_flow_logs(FlowLogIds=[flow_log_id])

    # Then the request carried the tags it had, though it is gone now
    (request,) = last(aws, "DeleteFlowLogs").iam_requests
    assert request.context["aws:ResourceTag/ManagedBy"] == "vpc-flow-logs-guard"
    assert aws.admin.ec2().describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"] == []


def test_a_roles_boundary_and_tags_come_from_iam(embedded: tuple[EmbeddedAws, Aws, str]) -> None:
    aws, role, _ = embedded
    role.iam().get_role(RoleName="bounded")

    (request,) = last(aws, "GetRole").iam_requests
    assert request.resource == "arn:aws:iam::123456789012:role/bounded"
    assert request.context["iam:PermissionsBoundary"] == BOUNDARY
    assert request.context["aws:ResourceTag/ManagedBy"] == "vpc-flow-logs-guard"


def test_an_operation_the_table_does_not_know_is_recorded_as_an_error_not_dropped(
    embedded: tuple[EmbeddedAws, Aws, str],
) -> None:
    aws, role, _ = embedded
    role.ec2().describe_subnets()

    item = last(aws, "DescribeSubnets")
    assert item.by_role
    assert item.iam_requests == ()
    assert item.error is not None
    assert "ec2:DescribeSubnets" in item.error


def test_a_refused_call_is_recorded_with_its_status() -> None:
    with EmbeddedAws() as aws:
        _, credentials = assumed_role(aws, "nothing", SSM)
        role = aws.admin.as_identity(credentials)
        aws.enforce_iam()

        with pytest.raises(ClientError):
            role.ec2().describe_vpcs()

        item = last(aws, "DescribeVpcs")
        assert item.by_role
        assert item.status == 403
        assert [request.action for request in item.iam_requests] == ["ec2:DescribeVpcs"]
