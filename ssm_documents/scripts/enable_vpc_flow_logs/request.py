"""The runbook's input, validated once: ``parse_request`` turns it into the ``Request``.

``CheckInput`` runs it and hands the result on as JSON (its ``Request`` output); the later steps
trust that JSON and do not validate again. The document's ``allowedPattern``/``allowedValues``
already check each parameter; this checks them again (the script can be run on its own), with
the automation globals and the checks across parameters that no pattern can make.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, TypedDict

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH, is_boundary_of_account
from enable_vpc_flow_logs.common import CLOUD_WATCH_LOGS, LOG_GROUP_PREFIX, S3, RemediationError

if TYPE_CHECKING:
    from collections.abc import Mapping

DESTINATION_TYPES: Final = (CLOUD_WATCH_LOGS, S3)
TRAFFIC_TYPES: Final = ("ACCEPT", "REJECT", "ALL")
AGGREGATION_INTERVALS: Final = (60, 600)
PLAIN_TEXT: Final = "plain-text"
S3_FILE_FORMATS: Final = (PLAIN_TEXT, "parquet")
RESERVED_S3_FOLDER: Final = "AWSLogs"
"""VPC Flow Logs writes under ``[prefix/]AWSLogs/``; the prefix itself may not be ``AWSLogs``."""
RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The values CloudWatch Logs PutRetentionPolicy accepts."""


class DestinationOptions(TypedDict):
    """An S3 flow log's ``DestinationOptions`` (EC2 API reference, DestinationOptionsRequest)."""

    FileFormat: str
    HiveCompatiblePartitions: bool
    PerHourPartition: bool


class Request(TypedDict):
    """The validated request, with what follows from it worked out: ``CheckInput.Request``.

    For S3, ``LogGroupName``, ``LogGroupArn``, ``DeliveryRoleName``, ``DeliveryRoleArn`` and
    ``DeliveryRoleBoundaryArn`` are empty (S3 delivery needs no role and no log group) and
    ``Destination`` is ``S3BucketArn`` (the bucket and prefix, without a trailing ``/``); for
    CloudWatch Logs ``S3BucketArn`` is empty and ``Destination`` is ``LogGroupArn``.
    """

    VpcId: str
    TrafficType: str
    DestinationType: str
    Destination: str
    LogGroupName: str
    LogGroupArn: str
    """Without the ``:*`` suffix."""
    RetentionInDays: int
    KmsKeyArn: str
    DeliveryRoleName: str
    DeliveryRoleArn: str
    """The role's ARN as the runbook creates it (path ``/``)."""
    DeliveryRoleBoundaryArn: str
    MaxAggregationInterval: int
    LogFormat: str
    """Tokens separated by single spaces; empty for the AWS default format."""
    S3BucketArn: str
    DestinationOptions: DestinationOptions
    """EC2's defaults unless S3 and asked otherwise."""
    AccountId: str
    Region: str
    Partition: str


class InvalidInputError(RemediationError):
    """An input value is not acceptable; nothing was read or changed."""


VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
PARTITION = re.compile(r"^aws(?:-[a-z]+)*$")
LOG_GROUP_NAME = re.compile(r"^/aws/vpc-flow-logs/[A-Za-z0-9._/#-]{1,493}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
KMS_KEY_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:kms:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
LOG_FORMAT = re.compile(r"^\$\{[a-z0-9-]+\}(?: \$\{[a-z0-9-]+\})*$")
S3_DESTINATION = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    r"(?P<prefix>(?:/[A-Za-z0-9_.-]+)*)/?$"
)
"""An S3 bucket ARN, optionally followed by a key prefix (the document's allowedPattern)."""


