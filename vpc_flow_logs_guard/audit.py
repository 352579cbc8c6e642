"""Judge every VPC of the chosen accounts and regions with the rule's own decisions.

The look-ups are the rule's scheduled run's (every VPC, every flow log, the log groups they
use), the verdicts come from :mod:`vpc_flow_logs_rule.decision`, so the audit answers what the
deployed rule would record. An account or region that cannot be read becomes a
:class:`~vpc_flow_logs_guard.model.Failure` and the others go on. No AWS client here: the
accounts and their look-ups are handed in (:mod:`vpc_flow_logs_guard.aws` makes them).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol

from vpc_flow_logs_guard import plan
from vpc_flow_logs_guard.model import AccessError, Failure, Findings, VpcResult
from vpc_flow_logs_rule import rule
from vpc_flow_logs_rule.model import ComplianceType

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from stacks.settings.account import Settings
    from vpc_flow_logs_rule.parameters import RuleParameters
    from vpc_flow_logs_rule.rule import RegionReads

NOT_OPTED_IN: Final = "not-opted-in"
DEFAULT_WORKERS: Final = 8


class Account(Protocol):
    @property
    def account_id(self) -> str: ...

    @property
    def partition(self) -> str: ...

    def region_statuses(self, home_region: str) -> dict[str, str]: ...

    def lookups(self, region: str) -> RegionReads: ...

    def runbook_reads(self, region: str) -> plan.RunbookReads: ...


class Progress(Protocol):
    """Told how many regions there are to read, and each time one is done."""

    def add(self, regions: int) -> None: ...

    def advance(self) -> None: ...


@dataclass(frozen=True)
class Target:
    """An account to audit: its id, and how to reach it (may raise AccessError)."""

    account_id: str
    open: Callable[[], Account]


def judge_region(
    lookups: RegionReads, parameters: RuleParameters, account_id: str, at: datetime
) -> list[VpcResult]:
    """Every VPC of one region, judged by the rule's scheduled run's own code."""
    _, evaluations = rule.judge_region(lookups, parameters, account_id, at)
    return [
        VpcResult(
            account_id,
            lookups.region,
            evaluation.resource_id,
            evaluation.compliance_type.value,
            evaluation.annotation or "",
        )
        for evaluation in evaluations
    ]


def plan_region(
    results: Sequence[VpcResult], reads: plan.RunbookReads, settings: Settings, partition: str
) -> list[VpcResult]:
    """The results with, for each NON_COMPLIANT VPC, what the remediation would do there."""
    return [
        replace(
            result,
            plan=plan.plan_vpc(
                plan.runbook_input(
                    settings,
                    result.vpc_id,
                    account_id=result.account_id,
                    region=result.region,
                    partition=partition,
                ),
                reads,
            ),
        )
        if result.compliance_type == ComplianceType.NON_COMPLIANT
        else result
        for result in results
    ]


def regions_to_read(
    account_id: str, statuses: Mapping[str, str], requested: Sequence[str] | None
) -> tuple[list[str], list[Failure]]:
    """The regions to read in one account, and a failure for each requested one that cannot be.

    Without ``requested``: every region enabled in the account.
    """
    if requested is None:
        return sorted(r for r, status in statuses.items() if status != NOT_OPTED_IN), []
    regions: list[str] = []
    failures: list[Failure] = []
    for region in dict.fromkeys(requested):
        status = statuses.get(region)
        if status is None:
            failures.append(Failure(account_id, region, f"{region} is not a region of AWS here"))
        elif status == NOT_OPTED_IN:
            failures.append(
                Failure(account_id, region, f"region {region} is not enabled in this account")
            )
        else:
            regions.append(region)
    return regions, failures


def run_audit(
    targets: Sequence[Target],
    parameters: Callable[[str], RuleParameters],
    *,
    home_region: str,
    requested_regions: Sequence[str] | None,
    at: datetime,
    progress: Progress,
    workers: int = DEFAULT_WORKERS,
    plan_with: Settings | None = None,
) -> Findings:
    """Read every target's regions, at most ``workers`` calls in flight, and judge its VPCs
    with ``parameters(region)``, the rule's parameters in that region.

    With ``plan_with`` (the deployment's settings), also plan the remediation of every
    NON_COMPLIANT VPC; a region whose plan cannot be read keeps its verdicts and fails.
    """
    failures: list[Failure] = []
    results: list[VpcResult] = []

    def open_account(target: Target) -> tuple[Account, list[str]] | Failure:
        try:
            account = target.open()
            statuses = account.region_statuses(home_region)
        except AccessError as error:
            return Failure(target.account_id, None, str(error))
        regions, unusable = regions_to_read(target.account_id, statuses, requested_regions)
        failures.extend(unusable)
        progress.add(len(regions))
        return account, regions

    def judge(account: Account, region: str) -> tuple[list[VpcResult], Failure | None]:
        try:
            judged = judge_region(
                account.lookups(region), parameters(region), account.account_id, at
            )
        except AccessError as error:
            return [], Failure(account.account_id, region, str(error))
        if plan_with is None:
            return judged, None
        try:
            reads = account.runbook_reads(region)
            return plan_region(judged, reads, plan_with, account.partition), None
        except AccessError as error:
            failure = Failure(account.account_id, region, f"planning the remediation: {error}")
            return judged, failure

    def read(account: Account, region: str) -> tuple[list[VpcResult], Failure | None]:
        try:
            return judge(account, region)
        finally:
            progress.advance()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit") as pool:
        opened = list(pool.map(open_account, targets))
        jobs: list[Future[tuple[list[VpcResult], Failure | None]]] = []
        for outcome in opened:
            if isinstance(outcome, Failure):
                failures.append(outcome)
                continue
            account, regions = outcome
            jobs.extend(pool.submit(read, account, region) for region in regions)
        for job in jobs:
            found, failure = job.result()
            results.extend(found)
            if failure is not None:
                failures.append(failure)
    return Findings(tuple(results), tuple(failures), planned=plan_with is not None).sorted()
