from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.settings.account import Settings, SettingsError
from tests.unit.stacks.synthesis import KMS_KEY_ARN, cdk_json_context, settings_with

CENTRAL = "arn:aws:s3:::org-vpc-flow-logs"
TO_CENTRAL_BUCKET = {"destination": "s3", "centralBucketArn": CENTRAL}
ARCHIVE = "111122223333"
STREAM = f"arn:aws:firehose:{{region}}:{ARCHIVE}:deliverystream/VpcFlowLogsGuardLogArchive-FlowLogs"
ROLE_IN_ARCHIVE = f"arn:aws:iam::{ARCHIVE}:role/AWSLogDeliveryFirehoseCrossAccountRole-{{region}}"
TO_CENTRAL_STREAM = {
    "destination": "kinesis-data-firehose",
    "centralFirehoseArn": STREAM,
    "centralFirehoseRoleArn": ROLE_IN_ARCHIVE,
}
SOURCE_ROLE = "arn:aws:iam::123456789012:role/vpc-flow-logs-guard/VpcFlowLogsGuard-Source-1A2B"


def error_for(**overrides: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        settings_with(**overrides)
    return str(caught.value)


def test_defaults_come_from_cdk_json() -> None:
    settings = settings_with()

    assert settings == Settings(
        traffic_type="REJECT",
        min_retention_days=365,
        retention_in_days=365,
        allowed_destination_types=("cloud-watch-logs", "s3", "kinesis-data-firehose"),
        require_delivery_success=True,
        exempt_vpc_ids=(),
        exempt_tag="",
        kms_key_arn="",
        evaluation_frequency="TwentyFour_Hours",
        automatic_remediation=True,
        maximum_automatic_attempts=5,
        retry_attempt_seconds=3600,
        concurrent_execution_rate_percentage=10,
        error_percentage=20,
        create_config_recorder=False,
        rule_log_retention_days=365,
        destination="cloud-watch-logs",
        central_bucket_arn="",
        log_format="",
        max_aggregation_interval=600,
        s3_file_format="plain-text",
        s3_hive_compatible_partitions=False,
        s3_per_hour_partition=False,
    )


def test_cli_strings_are_parsed_like_json_values() -> None:
    # Given what `cdk synth -c key=value` passes: every value a string
    settings = settings_with(
        trafficType="all",
        minRetentionDays="90",
        retentionInDays="400",
        allowedDestinationTypes="cloud-watch-logs, s3",
        requireDeliverySuccess="FALSE",
        exemptVpcIds="vpc-0123456789abcdef0,vpc-12345678",
        exemptTag="flow-logs=exempt",
        kmsKeyArn=KMS_KEY_ARN,
        evaluationFrequency="One_Hour",
        automaticRemediation="false",
        maximumAutomaticAttempts="3",
        retryAttemptSeconds="600",
        concurrentExecutionRatePercentage="25",
        errorPercentage="5",
        createConfigRecorder="true",
        ruleLogRetentionDays="30",
        destination="cloud-watch-logs",
        centralBucketArn="",
        logFormat="${version}  ${srcaddr}",
        maxAggregationInterval="60",
        s3FileFormat="plain-text",
        s3HiveCompatiblePartitions="false",
        s3PerHourPartition="false",
    )

    assert settings == Settings(
        traffic_type="ALL",
        min_retention_days=90,
        retention_in_days=400,
        allowed_destination_types=("cloud-watch-logs", "s3"),
        require_delivery_success=False,
        exempt_vpc_ids=("vpc-0123456789abcdef0", "vpc-12345678"),
        exempt_tag="flow-logs=exempt",
        kms_key_arn=KMS_KEY_ARN,
        evaluation_frequency="One_Hour",
        automatic_remediation=False,
        maximum_automatic_attempts=3,
        retry_attempt_seconds=600,
        concurrent_execution_rate_percentage=25,
        error_percentage=5,
        create_config_recorder=True,
        rule_log_retention_days=30,
        destination="cloud-watch-logs",
        central_bucket_arn="",
        log_format="${version} ${srcaddr}",
        max_aggregation_interval=60,
        s3_file_format="plain-text",
        s3_hive_compatible_partitions=False,
        s3_per_hour_partition=False,
    )


def test_rule_input_parameters_are_strings_named_as_the_rule_expects() -> None:
    settings = settings_with(
        exemptVpcIds=["vpc-0123456789abcdef0", "vpc-12345678"], exemptTag="Team"
    )

    assert settings.rule_input_parameters() == {
        "TrafficType": "REJECT",
        "MinRetentionDays": "365",
        "AllowedDestinationTypes": "cloud-watch-logs,s3,kinesis-data-firehose",
        "RequireDeliverySuccess": "true",
        "ExemptVpcIds": "vpc-0123456789abcdef0,vpc-12345678",
        "ExemptTag": "Team",
        "MaxAggregationInterval": "600",
        "LogGroupNamePrefix": "/aws/vpc-flow-logs/",
    }


def test_empty_rule_parameters_are_left_out() -> None:
    parameters = settings_with().rule_input_parameters()

    assert "ExemptVpcIds" not in parameters
    assert "ExemptTag" not in parameters


def test_zero_minimum_retention_turns_the_check_off_and_is_passed_on() -> None:
    assert settings_with(minRetentionDays=0).rule_input_parameters()["MinRetentionDays"] == "0"


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("trafficType", "SOME", "ACCEPT | REJECT | ALL"),
        ("minRetentionDays", "-1", "a whole number from 0 to 3653"),
        ("minRetentionDays", "a year", "a whole number from 0 to 3653"),
        ("retentionInDays", 366, "one of 1, 3, 5"),
        ("allowedDestinationTypes", "cloud-watch-logs,ftp", "a non-empty subset of"),
        ("allowedDestinationTypes", "", "a non-empty subset of"),
        ("requireDeliverySuccess", "yes", "true or false"),
        ("exemptVpcIds", "vpc-1,subnet-12345678", "VPC ids like"),
        ("exemptTag", "=value", "'key=value'"),
        ("exemptTag", "a=b=c", "no second '='"),
        ("kmsKeyArn", "alias/aws/logs", "a KMS key ARN"),
        ("evaluationFrequency", "Daily", "One_Hour | Three_Hours"),
        ("automaticRemediation", 1, "true or false"),
        ("maximumAutomaticAttempts", "26", "from 1 to 25"),
        ("retryAttemptSeconds", "0", "from 1 to 2678000"),
        ("concurrentExecutionRatePercentage", "101", "from 1 to 100"),
        ("errorPercentage", True, "from 1 to 100"),
        ("createConfigRecorder", "maybe", "true or false"),
        ("ruleLogRetentionDays", "2", "one of 1, 3, 5"),
        ("destination", "firehose", "cloud-watch-logs | s3 | kinesis-data-firehose"),
        ("destination", "S3", "cloud-watch-logs | s3 | kinesis-data-firehose"),
        ("centralBucketArn", "org-vpc-flow-logs", "an S3 bucket ARN without a key prefix"),
        ("centralBucketArn", f"{CENTRAL}/team-a", "an S3 bucket ARN without a key prefix"),
        ("centralBucketArn", "arn:aws:s3:::Org", "an S3 bucket ARN without a key prefix"),
        ("centralBucketArn", ["arn:aws:s3:::org"], "an S3 bucket ARN without a key prefix"),
        ("centralFirehoseArn", "VpcFlowLogsGuardLogArchive-FlowLogs", "a Firehose stream ARN"),
        ("centralFirehoseArn", STREAM.replace("/", ":"), "a Firehose stream ARN"),
        ("centralFirehoseArn", STREAM.replace("{region}", "{Region}"), "a Firehose stream ARN"),
        ("centralFirehoseArn", STREAM + "/x", "a Firehose stream ARN"),
        ("centralFirehoseRoleArn", ROLE_IN_ARCHIVE.replace("CrossAccount", ""), "starts with"),
        ("centralFirehoseRoleArn", "arn:aws:iam::111122223333:role/Firehose", "starts with"),
        ("centralFirehoseRoleArn", ROLE_IN_ARCHIVE.replace("iam::", "iam:us-east-1:"), "{region}"),
    ],
)
def test_an_invalid_value_names_the_key_the_value_and_what_is_allowed(
    key: str, value: object, allowed: str
) -> None:
    message = error_for(**{key: value})

    assert f"setting {key!r} = {value!r} is invalid" in message
    assert allowed in message