def parse_request(events: Mapping[str, object]) -> Request:
    """Validate the payload and return the request, or raise ``InvalidInputError``."""
    vpc_id = _text(events, "VpcId")
    _require(VPC_ID.fullmatch(vpc_id), "VpcId", vpc_id, "a VPC id such as vpc-0123456789abcdef0")
    account_id = _text(events, "AccountId")
    _require(ACCOUNT_ID.fullmatch(account_id), "AccountId", account_id, "a 12-digit account id")
    region = _text(events, "Region")
    _require(REGION.fullmatch(region), "Region", region, "a region name such as eu-west-1")
    partition = _text(events, "Partition")
    _require(PARTITION.fullmatch(partition), "Partition", partition, "aws, aws-cn, aws-us-gov")
    traffic_type = _text(events, "TrafficType")
    _require(traffic_type in TRAFFIC_TYPES, "TrafficType", traffic_type, " / ".join(TRAFFIC_TYPES))
    destination_type = _text(events, "DestinationType") or CLOUD_WATCH_LOGS
    _require(
        destination_type in DESTINATION_TYPES,
        "DestinationType",
        destination_type,
        " / ".join(DESTINATION_TYPES),
    )
    to_s3 = destination_type == S3
    s3_destination = _s3_destination(events, to_s3, partition)
    log_group_name = _text(events, "LogGroupName")
    if to_s3:
        _require(
            not log_group_name, "LogGroupName", log_group_name, "empty with DestinationType s3"
        )
    else:
        log_group_name = log_group_name or f"{LOG_GROUP_PREFIX}{vpc_id}"
        _require(
            LOG_GROUP_NAME.fullmatch(log_group_name),
            "LogGroupName",
            log_group_name,
            f"empty, or a log group name under {LOG_GROUP_PREFIX} (letters, digits, . _ / # -)",
        )
    retention = _integer(events, "RetentionInDays")
    _require(
        retention in RETENTION_DAYS,
        "RetentionInDays",
        retention,
        "one of " + ", ".join(str(days) for days in RETENTION_DAYS),
    )
    kms_key_arn = _kms_key_arn(events, to_s3, region)
    role_name = _text(events, "DeliveryRoleName")
    _require(ROLE_NAME.fullmatch(role_name), "DeliveryRoleName", role_name, "an IAM role name")
    boundary_arn = _boundary_arn(events, to_s3, partition, account_id)
    interval = _integer(events, "MaxAggregationInterval")
    _require(interval in AGGREGATION_INTERVALS, "MaxAggregationInterval", interval, "60 or 600")
    log_format = " ".join(_text(events, "LogFormat").split())
    if log_format:
        _require(
            LOG_FORMAT.fullmatch(log_format),
            "LogFormat",
            log_format,
            "empty, or ${field} tokens separated by spaces",
        )
    options = _destination_options(events, to_s3)
    log_group_arn = (
        "" if to_s3 else f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"
    )
    return {
        "VpcId": vpc_id,
        "TrafficType": traffic_type,
        "DestinationType": destination_type,
        "Destination": s3_destination if to_s3 else log_group_arn,
        "LogGroupName": log_group_name,
        "LogGroupArn": log_group_arn,
        "RetentionInDays": retention,
        "KmsKeyArn": kms_key_arn,
        # S3 has no delivery role: its name and boundary do not apply
        "DeliveryRoleName": "" if to_s3 else role_name,
        "DeliveryRoleArn": "" if to_s3 else f"arn:{partition}:iam::{account_id}:role/{role_name}",
        "DeliveryRoleBoundaryArn": boundary_arn,
        "MaxAggregationInterval": interval,
        "LogFormat": log_format,
        "S3BucketArn": s3_destination,
        "DestinationOptions": options,
        "AccountId": account_id,
        "Region": region,
        "Partition": partition,
    }


def _kms_key_arn(events: Mapping[str, object], to_s3: bool, region: str) -> str:
    """The log group's key: empty, or a key ARN (not an alias) in the log group's region."""
    value = _text(events, "KmsKeyArn")
    if to_s3:
        _require(
            not value,
            "KmsKeyArn",
            value,
            "empty with DestinationType s3 (the key encrypts log groups; for S3 the bucket's "
            "own encryption applies)",
        )
    if value:
        match = KMS_KEY_ARN.fullmatch(value)
        _require(match, "KmsKeyArn", value, "empty, or a KMS key ARN (not an alias)")
        key_region = match["region"] if match else ""
        _require(
            key_region == region, "KmsKeyArn", value, f"a key in {region}, the log group's region"
        )
    return value


