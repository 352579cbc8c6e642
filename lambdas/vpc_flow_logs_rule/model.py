"""Plain data shared by the rule's modules: what AWS told us, and what we report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

VPC_RESOURCE_TYPE = "AWS::EC2::VPC"
FLOW_LOG_RESOURCE_TYPE: Final = "AWS::EC2::FlowLog"
CLOUD_WATCH_LOGS = "cloud-watch-logs"
S3 = "s3"
KINESIS_DATA_FIREHOSE: Final = "kinesis-data-firehose"
DEFAULT_AGGREGATION_INTERVAL: Final = 600
"""Seconds; what EC2 uses when CreateFlowLogs is given no MaxAggregationInterval."""
PLAIN_TEXT: Final = "plain-text"
"""EC2's default S3 FileFormat (DestinationOptionsRequest, EC2 API reference)."""
# A result token that asks PutEvaluations for TestMode (not a secret).
TEST_MODE_TOKEN = "TESTMODE"  # noqa: S105


class ComplianceType(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowLog:
    """One entry of DescribeFlowLogs, reduced to what the rule judges."""

    flow_log_id: str
    resource_id: str
    traffic_type: str
    flow_log_status: str
    deliver_logs_status: str | None
    deliver_logs_error_message: str | None
    destination_type: str
    log_group_name: str | None
    log_destination: str | None
    log_format: str = ""
    max_aggregation_interval: int = DEFAULT_AGGREGATION_INTERVAL
    file_format: str = PLAIN_TEXT
    """S3 only, like the two partition flags: EC2's defaults when it reports no options."""
    hive_compatible_partitions: bool = False
    per_hour_partition: bool = False

    @classmethod
    def from_description(cls, item: Mapping[str, Any]) -> FlowLog:
        """One DescribeFlowLogs entry; absent fields read as EC2's documented defaults."""
        options = item.get("DestinationOptions") or {}
        return cls(
            flow_log_id=item["FlowLogId"],
            resource_id=item["ResourceId"],
            traffic_type=item.get("TrafficType", ""),
            flow_log_status=item.get("FlowLogStatus", ""),
            deliver_logs_status=item.get("DeliverLogsStatus"),
            deliver_logs_error_message=item.get("DeliverLogsErrorMessage"),
            destination_type=item.get("LogDestinationType", CLOUD_WATCH_LOGS),
            log_group_name=item.get("LogGroupName"),
            log_destination=item.get("LogDestination"),
            log_format=item.get("LogFormat", ""),
            max_aggregation_interval=item.get(
                "MaxAggregationInterval", DEFAULT_AGGREGATION_INTERVAL
            ),
            file_format=options.get("FileFormat", PLAIN_TEXT),
            hive_compatible_partitions=options.get("HiveCompatiblePartitions", False),
            per_hour_partition=options.get("PerHourPartition", False),
        )


@dataclass(frozen=True)
class LogGroup:
    """One entry of DescribeLogGroups; ``retention_in_days`` is None when it never expires."""

    name: str
    retention_in_days: int | None
    forwarded_to: frozenset[str] = frozenset()
    """Central log destinations the group is known to forward to (see ``forwarding``)."""


@dataclass(frozen=True)
class Evaluation:
    resource_id: str
    compliance_type: ComplianceType
    annotation: str | None
    ordering_timestamp: datetime
    resource_type: str = VPC_RESOURCE_TYPE


@dataclass(frozen=True)
class RecordedResult:
    """The rule's current result for one VPC, as AWS Config holds it."""

    compliance_type: str
    annotation: str | None
