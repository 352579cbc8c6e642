from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from vpc_flow_logs_rule import rule
from vpc_flow_logs_rule.model import ComplianceType, Evaluation, FlowLog, LogGroup, Vpc
from vpc_flow_logs_rule.notifications import ChangedResource
from vpc_flow_logs_rule.parameters import ExemptTag, RuleParameters

if TYPE_CHECKING:
    from collections.abc import Iterable

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
VPC_ID = "vpc-0a1b2c3d4e5f60718"


class FakeLookups:
    """Answers from memory and remembers what was asked, in order."""

    region = "us-east-1"

    def __init__(
        self,
        vpcs: list[Vpc] | None = None,
        flow_logs: list[FlowLog] | None = None,
        non_compliant: list[str] | None = None,
    ) -> None:
        self.vpcs = vpcs or []
        self.flow_logs = flow_logs or []
        self.non_compliant = non_compliant or []
        self.asked: list[str] = []

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        self.asked.append("DescribeVpcs")
        return [v for v in self.vpcs if vpc_id in (None, v.vpc_id)]

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        self.asked.append("DescribeFlowLogs")
        return [f for f in self.flow_logs if vpc_id in (None, f.resource_id)]

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        self.asked.append("DescribeLogGroups")
        return {name: LogGroup(name, None) for name in names}

    def previously_non_compliant_vpc_ids(self, rule_name: str) -> list[str]:
        self.asked.append("GetComplianceDetailsByConfigRule")
        return self.non_compliant


def changed(**changes: object) -> ChangedResource:
    base: dict[str, object] = {
        "resource_type": "AWS::EC2::VPC",
        "resource_id": VPC_ID,
        "status": "OK",
        "capture_time": NOW,
        "tags": None,
        "left_scope": False,
    }
    return ChangedResource(**{**base, **changes})  # type: ignore[arg-type]


def flow_log(resource_id: str, traffic_type: str = "ALL") -> FlowLog:
    return FlowLog(
        flow_log_id=f"fl-{resource_id}",
        resource_id=resource_id,
        traffic_type=traffic_type,
        flow_log_status="ACTIVE",
        deliver_logs_status="SUCCESS",
        deliver_logs_error_message=None,
        destination_type="s3",
        log_group_name=None,
        log_destination="arn:aws:s3:::flow-logs",
    )


def test_a_vpc_gone_before_its_oversized_notification_is_looked_at_is_not_applicable() -> None:
    lookups = FakeLookups()
    parameters = RuleParameters(exempt_tag=ExemptTag("skip", None))

    evaluations = rule.evaluate_change(lookups, parameters, changed(), account_id="123456789012")

    assert evaluations == [
        Evaluation(VPC_ID, ComplianceType.NOT_APPLICABLE, "VPC no longer exists", NOW)
    ]
    assert lookups.asked == ["DescribeVpcs"]


def test_a_resource_that_is_not_a_vpc_is_not_applicable_under_its_own_type() -> None:
    lookups = FakeLookups()

    [evaluation] = rule.evaluate_change(
        lookups,
        RuleParameters(),
        changed(resource_type="AWS::EC2::Subnet", resource_id="subnet-1"),
        account_id="123456789012",
    )

    assert evaluation.resource_type == "AWS::EC2::Subnet"
    assert evaluation.compliance_type is ComplianceType.NOT_APPLICABLE
    assert lookups.asked == []


def test_s3_flow_logs_need_no_log_group_lookup() -> None:
    lookups = FakeLookups(flow_logs=[flow_log(VPC_ID)])

    [evaluation] = rule.evaluate_change(
        lookups, RuleParameters(), changed(tags={}), account_id="123456789012"
    )

    assert evaluation.compliance_type is ComplianceType.COMPLIANT
    assert lookups.asked == ["DescribeFlowLogs"]


def test_a_scheduled_run_reads_everything_before_deciding_and_skips_exempt_log_groups() -> None:
    kept, exempt = "vpc-11111111", "vpc-22222222"
    cloud_watch = FlowLog(
        flow_log_id="fl-cw",
        resource_id=exempt,
        traffic_type="ALL",
        flow_log_status="ACTIVE",
        deliver_logs_status="SUCCESS",
        deliver_logs_error_message=None,
        destination_type="cloud-watch-logs",
        log_group_name="/exempt",
        log_destination=None,
    )
    lookups = FakeLookups(
        vpcs=[Vpc(kept), Vpc(exempt, {"skip": "1"})],
        flow_logs=[flow_log(kept), cloud_watch],
        non_compliant=["vpc-33333333", kept],
    )

    evaluations = rule.evaluate_scheduled(
        lookups,
        RuleParameters(exempt_tag=ExemptTag("skip", None)),
        rule_name="vpc-flow-logs-enabled",
        account_id="123456789012",
        ordering_timestamp=NOW,
    )

    assert [(e.resource_id, e.compliance_type) for e in evaluations] == [
        (kept, ComplianceType.COMPLIANT),
        (exempt, ComplianceType.NOT_APPLICABLE),
        ("vpc-33333333", ComplianceType.NOT_APPLICABLE),
    ]
    assert lookups.asked == [
        "DescribeVpcs",
        "DescribeFlowLogs",
        "GetComplianceDetailsByConfigRule",
    ]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ([], {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}),
        (
            [ComplianceType.COMPLIANT, ComplianceType.NOT_APPLICABLE, ComplianceType.COMPLIANT],
            {"COMPLIANT": 2, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 1},
        ),
    ],
)
def test_summarize_counts_every_compliance_type(
    types: list[ComplianceType], expected: dict[str, int]
) -> None:
    evaluations = [Evaluation(f"vpc-{n}", kind, None, NOW) for n, kind in enumerate(types)]

    assert rule.summarize(evaluations) == expected
