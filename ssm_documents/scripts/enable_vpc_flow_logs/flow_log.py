"""Step ``FlowLog``: the VPC's flow log to the destination, as ``CheckInput`` planned it.

Keeps the flow log that already satisfies the request (deleting our superseded ones), or
creates one, retrying for up to 2 minutes while a new delivery role propagates, and then
deletes ours that it replaces (first, if AWS refuses a second flow log to the same
destination). A flow log to the destination that appeared since ``CheckInput`` looked fails the
step, saying so: the next run judges it. Outputs the flow log's id and whether it was created.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Final, TypedDict

import boto3
from botocore.exceptions import ClientError

from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    DEFAULT_DESTINATION_OPTIONS,
    KINESIS_DATA_FIREHOSE,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    RETRY_CONFIG,
    S3,
    RemediationError,
    aws_error,
    backoff_delays,
    destination_text,
    failing,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mypy_boto3_ec2 import EC2Client

    from enable_vpc_flow_logs.flow_log_plan import FlowLogDecision
    from enable_vpc_flow_logs.request import Request

IAM_PROPAGATION_BUDGET_SECONDS: Final = 120.0
"""How long CreateFlowLogs is retried while a new or repaired role propagates."""
IAM_PROPAGATION_MARKERS: Final = ("unable to assume given iam role", "unable to assume iam role")


class FlowLogInput(TypedDict):
    """The step's InputPayload: ``CheckInput``'s outputs."""

    Request: str
    FlowLogPlan: str


class FlowLogOutput(TypedDict):
    """The step's Payload; all but ``Changes`` are its outputs."""

    FlowLogId: str
    Created: bool
    Changes: list[str]


def run(
    events: FlowLogInput,
    session: boto3.session.Session,
    sleep: Callable[[float], None] = time.sleep,
) -> FlowLogOutput:
    """Keep or create the flow log with a client from ``session``; wait with ``sleep``."""
    request: Request = json.loads(events["Request"])
    plan: FlowLogDecision = json.loads(events["FlowLogPlan"])
    ec2 = session.client("ec2", region_name=request["Region"], config=RETRY_CONFIG)
    changes: list[str] = []
    flow_log, created = ensure_flow_log(ec2, request, plan, changes, sleep)
    return {"FlowLogId": flow_log, "Created": created, "Changes": changes}


class _DuplicateFlowLogError(Exception):
    """CreateFlowLogs refused a flow log to a destination the VPC already logs to."""


def ensure_flow_log(
    ec2: EC2Client,
    request: Request,
    plan: FlowLogDecision,
    changes: list[str],
    sleep: Callable[[float], None],
) -> tuple[str, bool]:
    """Make the VPC's flow log to the destination satisfy the request; return (id, created)."""
    kept, replaced = plan["Keep"], plan["Replace"]
    if kept:
        _delete_flow_logs(ec2, request, replaced, f"superseded by {kept}", changes)
        return kept, False
    try:
        created = create_flow_log(ec2, request, sleep)
    except _DuplicateFlowLogError as duplicate:
        if not replaced:
            raise _appeared_since_planned(request, duplicate) from None
        # AWS refused a second flow log to the same destination: delete ours first.
        _delete_flow_logs(ec2, request, replaced, "replaced", changes)
        try:
            created = create_flow_log(ec2, request, sleep)
        except _DuplicateFlowLogError as again:
            raise _appeared_since_planned(request, again) from None
        changes.append(f"created flow log {created} for VPC {request['VpcId']}")
        return created, True
    changes.append(f"created flow log {created} for VPC {request['VpcId']}")
    _delete_flow_logs(ec2, request, replaced, f"replaced by {created}", changes)
    return created, True


def _appeared_since_planned(
    request: Request, duplicate: _DuplicateFlowLogError
) -> RemediationError:
    """A flow log to the destination appeared after ``CheckInput`` planned: another run's,
    most likely. Judging it needs ``CheckInput``'s code: the next run does (Config retries)."""
    return RemediationError(
        f"creating a flow log for VPC {request['VpcId']} to {destination_text(request)}: "
        f"FlowLogAlreadyExists: {duplicate}. A flow log to it appeared after CheckInput looked "
        "(another run's?): run again, and CheckInput keeps it if it satisfies the request."
    )


