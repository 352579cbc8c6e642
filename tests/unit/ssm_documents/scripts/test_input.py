"""Bad input is refused with one clear error before any AWS call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import enable_vpc_flow_logs as script
from enable_vpc_flow_logs import InvalidInputError, RemediationError
from tests.unit.ssm_documents.scripts.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    Calls,
    events,
    remediate,
)

if TYPE_CHECKING:
    import boto3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"VpcId": "vpc-123"}, "VpcId='vpc-123'"),
        ({"VpcId": "i-0123456789abcdef0"}, "VpcId"),
        ({"TrafficType": "BOTH"}, "TrafficType='BOTH'"),
        ({"RetentionInDays": 366}, "RetentionInDays=366"),
        ({"RetentionInDays": "a year"}, "RetentionInDays must be an integer"),
        ({"RetentionInDays": True}, "RetentionInDays must be an integer"),
        ({"MaxAggregationInterval": 300}, "MaxAggregationInterval=300"),
        ({"LogGroupName": "/elsewhere/logs"}, "LogGroupName='/elsewhere/logs'"),
        ({"LogFormat": "version srcaddr"}, "LogFormat"),
        ({"DeliveryRoleName": "a/b"}, "DeliveryRoleName"),
        ({"AccountId": "12345"}, "AccountId"),
        ({"Region": "Mars"}, "Region"),
        ({"VpcId": 42}, "VpcId must be a string"),
        (
            {"KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-" + "0" * 32},
            "a key in us-east-1",
        ),
        ({"KmsKeyArn": "alias/aws/logs"}, "KmsKeyArn"),
        ({"DestinationType": "kinesis-data-firehose"}, "DestinationType='kinesis-data-firehose'"),
        ({"DestinationType": "s3"}, "S3BucketArn='' is not valid"),
        ({"DestinationType": "s3", "S3BucketArn": "central-flow-logs"}, "an S3 bucket ARN"),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::central-flow-logs/AWSLogs"},
            "does not start with AWSLogs",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::b-1/AWSLogs/x"},
            "does not start with AWSLogs",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws-cn:s3:::central-flow-logs"},
            "a bucket in partition aws",
        ),
        (
            {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::b-1", "LogGroupName": "/x"},
            "LogGroupName='/x' is not valid: expected empty with DestinationType s3",
        ),
        (
            {
                "DestinationType": "s3",
                "S3BucketArn": "arn:aws:s3:::b-1",
                "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-" + "0" * 32,
            },
            "KmsKeyArn",
        ),
        ({"S3BucketArn": "arn:aws:s3:::b-1"}, "empty unless DestinationType is s3"),
        ({"DeliveryRoleBoundaryArn": ""}, "DeliveryRoleBoundaryArn='' is not valid"),
        (
            {"DeliveryRoleBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            "DeliveryRoleBoundaryArn",
        ),
        (
            {"DeliveryRoleBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/Boundary"},
            "under /vpc-flow-logs-guard/",
        ),
        (
            {"DeliveryRoleBoundaryArn": BOUNDARY_ARN.replace(ACCOUNT, "444455556666")},
            f"a managed policy of account {ACCOUNT}",
        ),
        (
            {"DeliveryRoleBoundaryArn": BOUNDARY_ARN.replace("arn:aws:", "arn:aws-cn:")},
            "DeliveryRoleBoundaryArn",
        ),
    ],
)
def test_invalid_input_is_refused_before_any_call(
    session: boto3.session.Session, calls: Calls, overrides: dict[str, object], message: str
) -> None:
    payload = events("vpc-0123456789abcdef0", **overrides)

    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        script.handler(payload, context=None)
    assert calls.made == []


def test_vpc_that_does_not_exist_is_a_clear_error_before_any_write(
    session: boto3.session.Session, calls: Calls
) -> None:
    with pytest.raises(RemediationError, match=r"VPC vpc-0123456789abcdef0 does not exist"):
        remediate(session, "vpc-0123456789abcdef0")
    assert calls.names == ["ec2:DescribeVpcs"]
