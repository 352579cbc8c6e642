"""Give one VPC a working flow log to CloudWatch Logs or to S3, safely and repeatably.

Runs as the ``aws:executeScript`` step of the ``enable_vpc_flow_logs`` Automation document
(python3.11, standard library and boto3 only). Every step is idempotent, so a second run after
any failure finishes the job without duplicates. For CloudWatch Logs (``DestinationType``
``cloud-watch-logs``, the default):

1. delivery role: create it with its permissions boundary, or check its trust policy and
   boundary (a difference fails the run: this role may not change either) and repair its
   inline policy;
2. log group: create it, raise a shorter retention (never lower one, never add an expiry to a
   user's group that never expires, but do set one on a group this runbook created, which a run
   that failed half-way can leave without one), associate the KMS key if one is requested;
3. flow log: reuse one that already satisfies the request, otherwise create one (replacing a
   flow log of ours to the same log group that does not), retrying while IAM propagates;
4. verify: read the new flow log back, waiting up to a minute for EC2 to list it.

For S3 (``DestinationType`` ``s3``) there is no delivery role and no log group: the flow log
goes to ``S3BucketArn`` (a bucket ARN, optionally with a key prefix), steps 3 and 4 only. The
bucket, often a central one in another account, is not ours to change: its policy must already
let ``delivery.logs.amazonaws.com`` write under ``AWSLogs/``.

The module is in three parts: pure decisions (no boto3), the AWS access (clients made in one
place), and the steps that join them.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypedDict
from urllib.parse import unquote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import RoleTypeDef
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import LogGroupTypeDef

# --------------------------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------------------------

LOG_GROUP_PREFIX = "/aws/vpc-flow-logs/"
INLINE_POLICY_NAME = "VpcFlowLogsDelivery"
MANAGED_BY_KEY = "ManagedBy"
MANAGED_BY_VALUE = "vpc-flow-logs-guard"
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
BOUNDARY_PATH = "/vpc-flow-logs-guard/"
"""Every regional stack's delivery-role boundary lives under this IAM path (see the stack)."""
CLOUD_WATCH_LOGS: Final = "cloud-watch-logs"
S3: Final = "s3"
DESTINATION_TYPES = (CLOUD_WATCH_LOGS, S3)
RESERVED_S3_FOLDER = "AWSLogs"
"""VPC Flow Logs writes under ``[prefix/]AWSLogs/``; the prefix itself may not be ``AWSLogs``."""

TRAFFIC_TYPES = ("ACCEPT", "REJECT", "ALL")
AGGREGATION_INTERVALS = (60, 600)
DEFAULT_AGGREGATION_INTERVAL = 600
"""What EC2 uses, and reports, when CreateFlowLogs is given no MaxAggregationInterval."""
PLAIN_TEXT: Final = "plain-text"
S3_FILE_FORMATS = (PLAIN_TEXT, "parquet")
DEFAULT_DESTINATION_OPTIONS: Final = {
    "FileFormat": PLAIN_TEXT,
    "HiveCompatiblePartitions": False,
    "PerHourPartition": False,
}
"""EC2's defaults for S3 ``DestinationOptions`` (EC2 API reference, DestinationOptionsRequest)."""
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The values CloudWatch Logs PutRetentionPolicy accepts."""

DELIVERY_FAILED = "FAILED"
"""The only DeliverLogsStatus that disqualifies a flow log, as the Config rule reads it: EC2
documents SUCCESS and FAILED but promises no status on a new flow log."""

IAM_PROPAGATION_BUDGET_SECONDS = 120.0
"""How long CreateFlowLogs is retried while a new or repaired role propagates."""


class RunbookInput(TypedDict):
    """The step's InputPayload: the document parameters plus the automation globals."""

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
    AccountId: str
    Region: str
    Partition: str


class RunbookOutput(TypedDict):
    """The step's Payload; the document's outputs select all but ``Changes``.

    ``LogGroupName`` and ``DeliveryRoleArn`` are empty for an S3 destination; ``Destination``
    is the log group's ARN or the S3 bucket ARN (with its prefix, if any).
    """

    FlowLogId: str
    LogGroupName: str
    DeliveryRoleArn: str
    Destination: str
    Changes: list[str]


class RemediationError(Exception):
    """The runbook cannot finish: the message names the resource and what is wrong."""


class InvalidInputError(RemediationError):
    """An input value is not acceptable; nothing was changed."""


TrafficType = Literal["ACCEPT", "REJECT", "ALL"]
DestinationType = Literal["cloud-watch-logs", "s3"]


# Value types are NamedTuples, not dataclasses: with postponed annotations a dataclass looks its
# module up in sys.modules, which fails when the script's text is executed in a namespace of its
# own (how SSM loads an inline script is not documented).


