"""The app's settings: read once from CDK context, validated in one place.

Defaults live in ``cdk.json`` under ``context`` so users see them; ``npx cdk synth -c key=value``
overrides one (the CLI passes every ``-c`` value as a string, ``cdk.json`` passes JSON types, so
both are accepted). A wrong setting raises ``SettingsError`` naming the key, the value and what
is allowed, and the synth fails before anything is built. Nothing here calls AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

TRAFFIC_TYPES: Final = ("ACCEPT", "REJECT", "ALL")
CLOUD_WATCH_LOGS: Final = "cloud-watch-logs"
S3: Final = "s3"
KINESIS_DATA_FIREHOSE: Final = "kinesis-data-firehose"
DESTINATION_TYPES: Final = (CLOUD_WATCH_LOGS, S3, KINESIS_DATA_FIREHOSE)
"""The flow-log destinations the rule may accept (``allowedDestinationTypes``)."""
RUNBOOK_DESTINATIONS: Final = (CLOUD_WATCH_LOGS, S3, KINESIS_DATA_FIREHOSE)
"""Where remediation delivers (``destination``); the rule must accept the chosen one."""

EVALUATION_FREQUENCIES: Final = (
    "One_Hour",
    "Three_Hours",
    "Six_Hours",
    "Twelve_Hours",
    "TwentyFour_Hours",
)
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
"""The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy)."""

DELIVERY_ROLE_NAME: Final = "VpcFlowLogsDeliveryRole"
"""The global role VPC Flow Logs assumes; the runbook creates it, no stack does."""
AGGREGATION_INTERVALS: Final = (60, 600)
"""Seconds; CreateFlowLogs' MaxAggregationInterval values."""
LOG_GROUP_PREFIX: Final = "/aws/vpc-flow-logs/"
"""Where the runbook creates log groups (its delivery role is scoped to it); the rule needs it."""
S3_FILE_FORMATS: Final = ("plain-text", "parquet")
"""CreateFlowLogs' S3 DestinationOptions FileFormat values (plain-text is EC2's default)."""
LOG_FIELD: Final = re.compile(r"\$\{([a-z0-9-]+)\}")
"""One ``${field}`` of a log format; the field's name is group 1."""
LOG_FORMAT: Final = re.compile(rf"{LOG_FIELD.pattern}(?: {LOG_FIELD.pattern})*")
"""The runbook's ``LogFormat`` allowedPattern (without its empty alternative)."""

RULE_INPUT_PARAMETERS_MAX_CHARS: Final = 1024
"""AWS Config limit on a rule's InputParameters (a JSON string)."""

VPC_ID: Final = re.compile(r"vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?")
KMS_KEY_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
"""The runbook's ``KmsKeyArn`` allowedPattern (without its empty alternative)."""
S3_BUCKET_ARN: Final = re.compile(r"arn:aws(?:-[a-z]+)*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
"""A bucket ARN without a key prefix: VPC Flow Logs then writes under ``AWSLogs/``, the only
prefix the log-archive bucket's policy lets the delivery service write to."""
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256
REGION_PLACEHOLDER: Final = "{region}"
"""Stands for the Region a stack is deployed to, in ``centralLogDestinationArn``: a StackSet
deploys one template to every Region, and each Region forwards to its own destination."""
LOGS_DESTINATION_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:logs:(?:\{region\}|[a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:destination:[^:*]{1,512}"
)
"""A CloudWatch Logs destination (PutDestination: a name of 1-512 characters, no ':' or '*')."""
EVENT_BUS_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:events:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:event-bus/[.\-_A-Za-z0-9]{1,256}"
)
"""An event bus ARN of a bus that is not a partner's (EventBridge API: a name of 1-256 letters,
digits, ``.``, ``-`` and ``_``), in one Region: members in every Region forward to it."""
FIREHOSE_STREAM_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:firehose:(?:\{region\}|[a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):"
    r"deliverystream/[A-Za-z0-9_.-]{1,64}"
)
"""A Firehose stream (CreateDeliveryStream: a name of 1-64 letters, digits, '_', '.', '-')."""
CROSS_ACCOUNT_ROLE_PREFIX: Final = "AWSLogDeliveryFirehoseCrossAccountRole"
"""The name every destination-account role must start with (VPC User Guide, "IAM roles for
cross account delivery")."""
CROSS_ACCOUNT_ROLE_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::(\d{12}):role/(?:[A-Za-z0-9_+=,.@-]+/)*"
    + CROSS_ACCOUNT_ROLE_PREFIX
    + r"(?:[A-Za-z0-9_+=,.@-]|\{region\})*"
)
"""The log-archive account's role for cross-account delivery, its name perhaps with {region}."""
# Setting keys are camelCase; CDK's own context keys contain ':' or '-' and are not ours.
SETTING_KEY: Final = re.compile(r"[a-z][A-Za-z0-9]*")