def test_the_central_bucket_is_passed_to_the_rule() -> None:
    settings = settings_with(**TO_CENTRAL_BUCKET)

    assert settings.to_s3
    assert settings.rule_input_parameters()["S3BucketArn"] == CENTRAL
    assert "S3BucketArn" not in settings_with().rule_input_parameters()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"destination": "s3"},
            "setting 'centralBucketArn' is empty but 'destination' is 's3'",
            id="s3 without a bucket",
        ),
        pytest.param(
            {"centralBucketArn": CENTRAL},
            f"setting 'centralBucketArn' = '{CENTRAL}' is set but 'destination' is "
            "'cloud-watch-logs'",
            id="a bucket without s3",
        ),
        pytest.param(
            {**TO_CENTRAL_BUCKET, "allowedDestinationTypes": "cloud-watch-logs"},
            "setting 'allowedDestinationTypes' = 'cloud-watch-logs' does not include "
            "'destination' = 's3'",
            id="rule refuses s3",
        ),
        pytest.param(
            {"allowedDestinationTypes": "s3"},
            "setting 'allowedDestinationTypes' = 's3' does not include "
            "'destination' = 'cloud-watch-logs'",
            id="rule refuses cloud-watch-logs",
        ),
        pytest.param(
            {**TO_CENTRAL_BUCKET, "kmsKeyArn": KMS_KEY_ARN},
            f"setting 'kmsKeyArn' = '{KMS_KEY_ARN}' encrypts CloudWatch Logs log groups",
            id="a log group key with s3",
        ),
    ],
)
def test_destination_settings_must_agree(overrides: dict[str, Any], message: str) -> None:
    assert message in error_for(**overrides)


