"""local_aws.moto_patches.patch_moto: every service's patches while entered, none after."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.config.responses import ConfigResponse
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.events.models import Rule
from moto.firehose.models import FirehoseBackend
from moto.firehose.responses import FirehoseResponse
from moto.iam.access_control import S3IAMRequest
from moto.logs.responses import LogsResponse
from moto.sts.models import STSBackend

from local_aws.moto_patches import configuration_items, patch_moto

PATCHED = [
    (ConfigResponse, "put_evaluations"),
    (ConfigResponse, "get_resource_config_history"),
    (FlowLogsBackend, "create_flow_logs"),
    (FlowLogsBackend, "delete_flow_logs"),
    (FirehoseBackend, "create_delivery_stream"),
    (FirehoseBackend, "put_s3_records"),
    (FirehoseResponse, "put_record"),
    (FirehoseResponse, "put_record_batch"),
    (LogsResponse, "describe_log_groups"),
    (S3IAMRequest, "_create_aws_request"),
    (STSBackend, "assume_role"),
    (Rule, "send_to_targets"),
]


def test_the_patches_are_undone_on_exit() -> None:
    before = [getattr(owner, name) for owner, name in PATCHED]

    with patch_moto():
        during = [getattr(owner, name) for owner, name in PATCHED]
        assert hasattr(ConfigResponse, "get_compliance_details_by_config_rule")

    assert all(a is not b for a, b in zip(before, during, strict=True))
    assert [getattr(owner, name) for owner, name in PATCHED] == before
    assert not hasattr(ConfigResponse, "get_compliance_details_by_config_rule")
    with mock_aws(), pytest.raises(NotImplementedError):
        boto3.client("config").get_compliance_details_by_config_rule(ConfigRuleName="r")


def test_the_recorder_records_what_the_ec2_patches_let_through(aws: None) -> None:
    """Config's recorder wraps EC2's CreateFlowLogs patch: both apply to one call."""
    boto3.client("s3").create_bucket(Bucket="flow-logs")
    ec2 = boto3.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs/team-a",
    )

    (item,) = configuration_items("123456789012", "us-east-1")
    assert item["resourceId"] == created["FlowLogIds"][0]
    assert json.loads(item["configuration"])["logDestination"] == "arn:aws:s3:::flow-logs/team-a"