def flow_log_arguments(request: Request) -> dict[str, Any]:
    """CreateFlowLogs' arguments for the request.

    CloudWatch Logs: the log group and the delivery role. S3: the bucket, no role (S3 delivery
    needs none), the options only when not EC2's defaults. Firehose: the stream, the source
    account role (``DeliverLogsPermissionArn``, "required ... if the delivery stream and the
    resources to monitor are in different accounts": EC2 API reference, CreateFlowLogs) and
    the stream account's role (``DeliverCrossAccountRole``).
    """
    arguments: dict[str, Any] = {
        "ResourceIds": [request["VpcId"]],
        "ResourceType": "VPC",
        "TrafficType": request["TrafficType"],
        "LogDestinationType": request["DestinationType"],
        "MaxAggregationInterval": request["MaxAggregationInterval"],
        "TagSpecifications": [
            {
                "ResourceType": "vpc-flow-log",
                "Tags": [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
            }
        ],
    }
    kind = request["DestinationType"]
    if kind == CLOUD_WATCH_LOGS:
        arguments["LogGroupName"] = request["LogGroupName"]
    else:
        arguments["LogDestination"] = request["Destination"]
    if kind != S3:
        arguments["DeliverLogsPermissionArn"] = request["DeliveryRoleArn"]
    if kind == KINESIS_DATA_FIREHOSE:
        arguments["DeliverCrossAccountRole"] = request["DeliverCrossAccountRole"]
    if request["LogFormat"]:
        arguments["LogFormat"] = request["LogFormat"]
    options = request["DestinationOptions"]
    if kind == S3 and options != DEFAULT_DESTINATION_OPTIONS:
        arguments["DestinationOptions"] = options  # only when asked: EC2 knows its defaults
    return arguments


def create_flow_log(ec2: EC2Client, request: Request, sleep: Callable[[float], None]) -> str:
    """Create the flow log; retry while the delivery role propagates; return its id."""
    arguments = flow_log_arguments(request)
    vpc_id = request["VpcId"]
    delays = backoff_delays(IAM_PROPAGATION_BUDGET_SECONDS)
    attempt = 0
    while True:
        attempt += 1
        try:
            response = ec2.create_flow_logs(**arguments)
        except ClientError as error:
            code, message = aws_error(error)
        else:
            unsuccessful = response.get("Unsuccessful", [])
            created = response.get("FlowLogIds", [])
            if not unsuccessful and len(created) == 1:
                return created[0]
            if not unsuccessful:
                raise RemediationError(
                    f"creating a flow log for VPC {vpc_id}: CreateFlowLogs returned "
                    f"{len(created)} flow log ids and no error"
                )
            details = unsuccessful[0].get("Error", {})
            code, message = details.get("Code", "Unknown"), details.get("Message", "")
        if code == "FlowLogAlreadyExists":
            raise _DuplicateFlowLogError(message)
        if not is_iam_propagation_error(message):
            raise RemediationError(
                f"creating a flow log for VPC {vpc_id} to {destination_text(request)} failed: "
                f"{code}: {message}"
            )
        if attempt > len(delays):
            raise RemediationError(
                f"creating a flow log for VPC {vpc_id}: VPC Flow Logs still cannot assume role "
                f"{request['DeliveryRoleArn']} after {attempt} attempts over {sum(delays):.0f}s "
                f"(check the role's trust policy): {code}: {message}"
            )
        sleep(delays[attempt - 1])


def is_iam_propagation_error(message: str) -> bool:
    """CreateFlowLogs' answer while a new or changed delivery role has not propagated yet.

    AWS answers ``InvalidParameter: Unable to assume given IAM role: '<arn>'`` (as an error,
    or as an ``Unsuccessful`` item); the message is the reliable part.
    """
    lowered = message.lower()
    return any(marker in lowered for marker in IAM_PROPAGATION_MARKERS)


def _delete_flow_logs(
    ec2: EC2Client, request: Request, ids: Sequence[str], why: str, changes: list[str]
) -> None:
    if not ids:
        return
    vpc_id = request["VpcId"]
    with failing(f"deleting flow logs {', '.join(ids)} of VPC {vpc_id}"):
        response = ec2.delete_flow_logs(FlowLogIds=list(ids))
    failed = [
        f"{item.get('ResourceId')}: {item.get('Error', {}).get('Message')}"
        for item in response.get("Unsuccessful", [])
    ]
    if failed:
        raise RemediationError(f"deleting flow logs of VPC {vpc_id}: {failed}")
    changes.append(f"deleted flow logs {', '.join(ids)} ({why})")


def handler(events: FlowLogInput, context: object) -> FlowLogOutput:
    """``aws:executeScript`` entry point."""
    return run(events, boto3.session.Session())