def _boundary_arn(
    events: Mapping[str, object], to_s3: bool, partition: str, account_id: str
) -> str:
    """The delivery role's boundary: required for CloudWatch Logs; S3 has no delivery role."""
    value = _text(events, "DeliveryRoleBoundaryArn")
    if to_s3:
        return ""
    _require(
        is_boundary_of_account(value, partition, account_id),
        "DeliveryRoleBoundaryArn",
        value,
        f"the ARN of a managed policy of account {account_id} under {BOUNDARY_PATH} (the "
        "stack's DeliveryRoleBoundaryArn output)",
    )
    return value


def _s3_destination(events: Mapping[str, object], to_s3: bool, partition: str) -> str:
    """The S3 bucket ARN (and prefix) without a trailing ``/``; empty unless DestinationType s3."""
    value = _text(events, "S3BucketArn")
    if not to_s3:
        _require(not value, "S3BucketArn", value, "empty unless DestinationType is s3")
        return ""
    match = S3_DESTINATION.fullmatch(value)
    _require(
        match,
        "S3BucketArn",
        value,
        "an S3 bucket ARN such as arn:aws:s3:::flow-logs-bucket, optionally followed by a key "
        "prefix of letters, digits, . _ - separated by /",
    )
    if match:
        _require(
            match["partition"] == partition,
            "S3BucketArn",
            value,
            f"a bucket in partition {partition}",
        )
        first_folder = match["prefix"].lstrip("/").split("/", 1)[0]
        _require(
            first_folder != RESERVED_S3_FOLDER,
            "S3BucketArn",
            value,
            f"a key prefix that does not start with {RESERVED_S3_FOLDER} (VPC Flow Logs "
            f"reserves it: objects go to <prefix>/{RESERVED_S3_FOLDER}/<account>/...)",
        )
    return value.rstrip("/")


def _destination_options(events: Mapping[str, object], to_s3: bool) -> DestinationOptions:
    """The S3 options; with CloudWatch Logs only EC2's defaults are accepted."""
    options: DestinationOptions = {
        "FileFormat": _text(events, "S3FileFormat") or PLAIN_TEXT,
        "HiveCompatiblePartitions": _flag(events, "S3HiveCompatiblePartitions"),
        "PerHourPartition": _flag(events, "S3PerHourPartition"),
    }
    file_format = options["FileFormat"]
    _require(
        file_format in S3_FILE_FORMATS, "S3FileFormat", file_format, " / ".join(S3_FILE_FORMATS)
    )
    if not to_s3:
        for name, value, default in (
            ("S3FileFormat", file_format, PLAIN_TEXT),
            ("S3HiveCompatiblePartitions", options["HiveCompatiblePartitions"], False),
            ("S3PerHourPartition", options["PerHourPartition"], False),
        ):
            _require(value == default, name, value, f"{default!r} unless DestinationType is s3")
    return options


def _text(events: Mapping[str, object], name: str) -> str:
    value = events.get(name, "")
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {value!r}")
    return value.strip()


def _integer(events: Mapping[str, object], name: str) -> int:
    value = events.get(name)
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidInputError(f"{name} must be an integer, got {value!r}")


def _flag(events: Mapping[str, object], name: str) -> bool:
    """``true`` / ``false`` as SSM passes a String parameter; empty means false."""
    value = _text(events, name).lower() or "false"
    _require(value in ("true", "false"), name, value, "true or false")
    return value == "true"


def _require(condition: object, name: str, value: object, allowed: str) -> None:
    if not condition:
        raise InvalidInputError(f"{name}={value!r} is not valid: expected {allowed}")
