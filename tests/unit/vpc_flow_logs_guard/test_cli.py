"""The command against moto: two accounts that can be read, one that cannot, four regions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import pytest

from stacks.settings.account import in_region
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    FakeLambdaContext,
    World,
    put_forwarding_policy,
    scheduled_event,
)
from tests.unit.vpc_flow_logs_guard.builders import (
    DISABLED_REGION,
    MANAGEMENT,
    REGIONS,
    ROLE,
    Organization,
)
from vpc_flow_logs_guard import cli
from vpc_flow_logs_guard.parameters import PROJECT_CDK_JSON, settings
from vpc_flow_logs_rule import handler

if TYPE_CHECKING:
    from pathlib import Path

    from aws_lambda_powertools.utilities.typing import LambdaContext


def audit_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    output = tmp_path / "audit.json"
    code = cli.main(["audit", *args, "--format", "json", "--output", str(output)])
    return code, json.loads(output.read_text())


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {
        (r["account_id"], r["region"], r["vpc_id"]): r["compliance_type"] for r in report["results"]
    }


def test_organization_audit_reads_every_account_and_region_it_can(
    organization: Organization, tmp_path: Path
) -> None:
    # Given: a compliant and a bare VPC in the management account, a short retention in the
    # member account, and an account without the audit role
    covered = organization.vpc(MANAGEMENT, "us-east-1")
    organization.flow_log(MANAGEMENT, "us-east-1", covered)
    bare = organization.vpc(MANAGEMENT, "eu-west-1")
    short = organization.vpc(organization.member, "us-west-2")
    organization.flow_log(organization.member, "us-west-2", short, "ALL", retention=30)
    regions = ",".join([*REGIONS, DISABLED_REGION])

    # When
    code, report = audit_json(tmp_path, "--organization", "--role-name", ROLE, "--regions", regions)

    # Then: every VPC of both readable accounts, each region's default VPC included
    found = verdicts(report)
    assert found[(MANAGEMENT, "us-east-1", covered)] == "COMPLIANT"
    assert found[(MANAGEMENT, "eu-west-1", bare)] == "NON_COMPLIANT"
    assert found[(organization.member, "us-west-2", short)] == "NON_COMPLIANT"
    assert {(a, r) for a, r, _ in found} == {
        (account, region) for account in (MANAGEMENT, organization.member) for region in REGIONS
    }
    annotation = next(r["annotation"] for r in report["results"] if r["vpc_id"] == short)
    assert "30" in annotation
    assert "365" in annotation
    # and what could not be read is said, per account and per region
    failures = {(f["account_id"], f["region"]): f["message"] for f in report["failures"]}
    assert set(failures) == {
        (organization.no_role, None),
        (MANAGEMENT, DISABLED_REGION),
        (organization.member, DISABLED_REGION),
    }
    assert "AccessDenied" in failures[(organization.no_role, None)]
    assert "not enabled" in failures[(MANAGEMENT, DISABLED_REGION)]
    assert code == 2  # incomplete, whatever the rest says


def test_exit_codes_follow_the_verdicts(organization: Organization, tmp_path: Path) -> None:
    default_vpc = organization.default_vpc(MANAGEMENT, "us-east-1")

    non_compliant, _ = audit_json(tmp_path, "--regions", "us-east-1")
    organization.flow_log(MANAGEMENT, "us-east-1", default_vpc)
    compliant, report = audit_json(tmp_path, "--regions", "us-east-1")
    stricter, _ = audit_json(tmp_path, "--regions", "us-east-1", "-c", "trafficType=ALL")

    assert (non_compliant, compliant, stricter) == (1, 0, 1)
    assert report["summary"] == {"COMPLIANT": 1, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}


def test_the_audit_judges_as_the_rule_lambda_does(
    organization: Organization, tmp_path: Path
) -> None:
    # Given: the rule's own test world, in the same account and region, with varied flow logs
    world = World()
    world.flow_log(world.vpc(), "REJECT")
    world.flow_log(world.vpc(), "ACCEPT")
    short = world.vpc()
    world.flow_log(short, "ALL", log_group=world.log_group("/short", retention_days=7))
    world.vpc(tags={"flow-logs": "exempt"})
    overrides = ["-c", "exemptTag=flow-logs=exempt", "-c", "minRetentionDays=30"]
    parameters = settings(PROJECT_CDK_JSON, overrides[1::2]).rule_input_parameters()

    # When: the Lambda runs as AWS Config invokes it, and the audit runs
    handler.lambda_handler(
        scheduled_event(parameters=parameters), cast("LambdaContext", FakeLambdaContext())
    )
    _, report = audit_json(tmp_path, "--regions", "us-east-1", *overrides)

    # Then: the same verdict and annotation for every VPC
    audited = {
        r["vpc_id"]: (r["compliance_type"], r["annotation"] or None) for r in report["results"]
    }
    recorded = world.recorded()
    assert audited == recorded
    assert {verdict for verdict, _ in recorded.values()} == {
        "COMPLIANT",
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
    }


def test_the_audit_reads_the_forwarding_policy_as_the_rule_lambda_does(
    organization: Organization, tmp_path: Path
) -> None:
    # Given: two flow-log groups, one of them excluded by name from the account's forwarding
    # policy, and the StackSet's setting with {region} left open
    world = World()
    forwarded, excluded = world.vpc(), world.vpc()
    world.flow_log(forwarded, "REJECT", log_group=world.log_group("/aws/vpc-flow-logs/a"))
    world.flow_log(excluded, "REJECT", log_group=world.log_group("/aws/vpc-flow-logs/b"))
    destination = put_forwarding_policy(world, excluded=["/aws/vpc-flow-logs/b"])
    setting = destination.replace("us-east-1", "{region}")
    overrides = ["-c", f"centralLogDestinationArn={setting}"]
    parameters = settings(PROJECT_CDK_JSON, overrides[1::2]).rule_input_parameters()

    # When: the Lambda runs as the stack in us-east-1 configures it, and the audit runs
    handler.lambda_handler(
        scheduled_event(parameters=in_region(parameters, "us-east-1")),
        cast("LambdaContext", FakeLambdaContext()),
    )
    _, report = audit_json(tmp_path, "--regions", "us-east-1", *overrides)

    # Then: the same verdicts, and only the excluded group's VPC is not forwarded
    audited = {
        r["vpc_id"]: (r["compliance_type"], r["annotation"] or None) for r in report["results"]
    }
    assert audited == world.recorded()
    assert audited[forwarded][0] == "COMPLIANT"
    assert audited[excluded][0] == "NON_COMPLIANT"
    assert "which no account subscription filter policy forwards" in str(audited[excluded][1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "trafficType=SOME"], "trafficType"),
        (["-c", "trafficTyp=ALL"], "unknown setting"),
        (["--organization"], "--role-name"),
        (["--regions", "mars-1"], "--regions"),
    ],
)
def test_bad_input_fails_with_exit_code_2_and_says_why(
    aws: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = cli.main(["audit", *args])

    assert code == 2
    assert message in capsys.readouterr().err
