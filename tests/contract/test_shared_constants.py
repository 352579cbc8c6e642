"""Every fact the rule, the runbook, the stacks and the command share agrees wherever it is written.

The runtime packages stay independent (the rule ships alone in its Lambda asset, the runbook's
script is standard library and boto3 only, the settings are read at synth time), so each writes
the facts it needs itself: the traffic types, destination types, retention values, aggregation
intervals, S3 file formats, the ``ManagedBy`` tag, the log-group prefix, the boundary path, the
delivery role's name, the rule's name, parameter names and defaults, the patterns that validate
input. This module reads each fact where it is written (constants, ``cdk.json``, the runbook
document's ``allowedValues``/``default``/``allowedPattern``, the synthesized template's IAM
scoping) and, where AWS publishes it in a machine-readable model (botocore's service models), there
too. A failure names the fact and every place with its value.

The other agreement tests are property-based (``test_rule_runbook_agreement``): they judge
behaviour, and so rely on the facts checked here being one.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import botocore.session
import pytest
import yaml

# The runbook's script package: every fact this test reads from it is read through
# RUNBOOK_SCRIPT.
from enable_vpc_flow_logs import (
    boundary,
    common,
    delivery_role,
    destinations,
    flow_log_plan,
    input_checks,
    request,
)
from local_aws import iam_requests, scenario
from stacks.constructs import (
    config_rule,
    firehose_source,
    remediation_runbook,
)
from stacks.settings import account as settings_module
from stacks.settings.account import Settings, SettingsError
from tests.support import accounts
from tests.unit.ssm_documents.payloads import BOUNDARY_ARN, runbook_input
from tests.unit.stacks.iam_policies import identity_policies
from tests.unit.stacks.synthesis import cdk_json_context, synthesize
from vpc_flow_logs_guard import cli
from vpc_flow_logs_guard import plan as cli_plan
from vpc_flow_logs_rule import model as rule_model
from vpc_flow_logs_rule import parameters as rule_parameters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

RUNBOOK_SCRIPT: Final[dict[str, Any]] = {
    "traffic types": request.TRAFFIC_TYPES,
    "destination types": request.DESTINATION_TYPES,
    "CloudWatch Logs destination": common.CLOUD_WATCH_LOGS,
    "S3 destination": common.S3,
    "retention days": request.RETENTION_DAYS,
    "aggregation intervals": request.AGGREGATION_INTERVALS,
    "default aggregation interval": flow_log_plan.DEFAULT_AGGREGATION_INTERVAL,
    "S3 file formats": destinations.S3_FILE_FORMATS,
    "default destination options": common.DEFAULT_DESTINATION_OPTIONS,
    "ManagedBy key": common.MANAGED_BY_KEY,
    "ManagedBy value": common.MANAGED_BY_VALUE,
    "log-group prefix": common.LOG_GROUP_PREFIX,
    "boundary path": boundary.BOUNDARY_PATH,
    "flow logs service": delivery_role.FLOW_LOGS_SERVICE,
    "trust policy": delivery_role.trust_policy,
    "delivery policy": delivery_role.delivery_policy,
    "parse input": request.parse_request,
    "input error": input_checks.InvalidInputError,
    "Firehose destination": common.KINESIS_DATA_FIREHOSE,
    "cross-account role prefix": destinations.CROSS_ACCOUNT_ROLE_PREFIX,
    "source role": destinations.SOURCE_ROLE,
}
"""Where each fact lives in the runbook's script package (one place to re-point when it moves)."""

ACCOUNT: Final = accounts.ACCOUNT_ID
VPC_ID: Final = "vpc-0123456789abcdef0"


# --------------------------------------------------------------------------------------------
# Where the facts are read
# --------------------------------------------------------------------------------------------


@cache
def document() -> dict[str, Any]:
    """The runbook document's parameters, as written (the YAML in ssm_documents/)."""
    parameters: dict[str, Any] = yaml.safe_load(
        remediation_runbook.DOCUMENT_PATH.read_text(encoding="utf-8")
    )["parameters"]
    return parameters


def allowed(name: str) -> list[str]:
    values: list[str] = document()[name]["allowedValues"]
    return values


def default(name: str) -> str:
    value: str = document()[name]["default"]
    return value


@cache
def context() -> dict[str, Any]:
    """``cdk.json``'s context: the settings' defaults."""
    return cdk_json_context()


@cache
def template() -> dict[str, Any]:
    """The account stack as ``cdk synth`` builds it with ``cdk.json``'s defaults."""
    return synthesize().json


@cache
def policies() -> dict[str, Any]:
    """The template's identity policies, resolved; the automation role's and the boundary's."""
    return identity_policies(template())


def template_strings(pattern: str) -> set[str]:
    """The first group of every match of ``pattern`` in the template's identity policies."""
    return set(re.findall(pattern, json.dumps(policies())))


def one_resource(resource_type: str) -> dict[str, Any]:
    (found,) = [r for r in template()["Resources"].values() if r["Type"] == resource_type]
    properties: dict[str, Any] = found["Properties"]
    return properties


@cache
def aws_model(service: str) -> Any:
    """botocore's model of an AWS service: its enums and its documented values."""
    return botocore.session.get_session().get_service_model(service)


def ec2_enum(shape: str) -> list[str]:
    values: list[str] = aws_model("ec2").shape_for(shape).enum
    return values


