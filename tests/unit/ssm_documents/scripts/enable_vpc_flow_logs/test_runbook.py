"""The whole runbook against moto, its steps in the document's order: a fresh VPC, a second run,
its parameters, regions, and what each step hands on.

The harness is in ``builders`` (requests, recorded calls, injected answers, moto state) and
conftest.py (fixtures); the other test files in this folder each test one module.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from enable_vpc_flow_logs.delivery_role import policies_equal
from tests.support.accounts import World
from tests.support.runbook import play
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    COMPLIANT_VPC_CALLS,
    FRESH_VPC_CALLS,
    OURS,
    REGION,
    ROLE,
    ROLE_ARN,
    Calls,
    Env,
    events,
    group_name,
    log_group,
    our_policy,
    our_trust,
    remediate,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_logs import CloudWatchLogsClient


def test_fresh_vpc_gets_role_log_group_and_flow_log(env: Env) -> None:
    session, calls, vpc_id = env.session, env.calls, env.vpc_id
    ec2, iam, logs = env.ec2, env.iam, env.logs

    # When the runbook runs for a VPC with nothing
    output = remediate(session, vpc_id)

    # Then it made exactly these calls
    assert calls.names == FRESH_VPC_CALLS

    # And the role trusts only VPC Flow Logs of this account, within its boundary, with our
    # inline policy and tag
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert policies_equal(role["AssumeRolePolicyDocument"], our_trust())
    assert role.get("PermissionsBoundary") == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": BOUNDARY_ARN,
    }
    assert calls.params("iam:CreateRole")[0]["PermissionsBoundary"] == BOUNDARY_ARN
    assert role.get("Tags") == OURS
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="VpcFlowLogsDelivery")
    assert policies_equal(policy["PolicyDocument"], our_policy())
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["VpcFlowLogsDelivery"]

    # And the log group has the retention and our tag
    group = log_group(logs, group_name(vpc_id))
    assert group["retentionInDays"] == 365
    assert "kmsKeyId" not in group
    assert logs.list_tags_log_group(logGroupName=group_name(vpc_id))["tags"] == {
        "ManagedBy": "vpc-flow-logs-guard"
    }

    # And the VPC has one flow log that the Config rule accepts
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log["DeliverLogsStatus"] == "SUCCESS"
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogGroupName"] == group_name(vpc_id)
    assert flow_log["DeliverLogsPermissionArn"] == ROLE_ARN
    assert flow_log["MaxAggregationInterval"] == 600
    assert flow_log.get("Tags") == OURS
    create = calls.params("ec2:CreateFlowLogs")[0]
    assert "LogFormat" not in create  # empty LogFormat means the AWS default format

    assert output == {
        "FlowLogId": flow_log["FlowLogId"],
        "LogGroupName": group_name(vpc_id),
        "DeliveryRoleArn": ROLE_ARN,
        "Destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "Changes": [
            f"created IAM role {ROLE} with boundary {BOUNDARY_ARN}",
            f"wrote inline policy VpcFlowLogsDelivery of IAM role {ROLE}",
            f"created log group {group_name(vpc_id)}",
            f"set retention of log group {group_name(vpc_id)} to 365 days",
            f"created flow log {flow_log['FlowLogId']} for VPC {vpc_id}",
        ],
    }


def test_second_run_reads_and_writes_nothing(
    session: boto3.session.Session, calls: Calls, vpc_id: str, ec2: EC2Client
) -> None:
    # Given a VPC the runbook already remediated
    first = remediate(session, vpc_id)
    calls.made.clear()

    # When it runs again
    second = remediate(session, vpc_id)

    # Then it only reads, and answers with the same flow log
    assert calls.names == COMPLIANT_VPC_CALLS
    assert calls.writes == []
    assert second == first | {"Changes": []}
    assert len(vpc_flow_logs(ec2, vpc_id)) == 1


def test_custom_parameters_reach_the_flow_log(
    session: boto3.session.Session, vpc_id: str, ec2: EC2Client, logs: CloudWatchLogsClient
) -> None:
    log_format = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${log-status}"

    # When the runbook runs with every parameter set
    output = remediate(
        session,
        vpc_id,
        TrafficType="ALL",
        LogGroupName="/aws/vpc-flow-logs/shared",
        RetentionInDays=731,  # a number: the script takes numbers as well as SSM's strings
        MaxAggregationInterval=60,
        LogFormat=log_format,
        DeliveryRoleName="TeamFlowLogs",
    )

    # Then each reaches the flow log, the role's name or the log group
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogGroupName"] == "/aws/vpc-flow-logs/shared"
    assert flow_log["MaxAggregationInterval"] == 60
    assert flow_log["LogFormat"] == log_format
    assert flow_log["DeliverLogsPermissionArn"] == f"arn:aws:iam::{ACCOUNT}:role/TeamFlowLogs"
    assert log_group(logs, "/aws/vpc-flow-logs/shared")["retentionInDays"] == 731
    assert output["LogGroupName"] == "/aws/vpc-flow-logs/shared"


def test_each_step_hands_the_next_what_it_needs_and_says_what_it_did(
    session: boto3.session.Session, vpc_id: str, ec2: EC2Client
) -> None:
    # When the document runs for a fresh VPC
    played = play(events(vpc_id), session)

    # Then every step ran, in order, and each step's outputs say what it found or did
    assert played.steps == [
        "CheckInput",
        "ChooseDestination",
        "DeliveryRole",
        "LogGroup",
        "FlowLog",
        "Verify",
    ]
    check = played.execution.steps[0].outputs
    request = json.loads(check["Request"])
    assert request["VpcId"] == vpc_id
    assert request["LogGroupName"] == group_name(vpc_id)
    assert request["RetentionInDays"] == 365
    assert json.loads(check["FlowLogPlan"]) == {
        "Keep": "",
        "KeepDeliveryRoleArn": "",
        "Replace": [],
    }
    assert check["DestinationType"] == "cloud-watch-logs"
    (flow_log,) = vpc_flow_logs(ec2, vpc_id)
    outputs = {step.name: step.outputs for step in played.execution.steps}
    assert outputs["DeliveryRole"] == {"DeliveryRoleArn": ROLE_ARN}
    assert outputs["LogGroup"] == {
        "LogGroupName": group_name(vpc_id),
        "LogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "RetentionInDays": "365",
    }
    assert outputs["FlowLog"] == {"FlowLogId": flow_log["FlowLogId"], "Created": True}
    assert outputs["Verify"]["DeliverLogsStatus"] == "SUCCESS"
    # And the document's outputs are Verify's
    assert played.execution.outputs == {
        "Verify.FlowLogId": flow_log["FlowLogId"],
        "Verify.Destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}",
        "Verify.LogGroupName": group_name(vpc_id),
        "Verify.DeliveryRoleArn": ROLE_ARN,
    }


def test_a_kept_flow_log_is_not_created_again_and_is_still_read_back(
    session: boto3.session.Session, vpc_id: str
) -> None:
    first = remediate(session, vpc_id)

    played = play(events(vpc_id), session)

    outputs = {step.name: step.outputs for step in played.execution.steps}
    assert json.loads(outputs["CheckInput"]["FlowLogPlan"])["Keep"] == first["FlowLogId"]
    assert outputs["FlowLog"] == {"FlowLogId": first["FlowLogId"], "Created": False}
    assert outputs["Verify"]["FlowLogId"] == first["FlowLogId"]


def test_two_regions_share_the_global_role_without_rewriting_it(
    session: boto3.session.Session, calls: Calls, vpc_id: str
) -> None:
    # Given the runbook ran in us-east-1
    remediate(session, vpc_id)
    other_vpc = World(region="eu-west-1").vpc(cidr="10.1.0.0/16")
    calls.made.clear()

    # When it runs for a VPC in eu-west-1
    output = remediate(session, other_vpc, Region="eu-west-1")

    # Then it reuses the role as it is: the policy covers every region
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == []
