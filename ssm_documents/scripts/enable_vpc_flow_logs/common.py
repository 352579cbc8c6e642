"""What every step of the runbook shares: names, the error it raises, its clients' retries.

The build embeds this module ahead of each step's own, keeping what the step uses
(``stacks/build/embedded_script.py``): what two steps or more need belongs here.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from enable_vpc_flow_logs.request import Request

MANAGED_BY_KEY: Final = "ManagedBy"
MANAGED_BY_VALUE: Final = "vpc-flow-logs-guard"
"""The tag on what the runbook creates: the delivery role, log groups and flow logs."""
LOG_GROUP_PREFIX: Final = "/aws/vpc-flow-logs/"
"""Every log group the runbook creates or touches is under it, as the automation role is."""
CLOUD_WATCH_LOGS: Final = "cloud-watch-logs"
S3: Final = "s3"
KINESIS_DATA_FIREHOSE: Final = "kinesis-data-firehose"
DEFAULT_DESTINATION_OPTIONS: Final = {
    "FileFormat": "plain-text",
    "HiveCompatiblePartitions": False,
    "PerHourPartition": False,
}
"""EC2's defaults for S3 ``DestinationOptions`` (EC2 API reference, DestinationOptionsRequest)."""
DELIVERY_FAILED: Final = "FAILED"
"""The only DeliverLogsStatus that disqualifies a flow log, as the Config rule reads it: EC2
documents SUCCESS and FAILED but promises no status on a new flow log."""

MAX_ATTEMPTS: Final = 10
"""Attempts per request, the first included. SSM's automatic throttling retry does not cover
aws:executeScript (SSM user guide, "Configuring automatic retry for throttled operations"), and
Automation runs up to 100 automations at once by default ("Allowing Automation to adapt to your
concurrency needs"): a first rollout over hundreds of VPCs meets throttling that only the SDK
absorbs. Adaptive mode also slows a client down once it is throttled."""
RETRY_CONFIG: Final = Config(
    retries={"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS},
    user_agent_extra=MANAGED_BY_VALUE,
)
"""Every client of every step is made with this configuration."""


class RemediationError(Exception):
    """The step cannot finish: the message names the resource and what is wrong."""


def aws_error(error: ClientError) -> tuple[str, str]:
    """The error code and message AWS answered with."""
    details = error.response.get("Error", {})
    return details.get("Code", "Unknown"), details.get("Message", str(error))


@contextmanager
def failing(what: str) -> Iterator[None]:
    """Turn an AWS error into a ``RemediationError`` that says what was being done."""
    try:
        yield
    except ClientError as error:
        code, message = aws_error(error)
        raise RemediationError(f"{what} failed: {code}: {message}") from error


def destination_text(request: Request) -> str:
    """The destination as a person reads it, e.g. ``log group /aws/vpc-flow-logs/x``."""
    kind = request["DestinationType"]
    if kind == CLOUD_WATCH_LOGS:
        return f"log group {request['LogGroupName']}"
    return f"{'S3' if kind == S3 else 'Firehose stream'} {request['Destination']}"


def backoff_delays(budget: float, first: float = 2.0, cap: float = 30.0) -> list[float]:
    """Exponential delays (2, 4, 8, 16, 30, 30, …) whose sum does not exceed ``budget``."""
    delays: list[float] = []
    delay = first
    while sum(delays) + delay <= budget:
        delays.append(delay)
        delay = min(delay * 2, cap)
    return delays
