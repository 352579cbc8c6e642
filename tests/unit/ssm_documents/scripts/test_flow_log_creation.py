"""CreateFlowLogs: IAM propagation retried with a bounded back-off, other errors at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import enable_vpc_flow_logs as script
from enable_vpc_flow_logs import RemediationError
from tests.unit.ssm_documents.scripts.builders import (
    PROPAGATION,
    ROLE,
    ROLE_ARN,
    Calls,
    error,
    inject,
    remediate,
    response,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client


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
