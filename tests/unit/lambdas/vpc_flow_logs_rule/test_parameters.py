from __future__ import annotations

import json

import pytest

from vpc_flow_logs_rule.parameters import (
    ExemptTag,
    ParameterError,
    RuleParameters,
    parse_parameters,
)


@pytest.mark.parametrize("raw", [None, "", "  ", "{}"])
def test_absent_or_empty_parameters_take_the_defaults(raw: str | None) -> None:
    parameters = parse_parameters(raw)

    assert parameters == RuleParameters()
    assert parameters.traffic_type == "REJECT"
    assert parameters.min_retention_days == 365
    assert parameters.allowed_destination_types == {
        "cloud-watch-logs",
        "s3",
        "kinesis-data-firehose",
    }
    assert parameters.require_delivery_success is True
    assert parameters.exempt_vpc_ids == frozenset()
    assert parameters.exempt_tag is None
    assert parameters.s3_bucket_arn is None


def test_empty_values_take_the_defaults() -> None:
    raw = dict.fromkeys(
        ("TrafficType", "MinRetentionDays", "ExemptVpcIds", "ExemptTag", "S3BucketArn"), ""
    )

    assert parse_parameters(json.dumps(raw)) == RuleParameters()


def test_every_parameter_is_read_and_case_of_values_is_forgiven() -> None:
    raw = json.dumps(
        {
            "TrafficType": "all",
            "MinRetentionDays": " 90 ",
            "AllowedDestinationTypes": "S3, cloud-watch-logs,",
            "RequireDeliverySuccess": "False",
            "ExemptVpcIds": "vpc-0123456789ABCDEF0, vpc-1a2b3c4d",
            "ExemptTag": "flow-logs=exempt",
            "S3BucketArn": " arn:aws:s3:::central-flow-logs/ ",
        }
    )

    assert parse_parameters(raw) == RuleParameters(
        traffic_type="ALL",
        min_retention_days=90,
        allowed_destination_types=frozenset({"s3", "cloud-watch-logs"}),
        require_delivery_success=False,
        exempt_vpc_ids=frozenset({"vpc-0123456789abcdef0", "vpc-1a2b3c4d"}),
        exempt_tag=ExemptTag("flow-logs", "exempt"),
        s3_bucket_arn="arn:aws:s3:::central-flow-logs",
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::central-flow-logs",
        "arn:aws:s3:::central.flow-logs.1/team-a",
        "arn:aws:s3:::central-flow-logs/team-a/vpcs",
        "arn:aws-us-gov:s3:::central-flow-logs",
    ],
)
def test_s3_bucket_arn_is_a_bucket_arn_with_an_optional_prefix(arn: str) -> None:
    assert parse_parameters(json.dumps({"S3BucketArn": arn})).s3_bucket_arn == arn


def test_s3_bucket_arn_needs_s3_among_the_allowed_destination_types() -> None:
    raw = {"S3BucketArn": "arn:aws:s3:::central-flow-logs"}

    with pytest.raises(ParameterError) as raised:
        parse_parameters(json.dumps(raw | {"AllowedDestinationTypes": "cloud-watch-logs"}))

    message = str(raised.value)
    assert "S3BucketArn" in message
    assert "'arn:aws:s3:::central-flow-logs'" in message
    assert "AllowedDestinationTypes must include s3 (it is cloud-watch-logs)" in message


STREAM = "arn:aws:firehose:us-east-1:111122223333:deliverystream/central-flow-logs"


@pytest.mark.parametrize(
    "arn",
    [
        STREAM,
        "arn:aws:firehose:eu-west-1:111122223333:deliverystream/a",
        "arn:aws-us-gov:firehose:us-gov-west-1:111122223333:deliverystream/Flow_Logs.v2-"
        + "x" * 46,
    ],
)
def test_firehose_arn_is_a_stream_arn(arn: str) -> None:
    assert parse_parameters(json.dumps({"FirehoseArn": arn})).firehose_arn == arn


def test_firehose_arn_is_none_by_default() -> None:
    assert parse_parameters("{}").firehose_arn is None
    assert parse_parameters(json.dumps({"FirehoseArn": ""})).firehose_arn is None