def documentation(service: str, operation: str, *members: str) -> str:
    """The documentation of a request member (``members`` is its path in the input shape)."""
    shape = aws_model(service).operation_model(operation).input_shape
    for member in members:
        shape = shape.members[member]
    text: str = shape.documentation
    return text


def documented_default(service: str, operation: str, *members: str) -> str:
    """What the model says a member defaults to: ``The default is <code>x</code>`` or
    ``Default: x``."""
    text = documentation(service, operation, *members)
    found = re.search(r"The default is <code>([^<]+)</code>|Default: (\w+)", text)
    assert found, f"{service} {operation} {'.'.join(members)} no longer documents its default"
    return found[1] or found[2]


def retention_values_of_cloudwatch_logs() -> tuple[int, ...]:
    text = documentation("logs", "PutRetentionPolicy", "retentionInDays")
    found = re.search(r"Possible values are: ([\d, and]+)\.", text)
    assert found, "PutRetentionPolicy no longer lists its retention values"
    return tuple(int(days) for days in re.findall(r"\d+", found[1]))


def aggregation_intervals_of_ec2() -> tuple[int, ...]:
    text = documentation("ec2", "CreateFlowLogs", "MaxAggregationInterval")
    found = re.search(r"The possible values are (.+?)\.", text)
    assert found, "CreateFlowLogs no longer lists the MaxAggregationInterval values"
    return tuple(int(seconds) for seconds in re.findall(r"(\d+) seconds", found[1]))


def pattern_literal(name: str, before: str) -> str:
    """The literal text of a document ``allowedPattern`` up to its first character class ``[``,
    after ``before`` (e.g. the log-group prefix in ``^$|^/aws/vpc-flow-logs/[...]{1,493}$``)."""
    pattern: str = document()[name]["allowedPattern"]
    found = re.search(re.escape(before) + r"([^\[\\(]*)\[", pattern)
    assert found, f"{name}'s allowedPattern {pattern!r} has no literal after {before!r}"
    return found[1]


def flag(text: str) -> bool:
    assert text in ("true", "false"), text
    return text == "true"


def rule_defaults() -> rule_parameters.RuleParameters:
    """The rule's parameters when Config gives it none."""
    return rule_parameters.parse_parameters(None)


def described_flow_log() -> rule_model.FlowLog:
    """A DescribeFlowLogs entry without the optional fields, as the rule reads it."""
    return rule_model.FlowLog.from_description({"FlowLogId": "fl-1", "ResourceId": VPC_ID})


def settings(**overrides: object) -> Settings:
    return Settings.from_mapping({**context(), **overrides})


# --------------------------------------------------------------------------------------------
# Facts with one value
# --------------------------------------------------------------------------------------------


class Lazy:
    """A place read only when its fact is checked (the template: a synth takes seconds)."""

    def __init__(self, read: Callable[[], object]) -> None:
        self.read = read


@dataclass(frozen=True)
class Fact:
    """One shared fact: a name, and where it is written (place -> its value there)."""

    name: str
    places: dict[str, object]
    unordered: bool = False
    """Compare as sets: the places list the same members, in whatever order."""

    def read(self) -> dict[str, object]:
        values = {
            place: value.read() if isinstance(value, Lazy) else value
            for place, value in self.places.items()
        }
        if self.unordered:
            return {place: frozenset(value) for place, value in values.items()}  # type: ignore[call-overload]  # each place gives a collection
        return values

    def differing(self, values: dict[str, object]) -> list[str]:
        """The places whose value is not the first place's."""
        expected = next(iter(values.values()))
        return [place for place, value in values.items() if value != expected]


def single(values: Iterable[str]) -> object:
    """The one value found in every place of a kind (e.g. every log-group ARN of a policy), or
    all of them, sorted, when they differ (so the comparison fails and shows them)."""
    found = sorted(set(values))
    return found[0] if len(found) == 1 else found


def in_template(pattern: str) -> Lazy:
    """The one value the group of ``pattern`` takes in the template's identity policies."""
    return Lazy(lambda: single(template_strings(pattern)))


def template_property(resource_type: str, *path: str) -> Lazy:
    def read() -> object:
        value: Any = one_resource(resource_type)
        for key in path:
            value = value[key]
        return value

    return Lazy(read)


DEFAULTS: Final = rule_defaults()
UNDESCRIBED: Final = described_flow_log()
SCRIPT_OPTIONS: Final = RUNBOOK_SCRIPT["default destination options"]
EC2_OPTIONS: Final = ("ec2", "CreateFlowLogs", "DestinationOptions")
TAG_KEY: Final = r'"aws:(?:Request|Resource)Tag/([^"]+)"'
TAG_VALUE: Final = r'"aws:(?:Request|Resource)Tag/[^"]+": "([^"]+)"'

