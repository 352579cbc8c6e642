"""app.py as the CDK CLI runs it: a subprocess, context in CDK_CONTEXT_JSON, CDK_OUTDIR."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.unit.stacks.synthesis import ORG, TWO_OUS_TWO_REGIONS, run_app

if TYPE_CHECKING:
    from pathlib import Path


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


ORGANIZATION = {"organizationId": ORG, **TWO_OUS_TWO_REGIONS}


def stack_templates(outdir: Path) -> list[str]:
    return sorted(path.name for path in outdir.glob("*.template.json"))


def test_without_organization_settings_only_the_per_account_stack_is_built(
    tmp_path: Path,
) -> None:
    result = run_app(tmp_path, {})

    assert result.returncode == 0, result.stderr
    assert stack_templates(tmp_path) == ["VpcFlowLogsGuard.template.json"]


def test_organization_settings_add_the_log_archive_and_organization_stacks(
    tmp_path: Path,
) -> None:
    # Given the organization's settings as -c overrides, and a per-account override
    result = run_app(tmp_path, {**ORGANIZATION, "trafficType": "ALL"})

    # Then three stacks (and the StackSet's member template) are built, cdk-nag clean
    assert result.returncode == 0, result.stderr
    assert stack_templates(tmp_path) == [
        "VpcFlowLogsGuard.template.json",
        "VpcFlowLogsGuardLogArchive.template.json",
        "VpcFlowLogsGuardOrganization.template.json",
        "VpcFlowLogsGuardOrganizationMemberAccount5C91D980.stackset.template.json",
    ]
    report = json.loads((tmp_path / "validation-report.json").read_text())
    nag = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    assert [plugin["conclusion"] for plugin in nag] == ["success"]
    assert nag[0]["violations"] == []
    # the per-account settings reach the member template too
    member = json.loads(
        (
            tmp_path / "VpcFlowLogsGuardOrganizationMemberAccount5C91D980.stackset.template.json"
        ).read_text()
    )
    (rule,) = [r for r in member["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    assert rule["Properties"]["InputParameters"]["TrafficType"] == "ALL"
    # and the organization settings do not change the per-account stack
    alone = tmp_path / "alone"
    assert run_app(alone, {"trafficType": "ALL"}).returncode == 0
    assert (alone / "VpcFlowLogsGuard.template.json").read_text() == (
        tmp_path / "VpcFlowLogsGuard.template.json"
    ).read_text()


def test_organization_templates_pass_cfn_lint(tmp_path: Path) -> None:
    # `make test` lints cdk.out, which holds only the per-account stack by default.
    from cfnlint.api import lint

    # with the organization view, and every member forwarding its compliance changes to it
    view = {
        "aggregatorName": "org-vpc-flow-logs",
        "complianceEventBusArn": "arn:aws:events:us-east-1:111122223333:event-bus/"
        "vpc-flow-logs-guard-compliance",
    }
    assert run_app(tmp_path, {**ORGANIZATION, **view}).returncode == 0
    linted = sorted(p.name for p in tmp_path.glob("VpcFlowLogsGuardOrganization*.template.json"))
    assert linted == [
        "VpcFlowLogsGuardOrganization.template.json",
        "VpcFlowLogsGuardOrganizationMemberAccount5C91D980.stackset.template.json",
        "VpcFlowLogsGuardOrganizationView.template.json",
    ]
    member = (tmp_path / linted[1]).read_text()
    assert "vpc-flow-logs-guard-compliance-forwarding" in member
    for name in linted:
        matches = [
            str(match)
            for match in lint((tmp_path / name).read_text(), regions=["eu-west-1", "us-east-1"])
            # aws-cdk-lib's BucketDeployment handler both GetAtts and DependsOn its role
            if not (match.rule.id == "W3005" and "CustomCDKBucketDeployment" in str(match))
        ]
        assert matches == [], name
    log_archive = (tmp_path / "VpcFlowLogsGuardLogArchive.template.json").read_text()
    assert [str(match) for match in lint(log_archive, regions=["eu-west-1"])] == []


def test_partial_organization_settings_fail_the_synth_and_say_what_is_missing(
    tmp_path: Path,
) -> None:
    result = run_app(tmp_path, {"organizationalUnitIds": "ou-ab12-cdef3456"})

    assert result.returncode != 0
    assert "missing: regions, assetBucketPrefix" in result.stderr
    assert not (tmp_path / "VpcFlowLogsGuard.template.json").exists()


def test_direct_firehose_delivery_through_the_app(tmp_path: Path) -> None:
    from cfnlint.api import lint

    # The log-archive side builds, cdk-nag clean, and lints clean
    result = run_app(tmp_path, {**ORGANIZATION, "firehoseDelivery": "true"})

    assert result.returncode == 0, result.stderr
    log_archive = json.loads((tmp_path / "VpcFlowLogsGuardLogArchive.template.json").read_text())
    assert {"CentralFirehoseArn", "CentralFirehoseRoleArn"} <= set(log_archive["Outputs"])
    assert [str(m) for m in lint(json.dumps(log_archive), regions=["eu-west-1"])] == []

    # The member side delivers there: the runbook offers the destination, the synth builds it
    member = run_app(
        tmp_path / "member",
        {
            "destination": "kinesis-data-firehose",
            "centralFirehoseArn": "arn:aws:firehose:{region}:111122223333:deliverystream/"
            "VpcFlowLogsGuardLogArchive-FlowLogs",
            "centralFirehoseRoleArn": "arn:aws:iam::111122223333:role/"
            "AWSLogDeliveryFirehoseCrossAccountRole-{region}",
        },
    )
    assert member.returncode == 0, member.stderr
    assert (tmp_path / "member" / "VpcFlowLogsGuard.template.json").exists()
