"""What the rule decides, from plain data: no AWS calls here.

A flow log counts only if it passes every check (ACTIVE; delivery not FAILED, unless the rule is
told not to require it; an allowed destination type; for CloudWatch Logs, a log group in this
account and region that exists, is under ``LogGroupNamePrefix`` when set and keeps logs long
enough; for S3, when ``S3BucketArn`` is set, that bucket, and the ``S3FileFormat`` and partition
options when set; for Firehose, when ``FirehoseArn`` is set, that stream; the fields of
``LogFormat``, in any order among others; an aggregation interval no longer than
``MaxAggregationInterval``).
The VPC is COMPLIANT when the flow logs that count cover the required traffic together: ALL
covers ACCEPT and REJECT, ACCEPT + REJECT cover ALL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from vpc_flow_logs_rule import annotation
from vpc_flow_logs_rule.model import (
    CLOUD_WATCH_LOGS,
    KINESIS_DATA_FIREHOSE,
    S3,
    VPC_RESOURCE_TYPE,
    ComplianceType,
    Evaluation,
    FlowLog,
    LogGroup,
    Vpc,
)
from vpc_flow_logs_rule.parameters import log_fields

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from vpc_flow_logs_rule.parameters import RuleParameters

COVERS: Final[Mapping[str, frozenset[str]]] = {
    "ACCEPT": frozenset({"ACCEPT"}),
    "REJECT": frozenset({"REJECT"}),
    "ALL": frozenset({"ACCEPT", "REJECT"}),
}
DELETED_STATUSES: Final = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded"})
NOT_RECORDED_STATUS: Final = "ResourceNotRecorded"
EVALUATED_STATUSES: Final = frozenset({"OK", "ResourceDiscovered"})


@dataclass(frozen=True)
class Verdict:
    compliance_type: ComplianceType
    annotation: str


@dataclass(frozen=True)
class Account:
    """Where the rule runs: a log group elsewhere cannot be checked, so it does not count."""

    account_id: str
    region: str


@dataclass(frozen=True)
class LogGroupReference:
    name: str
    account_id: str | None
    region: str | None

    def is_in(self, account: Account) -> bool:
        return self.account_id in (None, account.account_id) and self.region in (
            None,
            account.region,
        )


def log_group_reference(flow_log: FlowLog) -> LogGroupReference | None:
    """The CloudWatch Logs group a flow log delivers to, from its ARN when it has one."""
    arn = flow_log.log_destination
    if arn:
        # arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]
        parts = arn.split(":", 6)
        if len(parts) == 7 and parts[2] == "logs" and parts[5] == "log-group":
            name = parts[6].removesuffix(":*")
            return LogGroupReference(name, parts[4] or None, parts[3] or None)
    if flow_log.log_group_name:
        return LogGroupReference(flow_log.log_group_name, None, None)
    return None


def _checks_log_group(flow_log: FlowLog, parameters: RuleParameters) -> bool:
    return (
        flow_log.destination_type == CLOUD_WATCH_LOGS
        and CLOUD_WATCH_LOGS in parameters.allowed_destination_types
    )


def log_groups_to_describe(
    flow_logs: Iterable[FlowLog], parameters: RuleParameters, account: Account
) -> list[str]:
    """Names of the log groups in this account and region that these flow logs depend on."""
    names = set()
    for flow_log in flow_logs:
        reference = log_group_reference(flow_log)
        if (
            _checks_log_group(flow_log, parameters)
            and reference
            and reference.is_in(account)
            and _under_prefix(reference.name, parameters)  # outside it, it fails unread
        ):
            names.add(reference.name)
    return sorted(names)


DELIVERY_FAILED: Final = "FAILED"
"""The only ``DeliverLogsStatus`` that stops a flow log from counting. EC2 documents SUCCESS and
FAILED (API reference, ``FlowLog``) but does not promise the field on a new flow log: a missing
or other status is not a failure. The runbook reads it the same way; otherwise remediation would
succeed without a change while the rule kept the VPC NON_COMPLIANT."""


def flow_log_problems(
    flow_log: FlowLog,
    log_groups: Mapping[str, LogGroup],
    parameters: RuleParameters,
    account: Account,
) -> list[str]:
    """Everything that stops this flow log from counting; empty when it counts.

    ``log_groups`` holds the groups that exist, by name, among those of
    :func:`log_groups_to_describe`.
    """
    fid = flow_log.flow_log_id
    problems = []
    if flow_log.flow_log_status != "ACTIVE":
        problems.append(annotation.not_active(fid, flow_log.flow_log_status))
    if parameters.require_delivery_success and flow_log.deliver_logs_status == DELIVERY_FAILED:
        problems.append(annotation.delivery_failed(fid, flow_log.deliver_logs_error_message))
    if flow_log.max_aggregation_interval > parameters.max_aggregation_interval:
        problems.append(
            annotation.long_aggregation_interval(
                fid, flow_log.max_aggregation_interval, parameters.max_aggregation_interval
            )
        )
    missing_fields = missing_log_fields(flow_log.log_format, parameters.log_fields)
    if missing_fields:
        problems.append(annotation.missing_log_fields(fid, missing_fields))
    if flow_log.destination_type not in parameters.allowed_destination_types:
        problems.append(
            annotation.destination_not_allowed(
                fid, flow_log.destination_type, parameters.allowed_destination_types
            )
        )
    elif _checks_log_group(flow_log, parameters):
        problems.extend(_log_group_problems(flow_log, log_groups, parameters, account))
    elif (
        flow_log.destination_type == S3
        and parameters.s3_bucket_arn
        and not delivers_under(flow_log.log_destination, parameters.s3_bucket_arn)
    ):
        problems.append(
            annotation.wrong_bucket(fid, flow_log.log_destination, parameters.s3_bucket_arn)
        )
    elif (
        flow_log.destination_type == KINESIS_DATA_FIREHOSE
        and parameters.firehose_arn
        and not same_stream(flow_log.log_destination, parameters.firehose_arn)
    ):
        problems.append(
            annotation.wrong_stream(fid, flow_log.log_destination, parameters.firehose_arn)
        )
    if flow_log.destination_type == S3:
        problems.extend(_destination_option_problems(flow_log, parameters))
    return problems


def missing_log_fields(log_format: str, required: Sequence[str]) -> list[str]:
    """The required ``${field}`` tokens a flow log's format lacks: order and extras do not
    matter, since every record still carries the fields a reader needs."""
    present = set(log_fields(log_format))
    return [field for field in required if field not in present]


def _destination_option_problems(flow_log: FlowLog, parameters: RuleParameters) -> list[str]:
    """The S3 DestinationOptions the parameters require and the flow log does not have."""
    fid = flow_log.flow_log_id
    options = (
        ("FileFormat", flow_log.file_format, parameters.s3_file_format),
        (
            "HiveCompatiblePartitions",
            flow_log.hive_compatible_partitions,
            parameters.s3_hive_compatible_partitions,
        ),
        ("PerHourPartition", flow_log.per_hour_partition, parameters.s3_per_hour_partition),
    )
    return [
        annotation.wrong_destination_option(fid, name, actual, required)
        for name, actual, required in options
        if required is not None and actual != required
    ]


def _under_prefix(name: str, parameters: RuleParameters) -> bool:
    prefix = parameters.log_group_name_prefix
    return prefix is None or name.startswith(prefix)


def delivers_under(destination: str | None, required: str) -> bool:
    """Whether an S3 destination is the required bucket ARN (and prefix) or a folder under it.

    ``arn:aws:s3:::logs/team-a`` is under ``arn:aws:s3:::logs``; ``arn:aws:s3:::logs-2`` is not.
    """
    if not destination:
        return False
    destination = destination.rstrip("/")
    return destination == required or destination.startswith(required + "/")


def same_stream(destination: str | None, required: str) -> bool:
    """Whether a flow log's Firehose destination is the required stream.

    A stream's ARN is ``...:deliverystream/<name>``; EC2's API reference writes the
    ``LogDestination`` example as ``...:deliverystream:<name>``, so both spellings of the same
    stream are the same stream.
    """
    if not destination:
        return False
    return _stream_key(destination) == _stream_key(required)


def _stream_key(arn: str) -> str:
    return arn.replace(":deliverystream:", ":deliverystream/", 1)


def _log_group_problems(
    flow_log: FlowLog,
    log_groups: Mapping[str, LogGroup],
    parameters: RuleParameters,
    account: Account,
) -> list[str]:
    fid = flow_log.flow_log_id
    reference = log_group_reference(flow_log)
    if reference is None:
        return [annotation.no_log_group(fid)]
    if not reference.is_in(account):
        return [
            annotation.log_group_elsewhere(
                fid,
                reference.name,
                reference.account_id or account.account_id,
                reference.region or account.region,
            )
        ]
    if not _under_prefix(reference.name, parameters):
        return [
            annotation.log_group_outside_prefix(
                fid, reference.name, parameters.log_group_name_prefix or ""
            )
        ]
    group = log_groups.get(reference.name)
    if group is None:
        return [annotation.log_group_missing(fid, reference.name)]
    # No retention (None) never expires; MinRetentionDays 0 accepts any retention.
    minimum = parameters.min_retention_days
    days = group.retention_in_days
    if days is not None and days < minimum:
        return [annotation.short_retention(fid, reference.name, days, minimum)]
    return _forwarding_problems(fid, group, parameters)


def _forwarding_problems(fid: str, group: LogGroup, parameters: RuleParameters) -> list[str]:
    """With ``CentralLogDestinationArn``, the log group must forward there."""
    destination = parameters.central_log_destination_arn
    if destination and destination not in group.forwarded_to:
        return [annotation.not_forwarded(fid, group.name, destination)]
    return []


def evaluate_flow_logs(
    flow_logs: Iterable[FlowLog],
    log_groups: Mapping[str, LogGroup],
    parameters: RuleParameters,
    account: Account,
) -> Verdict:
    """COMPLIANT or NON_COMPLIANT for one VPC, given all of its flow logs."""
    required = COVERS[parameters.traffic_type]
    ordered = sorted(flow_logs, key=lambda flow_log: flow_log.flow_log_id)
    problems = {
        fl.flow_log_id: flow_log_problems(fl, log_groups, parameters, account) for fl in ordered
    }
    counting = [fl for fl in ordered if not problems[fl.flow_log_id]]
    covered = frozenset[str]().union(*(COVERS.get(fl.traffic_type, frozenset()) for fl in counting))
    missing = required - covered
    if not missing:
        covering = [
            fl.flow_log_id for fl in counting if COVERS.get(fl.traffic_type, frozenset()) & required
        ]
        return Verdict(
            ComplianceType.COMPLIANT, annotation.compliant(parameters.traffic_type, covering)
        )

    details: list[str] = []
    for flow_log in ordered:
        covers = COVERS.get(flow_log.traffic_type, frozenset())
        if covers & missing:
            details.extend(problems[flow_log.flow_log_id])
        else:  # whatever else is wrong with it, it could not count for the missing traffic
            details.append(annotation.covers_only(flow_log.flow_log_id, flow_log.traffic_type))
    return Verdict(ComplianceType.NON_COMPLIANT, annotation.non_compliant(missing, details))


def exemption(vpc_id: str, tags: Mapping[str, str], parameters: RuleParameters) -> str | None:
    """Why the VPC is exempt (an annotation), or None when it is not."""
    if vpc_id in parameters.exempt_vpc_ids:
        return annotation.exempt_by_id()
    tag = parameters.exempt_tag
    if tag is not None and tag.key in tags and tag.value in (None, tags[tag.key]):
        return annotation.exempt_by_tag(f"{tag.key}={tags[tag.key]}")
    return None


def evaluate_vpcs(
    vpcs: Sequence[Vpc],
    flow_logs: Iterable[FlowLog],
    log_groups: Mapping[str, LogGroup],
    parameters: RuleParameters,
    *,
    account: Account,
    ordering_timestamp: datetime,
) -> list[Evaluation]:
    """One evaluation per VPC (a scheduled run): exempt VPCs are NOT_APPLICABLE."""
    by_vpc: dict[str, list[FlowLog]] = defaultdict(list)
    for flow_log in flow_logs:
        by_vpc[flow_log.resource_id].append(flow_log)
    evaluations = []
    for vpc in vpcs:
        reason = exemption(vpc.vpc_id, vpc.tags, parameters)
        verdict = (
            Verdict(ComplianceType.NOT_APPLICABLE, reason)
            if reason
            else evaluate_flow_logs(by_vpc[vpc.vpc_id], log_groups, parameters, account)
        )
        evaluations.append(
            Evaluation(vpc.vpc_id, verdict.compliance_type, verdict.annotation, ordering_timestamp)
        )
    return evaluations


def in_scope(vpcs: Iterable[Vpc], parameters: RuleParameters) -> list[Vpc]:
    """The VPCs that are not exempt."""
    return [vpc for vpc in vpcs if exemption(vpc.vpc_id, vpc.tags, parameters) is None]


def stale_evaluations(
    previously_reported: Iterable[str],
    existing_vpc_ids: Iterable[str],
    ordering_timestamp: datetime,
) -> list[Evaluation]:
    """NOT_APPLICABLE for VPCs with a result that no longer exist."""
    existing = set(existing_vpc_ids)
    return [
        Evaluation(vpc_id, ComplianceType.NOT_APPLICABLE, annotation.vpc_gone(), ordering_timestamp)
        for vpc_id in sorted(set(previously_reported) - existing)
    ]


def change_not_applicable(
    resource_type: str,
    resource_id: str,
    *,
    status: str,
    left_scope: bool,
    parameters: RuleParameters,
) -> str | None:
    """Why a changed resource is NOT_APPLICABLE before looking anything up, or None.

    Raises ValueError for a configuration item status AWS Config does not document.
    """
    if resource_type != VPC_RESOURCE_TYPE:
        return annotation.not_a_vpc(resource_type)
    if left_scope:
        return annotation.left_scope()
    if status in DELETED_STATUSES:
        return annotation.deleted(status)
    if status == NOT_RECORDED_STATUS:
        return annotation.not_recorded()
    if status not in EVALUATED_STATUSES:
        raise ValueError(f"Unexpected configurationItemStatus {status!r} for {resource_id}")
    if resource_id in parameters.exempt_vpc_ids:
        return annotation.exempt_by_id()
    return None
