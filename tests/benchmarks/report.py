"""The benchmark's results, the lower bound they are held to, the tables and the targets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from tests.benchmarks.measure import is_write
from tests.benchmarks.remediation import ALREADY_COMPLIANT
from vpc_flow_logs_rule.aws_api import (
    COMPLIANCE_PAGE_SIZE,
    EC2_PAGE_SIZE,
    EVALUATIONS_PER_CALL,
    LOG_GROUPS_PER_CALL,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from tests.benchmarks.account import Facts
    from tests.benchmarks.cold_start import Asset, ImportTimes
    from tests.benchmarks.evaluation import EveryVpcResult, NaiveResult
    from tests.benchmarks.measure import Measurement
    from tests.benchmarks.remediation import Remediation

WITHIN_LOWER_BOUND: Final = 1.10
NAIVE_CALLS_FACTOR: Final = 20
TARGET_SIZE: Final = 1000
MAX_CHANGE_CALLS: Final = 3
MAX_FLOW_LOG_CHANGE_CALLS: Final = 4
FLOW_LOG_CREATED: Final = "flow log created (REJECT, own log group)"
FLOW_LOG_DELETED: Final = "flow log deleted (VPC found in its history)"
FLOW_LOG_DELETED_DIFF: Final = "flow log deleted (VPC in the notification's diff)"
RUNS_PER_MONTH: Final = 30  # evaluationFrequency TwentyFour_Hours
# AWS Config rule evaluations, per account and region and month, public regions
# (aws.amazon.com/config/pricing): first 100,000 at $0.001, next 400,000 at $0.0008, then $0.0005.
EVALUATION_PRICE_TIERS: Final = ((100_000, 0.001), (400_000, 0.0008), (None, 0.0005))
MAX_IMPORT_RATIO: Final = 1.5
SCHEDULED_OPERATIONS: Final = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "logs:DescribeLogGroups",
    "config:GetComplianceDetailsByConfigRule",
    "config:PutEvaluations",
)
MIB: Final = 1024 * 1024


def lower_bound(facts: Facts) -> int:
    """ceil(N/page) + ceil(F/page) + ceil(L/batch): the reads of the account, the code's pages."""
    return (
        math.ceil(facts.vpcs / EC2_PAGE_SIZE)
        + math.ceil(facts.flow_logs / EC2_PAGE_SIZE)
        + math.ceil(facts.log_groups / LOG_GROUPS_PER_CALL)
    )


def results_reads(vpcs: int) -> int:
    """Reading the rule's results, one per VPC: ceil(N/100) pages, one call at least."""
    return max(1, math.ceil(vpcs / COMPLIANCE_PAGE_SIZE))


def writes(recorded: int) -> int:
    """ceil(changed/100) PutEvaluations, one (empty) at least: every run answers its token."""
    return max(1, math.ceil(recorded / EVALUATIONS_PER_CALL))


def monthly_cost(evaluations: int) -> float:
    """What AWS Config bills for this many rule evaluations in one account and region."""
    cost, left = 0.0, evaluations
    for size, price in EVALUATION_PRICE_TIERS:
        step = left if size is None else min(left, size)
        cost, left = cost + step * price, left - step
    return cost


