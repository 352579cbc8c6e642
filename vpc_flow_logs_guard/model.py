"""Plain data of an audit or a report: one result per VPC, and what could not be read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import IntEnum

from vpc_flow_logs_rule.model import ComplianceType


class AccessError(RuntimeError):
    """An AWS call failed (after its retries); the message says which call and why."""


class ExitCode(IntEnum):
    COMPLIANT = 0
    """Every VPC that was read is COMPLIANT or NOT_APPLICABLE, and nothing failed."""
    NON_COMPLIANT = 1
    """At least one VPC is NON_COMPLIANT, and every account and region was read."""
    FAILED = 2
    """The audit could not read everything (or could not start): its verdict is incomplete."""


@dataclass(frozen=True)
class VpcPlan:
    """What the runbook would do for one VPC (``audit --plan``); each part empty when untouched.

    ``blocker`` says why the runbook would stop before changing anything, or is empty.
    """

    delivery_role: str
    log_group: str
    flow_log: str
    blocker: str = ""


@dataclass(frozen=True)
class VpcResult:
    account_id: str
    region: str
    vpc_id: str
    compliance_type: str
    """COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE (or, from an aggregator, INSUFFICIENT_DATA)."""
    annotation: str
    plan: VpcPlan | None = None
    """With ``audit --plan``, for a NON_COMPLIANT VPC: what the remediation would do."""


@dataclass(frozen=True)
class Failure:
    """An account or region that could not be read; ``region`` None: the whole account."""

    account_id: str
    region: str | None
    message: str


@dataclass(frozen=True)
class Findings:
    results: tuple[VpcResult, ...]
    failures: tuple[Failure, ...] = ()
    planned: bool = False
    """Whether the remediation was planned (``audit --plan``): the outputs then show the plans."""

    @property
    def exit_code(self) -> ExitCode:
        if self.failures:
            return ExitCode.FAILED
        if any(r.compliance_type == ComplianceType.NON_COMPLIANT for r in self.results):
            return ExitCode.NON_COMPLIANT
        return ExitCode.COMPLIANT

    def sorted(self) -> Findings:
        """The same findings in a stable order: account, region, VPC id."""
        return Findings(
            tuple(sorted(self.results, key=lambda r: (r.account_id, r.region, r.vpc_id))),
            tuple(sorted(self.failures, key=lambda f: (f.account_id, f.region or ""))),
            self.planned,
        )


def counts(results: tuple[VpcResult, ...] | list[VpcResult]) -> dict[str, int]:
    """How many results of each compliance type (the rule's three types always present)."""
    found = Counter(result.compliance_type for result in results)
    return {**{c.value: 0 for c in ComplianceType}, **found}
