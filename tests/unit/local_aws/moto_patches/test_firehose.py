"""local_aws.moto_patches.firehose: processors, partitioning, prefixes and GZIP into S3."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.firehose.models import firehose_backends

from local_aws.moto_patches.firehose import (
    ExtractionError,
    JqMissingError,
    PrefixContext,
    deliver,
    evaluate_prefix,
    extract_keys,
    format_timestamp,
)
from tests.unit.local_aws.moto_patches.gaps import patch_can_go

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "archive"
STREAM = "central"
ARRIVAL = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
DATE = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
# The shape of the log-archive stack's stream (stacks/constructs/central_log_destination.py).
CLOUDWATCH_LOGS_DESTINATION: dict[str, Any] = {
    "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
    "BucketARN": f"arn:aws:s3:::{BUCKET}",
    "Prefix": f"CloudWatchLogs/account=!{{partitionKeyFromQuery:account}}/region={REGION}/{DATE}",
    "ErrorOutputPrefix": f"CloudWatchLogs/errors/!{{firehose:error-output-type}}/{DATE}",
    "CompressionFormat": "GZIP",
    "DynamicPartitioningConfiguration": {"Enabled": True},
    "ProcessingConfiguration": {
        "Enabled": True,
        "Processors": [
            {
                "Type": "Decompression",
                "Parameters": [{"ParameterName": "CompressionFormat", "ParameterValue": "GZIP"}],
            },
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {
                        "ParameterName": "MetadataExtractionQuery",
                        "ParameterValue": "{account: .owner}",
                    },
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            },
            {"Type": "AppendDelimiterToRecord"},
        ],
    },
}


def data_message(owner: str, *messages: str) -> dict[str, Any]:
    """A CloudWatch Logs subscription message, decompressed."""
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": "/aws/vpc-flow-logs/vpc-1",
        "logStream": "eni-1-all",
        "subscriptionFilters": ["policy"],
        "logEvents": [
            {"id": str(i), "timestamp": 1772600767000, "message": m} for i, m in enumerate(messages)
        ],
    }


def gzipped(value: Any) -> bytes:
    return gzip.compress(json.dumps(value, separators=(",", ":")).encode())


def create_stream(destination: dict[str, Any]) -> Any:
    """The stream, and a Firehose client (boto3-stubs has no firehose extra here: Any)."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    client: Any = boto3.client("firehose")
    client.create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=destination,
    )
    return client


def objects() -> dict[str, bytes]:
    s3 = boto3.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def put_as_cloudwatch_logs(*records: bytes) -> None:
    """As a CloudWatch Logs destination puts records: into the backend, no API caller."""
    firehose_backends[ACCOUNT][REGION].put_record_batch(STREAM, [{"Data": r} for r in records])


def deliver_at_arrival(*records: bytes) -> None:
    backend = firehose_backends[ACCOUNT][REGION]
    stream = backend.delivery_streams[STREAM]
    destination = stream.destinations[0]["ExtendedS3"]
    deliver(
        backend,
        STREAM,
        stream.version_id,
        destination,
        [{"Data": r} for r in records],
        arrival=ARRIVAL,
    )


# -- gaps: what moto does without the patch ----------------------------------------------------


def test_unpatched_moto_writes_each_batch_as_received(unpatched_aws: None) -> None:
    client = create_stream(CLOUDWATCH_LOGS_DESTINATION)
    record = gzipped(data_message(ACCOUNT, "event"))

    client.put_record_batch(DeliveryStreamName=STREAM, Records=[{"Data": record}])

    ((key, body),) = objects().items()
    assert "!{partitionKeyFromQuery:account}" in key, patch_can_go(
        "firehose._put_s3_records", "evaluates partitionKeyFromQuery in a stream's prefix"
    )
    assert body == record, patch_can_go(
        "firehose._put_s3_records", "decompresses, processes or compresses records"
    )


def test_unpatched_moto_lets_anyone_put_into_a_decompressing_stream(unpatched_aws: None) -> None:
    client = create_stream(CLOUDWATCH_LOGS_DESTINATION)

    answer = client.put_record(DeliveryStreamName=STREAM, Record={"Data": gzipped({})})

    assert answer["RecordId"], patch_can_go(
        "firehose._refuse_unless_cloudwatch_logs", "refuses PutRecord with InvalidSourceException"
    )


