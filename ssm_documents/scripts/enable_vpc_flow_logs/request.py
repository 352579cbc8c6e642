"""The runbook's input, validated once: ``parse_request`` turns it into the ``Request``.

``CheckInput`` runs it and hands the result on as JSON (its ``Request`` output); the later steps
trust that JSON and do not validate again. The document's ``allowedPattern``/``allowedValues``
already check each parameter; this checks them again (the script can be run on its own), with
the automation globals and the checks across parameters that no pattern can make. The
parameters of one destination only are checked in ``destinations``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, TypedDict

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH, is_boundary_of_account
from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    KINESIS_DATA_FIREHOSE,
    LOG_GROUP_PREFIX,
    S3,
)
from enable_vpc_flow_logs.destinations import (
    destination_options,
    firehose_delivery,
    s3_destination,
)
from enable_vpc_flow_logs.input_checks import integer, require, text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from enable_vpc_flow_logs.destinations import DestinationOptions

DESTINATION_TYPES: Final = (CLOUD_WATCH_LOGS, S3, KINESIS_DATA_FIREHOSE)
TRAFFIC_TYPES: Final = ("ACCEPT", "REJECT", "ALL")
AGGREGATION_INTERVALS: Final = (60, 600)
RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The values CloudWatch Logs PutRetentionPolicy accepts."""


class Request(TypedDict):
    """The validated request, with what follows from it worked out: ``CheckInput.Request``.

    ``Destination`` is what the flow log delivers to: ``LogGroupArn`` for CloudWatch Logs,
    ``S3BucketArn`` for S3 (the bucket and prefix, without a trailing ``/``), the stream's ARN
    (``FirehoseArn``) for Firehose. Only CloudWatch Logs has a log group, a delivery role the
    runbook manages (``DeliveryRoleName``) and its boundary: for the others those are empty.
    ``DeliveryRoleArn`` is the role the flow log delivers with: the managed role, the stack's
    source account role for Firehose (``DeliverLogsPermissionArn``), empty for S3.
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
    """CreateFlowLogs' ``DeliverLogsPermissionArn``: the delivery role's ARN as the runbook
    creates it (path ``/``), or the Firehose source account role."""
    DeliverCrossAccountRole: str
    """With Firehose, the stream account's role; empty otherwise."""
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