def test_runbook_retention_does_not_apply_to_the_central_bucket() -> None:
    settings = settings_with(**TO_CENTRAL_BUCKET, minRetentionDays=400, retentionInDays=365)

    assert settings.min_retention_days == 400  # still the rule's minimum for log groups


def test_every_problem_is_reported_at_once() -> None:
    message = error_for(trafficType="x", errorPercentage="0")

    assert "'trafficType'" in message
    assert "'errorPercentage'" in message


def test_runbook_retention_below_the_rule_minimum_is_refused() -> None:
    message = error_for(minRetentionDays="400", retentionInDays="365")

    assert "'retentionInDays' = 365 is below 'minRetentionDays' = 400" in message


def test_runbook_retention_equal_to_the_minimum_is_fine() -> None:
    assert settings_with(minRetentionDays=400, retentionInDays=400).retention_in_days == 400


def test_a_misspelled_setting_fails_instead_of_being_ignored() -> None:
    message = error_for(trafficTyp="ALL")

    assert "unknown setting 'trafficTyp'" in message
    assert "trafficType" in message


def test_cdk_context_keys_are_not_taken_for_settings() -> None:
    settings = settings_with(
        **{
            "@aws-cdk/core:validateAgainstDefaultRules": True,
            "aws:cdk:bundling-stacks": [],
            "acknowledged-issue-numbers": [1],
        }
    )

    assert settings.traffic_type == "REJECT"


def test_a_missing_default_is_reported() -> None:
    context = cdk_json_context()
    del context["errorPercentage"]

    with pytest.raises(SettingsError, match="setting 'errorPercentage' is missing"):
        Settings.from_mapping(context)


def test_too_many_exempt_vpcs_for_aws_config_are_refused() -> None:
    vpc_ids = [f"vpc-{index:017x}" for index in range(50)]

    message = error_for(exemptVpcIds=",".join(vpc_ids))

    assert "AWS Config allows 1024" in message
    assert len(json.dumps(settings_with(exemptVpcIds=vpc_ids[:30]).rule_input_parameters())) <= (
        1024
    )