FACTS: Final = [
    Fact(
        "traffic types",
        {
            "rule (parameters.TRAFFIC_TYPES)": rule_parameters.TRAFFIC_TYPES,
            "settings (account.TRAFFIC_TYPES)": settings_module.TRAFFIC_TYPES,
            "runbook script": RUNBOOK_SCRIPT["traffic types"],
            "runbook document (TrafficType allowedValues)": allowed("TrafficType"),
            "EC2 API (TrafficType enum)": ec2_enum("TrafficType"),
        },
        unordered=True,
    ),
    Fact(
        "destination types the rule accepts",
        {
            "rule (parameters.DESTINATION_TYPES)": rule_parameters.DESTINATION_TYPES,
            "rule (default AllowedDestinationTypes)": DEFAULTS.allowed_destination_types,
            "settings (account.DESTINATION_TYPES)": settings_module.DESTINATION_TYPES,
            "cdk.json (allowedDestinationTypes)": context()["allowedDestinationTypes"],
            "EC2 API (LogDestinationType enum)": ec2_enum("LogDestinationType"),
        },
        unordered=True,
    ),
    Fact(
        "destination types the runbook creates",
        {
            "runbook script": RUNBOOK_SCRIPT["destination types"],
            "runbook document (DestinationType allowedValues)": allowed("DestinationType"),
            "settings (account.RUNBOOK_DESTINATIONS)": settings_module.RUNBOOK_DESTINATIONS,
        },
        unordered=True,
    ),
    Fact(
        "the CloudWatch Logs destination type",
        {
            "rule (model.CLOUD_WATCH_LOGS)": rule_model.CLOUD_WATCH_LOGS,
            "rule (a flow log that names none)": UNDESCRIBED.destination_type,
            "settings (account.CLOUD_WATCH_LOGS)": settings_module.CLOUD_WATCH_LOGS,
            "runbook script": RUNBOOK_SCRIPT["CloudWatch Logs destination"],
            "runbook document (DestinationType default)": default("DestinationType"),
            "cdk.json (destination)": context()["destination"],
        },
    ),
    Fact(
        "the S3 destination type",
        {
            "rule (model.S3)": rule_model.S3,
            "settings (account.S3)": settings_module.S3,
            "runbook script": RUNBOOK_SCRIPT["S3 destination"],
        },
    ),
    Fact(
        "log group retention values",
        {
            "settings (account.LOG_RETENTION_DAYS)": settings_module.LOG_RETENTION_DAYS,
            "runbook script": RUNBOOK_SCRIPT["retention days"],
            "runbook document (RetentionInDays allowedValues)": tuple(
                map(int, allowed("RetentionInDays"))
            ),
            "CloudWatch Logs API (PutRetentionPolicy)": retention_values_of_cloudwatch_logs(),
        },
    ),
    Fact(
        "aggregation intervals",
        {
            "rule (parameters.AGGREGATION_INTERVALS)": rule_parameters.AGGREGATION_INTERVALS,
            "settings (account.AGGREGATION_INTERVALS)": settings_module.AGGREGATION_INTERVALS,
            "runbook script": RUNBOOK_SCRIPT["aggregation intervals"],
            "runbook document (MaxAggregationInterval allowedValues)": tuple(
                map(int, allowed("MaxAggregationInterval"))
            ),
            "EC2 API (CreateFlowLogs MaxAggregationInterval)": aggregation_intervals_of_ec2(),
        },
    ),
    Fact(
        "the default aggregation interval",
        {
            "rule (model.DEFAULT_AGGREGATION_INTERVAL)": rule_model.DEFAULT_AGGREGATION_INTERVAL,
            "rule (default MaxAggregationInterval)": DEFAULTS.max_aggregation_interval,
            "rule (a flow log that names none)": UNDESCRIBED.max_aggregation_interval,
            "runbook script": RUNBOOK_SCRIPT["default aggregation interval"],
            "runbook document (MaxAggregationInterval default)": int(
                default("MaxAggregationInterval")
            ),
            "cdk.json (maxAggregationInterval)": context()["maxAggregationInterval"],
            "EC2 API (CreateFlowLogs MaxAggregationInterval)": int(
                documented_default("ec2", "CreateFlowLogs", "MaxAggregationInterval")
            ),
        },
    ),
    Fact(
        "S3 file formats",
        {
            "rule (parameters.S3_FILE_FORMATS)": rule_parameters.S3_FILE_FORMATS,
            "settings (account.S3_FILE_FORMATS)": settings_module.S3_FILE_FORMATS,
            "runbook script": RUNBOOK_SCRIPT["S3 file formats"],
            "runbook document (S3FileFormat allowedValues)": allowed("S3FileFormat"),
            "EC2 API (DestinationFileFormat enum)": ec2_enum("DestinationFileFormat"),
        },
        unordered=True,
    ),
    Fact(
        "the default S3 file format",
        {
            "rule (model.PLAIN_TEXT)": rule_model.PLAIN_TEXT,
            "rule (a flow log that names none)": UNDESCRIBED.file_format,
            "settings (first of account.S3_FILE_FORMATS)": settings_module.S3_FILE_FORMATS[0],
            "runbook script": SCRIPT_OPTIONS["FileFormat"],
            "runbook document (S3FileFormat default)": default("S3FileFormat"),
            "cdk.json (s3FileFormat)": context()["s3FileFormat"],
            "EC2 API (DestinationOptions FileFormat)": documented_default(
                *EC2_OPTIONS, "FileFormat"
            ),
        },
    ),
    Fact(
        "the default S3 Hive-compatible partitions",
        {
            "rule (a flow log that names none)": UNDESCRIBED.hive_compatible_partitions,
            "runbook script": SCRIPT_OPTIONS["HiveCompatiblePartitions"],
            "runbook document (S3HiveCompatiblePartitions default)": flag(
                default("S3HiveCompatiblePartitions")
            ),
            "cdk.json (s3HiveCompatiblePartitions)": context()["s3HiveCompatiblePartitions"],
            "EC2 API (DestinationOptions HiveCompatiblePartitions)": flag(
                documented_default(*EC2_OPTIONS, "HiveCompatiblePartitions")
            ),
        },
    ),
    Fact(
        "the default S3 per-hour partition",
        {
            "rule (a flow log that names none)": UNDESCRIBED.per_hour_partition,
            "runbook script": SCRIPT_OPTIONS["PerHourPartition"],
            "runbook document (S3PerHourPartition default)": flag(default("S3PerHourPartition")),
            "cdk.json (s3PerHourPartition)": context()["s3PerHourPartition"],
            "EC2 API (DestinationOptions PerHourPartition)": flag(
                documented_default(*EC2_OPTIONS, "PerHourPartition")
            ),
        },
    ),
    Fact(
        "the default traffic type",
        {
            "rule (default TrafficType)": DEFAULTS.traffic_type,
            "runbook document (TrafficType default)": default("TrafficType"),
            "cdk.json (trafficType)": context()["trafficType"],
        },
    ),
    Fact(
        "the default minimum retention",
        {
            "rule (default MinRetentionDays)": DEFAULTS.min_retention_days,
            "cdk.json (minRetentionDays)": context()["minRetentionDays"],
        },
    ),
    Fact(
        "the default retention",
        {
            "runbook document (RetentionInDays default)": int(default("RetentionInDays")),
            "cdk.json (retentionInDays)": context()["retentionInDays"],
        },
    ),
    Fact(
        "the default log format (AWS's own: none given)",
        {
            "rule (default LogFormat fields)": " ".join(DEFAULTS.log_fields),
            "runbook document (LogFormat default)": default("LogFormat"),
            "cdk.json (logFormat)": context()["logFormat"],
        },
    ),
    Fact(
        "the default KMS key (none)",
        {
            "runbook document (KmsKeyArn default)": default("KmsKeyArn"),
            "cdk.json (kmsKeyArn)": context()["kmsKeyArn"],
        },
    ),
    Fact(
        "the default delivery-success requirement",
        {
            "rule (default RequireDeliverySuccess)": DEFAULTS.require_delivery_success,
            "cdk.json (requireDeliverySuccess)": context()["requireDeliverySuccess"],
        },
    ),
    Fact(
        "the default exemptions (none)",
        {
            "rule (default ExemptVpcIds, ExemptTag)": (
                sorted(DEFAULTS.exempt_vpc_ids),
                DEFAULTS.exempt_tag or "",
            ),
            "cdk.json (exemptVpcIds, exemptTag)": (
                context()["exemptVpcIds"],
                context()["exemptTag"],
            ),
        },
    ),
    Fact(
        "the ManagedBy tag key",
        {
            "runbook script": RUNBOOK_SCRIPT["ManagedBy key"],
            "stack (remediation_runbook.MANAGED_BY_KEY)": remediation_runbook.MANAGED_BY_KEY,
            "template (automation role's aws:RequestTag/ and aws:ResourceTag/)": in_template(
                TAG_KEY
            ),
            "template (automation role's aws:TagKeys)": in_template(
                r'"aws:TagKeys": \["([^"]+)"\]'
            ),
        },
    ),
    Fact(
        "the ManagedBy tag value",
        {
            "runbook script": RUNBOOK_SCRIPT["ManagedBy value"],
            "stack (remediation_runbook.MANAGED_BY_VALUE)": remediation_runbook.MANAGED_BY_VALUE,
            "template (automation role's aws:RequestTag/ and aws:ResourceTag/)": in_template(
                TAG_VALUE
            ),
        },
    ),
    Fact(
        "the log-group prefix",
        {
            "runbook script": RUNBOOK_SCRIPT["log-group prefix"],
            "runbook script (delivery role's policy)": single(
                re.findall(
                    r":log-group:([^\"*]+)\*",
                    json.dumps(RUNBOOK_SCRIPT["delivery policy"]("aws", ACCOUNT)),
                )
            ),
            "runbook document (LogGroupName allowedPattern)": pattern_literal(
                "LogGroupName", "^$|^"
            ),
            "settings (account.LOG_GROUP_PREFIX)": settings_module.LOG_GROUP_PREFIX,
            "settings (the rule's LogGroupNamePrefix)": settings().rule_input_parameters()[
                "LogGroupNamePrefix"
            ],
            "template (the rule's InputParameters)": template_property(
                "AWS::Config::ConfigRule", "InputParameters", "LogGroupNamePrefix"
            ),
            "template (automation role's and boundary's log-group ARNs)": in_template(
                r":log-group:(/[^\"*]+)\*"
            ),
            "embedded AWS (scenario.FLOW_LOG_PREFIX)": scenario.FLOW_LOG_PREFIX,
        },
    ),
    Fact(
        "the delivery role's boundary path",
        {
            "runbook script": RUNBOOK_SCRIPT["boundary path"],
            "runbook document (DeliveryRoleBoundaryArn allowedPattern)": pattern_literal(
                "DeliveryRoleBoundaryArn", ":policy"
            ),
            "stack (remediation_runbook.BOUNDARY_PATH)": remediation_runbook.BOUNDARY_PATH,
            "template (the boundary's Path)": template_property("AWS::IAM::ManagedPolicy", "Path"),
            "template (automation role's policy ARNs)": in_template(r":policy(/[^\"*]+/)"),
        },
    ),
    Fact(
        "the delivery role's name",
        {
            "settings (account.DELIVERY_ROLE_NAME)": settings_module.DELIVERY_ROLE_NAME,
            "runbook document (DeliveryRoleName default)": default("DeliveryRoleName"),
            "template (automation role's role ARNs)": in_template(
                r"arn:aws:iam::\d{12}:role/([^\"*]+)"
            ),
            "tests (support.accounts.DELIVERY_ROLE_NAME)": accounts.DELIVERY_ROLE_NAME,
        },
    ),
    Fact(
        "the rule's name",
        {
            "stack (config_rule.RULE_NAME)": config_rule.RULE_NAME,
            "template (ConfigRuleName)": template_property(
                "AWS::Config::ConfigRule", "ConfigRuleName"
            ),
            "command (cli.RULE_NAME)": cli.RULE_NAME,
            "tests (support.accounts.RULE_NAME)": accounts.RULE_NAME,
        },
    ),
    Fact(
        "VPC Flow Logs' service principal",
        {
            "runbook script": RUNBOOK_SCRIPT["flow logs service"],
            "runbook script (delivery role's trust policy)": RUNBOOK_SCRIPT["trust policy"](
                "aws", ACCOUNT
            )["Statement"][0]["Principal"]["Service"],
            "stack (remediation_runbook.FLOW_LOGS_SERVICE)": remediation_runbook.FLOW_LOGS_SERVICE,
            "embedded AWS (iam_requests.FLOW_LOGS_SERVICE)": iam_requests.FLOW_LOGS_SERVICE,
        },
    ),
    Fact(
        "the Firehose destination type",
        {
            "rule (model.KINESIS_DATA_FIREHOSE)": rule_model.KINESIS_DATA_FIREHOSE,
            "settings (account.KINESIS_DATA_FIREHOSE)": settings_module.KINESIS_DATA_FIREHOSE,
            "runbook script": RUNBOOK_SCRIPT["Firehose destination"],
        },
    ),
    Fact(
        "the name prefix of the stream account's role (VPC User Guide)",
        {
            "runbook script": RUNBOOK_SCRIPT["cross-account role prefix"],
            "runbook document (DeliverCrossAccountRole allowedPattern)": pattern_literal(
                "DeliverCrossAccountRole", "+/)*"
            ),
            "settings (account.CROSS_ACCOUNT_ROLE_PREFIX)": (
                settings_module.CROSS_ACCOUNT_ROLE_PREFIX
            ),
        },
    ),
    Fact(
        "the Firehose source role's IAM path",
        {
            "stack (firehose_source.SOURCE_ROLE_PATH)": firehose_source.SOURCE_ROLE_PATH,
            "runbook script (the path its SOURCE_ROLE accepts)": single(
                path
                for path in (firehose_source.SOURCE_ROLE_PATH, "/", "/service-role/", "/other/")
                if RUNBOOK_SCRIPT["source role"].fullmatch(f"arn:aws:iam::{ACCOUNT}:role{path}R")
            ),
            "runbook document (DeliverLogsPermissionArn allowedPattern)": pattern_literal(
                "DeliverLogsPermissionArn", ":role"
            ),
        },
    ),
    Fact(
        "the log delivery service (the Firehose source role's principal)",
        {
            "stack (firehose_source.LOG_DELIVERY_SERVICE)": firehose_source.LOG_DELIVERY_SERVICE,
            "embedded AWS (iam_requests.LOG_DELIVERY_SERVICE)": iam_requests.LOG_DELIVERY_SERVICE,
        },
    ),
    Fact(
        "the runbook document",
        {
            "stack (remediation_runbook.DOCUMENT_PATH)": remediation_runbook.DOCUMENT_PATH,
            "command (plan.DOCUMENT)": cli_plan.DOCUMENT,
        },
    ),
]