def parse_request(events: Mapping[str, object]) -> Request:
    """Validate the payload and return the request, or raise ``InvalidInputError``."""
    vpc_id = text(events, "VpcId")
    require(VPC_ID.fullmatch(vpc_id), "VpcId", vpc_id, "a VPC id such as vpc-0123456789abcdef0")
    account_id = text(events, "AccountId")
    require(ACCOUNT_ID.fullmatch(account_id), "AccountId", account_id, "a 12-digit account id")
    region = text(events, "Region")
    require(REGION.fullmatch(region), "Region", region, "a region name such as eu-west-1")
    partition = text(events, "Partition")
    require(PARTITION.fullmatch(partition), "Partition", partition, "aws, aws-cn, aws-us-gov")
    traffic_type = text(events, "TrafficType")
    require(traffic_type in TRAFFIC_TYPES, "TrafficType", traffic_type, " / ".join(TRAFFIC_TYPES))
    destination_type = text(events, "DestinationType") or CLOUD_WATCH_LOGS
    require(
        destination_type in DESTINATION_TYPES,
        "DestinationType",
        destination_type,
        " / ".join(DESTINATION_TYPES),
    )
    to_s3 = destination_type == S3
    to_logs = destination_type == CLOUD_WATCH_LOGS
    bucket = s3_destination(events, to_s3, partition)
    firehose = firehose_delivery(
        events, destination_type == KINESIS_DATA_FIREHOSE, partition, account_id
    )
    log_group_name = text(events, "LogGroupName")
    if not to_logs:
        require(
            not log_group_name,
            "LogGroupName",
            log_group_name,
            f"empty with DestinationType {destination_type}",
        )
    else:
        log_group_name = log_group_name or f"{LOG_GROUP_PREFIX}{vpc_id}"
        require(
            LOG_GROUP_NAME.fullmatch(log_group_name),
            "LogGroupName",
            log_group_name,
            f"empty, or a log group name under {LOG_GROUP_PREFIX} (letters, digits, . _ / # -)",
        )
    retention = integer(events, "RetentionInDays")
    require(
        retention in RETENTION_DAYS,
        "RetentionInDays",
        retention,
        "one of " + ", ".join(str(days) for days in RETENTION_DAYS),
    )
    kms_key_arn = _kms_key_arn(events, destination_type, region)
    role_name = text(events, "DeliveryRoleName")
    require(ROLE_NAME.fullmatch(role_name), "DeliveryRoleName", role_name, "an IAM role name")
    boundary_arn = _boundary_arn(events, to_logs, partition, account_id)
    interval = integer(events, "MaxAggregationInterval")
    require(interval in AGGREGATION_INTERVALS, "MaxAggregationInterval", interval, "60 or 600")
    log_format = " ".join(text(events, "LogFormat").split())
    if log_format:
        require(
            LOG_FORMAT.fullmatch(log_format),
            "LogFormat",
            log_format,
            "empty, or ${field} tokens separated by spaces",
        )
    options = destination_options(events, to_s3)
    log_group_arn = (
        f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}" if to_logs else ""
    )
    return {
        "VpcId": vpc_id,
        "TrafficType": traffic_type,
        "DestinationType": destination_type,
        "Destination": log_group_arn or bucket or firehose.stream,
        "LogGroupName": log_group_name,
        "LogGroupArn": log_group_arn,
        "RetentionInDays": retention,
        "KmsKeyArn": kms_key_arn,
        # Only CloudWatch Logs delivers with a role the runbook manages
        "DeliveryRoleName": role_name if to_logs else "",
        "DeliveryRoleArn": (
            f"arn:{partition}:iam::{account_id}:role/{role_name}"
            if to_logs
            else firehose.source_role
        ),
        "DeliverCrossAccountRole": firehose.destination_role,
        "DeliveryRoleBoundaryArn": boundary_arn,
        "MaxAggregationInterval": interval,
        "LogFormat": log_format,
        "S3BucketArn": bucket,
        "DestinationOptions": options,
        "AccountId": account_id,
        "Region": region,
        "Partition": partition,
    }


def _kms_key_arn(events: Mapping[str, object], destination_type: str, region: str) -> str:
    """The log group's key: empty, or a key ARN (not an alias) in the log group's region."""
    value = text(events, "KmsKeyArn")
    if destination_type != CLOUD_WATCH_LOGS:
        require(
            not value,
            "KmsKeyArn",
            value,
            f"empty with DestinationType {destination_type} (the key encrypts log groups, which "
            "it does not create; the destination's own encryption applies)",
        )
    if value:
        match = KMS_KEY_ARN.fullmatch(value)
        require(match, "KmsKeyArn", value, "empty, or a KMS key ARN (not an alias)")
        key_region = match["region"] if match else ""
        require(
            key_region == region, "KmsKeyArn", value, f"a key in {region}, the log group's region"
        )
    return value


def _boundary_arn(
    events: Mapping[str, object], to_logs: bool, partition: str, account_id: str
) -> str:
    """The delivery role's boundary: required for CloudWatch Logs, the only destination whose
    delivery role the runbook creates."""
    value = text(events, "DeliveryRoleBoundaryArn")
    if not to_logs:
        return ""
    require(
        is_boundary_of_account(value, partition, account_id),
        "DeliveryRoleBoundaryArn",
        value,
        f"the ARN of a managed policy of account {account_id} under {BOUNDARY_PATH} (the "
        "stack's DeliveryRoleBoundaryArn output)",
    )
    return value
