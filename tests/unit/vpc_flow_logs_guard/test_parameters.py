"""The audit's rule parameters are the deployed rule's: cdk.json, then -c overrides."""

from __future__ import annotations

import json
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

from stacks.settings.account import Settings
from vpc_flow_logs_guard import cli
from vpc_flow_logs_guard.parameters import PROJECT_CDK_JSON, UsageError, rule_parameters
from vpc_flow_logs_rule.parameters import ExemptTag, parse_parameters

ROOT = Path(__file__).resolve().parents[3]


def test_the_defaults_are_the_stacks_rule_input_parameters() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    deployed = Settings.from_mapping(context).rule_input_parameters()

    assert PROJECT_CDK_JSON == ROOT / "cdk.json"
    assert rule_parameters(PROJECT_CDK_JSON, [])("eu-west-1") == parse_parameters(deployed)


def test_overrides_reach_the_rule_parameters() -> None:
    parameters = rule_parameters(
        PROJECT_CDK_JSON,
        ["trafficType=all", "minRetentionDays=30", "exemptTag=team=x", "exemptVpcIds=vpc-0a1b2c3d"],
    )("eu-west-1")

    assert parameters.traffic_type == "ALL"
    assert parameters.min_retention_days == 30
    assert parameters.exempt_tag == ExemptTag("team", "x")
    assert parameters.exempt_vpc_ids == frozenset({"vpc-0a1b2c3d"})


def test_each_region_is_judged_with_its_own_central_destination() -> None:
    # Given the StackSet's setting: one ARN for every Region, {region} left open
    destination = "arn:aws:logs:{region}:210987654321:destination:VpcFlowLogsGuardLogArchive-A"

    parameters = rule_parameters(PROJECT_CDK_JSON, [f"centralLogDestinationArn={destination}"])

    # Then each region gets what its stack gives the rule there
    assert parameters("eu-west-1").central_log_destination_arn == destination.format(
        region="eu-west-1"
    )
    assert parameters("ap-south-2").central_log_destination_arn == destination.format(
        region="ap-south-2"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trafficType"], "expected key=value"),
        (["organizationId=o-abcdefghij"], "unknown setting"),
        (["minRetentionDays=many"], "minRetentionDays"),
        (["retentionInDays=30"], "below 'minRetentionDays'"),  # the stack's cross-checks too
    ],
)
def test_bad_settings_say_what_is_wrong(overrides: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        rule_parameters(PROJECT_CDK_JSON, overrides)


def test_a_missing_cdk_json_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        rule_parameters(tmp_path / "cdk.json", [])


def test_the_console_script_points_at_the_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module, _, function = project["project"]["scripts"]["vpc-flow-logs-guard"].partition(":")

    assert getattr(import_module(module), function) is cli.main
