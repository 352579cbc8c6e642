"""Step ``CheckInput``: everything that must hold before the runbook writes anything.

Validates every parameter once (``parse_request``), checks that the VPC exists in this account
and region, and plans its flow logs: which one already satisfies the request, which of ours
will be replaced, and whether a flow log the runbook did not create stands in the way (then
the run stops here, naming it). Outputs the validated request and the plan as JSON for the
later steps, and the destination type for the ``ChooseDestination`` branch (only
``cloud-watch-logs`` goes through ``DeliveryRole`` and ``LogGroup``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypedDict

import boto3
from botocore.exceptions import ClientError

from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    RETRY_CONFIG,
    S3,
    RemediationError,
    aws_error,
    destination_text,
)
from enable_vpc_flow_logs.flow_log_plan import decision, describe_vpc_flow_logs, plan_flow_log
from enable_vpc_flow_logs.request import parse_request

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from enable_vpc_flow_logs.request import Request


class RunbookInput(TypedDict):
    """``CheckInput``'s InputPayload: the document's parameters and the automation globals."""

    VpcId: str
    TrafficType: str
    LogGroupName: str
    RetentionInDays: int | str
    KmsKeyArn: str
    DeliveryRoleName: str
    DeliveryRoleBoundaryArn: str
    MaxAggregationInterval: int | str
    LogFormat: str
    DestinationType: str
    S3BucketArn: str
    S3FileFormat: str
    S3HiveCompatiblePartitions: str
    S3PerHourPartition: str
    FirehoseArn: str
    DeliverLogsPermissionArn: str
    DeliverCrossAccountRole: str
    AccountId: str
    Region: str
    Partition: str


class CheckInputOutput(TypedDict):
    """The step's Payload: every field is one of its outputs, of type String.

    The later steps get ``Request`` and ``FlowLogPlan`` in their InputPayload, "a JSON or YAML
    object that will be passed to the first parameter of the handler" (SSM user guide,
    "aws:executeScript - Run a script"): as the JSON text of a String output, which each step
    loads, rather than a StringMap, whose values SSM documents only as strings.
    """

    Request: str
    """The validated request (``request.Request``) as JSON."""
    FlowLogPlan: str
    """What to keep and replace (``flow_log_plan.FlowLogDecision``) as JSON."""
    DestinationType: str


def run(events: RunbookInput, session: boto3.session.Session) -> CheckInputOutput:
    """Check the input and the VPC with clients from ``session``."""
    request = parse_request(events)
    ec2 = session.client("ec2", region_name=request["Region"], config=RETRY_CONFIG)
    check_vpc(ec2, request)
    plan = plan_flow_log(describe_vpc_flow_logs(ec2, request["VpcId"]), request)
    if plan.satisfying is None and plan.conflicts:
        where = {CLOUD_WATCH_LOGS: "LogGroupName", S3: "S3BucketArn prefix"}.get(
            request["DestinationType"], "FirehoseArn"
        )
        raise RemediationError(
            f"VPC {request['VpcId']} already has a flow log to {destination_text(request)} that "
            f"does not satisfy the request and that this runbook did not create: "
            f"{', '.join(plan.conflicts)}. Delete or fix it, or choose another {where}."
        )
    return {
        "Request": json.dumps(request),
        "FlowLogPlan": json.dumps(decision(plan)),
        "DestinationType": request["DestinationType"],
    }


def check_vpc(ec2: EC2Client, request: Request) -> None:
    """Fail if the VPC does not exist in this account and region."""
    vpc_id = request["VpcId"]
    missing = (
        f"VPC {vpc_id} does not exist in account {request['AccountId']} region {request['Region']}"
    )
    try:
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except ClientError as error:
        code, message = aws_error(error)
        if code in {"InvalidVpcID.NotFound", "InvalidVpcID.Malformed"}:
            raise RemediationError(f"{missing}: {message}") from error
        raise RemediationError(f"describing VPC {vpc_id} failed: {code}: {message}") from error
    if not vpcs:
        raise RemediationError(missing)


def handler(events: RunbookInput, context: object) -> CheckInputOutput:
    """``aws:executeScript`` entry point."""
    return run(events, boto3.session.Session())