class Request(NamedTuple):
    """Validated inputs, with the log group name and ARNs worked out.

    For an S3 destination ``log_group_name`` is empty and ``s3_destination`` holds the bucket
    ARN (and prefix, without a trailing ``/``); for CloudWatch Logs it is the other way round.
    """

    vpc_id: str
    traffic_type: TrafficType
    log_group_name: str
    retention_in_days: int
    kms_key_arn: str
    role_name: str
    max_aggregation_interval: int
    log_format: str
    account_id: str
    region: str
    partition: str
    destination_type: DestinationType = CLOUD_WATCH_LOGS
    s3_destination: str = ""
    boundary_arn: str = ""
    """The delivery role's permissions boundary (CloudWatch Logs only)."""
    file_format: str = PLAIN_TEXT
    """S3 only, like the two partition flags (``DestinationOptions``)."""
    hive_compatible_partitions: bool = False
    per_hour_partition: bool = False

    @property
    def to_s3(self) -> bool:
        """Whether the flow log goes to S3 (no delivery role, no log group)."""
        return self.destination_type == S3

    @property
    def destination(self) -> str:
        """The ARN the flow log delivers to: the S3 bucket (and prefix) or the log group."""
        return self.s3_destination if self.to_s3 else self.log_group_arn

    @property
    def destination_text(self) -> str:
        """The destination as a person reads it, e.g. ``log group /aws/vpc-flow-logs/x``."""
        return f"S3 {self.s3_destination}" if self.to_s3 else f"log group {self.log_group_name}"

    @property
    def log_group_arn(self) -> str:
        """The log group's ARN, without the ``:*`` suffix."""
        return (
            f"arn:{self.partition}:logs:{self.region}:{self.account_id}"
            f":log-group:{self.log_group_name}"
        )

    @property
    def role_arn(self) -> str:
        """The delivery role's ARN (the role is created with path ``/``)."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.role_name}"


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------

VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
PARTITION = re.compile(r"^aws(?:-[a-z]+)*$")
LOG_GROUP_NAME = re.compile(r"^/aws/vpc-flow-logs/[A-Za-z0-9._/#-]{1,493}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
BOUNDARY_ARN = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):policy"
    + re.escape(BOUNDARY_PATH)
    + r"[\w+=,.@-]{1,128}$"
)
"""A managed policy under ``BOUNDARY_PATH`` (the document's allowedPattern)."""
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
    """Validate the payload and return the request, or raise ``InvalidInputError``.

    The document's ``allowedPattern``/``allowedValues`` already check the parameters; this
    checks them again (the script can be run on its own) together with the globals.
    """
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
    s3_destination = _s3_destination(events, destination_type, partition)
    log_group_name = _text(events, "LogGroupName")
    if destination_type == S3:
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
    kms_key_arn = _text(events, "KmsKeyArn")
    if destination_type == S3:
        _require(
            not kms_key_arn,
            "KmsKeyArn",
            kms_key_arn,
            "empty with DestinationType s3 (the key encrypts log groups; for S3 the bucket's "
            "own encryption applies)",
        )
    if kms_key_arn:
        match = KMS_KEY_ARN.fullmatch(kms_key_arn)
        _require(match, "KmsKeyArn", kms_key_arn, "empty, or a KMS key ARN (not an alias)")
        key_region = match["region"] if match else ""
        _require(
            key_region == region,
            "KmsKeyArn",
            kms_key_arn,
            f"a key in {region}, the log group's region",
        )
    role_name = _text(events, "DeliveryRoleName")
    _require(ROLE_NAME.fullmatch(role_name), "DeliveryRoleName", role_name, "an IAM role name")
    boundary_arn = _boundary_arn(events, destination_type, partition, account_id)
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
    file_format = _text(events, "S3FileFormat") or PLAIN_TEXT
    _require(
        file_format in S3_FILE_FORMATS, "S3FileFormat", file_format, " / ".join(S3_FILE_FORMATS)
    )
    hive = _flag(events, "S3HiveCompatiblePartitions")
    per_hour = _flag(events, "S3PerHourPartition")
    if destination_type != S3:
        for name, value, default in (
            ("S3FileFormat", file_format, PLAIN_TEXT),
            ("S3HiveCompatiblePartitions", hive, False),
            ("S3PerHourPartition", per_hour, False),
        ):
            _require(value == default, name, value, f"{default!r} unless DestinationType is s3")
    return Request(
        vpc_id=vpc_id,
        traffic_type=traffic_type,  # type: ignore[arg-type]  # checked against TRAFFIC_TYPES
        log_group_name=log_group_name,
        retention_in_days=retention,
        kms_key_arn=kms_key_arn,
        role_name=role_name,
        max_aggregation_interval=interval,
        log_format=log_format,
        account_id=account_id,
        region=region,
        partition=partition,
        destination_type=destination_type,  # type: ignore[arg-type]  # checked above
        s3_destination=s3_destination,
        boundary_arn=boundary_arn,
        file_format=file_format,
        hive_compatible_partitions=hive,
        per_hour_partition=per_hour,
    )


def _boundary_arn(
    events: Mapping[str, object], destination_type: str, partition: str, account_id: str
) -> str:
    """The delivery role's boundary: required for CloudWatch Logs; S3 has no delivery role."""
    value = _text(events, "DeliveryRoleBoundaryArn")
    if destination_type == S3:
        return ""  # like DeliveryRoleName, it does not apply
    _require(
        is_boundary_of_account(value, partition, account_id),
        "DeliveryRoleBoundaryArn",
        value,
        f"the ARN of a managed policy of account {account_id} under {BOUNDARY_PATH} (the "
        "stack's DeliveryRoleBoundaryArn output)",
    )
    return value


def _s3_destination(events: Mapping[str, object], destination_type: str, partition: str) -> str:
    """The S3 bucket ARN (and prefix) without a trailing ``/``; empty unless DestinationType s3."""
    value = _text(events, "S3BucketArn")
    if destination_type != S3:
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


def trust_policy(partition: str, account_id: str) -> dict[str, Any]:
    """Only VPC Flow Logs, and only for this account's flow logs (confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": FLOW_LOGS_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:*:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def delivery_policy(partition: str, account_id: str) -> dict[str, Any]:
    """What VPC Flow Logs may do with the role: write to log groups under the prefix.

    The role is global and shared by every region, so the region is a wildcard. The log
    group pattern ends in ``*``, so it covers the group ARN in both forms (with and without
    ``:*``) and every ``…:log-stream:<name>`` ARN under it, whichever of them CloudWatch Logs
    authorizes CreateLogStream, PutLogEvents and DescribeLogStreams against.
    DescribeLogGroups has no resource-level permissions: it needs ``*``.
    """
    prefix_arn = f"arn:{partition}:logs:*:{account_id}:log-group:{LOG_GROUP_PREFIX}*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogStreams",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": prefix_arn,
            },
            {
                "Sid": "FindLogGroups",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
        ],
    }


def normalize_policy(document: object) -> object:
    """A canonical form of a policy document, so that equivalent documents compare equal.

    IAM returns documents with its own key order, single values in place of one-item lists
    and statements in any order; none of that changes their meaning.
    """
    if isinstance(document, str):
        document = json.loads(unquote(document) if document.startswith("%") else document)
    if not isinstance(document, dict):
        return document
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    normalized = sorted(
        (_normalize_value(statement) for statement in statements),
        key=lambda statement: json.dumps(statement, sort_keys=True),
    )
    return {"Version": document.get("Version"), "Statement": normalized}


def _normalize_value(value: object) -> object:
    if isinstance(value, dict):
        return {key: _normalize_value(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [item if isinstance(item, str) else _normalize_value(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, str):
        return [value]  # "x" and ["x"] mean the same in a policy
    return value


def policies_equal(current: object, wanted: object) -> bool:
    """Whether two policy documents say the same thing."""
    return normalize_policy(current) == normalize_policy(wanted)


def retention_to_set(current: int | None, requested: int, *, ours: bool = False) -> int | None:
    """The retention to set on an existing log group, or None to leave it as it is.

    A longer retention is kept. A group that never expires (``current`` None) keeps doing so,
    unless this runbook created it (``ours``): then an earlier run created it and failed before
    its PutRetentionPolicy, and the group gets the requested retention now.
    """
    if current is None:
        return requested if ours else None
    if current >= requested:
        return None
    return requested


def covers_traffic(existing: str, requested: str) -> bool:
    """A flow log of ``ALL`` covers ``ACCEPT`` and ``REJECT``."""
    return existing in ("ALL", requested)


def delivers_to_destination(flow_log: FlowLogTypeDef, request: Request) -> bool:
    """Whether the flow log delivers to the requested destination.

    For CloudWatch Logs, the requested log group in this account and region; for S3, exactly
    the requested bucket ARN and prefix (a flow log to another prefix of the same bucket is
    another destination to AWS, and to us).
    """
    destination_type = flow_log.get("LogDestinationType", CLOUD_WATCH_LOGS)
    if destination_type != request.destination_type:
        return False
    destination = flow_log.get("LogDestination")
    if request.to_s3:
        return (destination or "").rstrip("/") == request.s3_destination
    if destination:
        return destination.removesuffix(":*") == request.log_group_arn
    return flow_log.get("LogGroupName") == request.log_group_name


def is_ours(flow_log: FlowLogTypeDef) -> bool:
    """Whether this runbook created the flow log (it carries our ManagedBy tag)."""
    return any(
        tag.get("Key") == MANAGED_BY_KEY and tag.get("Value") == MANAGED_BY_VALUE
        for tag in flow_log.get("Tags", [])
    )


def unmet_requirements(flow_log: FlowLogTypeDef, request: Request) -> list[str]:
    """What keeps the flow log from satisfying the request; empty when it satisfies it."""
    reasons: list[str] = []
    if flow_log.get("FlowLogStatus") != "ACTIVE":
        reasons.append(f"status is {flow_log.get('FlowLogStatus')}, not ACTIVE")
    if flow_log.get("DeliverLogsStatus") == DELIVERY_FAILED:
        error = flow_log.get("DeliverLogsErrorMessage") or "no reason given"
        reasons.append(f"delivery FAILED ({error})")
    traffic = flow_log.get("TrafficType", "")
    if not covers_traffic(traffic, request.traffic_type):
        reasons.append(f"traffic type {traffic} does not cover {request.traffic_type}")
    if not delivers_to_destination(flow_log, request):
        reasons.append(f"does not deliver to {request.destination_text}")
    interval = flow_log.get("MaxAggregationInterval", DEFAULT_AGGREGATION_INTERVAL)
    if interval > request.max_aggregation_interval:
        reasons.append(
            f"aggregation interval {interval}s is longer than {request.max_aggregation_interval}s"
        )
    missing = missing_log_fields(flow_log.get("LogFormat", ""), request.log_format)
    if missing:
        reasons.append(f"log format differs from the requested one: lacks {' '.join(missing)}")
    if request.to_s3:
        reasons.extend(destination_option_differences(flow_log, request))
    return reasons


LOG_FIELD = re.compile(r"\$\{[a-z0-9-]+\}")


def missing_log_fields(existing: str, requested: str) -> list[str]:
    """The requested ``${field}`` tokens the existing format lacks.

    A format with every requested field, in any order and with others, carries what the
    request asks for: it is kept, as the Config rule counts it (its ``LogFormat`` parameter).
    """
    present = set(LOG_FIELD.findall(existing))
    return [field for field in LOG_FIELD.findall(requested) if field not in present]


def destination_options(request: Request) -> dict[str, Any]:
    """The S3 ``DestinationOptions`` the request asks for (EC2's defaults unless told)."""
    return {
        "FileFormat": request.file_format,
        "HiveCompatiblePartitions": request.hive_compatible_partitions,
        "PerHourPartition": request.per_hour_partition,
    }


def destination_option_differences(flow_log: FlowLogTypeDef, request: Request) -> list[str]:
    """How an S3 flow log's options differ from the request; absent options are EC2's defaults."""
    actual = {**DEFAULT_DESTINATION_OPTIONS, **flow_log.get("DestinationOptions", {})}
    return [
        f"{name} is {actual[name]}, not {wanted}"
        for name, wanted in destination_options(request).items()
        if actual[name] != wanted
    ]


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
    satisfying.sort(key=lambda fl: (not is_ours(fl), fl.get("FlowLogId", "")))
    keep = satisfying[0] if satisfying else None
    others = [fl for fl in same_destination if fl is not keep and fl not in satisfying]
    replaceable = tuple(fl for fl in others if is_ours(fl))
    conflicts = tuple(
        f"{fl.get('FlowLogId')} ({'; '.join(unmet_requirements(fl, request))})"
        for fl in others
        if not is_ours(fl)
    )
    return FlowLogPlan(satisfying=keep, replaceable=replaceable, conflicts=conflicts)


def backoff_delays(
    budget: float = IAM_PROPAGATION_BUDGET_SECONDS, first: float = 2.0, cap: float = 30.0
) -> list[float]:
    """Exponential delays (2, 4, 8, 16, 30, 30, …) whose sum does not exceed ``budget``."""
    delays: list[float] = []
    delay = first
    while sum(delays) + delay <= budget:
        delays.append(delay)
        delay = min(delay * 2, cap)
    return delays


IAM_PROPAGATION_MARKERS = ("unable to assume given iam role", "unable to assume iam role")


def is_iam_propagation_error(message: str) -> bool:
    """CreateFlowLogs' answer while a new or changed delivery role has not propagated yet.

    AWS answers ``InvalidParameter: Unable to assume given IAM role: '<arn>'`` (as an error,
    or as an ``Unsuccessful`` item); the message is the reliable part.
    """
    lowered = message.lower()
    return any(marker in lowered for marker in IAM_PROPAGATION_MARKERS)


def is_kms_refusal(code: str, message: str) -> bool:
    """CloudWatch Logs' answer when a KMS key does not exist or its policy does not allow it."""
    lowered = message.lower()
    return code in {"AccessDeniedException", "InvalidParameterException"} and (
        "kms" in lowered or "key" in lowered
    )


def kms_refusal_message(request: Request, aws_message: str) -> str:
    """Explain what the key policy must allow for CloudWatch Logs to use the key."""
    return (
        f"CloudWatch Logs cannot use KMS key {request.kms_key_arn} for log group "
        f"{request.log_group_name}: {aws_message}. The key must exist in {request.region} and "
        f"its key policy must allow the principal logs.{request.region}.amazonaws.com the "
        "actions kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and "
        "kms:Describe*, with the condition ArnLike kms:EncryptionContext:aws:logs:arn = "
        f"{request.log_group_arn} (or a pattern that includes it)."
    )


# --------------------------------------------------------------------------------------------
# AWS access: the only place that makes clients
# --------------------------------------------------------------------------------------------

MAX_ATTEMPTS = 10
"""Attempts per request, the first included. SSM's automatic throttling retry does not cover
aws:executeScript (SSM user guide, "Configuring automatic retry for throttled operations"), and
Automation runs up to 100 automations at once by default ("Allowing Automation to adapt to your
concurrency needs"): a first rollout over hundreds of VPCs meets throttling that only the SDK
absorbs. Adaptive mode also slows this client down once it is throttled."""

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS},
    user_agent_extra=MANAGED_BY_VALUE,
)


