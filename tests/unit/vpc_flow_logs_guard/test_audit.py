"""run_audit with the AWS access swapped: what fails where, and what still gets read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from stacks.settings.account import Settings
from tests.unit.stacks.synthesis import cdk_json_context
from tests.unit.vpc_flow_logs_guard.builders import RunbookWorld
from vpc_flow_logs_guard.audit import Target, regions_to_read, run_audit
from vpc_flow_logs_guard.model import AccessError, Failure
from vpc_flow_logs_rule.model import FlowLog, LogGroup, Vpc
from vpc_flow_logs_rule.parameters import RuleParameters

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vpc_flow_logs_rule.forwarding import SubscriptionFilterPolicy

AT = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
VPC_ID = "vpc-0123456789abcdef0"  # the same in every region: each is a different place
STATUSES = {
    "us-east-1": "opt-in-not-required",
    "eu-south-2": "opted-in",
    "ap-east-1": "not-opted-in",
}


@dataclass
class FakeRegion:
    region: str
    denied: bool = False

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        if self.denied:
            raise AccessError("ec2:DescribeVpcs: UnauthorizedOperation: denied by an SCP")
        return [Vpc(VPC_ID)]

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        return [
            FlowLog("fl-1", VPC_ID, "ALL", "ACTIVE", "SUCCESS", None,
                    "cloud-watch-logs", "/g", None)
        ]  # fmt: skip

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        return {name: LogGroup(name, 365) for name in names}

    def subscription_filter_policies(self) -> list[SubscriptionFilterPolicy]:
        return []


@dataclass
class FakeAccount:
    account_id: str
    denied_regions: frozenset[str] = frozenset()
    denied_plan_read: str = ""
    partition: str = "aws"

    def region_statuses(self, home_region: str) -> dict[str, str]:
        return STATUSES

    def lookups(self, region: str) -> FakeRegion:
        return FakeRegion(region, denied=region in self.denied_regions)

    def runbook_reads(self, region: str) -> RunbookWorld:
        return RunbookWorld(denied=self.denied_plan_read)


@dataclass
class CountingProgress:
    total: int = 0
    done: list[None] = field(default_factory=list)

    def add(self, regions: int) -> None:
        self.total += regions

    def advance(self) -> None:
        self.done.append(None)


def unreachable() -> FakeAccount:
    raise AccessError("sts:AssumeRole: AccessDenied: no")


def test_a_denied_region_and_an_unreachable_account_do_not_stop_the_rest() -> None:
    progress = CountingProgress()
    targets = [
        Target("111111111111", lambda: FakeAccount("111111111111", frozenset({"eu-south-2"}))),
        Target("222222222222", unreachable),
        Target("333333333333", lambda: FakeAccount("333333333333")),
    ]

    findings = run_audit(
        targets,
        lambda region: RuleParameters(),
        home_region="us-east-1",
        requested_regions=None,
        at=AT,
        progress=progress,
        workers=2,
    )

    assert [(r.account_id, r.region, r.compliance_type) for r in findings.results] == [
        ("111111111111", "us-east-1", "COMPLIANT"),
        ("333333333333", "eu-south-2", "COMPLIANT"),
        ("333333333333", "us-east-1", "COMPLIANT"),
    ]
    assert findings.failures == (
        Failure(
            "111111111111",
            "eu-south-2",
            "ec2:DescribeVpcs: UnauthorizedOperation: denied by an SCP",
        ),
        Failure("222222222222", None, "sts:AssumeRole: AccessDenied: no"),
    )
    assert (progress.total, len(progress.done)) == (4, 4)
    assert findings.exit_code == 2


@pytest.mark.parametrize(
    ("requested", "regions", "failed"),
    [
        (None, ["eu-south-2", "us-east-1"], []),
        (["us-east-1", "us-east-1"], ["us-east-1"], []),
        (["ap-east-1", "xx-nowhere-1"], [], ["ap-east-1", "xx-nowhere-1"]),
    ],
)
def test_regions_to_read_are_the_enabled_ones(
    requested: list[str] | None, regions: list[str], failed: list[str]
) -> None:
    chosen, failures = regions_to_read("111111111111", STATUSES, requested)

    assert chosen == regions
    assert [f.region for f in failures] == failed


def test_a_plan_that_cannot_be_read_keeps_the_verdicts_and_fails_the_region() -> None:
    # Given: 365-day log groups judged against 400 (NON_COMPLIANT), iam:GetRole denied in one
    strict = RuleParameters(min_retention_days=400)
    deployment = Settings.from_mapping(
        {**cdk_json_context(), "minRetentionDays": 400, "retentionInDays": 400}
    )
    targets = [
        Target("111111111111", lambda: FakeAccount("111111111111", denied_plan_read="iam:GetRole")),
        Target("333333333333", lambda: FakeAccount("333333333333")),
    ]

    # When
    findings = run_audit(
        targets,
        lambda region: strict,
        home_region="us-east-1",
        requested_regions=["us-east-1"],
        at=AT,
        progress=CountingProgress(),
        plan_with=deployment,
    )

    # Then: both verdicts, a plan only where it could be read, and the failure said
    assert [(r.account_id, r.compliance_type) for r in findings.results] == [
        ("111111111111", "NON_COMPLIANT"),
        ("333333333333", "NON_COMPLIANT"),
    ]
    assert findings.results[0].plan is None
    planned = findings.results[1].plan
    assert planned is not None
    assert planned.delivery_role.startswith("create VpcFlowLogsDeliveryRole")
    assert findings.failures == (
        Failure(
            "111111111111",
            "us-east-1",
            "planning the remediation: iam:GetRole: AccessDenied: not allowed",
        ),
    )
    assert findings.planned