def disagreement(fact: Fact, values: dict[str, object]) -> str:
    reference = next(iter(values))
    differing = fact.differing(values)
    lines = [f"{fact.name} differs where it is written (compared with {reference}):"]
    lines += [
        f"  {'≠' if place in differing else '='} {place}: {value!r}"
        for place, value in values.items()
    ]
    return "\n".join(lines)


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: fact.name)
def test_a_shared_fact_has_one_value_wherever_it_is_written(fact: Fact) -> None:
    values = fact.read()

    if fact.differing(values):
        pytest.fail(disagreement(fact, values), pytrace=False)


def test_the_failure_names_the_fact_and_each_place_with_its_value() -> None:
    fact = Fact("a fact", {"here": 1, "there": Lazy(lambda: 2)})

    assert disagreement(fact, fact.read()) == (
        "a fact differs where it is written (compared with here):\n  = here: 1\n  ≠ there: 2"
    )


def test_the_runbook_creates_only_destinations_the_rule_accepts() -> None:
    creates = set(RUNBOOK_SCRIPT["destination types"])

    assert creates <= set(rule_parameters.DESTINATION_TYPES), creates


# --------------------------------------------------------------------------------------------
# Parameter names: what the settings give each side is what that side declares
# --------------------------------------------------------------------------------------------

