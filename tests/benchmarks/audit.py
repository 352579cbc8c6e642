"""``make bench``, part two: what ``vpc-flow-logs-guard audit`` costs for 1,000 VPCs in 3 regions.

Run as ``python tests/benchmarks/audit.py [--vpcs 1000]``. Every VPC gets a REJECT flow log to a
log group of its own kept 365 days (the costliest case for the look-ups: DescribeLogGroups takes
50 names a call), put straight into moto's backends (``tests.support.accounts.BackendWorld``).
The calls are counted on the session the audit uses (tests/benchmarks/measure.py); the wall time
is moto's, in this process, so it shows how the calls overlap, not what AWS would take.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpc_flow_logs_guard.model import Findings

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")


class _Silent:
    def add(self, regions: int) -> None: ...

    def advance(self) -> None: ...


def main(argv: list[str]) -> int:
    import boto3
    from moto import mock_aws

    from local_aws.moto_patches import patch_moto
    from stacks.settings.account import LOG_GROUP_PREFIX
    from tests.benchmarks.measure import measure
    from tests.support.accounts import ACCOUNT_ID, BackendWorld
    from vpc_flow_logs_guard import aws
    from vpc_flow_logs_guard.audit import Target, run_audit
    from vpc_flow_logs_guard.parameters import PROJECT_CDK_JSON, rule_parameters

    parser = argparse.ArgumentParser()
    parser.add_argument("--vpcs", type=int, default=1000)
    vpcs = parser.parse_args(argv).vpcs
    parameters = rule_parameters(PROJECT_CDK_JSON, [])
    with mock_aws(), patch_moto():
        started = time.perf_counter()
        worlds = [BackendWorld(region=region) for region in REGIONS]
        for index in range(vpcs):
            world = worlds[index % len(worlds)]
            vpc_id = world.vpc()
            world.flow_log(vpc_id, log_group=world.log_group(f"{LOG_GROUP_PREFIX}{vpc_id}"))
        built = time.perf_counter() - started
        print(
            f"vpc-flow-logs-guard audit: {vpcs} VPCs (+{len(REGIONS)} default) in {REGIONS}, "
            f"built in moto's backends in {built:.1f} s"
        )
        for workers in (1, 8):
            session = boto3.session.Session(region_name=REGIONS[0])
            account = aws.AccountAccess(session, ACCOUNT_ID, "aws")

            def audit(account: aws.AccountAccess = account, workers: int = workers) -> Findings:
                return run_audit(
                    [Target(ACCOUNT_ID, lambda: account)],
                    parameters,
                    home_region=REGIONS[0],
                    requested_regions=list(REGIONS),
                    at=datetime.now(UTC),
                    progress=_Silent(),
                    workers=workers,
                )

            findings, cost = measure(session, audit)
            calls = ", ".join(f"{op} {n}" for op, n in sorted(cost.calls.items()))
            print(
                f"  --max-workers {workers}: {len(findings.results)} VPCs judged, "
                f"{cost.total} calls ({calls}), {cost.seconds:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT / "ssm_documents" / "scripts"), str(ROOT)]
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(variable, None)
    from tests.benchmarks.run import ENVIRONMENT

    os.environ.update(ENVIRONMENT)
    sys.exit(main(sys.argv[1:]))
