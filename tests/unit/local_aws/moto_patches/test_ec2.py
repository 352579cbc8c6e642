"""local_aws.moto_patches.ec2: Describe* calls page; S3 flow log destinations take a prefix;
a Firehose flow log's cross-account role is described back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.local_aws.moto_patches.gaps import patch_can_go

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client


def _vpcs_with_flow_logs(ec2: EC2Client, count: int) -> list[str]:
    vpc_ids = [ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"] for _ in range(count)]
    for vpc_id in vpc_ids:
        ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="ALL",
            LogGroupName=f"/g/{vpc_id}",
            DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/r",
        )
    return vpc_ids


def _s3_flow_log(ec2: EC2Client, destination: str) -> tuple[list[str], list[str]]:
    """(flow log ids, error messages) of a flow log of a new VPC to ``destination``."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=destination,
    )
    return created["FlowLogIds"], [item["Error"]["Message"] for item in created["Unsuccessful"]]


def test_describe_vpcs_and_flow_logs_page_by_max_results(aws: None) -> None:
    ec2 = boto3.client("ec2")
    _vpcs_with_flow_logs(ec2, 6)

    first = ec2.describe_vpcs(MaxResults=5)
    second = ec2.describe_vpcs(MaxResults=5, NextToken=first["NextToken"])
    flow_pages = list(
        ec2.get_paginator("describe_flow_logs").paginate(PaginationConfig={"PageSize": 5})
    )

    assert len(first["Vpcs"]) == 5
    assert len(second["Vpcs"]) == 2  # 6 and the default VPC
    assert "NextToken" not in second
    assert [len(page["FlowLogs"]) for page in flow_pages] == [5, 1]
    assert len(ec2.describe_vpcs()["Vpcs"]) == 7  # no MaxResults: everything, as before
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        ec2.describe_vpcs(MaxResults=1001)
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        ec2.describe_flow_logs(MaxResults=4)
    assert len(ec2.describe_flow_logs(MaxResults=1001)["FlowLogs"]) == 6  # clamped to 1000
    with pytest.raises(ClientError, match="InvalidNextToken"):
        ec2.describe_vpcs(MaxResults=5, NextToken="not-a-token")


def test_unpatched_moto_still_answers_describe_vpcs_in_one_page(unpatched_aws: None) -> None:
    ec2 = boto3.client("ec2")
    _vpcs_with_flow_logs(ec2, 6)

    vpcs = ec2.describe_vpcs(MaxResults=5)
    flow_logs = ec2.describe_flow_logs(MaxResults=5)

    assert (len(vpcs["Vpcs"]), "NextToken" in vpcs) == (7, False), patch_can_go(
        "ec2._paginated (DescribeVpcs)", "pages DescribeVpcs by MaxResults"
    )
    assert (len(flow_logs["FlowLogs"]), "NextToken" in flow_logs) == (6, False), patch_can_go(
        "ec2._paginated (DescribeFlowLogs)", "pages DescribeFlowLogs by MaxResults"
    )


@pytest.mark.parametrize("prefix", ["", "/team-a", "/team-a/vpcs"])
def test_create_flow_logs_to_s3_accepts_a_key_prefix(aws: None, prefix: str) -> None:
    boto3.client("s3").create_bucket(Bucket="flow-logs")
    ec2 = boto3.client("ec2")

    flow_log_ids, errors = _s3_flow_log(ec2, f"arn:aws:s3:::flow-logs{prefix}")

    assert errors == []
    (flow_log,) = ec2.describe_flow_logs(FlowLogIds=flow_log_ids)["FlowLogs"]
    assert flow_log["LogDestination"] == f"arn:aws:s3:::flow-logs{prefix}"


def test_create_flow_logs_to_a_missing_bucket_still_fails(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="flow-logs")

    flow_log_ids, errors = _s3_flow_log(boto3.client("ec2"), "arn:aws:s3:::other-bucket/flow-logs")

    assert flow_log_ids == []
    assert "does not exist" in errors[0]


def test_unpatched_moto_still_rejects_an_s3_key_prefix(unpatched_aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="flow-logs")

    flow_log_ids, errors = _s3_flow_log(boto3.client("ec2"), "arn:aws:s3:::flow-logs/team-a")

    assert flow_log_ids == [], patch_can_go(
        "ec2._create_flow_logs", "accepts an S3 bucket ARN with a key prefix"
    )
    assert "flow-logs/team-a does not exist" in errors[0]


STREAM = "arn:aws:firehose:us-east-1:111122223333:deliverystream/central-flow-logs"
SOURCE_ROLE = "arn:aws:iam::123456789012:role/vpc-flow-logs-guard/FirehoseSource-1A2B"
DESTINATION_ROLE = "arn:aws:iam::111122223333:role/AWSLogDeliveryFirehoseCrossAccountRole-x"


def _firehose_flow_log(ec2: EC2Client, **cross_account: str) -> dict[str, object]:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="kinesis-data-firehose",
        LogDestination=STREAM,
        **cross_account,  # type: ignore[arg-type]
    )
    (flow_log,) = ec2.describe_flow_logs(FlowLogIds=created["FlowLogIds"])["FlowLogs"]
    return dict(flow_log)


def test_a_cross_account_firehose_flow_log_describes_its_roles(aws: None) -> None:
    flow_log = _firehose_flow_log(
        boto3.client("ec2"),
        DeliverLogsPermissionArn=SOURCE_ROLE,
        DeliverCrossAccountRole=DESTINATION_ROLE,
    )

    assert flow_log["LogDestinationType"] == "kinesis-data-firehose"
    assert flow_log["LogDestination"] == STREAM
    assert flow_log["DeliverLogsPermissionArn"] == SOURCE_ROLE
    assert flow_log["DeliverCrossAccountRole"] == DESTINATION_ROLE


def test_a_same_account_firehose_flow_log_has_no_cross_account_role(aws: None) -> None:
    flow_log = _firehose_flow_log(boto3.client("ec2"))

    assert "DeliverCrossAccountRole" not in flow_log


def test_unpatched_moto_still_drops_the_cross_account_role(unpatched_aws: None) -> None:
    flow_log = _firehose_flow_log(
        boto3.client("ec2"),
        DeliverLogsPermissionArn=SOURCE_ROLE,
        DeliverCrossAccountRole=DESTINATION_ROLE,
    )

    assert "DeliverCrossAccountRole" not in flow_log, patch_can_go(
        "ec2._create_flow_logs_response", "describes a flow log's DeliverCrossAccountRole"
    )