class SettingsError(ValueError):
    """One or more settings are invalid; the message names each key, value and what is allowed."""


@dataclass(frozen=True)
class Settings:
    """Everything the stack needs to know, typed and validated.

    Attribute names are the snake_case form of the context keys in ``cdk.json``.
    """

    traffic_type: str
    min_retention_days: int
    retention_in_days: int
    allowed_destination_types: tuple[str, ...]
    require_delivery_success: bool
    exempt_vpc_ids: tuple[str, ...]
    exempt_tag: str
    kms_key_arn: str
    evaluation_frequency: str
    automatic_remediation: bool
    maximum_automatic_attempts: int
    retry_attempt_seconds: int
    concurrent_execution_rate_percentage: int
    error_percentage: int
    create_config_recorder: bool
    rule_log_retention_days: int
    destination: str
    """``cloud-watch-logs``: a log group per VPC in this account; ``s3``: the central bucket."""
    central_bucket_arn: str
    """The log-archive bucket's ARN; required with ``destination`` ``s3``, empty otherwise."""
    log_format: str
    """``''``: AWS's default format; otherwise the runbook's format, whose fields the rule needs."""
    max_aggregation_interval: int
    s3_file_format: str
    s3_hive_compatible_partitions: bool
    s3_per_hour_partition: bool
    central_log_destination_arn: str = ""
    """The log-archive account's CloudWatch Logs destination, ``{region}`` for the stack's Region;
    empty: the flow-log groups are not forwarded (see ``stacks/constructs/log_forwarding.py``)."""
    compliance_event_bus_arn: str = ""
    """The organization view's event bus; empty: this rule's compliance changes stay in this
    account and Region (see ``stacks/constructs/compliance_forwarding.py``)."""
    central_firehose_arn: str = ""
    """With ``destination`` ``kinesis-data-firehose``: the log-archive account's stream, perhaps
    with ``{region}``; empty otherwise (see ``stacks/constructs/firehose_source.py``)."""
    central_firehose_role_arn: str = ""
    """With ``destination`` ``kinesis-data-firehose``: the stream account's role for cross-account
    delivery (``AWSLogDeliveryFirehoseCrossAccountRole...``), perhaps with ``{region}``."""

    @property
    def to_s3(self) -> bool:
        """Whether remediation delivers flow logs to the central bucket."""
        return self.destination == S3

    @property
    def to_firehose(self) -> bool:
        """Whether remediation delivers flow logs to the log-archive account's Firehose stream."""
        return self.destination == KINESIS_DATA_FIREHOSE

    @classmethod
    def from_context(cls, get: Callable[[str], Any], keys: Mapping[str, Any]) -> Settings:
        """Build from a context getter (``app.node.try_get_context``) and all context keys.

        ``keys`` (``app.node.get_all_context()``) is only used to reject unknown camelCase keys,
        so that ``-c trafficTyp=ALL`` fails instead of being ignored.
        """
        problems: list[str] = []
        unknown = sorted(k for k in keys if SETTING_KEY.fullmatch(k) and k not in _PARSERS)
        problems.extend(
            f"unknown setting {key!r}; known settings: {', '.join(sorted(_PARSERS))}"
            for key in unknown
        )
        values: dict[str, Any] = {}
        for key, parse in _PARSERS.items():
            raw = get(key)
            if raw is None:
                problems.append(f"setting {key!r} is missing (its default belongs in cdk.json)")
                continue
            try:
                values[snake_case(key)] = parse(key, raw)
            except SettingsError as error:
                problems.append(str(error))
        if not problems:
            settings = cls(**values)
            problems = settings._cross_check()
            if not problems:
                return settings
        raise SettingsError("invalid settings:\n  - " + "\n  - ".join(problems))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> Settings:
        """Build from a plain mapping of context keys to values (tests, tools)."""
        return cls.from_context(context.get, context)

    def rule_input_parameters(self) -> dict[str, str]:
        """The Config rule's input parameters (strings, names fixed by the rule).

        Empty values are left out: AWS Config rejects blank parameter values, and the rule
        treats an absent ``ExemptVpcIds`` / ``ExemptTag`` as empty.
        """
        parameters = {
            "TrafficType": self.traffic_type,
            "MinRetentionDays": str(self.min_retention_days),
            "AllowedDestinationTypes": ",".join(self.allowed_destination_types),
            "RequireDeliverySuccess": _bool_text(self.require_delivery_success),
            "ExemptVpcIds": ",".join(self.exempt_vpc_ids),
            "ExemptTag": self.exempt_tag,
            "S3BucketArn": self.central_bucket_arn,
            "FirehoseArn": self.central_firehose_arn,
            **self._flow_log_shape(rule=True),
            **self._forwarding_rule_parameters(),
        }
        return {name: value for name, value in parameters.items() if value}

    def _flow_log_shape(self, *, rule: bool) -> dict[str, str]:
        """What the runbook is told to create, under the parameter names both sides share.

        The rule gets the same values as requirements (the log group prefix too, which the
        runbook has fixed), so a flow log the runbook keeps is one the rule counts.
        """
        shape = {
            "MaxAggregationInterval": str(self.max_aggregation_interval),
            "LogFormat": " ".join(self.log_format.split()),
        }
        if self.to_s3:
            shape |= {
                "S3FileFormat": self.s3_file_format,
                "S3HiveCompatiblePartitions": _bool_text(self.s3_hive_compatible_partitions),
                "S3PerHourPartition": _bool_text(self.s3_per_hour_partition),
            }
        elif rule and self.destination == CLOUD_WATCH_LOGS:
            shape["LogGroupNamePrefix"] = LOG_GROUP_PREFIX
        return shape

    def _forwarding_rule_parameters(self) -> dict[str, str]:
        """``CentralLogDestinationArn`` as the setting gives it; the stack puts its own Region
        for ``{region}`` (:func:`destination_arn_in`)."""
        return {"CentralLogDestinationArn": self.central_log_destination_arn}

    def runbook_parameters(
        self, *, boundary_arn: str, firehose_source_role_arn: str = ""
    ) -> dict[str, str]:
        """The runbook's parameters other than VpcId and AutomationAssumeRole, from the settings.

        ``LogGroupName`` stays empty (one log group per VPC, under the rule's LogGroupNamePrefix);
        an empty ``KmsKeyArn`` means no key. With the central bucket (``destination`` ``s3``) only
        the parameters of the S3 path are given: no role, log group, retention or key applies.
        ``boundary_arn`` is the delivery role's permissions boundary (CloudWatch Logs only).

        With the central Firehose stream, CreateFlowLogs' own names: ``FirehoseArn`` (the
        ``LogDestination``, the rule's parameter of the same name), ``DeliverLogsPermissionArn``
        (``firehose_source_role_arn``, the stack's source account role) and
        ``DeliverCrossAccountRole`` (the stream account's role); ``{region}`` in the last two
        settings is left for the stack to fill in.
        """
        if self.to_firehose:
            if not firehose_source_role_arn:
                raise ValueError("the kinesis-data-firehose destination needs the source role")
            return {
                "DestinationType": self.destination,
                "TrafficType": self.traffic_type,
                "FirehoseArn": self.central_firehose_arn,
                "DeliverLogsPermissionArn": firehose_source_role_arn,
                "DeliverCrossAccountRole": self.central_firehose_role_arn,
                **self._flow_log_shape(rule=False),
            }
        if self.to_s3:
            return {
                "TrafficType": self.traffic_type,
                "DestinationType": self.destination,
                "S3BucketArn": self.central_bucket_arn,
                **self._flow_log_shape(rule=False),
            }
        if not boundary_arn:
            raise ValueError("the cloud-watch-logs destination needs the delivery role's boundary")
        return {
            "DestinationType": self.destination,
            "TrafficType": self.traffic_type,
            "RetentionInDays": str(self.retention_in_days),
            "KmsKeyArn": self.kms_key_arn,
            "DeliveryRoleName": DELIVERY_ROLE_NAME,
            "DeliveryRoleBoundaryArn": boundary_arn,
            "LogGroupName": "",
            **self._flow_log_shape(rule=False),
        }

    def _cross_check(self) -> list[str]:
        problems = []
        if self.destination not in self.allowed_destination_types:
            problems.append(
                f"setting 'allowedDestinationTypes' = "
                f"{','.join(self.allowed_destination_types)!r} does not include "
                f"'destination' = {self.destination!r}: the rule would reject the flow logs the "
                "runbook creates; allowed: a list that includes the destination"
            )
        if self.to_s3 and not self.central_bucket_arn:
            problems.append(
                "setting 'centralBucketArn' is empty but 'destination' is 's3'; allowed: the "
                "log-archive bucket's ARN, e.g. arn:aws:s3:::org-vpc-flow-logs"
            )
        if not self.to_s3 and self.central_bucket_arn:
            problems.append(
                f"setting 'centralBucketArn' = {self.central_bucket_arn!r} is set but "
                f"'destination' is {self.destination!r}; allowed: '' with cloud-watch-logs, or "
                "set 'destination' to 's3'"
            )
        if self.destination != CLOUD_WATCH_LOGS and self.kms_key_arn:
            problems.append(
                f"setting 'kmsKeyArn' = {self.kms_key_arn!r} encrypts CloudWatch Logs log "
                f"groups, which 'destination' {self.destination!r} does not create; allowed: '' "
                "(the central bucket's own encryption applies)"
            )
        to_log_groups = self.destination == CLOUD_WATCH_LOGS
        if to_log_groups and self.retention_in_days < self.min_retention_days:
            problems.append(
                f"setting 'retentionInDays' = {self.retention_in_days} is below "
                f"'minRetentionDays' = {self.min_retention_days}: the runbook would create log "
                "groups the rule rejects; allowed: a CloudWatch Logs retention value >= "
                "minRetentionDays"
            )
        if not self.to_s3 and (
            self.s3_file_format != S3_FILE_FORMATS[0]
            or self.s3_hive_compatible_partitions
            or self.s3_per_hour_partition
        ):
            problems.append(
                f"settings 's3FileFormat' / 's3HiveCompatiblePartitions' / 's3PerHourPartition' "
                f"= {self.s3_file_format!r} / {self.s3_hive_compatible_partitions} / "
                f"{self.s3_per_hour_partition} shape S3 objects, but 'destination' is "
                f"{self.destination!r}; allowed: plain-text / false / false, or 'destination' s3"
            )
        problems.extend(self._forwarding_problems())
        problems.extend(self._firehose_problems())
        size = len(json.dumps(self.rule_input_parameters()))
        if size > RULE_INPUT_PARAMETERS_MAX_CHARS:
            problems.append(
                f"settings 'exemptVpcIds' / 'exemptTag' / 'logFormat' make the rule's input "
                f"parameters {size} "
                f"characters long; AWS Config allows {RULE_INPUT_PARAMETERS_MAX_CHARS} (exempt "
                "fewer VPCs by id, or tag them and use 'exemptTag')"
            )
        return problems

    def _forwarding_problems(self) -> list[str]:
        if not self.central_log_destination_arn:
            return []
        if self.destination != CLOUD_WATCH_LOGS:
            return [
                f"setting 'centralLogDestinationArn' = {self.central_log_destination_arn!r} "
                f"forwards CloudWatch Logs log groups, but 'destination' is "
                f"{self.destination!r}; allowed: '' with {self.destination}, or 'destination' "
                f"{CLOUD_WATCH_LOGS}"
            ]
        # The account policy selects every log group but the stack's own; its filter pattern
        # tells flow-log records from other logs by the ENI id (log_forwarding.py).
        fields = LOG_FIELD.findall(self.log_format)
        if fields and "interface-id" not in fields:
            return [
                f"setting 'logFormat' = {self.log_format!r} has no ${{interface-id}}, which "
                "'centralLogDestinationArn' needs to tell flow-log records from the account's "
                "other logs; allowed: a format with ${interface-id}, or '' (the default format)"
            ]
        return []

    def _firehose_problems(self) -> list[str]:
        keys = {
            "centralFirehoseArn": self.central_firehose_arn,
            "centralFirehoseRoleArn": self.central_firehose_role_arn,
        }
        if not self.to_firehose:
            return [
                f"setting {key!r} = {value!r} is set but 'destination' is "
                f"{self.destination!r}; allowed: '' with {self.destination}, or 'destination' "
                f"{KINESIS_DATA_FIREHOSE}"
                for key, value in keys.items()
                if value
            ]
        problems = [
            f"setting {key!r} is empty but 'destination' is {KINESIS_DATA_FIREHOSE!r}; allowed: "
            "the log-archive stack's output of that name"
            for key, value in keys.items()
            if not value
        ]
        stream = FIREHOSE_STREAM_ARN.fullmatch(self.central_firehose_arn)
        role = CROSS_ACCOUNT_ROLE_ARN.fullmatch(self.central_firehose_role_arn)
        if stream and role and stream[1] != role[1]:
            problems.append(
                f"setting 'centralFirehoseRoleArn' = {self.central_firehose_role_arn!r} is a role "
                f"of account {role[1]}, but 'centralFirehoseArn' is a stream of account "
                f"{stream[1]}; allowed: the role of the stream's account (the log-archive stack "
                "creates both)"
            )
        return problems


