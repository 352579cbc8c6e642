"""Plain data shared by the rule's modules: what AWS told us, and what we report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

VPC_RESOURCE_TYPE = "AWS::EC2::VPC"
FLOW_LOG_RESOURCE_TYPE: Final = "AWS::EC2::FlowLog"
CLOUD_WATCH_LOGS = "cloud-watch-logs"
S3 = "s3"
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
