"""``audit --plan``: the runbook's own decisions, read-only, against moto and against fakes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from enable_vpc_flow_logs.common import MANAGED_BY_KEY, MANAGED_BY_VALUE
from enable_vpc_flow_logs.delivery_role import INLINE_POLICY_NAME, delivery_policy, trust_policy
from enable_vpc_flow_logs.request import parse_request
from stacks.settings.account import Settings
from tests.support.runbook import play
from tests.support.service_authorization import reference_action
from tests.support.service_models import recording
from tests.unit.stacks.synthesis import cdk_json_context
from tests.unit.vpc_flow_logs_guard.builders import MANAGEMENT, Organization, RunbookWorld
from vpc_flow_logs_guard import cli, plan

if TYPE_CHECKING:
    from pathlib import Path

    from enable_vpc_flow_logs.request import Request

ACCOUNT = "111122223333"
REGION = "eu-west-1"
VPC = "vpc-0123456789abcdef0"
GROUP = f"/aws/vpc-flow-logs/{VPC}"


def payload(**context: Any) -> dict[str, str]:
    settings = Settings.from_mapping({**cdk_json_context(), **context})
    return plan.runbook_input(settings, VPC, account_id=ACCOUNT, region=REGION, partition="aws")


def request() -> Request:
    return parse_request(payload())


def flow_log(flow_log_id: str, traffic: str, *, ours: bool) -> dict[str, Any]:
    return {
        "FlowLogId": flow_log_id,
        "ResourceId": VPC,
        "TrafficType": traffic,
        "FlowLogStatus": "ACTIVE",
        "DeliverLogsStatus": "SUCCESS",
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": GROUP,
        "MaxAggregationInterval": 600,
        "Tags": [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}] if ours else [],
    }


def good_role(world: RunbookWorld) -> None:
    world.roles["VpcFlowLogsDeliveryRole"] = {
        "AssumeRolePolicyDocument": trust_policy("aws", ACCOUNT),
        "PermissionsBoundary": {"PermissionsBoundaryArn": plan.boundary_arn("aws", ACCOUNT)},
    }


def test_nothing_there_yet_plans_role_log_group_and_flow_log() -> None:
    planned = plan.plan_vpc(payload(), RunbookWorld())

    assert planned.delivery_role.startswith("create VpcFlowLogsDeliveryRole within the stack's")
    assert planned.log_group == f"create {GROUP}, retention 365 days"
    assert planned.flow_log.startswith(f"create: REJECT traffic to log group {GROUP}")
    assert planned.blocker == ""


def test_our_narrow_flow_log_is_replaced_and_a_short_retention_raised() -> None:
    world = RunbookWorld()
    good_role(world)
    world.inline_policies[("VpcFlowLogsDeliveryRole", INLINE_POLICY_NAME)] = delivery_policy(
        "aws", ACCOUNT
    )
    world.flow_logs_by_vpc[VPC] = [flow_log("fl-ours", "ACCEPT", ours=True)]
    world.log_groups[GROUP] = {"logGroupName": GROUP, "retentionInDays": 30}

    planned = plan.plan_vpc(payload(), world)

    assert planned.delivery_role == "keep VpcFlowLogsDeliveryRole"
    assert planned.log_group == f"raise retention of {GROUP} from 30 to 365 days"
    assert planned.flow_log.endswith("; delete fl-ours (replaced)")


def test_a_group_of_ours_without_retention_gets_one_a_users_does_not() -> None:
    world = RunbookWorld()
    world.log_groups[GROUP] = {"logGroupName": GROUP}

    users = plan.plan_vpc(payload(), world).log_group
    world.tags[request()["LogGroupArn"]] = {MANAGED_BY_KEY: MANAGED_BY_VALUE}
    ours = plan.plan_vpc(payload(), world).log_group

    assert users == f"keep {GROUP} (retention never expires)"
    assert ours == f"set retention of {GROUP} to 365 days"


def test_a_foreign_conflicting_flow_log_or_a_bad_role_stops_the_runbook() -> None:
    foreign = RunbookWorld()
    foreign.flow_logs_by_vpc[VPC] = [flow_log("fl-theirs", "ACCEPT", ours=False)]
    bad_role = RunbookWorld()
    bad_role.roles["VpcFlowLogsDeliveryRole"] = {"AssumeRolePolicyDocument": {}}

    conflict = plan.plan_vpc(payload(), foreign)
    refused = plan.plan_vpc(payload(), bad_role)

    assert "fl-theirs (traffic type ACCEPT does not cover REJECT)" in conflict.blocker
    assert (conflict.delivery_role, conflict.log_group, conflict.flow_log) == ("", "", "")
    assert "trust policy" in refused.blocker
    assert "no permissions boundary" in refused.blocker
    assert "<the stack's DeliveryRoleBoundaryArn>" in refused.blocker
    assert plan.boundary_arn("aws", ACCOUNT) not in refused.blocker


def test_with_the_central_bucket_only_the_flow_log_is_planned() -> None:
    bucket = "arn:aws:s3:::org-vpc-flow-logs"

    planned = plan.plan_vpc(payload(destination="s3", centralBucketArn=bucket), RunbookWorld())

    assert (planned.delivery_role, planned.log_group) == ("", "")
    assert planned.flow_log.startswith(f"create: REJECT traffic to S3 {bucket}")


def test_with_the_central_stream_only_the_flow_log_is_planned_with_this_regions_stream() -> None:
    archive = "444455556666"
    settings = Settings.from_mapping(
        {
            **cdk_json_context(),
            "destination": "kinesis-data-firehose",
            "centralFirehoseArn": f"arn:aws:firehose:{{region}}:{archive}:deliverystream/s",
            "centralFirehoseRoleArn": f"arn:aws:iam::{archive}:role/"
            "AWSLogDeliveryFirehoseCrossAccountRole-{region}",
        }
    )

    given = plan.runbook_input(
        settings, "vpc-0123456789abcdef0", account_id=ACCOUNT, region="eu-west-1", partition="aws"
    )

    stream = f"arn:aws:firehose:eu-west-1:{archive}:deliverystream/s"
    assert given["FirehoseArn"] == stream
    assert given["DeliverCrossAccountRole"].endswith("CrossAccountRole-eu-west-1")
    assert given["DeliverLogsPermissionArn"].startswith(
        f"arn:aws:iam::{ACCOUNT}:role/vpc-flow-logs-guard/"
    )
    # planned by the runbook's own code: no delivery role and no log group, the flow log only
    planned = plan.plan_vpc(given, RunbookWorld())
    assert planned.blocker == ""
    assert (planned.delivery_role, planned.log_group) == ("", "")
    assert planned.flow_log == (
        f"create: REJECT traffic to Firehose stream {stream}, aggregation 600s"
    )


def moto_state(organization: Organization) -> tuple[object, ...]:
    iam = organization.client("iam", MANAGEMENT)
    logs = organization.client("logs", MANAGEMENT, "us-east-1")
    ec2 = organization.client("ec2", MANAGEMENT, "us-east-1")
    return (
        sorted(role["RoleName"] for role in iam.list_roles()["Roles"]),
        sorted(group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]),
        sorted(fl["FlowLogId"] for fl in ec2.describe_flow_logs()["FlowLogs"]),
    )


def test_audit_plan_reads_only_and_says_what_the_runbook_then_does(
    organization: Organization, tmp_path: Path
) -> None:
    # Given: a bare VPC and one with a flow log to a log group that keeps 30 days
    bare = organization.vpc(MANAGEMENT, "us-east-1")
    short = organization.vpc(MANAGEMENT, "us-east-1")
    organization.flow_log(MANAGEMENT, "us-east-1", short, retention=30)
    before = moto_state(organization)
    output = tmp_path / "plan.json"

    # When
    with recording() as requests:
        code = cli.main(
            [
                "audit",
                "--plan",
                "--regions",
                "us-east-1",
                "--format",
                "json",
                "--output",
                str(output),
            ]
        )

    # Then: every request was a read, and nothing changed
    report = json.loads(output.read_text())
    calls = {(r.service, r.operation) for r in requests}
    assert {("iam", "GetRole"), ("logs", "DescribeLogGroups"), ("ec2", "DescribeFlowLogs")} <= calls
    # (botocore's service names here are the IAM prefixes)
    levels = {f"{svc}:{op}": reference_action(f"{svc}:{op}")["accessLevel"] for svc, op in calls}
    assert set(levels.values()) <= {"Read", "List"}, levels
    assert moto_state(organization) == before
    assert code == 1
    plans = {r["vpc_id"]: r["plan"] for r in report["results"]}
    assert plans[bare]["log_group"] == f"create /aws/vpc-flow-logs/{bare}, retention 365 days"
    assert plans[short]["log_group"] == (
        f"raise retention of /aws/vpc-flow-logs/{short} from 30 to 365 days"
    )
    assert plans[short]["flow_log"].startswith("keep fl-")

    # and the runbook, run for real with the same input, does what was planned
    played = play(
        plan.runbook_input(
            Settings.from_mapping(cdk_json_context()),
            bare,
            account_id=MANAGEMENT,
            region="us-east-1",
            partition="aws",
        ),
        boto3.session.Session(),
        sleep=lambda _: None,
    )
    changes = played.changes
    assert changes[0].startswith("created IAM role VpcFlowLogsDeliveryRole")
    assert f"created log group /aws/vpc-flow-logs/{bare}" in changes
    assert f"set retention of log group /aws/vpc-flow-logs/{bare} to 365 days" in changes
    assert any(change.startswith("created flow log") for change in changes)
