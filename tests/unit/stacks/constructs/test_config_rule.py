from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stacks.constructs.config_rule import HANDLER, RULE_NAME, RULE_PACKAGE
from stacks.settings.account import Settings
from tests.unit.stacks.aws_calls import aws_actions
from tests.unit.stacks.synthesis import cdk_json_context
from vpc_flow_logs_rule.parameters import (
    PARAMETER_NAMES,
    ExemptTag,
    RuleParameters,
    parse_parameters,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.unit.stacks.synthesis import Synthesized

PARTITION = {"Ref": "AWS::Partition"}
REGION = {"Ref": "AWS::Region"}
ACCOUNT = {"Ref": "AWS::AccountId"}


def function_of(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return synthesized.only("AWS::Lambda::Function")


def role_of_function(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    _, function = function_of(synthesized)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_id, synthesized.json["Resources"][role_id]


def test_function_runs_the_rule_handler_on_python_3_13_arm64(default: Synthesized) -> None:
    _, function = function_of(default)
    log_group_id, _ = default.only("AWS::Logs::LogGroup")
    properties = dict(function["Properties"])
    code = properties.pop("Code")
    properties.pop("Description")

    assert properties == {
        "Architectures": ["arm64"],
        "Environment": {
            "Variables": {
                "POWERTOOLS_SERVICE_NAME": "vpc-flow-logs-rule",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }
        },
        "Handler": "vpc_flow_logs_rule.handler.lambda_handler",
        "LoggingConfig": {"LogGroup": {"Ref": log_group_id}},
        "MemorySize": 256,
        "Role": {"Fn::GetAtt": [role_of_function(default)[0], "Arn"]},
        "Runtime": "python3.13",
        "Timeout": 600,
    }
    assert properties["Handler"] == HANDLER
    assert sorted(code) == ["S3Bucket", "S3Key"]


def test_function_has_no_reserved_concurrency_or_vpc(default: Synthesized) -> None:
    _, function = function_of(default)

    assert "ReservedConcurrentExecutions" not in function["Properties"]
    assert "VpcConfig" not in function["Properties"]


def test_log_group_keeps_the_configured_retention(synth: Callable[..., Synthesized]) -> None:
    synthesized = synth({"ruleLogRetentionDays": "90"})

    _, log_group = synthesized.only("AWS::Logs::LogGroup")

    assert log_group["Properties"] == {"RetentionInDays": 90}
    assert log_group["DeletionPolicy"] == "Delete"


def test_default_log_retention_is_a_year(default: Synthesized) -> None:
    _, log_group = default.only("AWS::Logs::LogGroup")

    assert log_group["Properties"] == {"RetentionInDays": 365}


def test_function_role_is_trusted_by_lambda_only(default: Synthesized) -> None:
    _, role = role_of_function(default)

    assert role["Properties"]["AssumeRolePolicyDocument"] == {
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ],
        "Version": "2012-10-17",
    }


def test_function_role_has_no_managed_policy(default: Synthesized) -> None:
    # config.CustomRule would attach AWSConfigRulesExecutionRole; the role is immutable to it.
    _, role = role_of_function(default)

    assert "ManagedPolicyArns" not in role["Properties"]
    assert "AWSConfigRulesExecutionRole" not in str(default.json)


def test_function_role_allows_exactly_what_the_rule_calls(default: Synthesized) -> None:
    _, role = role_of_function(default)
    log_group_id, _ = default.only("AWS::Logs::LogGroup")

    assert role["Properties"]["Policies"] == [
        {
            "PolicyName": "EvaluateVpcFlowLogs",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WriteOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": {
                            "Fn::Join": [
                                "",
                                [
                                    "arn:",
                                    PARTITION,
                                    ":logs:",
                                    REGION,
                                    ":",
                                    ACCOUNT,
                                    ":log-group:",
                                    {"Ref": log_group_id},
                                    ":log-stream:*",
                                ],
                            ]
                        },
                    },
                    {
                        "Sid": "ReadVpcsFlowLogsAndLogGroups",
                        "Effect": "Allow",
                        "Action": [
                            "ec2:DescribeFlowLogs",
                            "ec2:DescribeVpcs",
                            "logs:DescribeLogGroups",
                        ],
                        "Resource": "*",
                    },
                    {
                        "Sid": "ReportEvaluations",
                        "Effect": "Allow",
                        "Action": "config:PutEvaluations",
                        "Resource": "*",
                    },
                    {
                        "Sid": "ReadFlowLogHistory",
                        "Effect": "Allow",
                        "Action": "config:GetResourceConfigHistory",
                        "Resource": "*",
                    },
                ],
            },
        }
    ]


