"""The rule's input parameters: parsed and validated up front, in one place.

AWS Config hands them over as a JSON object of strings (``ruleParameters``). An unknown name or an
invalid value raises :class:`ParameterError`, whose message names the parameter, the value and what
is allowed; the invocation then fails without reporting anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from vpc_flow_logs_rule.model import (
    CLOUD_WATCH_LOGS,
    DEFAULT_AGGREGATION_INTERVAL,
    KINESIS_DATA_FIREHOSE,
    S3,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

TRAFFIC_TYPES: Final = ("ACCEPT", "REJECT", "ALL")
DESTINATION_TYPES: Final = ("cloud-watch-logs", "s3", "kinesis-data-firehose")
_VPC_ID = re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# A bucket ARN, optionally with a key prefix: what CreateFlowLogs takes as an S3 LogDestination.
_S3_DESTINATION = re.compile(
    r"arn:aws(?:-[a-z]+)*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/[A-Za-z0-9_.-]+)*/?"
)
AGGREGATION_INTERVALS: Final = (60, 600)
S3_FILE_FORMATS: Final = ("plain-text", "parquet")
_LOG_FORMAT = re.compile(r"\$\{[a-z0-9-]+\}(?: \$\{[a-z0-9-]+\})*")
_LOG_FIELD = re.compile(r"\$\{[a-z0-9-]+\}")
_LOG_GROUP_PREFIX = re.compile(r"[A-Za-z0-9._/#-]{1,512}")  # CloudWatch Logs' name characters
# PutDestination: a name of 1-512 characters without ':' or '*'.
_LOGS_DESTINATION = re.compile(
    r"arn:aws(?:-[a-z]+)*:logs:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:destination:[^:*]{1,512}"
)
# A Firehose stream (CreateDeliveryStream: a name of 1-64 letters, digits, '_', '.', '-').
_FIREHOSE_STREAM = re.compile(
    r"arn:aws(?:-[a-z]+)*:firehose:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:deliverystream/"
    r"[A-Za-z0-9_.-]{1,64}"
)
_MAX_TAG_KEY_LENGTH = 128
_MAX_TAG_VALUE_LENGTH = 256


class ParameterError(ValueError):
    """A rule parameter that cannot be used as given."""


@dataclass(frozen=True)
class ExemptTag:
    key: str
    value: str | None  # None: any value

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


@dataclass(frozen=True)
class RuleParameters:
    traffic_type: str = "REJECT"
    min_retention_days: int = 365
    allowed_destination_types: frozenset[str] = frozenset(DESTINATION_TYPES)
    require_delivery_success: bool = True
    exempt_vpc_ids: frozenset[str] = frozenset()
    exempt_tag: ExemptTag | None = None
    s3_bucket_arn: str | None = None
    """When set, an S3 flow log counts only if it delivers to this bucket ARN (or under it)."""
    log_group_name_prefix: str | None = None
    """When set, a CloudWatch Logs flow log counts only if its log group's name starts with it."""
    log_fields: tuple[str, ...] = ()
    """``${field}`` tokens every flow log's format must contain (in any order, among others)."""
    max_aggregation_interval: int = DEFAULT_AGGREGATION_INTERVAL
    """Seconds; a flow log aggregating over a longer interval does not count."""
    s3_file_format: str | None = None
    """When set, an S3 flow log counts only with this FileFormat; None: any."""
    s3_hive_compatible_partitions: bool | None = None
    s3_per_hour_partition: bool | None = None
    central_log_destination_arn: str | None = None
    """When set, a CloudWatch Logs flow log counts only if its log group forwards here."""
    firehose_arn: str | None = None
    """When set, a Firehose flow log counts only if it delivers to this stream."""


def _invalid(name: str, value: str, allowed: str) -> ParameterError:
    return ParameterError(f"Invalid value for rule parameter {name}: {value!r}. Allowed: {allowed}")


def _traffic_type(value: str) -> str:
    if value.upper() not in TRAFFIC_TYPES:
        raise _invalid("TrafficType", value, f"one of {', '.join(TRAFFIC_TYPES)}")
    return value.upper()


