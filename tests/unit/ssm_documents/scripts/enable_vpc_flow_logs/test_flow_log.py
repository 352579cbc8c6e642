"""FlowLog: the planned flow log kept, or created (IAM propagation retried with a bounded
back-off, other errors at once), and ours that it supersedes deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from enable_vpc_flow_logs.common import RemediationError, backoff_delays
from enable_vpc_flow_logs.flow_log import IAM_PROPAGATION_BUDGET_SECONDS, is_iam_propagation_error
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    MANAGED_BY,
    PROPAGATION,
    REGION,
    ROLE,
    ROLE_ARN,
    Calls,
    Env,
    before,
    error,
    group_name,
    inject,
    remediate,
    response,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client

    from tests.support.accounts import World

THEIR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Theirs"


def group_arn(vpc_id: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}"


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


def test_a_flow_log_that_appeared_since_check_input_fails_the_step_then_is_kept(
    session: boto3.session.Session, calls: Calls, vpc_id: str, world: World
) -> None:
    ec2 = world.ec2
    # Given another run creates the same flow log between CheckInput's look and our create
    theirs: list[str] = []

    def other_run() -> None:
        theirs.append(world.flow_log(vpc_id, log_group=group_name(vpc_id), tags=MANAGED_BY))

    before(session, "ec2.CreateFlowLogs", other_run)

    # When ours gets FlowLogAlreadyExists, it fails saying so, and touches nothing
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id)

    assert "FlowLogAlreadyExists" in str(raised.value)
    assert "appeared after CheckInput looked" in str(raised.value)
    assert [fl["FlowLogId"] for fl in vpc_flow_logs(ec2, vpc_id)] == theirs
    assert "ec2:DeleteFlowLogs" not in calls.names

    # And the next run (Config retries) keeps theirs: it satisfies the request
    output = remediate(session, vpc_id)
    assert output["FlowLogId"] == theirs[0]
    assert output["Changes"] == []


def test_a_flow_log_that_appeared_and_does_not_satisfy_is_refused_by_the_next_run(
    session: boto3.session.Session, vpc_id: str, world: World
) -> None:
    # Given someone creates an ACCEPT flow log to the group just before ours
    def someone() -> None:
        world.flow_log(vpc_id, "ACCEPT", log_group=group_name(vpc_id), role=THEIR_ROLE)

    before(session, "ec2.CreateFlowLogs", someone)

    # When ours runs, then FlowLogAlreadyExists is not hidden
    with pytest.raises(RemediationError, match="FlowLogAlreadyExists"):
        remediate(session, vpc_id)
    # And the next run names the flow log in the way before writing anything
    with pytest.raises(RemediationError, match="that this runbook did not create"):
        remediate(session, vpc_id)


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


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------


def test_backoff_grows_and_stays_within_two_minutes() -> None:
    delays = backoff_delays(IAM_PROPAGATION_BUDGET_SECONDS)

    assert delays == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert sum(delays) <= IAM_PROPAGATION_BUDGET_SECONDS
    assert backoff_delays(budget=10) == [2.0, 4.0]


@pytest.mark.parametrize(
    "message",
    [
        "Unable to assume given IAM role: 'arn:aws:iam::123456789012:role/x'",
        "unable to assume given iam role",
    ],
)
def test_propagation_errors_are_recognised(message: str) -> None:
    assert is_iam_propagation_error(message)


def test_other_errors_are_not_propagation() -> None:
    assert not is_iam_propagation_error("You are not authorized to perform this operation.")
    assert not is_iam_propagation_error("LogDestination: group does not exist.")
