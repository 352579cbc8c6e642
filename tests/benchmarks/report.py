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
    from tests.benchmarks.evaluation import NaiveResult
    from tests.benchmarks.measure import Measurement
    from tests.benchmarks.remediation import Remediation

WITHIN_LOWER_BOUND: Final = 1.10
NAIVE_CALLS_FACTOR: Final = 20
TARGET_SIZE: Final = 1000
MAX_CHANGE_CALLS: Final = 3
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
    """ceil(N/page) + ceil(F/page) + ceil(L/batch) + ceil(N/100), the code's page sizes."""
    return (
        math.ceil(facts.vpcs / EC2_PAGE_SIZE)
        + math.ceil(facts.flow_logs / EC2_PAGE_SIZE)
        + math.ceil(facts.log_groups / LOG_GROUPS_PER_CALL)
        + math.ceil(facts.vpcs / EVALUATIONS_PER_CALL)
    )


def clean_up_bound(non_compliant_before: int) -> int:
    """Reading the rule's NON_COMPLIANT results: ceil(NC/100) pages, and one call when none."""
    return max(1, math.ceil(non_compliant_before / COMPLIANCE_PAGE_SIZE))


@dataclass(frozen=True)
class SizeResult:
    """Everything measured on the account at one size."""

    size: int
    mix: dict[str, int]
    """VPCs per profile (tests.benchmarks.account)."""
    facts: Facts
    non_compliant_before: int
    scheduled: Measurement
    scheduled_peak_bytes: int
    naive: NaiveResult
    changes: dict[str, Measurement]
    remediations: dict[str, Remediation]

    @property
    def bound(self) -> int:
        return lower_bound(self.facts)

    @property
    def clean_up(self) -> int:
        return clean_up_bound(self.non_compliant_before)

    @property
    def ratio(self) -> float:
        return self.scheduled.total / self.bound

    @property
    def ratio_with_clean_up(self) -> float:
        return self.scheduled.total / (self.bound + self.clean_up)

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
        _per_size(results, "NON_COMPLIANT before the run NC", lambda r: _n(r.non_compliant_before)),
        ("AWS calls by operation", [""] * len(results)),
        *_operation_rows([r.scheduled for r in results]),
        _per_size(results, "total calls", lambda r: _n(r.scheduled.total)),
        _per_size(results, "lower bound (issue's formula)", lambda r: _n(r.bound)),
        _per_size(results, "clean-up term max(1, ceil(NC/100))", lambda r: _n(r.clean_up)),
        _per_size(results, "total / lower bound", lambda r: f"{r.ratio:.2f}"),
        _per_size(
            results, "total / (lower bound + clean-up)", lambda r: f"{r.ratio_with_clean_up:.2f}"
        ),
        _per_size(results, "wall time (s)", lambda r: f"{r.scheduled.seconds:.2f}"),
        _per_size(
            results,
            "peak memory (MiB, tracemalloc)",
            lambda r: f"{r.scheduled_peak_bytes / MIB:.1f}",
        ),
    ]
    title = "Scheduled evaluation, 2nd run"
    return render(title, header, rows) + (
        f"\n  lower bound = ceil(N/{EC2_PAGE_SIZE}) + ceil(F/{EC2_PAGE_SIZE}) "
        f"+ ceil(L/{LOG_GROUPS_PER_CALL}) + ceil(N/{EVALUATIONS_PER_CALL}); clean-up pages "
        f"{COMPLIANCE_PAGE_SIZE}\n  (page sizes read from vpc_flow_logs_rule.aws_api)"
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
    rows: list[Row] = [
        (f"  {kind}", [_calls_and_ms(r.changes.get(kind)) for r in results]) for kind in kinds
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
    worst = max(results, key=lambda r: r.ratio_with_clean_up)
    at_target = next((r for r in results if r.size == TARGET_SIZE), None)
    change_max = max(m.total for r in results for m in r.changes.values())
    compliant_writes = max(r.remediations[ALREADY_COMPLIANT].measurement.writes for r in results)
    return [
        Target(
            "scheduled run within 10% of the lower bound + clean-up, every N",
            worst.ratio_with_clean_up <= WITHIN_LOWER_BOUND,
            f"worst {worst.ratio_with_clean_up:.2f} at N={_n(worst.size)}",
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
            f"change notification at most {MAX_CHANGE_CALLS} calls",
            change_max <= MAX_CHANGE_CALLS,
            f"max {change_max}",
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