@dataclass(frozen=True)
class SizeResult:
    """Everything measured on the account at one size."""

    size: int
    mix: dict[str, int]
    """VPCs per profile (tests.benchmarks.account)."""
    facts: Facts
    recorded_results: int
    """The rule's results before the measured runs (one per VPC)."""
    scheduled: Measurement
    """The steady run: nothing changed since the previous one."""
    scheduled_peak_bytes: int
    changed: int
    """VPCs changed (log group retention shortened) before :attr:`after_change`."""
    after_change: Measurement
    every_vpc: EveryVpcResult
    naive: NaiveResult
    changes: dict[str, Measurement]
    flow_log_changes: dict[str, Measurement]
    remediations: dict[str, Remediation]
    forwarding: Measurement | None = None
    """The steady scheduled run with ``CentralLogDestinationArn`` (central destination)."""

    @property
    def bound(self) -> int:
        """The steady run's: lower bound + ceil(N/100) reads + one (empty) write."""
        return lower_bound(self.facts) + results_reads(self.facts.vpcs) + writes(0)

    @property
    def bound_after_change(self) -> int:
        return lower_bound(self.facts) + results_reads(self.facts.vpcs) + writes(self.changed)

    @property
    def ratio(self) -> float:
        return self.scheduled.total / self.bound

    @property
    def ratio_after_change(self) -> float:
        return self.after_change.total / self.bound_after_change

    @property
    def naive_calls_factor(self) -> float:
        return self.naive.measurement.total / self.scheduled.total

    @property
    def naive_time_factor(self) -> float:
        return self.naive.measurement.seconds / self.scheduled.seconds


Row = tuple[str, list[str]]


def render(title: str, header: Sequence[str], rows: Iterable[Row]) -> str:
    """A text table: a left-aligned label column, then right-aligned value columns."""
    rows = list(rows)
    label_width = max(len(title), *(len(label) for label, _ in rows))
    widths = [
        max(len(header[i]), *(len(values[i]) for _, values in rows)) for i in range(len(header))
    ]
    lines = [
        title.ljust(label_width)
        + "".join(f"  {h.rjust(w)}" for h, w in zip(header, widths, strict=True))
    ]
    lines += [
        label.ljust(label_width)
        + "".join(f"  {v.rjust(w)}" for v, w in zip(values, widths, strict=True))
        for label, values in rows
    ]
    return "\n".join(lines)


def _n(value: float) -> str:
    return f"{value:,}"


def _per_size(results: Sequence[SizeResult], label: str, cell: Callable[[SizeResult], str]) -> Row:
    return label, [cell(result) for result in results]


def _operation_rows(measurements: Sequence[Measurement]) -> list[Row]:
    seen = [op for m in measurements for op in m.calls]
    ordered: list[str] = [op for op in SCHEDULED_OPERATIONS if op in seen]
    ordered += [op for op in dict.fromkeys(seen) if op not in ordered]
    return [(f"  {op}", [_n(m.count(op)) for m in measurements]) for op in ordered]


def mix_table(results: Sequence[SizeResult]) -> str:
    header = [f"N={_n(r.size)}" for r in results]
    profiles = list(dict.fromkeys(name for r in results for name in r.mix))
    rows: list[Row] = [
        (f"  {name}", [_n(r.mix.get(name, 0)) for r in results]) for name in profiles
    ]
    return render("Account: VPCs by flow log setup", header, rows)