CENTRAL_BUCKET: Final = "arn:aws:s3:::org-vpc-flow-logs"
EVERY_SETTING: Final[dict[str, object]] = {
    "exemptVpcIds": ["vpc-0123456789abcdef0"],
    "exemptTag": "FlowLogsExempt=true",
    "logFormat": "${version} ${interface-id} ${srcaddr}",
}
CLOUD_WATCH_LOGS_SETTINGS: Final[dict[str, object]] = {
    **EVERY_SETTING,
    "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "centralLogDestinationArn": "arn:aws:logs:{region}:111122223333:destination:central",
}
S3_SETTINGS: Final[dict[str, object]] = {
    **EVERY_SETTING,
    "destination": "s3",
    "centralBucketArn": CENTRAL_BUCKET,
    "s3FileFormat": "parquet",
    "s3HiveCompatiblePartitions": True,
    "s3PerHourPartition": True,
}
ARCHIVE: Final = "111122223333"
FIREHOSE_SETTINGS: Final[dict[str, object]] = {
    **EVERY_SETTING,
    "destination": "kinesis-data-firehose",
    "centralFirehoseArn": f"arn:aws:firehose:{{region}}:{ARCHIVE}:deliverystream/org-flow-logs",
    "centralFirehoseRoleArn": (
        f"arn:aws:iam::{ARCHIVE}:role/AWSLogDeliveryFirehoseCrossAccountRole-{{region}}"
    ),
}
SOURCE_ROLE: Final = f"arn:aws:iam::{ACCOUNT}:role/vpc-flow-logs-guard/VpcFlowLogsGuard-Source-1A2B"
"""The stack's Firehose source account role, as the remediation configuration passes it."""
VARIANTS: Final[dict[str, dict[str, object]]] = {
    "cloud-watch-logs": CLOUD_WATCH_LOGS_SETTINGS,
    "s3": S3_SETTINGS,
    "kinesis-data-firehose": FIREHOSE_SETTINGS,
}


