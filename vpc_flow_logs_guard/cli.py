"""The ``vpc-flow-logs-guard`` command: parse the command line, call the rest, set the exit code.

``audit`` judges VPCs live with the rule's own code; ``report`` reads what the deployed rule
recorded, organization-wide, from an AWS Config aggregator. Both render the same formats.
Exit code 0: all compliant; 1: something is not; 2: the audit failed or is incomplete.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tqdm import tqdm

from vpc_flow_logs_guard import audit, aws, render
from vpc_flow_logs_guard.model import AccessError, ExitCode
from vpc_flow_logs_guard.parameters import (
    PROJECT_CDK_JSON,
    UsageError,
    rule_parameters,
    settings,
)
from vpc_flow_logs_guard.report import findings_from_aggregate

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import boto3

    from vpc_flow_logs_guard.model import Findings

RULE_NAME: Final = "vpc-flow-logs-enabled"
"""The deployed rule's name (stacks.constructs.config_rule.RULE_NAME; a test keeps them equal)."""
ROLE_NAME: Final = re.compile(r"[\w+=,.@-]{1,64}")
REGION: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")


class _Bar:
    """A tqdm progress bar on stderr (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        self._bar = tqdm(total=0, unit="region", desc="Auditing", file=sys.stderr, disable=None)

    def add(self, regions: int) -> None:
        if self._bar.total is not None:
            self._bar.total += regions
        self._bar.refresh()

    def advance(self) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpc-flow-logs-guard",
        description="Judge VPC flow logs with the rule's own code (read-only).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="AWS profile (default: boto3's credential chain)")
    common.add_argument("--region", help="region for the global calls (default: the profile's)")
    common.add_argument("--format", choices=render.FORMATS, default="table")
    common.add_argument("--output", type=Path, help="write here instead of to stdout")

    run = commands.add_parser("audit", parents=[common], help="judge every VPC now")
    run.add_argument(
        "--regions", help="comma-separated regions (default: every region enabled in the account)"
    )
    run.add_argument(
        "-c",
        dest="context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of cdk.json, as with `npx cdk synth -c`",
    )
    run.add_argument("--cdk-json", type=Path, default=PROJECT_CDK_JSON)
    run.add_argument("--organization", action="store_true", help="every account of the org")
    run.add_argument("--role-name", help="with --organization: the role to assume in each")
    run.add_argument("--max-workers", type=int, default=audit.DEFAULT_WORKERS)
    run.add_argument(
        "--plan",
        action="store_true",
        help="for each NON_COMPLIANT VPC, what the remediation would create or change "
        "(read-only: nothing is changed)",
    )

    report = commands.add_parser("report", parents=[common], help="read an aggregator")
    report.add_argument("--aggregator", required=True, help="AWS Config aggregator name")
    report.add_argument("--rule-name", default=RULE_NAME)
    return parser


def _home_region(args: argparse.Namespace, session: boto3.session.Session) -> str:
    region = args.region or session.region_name
    if not region:
        raise UsageError("no region: give --region or configure one (AWS_REGION, profile)")
    return str(region)


def _regions(text: str | None) -> list[str] | None:
    if text is None:
        return None
    regions = [item.strip() for item in text.split(",") if item.strip()]
    wrong = [region for region in regions if not REGION.fullmatch(region)]
    if not regions or wrong:
        raise UsageError(f"--regions {text!r}: expected region names like eu-west-1")
    return regions


def _audit(args: argparse.Namespace) -> Findings:
    if args.organization != bool(args.role_name):
        raise UsageError("--organization and --role-name go together")
    if args.role_name and not ROLE_NAME.fullmatch(args.role_name):
        raise UsageError(f"--role-name {args.role_name!r} is not an IAM role name")
    if args.max_workers < 1:
        raise UsageError("--max-workers must be 1 or more")
    parameters = rule_parameters(args.cdk_json, args.context)
    deployment = settings(args.cdk_json, args.context) if args.plan else None
    requested = _regions(args.regions)
    session = aws.base_session(args.profile, args.region)
    home = _home_region(args, session)
    caller = aws.own_account(session, home)
    if args.organization:

        def opener(account_id: str) -> Callable[[], audit.Account]:
            return lambda: aws.assume_role(
                session, account_id, args.role_name, partition=caller.partition, region=home
            )

        targets = [
            audit.Target(account_id, opener(account_id))
            for account_id, _ in aws.organization_accounts(session, home)
        ]
    else:
        targets = [audit.Target(caller.account_id, lambda: caller)]
    bar = _Bar()
    try:
        return audit.run_audit(
            targets,
            parameters,
            home_region=home,
            requested_regions=requested,
            at=datetime.now(UTC),
            progress=bar,
            workers=args.max_workers,
            plan_with=deployment,
        )
    finally:
        bar.close()


def _report(args: argparse.Namespace) -> Findings:
    session = aws.base_session(args.profile, args.region)
    home = _home_region(args, session)
    places, results = aws.aggregate_compliance(session, home, args.aggregator, args.rule_name)
    return findings_from_aggregate(
        places, results, aggregator=args.aggregator, rule_name=args.rule_name
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        findings = _audit(args) if args.command == "audit" else _report(args)
    except (UsageError, AccessError) as error:
        print(f"vpc-flow-logs-guard {args.command}: {error}", file=sys.stderr)
        return ExitCode.FAILED
    title = (
        f"VPC flow logs audit ({RULE_NAME})"
        if args.command == "audit"
        else f"VPC flow logs report from aggregator {args.aggregator}"
    )
    text = render.render(findings, args.format, title=title)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return findings.exit_code