def scheduled_table(results: Sequence[SizeResult]) -> str:
    header = [f"N={_n(r.size)}" for r in results]
    rows: list[Row] = [
        _per_size(results, "VPCs N", lambda r: _n(r.facts.vpcs)),
        _per_size(results, "flow logs F", lambda r: _n(r.facts.flow_logs)),
        _per_size(results, "log groups referenced L", lambda r: _n(r.facts.log_groups)),
        _per_size(results, "rule's results before the run", lambda r: _n(r.recorded_results)),
        ("Steady run (nothing changed)", [""] * len(results)),
        _per_size(results, "  evaluations recorded", lambda r: _n(_recorded(r.scheduled))),
        *_operation_rows([r.scheduled for r in results]),
        _per_size(results, "  total calls", lambda r: _n(r.scheduled.total)),
        _per_size(results, "  bound: lower + reads + 1 write", lambda r: _n(r.bound)),
        _per_size(results, "  total / bound", lambda r: f"{r.ratio:.2f}"),
        _per_size(results, "  wall time (s)", lambda r: f"{r.scheduled.seconds:.2f}"),
        _per_size(
            results,
            "  peak memory (MiB, tracemalloc)",
            lambda r: f"{r.scheduled_peak_bytes / MIB:.1f}",
        ),
        ("After 1% changed (retention shortened)", [""] * len(results)),
        _per_size(results, "  VPCs changed", lambda r: _n(r.changed)),
        _per_size(results, "  evaluations recorded", lambda r: _n(_recorded(r.after_change))),
        *_operation_rows([r.after_change for r in results]),
        _per_size(results, "  total calls", lambda r: _n(r.after_change.total)),
        _per_size(results, "  bound: lower + reads + writes", lambda r: _n(r.bound_after_change)),
        _per_size(results, "  total / bound", lambda r: f"{r.ratio_after_change:.2f}"),
        _per_size(results, "  wall time (s)", lambda r: f"{r.after_change.seconds:.2f}"),
    ]
    title = "Scheduled run: records only what changed"
    return render(title, header, rows) + (
        f"\n  lower = ceil(N/{EC2_PAGE_SIZE}) + ceil(F/{EC2_PAGE_SIZE}) "
        f"+ ceil(L/{LOG_GROUPS_PER_CALL}); reads = ceil(N/{COMPLIANCE_PAGE_SIZE}); "
        f"writes = max(1, ceil(changed/{EVALUATIONS_PER_CALL}))\n"
        "  (page sizes read from vpc_flow_logs_rule.aws_api; 1 write when nothing changed: the "
        "empty PutEvaluations)"
    )


def _recorded(measurement: Measurement) -> int:
    """Evaluations the run recorded, from the PutEvaluations it sent (the hook's count)."""
    return measurement.evaluations


def forwarding_table(results: Sequence[SizeResult]) -> str:
    """The steady scheduled run, without and with the central destination configured."""
    pairs = [(r, r.forwarding) for r in results if r.forwarding is not None]
    header = [f"N={_n(r.size)}" for r, _ in pairs]
    rows: list[Row] = [
        ("log groups referenced L", [_n(r.facts.log_groups) for r, _ in pairs]),
        ("Steady run, no destination: calls", [_n(r.scheduled.total) for r, _ in pairs]),
        ("Steady run, central destination configured", [""] * len(pairs)),
        *_operation_rows([m for _, m in pairs]),
        ("  total calls", [_n(m.total) for _, m in pairs]),
        ("  extra calls", [_n(m.total - r.scheduled.total) for r, m in pairs]),
        ("  wall time (s)", [f"{m.seconds:.2f}" for _, m in pairs]),
    ]
    return render("Scheduled run: central destination configured", header, rows)


def every_vpc_table(results: Sequence[SizeResult]) -> str:
    """Record every VPC on every run (a rule that does not compare with the results Config
    holds, and periodic rules like the managed one) beside this."""
    header = [f"N={_n(r.size)}" for r in results]

    def month(per_run: int) -> str:
        evaluations = per_run * RUNS_PER_MONTH
        return f"{_n(evaluations)} (${monthly_cost(evaluations):,.2f})"

    rows: list[Row] = [
        ("Evaluations recorded per daily run", [""] * len(results)),
        _per_size(results, "  record every VPC", lambda r: _n(r.every_vpc.recorded)),
        _per_size(results, "  only changes, steady", lambda r: _n(_recorded(r.scheduled))),
        _per_size(results, "  only changes, 1% changed", lambda r: _n(_recorded(r.after_change))),
        ("AWS calls per run", [""] * len(results)),
        _per_size(results, "  record every VPC", lambda r: _n(r.every_vpc.measurement.total)),
        _per_size(results, "  only changes, steady", lambda r: _n(r.scheduled.total)),
        _per_size(results, "  only changes, 1% changed", lambda r: _n(r.after_change.total)),
        (f"Evaluations a month ({RUNS_PER_MONTH} runs), cost", [""] * len(results)),
        _per_size(results, "  record every VPC", lambda r: month(r.every_vpc.recorded)),
        _per_size(results, "  only changes, steady", lambda r: month(_recorded(r.scheduled))),
        _per_size(results, "  only changes, 1% a day", lambda r: month(_recorded(r.after_change))),
    ]
    return render("Record every VPC vs only changes", header, rows) + (
        "\n  per account and region, scheduled runs only; AWS Config rule evaluation prices: "
        "first 100,000 $0.001, next 400,000 $0.0008, then $0.0005"
    )