def destination_arn_in(arn: str, region: str) -> str:
    """``centralLogDestinationArn`` for a stack in ``region`` (a token in an env-agnostic stack)."""
    return arn.replace(REGION_PLACEHOLDER, region)


REGIONAL_PARAMETERS: Final = frozenset(
    {"CentralLogDestinationArn", "FirehoseArn", "DeliverCrossAccountRole"}
)
"""The rule's and the runbook's parameters whose settings may say ``{region}``."""


def in_region(parameters: Mapping[str, str], region: str) -> dict[str, str]:
    """The rule's or the runbook's parameters for ``region``: the stack's own (a token), or
    each region the audit reads, so both give the deployed values."""
    return {
        name: destination_arn_in(value, region) if name in REGIONAL_PARAMETERS else value
        for name, value in parameters.items()
    }


def snake_case(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def invalid(key: str, value: object, allowed: str) -> SettingsError:
    return SettingsError(f"setting {key!r} = {value!r} is invalid; allowed: {allowed}")


def parse_bool(key: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise invalid(key, raw, "true or false")


def parse_int(key: str, raw: object, low: int, high: int) -> int:
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"\s*\d+\s*", raw):
        value = int(raw)
    if value is None or not low <= value <= high:
        raise invalid(key, raw, f"a whole number from {low} to {high}")
    return value


def _parse_list(key: str, raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = [item.strip() for item in raw.split(",")]
    elif isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        items = [item.strip() for item in raw]
    else:
        raise invalid(key, raw, "a list of strings or a comma-separated string")
    return tuple(item for item in items if item)


def _one_of(key: str, raw: object, allowed: tuple[str, ...], *, fold: bool = False) -> str:
    if isinstance(raw, str):
        text = raw.strip()
        for candidate in allowed:
            if text == candidate or (fold and text.upper() == candidate.upper()):
                return candidate
    raise invalid(key, raw, " | ".join(allowed))


def _traffic_type(key: str, raw: object) -> str:
    return _one_of(key, raw, TRAFFIC_TYPES, fold=True)


def _retention_min(key: str, raw: object) -> int:
    return parse_int(key, raw, 0, LOG_RETENTION_DAYS[-1])


def _retention_value(key: str, raw: object) -> int:
    value = parse_int(key, raw, LOG_RETENTION_DAYS[0], LOG_RETENTION_DAYS[-1])
    if value not in LOG_RETENTION_DAYS:
        raise invalid(key, raw, "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    return value


def _destinations(key: str, raw: object) -> tuple[str, ...]:
    items = _parse_list(key, raw)
    if not items or any(item not in DESTINATION_TYPES for item in items):
        raise invalid(key, raw, f"a non-empty subset of {', '.join(DESTINATION_TYPES)}")
    return tuple(dict.fromkeys(items))


def _runbook_destination(key: str, raw: object) -> str:
    return _one_of(key, raw, RUNBOOK_DESTINATIONS)


def _optional_arn(pattern: re.Pattern[str], allowed: str) -> Callable[[str, object], str]:
    """A parser of a setting that is empty or an ARN matching ``pattern``."""

    def parse(key: str, raw: object) -> str:
        if isinstance(raw, str) and (not raw.strip() or pattern.fullmatch(raw.strip())):
            return raw.strip()
        raise invalid(key, raw, allowed)

    return parse


_bucket_arn = _optional_arn(
    S3_BUCKET_ARN,
    "'' or an S3 bucket ARN without a key prefix, like arn:aws:s3:::org-vpc-flow-logs "
    "(the log-archive stack's bucket)",
)
_log_destination_arn = _optional_arn(
    LOGS_DESTINATION_ARN,
    "'' (no forwarding) or a CloudWatch Logs destination ARN, with {region} for the "
    "Region of each stack, like arn:aws:logs:{region}:111122223333:destination:"
    "VpcFlowLogsGuardLogArchive-CentralArchive (the log-archive stack's output "
    "CentralLogDestinationArn); a literal Region deploys only in that Region",
)
_event_bus_arn = _optional_arn(
    EVENT_BUS_ARN,
    "'' (no forwarding) or an event bus ARN like arn:aws:events:us-east-1:111122223333:"
    "event-bus/vpc-flow-logs-guard-compliance (the organization view stack's output "
    "ComplianceEventBusArn)",
)
_firehose_arn = _optional_arn(
    FIREHOSE_STREAM_ARN,
    "'' or a Firehose stream ARN, with {region} for the Region of each stack, like "
    "arn:aws:firehose:{region}:111122223333:deliverystream/VpcFlowLogsGuardLogArchive-FlowLogs"
    " (the log-archive stack's output CentralFirehoseArn)",
)
_cross_account_role_arn = _optional_arn(
    CROSS_ACCOUNT_ROLE_ARN,
    f"'' or the ARN of a role whose name starts with {CROSS_ACCOUNT_ROLE_PREFIX} (AWS "
    "requires the prefix), with {region} for the Region of each stack, like arn:aws:iam::"
    f"111122223333:role/{CROSS_ACCOUNT_ROLE_PREFIX}-{{region}} (the log-archive stack's "
    "output CentralFirehoseRoleArn)",
)
_kms_key_arn = _optional_arn(
    KMS_KEY_ARN,
    "'' (no KMS key) or a KMS key ARN like "
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab "
    "(a key id or alias is not enough: the automation role is scoped to the key ARN)",
)


def _vpc_ids(key: str, raw: object) -> tuple[str, ...]:
    items = _parse_list(key, raw)
    wrong = [item for item in items if not VPC_ID.fullmatch(item)]
    if wrong:
        raise invalid(key, raw, f"VPC ids like vpc-0123456789abcdef0 (not: {', '.join(wrong)})")
    return tuple(dict.fromkeys(items))


def _exempt_tag(key: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise invalid(key, raw, "'' (none), 'key' or 'key=value'")
    text = raw.strip()
    if not text:
        return ""
    tag_key, _, tag_value = text.partition("=")
    if (
        not tag_key.strip()
        or len(tag_key) > TAG_KEY_MAX
        or len(tag_value) > TAG_VALUE_MAX
        or "=" in tag_value
    ):
        raise invalid(
            key,
            raw,
            f"'' (none), 'key' or 'key=value' with a key of 1-{TAG_KEY_MAX} characters "
            f"and a value of at most {TAG_VALUE_MAX} (no second '=')",
        )
    return text


def _log_format(key: str, raw: object) -> str:
    if isinstance(raw, str) and (not raw.strip() or LOG_FORMAT.fullmatch(" ".join(raw.split()))):
        return " ".join(raw.split())
    raise invalid(key, raw, "'' (AWS's default format) or ${field} tokens separated by spaces")


def _aggregation_interval(key: str, raw: object) -> int:
    value = parse_int(key, raw, AGGREGATION_INTERVALS[0], AGGREGATION_INTERVALS[-1])
    if value not in AGGREGATION_INTERVALS:
        raise invalid(key, raw, " or ".join(map(str, AGGREGATION_INTERVALS)))
    return value


def _s3_file_format(key: str, raw: object) -> str:
    return _one_of(key, raw, S3_FILE_FORMATS)


def _frequency(key: str, raw: object) -> str:
    return _one_of(key, raw, EVALUATION_FREQUENCIES)


_PARSERS: Final[dict[str, Callable[[str, Any], Any]]] = {
    "trafficType": _traffic_type,
    "minRetentionDays": _retention_min,
    "retentionInDays": _retention_value,
    "allowedDestinationTypes": _destinations,
    "requireDeliverySuccess": parse_bool,
    "exemptVpcIds": _vpc_ids,
    "exemptTag": _exempt_tag,
    "kmsKeyArn": _kms_key_arn,
    "evaluationFrequency": _frequency,
    "automaticRemediation": parse_bool,
    "maximumAutomaticAttempts": lambda key, raw: parse_int(key, raw, 1, 25),
    "retryAttemptSeconds": lambda key, raw: parse_int(key, raw, 1, 2_678_000),
    "concurrentExecutionRatePercentage": lambda key, raw: parse_int(key, raw, 1, 100),
    "errorPercentage": lambda key, raw: parse_int(key, raw, 1, 100),
    "createConfigRecorder": parse_bool,
    "ruleLogRetentionDays": _retention_value,
    "destination": _runbook_destination,
    "centralBucketArn": _bucket_arn,
    "logFormat": _log_format,
    "maxAggregationInterval": _aggregation_interval,
    "s3FileFormat": _s3_file_format,
    "s3HiveCompatiblePartitions": parse_bool,
    "s3PerHourPartition": parse_bool,
    "centralLogDestinationArn": _log_destination_arn,
    "complianceEventBusArn": _event_bus_arn,
    "centralFirehoseArn": _firehose_arn,
    "centralFirehoseRoleArn": _cross_account_role_arn,
}
