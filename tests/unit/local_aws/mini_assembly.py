"""A small cloud assembly written by hand: a custom rule, its function, a runbook, a remediation.

Its function marks a VPC COMPLIANT when it carries the tag ``Fixed=<Marker>`` (``Marker`` is a
rule parameter); its runbook adds that tag. Small enough to read, shaped like ``cdk synth``
output (manifest, asset manifest, ``asset.<hash>`` folder, intrinsic functions).
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from local_aws.sandbox import runtime_packages

if TYPE_CHECKING:
    from pathlib import Path

STACK = "MiniGuard"
ASSET_HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
RULE_NAME = "mini-rule"
BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"

HANDLER = """\
import json
import os
import platform

import boto3


def handler(event, context):
    invoking = json.loads(event["invokingEvent"])
    parameters = json.loads(event["ruleParameters"])
    ec2 = boto3.client("ec2")
    if invoking["messageType"] == "ScheduledNotification":
        vpcs = ec2.describe_vpcs()["Vpcs"]
    else:
        vpcs = ec2.describe_vpcs(VpcIds=[invoking["configurationItem"]["resourceId"]])["Vpcs"]
    evaluations = []
    for vpc in vpcs:
        tags = {tag["Key"]: tag["Value"] for tag in vpc.get("Tags", [])}
        fixed = tags.get("Fixed") == parameters["Marker"]
        evaluations.append({
            "ComplianceResourceType": "AWS::EC2::VPC",
            "ComplianceResourceId": vpc["VpcId"],
            "ComplianceType": "COMPLIANT" if fixed else "NON_COMPLIANT",
            "Annotation": "tagged" if fixed else "not tagged Fixed=" + parameters["Marker"],
            "OrderingTimestamp": invoking["notificationCreationTime"],
        })
    boto3.client("config").put_evaluations(
        Evaluations=evaluations, ResultToken=event["resultToken"]
    )
    try:
        import yaml  # noqa: F401  (in the test venv, never in a Lambda runtime)
        yaml_importable = True
    except ImportError:
        yaml_importable = False
    return {
        "evaluated": len(evaluations),
        "python": platform.python_version(),
        "marker_env": os.environ.get("MARKER_ENV"),
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "yaml_importable": yaml_importable,
        "identity": boto3.client("sts").get_caller_identity()["Arn"],
    }
"""

SCRIPT = """\
import boto3


def handler(events, context):
    boto3.client("ec2").create_tags(
        Resources=[events["VpcId"]], Tags=[{"Key": "Fixed", "Value": events["Marker"]}]
    )
    return {
        "Tagged": events["VpcId"],
        "Retention": events["Retention"],
        "Execution": context["automation:EXECUTION_ID"],
    }