def naive_table(results: Sequence[SizeResult]) -> str:
    header = [f"N={_n(r.size)}" for r in results]
    rows: list[Row] = [
        ("AWS calls by operation", [""] * len(results)),
        *_operation_rows([r.naive.measurement for r in results]),
        _per_size(results, "total calls", lambda r: _n(r.naive.measurement.total)),
        _per_size(results, "wall time (s)", lambda r: f"{r.naive.measurement.seconds:.2f}"),
        _per_size(results, "peak memory (MiB, tracemalloc)", _naive_peak),
        _per_size(results, "calls: naive / rule", lambda r: f"{r.naive_calls_factor:.1f}x"),
        _per_size(results, "wall time: naive / rule", lambda r: f"{r.naive_time_factor:.1f}x"),
    ]
    return render("Naive baseline, same account", header, rows)


def _naive_peak(result: SizeResult) -> str:
    peak = result.naive.peak_bytes
    return "not measured" if peak is None else f"{peak / MIB:.1f}"


def change_table(results: Sequence[SizeResult]) -> str:
    header = [f"N={_n(r.size)}" for r in results]
    kinds = list(dict.fromkeys(kind for r in results for kind in r.changes))
    rows: list[Row] = [("VPC change, one VPC of each kind", [""] * len(results))]
    rows += [(f"  {kind}", [_calls_and_ms(r.changes.get(kind)) for r in results]) for kind in kinds]
    rows.append(("Flow log change (evaluates its VPC)", [""] * len(results)))
    rows += [
        (f"  {kind}", [_calls_and_ms(r.flow_log_changes.get(kind)) for r in results])
        for kind in (FLOW_LOG_CREATED, FLOW_LOG_DELETED, FLOW_LOG_DELETED_DIFF)
    ]
    return render("Change notification: calls (ms)", header, rows)


def _calls_and_ms(measurement: Measurement | None) -> str:
    if measurement is None:
        return "-"
    return f"{measurement.total} ({measurement.seconds * 1000:.0f} ms)"


def remediation_table(results: Sequence[SizeResult]) -> str:
    header = [f"N={_n(r.size)}" for r in results]
    cases = list(dict.fromkeys(case for r in results for case in r.remediations))
    rows: list[Row] = []
    for case in cases:
        rows.append((case, [_calls_and_writes(r.remediations[case].measurement) for r in results]))
        rows.append(
            (
                "  wall time (ms)",
                [f"{r.remediations[case].measurement.seconds * 1000:.0f}" for r in results],
            )
        )
    return render("Remediation: calls (writes)", header, rows)


def _calls_and_writes(measurement: Measurement) -> str:
    return f"{measurement.total} ({measurement.writes})"


def remediation_operations_table(result: SizeResult) -> str:
    """Calls by operation of each remediation case at one size; writes marked with ``*``."""
    cases = list(result.remediations)
    operations = list(
        dict.fromkeys(op for case in cases for op in result.remediations[case].measurement.calls)
    )
    rows: list[Row] = [
        (
            f"  {op}{' *' if is_write(op) else ''}",
            [_n(result.remediations[case].measurement.count(op)) for case in cases],
        )
        for op in operations
    ]
    header = [f"({i})" for i in range(1, len(cases) + 1)]
    legend = "\n".join(f"  ({i}) {case}" for i, case in enumerate(cases, start=1))
    title = f"Remediation calls, N={_n(result.size)} (* = write)"
    return render(title, header, rows) + "\n" + legend