class Clients(NamedTuple):
    """The three clients the runbook uses."""

    ec2: EC2Client
    iam: IAMClient
    logs: CloudWatchLogsClient

    @classmethod
    def create(cls, region: str, session: boto3.session.Session | None = None) -> Clients:
        """Clients for ``region`` with botocore's adaptive retry mode."""
        session = session or boto3.session.Session()
        return cls(
            ec2=session.client("ec2", region_name=region, config=RETRY_CONFIG),
            iam=session.client("iam", region_name=region, config=RETRY_CONFIG),
            logs=session.client("logs", region_name=region, config=RETRY_CONFIG),
        )


def _error(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return details.get("Code", "Unknown"), details.get("Message", str(error))


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Turn an AWS error into a ``RemediationError`` that says which step and resource."""
    try:
        yield
    except ClientError as error:
        code, message = _error(error)
        raise RemediationError(f"{what} failed: {code}: {message}") from error


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


class Run:
    """One run of the runbook: the request, the clients and what has been changed so far."""

    def __init__(
        self,
        request: Request,
        aws: Clients,
        sleep: Callable[[float], None] = time.sleep,
        changes: list[str] | None = None,
    ) -> None:
        self.request = request
        self.aws = aws
        self.sleep = sleep
        self.changes: list[str] = [] if changes is None else changes


def check_vpc(run: Run) -> None:
    """Fail before any write if the VPC does not exist in this account and region."""
    vpc_id = run.request.vpc_id
    try:
        vpcs = run.aws.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except ClientError as error:
        code, message = _error(error)
        if code in {"InvalidVpcID.NotFound", "InvalidVpcID.Malformed"}:
            raise RemediationError(
                f"VPC {vpc_id} does not exist in account {run.request.account_id} "
                f"region {run.request.region}: {message}"
            ) from error
        raise RemediationError(f"describing VPC {vpc_id} failed: {code}: {message}") from error
    if not vpcs:
        raise RemediationError(
            f"VPC {vpc_id} does not exist in account {run.request.account_id} "
            f"region {run.request.region}"
        )


def describe_vpc_flow_logs(run: Run) -> list[FlowLogTypeDef]:
    """Every flow log attached to the VPC."""
    with _step(f"describing the flow logs of VPC {run.request.vpc_id}"):
        paginator = run.aws.ec2.get_paginator("describe_flow_logs")
        pages = paginator.paginate(
            Filters=[{"Name": "resource-id", "Values": [run.request.vpc_id]}]
        )
        return [flow_log for page in pages for flow_log in page.get("FlowLogs", [])]


def ensure_delivery_role(run: Run) -> str:
    """Create the delivery role within its boundary, or check it; write its inline policy.

    An existing role whose trust policy or boundary differs fails the run: the automation
    role may not change either (README, "Security model"), so a person must.
    """
    request, iam = run.request, run.aws.iam
    trust = trust_policy(request.partition, request.account_id)
    policy = delivery_policy(request.partition, request.account_id)
    name = request.role_name
    with _step(f"delivery role {name}"):
        role = _get_role(iam, name)
        created = False
        if role is None:
            try:
                role = iam.create_role(
                    RoleName=name,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    PermissionsBoundary=request.boundary_arn,
                    Description="Lets VPC Flow Logs deliver flow logs to CloudWatch Logs "
                    f"log groups under {LOG_GROUP_PREFIX}",
                    Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
                )["Role"]
                created = True
                run.changes.append(f"created IAM role {name} with boundary {request.boundary_arn}")
            except iam.exceptions.EntityAlreadyExistsException:
                # Another run (another region or VPC) created it a moment ago: use theirs.
                role = _get_role(iam, name)
                if role is None:
                    raise RemediationError(
                        f"delivery role {name}: CreateRole says it exists but GetRole cannot "
                        "find it"
                    ) from None
        if not created:
            problems = delivery_role_problems(role, trust, request)
            if problems:
                raise RemediationError(
                    f"delivery role {name} cannot be used: {'; '.join(problems)}. This runbook "
                    "may not change a role's trust policy or boundary; fix the role by hand "
                    '(README, "Security model") and run it again.'
                )
        current = None if created else _get_inline_policy(iam, name)
        if current is None or not policies_equal(current, policy):
            iam.put_role_policy(
                RoleName=name, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(policy)
            )
            verb = "wrote" if current is None else "repaired"
            run.changes.append(f"{verb} inline policy {INLINE_POLICY_NAME} of IAM role {name}")
        return role["Arn"]


def delivery_role_problems(
    role: RoleTypeDef, trust: Mapping[str, Any], request: Request
) -> list[str]:
    """What keeps an existing delivery role from being used; empty when nothing does.

    Its boundary may be any policy of this account under ``BOUNDARY_PATH``: each regional
    stack has its own, all alike, and the role has the boundary of whichever region created
    it. A role without one was created by an earlier version of this runbook.
    """
    problems: list[str] = []
    if not policies_equal(role.get("AssumeRolePolicyDocument"), trust):
        document = json.dumps(trust, separators=(",", ":"))
        problems.append(
            "its trust policy is not the one this runbook writes (only VPC Flow Logs of "
            f"account {request.account_id}): aws iam update-assume-role-policy --role-name "
            f"{request.role_name} --policy-document '{document}'"
        )
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
    fix = (
        f"aws iam put-role-permissions-boundary --role-name {request.role_name} "
        f"--permissions-boundary {request.boundary_arn}"
    )
    if not boundary:
        problems.append(
            f"it has no permissions boundary (an earlier version created it without one): {fix}"
        )
    elif not is_boundary_of_account(boundary, request.partition, request.account_id):
        problems.append(
            f"its permissions boundary {boundary} is not a policy of account "
            f"{request.account_id} under {BOUNDARY_PATH}: {fix}"
        )
    return problems


def is_boundary_of_account(arn: str, partition: str, account_id: str) -> bool:
    """Whether ``arn`` is a managed policy of the account under ``BOUNDARY_PATH``."""
    match = BOUNDARY_ARN.fullmatch(arn)
    return bool(match and match["partition"] == partition and match["account"] == account_id)


def _get_role(iam: IAMClient, name: str) -> RoleTypeDef | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _get_inline_policy(iam: IAMClient, name: str) -> object:
    try:
        return iam.get_role_policy(RoleName=name, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None


def ensure_log_group(run: Run) -> None:
    """Create the log group, or bring its retention and KMS key up to the request."""
    request, logs = run.request, run.aws.logs
    name = request.log_group_name
    with _step(f"log group {name}"):
        group = _find_log_group(logs, name)
        if group is None:
            group = _create_log_group(run)
            if group is None:  # created just now, with the key if one was requested
                logs.put_retention_policy(
                    logGroupName=name, retentionInDays=request.retention_in_days
                )
                run.changes.append(
                    f"set retention of log group {name} to {request.retention_in_days} days"
                )
                return
        current = group.get("retentionInDays")
        # Only a group that never expires needs its tags: ours gets a retention, a user's not.
        ours = current is None and _log_group_is_ours(logs, request.log_group_arn)
        raise_to = retention_to_set(current, request.retention_in_days, ours=ours)
        if raise_to is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=raise_to)
            run.changes.append(
                f"set retention of log group {name} to {raise_to} days (an earlier run created "
                "it and did not set one)"
                if current is None
                else f"raised retention of log group {name} from {current} to {raise_to}"
            )
        if request.kms_key_arn and group.get("kmsKeyId") != request.kms_key_arn:
            try:
                logs.associate_kms_key(logGroupName=name, kmsKeyId=request.kms_key_arn)
            except ClientError as error:
                _raise_if_kms_refusal(request, error)
                raise
            run.changes.append(f"associated KMS key {request.kms_key_arn} with log group {name}")


def _find_log_group(logs: CloudWatchLogsClient, name: str) -> LogGroupTypeDef | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group.get("logGroupName") == name:
                return group
    return None


def _log_group_is_ours(logs: CloudWatchLogsClient, log_group_arn: str) -> bool:
    tags = logs.list_tags_for_resource(resourceArn=log_group_arn).get("tags", {})
    return tags.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def _create_log_group(run: Run) -> LogGroupTypeDef | None:
    """Create the group; None when created, the existing group when another run won the race."""
    request, logs = run.request, run.aws.logs
    name = request.log_group_name
    arguments: dict[str, Any] = {
        "logGroupName": name,
        "tags": {MANAGED_BY_KEY: MANAGED_BY_VALUE},
    }
    if request.kms_key_arn:
        arguments["kmsKeyId"] = request.kms_key_arn
    try:
        logs.create_log_group(**arguments)
    except logs.exceptions.ResourceAlreadyExistsException:
        group = _find_log_group(logs, name)
        if group is None:
            raise RemediationError(
                f"log group {name}: CreateLogGroup says it exists but DescribeLogGroups cannot "
                "find it"
            ) from None
        return group
    except ClientError as error:
        _raise_if_kms_refusal(request, error)
        raise
    encrypted = f" encrypted with {request.kms_key_arn}" if request.kms_key_arn else ""
    run.changes.append(f"created log group {name}{encrypted}")
    return None


def _raise_if_kms_refusal(request: Request, error: ClientError) -> None:
    code, message = _error(error)
    if request.kms_key_arn and is_kms_refusal(code, message):
        raise RemediationError(kms_refusal_message(request, message)) from error


class _DuplicateFlowLogError(Exception):
    """CreateFlowLogs refused a flow log to a destination the VPC already logs to."""


def flow_log_arguments(request: Request, role_arn: str) -> dict[str, Any]:
    """CreateFlowLogs' arguments for the request."""
    arguments: dict[str, Any] = {
        "ResourceIds": [request.vpc_id],
        "ResourceType": "VPC",
        "TrafficType": request.traffic_type,
        "LogDestinationType": request.destination_type,
        "MaxAggregationInterval": request.max_aggregation_interval,
        "TagSpecifications": [
            {
                "ResourceType": "vpc-flow-log",
                "Tags": [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
            }
        ],
    }
    if request.to_s3:
        arguments["LogDestination"] = request.s3_destination  # no role: S3 delivery needs none
    else:
        arguments["LogGroupName"] = request.log_group_name
        arguments["DeliverLogsPermissionArn"] = role_arn
    if request.log_format:
        arguments["LogFormat"] = request.log_format
    options = destination_options(request)
    if request.to_s3 and options != DEFAULT_DESTINATION_OPTIONS:
        arguments["DestinationOptions"] = options  # only when asked: EC2 knows its defaults
    return arguments


def create_flow_log(run: Run, role_arn: str) -> str:
    """Create the flow log; retry while the delivery role propagates; return its id."""
    request, ec2 = run.request, run.aws.ec2
    arguments = flow_log_arguments(request, role_arn)
    delays = backoff_delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            response = ec2.create_flow_logs(**arguments)
        except ClientError as error:
            code, message = _error(error)
        else:
            unsuccessful = response.get("Unsuccessful", [])
            flow_log_ids = response.get("FlowLogIds", [])
            if not unsuccessful and len(flow_log_ids) == 1:
                return flow_log_ids[0]
            if not unsuccessful:
                raise RemediationError(
                    f"creating a flow log for VPC {request.vpc_id}: CreateFlowLogs returned "
                    f"{len(flow_log_ids)} flow log ids and no error"
                )
            details = unsuccessful[0].get("Error", {})
            code, message = details.get("Code", "Unknown"), details.get("Message", "")
        if code == "FlowLogAlreadyExists":
            raise _DuplicateFlowLogError(message)
        if not is_iam_propagation_error(message):
            raise RemediationError(
                f"creating a flow log for VPC {request.vpc_id} to "
                f"{request.destination_text} failed: {code}: {message}"
            )
        if attempt > len(delays):
            raise RemediationError(
                f"creating a flow log for VPC {request.vpc_id}: VPC Flow Logs still cannot "
                f"assume role {role_arn} after {attempt} attempts over "
                f"{sum(delays):.0f}s (check the role's trust policy): {code}: {message}"
            )
        run.sleep(delays[attempt - 1])


def ensure_flow_log(run: Run, plan: FlowLogPlan, role_arn: str) -> tuple[str, bool]:
    """Make the VPC's flow log to the destination satisfy the request; return (id, created)."""
    request = run.request
    if plan.satisfying is not None:
        _delete_flow_logs(run, plan.replaceable, "superseded by " + _id(plan.satisfying))
        return _id(plan.satisfying), False
    try:
        flow_log_id = create_flow_log(run, role_arn)
    except _DuplicateFlowLogError as duplicate:
        if not plan.replaceable:
            return _adopt_concurrent_flow_log(run, duplicate), False
        # AWS refused a second flow log to the same destination: delete ours first.
        _delete_flow_logs(run, plan.replaceable, "replaced")
        try:
            flow_log_id = create_flow_log(run, role_arn)
        except _DuplicateFlowLogError as again:
            return _adopt_concurrent_flow_log(run, again), False
        run.changes.append(f"created flow log {flow_log_id} for VPC {request.vpc_id}")
        return flow_log_id, True
    run.changes.append(f"created flow log {flow_log_id} for VPC {request.vpc_id}")
    _delete_flow_logs(run, plan.replaceable, f"replaced by {flow_log_id}")
    return flow_log_id, True


def _adopt_concurrent_flow_log(run: Run, duplicate: _DuplicateFlowLogError) -> str:
    """Another run created the flow log since we looked: use it if it satisfies the request."""
    fresh = plan_flow_log(describe_vpc_flow_logs(run), run.request)
    if fresh.satisfying is None:
        raise RemediationError(
            f"creating a flow log for VPC {run.request.vpc_id} to "
            f"{run.request.destination_text}: {duplicate}, and none there satisfies the request"
        ) from None
    return _id(fresh.satisfying)


def _id(flow_log: FlowLogTypeDef) -> str:
    return flow_log.get("FlowLogId", "")


def _delete_flow_logs(run: Run, flow_logs: Sequence[FlowLogTypeDef], why: str) -> None:
    ids = [_id(flow_log) for flow_log in flow_logs]
    if not ids:
        return
    with _step(f"deleting flow logs {', '.join(ids)} of VPC {run.request.vpc_id}"):
        response = run.aws.ec2.delete_flow_logs(FlowLogIds=ids)
    failed = [
        f"{item.get('ResourceId')}: {item.get('Error', {}).get('Message')}"
        for item in response.get("Unsuccessful", [])
    ]
    if failed:
        raise RemediationError(f"deleting flow logs of VPC {run.request.vpc_id}: {failed}")
    run.changes.append(f"deleted flow logs {', '.join(ids)} ({why})")


READ_BACK_BUDGET_SECONDS = 60.0
"""How long the verify step waits for a new flow log to be listed: EC2's Describe calls are
eventually consistent (EC2 API reference, "Eventual consistency in the Amazon EC2 API")."""


def verify_flow_log(run: Run, flow_log_id: str) -> None:
    """Read the flow log back: it must exist, be ACTIVE and not have failed delivery.

    A flow log not listed yet is read again with a bounded backoff; then the run fails.
    """
    delays = backoff_delays(READ_BACK_BUDGET_SECONDS)
    attempts = 0
    while True:
        attempts += 1
        with _step(f"reading back flow log {flow_log_id}"):
            found = run.aws.ec2.describe_flow_logs(FlowLogIds=[flow_log_id]).get("FlowLogs", [])
        if found or attempts > len(delays):
            break
        run.sleep(delays[attempts - 1])
    if not found:
        raise RemediationError(
            f"flow log {flow_log_id} was created but DescribeFlowLogs did not list it in "
            f"{attempts} reads over {sum(delays):.0f}s"
        )
    flow_log = found[0]
    if flow_log.get("FlowLogStatus") != "ACTIVE":
        raise RemediationError(
            f"flow log {flow_log_id} is {flow_log.get('FlowLogStatus')}, not ACTIVE"
        )
    if flow_log.get("DeliverLogsStatus") == DELIVERY_FAILED:
        raise RemediationError(
            f"flow log {flow_log_id} cannot deliver to {run.request.destination_text}: "
            f"{flow_log.get('DeliverLogsErrorMessage') or 'no reason given'}"
        )


def remediate(run: Run) -> RunbookOutput:
    """The four steps, after the checks that must pass before anything is written."""
    request = run.request
    check_vpc(run)
    plan = plan_flow_log(describe_vpc_flow_logs(run), request)
    if plan.satisfying is None and plan.conflicts:
        raise RemediationError(
            f"VPC {request.vpc_id} already has a flow log to {request.destination_text} "
            f"that does not satisfy the request and that this runbook did not create: "
            f"{', '.join(plan.conflicts)}. Delete or fix it, or choose another "
            f"{'S3BucketArn prefix' if request.to_s3 else 'LogGroupName'}."
        )
    role_arn = ""
    if not request.to_s3:
        existing_role = (
            plan.satisfying.get("DeliverLogsPermissionArn", "") if plan.satisfying else ""
        )
        if existing_role and existing_role.rsplit("/", 1)[-1] != request.role_name:
            role_arn = existing_role  # a working flow log with its own role: leave ours alone
        else:
            role_arn = ensure_delivery_role(run)
        ensure_log_group(run)
    flow_log_id, created = ensure_flow_log(run, plan, role_arn)
    if created:
        verify_flow_log(run, flow_log_id)
    return {
        "FlowLogId": flow_log_id,
        "LogGroupName": request.log_group_name,
        "DeliveryRoleArn": role_arn,
        "Destination": request.destination,
        "Changes": run.changes,
    }


def handler(events: RunbookInput, context: object) -> RunbookOutput:
    """``aws:executeScript`` entry point."""
    request = parse_request(events)
    return remediate(Run(request=request, aws=Clients.create(request.region)))