"""


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


PARTITION = {"Ref": "AWS::Partition"}
ACCOUNT = {"Ref": "AWS::AccountId"}
REGION = {"Ref": "AWS::Region"}


def mini_template() -> dict[str, Any]:
    """The template, as ``cdk synth`` would write it (a fresh copy each call)."""
    template = {
        "Resources": {
            "FnLogs1A2B3C4D": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"RetentionInDays": 30},
            },
            "FnRoleE5F6A7B8": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "Evaluate",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["ec2:DescribeVpcs"],
                                        "Resource": "*",
                                    },
                                    {
                                        "Effect": "Allow",
                                        "Action": "config:PutEvaluations",
                                        "Resource": "*",
                                    },
                                ],
                            },
                        }
                    ],
                },
            },
            "FnRoleExtraPolicy9C0D1E2F": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "FnRoleExtraPolicy9C0D1E2F",
                    "Roles": [{"Ref": "FnRoleE5F6A7B8"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "logs:PutLogEvents",
                                "Resource": {"Fn::GetAtt": ["FnLogs1A2B3C4D", "Arn"]},
                            }
                        ],
                    },
                },
            },
            "Fn9270CBC0": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {
                        "S3Bucket": {
                            "Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
                        },
                        "S3Key": f"{ASSET_HASH}.zip",
                    },
                    "Handler": "index.handler",
                    "Runtime": "python3.13",
                    "Timeout": 30,
                    "Role": {"Fn::GetAtt": ["FnRoleE5F6A7B8", "Arn"]},
                    "Environment": {"Variables": {"MARKER_ENV": "from-template"}},
                    "LoggingConfig": {"LogGroup": {"Ref": "FnLogs1A2B3C4D"}},
                },
                "DependsOn": ["FnRoleE5F6A7B8"],
            },
            "Rule4C995B7F": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "ConfigRuleName": RULE_NAME,
                    "InputParameters": {"Marker": "yes"},
                    "Scope": {"ComplianceResourceTypes": ["AWS::EC2::VPC"]},
                    "Source": {
                        "Owner": "CUSTOM_LAMBDA",
                        "SourceIdentifier": {"Fn::GetAtt": ["Fn9270CBC0", "Arn"]},
                        "SourceDetails": [
                            {
                                "EventSource": "aws.config",
                                "MessageType": "ConfigurationItemChangeNotification",
                            },
                            {
                                "EventSource": "aws.config",
                                "MessageType": "ScheduledNotification",
                                "MaximumExecutionFrequency": "One_Hour",
                            },
                        ],
                    },
                },
            },
            "AutoRoleC9F6ECEC": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "ssm.amazonaws.com"},
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "Tag",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": "ec2:CreateTags",
                                        "Resource": _join(
                                            "arn:",
                                            PARTITION,
                                            ":ec2:",
                                            REGION,
                                            ":",
                                            ACCOUNT,
                                            ":vpc/*",
                                        ),
                                    }
                                ],
                            },
                        }
                    ],
                },
            },
            "Doc": {
                "Type": "AWS::SSM::Document",
                "Properties": {
                    "DocumentType": "Automation",
                    "DocumentFormat": "YAML",
                    "Content": {
                        "schemaVersion": "0.3",
                        "assumeRole": "{{ AutomationAssumeRole }}",
                        "parameters": {
                            "VpcId": {"type": "String", "allowedPattern": "^vpc-[0-9a-f]+$"},
                            "AutomationAssumeRole": {"type": "String"},
                            "Marker": {"type": "String", "default": "yes"},
                            "Retention": {
                                "type": "Integer",
                                "default": 365,
                                "allowedValues": [7, 365],
                            },
                        },
                        "outputs": ["Tag.Tagged", "Tag.Retention"],
                        "mainSteps": [
                            {
                                "name": "Tag",
                                "action": "aws:executeScript",
                                "isEnd": True,
                                "inputs": {
                                    "Runtime": "python3.11",
                                    "Handler": "handler",
                                    "InputPayload": {
                                        "VpcId": "{{ VpcId }}",
                                        "Marker": "{{ Marker }}",
                                        "Retention": "{{ Retention }}",
                                    },
                                    "Script": SCRIPT,
                                },
                                "outputs": [
                                    {
                                        "Name": "Tagged",
                                        "Selector": "$.Payload.Tagged",
                                        "Type": "String",
                                    },
                                    {
                                        "Name": "Retention",
                                        "Selector": "$.Payload.Retention",
                                        "Type": "Integer",
                                    },
                                ],
                            }
                        ],
                    },
                },
            },
            "Remediation430FED09": {
                "Type": "AWS::Config::RemediationConfiguration",
                "Properties": {
                    "Automatic": True,
                    "ConfigRuleName": {"Ref": "Rule4C995B7F"},
                    "MaximumAutomaticAttempts": 2,
                    "RetryAttemptSeconds": 60,
                    "ExecutionControls": {"SsmControls": {"ErrorPercentage": 50}},
                    "Parameters": {
                        "VpcId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                        "AutomationAssumeRole": {
                            "StaticValue": {"Values": [{"Fn::GetAtt": ["AutoRoleC9F6ECEC", "Arn"]}]}
                        },
                        "Retention": {"StaticValue": {"Values": ["7"]}},
                    },
                    "ResourceType": "AWS::EC2::VPC",
                    "TargetId": {"Ref": "Doc"},
                    "TargetType": "SSM_DOCUMENT",
                },
            },
        },
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
    }
    return copy.deepcopy(template)


def write_assembly(
    root: Path,
    template: dict[str, Any],
    files: dict[str, str] | None = None,
    *,
    other_stacks: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write a cloud assembly like ``cdk synth`` does: manifest, asset manifest, template, asset;
    ``other_stacks``: more stacks (name -> template) without assets."""
    root.mkdir(parents=True, exist_ok=True)
    asset = root / f"asset.{ASSET_HASH}"
    asset.mkdir()
    for name, text in (files if files is not None else {"index.py": HANDLER}).items():
        (asset / name).write_text(text, encoding="utf-8")
    runtime_packages(asset)  # the asset ships its SDK, as the stack's does (links to this venv's)
    (root / f"{STACK}.template.json").write_text(json.dumps(template), encoding="utf-8")
    (root / f"{STACK}.assets.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "files": {
                    ASSET_HASH: {
                        "source": {"path": asset.name, "packaging": "zip"},
                        "destinations": {
                            "current_account-current_region": {
                                "bucketName": BUCKET,
                                "objectKey": f"{ASSET_HASH}.zip",
                            }
                        },
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    artifacts: dict[str, Any] = {
        f"{STACK}.assets": {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{STACK}.assets.json"},
        },
        STACK: {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{STACK}.template.json"},
            "dependencies": [f"{STACK}.assets"],
        },
    }
    for name, other in (other_stacks or {}).items():
        (root / f"{name}.template.json").write_text(json.dumps(other), encoding="utf-8")
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (root / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts}), encoding="utf-8"
    )
    return root