def runbook_parameters(chosen: Settings) -> dict[str, str]:
    """The runbook's parameters the stack passes (the source role only with Firehose)."""
    source_role = SOURCE_ROLE if chosen.to_firehose else ""
    return chosen.runbook_parameters(
        boundary_arn=BOUNDARY_ARN, firehose_source_role_arn=source_role
    )


def test_the_settings_reach_every_rule_parameter_and_no_other() -> None:
    given = {
        name
        for overrides in VARIANTS.values()
        for name in settings(**overrides).rule_input_parameters()
    }

    assert given == set(rule_parameters.PARAMETER_NAMES)


def test_the_settings_reach_every_runbook_parameter_and_no_other() -> None:
    given = {
        name
        for overrides in VARIANTS.values()
        for name in runbook_parameters(settings(**overrides))
    }
    # Config's remediation gives these two itself: the VPC's id and the automation role
    given |= {"VpcId", "AutomationAssumeRole"}

    assert given == set(document())


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_parameter_both_sides_get_has_the_same_value_on_both(variant: str) -> None:
    chosen = settings(**VARIANTS[variant])

    rule = chosen.rule_input_parameters()
    runbook = runbook_parameters(chosen)
    shared = set(rule) & set(runbook)

    assert {"TrafficType", "MaxAggregationInterval", "LogFormat"} <= shared
    assert {name: rule[name] for name in shared} == {name: runbook[name] for name in shared}


# --------------------------------------------------------------------------------------------
# Patterns: every place that validates a value gives the same verdict
# --------------------------------------------------------------------------------------------


def document_pattern(name: str) -> Callable[[str], bool]:
    return lambda value: re.search(document()[name]["allowedPattern"], value) is not None


def runbook_accepts(name: str, **context: str) -> Callable[[str], bool]:
    """Whether the script's own validation takes the payload with ``name`` set to the value."""

    def accepts(value: str) -> bool:
        events = runbook_input(VPC_ID, **context, **{name: value})
        try:
            RUNBOOK_SCRIPT["parse input"](events)
        except RUNBOOK_SCRIPT["input error"] as error:
            message = str(error)
        else:
            return True
        assert name in message, message  # refused for this value, not for another
        return False

    return accepts


def rule_accepts(name: str) -> Callable[[str], bool]:
    def accepts(value: str) -> bool:
        try:
            rule_parameters.parse_parameters({name: value})
        except rule_parameters.ParameterError:
            return False
        return True

    return accepts


def settings_accept(key: str, **context: object) -> Callable[[str], bool]:
    def accepts(value: str) -> bool:
        try:
            settings(**context, **{key: value})
        except SettingsError as error:
            message = str(error)
        else:
            return True
        assert key in message, message
        return False

    return accepts


def matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class Validation:
    """One kind of value, the places that validate it, and values with the expected verdict."""

    name: str
    places: dict[str, Callable[[str], bool]]
    samples: dict[str, bool]


STREAM_ACCOUNT: Final = "111122223333"
STREAM: Final = f"arn:aws:firehose:us-east-1:{STREAM_ACCOUNT}:deliverystream/central"
CROSS_ACCOUNT_ROLE: Final = (
    f"arn:aws:iam::{STREAM_ACCOUNT}:role/AWSLogDeliveryFirehoseCrossAccountRole-us-east-1"
)
SOURCE: Final = f"arn:aws:iam::{ACCOUNT}:role/vpc-flow-logs-guard/VpcFlowLogsGuard-Source-1A2B"
TO_STREAM: Final = {
    "DestinationType": "kinesis-data-firehose",
    "FirehoseArn": STREAM,
    "DeliverLogsPermissionArn": SOURCE,
    "DeliverCrossAccountRole": CROSS_ACCOUNT_ROLE,
}
"""The runbook's Firehose parameters, each validation varying one of them."""
TO_STREAM_SETTINGS: Final = {
    "destination": "kinesis-data-firehose",
    "centralFirehoseArn": STREAM,
    "centralFirehoseRoleArn": CROSS_ACCOUNT_ROLE,
}


def but(context: dict[str, str], name: str) -> dict[str, str]:
    """``context`` without ``name``: the value a validation varies."""
    return {key: value for key, value in context.items() if key != name}


