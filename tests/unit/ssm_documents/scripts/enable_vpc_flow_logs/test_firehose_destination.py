"""Flow logs delivered to another account's Firehose stream: no role or log group of the
runbook's, only the flow log, with the stack's source role and the stream account's role."""

from __future__ import annotations

import pytest

from enable_vpc_flow_logs.common import RemediationError
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    DESTINATION_ROLE,
    OURS,
    S3_FRESH_VPC_CALLS,
    SOURCE_ROLE,
    STREAM,
    Env,
    remediate,
    to_firehose,
    vpc_flow_logs,
)

OTHER_STREAM = STREAM.replace("central-flow-logs", "team-flow-logs")


def test_fresh_vpc_gets_only_a_flow_log_to_the_stream_with_both_roles(env: Env) -> None:
    # When the runbook runs for a VPC with nothing, with the stack's Firehose parameters
    output = remediate(env.session, env.vpc_id, **to_firehose())

    # Then it makes the same calls as for S3: no role, no log group
    assert env.calls.names == S3_FRESH_VPC_CALLS
    assert env.iam.list_roles()["Roles"] == []
    assert env.logs.describe_log_groups()["logGroups"] == []
    (create,) = env.calls.params("ec2:CreateFlowLogs")
    assert {key: value for key, value in create.items() if key != "TagSpecifications"} == {
        "ResourceIds": [env.vpc_id],
        "ResourceType": "VPC",
        "TrafficType": "REJECT",
        "LogDestinationType": "kinesis-data-firehose",
        "LogDestination": STREAM,
        "DeliverLogsPermissionArn": SOURCE_ROLE,
        "DeliverCrossAccountRole": DESTINATION_ROLE,
        "MaxAggregationInterval": 600,
    }
    # And EC2 describes the flow log it created with both roles
    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["LogDestinationType"] == "kinesis-data-firehose"
    assert flow_log["LogDestination"] == STREAM
    assert flow_log["DeliverLogsPermissionArn"] == SOURCE_ROLE
    assert flow_log["DeliverCrossAccountRole"] == DESTINATION_ROLE
    assert flow_log.get("Tags") == OURS
    assert output == {
        "FlowLogId": flow_log["FlowLogId"],
        "LogGroupName": "",
        "DeliveryRoleArn": SOURCE_ROLE,
        "Destination": STREAM,
        "Changes": [f"created flow log {flow_log['FlowLogId']} for VPC {env.vpc_id}"],
    }


def test_second_run_writes_nothing(env: Env) -> None:
    # Given a VPC the runbook already remediated to the stream
    first = remediate(env.session, env.vpc_id, **to_firehose())
    env.calls.made.clear()

    # When it runs again, then it only reads, and answers with the same flow log
    second = remediate(env.session, env.vpc_id, **to_firehose())

    assert env.calls.names == ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs", "ec2:DescribeFlowLogs"]
    assert second == first | {"Changes": []}


def test_existing_flow_log_to_the_stream_satisfies_whatever_roles_it_has(env: Env) -> None:
    # Given someone else's flow log of ALL traffic to the stream, with other roles
    existing = env.world.flow_log(
        env.vpc_id,
        "ALL",
        destination_type="kinesis-data-firehose",
        destination=STREAM,
        role=SOURCE_ROLE.replace("Guard-FirehoseSource-1A2B", "TheirSource"),
        cross_account_role=DESTINATION_ROLE + "-theirs",
    )

    # When the runbook asks for REJECT to the stream, then ALL covers it: nothing is written
    output = remediate(env.session, env.vpc_id, **to_firehose())

    assert env.calls.writes == []
    assert output["FlowLogId"] == existing
    assert output["DeliveryRoleArn"].endswith("TheirSource")


def test_flow_log_to_another_stream_is_left_alone(env: Env) -> None:
    other = env.world.flow_log(
        env.vpc_id, "ALL", destination_type="kinesis-data-firehose", destination=OTHER_STREAM
    )

    output = remediate(env.session, env.vpc_id, **to_firehose())

    flow_logs = {fl["FlowLogId"]: fl["LogDestination"] for fl in vpc_flow_logs(env.ec2, env.vpc_id)}
    assert flow_logs == {other: OTHER_STREAM, output["FlowLogId"]: STREAM}


def test_our_flow_log_that_no_longer_satisfies_is_replaced(env: Env) -> None:
    # Given our REJECT flow log to the stream
    first = remediate(env.session, env.vpc_id, **to_firehose())

    # When ALL is requested, then ours is replaced: one flow log, of ALL traffic, to the stream
    second = remediate(env.session, env.vpc_id, TrafficType="ALL", **to_firehose())

    (flow_log,) = vpc_flow_logs(env.ec2, env.vpc_id)
    assert flow_log["FlowLogId"] == second["FlowLogId"] != first["FlowLogId"]
    assert (flow_log["TrafficType"], flow_log["LogDestination"]) == ("ALL", STREAM)
    # (EC2 refused a second flow log to the same stream: ours went first)
    assert second["Changes"] == [
        f"deleted flow logs {first['FlowLogId']} (replaced)",
        f"created flow log {second['FlowLogId']} for VPC {env.vpc_id}",
    ]


def test_foreign_flow_log_to_the_stream_that_does_not_satisfy_stops_the_run(env: Env) -> None:
    # Given someone else's ACCEPT flow log to the stream
    foreign = env.world.flow_log(
        env.vpc_id, "ACCEPT", destination_type="kinesis-data-firehose", destination=STREAM
    )

    # When the runbook runs, then it refuses to touch it, says why and how to avoid it
    with pytest.raises(RemediationError) as caught:
        remediate(env.session, env.vpc_id, **to_firehose())

    message = str(caught.value)
    assert f"already has a flow log to Firehose stream {STREAM}" in message
    assert f"{foreign} (traffic type ACCEPT does not cover REJECT)" in message
    assert "choose another FirehoseArn" in message
    assert env.calls.writes == []
