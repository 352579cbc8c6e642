"""Findings as a terminal table, JSON, CSV or one self-contained HTML file (pure functions)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from html import escape
from typing import TYPE_CHECKING, Final

from vpc_flow_logs_guard.model import VpcPlan, counts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vpc_flow_logs_guard.model import Findings, VpcResult

FORMATS: Final = ("table", "json", "csv", "html")
COLUMNS: Final = ("account_id", "region", "vpc_id", "compliance_type", "annotation")
HEADINGS: Final = ("ACCOUNT", "REGION", "VPC", "COMPLIANCE", "ANNOTATION")
PLAN_FIELDS: Final = ("delivery_role", "log_group", "flow_log", "blocker")
"""``audit --plan``: what the runbook would do (VpcPlan's fields), in this order."""
PLAN_COLUMNS: Final = tuple(f"plan_{field}" for field in PLAN_FIELDS)
PLAN_HEADINGS: Final = ("PLAN: DELIVERY ROLE", "LOG GROUP", "FLOW LOG", "WOULD STOP")
PLAN_LABELS: Final = ("delivery role", "log group", "flow log", "would stop")
COLOURS: Final = {
    "COMPLIANT": "#2e7d32",
    "NON_COMPLIANT": "#c62828",
    "NOT_APPLICABLE": "#9e9e9e",
    "INSUFFICIENT_DATA": "#f9a825",
}
CHART_WIDTH: Final = 480
BAR_HEIGHT: Final = 22
LABEL_WIDTH: Final = 140


def render(findings: Findings, fmt: str, *, title: str) -> str:
    if fmt == "table":
        return table(findings)
    if fmt == "json":
        return to_json(findings)
    if fmt == "csv":
        return to_csv(findings)
    if fmt == "html":
        return to_html(findings, title=title)
    raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def _row(result: VpcResult) -> tuple[str, ...]:
    return tuple(str(getattr(result, column)) for column in COLUMNS)


def _plan_row(result: VpcResult) -> tuple[str, ...]:
    """The plan's fields, all empty for a VPC without a plan (not NON_COMPLIANT)."""
    plan = result.plan or VpcPlan("", "", "")
    return tuple(getattr(plan, field) for field in PLAN_FIELDS)


def _full_row(result: VpcResult, planned: bool) -> tuple[str, ...]:
    return _row(result) + (_plan_row(result) if planned else ())


def _summary_line(findings: Findings) -> str:
    found = counts(findings.results)
    parts = [f"{number} {kind}" for kind, number in found.items()]
    return f"{len(findings.results)} VPCs: " + ", ".join(parts)


def table(findings: Findings) -> str:
    """Columns padded to their widest cell, then the totals and what could not be read."""
    rows = [HEADINGS, *(_row(result) for result in findings.results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in rows
    ]
    if findings.planned:
        lines = lines[:1] + [
            line
            for result, row_line in zip(findings.results, lines[1:], strict=True)
            for line in (row_line, *_plan_lines(result))
        ]
    lines.append("")
    lines.append(_summary_line(findings))
    for failure in findings.failures:
        where = failure.account_id + (f" {failure.region}" if failure.region else "")
        lines.append(f"NOT READ {where}: {failure.message}")
    return "\n".join(lines) + "\n"


def _plan_lines(result: VpcResult) -> list[str]:
    """The plan under its VPC's row: one indented line per part the runbook would touch."""
    if result.plan is None:
        return []
    return [
        f"    {label}: {text}"
        for label, text in zip(PLAN_LABELS, _plan_row(result), strict=True)
        if text
    ]


def _result_dict(result: VpcResult, planned: bool) -> dict[str, object]:
    found: dict[str, object] = dict(zip(COLUMNS, _row(result), strict=True))
    if planned:
        found["plan"] = (
            None if result.plan is None else dict(zip(PLAN_FIELDS, _plan_row(result), strict=True))
        )
    return found


def as_dict(findings: Findings) -> dict[str, object]:
    """With ``--plan``, each result has ``plan``: its fields, or null (not NON_COMPLIANT)."""
    return {
        "summary": counts(findings.results),
        "exit_code": int(findings.exit_code),
        "results": [_result_dict(result, findings.planned) for result in findings.results],
        "failures": [
            {"account_id": f.account_id, "region": f.region, "message": f.message}
            for f in findings.failures
        ],
    }


def to_json(findings: Findings) -> str:
    return json.dumps(as_dict(findings), indent=2) + "\n"


def to_csv(findings: Findings) -> str:
    """One row per VPC (with ``--plan``, its plan in the ``plan_*`` columns); an account or
    region not read is a row with compliance ``NOT_READ``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra = PLAN_COLUMNS if findings.planned else ()
    writer.writerow(COLUMNS + extra)
    writer.writerows(_full_row(result, findings.planned) for result in findings.results)
    writer.writerows(
        (f.account_id, f.region or "", "", "NOT_READ", f.message, *("" for _ in extra))
        for f in findings.failures
    )
    return buffer.getvalue()


def _by(findings: Findings, *, region: bool) -> dict[tuple[str, ...], dict[str, int]]:
    groups: dict[tuple[str, ...], list[VpcResult]] = defaultdict(list)
    for result in findings.results:
        key = (result.account_id, result.region) if region else (result.account_id,)
        groups[key].append(result)
    return {key: counts(groups[key]) for key in sorted(groups)}


def chart(findings: Findings) -> str:
    """An inline SVG (HTML5 needs no namespace for it): one stacked bar per account."""
    per_account = _by(findings, region=False)
    height = BAR_HEIGHT * (len(per_account) + 1) + 10
    parts = [
        f'<svg role="img" width="{LABEL_WIDTH + CHART_WIDTH}" '
        f'height="{height}" aria-label="Compliance per account">'
    ]
    for index, ((account_id,), found) in enumerate(per_account.items()):
        y = index * BAR_HEIGHT + 5
        total = sum(found.values()) or 1
        parts.append(
            f'<text x="0" y="{y + BAR_HEIGHT - 8}" font-size="13">{escape(account_id)}</text>'
        )
        x = float(LABEL_WIDTH)
        for kind, number in found.items():
            if not number:
                continue
            width = CHART_WIDTH * number / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT - 4}" '
                f'fill="{COLOURS.get(kind, "#555")}"><title>{escape(kind)}: {number}</title></rect>'
            )
            x += width
    legend_y = len(per_account) * BAR_HEIGHT + 5 + BAR_HEIGHT - 8
    x = float(LABEL_WIDTH)
    for kind, colour in COLOURS.items():
        parts.append(
            f'<rect x="{x:.0f}" y="{legend_y - 10}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(f'<text x="{x + 14:.0f}" y="{legend_y}" font-size="11">{kind}</text>')
        x += 120
    parts.append("</svg>")
    return "".join(parts)


def _table_html(headings: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join(
        f'<tr class="{escape(css or row[3])}">'
        + "".join(f"<td>{escape(c)}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE: Final = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr.NON_COMPLIANT td:nth-child(4){color:#c62828;font-weight:bold}
tr.COMPLIANT td:nth-child(4){color:#2e7d32}
tr.failure td{color:#c62828}
"""


def to_html(findings: Findings, *, title: str) -> str:
    """One self-contained page: no script, no external URL; styles and chart inline."""
    summary_headings = ("ACCOUNT", "REGION", *counts(findings.results))
    summary_rows = [
        (*key, *(str(n) for n in found.values()))
        for key, found in _by(findings, region=True).items()
    ]
    failure_rows = [(f.account_id, f.region or "(account)", f.message) for f in findings.failures]
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(_summary_line(findings))}</p>",
        "<h2>Compliance per account</h2>",
        chart(findings),
        "<h2>Summary per account and region</h2>",
        _table_html(summary_headings, summary_rows, css="summary"),
    ]
    if failure_rows:
        sections += [
            "<h2>Not read</h2>",
            _table_html(("ACCOUNT", "REGION", "ERROR"), failure_rows, css="failure"),
        ]
    headings = HEADINGS + (PLAN_HEADINGS if findings.planned else ())
    sections += [
        "<h2>VPCs</h2>",
        _table_html(headings, [_full_row(r, findings.planned) for r in findings.results]),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
