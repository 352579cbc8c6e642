"""The parameters only one destination uses: S3's bucket and options, Firehose's stream and roles.

Each is checked against its pattern and across parameters when ``DestinationType`` is its
destination, and must be empty (or EC2's default) otherwise: a value given for another
destination is a mistake in the remediation's parameters, refused before anything is written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, NamedTuple, TypedDict

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH
from enable_vpc_flow_logs.common import KINESIS_DATA_FIREHOSE
from enable_vpc_flow_logs.input_checks import flag, require, text

if TYPE_CHECKING:
    from collections.abc import Mapping

PLAIN_TEXT: Final = "plain-text"
S3_FILE_FORMATS: Final = (PLAIN_TEXT, "parquet")
RESERVED_S3_FOLDER: Final = "AWSLogs"
"""VPC Flow Logs writes under ``[prefix/]AWSLogs/``; the prefix itself may not be ``AWSLogs``."""
S3_DESTINATION = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    r"(?P<prefix>(?:/[A-Za-z0-9_.-]+)*)/?$"
)
"""An S3 bucket ARN, optionally followed by a key prefix (the document's allowedPattern)."""
_ARN: Final = r"^arn:(?P<partition>aws(?:-[a-z]+)*):"
FIREHOSE_STREAM = re.compile(
    _ARN + r"firehose:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:(?P<account>\d{12}):"
    r"deliverystream/[A-Za-z0-9_.-]{1,64}$"
)
"""A Firehose stream (CreateDeliveryStream: a name of 1-64 letters, digits, ``_ . -``)."""
SOURCE_ROLE = re.compile(
    _ARN + r"iam::(?P<account>\d{12}):role" + re.escape(BOUNDARY_PATH) + r"[\w+=,.@-]{1,64}$"
)
"""The stack's Firehose source account role: under the project's IAM path, the one the stream
account's role trusts (with the organization)."""
CROSS_ACCOUNT_ROLE_PREFIX: Final = "AWSLogDeliveryFirehoseCrossAccountRole"
CROSS_ACCOUNT_ROLE = re.compile(
    _ARN
    + r"iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*"
    + CROSS_ACCOUNT_ROLE_PREFIX
    + r"[\w+=,.@-]*$"
)
"""The stream account's role, whose name must start with ``CROSS_ACCOUNT_ROLE_PREFIX`` (VPC User
Guide, "IAM roles for cross account delivery")."""


class DestinationOptions(TypedDict):
    """An S3 flow log's ``DestinationOptions`` (EC2 API reference, DestinationOptionsRequest)."""

    FileFormat: str
    HiveCompatiblePartitions: bool
    PerHourPartition: bool


class FirehoseDelivery(NamedTuple):
    """What CreateFlowLogs needs for another account's stream (empty for other destinations)."""

    stream: str
    """``LogDestination``: the stream's ARN."""
    source_role: str
    """``DeliverLogsPermissionArn``: this account's role, which the log delivery service
    assumes."""
    destination_role: str
    """``DeliverCrossAccountRole``: the stream account's role, which it assumes next."""


def s3_destination(events: Mapping[str, object], to_s3: bool, partition: str) -> str:
    """The S3 bucket ARN (and prefix) without a trailing ``/``; empty unless DestinationType s3."""
    value = text(events, "S3BucketArn")
    if not to_s3:
        require(not value, "S3BucketArn", value, "empty unless DestinationType is s3")
        return ""
    match = S3_DESTINATION.fullmatch(value)
    require(
        match,
        "S3BucketArn",
        value,
        "an S3 bucket ARN such as arn:aws:s3:::flow-logs-bucket, optionally followed by a key "
        "prefix of letters, digits, . _ - separated by /",
    )
    if match:
        require(
            match["partition"] == partition,
            "S3BucketArn",
            value,
            f"a bucket in partition {partition}",
        )
        first_folder = match["prefix"].lstrip("/").split("/", 1)[0]
        require(
            first_folder != RESERVED_S3_FOLDER,
            "S3BucketArn",
            value,
            f"a key prefix that does not start with {RESERVED_S3_FOLDER} (VPC Flow Logs "
            f"reserves it: objects go to <prefix>/{RESERVED_S3_FOLDER}/<account>/...)",
        )
    return value.rstrip("/")


def destination_options(events: Mapping[str, object], to_s3: bool) -> DestinationOptions:
    """The S3 options; with another destination only EC2's defaults are accepted."""
    options: DestinationOptions = {
        "FileFormat": text(events, "S3FileFormat") or PLAIN_TEXT,
        "HiveCompatiblePartitions": flag(events, "S3HiveCompatiblePartitions"),
        "PerHourPartition": flag(events, "S3PerHourPartition"),
    }
    file_format = options["FileFormat"]
    require(
        file_format in S3_FILE_FORMATS, "S3FileFormat", file_format, " / ".join(S3_FILE_FORMATS)
    )
    if not to_s3:
        for name, value, default in (
            ("S3FileFormat", file_format, PLAIN_TEXT),
            ("S3HiveCompatiblePartitions", options["HiveCompatiblePartitions"], False),
            ("S3PerHourPartition", options["PerHourPartition"], False),
        ):
            require(value == default, name, value, f"{default!r} unless DestinationType is s3")
    return options


def firehose_delivery(
    events: Mapping[str, object], to_firehose: bool, partition: str, account_id: str
) -> FirehoseDelivery:
    """The stream and both roles: required with Firehose, empty otherwise. The source role is
    this account's; the destination role is the stream's account's."""
    delivery = FirehoseDelivery(
        text(events, "FirehoseArn"),
        text(events, "DeliverLogsPermissionArn"),
        text(events, "DeliverCrossAccountRole"),
    )
    checks = (
        ("FirehoseArn", FIREHOSE_STREAM, "a stream ARN, ...:deliverystream/<name>"),
        ("DeliverLogsPermissionArn", SOURCE_ROLE, f"a role under {BOUNDARY_PATH}"),
        ("DeliverCrossAccountRole", CROSS_ACCOUNT_ROLE, f"a role {CROSS_ACCOUNT_ROLE_PREFIX}..."),
    )
    accounts = []
    for (name, pattern, allowed), value in zip(checks, delivery, strict=True):
        if not to_firehose:
            require(
                not value, name, value, f"empty unless DestinationType is {KINESIS_DATA_FIREHOSE}"
            )
            continue
        match = pattern.fullmatch(value)
        require(match and match["partition"] == partition, name, value, f"{allowed} in {partition}")
        accounts.append(match["account"] if match else "")
    if to_firehose:
        stream_account, source_account, destination_account = accounts
        require(
            source_account == account_id,
            "DeliverLogsPermissionArn",
            delivery.source_role,
            f"a role of this account, {account_id} (the stack's FirehoseSourceRoleArn output)",
        )
        require(
            destination_account == stream_account,
            "DeliverCrossAccountRole",
            delivery.destination_role,
            f"a role of the stream's account, {stream_account} (the log-archive stack's "
            "CentralFirehoseRoleArn output)",
        )
    return delivery