def _min_retention_days(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise _invalid(
            "MinRetentionDays", value, "a whole number of days, 0 or more (0 turns the check off)"
        )
    return int(value)


def _destination_types(value: str) -> frozenset[str]:
    allowed = f"a comma-separated list of {', '.join(DESTINATION_TYPES)}"
    items = [item.strip().lower() for item in value.split(",") if item.strip()]
    if not items or any(item not in DESTINATION_TYPES for item in items):
        raise _invalid("AllowedDestinationTypes", value, allowed)
    return frozenset(items)


def _boolean(value: str, name: str = "RequireDeliverySuccess") -> bool:
    if value.lower() not in ("true", "false"):
        raise _invalid(name, value, "true or false")
    return value.lower() == "true"


def _vpc_ids(value: str) -> frozenset[str]:
    items = [item.strip().lower() for item in value.split(",") if item.strip()]
    if any(_VPC_ID.fullmatch(item) is None for item in items):
        raise _invalid(
            "ExemptVpcIds", value, "a comma-separated list of VPC ids such as vpc-0123456789abcdef0"
        )
    return frozenset(items)


def _exempt_tag(value: str) -> ExemptTag:
    """``key`` or ``key=value``, split at the first ``=`` (a tag value may contain ``=``)."""
    key, separator, tag_value = value.partition("=")
    key = key.strip()
    if not key or len(key) > _MAX_TAG_KEY_LENGTH or len(tag_value) > _MAX_TAG_VALUE_LENGTH:
        raise _invalid(
            "ExemptTag",
            value,
            f"a tag key (1-{_MAX_TAG_KEY_LENGTH} characters) or key=value "
            f"(value up to {_MAX_TAG_VALUE_LENGTH} characters)",
        )
    return ExemptTag(key=key, value=tag_value.strip() if separator else None)


def _matching(name: str, value: str, pattern: re.Pattern[str], allowed: str) -> str:
    if pattern.fullmatch(value) is None:
        raise _invalid(name, value, allowed)
    return value


def _s3_bucket_arn(value: str) -> str:
    allowed = (
        "an S3 bucket ARN such as arn:aws:s3:::central-flow-logs, optionally followed by a "
        "key prefix (/team-a)"
    )
    return _matching("S3BucketArn", value, _S3_DESTINATION, allowed).rstrip("/")


def _log_group_name_prefix(value: str) -> str:
    allowed = (
        "the start of a log group name (1-512 letters, digits, . _ / # -), e.g. /aws/vpc-flow-logs/"
    )
    return _matching("LogGroupNamePrefix", value, _LOG_GROUP_PREFIX, allowed)


def _central_log_destination_arn(value: str) -> str:
    allowed = (
        "a CloudWatch Logs destination ARN such as "
        "arn:aws:logs:us-east-1:111122223333:destination:central-archive"
    )
    return _matching("CentralLogDestinationArn", value, _LOGS_DESTINATION, allowed)


def _firehose_arn(value: str) -> str:
    allowed = (
        "a Firehose stream ARN such as "
        "arn:aws:firehose:us-east-1:111122223333:deliverystream/central-flow-logs"
    )
    return _matching("FirehoseArn", value, _FIREHOSE_STREAM, allowed)


def log_fields(log_format: str) -> tuple[str, ...]:
    """The ``${field}`` tokens of a flow log format, in order (``""``: none)."""
    return tuple(_LOG_FIELD.findall(log_format))


def _log_format(value: str) -> tuple[str, ...]:
    text = " ".join(value.split())
    if _LOG_FORMAT.fullmatch(text) is None:
        raise _invalid(
            "LogFormat", value, "${field} tokens separated by spaces, e.g. ${version} ${srcaddr}"
        )
    return log_fields(text)


def _aggregation_interval(value: str) -> int:
    if value not in {str(seconds) for seconds in AGGREGATION_INTERVALS}:
        raise _invalid(
            "MaxAggregationInterval", value, " or ".join(map(str, AGGREGATION_INTERVALS))
        )
    return int(value)


def _s3_file_format(value: str) -> str:
    if value.lower() not in S3_FILE_FORMATS:
        raise _invalid("S3FileFormat", value, " or ".join(S3_FILE_FORMATS))
    return value.lower()


PARAMETER_NAMES: Final = (
    "TrafficType",
    "MinRetentionDays",
    "AllowedDestinationTypes",
    "RequireDeliverySuccess",
    "ExemptVpcIds",
    "ExemptTag",
    "S3BucketArn",
    "LogGroupNamePrefix",
    "LogFormat",
    "MaxAggregationInterval",
    "S3FileFormat",
    "S3HiveCompatiblePartitions",
    "S3PerHourPartition",
    "CentralLogDestinationArn",
    "FirehoseArn",
)


def _as_text(name: str, value: object) -> str:
    """Config passes strings; a template may still carry a JSON number or boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value).strip()
    raise _invalid(name, repr(value), "a string")


def parse_parameters(raw: str | Mapping[str, object] | None) -> RuleParameters:
    """Validate ``ruleParameters`` (the JSON text, or it decoded) into :class:`RuleParameters`.

    Absent parameters and empty values take their defaults.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return RuleParameters()
    if isinstance(raw, str):
        try:
            decoded: object = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ParameterError(
                f"ruleParameters is not valid JSON ({error.msg}): {raw!r}. Allowed: a JSON object "
                f"of parameter names to strings"
            ) from None
    else:
        decoded = raw
    if not isinstance(decoded, dict):
        raise ParameterError(
            f"ruleParameters must be a JSON object, got {decoded!r}. Allowed: a JSON object of "
            "parameter names to strings"
        )

    texts: dict[str, str] = {}
    for name, value in decoded.items():
        if name not in PARAMETER_NAMES:
            raise ParameterError(
                f"Unknown rule parameter {name!r} (value {value!r}). Allowed parameters: "
                f"{', '.join(PARAMETER_NAMES)}"
            )
        texts[name] = _as_text(name, value)

    default = RuleParameters()
    traffic = texts.get("TrafficType")
    retention = texts.get("MinRetentionDays")
    destinations = texts.get("AllowedDestinationTypes")
    delivery = texts.get("RequireDeliverySuccess")
    vpc_ids = texts.get("ExemptVpcIds")
    tag = texts.get("ExemptTag")
    bucket = texts.get("S3BucketArn")
    prefix = texts.get("LogGroupNamePrefix")
    log_format = texts.get("LogFormat")
    interval = texts.get("MaxAggregationInterval")
    file_format = texts.get("S3FileFormat")
    hive = texts.get("S3HiveCompatiblePartitions")
    per_hour = texts.get("S3PerHourPartition")
    central = texts.get("CentralLogDestinationArn")
    stream = texts.get("FirehoseArn")
    parameters = RuleParameters(
        traffic_type=_traffic_type(traffic) if traffic else default.traffic_type,
        min_retention_days=(
            _min_retention_days(retention) if retention else default.min_retention_days
        ),
        allowed_destination_types=(
            _destination_types(destinations) if destinations else default.allowed_destination_types
        ),
        require_delivery_success=(
            _boolean(delivery) if delivery else default.require_delivery_success
        ),
        exempt_vpc_ids=_vpc_ids(vpc_ids) if vpc_ids else default.exempt_vpc_ids,
        exempt_tag=_exempt_tag(tag) if tag else default.exempt_tag,
        s3_bucket_arn=_s3_bucket_arn(bucket) if bucket else default.s3_bucket_arn,
        log_group_name_prefix=(
            _log_group_name_prefix(prefix) if prefix else default.log_group_name_prefix
        ),
        log_fields=_log_format(log_format) if log_format else default.log_fields,
        max_aggregation_interval=(
            _aggregation_interval(interval) if interval else default.max_aggregation_interval
        ),
        s3_file_format=_s3_file_format(file_format) if file_format else default.s3_file_format,
        s3_hive_compatible_partitions=(
            _boolean(hive, "S3HiveCompatiblePartitions")
            if hive
            else default.s3_hive_compatible_partitions
        ),
        s3_per_hour_partition=(
            _boolean(per_hour, "S3PerHourPartition") if per_hour else default.s3_per_hour_partition
        ),
        central_log_destination_arn=(_central_log_destination_arn(central) if central else None),
        firehose_arn=_firehose_arn(stream) if stream else None,
    )
    _require_destination(parameters, S3, "S3BucketArn", bucket)
    _require_destination(parameters, S3, "S3FileFormat", file_format)
    _require_destination(parameters, S3, "S3HiveCompatiblePartitions", hive)
    _require_destination(parameters, S3, "S3PerHourPartition", per_hour)
    _require_destination(parameters, CLOUD_WATCH_LOGS, "LogGroupNamePrefix", prefix)
    _require_destination(parameters, CLOUD_WATCH_LOGS, "CentralLogDestinationArn", central)
    _require_destination(parameters, KINESIS_DATA_FIREHOSE, "FirehoseArn", stream)
    return parameters


def _require_destination(
    parameters: RuleParameters, destination_type: str, name: str, value: str | None
) -> None:
    """A parameter about one destination type is only meaningful if that type is allowed."""
    if value and destination_type not in parameters.allowed_destination_types:
        raise _invalid(
            name,
            value,
            f"empty, or AllowedDestinationTypes must include {destination_type} (it is "
            f"{','.join(sorted(parameters.allowed_destination_types))})",
        )