def test_firehose_arn_needs_firehose_among_the_allowed_destination_types() -> None:
    raw = {"FirehoseArn": STREAM, "AllowedDestinationTypes": "cloud-watch-logs,s3"}

    with pytest.raises(ParameterError) as raised:
        parse_parameters(json.dumps(raw))

    message = str(raised.value)
    assert "FirehoseArn" in message
    assert repr(STREAM) in message
    assert "AllowedDestinationTypes must include kinesis-data-firehose" in message


def test_a_decoded_mapping_and_json_scalars_are_accepted() -> None:
    parameters = parse_parameters({"MinRetentionDays": 0, "RequireDeliverySuccess": True})

    assert parameters.min_retention_days == 0
    assert parameters.require_delivery_success is True


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Owner", ExemptTag("Owner", None)),
        ("Owner=", ExemptTag("Owner", "")),
        ("Owner=team-a", ExemptTag("Owner", "team-a")),
        ("expr=a=b", ExemptTag("expr", "a=b")),
        (
            "aws:cloudformation:stack-name=legacy",
            ExemptTag("aws:cloudformation:stack-name", "legacy"),
        ),
    ],
)
def test_exempt_tag_is_a_key_or_key_value(tag: str, expected: ExemptTag) -> None:
    assert parse_parameters(json.dumps({"ExemptTag": tag})).exempt_tag == expected


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("TrafficType", "BOTH", "ACCEPT, REJECT, ALL"),
        ("MinRetentionDays", "-1", "a whole number of days"),
        ("MinRetentionDays", "one year", "a whole number of days"),
        ("MinRetentionDays", "36.5", "a whole number of days"),
        ("AllowedDestinationTypes", "cloud-watch-logs,splunk", "cloud-watch-logs, s3"),
        ("AllowedDestinationTypes", ",", "cloud-watch-logs, s3"),
        ("RequireDeliverySuccess", "yes", "true or false"),
        ("ExemptVpcIds", "vpc-123", "VPC ids"),
        ("ExemptVpcIds", "vpc-0123456789abcdef0,subnet-0123456789abcdef0", "VPC ids"),
        ("ExemptTag", "=value", "a tag key"),
        ("ExemptTag", "k=" + "v" * 257, "a tag key"),
        ("ExemptTag", "k" * 129, "a tag key"),
        ("S3BucketArn", "central-flow-logs", "an S3 bucket ARN"),
        ("S3BucketArn", "arn:aws:s3:::Central", "an S3 bucket ARN"),
        ("S3BucketArn", "arn:aws:s3:us-east-1:123456789012:central", "an S3 bucket ARN"),
        ("S3BucketArn", "arn:aws:s3:::central/*", "an S3 bucket ARN"),
        (
            "S3BucketArn",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/a",
            "an S3 bucket ARN",
        ),
        ("FirehoseArn", "central-flow-logs", "a Firehose stream ARN"),
        ("FirehoseArn", STREAM.replace("/", ":"), "a Firehose stream ARN"),
        ("FirehoseArn", STREAM + "/", "a Firehose stream ARN"),
        ("FirehoseArn", STREAM.replace("111122223333", "1111"), "a Firehose stream ARN"),
        ("FirehoseArn", STREAM + "x" * 64, "a Firehose stream ARN"),
        ("FirehoseArn", "arn:aws:kinesis:us-east-1:111122223333:stream/a", "a Firehose stream ARN"),
    ],
)
def test_an_invalid_value_names_the_parameter_the_value_and_what_is_allowed(
    name: str, value: str, allowed: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        parse_parameters(json.dumps({name: value}))

    message = str(raised.value)
    assert name in message
    assert repr(value) in message
    assert allowed in message


def test_an_unknown_parameter_name_is_rejected_with_the_allowed_names() -> None:
    with pytest.raises(ParameterError, match=r"Unknown rule parameter 'trafficType'") as raised:
        parse_parameters('{"trafficType": "ALL"}')

    assert "TrafficType, MinRetentionDays, AllowedDestinationTypes" in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("{not json", "not valid JSON"),
        ('["TrafficType"]', "must be a JSON object"),
        ('{"TrafficType": ["ALL"]}', "TrafficType"),
        ('{"MinRetentionDays": null}', "MinRetentionDays"),
    ],
)
def test_malformed_rule_parameters_are_rejected(raw: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        parse_parameters(raw)
