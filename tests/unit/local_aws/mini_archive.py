"""A small log-archive stack written by hand, shaped like the synthesized one: a bucket, a
Firehose stream into it (decompression, jq partitioning, GZIP), a CloudWatch Logs destination on
the stream with its access policy, both roles, a destination account role for direct Firehose
delivery; and the member side's account policy or Firehose remediation parameters."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.unit.local_aws.mini_assembly import ACCOUNT, PARTITION, REGION

ARCHIVE_STACK = "MiniArchive"
ARCHIVE_ACCOUNT = "111122223333"
ORGANIZATION = "o-a1b2c3d4e5"
DESTINATION_NAME = "mini-archive"
STREAM_NAME = "mini-archive-stream"
POLICY_NAME = "MiniForwarding"
STREAM = f"arn:aws:firehose:us-east-1:{ARCHIVE_ACCOUNT}:deliverystream/{STREAM_NAME}"
DESTINATION_ROLE_NAME = "AWSLogDeliveryFirehoseCrossAccountRole-us-east-1"
DESTINATION_ROLE = f"arn:aws:iam::{ARCHIVE_ACCOUNT}:role/{DESTINATION_ROLE_NAME}"
DATE = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
ERROR_PREFIX = f"CloudWatchLogs/errors/!{{firehose:error-output-type}}/{DATE}"


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def _role(service: str, actions: list[str], resource: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": service},
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "Deliver",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
                    },
                }
            ],
        },
    }


def archive_template() -> dict[str, Any]:
    """The log-archive template (a fresh copy each call)."""
    bucket_arn = {"Fn::GetAtt": ["Bucket83908E77", "Arn"]}
    stream_arn = _join(
        "arn:", PARTITION, ":firehose:", REGION, ":", ACCOUNT, f":deliverystream/{STREAM_NAME}"
    )
    destination_arn = _join(
        "arn:", PARTITION, ":logs:", REGION, ":", ACCOUNT, f":destination:{DESTINATION_NAME}"
    )
    template: dict[str, Any] = {
        "Resources": {
            "Bucket83908E77": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
            },
            "BucketPolicyAB12CD34": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket83908E77"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:*",
                                "Resource": [bucket_arn, _join(bucket_arn, "/*")],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
            "FirehoseRole1A2B3C4D": _role(
                "firehose.amazonaws.com", ["s3:PutObject"], _join(bucket_arn, "/CloudWatchLogs/*")
            ),
            "LogsRole5E6F7A8B": _role(
                "logs.amazonaws.com", ["firehose:PutRecord", "firehose:PutRecordBatch"], stream_arn
            ),
            "CrossAccountRole0A1B2C3D": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    **_role("delivery.logs.amazonaws.com", ["firehose:TagDeliveryStream"], "*")[
                        "Properties"
                    ],
                    "RoleName": DESTINATION_ROLE_NAME,
                },
            },
            "Stream9C0D1E2F": {
                "Type": "AWS::KinesisFirehose::DeliveryStream",
                "Properties": {
                    "DeliveryStreamName": STREAM_NAME,
                    "DeliveryStreamType": "DirectPut",
                    "ExtendedS3DestinationConfiguration": {
                        "BucketARN": bucket_arn,
                        "RoleARN": {"Fn::GetAtt": ["FirehoseRole1A2B3C4D", "Arn"]},
                        "Prefix": _join(
                            "CloudWatchLogs/account=!{partitionKeyFromQuery:account}/region=",
                            REGION,
                            f"/{DATE}",
                        ),
                        "ErrorOutputPrefix": ERROR_PREFIX,
                        "CompressionFormat": "GZIP",
                        "DynamicPartitioningConfiguration": {"Enabled": True},
                        "ProcessingConfiguration": {
                            "Enabled": True,
                            "Processors": [
                                {
                                    "Type": "Decompression",
                                    "Parameters": [
                                        {
                                            "ParameterName": "CompressionFormat",
                                            "ParameterValue": "GZIP",
                                        }
                                    ],
                                },
                                {
                                    "Type": "MetadataExtraction",
                                    "Parameters": [
                                        {
                                            "ParameterName": "MetadataExtractionQuery",
                                            "ParameterValue": "{account: .owner}",
                                        },
                                        {
                                            "ParameterName": "JsonParsingEngine",
                                            "ParameterValue": "JQ-1.6",
                                        },
                                    ],
                                },
                                {"Type": "AppendDelimiterToRecord"},
                            ],
                        },
                    },
                },
            },
            "DestinationA1B2C3D4": {
                "Type": "AWS::Logs::Destination",
                "Properties": {
                    "DestinationName": DESTINATION_NAME,
                    "RoleArn": {"Fn::GetAtt": ["LogsRole5E6F7A8B", "Arn"]},
                    "TargetArn": {"Fn::GetAtt": ["Stream9C0D1E2F", "Arn"]},
                    "DestinationPolicy": _join(
                        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                        '{"AWS":"*"},"Action":"logs:PutAccountPolicy","Resource":"',
                        destination_arn,
                        f'","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{ORGANIZATION}"}}}}}}]}}',
                    ),
                },
            },
        },
        "Outputs": {
            "DestinationArn": {"Value": {"Fn::GetAtt": ["DestinationA1B2C3D4", "Arn"]}},
            "BucketArn": {"Value": bucket_arn},
        },
    }
    return copy.deepcopy(template)


def destination_arn(account: str = ARCHIVE_ACCOUNT, region: str = "us-east-1") -> str:
    return f"arn:aws:logs:{region}:{account}:destination:{DESTINATION_NAME}"


def with_account_policy(template: dict[str, Any], destination: str) -> dict[str, Any]:
    """The member template with an account-level subscription filter policy to ``destination``,
    excluding the function's own log group, written as CDK writes it (a Fn::Join document)."""
    template["Resources"]["ForwardingPolicy12345678"] = {
        "Type": "AWS::Logs::AccountPolicy",
        "Properties": {
            "PolicyName": POLICY_NAME,
            "PolicyType": "SUBSCRIPTION_FILTER_POLICY",
            "Scope": "ALL",
            "PolicyDocument": _join(
                json.dumps({"DestinationArn": destination, "FilterPattern": ""})
            ),
            "SelectionCriteria": _join('LogGroupName NOT IN ["', {"Ref": "FnLogs1A2B3C4D"}, '"]'),
        },
    }
    return template


def with_firehose_delivery(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """The member template whose remediation delivers to the archive's stream with its role
    (``overrides`` replace either), as the stack passes them."""
    parameters = template["Resources"]["Remediation430FED09"]["Properties"]["Parameters"]
    values = {"FirehoseArn": STREAM, "DeliverCrossAccountRole": DESTINATION_ROLE, **overrides}
    for name, value in values.items():
        parameters[name] = {"StaticValue": {"Values": [value]}}
    return template
