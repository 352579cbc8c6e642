"""CheckInput: what must hold before anything is written, and the plan it hands on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from enable_vpc_flow_logs import check_input
from enable_vpc_flow_logs.common import RemediationError
from enable_vpc_flow_logs.input_checks import InvalidInputError
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    MANAGED_BY,
    REGION,
    Calls,
    Env,
    events,
    group_name,
    our_trust,
    remediate,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3

    from tests.support.accounts import World

THEIR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Theirs"


def test_invalid_input_is_refused_before_any_call(
    session: boto3.session.Session, calls: Calls
) -> None:
    with pytest.raises(InvalidInputError, match=r"TrafficType='BOTH' is not valid"):
        check_input.run(events("vpc-0123456789abcdef0", TrafficType="BOTH"), session)
    assert calls.made == []


def test_vpc_that_does_not_exist_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls
) -> None:
    with pytest.raises(
        RemediationError,
        match=rf"VPC vpc-0123456789abcdef0 does not exist in account {ACCOUNT} region {REGION}",
    ):
        remediate(session, "vpc-0123456789abcdef0")
    assert calls.names == ["ec2:DescribeVpcs"]


def test_outputs_the_request_and_the_plan_as_json(
    session: boto3.session.Session, vpc_id: str, world: World
) -> None:
    # Given our flow log to the VPC's group that no longer satisfies (REJECT, ALL asked)
    ours = world.flow_log(vpc_id, log_group=group_name(vpc_id), tags=MANAGED_BY)

    output = check_input.run(events(vpc_id, TrafficType="ALL"), session)

    assert json.loads(output["Request"])["TrafficType"] == "ALL"
    assert json.loads(output["FlowLogPlan"]) == {
        "Keep": "",
        "KeepDeliveryRoleArn": "",
        "Replace": [ours],
    }
    assert output["DestinationType"] == "cloud-watch-logs"


def test_existing_satisfying_flow_log_means_nothing_is_written(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    world = env.world

    # Given someone else's flow log of ALL traffic to the log group, with their own role
    team_role = world.role("TeamFlowLogsRole", our_trust(), boundary=BOUNDARY_ARN)
    world.log_group(group_name(vpc_id), retention_days=3653)
    existing = world.flow_log(vpc_id, "ALL", log_group=group_name(vpc_id), role=team_role)

    # When the runbook asks for REJECT
    output = remediate(session, vpc_id)

    # Then ALL covers it: CheckInput keeps it, DeliveryRole leaves our role alone (not even
    # read), and nothing is written
    assert calls.names == [
        "ec2:DescribeVpcs",
        "ec2:DescribeFlowLogs",
        "logs:DescribeLogGroups",
        "ec2:DescribeFlowLogs",
    ]
    assert output == {
        "FlowLogId": existing,
        "LogGroupName": group_name(vpc_id),
        "DeliveryRoleArn": team_role,
        "Destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "Changes": [],
    }


def test_foreign_flow_log_to_the_same_group_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given someone else's REJECT flow log to the log group the runbook would use
    foreign = world.flow_log(vpc_id, log_group=group_name(vpc_id), role=THEIR_ROLE)

    # When ALL is requested, then the runbook refuses to touch it and says why
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, TrafficType="ALL")

    message = str(raised.value)
    assert message.startswith(
        f"VPC {vpc_id} already has a flow log to log group {group_name(vpc_id)} that does not "
        f"satisfy the request and that this runbook did not create: {foreign} ("
    )
    assert "traffic type REJECT does not cover ALL" in message
    assert message.endswith("). Delete or fix it, or choose another LogGroupName.")
    assert calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"]
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [foreign]


def test_foreign_flow_log_to_another_destination_is_left_alone(
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given someone else's REJECT flow log to their own log group
    foreign = world.flow_log(vpc_id, log_group="/team/network", role=THEIR_ROLE)

    # When the runbook runs
    output = remediate(session, vpc_id)

    # Then it adds its own flow log and deletes nothing
    ids = {fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)}
    assert ids == {foreign, output["FlowLogId"]}
    assert "ec2:DeleteFlowLogs" not in calls.names
