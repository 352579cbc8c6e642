"""What ``add_archive_stream`` builds for each of its two uses: the CloudWatch Logs destination's
stream (``centralLogDestination``) and the stream of direct delivery (``firehoseDelivery``).

What each use adds of its own (processors, partitions, tags) is tested beside the construct that
uses it; the bucket policy's statements for each stream with the log-archive stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.stacks.central_stream import STREAM_NAME
from tests.unit.stacks.iam_policies import ACCOUNT, PARTITION, REGION, resolve
from tests.unit.stacks.log_archive import (
    firehose_stream,
    flow_logs_bucket,
    inline_statements,
    stream_role,
    stream_s3_configuration,
)
from tests.unit.stacks.synthesis import synth_log_archive as synth


@dataclass(frozen=True)
class Use:
    settings: dict[str, str]
    stream_name: str
    prefix: str


USES = {
    "central archive": Use(
        {"centralLogDestination": "true"},
        "VpcFlowLogsGuardLogArchive-CentralArchive",
        "CloudWatchLogs/",
    ),
    "direct delivery": Use({"firehoseDelivery": "true"}, STREAM_NAME, "VpcFlowLogs/"),
}


@pytest.fixture(scope="module", params=list(USES.values()), ids=list(USES))
def use(request: pytest.FixtureRequest) -> Use:
    found: Use = request.param
    return found


@pytest.fixture(scope="module")
def template(use: Use) -> Any:
    return synth(use.settings)[0]


@pytest.fixture(scope="module")
def template_kms(use: Use) -> Any:
    return synth({**use.settings, "logArchiveKmsKey": "true"})[0]


def key_arn(template: Any) -> str:
    (key_id,) = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id.lower()}"


# --- the stream ---------------------------------------------------------------------------------


def test_stream_is_direct_put_and_encrypted_at_rest(template: Any, use: Use) -> None:
    properties = firehose_stream(template, use.stream_name)["Properties"]

    assert properties["DeliveryStreamType"] == "DirectPut"
    assert properties["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}


def test_stream_writes_large_gzip_objects_data_and_errors_under_its_prefix(
    template: Any, use: Use
) -> None:
    logical_id, _ = flow_logs_bucket(template)
    config = stream_s3_configuration(template, use.stream_name)
    role_id, _ = stream_role(template, use.stream_name)

    assert config["BucketARN"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert config["RoleARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert config["CompressionFormat"] == "GZIP"
    # Firehose's largest buffer: fewer, larger objects, which archive better.
    assert config["BufferingHints"] == {"IntervalInSeconds": 900, "SizeInMBs": 128}
    assert resolve(config["Prefix"], template["Resources"]).startswith(use.prefix)
    assert config["ErrorOutputPrefix"] == (
        f"{use.prefix}errors/!{{firehose:error-output-type}}/"
        "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    )
    assert "EncryptionConfiguration" not in config  # the bucket's SSE-S3 default applies


def test_stream_encrypts_with_the_bucket_key_when_there_is_one(template_kms: Any, use: Use) -> None:
    synthesized = stream_s3_configuration(template_kms, use.stream_name)
    config = resolve(synthesized, template_kms["Resources"])

    assert config["EncryptionConfiguration"] == {
        "KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn(template_kms)}
    }


# --- the role Firehose assumes ------------------------------------------------------------------


def test_firehose_role_trusts_only_its_stream(template: Any, use: Use) -> None:
    _, role = stream_role(template, use.stream_name)
    stream_arn = f"arn:{PARTITION}:firehose:{REGION}:{ACCOUNT}:deliverystream/{use.stream_name}"

    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {"aws:SourceArn": stream_arn},
            },
        }
    ]


def test_firehose_role_reaches_only_its_prefix(template: Any, use: Use) -> None:
    logical_id, _ = flow_logs_bucket(template)
    arn = f"arn:aws:s3:::{logical_id.lower()}"
    _, role = stream_role(template, use.stream_name)

    assert inline_statements(role) == [
        {
            "Sid": "BucketOfTheArchive",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": arn,
        },
        {
            "Sid": "ObjectsUnderTheArchivePrefix",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            "Resource": f"{arn}/{use.prefix}*",
        },
    ]


def test_firehose_role_uses_the_key_only_through_s3_for_this_bucket(
    template_kms: Any, use: Use
) -> None:
    logical_id, _ = flow_logs_bucket(template_kms)
    _, role = stream_role(template_kms, use.stream_name)

    assert inline_statements(role)[2:] == [
        {
            "Sid": "EncryptThroughS3",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn(template_kms),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    # the bucket's ARN: with an S3 Bucket Key it is the encryption context
                    "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{logical_id.lower()}",
                }
            },
        }
    ]