# -- delivery -----------------------------------------------------------------------------------


def test_a_cloudwatch_logs_record_is_decompressed_partitioned_and_gzipped(aws: None) -> None:
    create_stream(CLOUDWATCH_LOGS_DESTINATION)
    message = data_message("111122223333", "2 111122223333 eni-1 REJECT")

    deliver_at_arrival(gzipped(message))

    ((key, body),) = objects().items()
    prefix = "CloudWatchLogs/account=111122223333/region=us-east-1/year=2026/month=03/day=04/"
    assert key.startswith(prefix + f"{STREAM}-1-2026-03-04-05-06-07-")
    assert key.endswith(".gz")
    assert gzip.decompress(body).decode() == json.dumps(message, separators=(",", ":")) + "\n"


def test_records_of_two_accounts_land_in_two_partitions(aws: None) -> None:
    create_stream(CLOUDWATCH_LOGS_DESTINATION)
    first, second, third = (
        data_message(o, "x") for o in ("111122223333", "444455556666", "111122223333")
    )

    deliver_at_arrival(gzipped(first), gzipped(second), gzipped(third))

    lines = {
        key.split("/")[1]: gzip.decompress(body).decode().splitlines()
        for key, body in objects().items()
    }
    assert sorted(lines) == ["account=111122223333", "account=444455556666"]
    assert [json.loads(line)["owner"] for line in lines["account=111122223333"]] == [
        "111122223333",
        "111122223333",
    ]


def test_the_patch_delivers_what_cloudwatch_logs_puts_into_the_backend(aws: None) -> None:
    create_stream(CLOUDWATCH_LOGS_DESTINATION)

    put_as_cloudwatch_logs(gzipped(data_message("111122223333", "event")))

    ((key, body),) = objects().items()
    today = dt.datetime.now(dt.UTC)
    assert key.startswith("CloudWatchLogs/account=111122223333/region=us-east-1/year=")
    assert f"/year={today:%Y}/" in key
    assert json.loads(gzip.decompress(body))["logEvents"][0]["message"] == "event"


def test_records_without_keys_or_not_gzip_go_to_the_error_prefix(aws: None) -> None:
    create_stream(CLOUDWATCH_LOGS_DESTINATION)
    no_owner = gzipped({"messageType": "DATA_MESSAGE", "logEvents": []})
    not_gzip = b'{"owner": "111122223333"}'

    deliver_at_arrival(no_owner, not_gzip)

    found = {key.rsplit("/", 1)[0] + "/": gzip.decompress(body) for key, body in objects().items()}
    assert sorted(found) == [
        "CloudWatchLogs/errors/partitioning-failed/year=2026/month=03/day=04/",
        "CloudWatchLogs/errors/processing-failed/year=2026/month=03/day=04/",
    ]
    failed = json.loads(
        found["CloudWatchLogs/errors/partitioning-failed/year=2026/month=03/day=04/"]
    )
    assert base64.b64decode(failed["rawData"]) == no_owner
    assert "account" in failed["errorMessage"]
    unreadable = json.loads(
        found["CloudWatchLogs/errors/processing-failed/year=2026/month=03/day=04/"]
    )
    assert base64.b64decode(unreadable["rawData"]) == not_gzip


def test_a_stream_without_processing_writes_records_as_received_under_a_dated_prefix(
    aws: None,
) -> None:
    create_stream(
        {
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": "raw",
        }
    )

    deliver_at_arrival(b"one", b"two")

    ((key, body),) = objects().items()
    assert key.startswith(f"raw/2026/03/04/05/{STREAM}-1-2026-03-04-05-06-07-")
    assert not key.endswith(".gz")
    assert body == b"onetwo"


def test_only_cloudwatch_logs_may_put_into_a_decompressing_stream(aws: None) -> None:
    client = create_stream(CLOUDWATCH_LOGS_DESTINATION)

    with pytest.raises(ClientError, match="InvalidSourceException"):
        client.put_record_batch(DeliveryStreamName=STREAM, Records=[{"Data": gzipped({})}])
    with pytest.raises(ClientError, match="InvalidSourceException"):
        client.put_record(DeliveryStreamName=STREAM, Record={"Data": gzipped({})})


