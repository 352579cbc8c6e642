"""local_aws.moto_patches.logs: account-level subscription filter policies and their delivery."""

from __future__ import annotations

import gzip
import json
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_aws.moto_patches.logs_account_policies import matches

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

REGION = "us-east-1"
ARCHIVE = "111122223333"
BUCKET = "org-flow-logs"
STREAM = "central-archive"
DESTINATION = f"arn:aws:logs:{REGION}:{ARCHIVE}:destination:central"
PATTERN = '[version=2, account_id, interface_id="eni-*", rest]'
FLOW_GROUP = "/aws/vpc-flow-logs/vpc-1"
RECORD = "2 123456789012 eni-0a1b2c3d4e5f60718 REJECT"


@pytest.fixture
def archive(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log-archive account: bucket, Firehose stream into it, destination onto the stream."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ARCHIVE)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    stream_arn = boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=STREAM,
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ARCHIVE}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": "CloudWatchLogs/",
        },
    )["DeliveryStreamARN"]
    boto3.client("logs").put_destination(
        destinationName="central",
        targetArn=stream_arn,
        roleArn=f"arn:aws:iam::{ARCHIVE}:role/logs",
    )
    monkeypatch.delenv("MOTO_ACCOUNT_ID")


def put_policy(logs: CloudWatchLogsClient, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "policyName": "to-archive",
        "policyType": "SUBSCRIPTION_FILTER_POLICY",
        "policyDocument": json.dumps({"DestinationArn": DESTINATION, "FilterPattern": PATTERN}),
        "selectionCriteria": 'LogGroupName NOT IN ["/aws/lambda/rule"]',
        "scope": "ALL",
        **overrides,
    }
    logs.put_account_policy(**arguments)


def write(logs: CloudWatchLogsClient, group: str, *messages: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": int(time.time() * 1000) + i, "message": m} for i, m in enumerate(messages)
        ],
    )


def archived(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ARCHIVE)
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    bodies = [s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert all(key.startswith("CloudWatchLogs/") for key in keys)
    return [json.loads(gzip.decompress(body)) for body in bodies]


def test_moto_has_no_account_policies_itself() -> None:
    # Fails once moto implements DescribeAccountPolicies: then this patch can go.
    with mock_aws(), pytest.raises(NotImplementedError):
        boto3.client("logs").describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")


def test_a_policy_is_put_described_and_deleted(archive: None) -> None:
    logs = boto3.client("logs")

    put_policy(logs)
    (policy,) = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")[
        "accountPolicies"
    ]
    logs.delete_account_policy(policyName="to-archive", policyType="SUBSCRIPTION_FILTER_POLICY")

    assert policy["policyName"] == "to-archive"
    assert json.loads(policy["policyDocument"])["DestinationArn"] == DESTINATION
    assert policy["selectionCriteria"] == 'LogGroupName NOT IN ["/aws/lambda/rule"]'
    assert policy["accountId"] == "123456789012"
    assert (
        logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
        == []
    )


def test_one_subscription_filter_policy_per_account_and_region(archive: None) -> None:
    logs = boto3.client("logs")
    put_policy(logs)

    put_policy(logs)  # the same name updates it
    with pytest.raises(ClientError, match="LimitExceededException"):
        put_policy(logs, policyName="second")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"selectionCriteria": 'LogGroupNamePrefix IN ["/aws"]'}, "selectionCriteria"),
        (
            {
                "policyDocument": json.dumps(
                    {"DestinationArn": DESTINATION.replace(REGION, "eu-west-1")}
                )
            },
            "same Region",
        ),
        (
            {"policyDocument": json.dumps({"DestinationArn": DESTINATION + "-gone"})},
            "destination does not exist",
        ),
    ],
    ids=["criteria", "region", "missing"],
)
def test_what_aws_refuses_is_refused(archive: None, overrides: dict[str, str], error: str) -> None:
    with pytest.raises(ClientError, match=error):
        put_policy(boto3.client("logs"), **overrides)


def test_matching_events_of_selected_groups_reach_the_archive_bucket(
    archive: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = boto3.client("logs")
    put_policy(logs)

    write(logs, FLOW_GROUP, RECORD, '{"level": "INFO", "message": "not a flow log"}')
    write(logs, "/aws/lambda/rule", RECORD)  # excluded by name

    (message,) = archived(monkeypatch)
    assert message["messageType"] == "DATA_MESSAGE"
    assert message["owner"] == "123456789012"
    assert message["logGroup"] == FLOW_GROUP
    assert message["subscriptionFilters"] == ["to-archive"]
    assert [event["message"] for event in message["logEvents"]] == [RECORD]


def test_nothing_is_forwarded_once_the_policy_is_deleted(
    archive: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = boto3.client("logs")
    put_policy(logs)
    logs.delete_account_policy(policyName="to-archive", policyType="SUBSCRIPTION_FILTER_POLICY")

    write(logs, FLOW_GROUP, RECORD)

    assert archived(monkeypatch) == []


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything at all", True),
        (PATTERN, RECORD, True),
        (PATTERN, "3 123456789012 eni-0a1b2c3d4e5f60718 REJECT", False),
        (PATTERN, "2 123456789012 i-0a1b2c3d REJECT", False),
        (PATTERN, RECORD + " extra", False),
    ],
)
def test_space_delimited_patterns_match_field_by_field(
    pattern: str, message: str, expected: bool
) -> None:
    assert matches(pattern, message) is expected
