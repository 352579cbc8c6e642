"""parliament (duo-labs), the IAM policy linter, as the tests ask it: the findings of one policy."""

from __future__ import annotations

import json
from typing import Any

from parliament import analyze_policy_string


def parliament_findings(policy: dict[str, Any]) -> list[tuple[str, str]]:
    """(issue, detail) of every finding on ``policy``; the project has no private auditors."""
    findings = analyze_policy_string(json.dumps(policy), ignore_private_auditors=True).findings
    return [(finding.issue, finding.detail) for finding in findings]
