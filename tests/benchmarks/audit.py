"""``make bench``, part two: what ``vpc-flow-logs-guard audit`` costs for 1,000 VPCs in 3 regions.

Run as ``python tests/benchmarks/audit.py [--vpcs 1000]``. Every VPC gets a flow log to a log
group of its own (the costliest case for the look-ups: DescribeLogGroups takes 50 names a call).
The calls are counted on the session the audit uses (tests/benchmarks/measure.py); the wall time
is moto's, in this process, so it shows how the calls overlap, not what AWS would take.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpc_flow_logs_guard.model import Findings

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
ACCOUNT_ID = "123456789012"  # moto's default account


class _Silent:
    def add(self, regions: int) -> None: ...

    def advance(self) -> None: ...


def main(argv: list[str]) -> int:
    import boto3
    from moto import mock_aws

    from local_aws.moto_patches import patch_moto
    from tests.benchmarks.measure import measure
    from vpc_flow_logs_guard import aws
    from vpc_flow_logs_guard.audit import Target, run_audit
    from vpc_flow_logs_guard.parameters import PROJECT_CDK_JSON, rule_parameters

    parser = argparse.ArgumentParser()
    parser.add_argument("--vpcs", type=int, default=1000)
    vpcs = parser.parse_args(argv).vpcs
    parameters = rule_parameters(PROJECT_CDK_JSON, [])
    with mock_aws(), patch_moto():
        for index in range(vpcs):
            region = REGIONS[index % len(REGIONS)]
            setup = boto3.session.Session(region_name=region)
            ec2, logs = setup.client("ec2"), setup.client("logs")
            vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            name = f"/aws/vpc-flow-logs/{vpc_id}"
            logs.create_log_group(logGroupName=name)
            logs.put_retention_policy(logGroupName=name, retentionInDays=365)
            ec2.create_flow_logs(
                ResourceIds=[vpc_id],
                ResourceType="VPC",
                TrafficType="REJECT",
                LogGroupName=name,
                DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT_ID}:role/VpcFlowLogsDeliveryRole",
            )
        print(f"vpc-flow-logs-guard audit: {vpcs} VPCs (+{len(REGIONS)} default) in {REGIONS}")
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
