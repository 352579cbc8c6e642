"""Which of a VPC's flow logs satisfies the request, which of ours to replace, whose to refuse.

Pure decisions, plus the one read they judge (``describe_vpc_flow_logs``): ``CheckInput`` plans
before anything is written, and the later steps act on its plan (``FlowLogDecision``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, NamedTuple, TypedDict

from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    DEFAULT_DESTINATION_OPTIONS,
    DELIVERY_FAILED,
    KINESIS_DATA_FIREHOSE,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    S3,
    destination_text,
    failing,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef

    from enable_vpc_flow_logs.destinations import DestinationOptions
    from enable_vpc_flow_logs.request import Request

DEFAULT_AGGREGATION_INTERVAL: Final = 600
"""What EC2 uses, and reports, when CreateFlowLogs is given no MaxAggregationInterval."""
LOG_FIELD: Final = re.compile(r"\$\{[a-z0-9-]+\}")


class FlowLogDecision(TypedDict):
    """``CheckInput``'s ``FlowLogPlan`` output (as JSON), for ``DeliveryRole`` and ``FlowLog``."""

    Keep: str
    """The flow log that already satisfies the request, or empty: one is to be created."""
    KeepDeliveryRoleArn: str
    """The role the kept flow log delivers with (empty for S3, or when none is kept): a kept
    CloudWatch Logs flow log may deliver with another role than the one ``DeliveryRole``
    manages."""
    Replace: list[str]
    """Our flow logs to the destination that do not satisfy the request (to delete)."""


class FlowLogPlan(NamedTuple):
    """What to do about the VPC's flow logs to the requested destination."""

    satisfying: FlowLogTypeDef | None
    """A flow log that already satisfies the request: nothing needs creating."""
    replaceable: tuple[FlowLogTypeDef, ...] = ()
    """Our flow logs to the same destination that do not satisfy it: replace or clean them up."""
    conflicts: tuple[str, ...] = ()
    """Foreign flow logs to the same destination that do not satisfy it (described)."""


def plan_flow_log(flow_logs: Sequence[FlowLogTypeDef], request: Request) -> FlowLogPlan:
    """Decide which existing flow log to keep and which to replace.

    Only flow logs to the requested destination matter here: flow logs to other destinations
    are left alone, whatever their state. One that satisfies the request wins (ours first);
    otherwise our non-satisfying ones get replaced and foreign ones are conflicts, because
    there must never be two flow logs for the same VPC and destination and we do not delete
    what we did not create.
    """
    same_destination = [fl for fl in flow_logs if delivers_to_destination(fl, request)]
    satisfying = [fl for fl in same_destination if not unmet_requirements(fl, request)]
    satisfying.sort(key=lambda fl: (not is_ours(fl), flow_log_id(fl)))
    keep = satisfying[0] if satisfying else None
    others = [fl for fl in same_destination if fl is not keep and fl not in satisfying]
    return FlowLogPlan(
        satisfying=keep,
        replaceable=tuple(fl for fl in others if is_ours(fl)),
        conflicts=tuple(
            f"{flow_log_id(fl)} ({'; '.join(unmet_requirements(fl, request))})"
            for fl in others
            if not is_ours(fl)
        ),
    )


def decision(plan: FlowLogPlan) -> FlowLogDecision:
    """The plan as the later steps read it: flow log ids, and the kept one's role."""
    kept = plan.satisfying
    return {
        "Keep": flow_log_id(kept) if kept else "",
        "KeepDeliveryRoleArn": kept.get("DeliverLogsPermissionArn", "") if kept else "",
        "Replace": [flow_log_id(fl) for fl in plan.replaceable],
    }


