"""Flow logs delivered to S3: no role, no log group, only the flow log to the bucket."""

from __future__ import annotations

from typing import Any

import pytest

from enable_vpc_flow_logs.common import RemediationError
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    BUCKET_ARN,
    OURS,
    ROLE_ARN,
    S3_FRESH_VPC_CALLS,
    Env,
    remediate,
    to_s3,
    vpc_flow_logs,
)


def test_s3_fresh_vpc_gets_only_a_flow_log_to_the_bucket(env: Env, bucket: str) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id

    # When the runbook runs with an S3 destination for a VPC with nothing
    output = remediate(session, vpc_id, **to_s3())

    # Then it creates the flow log only: no role, no log group
    assert calls.names == S3_FRESH_VPC_CALLS
    assert env.iam.list_roles()["Roles"] == []
    assert env.logs.describe_log_groups()["logGroups"] == []
    create = calls.params("ec2:CreateFlowLogs")[0]
    assert create["LogDestinationType"] == "s3"
    assert create["LogDestination"] == BUCKET_ARN
    assert "DeliverLogsPermissionArn" not in create
    assert "LogGroupName" not in create
    (flow_log,) = vpc_flow_logs(env.ec2, vpc_id)
    assert flow_log["LogDestinationType"] == "s3"
    assert flow_log["LogDestination"] == BUCKET_ARN
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log.get("Tags") == OURS
    assert output == {
        "FlowLogId": flow_log["FlowLogId"],
        "LogGroupName": "",
        "DeliveryRoleArn": "",
        "Destination": BUCKET_ARN,
        "Changes": [f"created flow log {flow_log['FlowLogId']} for VPC {vpc_id}"],
    }


def test_s3_second_run_writes_nothing(env: Env, bucket: str) -> None:
    # Given a VPC the runbook already remediated to S3
    first = remediate(env.session, env.vpc_id, **to_s3())
    env.calls.made.clear()

    # When it runs again
    second = remediate(env.session, env.vpc_id, **to_s3())

    # Then it only reads, and answers with the same flow log
    assert env.calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs", "ec2:DescribeFlowLogs"]
    assert second == first | {"Changes": []}
    assert len(vpc_flow_logs(env.ec2, env.vpc_id)) == 1


def test_s3_key_prefix_reaches_the_flow_log(env: Env, bucket: str) -> None:
    # When the destination has a key prefix (with a trailing slash)
    output = remediate(env.session, env.vpc_id, **to_s3(f"{BUCKET_ARN}/team-a/"))

    # Then the flow log delivers under that prefix, as EC2 normalizes it
    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["LogDestination"] == f"{BUCKET_ARN}/team-a"
    assert output["Destination"] == f"{BUCKET_ARN}/team-a"


def test_existing_flow_log_to_the_bucket_satisfies(env: Env, bucket: str) -> None:
    # Given someone else's flow log of ALL traffic to the bucket
    existing = env.world.flow_log(env.vpc_id, "ALL", destination_type="s3", destination=BUCKET_ARN)

    # When the runbook asks for REJECT to the bucket
    output = remediate(env.session, env.vpc_id, **to_s3())

    # Then ALL covers it: nothing is written
    assert env.calls.writes == []
    assert output["FlowLogId"] == existing
    assert output["Changes"] == []


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param({"destination_type": "s3", "destination": "arn:aws:s3:::other"}, id="bucket"),
        pytest.param(
            {"destination_type": "s3", "destination": f"{BUCKET_ARN}/team-b"}, id="prefix"
        ),
        pytest.param({"log_group": "/aws/vpc-flow-logs/x", "role": ROLE_ARN}, id="log group"),
    ],
)
def test_flow_log_to_another_destination_does_not_satisfy_and_is_left_alone(
    env: Env, bucket: str, elsewhere: dict[str, Any]
) -> None:
    # Given a flow log of ALL traffic to somewhere else
    env.world.bucket("other")
    other = env.world.flow_log(env.vpc_id, "ALL", **elsewhere)

    # When the runbook runs for the bucket
    output = remediate(env.session, env.vpc_id, **to_s3())

    # Then it adds its own flow log and leaves the other as it is
    assert output["FlowLogId"] != other
    flow_logs = {fl["FlowLogId"]: fl for fl in vpc_flow_logs(env.ec2, env.vpc_id)}
    assert set(flow_logs) == {other, output["FlowLogId"]}
    assert flow_logs[output["FlowLogId"]]["LogDestination"] == BUCKET_ARN


def test_our_s3_flow_log_that_no_longer_satisfies_is_replaced(env: Env, bucket: str) -> None:
    # Given our REJECT flow log to the bucket
    first = remediate(env.session, env.vpc_id, **to_s3())

    # When ALL is requested
    second = remediate(env.session, env.vpc_id, TrafficType="ALL", **to_s3())

    # Then ours is replaced: one flow log, of ALL traffic, to the bucket
    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["FlowLogId"] == second["FlowLogId"] != first["FlowLogId"]
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestination"] == BUCKET_ARN


def test_foreign_s3_flow_log_that_does_not_satisfy_is_a_clear_error(env: Env, bucket: str) -> None:
    # Given someone else's ACCEPT flow log to the bucket
    foreign = env.world.flow_log(
        env.vpc_id, "ACCEPT", destination_type="s3", destination=BUCKET_ARN
    )

    # When the runbook runs, then it refuses to touch it, says why and how to avoid it
    with pytest.raises(RemediationError) as caught:
        remediate(env.session, env.vpc_id, **to_s3())

    message = str(caught.value)
    assert f"already has a flow log to S3 {BUCKET_ARN}" in message
    assert foreign in message
    assert "S3BucketArn prefix" in message
    assert env.calls.writes == []


def test_missing_bucket_is_a_clear_error(env: Env) -> None:
    # Given no bucket: when the runbook runs, then it fails naming the bucket, creating nothing
    with pytest.raises(RemediationError) as caught:
        remediate(env.session, env.vpc_id, **to_s3())

    assert f"to S3 {BUCKET_ARN} failed" in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert vpc_flow_logs(env.ec2, env.vpc_id) == []