# -- what the stream's configuration may say ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"ErrorOutputPrefix": None}, "ErrorOutputPrefix is required"),
        ({"ErrorOutputPrefix": "errors/!{timestamp:yyyy}/"}, "error-output-type"),
        ({"Prefix": "x/!{firehose:error-output-type}/"}, "Prefix can't contain"),
        ({"Prefix": "x/!{oops/"}, "can only start an expression"),
        ({"DynamicPartitioningConfiguration": {"Enabled": False}}, "needs dynamic partitioning"),
    ],
    ids=[
        "no-error-prefix",
        "error-type-missing",
        "error-type-in-prefix",
        "stray",
        "no-partitioning",
    ],
)
def test_what_aws_refuses_at_creation_is_refused(
    aws: None, change: dict[str, Any], error: str
) -> None:
    destination = {
        key: value
        for key, value in {**CLOUDWATCH_LOGS_DESTINATION, **change}.items()
        if value is not None
    }

    with pytest.raises(ClientError, match=error):
        create_stream(destination)


def test_a_processor_the_embedded_firehose_cannot_run_is_refused_by_name(aws: None) -> None:
    destination = json.loads(json.dumps(CLOUDWATCH_LOGS_DESTINATION))
    destination["ProcessingConfiguration"]["Processors"].append(
        {"Type": "Lambda", "Parameters": []}
    )

    with pytest.raises(NotImplementedError, match="no Lambda processor"):
        create_stream(destination)


def test_a_missing_jq_fails_the_stream_naming_what_to_install(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)

    with pytest.raises(JqMissingError, match=r"install jq 1\.6"):
        create_stream(CLOUDWATCH_LOGS_DESTINATION)


# -- the pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy", "2026"),
        ("yy", "26"),
        ("MM/dd/HH", "03/04/05"),
        ("M-d-H", "3-4-5"),
        ("HH:mm:ss", "05:06:07"),
        ("'year='yyyy'/month='MM", "year=2026/month=03"),
        ("yyyy''MM", "2026'03"),
    ],
)
def test_timestamps_follow_java_date_time_formatter(pattern: str, expected: str) -> None:
    assert format_timestamp(pattern, ARRIVAL) == expected


def test_a_timestamp_pattern_not_understood_is_refused_by_name() -> None:
    with pytest.raises(NotImplementedError, match="'MMM'"):
        format_timestamp("MMM", ARRIVAL)


def test_a_prefix_without_a_timestamp_gets_the_default_hour_folder() -> None:
    context = PrefixContext(arrival=ARRIVAL, keys={"account": "1"})

    assert evaluate_prefix("a=!{partitionKeyFromQuery:account}/", context) == "a=1/2026/03/04/05/"
    assert evaluate_prefix("", context) == "2026/03/04/05/"
    assert (
        evaluate_prefix(
            "e/!{firehose:error-output-type}/",
            PrefixContext(ARRIVAL, error_output_type="x"),
            default_time=False,
        )
        == "e/x/"
    )
    assert len(evaluate_prefix("!{firehose:random-string}/!{timestamp:yyyy}", context)) == 11 + 5


def test_a_missing_partition_key_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="account"):
        evaluate_prefix("!{partitionKeyFromQuery:account}/", PrefixContext(arrival=ARRIVAL))


@pytest.mark.parametrize(
    ("query", "record", "expected"),
    [
        ("{account: .owner}", {"owner": "111122223333"}, {"account": "111122223333"}),
        ("{n: .n, b: .b}", {"n": 7, "b": True}, {"n": "7", "b": "true"}),
        ("{account: .owner}", {"other": 1}, {}),  # null: no key, so no partition
    ],
)
def test_jq_extracts_keys_as_prefix_text(query: str, record: Any, expected: dict[str, str]) -> None:
    assert extract_keys(query, json.dumps(record).encode()) == expected


@pytest.mark.parametrize(
    ("query", "data"),
    [
        ("{account: .owner}", b"not json"),
        ("{account: .owner}", b'{"owner": {"nested": 1}}'),
        (".owner", b'{"owner": "1"}'),
    ],
    ids=["not-json", "not-scalar", "not-an-object"],
)
def test_what_jq_cannot_turn_into_keys_is_an_extraction_error(query: str, data: bytes) -> None:
    with pytest.raises(ExtractionError):
        extract_keys(query, data)