def unmet_requirements(flow_log: FlowLogTypeDef, request: Request) -> list[str]:
    """What keeps the flow log from satisfying the request; empty when it satisfies it."""
    reasons: list[str] = []
    if flow_log.get("FlowLogStatus") != "ACTIVE":
        reasons.append(f"status is {flow_log.get('FlowLogStatus')}, not ACTIVE")
    if flow_log.get("DeliverLogsStatus") == DELIVERY_FAILED:
        error = flow_log.get("DeliverLogsErrorMessage") or "no reason given"
        reasons.append(f"delivery FAILED ({error})")
    traffic = flow_log.get("TrafficType", "")
    if not covers_traffic(traffic, request["TrafficType"]):
        reasons.append(f"traffic type {traffic} does not cover {request['TrafficType']}")
    if not delivers_to_destination(flow_log, request):
        reasons.append(f"does not deliver to {destination_text(request)}")
    interval = flow_log.get("MaxAggregationInterval", DEFAULT_AGGREGATION_INTERVAL)
    wanted = request["MaxAggregationInterval"]
    if interval > wanted:
        reasons.append(f"aggregation interval {interval}s is longer than {wanted}s")
    missing = missing_log_fields(flow_log.get("LogFormat", ""), request["LogFormat"])
    if missing:
        reasons.append(f"log format differs from the requested one: lacks {' '.join(missing)}")
    if request["DestinationType"] == S3:
        reasons.extend(destination_option_differences(flow_log, request["DestinationOptions"]))
    return reasons


def covers_traffic(existing: str, requested: str) -> bool:
    """A flow log of ``ALL`` covers ``ACCEPT`` and ``REJECT``."""
    return existing in ("ALL", requested)


def delivers_to_destination(flow_log: FlowLogTypeDef, request: Request) -> bool:
    """Whether the flow log delivers to the requested destination.

    For CloudWatch Logs, the requested log group in this account and region; for S3, exactly
    the requested bucket ARN and prefix (a flow log to another prefix of the same bucket is
    another destination to AWS, and to us); for Firehose, the requested stream, however its
    ARN is spelled (``stream_key``). Which roles a Firehose flow log delivers with is not
    judged: one that delivers (not FAILED) delivers, as the Config rule counts it.
    """
    if flow_log.get("LogDestinationType", CLOUD_WATCH_LOGS) != request["DestinationType"]:
        return False
    destination = flow_log.get("LogDestination")
    if request["DestinationType"] == S3:
        return (destination or "").rstrip("/") == request["Destination"]
    if request["DestinationType"] == KINESIS_DATA_FIREHOSE:
        return stream_key(destination or "") == stream_key(request["Destination"])
    if destination:
        return destination.removesuffix(":*") == request["LogGroupArn"]
    return flow_log.get("LogGroupName") == request["LogGroupName"]


def stream_key(arn: str) -> str:
    """A Firehose stream's ARN in one spelling: EC2's API reference writes a ``LogDestination``
    as ``...:deliverystream:<name>``, the stream's own ARN is ``...:deliverystream/<name>``."""
    return arn.replace(":deliverystream:", ":deliverystream/", 1)


def is_ours(flow_log: FlowLogTypeDef) -> bool:
    """Whether this runbook created the flow log (it carries our ManagedBy tag)."""
    return any(
        tag.get("Key") == MANAGED_BY_KEY and tag.get("Value") == MANAGED_BY_VALUE
        for tag in flow_log.get("Tags", [])
    )


def missing_log_fields(existing: str, requested: str) -> list[str]:
    """The requested ``${field}`` tokens the existing format lacks.

    A format with every requested field, in any order and with others, carries what the
    request asks for: it is kept, as the Config rule counts it (its ``LogFormat`` parameter).
    """
    present = set(LOG_FIELD.findall(existing))
    return [field for field in LOG_FIELD.findall(requested) if field not in present]


def destination_option_differences(
    flow_log: FlowLogTypeDef, wanted: DestinationOptions
) -> list[str]:
    """How an S3 flow log's options differ from ``wanted``; absent ones are EC2's defaults."""
    actual = {**DEFAULT_DESTINATION_OPTIONS, **flow_log.get("DestinationOptions", {})}
    return [
        f"{name} is {actual[name]}, not {value}"
        for name, value in wanted.items()
        if actual[name] != value
    ]


def flow_log_id(flow_log: FlowLogTypeDef) -> str:
    return flow_log.get("FlowLogId", "")


def describe_vpc_flow_logs(ec2: EC2Client, vpc_id: str) -> list[FlowLogTypeDef]:
    """Every flow log attached to the VPC."""
    with failing(f"describing the flow logs of VPC {vpc_id}"):
        pages = ec2.get_paginator("describe_flow_logs").paginate(
            Filters=[{"Name": "resource-id", "Values": [vpc_id]}]
        )
        return [flow_log for page in pages for flow_log in page.get("FlowLogs", [])]
