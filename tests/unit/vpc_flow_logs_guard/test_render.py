"""Rendering findings: the same rows in every format; HTML that needs nothing from outside."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from vpc_flow_logs_guard import render
from vpc_flow_logs_guard.model import Failure, Findings, VpcResult

FINDINGS = Findings(
    (
        VpcResult("111111111111", "eu-west-1", "vpc-0a", "COMPLIANT", "REJECT traffic is covered"),
        VpcResult("111111111111", "eu-west-1", "vpc-0b", "NON_COMPLIANT", "No flow log <&>"),
        VpcResult("222222222222", "us-east-1", "vpc-0c", "NOT_APPLICABLE", "Exempt by tag"),
    ),
    (Failure("333333333333", None, "sts:AssumeRole: AccessDenied: no"),),
)


def test_the_table_has_one_line_per_vpc_then_totals_and_failures() -> None:
    lines = render.table(FINDINGS).splitlines()

    assert lines[0].split() == ["ACCOUNT", "REGION", "VPC", "COMPLIANCE", "ANNOTATION"]
    assert lines[2].split()[:4] == ["111111111111", "eu-west-1", "vpc-0b", "NON_COMPLIANT"]
    assert lines[1].index("vpc-0a") == lines[0].index("VPC")  # columns line up
    assert "3 VPCs: 1 COMPLIANT, 1 NON_COMPLIANT, 1 NOT_APPLICABLE" in lines
    assert lines[-1] == "NOT READ 333333333333: sts:AssumeRole: AccessDenied: no"


def test_json_and_csv_carry_every_row_and_failure() -> None:
    document = json.loads(render.to_json(FINDINGS))
    rows = list(csv.DictReader(io.StringIO(render.to_csv(FINDINGS))))

    assert document["summary"] == {"COMPLIANT": 1, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 1}
    assert document["exit_code"] == 2
    assert [r["vpc_id"] for r in document["results"]] == ["vpc-0a", "vpc-0b", "vpc-0c"]
    assert document["failures"][0]["account_id"] == "333333333333"
    assert [r["compliance_type"] for r in rows] == [
        "COMPLIANT",
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
        "NOT_READ",
    ]
    assert rows[1]["annotation"] == "No flow log <&>"


def test_html_is_self_contained_with_summary_chart_and_rows() -> None:
    page = render.to_html(FINDINGS, title="Audit")

    assert not re.search(r"(?:https?:)?//|<script|<link|src=", page)
    assert page.count("<svg") == 1
    # one bar segment per non-empty count of each account, with its number
    assert "<title>NON_COMPLIANT: 1</title>" in page
    assert page.count('<rect x="140.0"') == 2  # each account's first segment
    assert "<td>111111111111</td><td>eu-west-1</td><td>1</td><td>1</td><td>0</td>" in page
    assert "No flow log &lt;&amp;&gt;" in page
    assert "sts:AssumeRole: AccessDenied: no" in page


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: table, json, csv, html"):
        render.render(FINDINGS, "xml", title="t")
