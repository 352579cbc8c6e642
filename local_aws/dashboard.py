"""A terminal compliance dashboard, laid out like the AWS Config console's rule page."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from local_aws.scenario import COMPLIANCE_ORDER

if TYPE_CHECKING:
    from local_aws.config_service import Remediation
    from local_aws.scenario import ScenarioResult, VpcResult

WIDTH = 100
_INDENT = " " * 18


def render(result: ScenarioResult, *, rule_name: str, region: str) -> str:
    """The whole dashboard as text."""
    lines = [
        "=" * WIDTH,
        f" AWS Config  >  Rules  >  {rule_name}   (embedded AWS: moto on 127.0.0.1, {region})",
        "=" * WIDTH,
        _wrapped("Parameters", _pairs(result.rule_parameters)),
        _wrapped("Remediation", _pairs(result.remediation_settings)),
        "",
        _counts(result),
        "",
        f" {'VPC':<14}{'ID':<24}{'BEFORE':<15}{'NOTIFIED':<15}{'AFTER':<15}EXPECTED",
        " " + "-" * (WIDTH - 1),
    ]
    for row in result.rows:
        lines += _row(row)
    lines += ["", *_steps(result), "", *_timings(result), "", _verdict(result), "=" * WIDTH]
    return "\n".join(lines)


def _pairs(values: dict[str, object]) -> str:
    return "  ".join(f"{key}={value}" for key, value in values.items()) or "(none)"


def _wrapped(label: str, text: str, indent: str = _INDENT) -> str:
    return textwrap.fill(
        text,
        width=WIDTH,
        initial_indent=f" {label + ':':<{len(indent) - 1}}",
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _counts(result: ScenarioResult) -> str:
    before, after = result.counts("before"), result.counts("after")
    lines = [f" {'Compliance':<18}{'before':>8}{'after':>8}"]
    lines += [f" {kind:<18}{before[kind]:>8}{after[kind]:>8}" for kind in COMPLIANCE_ORDER]
    lines.append(f" {'resources':<18}{sum(before.values()):>8}{sum(after.values()):>8}")
    return "\n".join(lines)


def _row(row: VpcResult) -> list[str]:
    expected = f"{row.case.expected_after}  {'ok' if row.as_expected else 'UNEXPECTED'}"
    lines = [
        f" {row.case.name:<14}{row.vpc_id:<24}{row.before_type:<15}{row.notified_type:<15}"
        f"{row.after_type:<15}{expected}"
    ]
    lines.append(_wrapped("   story", row.case.story))
    if row.before is not None and row.before.annotation:
        lines.append(_wrapped("   before", row.before.annotation))
    if row.remediation is not None:
        lines.append(_wrapped("   remediation", _remediation(row.remediation, row.retention_after)))
    if row.restored is not None:
        lines.append(_wrapped("   restored", _remediation(row.restored, {})))
    if row.after is not None and row.after.annotation:
        lines.append(_wrapped("   after", row.after.annotation))
    return lines


def _remediation(remediation: Remediation, retention: dict[str, int | None]) -> str:
    attempts = len(remediation.executions)
    seconds = sum(execution.duration_seconds for execution in remediation.executions)
    timing = f"({attempts} attempt{'s' if attempts != 1 else ''}, {seconds:.1f} s)"
    if remediation.succeeded:
        outputs = remediation.executions[-1].outputs
        described = []
        for key, value in outputs.items():
            name = key.rpartition(".")[2]
            text = f"{name} {value}"
            if name == "LogGroupName" and isinstance(value, str) and value in retention:
                days = retention[value]
                text += f" (retention {days} days)" if days else " (never expires)"
            described.append(text)
        return f"{remediation.executions[-1].status}: " + ", ".join(described) + f" {timing}"
    message = (remediation.failure_message or "failed").strip().splitlines()[0]
    step = remediation.executions[-1].failed_step if remediation.executions else None
    if step is None:
        return f"FAILED {timing}: {message}"
    message = message.removeprefix(f"Step fails when it is executing step {step}: ")
    return f"FAILED at step {step} {timing}: {message}"


def _steps(result: ScenarioResult) -> list[str]:
    """The loop, step by step: notifications the rule got, time taken, what Config then showed."""
    lines = [f" {'Loop':<32}{'notifications':>14}{'seconds':>9}   outcome"]
    for step in result.steps:
        head = f" {step.name[:31]:<32}{step.notifications:>14}{step.seconds:>9.1f}   "
        lines.append(
            textwrap.fill(
                step.outcome,
                width=WIDTH,
                initial_indent=head,
                subsequent_indent=" " * len(head),
                break_long_words=False,
            )
        )
    if result.drift:
        lines.append(
            _wrapped(
                "Drift",
                " -> ".join(result.drift)
                + ("  ok" if result.drift_as_expected else "  UNEXPECTED")
                + " (no scheduled run in between)",
            )
        )
    return lines


def _timings(result: ScenarioResult) -> list[str]:
    t = result.timings
    per_invocation = result.lambda_seconds / max(result.lambda_invocations, 1)
    steps = [f"{name} {seconds:.1f} s" for name, seconds in t.items() if name != "total"]
    lines = [
        _wrapped(
            "Timings",
            "  |  ".join(steps) + (f"  |  total {t['total']:.1f} s" if "total" in t else ""),
        )
    ]
    lines.append(
        _wrapped(
            "Work",
            f"{result.lambda_invocations} Lambda invocations (Python {result.lambda_python}, "
            f"a fresh process each: {per_invocation:.1f} s on average), "
            f"{result.automation_executions} Automation executions",
        )
    )
    return lines


def _verdict(result: ScenarioResult) -> str:
    if not result.unexpected and not result.drift_as_expected:
        return _wrapped(
            " RESULT",
            f"FAILED: the deleted flow log's loop went {' -> '.join(result.drift) or 'nowhere'}",
            indent=" " * 10,
        )
    if not result.unexpected:
        after = result.counts("after")
        summary = ", ".join(f"{after[kind]} {kind}" for kind in COMPLIANCE_ORDER if after[kind])
        return f" RESULT: every VPC ended as expected ({summary})."
    names = ", ".join(
        f"{row.case.name} ({row.before_type} -> {row.after_type}, expected "
        f"{row.case.expected_before} -> {row.case.expected_after})"
        for row in result.unexpected
    )
    return _wrapped(" RESULT", f"FAILED: {names}", indent=" " * 10)
