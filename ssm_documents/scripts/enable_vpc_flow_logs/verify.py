"""Step ``Verify``: read back the flow log the VPC ends with, created or kept.

It must be listed (EC2's Describe calls are eventually consistent, so a new flow log is read
again for up to a minute), ACTIVE, and its delivery not FAILED (a missing status is not a
failure: EC2 promises none on a new flow log). Outputs what the run leaves: the document's
outputs.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Final, TypedDict

import boto3

from enable_vpc_flow_logs.common import (
    DELIVERY_FAILED,
    RETRY_CONFIG,
    RemediationError,
    backoff_delays,
    destination_text,
    failing,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef

    from enable_vpc_flow_logs.request import Request

READ_BACK_BUDGET_SECONDS: Final = 60.0
"""How long a flow log not listed yet is read again: EC2's Describe calls are eventually
consistent (EC2 API reference, "Eventual consistency in the Amazon EC2 API")."""


class VerifyInput(TypedDict):
    """The step's InputPayload: the request, and the flow log ``FlowLog`` kept or created."""

    Request: str
    FlowLogId: str


class VerifyOutput(TypedDict):
    """The step's Payload, every field an output; the document's outputs are the first four.

    ``LogGroupName`` and ``DeliveryRoleArn`` are empty for S3; ``Destination`` is the log
    group's ARN or the S3 bucket ARN (with its prefix, if any).
    """

    FlowLogId: str
    LogGroupName: str
    DeliveryRoleArn: str
    Destination: str
    DeliverLogsStatus: str
    """As EC2 reports it, or empty when it reports none yet."""


def run(
    events: VerifyInput,
    session: boto3.session.Session,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyOutput:
    """Read the flow log back with a client from ``session``; wait with ``sleep``."""
    request: Request = json.loads(events["Request"])
    ec2 = session.client("ec2", region_name=request["Region"], config=RETRY_CONFIG)
    flow_log = verify_flow_log(ec2, request, events["FlowLogId"], sleep)
    return {
        "FlowLogId": events["FlowLogId"],
        "LogGroupName": request["LogGroupName"],
        "DeliveryRoleArn": flow_log.get("DeliverLogsPermissionArn", ""),
        "Destination": request["Destination"],
        "DeliverLogsStatus": flow_log.get("DeliverLogsStatus", ""),
    }


def verify_flow_log(
    ec2: EC2Client, request: Request, flow_log_id: str, sleep: Callable[[float], None]
) -> FlowLogTypeDef:
    """The flow log: it must exist, be ACTIVE and not have failed delivery.

    A flow log not listed yet is read again with a bounded backoff; then the step fails.
    """
    delays = backoff_delays(READ_BACK_BUDGET_SECONDS)
    attempts = 0
    while True:
        attempts += 1
        with failing(f"reading back flow log {flow_log_id}"):
            found = ec2.describe_flow_logs(FlowLogIds=[flow_log_id]).get("FlowLogs", [])
        if found or attempts > len(delays):
            break
        sleep(delays[attempts - 1])
    if not found:
        raise RemediationError(
            f"flow log {flow_log_id}: DescribeFlowLogs did not list it in {attempts} reads "
            f"over {sum(delays):.0f}s"
        )
    flow_log = found[0]
    if flow_log.get("FlowLogStatus") != "ACTIVE":
        raise RemediationError(
            f"flow log {flow_log_id} is {flow_log.get('FlowLogStatus')}, not ACTIVE"
        )
    if flow_log.get("DeliverLogsStatus") == DELIVERY_FAILED:
        raise RemediationError(
            f"flow log {flow_log_id} cannot deliver to {destination_text(request)}: "
            f"{flow_log.get('DeliverLogsErrorMessage') or 'no reason given'}"
        )
    return flow_log


def handler(events: VerifyInput, context: object) -> VerifyOutput:
    """``aws:executeScript`` entry point."""
    return run(events, boto3.session.Session())