KMS_KEY: Final = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VALIDATIONS: Final = [
    Validation(
        # The rule's ExemptVpcIds is left out: it reads ids case-insensitively, by design.
        "VPC id",
        {
            "runbook document (VpcId allowedPattern)": document_pattern("VpcId"),
            "runbook script (VpcId)": runbook_accepts("VpcId"),
            "settings (exemptVpcIds)": settings_accept("exemptVpcIds"),
        },
        {
            "vpc-0123456789abcdef0": True,
            "vpc-01234567": True,
            "vpc-0123": False,
            "vpc-012345678": False,
            "subnet-0123456789abcdef0": False,
            "vpc-0123456789ABCDEF0": False,
        },
    ),
    Validation(
        # The script and the rule also accept several spaces between fields (they fold them).
        "log format",
        {
            "runbook document (LogFormat allowedPattern)": document_pattern("LogFormat"),
            "runbook script (LogFormat)": runbook_accepts("LogFormat"),
            "rule (LogFormat)": rule_accepts("LogFormat"),
            "settings (logFormat)": settings_accept("logFormat"),
        },
        {
            "": True,
            "${version}": True,
            "${version} ${vpc-id} ${srcaddr} ${action}": True,
            "${version},${srcaddr}": False,
            "version srcaddr": False,
            "${Version}": False,
            "${version} srcaddr": False,
        },
    ),
    Validation(
        # The settings' centralBucketArn is left out: the log-archive bucket, without a prefix.
        "S3 bucket ARN with an optional key prefix",
        {
            "runbook document (S3BucketArn allowedPattern)": document_pattern("S3BucketArn"),
            "runbook script (S3BucketArn)": runbook_accepts("S3BucketArn", DestinationType="s3"),
            "rule (S3BucketArn)": rule_accepts("S3BucketArn"),
        },
        {
            "arn:aws:s3:::flow-logs": True,
            "arn:aws:s3:::flow-logs/": True,
            "arn:aws:s3:::flow-logs.example-1/team-a/vpc_logs": True,
            "arn:aws:s3:::Flow-Logs": False,
            "arn:aws:s3:::fl": False,
            "arn:aws:s3:::flow-logs//double": False,
            "arn:aws:s3:::flow-logs/a b": False,
            "arn:aws:s3:::flow-logs/a*": False,
            "flow-logs": False,
            "arn:aws:s3:eu-west-1:123456789012:flow-logs": False,
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/a": False,
            "arn:awsx:s3:::flow-logs": False,  # not a partition
        },
    ),
    Validation(
        "KMS key ARN",
        {
            "runbook document (KmsKeyArn allowedPattern)": document_pattern("KmsKeyArn"),
            "runbook script (KmsKeyArn)": runbook_accepts("KmsKeyArn"),
            "settings (kmsKeyArn)": settings_accept("kmsKeyArn"),
        },
        {
            "": True,
            KMS_KEY: True,
            "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab": True,
            "arn:aws:kms:us-east-1:123456789012:alias/logs": False,
            "1234abcd-12ab-34cd-56ef-1234567890ab": False,
            KMS_KEY.upper(): False,
            KMS_KEY.replace("arn:aws:", "arn:awsx:"): False,  # not a partition
        },
    ),
    Validation(
        "log group name",
        {
            "runbook document (LogGroupName allowedPattern)": document_pattern("LogGroupName"),
            "runbook script (LogGroupName)": runbook_accepts("LogGroupName"),
        },
        {
            "": True,
            "/aws/vpc-flow-logs/prod": True,
            "/aws/vpc-flow-logs/team/a_b-c.d#1": True,
            "/aws/vpc-flow-logs/": False,
            "/aws/vpc-flow-logsX/a": False,
            "/other/vpc-flow-logs/a": False,
            "/aws/vpc-flow-logs/a*": False,
            "/aws/vpc-flow-logs/" + "a" * 493: True,
            "/aws/vpc-flow-logs/" + "a" * 494: False,
        },
    ),
    Validation(
        "IAM role name",
        {
            "runbook document (DeliveryRoleName allowedPattern)": document_pattern(
                "DeliveryRoleName"
            ),
            "runbook script (DeliveryRoleName)": runbook_accepts("DeliveryRoleName"),
            "command (cli.ROLE_NAME, --role-name)": matches(cli.ROLE_NAME),
        },
        {
            "VpcFlowLogsDeliveryRole": True,
            "a+b=c,d.e@f_g-h": True,
            "a" * 64: True,
            "a" * 65: False,
            "role/with-path": False,
            "with space": False,
        },
    ),
    Validation(
        "delivery role boundary ARN",
        {
            "runbook document (DeliveryRoleBoundaryArn allowedPattern)": document_pattern(
                "DeliveryRoleBoundaryArn"
            ),
            "runbook script (DeliveryRoleBoundaryArn)": runbook_accepts("DeliveryRoleBoundaryArn"),
        },
        {
            BOUNDARY_ARN: True,
            BOUNDARY_ARN.replace("vpc-flow-logs-guard/", ""): False,
            "arn:aws:iam::aws:policy/AdministratorAccess": False,
            BOUNDARY_ARN + "/nested": False,
            BOUNDARY_ARN.replace("arn:aws:", "arn:awsx:"): False,  # not a partition
        },
    ),
    Validation(
        # The settings also take {region} for the Region (each stack's own): not sampled here.
        "Firehose stream ARN",
        {
            "runbook document (FirehoseArn allowedPattern)": document_pattern("FirehoseArn"),
            "runbook script (FirehoseArn)": runbook_accepts(
                "FirehoseArn", **but(TO_STREAM, "FirehoseArn")
            ),
            "rule (FirehoseArn)": rule_accepts("FirehoseArn"),
            "settings (centralFirehoseArn)": settings_accept(
                "centralFirehoseArn", **but(TO_STREAM_SETTINGS, "centralFirehoseArn")
            ),
        },
        {
            STREAM: True,
            STREAM.replace("central", "A.b_c-1"): True,
            STREAM.replace("central", "a" * 64): True,
            STREAM.replace("central", "a" * 65): False,
            STREAM.replace("deliverystream/", "deliverystream:"): False,  # EC2's doc example
            STREAM.replace("central", "a b"): False,
            STREAM.replace("arn:aws:", "arn:awsx:"): False,
            STREAM.replace(STREAM_ACCOUNT, "11112222333"): False,
            f"arn:aws:kinesis:us-east-1:{STREAM_ACCOUNT}:stream/central": False,
        },
    ),
    Validation(
        "the stream account's role ARN",
        {
            "runbook document (DeliverCrossAccountRole allowedPattern)": document_pattern(
                "DeliverCrossAccountRole"
            ),
            "runbook script (DeliverCrossAccountRole)": runbook_accepts(
                "DeliverCrossAccountRole", **but(TO_STREAM, "DeliverCrossAccountRole")
            ),
            "settings (centralFirehoseRoleArn)": settings_accept(
                "centralFirehoseRoleArn", **but(TO_STREAM_SETTINGS, "centralFirehoseRoleArn")
            ),
        },
        {
            CROSS_ACCOUNT_ROLE: True,
            CROSS_ACCOUNT_ROLE.removesuffix("-us-east-1"): True,
            CROSS_ACCOUNT_ROLE.replace(":role/", ":role/team/"): True,
            CROSS_ACCOUNT_ROLE.replace("AWSLogDelivery", ""): False,
            CROSS_ACCOUNT_ROLE.replace(":role/", ":role/My"): False,
            CROSS_ACCOUNT_ROLE.replace(":role/", ":user/"): False,
            CROSS_ACCOUNT_ROLE.replace("arn:aws:", "arn:awsx:"): False,
        },
    ),
    Validation(
        "the Firehose source role ARN",
        {
            "runbook document (DeliverLogsPermissionArn allowedPattern)": document_pattern(
                "DeliverLogsPermissionArn"
            ),
            "runbook script (DeliverLogsPermissionArn)": runbook_accepts(
                "DeliverLogsPermissionArn", **but(TO_STREAM, "DeliverLogsPermissionArn")
            ),
        },
        {
            SOURCE: True,
            SOURCE.replace("VpcFlowLogsGuard-Source-1A2B", "a" * 64): True,
            SOURCE.replace("VpcFlowLogsGuard-Source-1A2B", "a" * 65): False,
            SOURCE.replace("vpc-flow-logs-guard/", ""): False,
            SOURCE.replace("vpc-flow-logs-guard/", "vpc-flow-logs-guard/nested/"): False,
            SOURCE.replace("arn:aws:", "arn:awsx:"): False,
        },
    ),
    Validation(
        "Region",
        {
            "runbook script (Region)": runbook_accepts("Region"),
            "command (cli.REGION, --regions)": matches(cli.REGION),
        },
        {
            "us-east-1": True,
            "eu-central-2": True,
            "us-gov-west-1": True,
            "US-EAST-1": False,
            "useast1": False,
            "us-east": False,
        },
    ),
]