def cold_start_table(times: dict[str, ImportTimes], baseline: str, runtime: str) -> str:
    """Import times in ms, best and median, and each over the baseline's (best, median)."""
    base = times[baseline]
    rows: list[Row] = [
        (
            f"  {label}",
            [
                f"{t.best * 1000:.0f}",
                f"{t.median * 1000:.0f}",
                f"{t.best / base.best:.2f}x",
                f"{t.median / base.median:.2f}x",
            ],
        )
        for label, t in times.items()
    ]
    runs = len(base.seconds)
    title = f"Cold start: import, ms ({runs} fresh interpreters each)"
    header = ["best", "median", "best/boto3", "median/boto3"]
    return f"{render(title, header, rows)}\n  interpreter: {runtime}"


def asset_lines(asset: Asset, compiled: Asset) -> str:
    return "\n".join(
        f"{label} ({a.how}): {_n(a.files)} files, {_n(a.bytes)} bytes, {_n(a.zipped_bytes)} zipped"
        for label, a in (("Lambda asset", asset), ("  with byte code", compiled))
    )


@dataclass(frozen=True)
class Target:
    description: str
    passed: bool | None  # None: not measured in this run
    detail: str

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"  {verdict}  {self.description}: {self.detail}"


def targets(results: Sequence[SizeResult], import_ratio: float) -> list[Target]:
    worst = max(results, key=lambda r: max(r.ratio, r.ratio_after_change))
    worst_ratio = max(worst.ratio, worst.ratio_after_change)
    at_target = next((r for r in results if r.size == TARGET_SIZE), None)
    steady_max = max(_recorded(r.scheduled) for r in results)
    exact = all(_recorded(r.after_change) == r.changed for r in results)
    change_max = max(m.total for r in results for m in r.changes.values())
    flow_log_max = max(m.total for r in results for m in r.flow_log_changes.values())
    compliant_writes = max(r.remediations[ALREADY_COMPLIANT].measurement.writes for r in results)
    return [
        Target(
            "steady scheduled run records no evaluation, every N",
            steady_max == 0,
            f"max {steady_max}",
        ),
        Target(
            "after 1% changed, exactly the changed VPCs are recorded, every N",
            exact,
            ", ".join(f"{_recorded(r.after_change)}/{r.changed}" for r in results),
        ),
        Target(
            "scheduled runs within 10% of lower bound + reads + writes, every N",
            worst_ratio <= WITHIN_LOWER_BOUND,
            f"worst {worst_ratio:.2f} at N={_n(worst.size)}",
        ),
        Target(
            f"N={_n(TARGET_SIZE)}: at least {NAIVE_CALLS_FACTOR}x fewer calls than naive",
            None if at_target is None else at_target.naive_calls_factor >= NAIVE_CALLS_FACTOR,
            "-" if at_target is None else f"{at_target.naive_calls_factor:.1f}x",
        ),
        Target(
            f"N={_n(TARGET_SIZE)}: faster than the naive baseline (same run)",
            None if at_target is None else at_target.naive_time_factor > 1,
            "-" if at_target is None else f"{at_target.naive_time_factor:.1f}x",
        ),
        Target(
            f"VPC change notification at most {MAX_CHANGE_CALLS} calls",
            change_max <= MAX_CHANGE_CALLS,
            f"max {change_max}",
        ),
        Target(
            f"flow log notification (created, deleted) at most {MAX_FLOW_LOG_CHANGE_CALLS} calls",
            flow_log_max <= MAX_FLOW_LOG_CHANGE_CALLS,
            f"max {flow_log_max}",
        ),
        Target(
            "already-compliant remediation makes no write call",
            compliant_writes == 0,
            f"max {compliant_writes} writes",
        ),
        Target(
            f"handler import (asset as synthesized) at most {MAX_IMPORT_RATIO}x bare boto3",
            import_ratio <= MAX_IMPORT_RATIO,
            f"{import_ratio:.2f}x (best runs)",
        ),
    ]
