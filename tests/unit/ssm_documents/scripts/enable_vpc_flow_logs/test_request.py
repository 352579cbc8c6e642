"""The request: bad input refused with one clear error, good input normalized once for the
steps after ``CheckInput``."""

from __future__ import annotations

from typing import Final

import pytest

from enable_vpc_flow_logs.common import RemediationError
from enable_vpc_flow_logs.input_checks import InvalidInputError
from enable_vpc_flow_logs.request import parse_request
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    BUCKET_ARN,
    DESTINATION_ROLE,
    REGION,
    ROLE,
    ROLE_ARN,
    SOURCE_ROLE,
    STREAM,
    STREAM_ACCOUNT,
    events,
    to_firehose,
    to_s3,
)

OTHER_STREAM: Final = STREAM.replace(STREAM_ACCOUNT, "444455556666")


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
        ({"DestinationType": "splunk"}, "DestinationType='splunk'"),
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
        ({"FirehoseArn": STREAM}, "FirehoseArn=.* expected empty unless DestinationType is kin"),
        ({"DeliverLogsPermissionArn": SOURCE_ROLE}, "DeliverLogsPermissionArn=.* expected empty"),
        (
            {"DeliverCrossAccountRole": DESTINATION_ROLE},
            "DeliverCrossAccountRole=.* expected empty",
        ),
        (
            {"DestinationType": "kinesis-data-firehose"},
            "FirehoseArn='' is not valid: expected a stream ARN, ...:deliverystream/<name> in aws",
        ),
        (to_firehose(STREAM.replace("/", ":")), "FirehoseArn="),  # EC2 doc's spelling: not the ARN
        (to_firehose(STREAM.replace("arn:aws:", "arn:aws-cn:")), "FirehoseArn=.* in aws$"),
        (
            {**to_firehose(), "DeliverLogsPermissionArn": ROLE_ARN},
            "DeliverLogsPermissionArn=.* expected a role under /vpc-flow-logs-guard/",
        ),
        (
            {**to_firehose(), "DeliverLogsPermissionArn": SOURCE_ROLE.replace(ACCOUNT, "4" * 12)},
            f"DeliverLogsPermissionArn=.* expected a role of this account, {ACCOUNT}",
        ),
        (
            {**to_firehose(), "DeliverCrossAccountRole": ROLE_ARN},
            "DeliverCrossAccountRole=.* expected a role AWSLogDeliveryFirehoseCrossAccountRole",
        ),
        (
            to_firehose(OTHER_STREAM),
            "DeliverCrossAccountRole=.* expected a role of the stream's account, 444455556666",
        ),
        ({**to_firehose(), "LogGroupName": "/aws/vpc-flow-logs/x"}, "LogGroupName=.* kinesis"),
        ({**to_firehose(), "S3BucketArn": BUCKET_ARN}, "S3BucketArn=.* expected empty unless"),
        ({**to_firehose(), "S3FileFormat": "parquet"}, "S3FileFormat='parquet'"),
        (
            {
                **to_firehose(),
                "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-" + "0" * 32,
            },
            "KmsKeyArn=.* expected empty with DestinationType kinesis-data-firehose",
        ),
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
def test_invalid_input_is_refused_with_one_clear_error(
    overrides: dict[str, object], message: str
) -> None:
    payload = events("vpc-0123456789abcdef0", **overrides)

    pattern = message.replace("(", r"\(").replace("...", r"\.\.\.")
    with pytest.raises(InvalidInputError, match=pattern) as raised:
        parse_request(payload)
    assert isinstance(raised.value, RemediationError)


def test_a_cloud_watch_logs_request_works_out_the_names_the_steps_need() -> None:
    request = parse_request(
        events("vpc-0123456789abcdef0", LogFormat="  ${version}   ${action} ", TrafficType="ALL")
    )

    assert request == {
        "VpcId": "vpc-0123456789abcdef0",
        "TrafficType": "ALL",
        "DestinationType": "cloud-watch-logs",
        "Destination": request["LogGroupArn"],
        "LogGroupName": "/aws/vpc-flow-logs/vpc-0123456789abcdef0",
        "LogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
        "/aws/vpc-flow-logs/vpc-0123456789abcdef0",
        "RetentionInDays": 365,
        "KmsKeyArn": "",
        "DeliveryRoleName": ROLE,
        "DeliveryRoleArn": ROLE_ARN,
        "DeliverCrossAccountRole": "",
        "DeliveryRoleBoundaryArn": BOUNDARY_ARN,
        "MaxAggregationInterval": 600,
        "LogFormat": "${version} ${action}",
        "S3BucketArn": "",
        "DestinationOptions": {
            "FileFormat": "plain-text",
            "HiveCompatiblePartitions": False,
            "PerHourPartition": False,
        },
        "AccountId": ACCOUNT,
        "Region": REGION,
        "Partition": "aws",
    }


def test_an_s3_request_has_no_role_and_no_log_group() -> None:
    request = parse_request(
        events(
            "vpc-0123456789abcdef0",
            **to_s3(f"{BUCKET_ARN}/team-a/"),
            S3FileFormat="parquet",
            S3PerHourPartition="TRUE",
        )
    )

    assert request["Destination"] == request["S3BucketArn"] == f"{BUCKET_ARN}/team-a"
    assert request["LogGroupName"] == request["LogGroupArn"] == ""
    assert request["DeliveryRoleName"] == request["DeliveryRoleArn"] == ""
    assert request["DeliveryRoleBoundaryArn"] == ""
    assert request["DestinationOptions"] == {
        "FileFormat": "parquet",
        "HiveCompatiblePartitions": False,
        "PerHourPartition": True,
    }


def test_a_firehose_request_delivers_with_the_stacks_roles_and_has_no_log_group() -> None:
    # The stack passes its boundary with no destination but CloudWatch Logs; a stray one is
    # ignored, as with S3 (no delivery role of the runbook's to bound)
    request = parse_request(events("vpc-0123456789abcdef0", **to_firehose()))

    assert request["DestinationType"] == "kinesis-data-firehose"
    assert request["Destination"] == STREAM
    assert request["DeliveryRoleArn"] == SOURCE_ROLE
    assert request["DeliverCrossAccountRole"] == DESTINATION_ROLE
    assert request["LogGroupName"] == request["LogGroupArn"] == request["S3BucketArn"] == ""
    assert request["DeliveryRoleName"] == request["DeliveryRoleBoundaryArn"] == ""
    assert request["KmsKeyArn"] == ""


def test_a_firehose_stream_in_this_account_is_accepted() -> None:
    # A log-archive account that is also a member delivers to its own stream: AWS documents
    # neither way, and the roles are the same as across accounts
    here = STREAM.replace(STREAM_ACCOUNT, ACCOUNT)
    role = DESTINATION_ROLE.replace(STREAM_ACCOUNT, ACCOUNT)

    request = parse_request(events("vpc-0123456789abcdef0", **to_firehose(here, role)))

    assert (request["Destination"], request["DeliverCrossAccountRole"]) == (here, role)