def shorten(sample: str) -> str:
    return sample if len(sample) <= 60 else f"{sample[:40]}…({len(sample)} characters)"


@pytest.mark.parametrize("validation", VALIDATIONS, ids=lambda validation: validation.name)
def test_every_place_that_validates_a_value_gives_the_same_verdict(
    validation: Validation,
) -> None:
    verdicts = {
        sample: {place: accepts(sample) for place, accepts in validation.places.items()}
        for sample in validation.samples
    }

    wrong = {
        shorten(sample): {
            place: verdict for place, verdict in by_place.items() if verdict != expected
        }
        for sample, by_place in verdicts.items()
        for expected in [validation.samples[sample]]
        if any(verdict != expected for verdict in by_place.values())
    }
    if wrong:
        pytest.fail(f"{validation.name}: places that answer otherwise than expected: {wrong}")


def test_log_group_names_are_the_ones_cloudwatch_logs_accepts() -> None:
    # Given CloudWatch Logs' own limits on a log group name (CreateLogGroup in its model)
    limits = aws_model("logs").operation_model("CreateLogGroup").input_shape
    name_shape = limits.members["logGroupName"]
    longest, characters = name_shape.metadata["max"], name_shape.metadata["pattern"]
    prefix = RUNBOOK_SCRIPT["log-group prefix"]
    in_document = document_pattern("LogGroupName")
    by_script = runbook_accepts("LogGroupName")
    as_rule_prefix = rule_accepts("LogGroupNamePrefix")

    # Then one character more under the prefix is accepted exactly when CloudWatch Logs takes it
    for character in string.printable.strip():
        aws_takes = re.fullmatch(characters, character) is not None
        name = prefix + character
        assert in_document(name) is by_script(name) is as_rule_prefix(name) is aws_takes, name
    # And the longest name is CloudWatch Logs' longest
    assert in_document(prefix + "a" * (longest - len(prefix)))
    assert not in_document(prefix + "a" * (longest - len(prefix) + 1))
