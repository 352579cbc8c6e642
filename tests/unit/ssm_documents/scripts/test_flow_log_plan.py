"""Which flow log satisfies a request, which of ours are replaced, and whose are left alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import enable_vpc_flow_logs as script
from enable_vpc_flow_logs import RemediationError
from tests.unit.ssm_documents.scripts.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    MANAGED_BY,
    OURS,
    REGION,
    Calls,
    Env,
    before,
    flow_log,
    group_name,
    our_trust,
    remediate,
    request,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client

    from tests.support.accounts import World

THEIR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Theirs"


def group_arn(vpc_id: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}"


def test_existing_satisfying_flow_log_means_nothing_is_created(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    world = env.world

    # Given someone else's flow log of ALL traffic to the log group, with their own role
    team_role = world.role("TeamFlowLogsRole", our_trust(), boundary=BOUNDARY_ARN)
    world.log_group(group_name(vpc_id), retention_days=3653)
    existing = world.flow_log(vpc_id, "ALL", log_group=group_name(vpc_id), role=team_role)

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
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given our flow log to the group whose delivery FAILED (moto fails a LogDestination
    # flow log whose group does not exist yet)
    old = world.flow_log(vpc_id, destination=group_arn(vpc_id), tags=MANAGED_BY)
    assert vpc_flow_logs(ec2, vpc_id)[0]["DeliverLogsStatus"] == "FAILED"

    # When the runbook runs
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
    ec2, world = env.ec2, env.world

    # Given an earlier run that created a new flow log but failed to delete the old one
    leftover = world.flow_log(vpc_id, destination=group_arn(vpc_id), tags=MANAGED_BY)
    kept = remediate(session, vpc_id, TrafficType="ALL")["FlowLogId"]
    world.flow_log(
        vpc_id,
        destination=f"{group_arn(vpc_id)}:*",
        role=f"arn:aws:iam::{ACCOUNT}:role/Broken",
        tags=MANAGED_BY,
    )
    calls.made.clear()

    # When the runbook runs
    output = remediate(session, vpc_id)

    # Then it deletes only the leftover and keeps the flow log that satisfies

    assert leftover not in [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)]
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == [kept]
    assert output["FlowLogId"] == kept
    assert calls.writes == ["ec2:DeleteFlowLogs"]


def test_foreign_flow_log_to_the_same_group_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given someone else's REJECT flow log to the log group the runbook would use
    foreign = world.flow_log(vpc_id, log_group=group_name(vpc_id), role=THEIR_ROLE)

    # When ALL is requested, then the runbook refuses to touch it and says why
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, TrafficType="ALL")

    assert foreign in str(raised.value)
    assert "traffic type REJECT does not cover ALL" in str(raised.value)
    assert "did not create" in str(raised.value)
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


def test_flow_log_created_by_a_concurrent_run_is_used(
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given another run creates the same flow log between our DescribeFlowLogs and our create
    theirs: list[str] = []

    def other_run() -> None:
        theirs.append(world.flow_log(vpc_id, log_group=group_name(vpc_id), tags=MANAGED_BY))

    before(session, "ec2.CreateFlowLogs", other_run)

    # When ours gets FlowLogAlreadyExists, it finds theirs and uses it
    output = remediate(session, vpc_id)

    # Then the VPC has theirs only
    assert output["FlowLogId"] == theirs[0]
    assert len(vpc_flow_logs(ec2, vpc_id)) == 1
    assert calls.names[-2:] == ["ec2:CreateFlowLogs", "ec2:DescribeFlowLogs"]


def test_concurrent_flow_log_that_does_not_satisfy_is_a_clear_error(
    session: boto3.session.Session, vpc_id: str, world: World
) -> None:
    # Given someone creates an ACCEPT flow log to the group just before ours
    def someone() -> None:
        world.flow_log(vpc_id, "ACCEPT", log_group=group_name(vpc_id), role=THEIR_ROLE)

    before(session, "ec2.CreateFlowLogs", someone)

    # When ours runs, then FlowLogAlreadyExists is not hidden: nothing there satisfies the request
    with pytest.raises(RemediationError, match="none there satisfies the request"):
        remediate(session, vpc_id)


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------


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