def test_function_may_read_compliance_of_its_own_rule_only(default: Synthesized) -> None:
    role_id, _ = role_of_function(default)
    rule_id, _ = default.only("AWS::Config::ConfigRule")

    _, policy = default.only("AWS::IAM::Policy")

    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "ReadOwnEvaluations",
            "Effect": "Allow",
            "Action": "config:GetComplianceDetailsByConfigRule",
            "Resource": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]


def test_only_aws_config_of_this_account_may_invoke_the_function(default: Synthesized) -> None:
    function_id, _ = function_of(default)

    _, permission = default.only("AWS::Lambda::Permission")

    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
        "Principal": "config.amazonaws.com",
        "SourceAccount": ACCOUNT,
    }


def test_rule_is_a_custom_lambda_rule_over_vpcs(default: Synthesized) -> None:
    function_id, _ = function_of(default)

    _, rule = default.only("AWS::Config::ConfigRule")

    assert rule["Properties"]["ConfigRuleName"] == RULE_NAME == "vpc-flow-logs-enabled"
    assert rule["Properties"]["Scope"] == {
        "ComplianceResourceTypes": ["AWS::EC2::VPC", "AWS::EC2::FlowLog"]
    }
    assert rule["Properties"]["MaximumExecutionFrequency"] == "TwentyFour_Hours"
    assert rule["Properties"]["Source"] == {
        "Owner": "CUSTOM_LAMBDA",
        "SourceIdentifier": {"Fn::GetAtt": [function_id, "Arn"]},
        "SourceDetails": [
            {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
            {
                "EventSource": "aws.config",
                "MessageType": "OversizedConfigurationItemChangeNotification",
            },
            {
                "EventSource": "aws.config",
                "MaximumExecutionFrequency": "TwentyFour_Hours",
                "MessageType": "ScheduledNotification",
            },
        ],
    }


def test_rule_is_created_after_config_may_invoke_the_function(default: Synthesized) -> None:
    function_id, _ = function_of(default)
    permission_id, _ = default.only("AWS::Lambda::Permission")

    _, rule = default.only("AWS::Config::ConfigRule")

    assert {function_id, permission_id} <= set(rule["DependsOn"])


def test_rule_input_parameters_are_the_settings(default: Synthesized) -> None:
    _, rule = default.only("AWS::Config::ConfigRule")

    assert rule["Properties"]["InputParameters"] == {
        "TrafficType": "REJECT",
        "MinRetentionDays": "365",
        "AllowedDestinationTypes": "cloud-watch-logs,s3,kinesis-data-firehose",
        "RequireDeliverySuccess": "true",
        "MaxAggregationInterval": "600",
        "LogGroupNamePrefix": "/aws/vpc-flow-logs/",
    }
    assert (
        rule["Properties"]["InputParameters"]
        == Settings.from_mapping(cdk_json_context()).rule_input_parameters()
    )


def test_rule_follows_overridden_settings(synth: Callable[..., Synthesized]) -> None:
    synthesized = synth(
        {
            "evaluationFrequency": "Six_Hours",
            "exemptVpcIds": "vpc-12345678",
            "exemptTag": "Team=network",
            "requireDeliverySuccess": "false",
            "minRetentionDays": "0",
        }
    )

    _, rule = synthesized.only("AWS::Config::ConfigRule")

    assert rule["Properties"]["MaximumExecutionFrequency"] == "Six_Hours"
    assert rule["Properties"]["Source"]["SourceDetails"][2]["MaximumExecutionFrequency"] == (
        "Six_Hours"
    )
    assert rule["Properties"]["InputParameters"] == {
        "TrafficType": "REJECT",
        "MinRetentionDays": "0",
        "AllowedDestinationTypes": "cloud-watch-logs,s3,kinesis-data-firehose",
        "RequireDeliverySuccess": "false",
        "ExemptVpcIds": "vpc-12345678",
        "ExemptTag": "Team=network",
        "MaxAggregationInterval": "600",
        "LogGroupNamePrefix": "/aws/vpc-flow-logs/",
    }


def test_function_role_allows_exactly_the_calls_the_rule_makes(default: Synthesized) -> None:
    # Given the AWS operations the rule's AWS module calls (read from its source)
    called = aws_actions(RULE_PACKAGE / "aws_api.py", ["ec2", "logs", "config"])
    _, role = role_of_function(default)
    _, policy = default.only("AWS::IAM::Policy")
    statements = [
        *role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"],
        *policy["Properties"]["PolicyDocument"]["Statement"],
    ]
    granted: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        granted.update([action] if isinstance(action, str) else action)

    # Then the role grants those and, besides, only writing its own logs (the Lambda runtime);
    # the account policy is read only with a central log destination (test_log_forwarding.py)
    assert granted == called - {"logs:DescribeAccountPolicies"} | {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_the_rule_reads_its_input_parameters_as_the_settings_mean_them(
    synth: Callable[..., Synthesized],
) -> None:
    # Given the parameters as synthesized from settings given as -c strings
    synthesized = synth(
        {
            "trafficType": "ACCEPT",
            "minRetentionDays": "30",
            "retentionInDays": "30",
            "allowedDestinationTypes": "cloud-watch-logs,s3",
            "requireDeliverySuccess": "false",
            "exemptVpcIds": "vpc-12345678,vpc-0123456789abcdef0",
            "exemptTag": "FlowLogsExempt=true",
        }
    )
    _, rule = synthesized.only("AWS::Config::ConfigRule")

    # When the rule's own parser reads them, as Config hands them over (a JSON string)
    parsed = parse_parameters(json.dumps(rule["Properties"]["InputParameters"]))

    # Then it understands what the settings said
    assert set(rule["Properties"]["InputParameters"]) <= set(PARAMETER_NAMES)
    assert parsed == RuleParameters(
        traffic_type="ACCEPT",
        min_retention_days=30,
        allowed_destination_types=frozenset({"cloud-watch-logs", "s3"}),
        require_delivery_success=False,
        exempt_vpc_ids=frozenset({"vpc-12345678", "vpc-0123456789abcdef0"}),
        exempt_tag=ExemptTag(key="FlowLogsExempt", value="true"),
        log_group_name_prefix="/aws/vpc-flow-logs/",
    )


def test_with_the_central_bucket_the_rule_requires_it(synth: Callable[..., Synthesized]) -> None:
    synthesized = synth(
        {
            "destination": "s3",
            "centralBucketArn": "arn:aws:s3:::org-vpc-flow-logs",
            "allowedDestinationTypes": "s3",
        }
    )
    _, rule = synthesized.only("AWS::Config::ConfigRule")

    parameters = rule["Properties"]["InputParameters"]

    assert parameters["S3BucketArn"] == "arn:aws:s3:::org-vpc-flow-logs"
    assert parameters["AllowedDestinationTypes"] == "s3"
    assert parse_parameters(json.dumps(parameters)) == RuleParameters(
        allowed_destination_types=frozenset({"s3"}),
        s3_bucket_arn="arn:aws:s3:::org-vpc-flow-logs",
        s3_file_format="plain-text",
        s3_hive_compatible_partitions=False,
        s3_per_hour_partition=False,
    )


def test_the_defaults_add_only_the_runbooks_log_group_prefix(default: Synthesized) -> None:
    _, rule = default.only("AWS::Config::ConfigRule")

    parsed = parse_parameters(json.dumps(rule["Properties"]["InputParameters"]))

    # The rule's own defaults accept any log group; the deployment requires the runbook's.
    assert parsed == RuleParameters(log_group_name_prefix="/aws/vpc-flow-logs/")