# --- what shapes a flow log: one setting, both sides -----------------------------------------


def test_the_runbook_and_the_rule_get_the_same_flow_log_shape() -> None:
    settings = settings_with(logFormat="${version} ${srcaddr}", maxAggregationInterval=60)

    rule = settings.rule_input_parameters()
    runbook = settings.runbook_parameters(boundary_arn="arn:aws:iam::1:policy/b")

    assert rule["LogFormat"] == runbook["LogFormat"] == "${version} ${srcaddr}"
    assert rule["MaxAggregationInterval"] == runbook["MaxAggregationInterval"] == "60"
    assert rule["LogGroupNamePrefix"] == "/aws/vpc-flow-logs/"
    assert "S3FileFormat" not in rule
    assert "S3FileFormat" not in runbook


def test_s3_destination_options_go_to_both_sides() -> None:
    settings = settings_with(
        **TO_CENTRAL_BUCKET,
        s3FileFormat="parquet",
        s3HiveCompatiblePartitions=True,
        s3PerHourPartition="true",
    )

    rule = settings.rule_input_parameters()
    runbook = settings.runbook_parameters(boundary_arn="")

    for name, value in {
        "S3FileFormat": "parquet",
        "S3HiveCompatiblePartitions": "true",
        "S3PerHourPartition": "true",
    }.items():
        assert rule[name] == runbook[name] == value
    assert "LogGroupNamePrefix" not in rule  # the runbook creates no log group for S3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"s3FileFormat": "parquet"}, "shape S3 objects, but 'destination' is 'cloud-watch-logs'"),
        ({"s3PerHourPartition": True}, "allowed: plain-text / false / false"),
        ({"s3FileFormat": "csv"}, "setting 's3FileFormat' = 'csv' is invalid; allowed: plain-text"),
        ({"maxAggregationInterval": 300}, "'maxAggregationInterval' = 300 is invalid"),
        ({"logFormat": "version srcaddr"}, "'logFormat' = 'version srcaddr' is invalid"),
        ({"logFormat": "${version}" + " ${srcaddr}" * 90}, "AWS Config allows 1024"),
    ],
)
def test_flow_log_shape_settings_are_validated(overrides: dict[str, Any], message: str) -> None:
    assert message in error_for(**overrides)


# --- direct delivery to the central Firehose stream ---------------------------------------------


def test_the_central_stream_is_required_by_the_rule() -> None:
    settings = settings_with(**TO_CENTRAL_STREAM)

    assert settings.to_firehose
    assert settings.rule_input_parameters() == {
        "TrafficType": "REJECT",
        "MinRetentionDays": "365",
        "AllowedDestinationTypes": "cloud-watch-logs,s3,kinesis-data-firehose",
        "RequireDeliverySuccess": "true",
        "FirehoseArn": STREAM,  # {region}: the stack fills in its own
        "MaxAggregationInterval": "600",
    }
    assert "FirehoseArn" not in settings_with().rule_input_parameters()


def test_the_runbook_is_told_createflowlogs_own_names_for_the_central_stream() -> None:
    settings = settings_with(
        **TO_CENTRAL_STREAM,
        trafficType="ALL",
        logFormat="${version} ${srcaddr}",
        maxAggregationInterval="60",
    )

    runbook = settings.runbook_parameters(boundary_arn="", firehose_source_role_arn=SOURCE_ROLE)

    assert runbook == {
        "DestinationType": "kinesis-data-firehose",
        "TrafficType": "ALL",
        "FirehoseArn": STREAM,
        "DeliverLogsPermissionArn": SOURCE_ROLE,
        "DeliverCrossAccountRole": ROLE_IN_ARCHIVE,
        "MaxAggregationInterval": "60",
        "LogFormat": "${version} ${srcaddr}",
    }
    rule = settings.rule_input_parameters()
    assert (rule["LogFormat"], rule["MaxAggregationInterval"]) == (
        runbook["LogFormat"],
        runbook["MaxAggregationInterval"],
    )


