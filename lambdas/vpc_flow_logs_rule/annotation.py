"""The words AWS Config shows next to an evaluation: what is wrong, in at most 256 characters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MAX_LENGTH: Final = 256  # PutEvaluations rejects longer annotations
ELLIPSIS: Final = "..."  # ASCII, so characters and bytes agree
_SEPARATOR: Final = "; "


def truncate(text: str, limit: int = MAX_LENGTH) -> str:
    """``text`` with whitespace collapsed, cut at a word boundary with an ellipsis if too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text.rfind(" ", 0, room + 1)
    # A first word longer than the whole annotation cannot be kept whole; anything else can.
    head = text[:room] if cut <= 0 else text[:cut]
    return head.rstrip(" ,;:") + ELLIPSIS


def _traffic(missing: Iterable[str]) -> str:
    return "ALL" if set(missing) == {"ACCEPT", "REJECT"} else " and ".join(sorted(missing))


def non_compliant(missing: Iterable[str], details: Sequence[str]) -> str:
    """``no flow log covers REJECT traffic; flow log fl-1 delivery FAILED: Access error``."""
    return truncate(_SEPARATOR.join([f"no flow log covers {_traffic(missing)} traffic", *details]))


def compliant(traffic_type: str, flow_log_ids: Sequence[str]) -> str:
    noun = "flow log" if len(flow_log_ids) == 1 else "flow logs"
    return truncate(f"{traffic_type} traffic is covered by {noun} {', '.join(flow_log_ids)}")


def not_active(flow_log_id: str, status: str) -> str:
    return f"flow log {flow_log_id} is {status}, not ACTIVE"


def delivery_failed(flow_log_id: str, message: str | None) -> str:
    text = f"flow log {flow_log_id} delivery FAILED"
    return f"{text}: {message}" if message else text


def destination_not_allowed(flow_log_id: str, destination_type: str, allowed: Iterable[str]) -> str:
    return (
        f"flow log {flow_log_id} delivers to {destination_type}, which is not an allowed "
        f"destination type ({', '.join(sorted(allowed))})"
    )


def wrong_bucket(flow_log_id: str, destination: str | None, required: str) -> str:
    return (
        f"flow log {flow_log_id} delivers to {destination or 'an unnamed S3 destination'}, "
        f"not to the required bucket {required}"
    )


def wrong_stream(flow_log_id: str, destination: str | None, required: str) -> str:
    return (
        f"flow log {flow_log_id} delivers to {destination or 'an unnamed Firehose stream'}, "
        f"not to the required stream {required}"
    )


def long_aggregation_interval(flow_log_id: str, seconds: int, maximum: int) -> str:
    return (
        f"flow log {flow_log_id} aggregates over {seconds}s, longer than "
        f"MaxAggregationInterval {maximum}s"
    )


def missing_log_fields(flow_log_id: str, missing: Sequence[str]) -> str:
    return f"flow log {flow_log_id} log format lacks {' '.join(missing)} (LogFormat)"


def wrong_destination_option(
    flow_log_id: str, option: str, actual: object, required: object
) -> str:
    return f"flow log {flow_log_id} has {option} {_text(actual)}, not {_text(required)}"


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def log_group_outside_prefix(flow_log_id: str, name: str, prefix: str) -> str:
    return (
        f"flow log {flow_log_id} delivers to log group {name}, not under LogGroupNamePrefix "
        f"{prefix}"
    )


def no_log_group(flow_log_id: str) -> str:
    return f"flow log {flow_log_id} names no log group"


def log_group_elsewhere(flow_log_id: str, name: str, account_id: str, region: str) -> str:
    return (
        f"flow log {flow_log_id} delivers to log group {name} in account {account_id} "
        f"region {region}, not this account and region"
    )


def log_group_missing(flow_log_id: str, name: str) -> str:
    return f"flow log {flow_log_id} delivers to log group {name}, which does not exist"


def short_retention(flow_log_id: str, name: str, days: int, minimum: int) -> str:
    return (
        f"flow log {flow_log_id} delivers to log group {name} whose retention is {days} days "
        f"(minimum {minimum})"
    )


def not_forwarded(flow_log_id: str, name: str, destination_arn: str) -> str:
    """Names the destination by name and account: its whole ARN would not fit in 256 characters
    beside a log group and a flow log (the rule's parameter has the ARN)."""
    # arn:<partition>:logs:<region>:<account>:destination:<name> (validated as a parameter)
    parts = destination_arn.split(":", 6)
    where = f"destination {parts[6]} ({parts[4]})" if len(parts) == 7 else destination_arn
    return (
        f"flow log {flow_log_id} delivers to log group {name}, which no account subscription "
        f"filter policy forwards to {where}"
    )


def covers_only(flow_log_id: str, traffic_type: str) -> str:
    return f"flow log {flow_log_id} covers {traffic_type} traffic only"


def exempt_by_id() -> str:
    return "VPC is exempt: listed in ExemptVpcIds"


def exempt_by_tag(tag: str) -> str:
    return truncate(f"VPC is exempt: it has the tag {tag} (ExemptTag)")


def deleted(status: str) -> str:
    return f"VPC was deleted ({status})"


def not_recorded() -> str:
    return "AWS Config does not record this VPC (ResourceNotRecorded)"


def left_scope() -> str:
    return "VPC is no longer in the rule's scope"


def vpc_gone() -> str:
    return "VPC no longer exists"


def not_a_vpc(resource_type: str) -> str:
    return truncate(f"{resource_type} is not a VPC; the rule evaluates AWS::EC2::VPC only")
