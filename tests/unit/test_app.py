"""app.py as the CDK CLI runs it: a subprocess, context in CDK_CONTEXT_JSON, CDK_OUTDIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_app(outdir: Path, context: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        # -c key=value arrives like this; skipping the Lambda's bundling keeps the test fast
        "CDK_CONTEXT_JSON": json.dumps({**context, "aws:cdk:bundling-stacks": []}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    for name in ("PYTEST_CURRENT_TEST", "PYTEST_VERSION"):  # CDK treats pytest as in-memory
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_app_reads_settings_once_and_leaves_no_unacknowledged_finding(tmp_path: Path) -> None:
    # Given cdk.json's defaults and one -c override
    result = run_app(tmp_path, {"trafficType": "ALL"})

    # Then the synth succeeds with cdk-nag registered, and the override reached the template
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "VpcFlowLogsGuard.template.json").read_text())
    (rule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    assert rule["Properties"]["InputParameters"]["TrafficType"] == "ALL"
    assert rule["Properties"]["InputParameters"]["MinRetentionDays"] == "365"  # from cdk.json
    assert '"TrafficType": "REJECT"' not in json.dumps(template)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    nag = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    assert [plugin["conclusion"] for plugin in nag] == ["success"]
    assert nag[0]["violations"] == []
    assert nag[0]["suppressedViolations"]


def test_a_wrong_setting_fails_the_synth_and_says_which(tmp_path: Path) -> None:
    result = run_app(tmp_path, {"retentionInDays": "30"})

    assert result.returncode != 0
    assert "'retentionInDays' = 30 is below 'minRetentionDays' = 365" in result.stderr
    assert not (tmp_path / "VpcFlowLogsGuard.template.json").exists()