def test_the_runbook_parameters_need_the_stacks_source_role() -> None:
    with pytest.raises(ValueError, match="needs the source role"):
        settings_with(**TO_CENTRAL_STREAM).runbook_parameters(boundary_arn="")


def test_a_literal_region_and_a_role_path_are_accepted() -> None:
    stream = STREAM.replace("{region}", "eu-west-1")
    role = f"arn:aws:iam::{ARCHIVE}:role/logs/AWSLogDeliveryFirehoseCrossAccountRole"

    settings = settings_with(
        **{**TO_CENTRAL_STREAM, "centralFirehoseArn": stream, "centralFirehoseRoleArn": role}
    )

    assert (settings.central_firehose_arn, settings.central_firehose_role_arn) == (stream, role)


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        pytest.param(
            {"destination": "kinesis-data-firehose"},
            [
                "setting 'centralFirehoseArn' is empty but 'destination' is "
                "'kinesis-data-firehose'",
                "setting 'centralFirehoseRoleArn' is empty but 'destination' is "
                "'kinesis-data-firehose'",
            ],
            id="firehose without its stream and role",
        ),
        pytest.param(
            {**TO_CENTRAL_STREAM, "centralFirehoseRoleArn": ""},
            ["setting 'centralFirehoseRoleArn' is empty"],
            id="a stream without the role",
        ),
        pytest.param(
            {"centralFirehoseArn": STREAM},
            [
                f"setting 'centralFirehoseArn' = '{STREAM}' is set but 'destination' is "
                "'cloud-watch-logs'; allowed: '' with cloud-watch-logs, or 'destination' "
                "kinesis-data-firehose"
            ],
            id="a stream without firehose",
        ),
        pytest.param(
            {**TO_CENTRAL_BUCKET, "centralFirehoseRoleArn": ROLE_IN_ARCHIVE},
            ["setting 'centralFirehoseRoleArn' = "],
            id="a role with s3",
        ),
        pytest.param(
            {
                **TO_CENTRAL_STREAM,
                "centralFirehoseRoleArn": ROLE_IN_ARCHIVE.replace(ARCHIVE, "444455556666"),
            },
            [
                "is a role of account 444455556666, but 'centralFirehoseArn' is a stream of "
                f"account {ARCHIVE}"
            ],
            id="role and stream in different accounts",
        ),
        pytest.param(
            {**TO_CENTRAL_STREAM, "kmsKeyArn": KMS_KEY_ARN},
            [
                f"setting 'kmsKeyArn' = '{KMS_KEY_ARN}' encrypts CloudWatch Logs log groups, "
                "which 'destination' 'kinesis-data-firehose' does not create"
            ],
            id="a log group key with firehose",
        ),
        pytest.param(
            {**TO_CENTRAL_STREAM, "s3FileFormat": "parquet"},
            ["shape S3 objects, but 'destination' is 'kinesis-data-firehose'"],
            id="s3 options with firehose",
        ),
        pytest.param(
            {**TO_CENTRAL_STREAM, "allowedDestinationTypes": "cloud-watch-logs,s3"},
            ["does not include 'destination' = 'kinesis-data-firehose'"],
            id="rule refuses firehose",
        ),
        pytest.param(
            {
                **TO_CENTRAL_STREAM,
                "centralLogDestinationArn": "arn:aws:logs:{region}:"
                f"{ARCHIVE}:destination:VpcFlowLogsGuardLogArchive-CentralArchive",
            },
            ["forwards CloudWatch Logs log groups, but 'destination' is 'kinesis-data-firehose'"],
            id="forwarding with firehose",
        ),
    ],
)
def test_firehose_settings_must_agree(overrides: dict[str, Any], messages: list[str]) -> None:
    error = error_for(**overrides)

    for message in messages:
        assert message in error


def test_runbook_retention_does_not_apply_to_the_central_stream() -> None:
    settings = settings_with(**TO_CENTRAL_STREAM, minRetentionDays=400, retentionInDays=365)

    assert settings.min_retention_days == 400
    assert "LogGroupNamePrefix" not in settings.rule_input_parameters()
