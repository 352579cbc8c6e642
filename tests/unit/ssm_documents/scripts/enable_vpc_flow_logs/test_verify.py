"""Verify: the flow log read back; a failed delivery reported, a late listing awaited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from enable_vpc_flow_logs.common import RemediationError
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    Calls,
    inject,
    read_back,
    remediate,
    response,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client


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
    inject(session, "ec2.DescribeFlowLogs", [response(200, failed)], when=read_back)

    # When the runbook runs, then it fails naming the destination and EC2's message
    with pytest.raises(RemediationError, match=r"cannot deliver to log group .*: Access error"):
        remediate(session, vpc_id)


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
    # Given EC2 never lists the new flow log
    inject(session, "ec2.DescribeFlowLogs", [response(200, {"FlowLogs": []})] * 20, when=read_back)

    # When the runbook runs, then it gives up after a minute of growing waits, saying so
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, sleeps=sleeps)

    assert sleeps == [2.0, 4.0, 8.0, 16.0, 30.0]
    reads = calls.names.count("ec2:DescribeFlowLogs") - 1
    assert reads == 6
    assert f"DescribeFlowLogs did not list it in {reads} reads over 60s" in str(raised.value)
