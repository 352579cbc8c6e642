from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.unit.stacks.synthesis import Synthesized

RECORDER_TYPES = (
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
)


def test_no_recorder_by_default(default: Synthesized) -> None:
    for resource_type in RECORDER_TYPES:
        assert default.resources(resource_type) == {}, resource_type


def test_recorder_records_vpcs_and_flow_logs_only(everything: Synthesized) -> None:
    _, recorder = everything.only("AWS::Config::ConfigurationRecorder")
    role_id = recorder["Properties"]["RoleARN"]["Fn::GetAtt"][0]

    assert recorder["Properties"]["RecordingGroup"] == {
        "AllSupported": False,
        "IncludeGlobalResourceTypes": False,
        "ResourceTypes": ["AWS::EC2::VPC", "AWS::EC2::FlowLog"],
        "RecordingStrategy": {"UseOnly": "INCLUSION_BY_RESOURCE_TYPES"},
    }
    assert "ConfigRecorderRole" in role_id


def test_recorder_role_is_for_aws_config_of_this_account(everything: Synthesized) -> None:
    _, recorder = everything.only("AWS::Config::ConfigurationRecorder")
    bucket_id, _ = everything.only("AWS::S3::Bucket")
    role = everything.json["Resources"][recorder["Properties"]["RoleARN"]["Fn::GetAtt"][0]]
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}

    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWS_ConfigRole"],
            ]
        }
    ]
    assert role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "CheckBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
        },
        {
            "Sid": "WriteConfigObjects",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": {
                "Fn::Join": [
                    "",
                    [bucket_arn, "/AWSLogs/", {"Ref": "AWS::AccountId"}, "/Config/*"],
                ]
            },
        },
    ]


def test_delivery_bucket_is_private_encrypted_and_tls_only(everything: Synthesized) -> None:
    bucket_id, bucket = everything.only("AWS::S3::Bucket")
    _, policy = everything.only("AWS::S3::BucketPolicy")

    assert bucket["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["Properties"]["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": [
                {"Fn::GetAtt": [bucket_id, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]},
            ],
        }
    ]


def test_delivery_channel_delivers_to_the_bucket(everything: Synthesized) -> None:
    bucket_id, _ = everything.only("AWS::S3::Bucket")
    policy_id, _ = everything.only("AWS::S3::BucketPolicy")

    _, channel = everything.only("AWS::Config::DeliveryChannel")

    assert channel["Properties"] == {"S3BucketName": {"Ref": bucket_id}}
    assert policy_id in channel["DependsOn"]


def test_rule_waits_for_the_recorder(everything: Synthesized) -> None:
    recorder_id, _ = everything.only("AWS::Config::ConfigurationRecorder")
    channel_id, _ = everything.only("AWS::Config::DeliveryChannel")

    rule_id, rule = everything.only("AWS::Config::ConfigRule")

    # PutConfigRule needs a recorder; the rule sees configuration items only once recording
    # runs, which CloudFormation starts when the channel exists.
    assert {recorder_id, channel_id} <= set(rule["DependsOn"])
    assert {recorder_id, channel_id} <= created_before(everything.json, rule_id)


def test_channel_is_created_after_the_recorder(everything: Synthesized) -> None:
    # "Before you can create a delivery channel, you must create a configuration recorder"
    # (AWS::Config::DeliveryChannel; PutDeliveryChannel). Any order CloudFormation may choose
    # follows the template's dependencies, so the recorder must be among the channel's.
    recorder_id, _ = everything.only("AWS::Config::ConfigurationRecorder")
    channel_id, _ = everything.only("AWS::Config::DeliveryChannel")

    assert recorder_id in created_before(everything.json, channel_id)
    assert channel_id not in created_before(everything.json, recorder_id)


def test_created_before_follows_refs_getatts_subs_and_depends_on() -> None:
    # The helper above, on a template small enough to check by hand.
    template = {
        "Resources": {
            "A": {"Type": "T"},
            "B": {"Type": "T", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}},
            "C": {"Type": "T", "Properties": {"P": {"Fn::Sub": "x-${B.Arn}-${AWS::Region}"}}},
            "D": {"Type": "T", "DependsOn": "C", "Properties": {"P": [{"Ref": "AWS::NoValue"}]}},
            "E": {"Type": "T", "Properties": {"P": {"Ref": "A"}}},
        }
    }

    assert created_before(template, "D") == {"A", "B", "C"}
    assert created_before(template, "E") == {"A"}
    assert created_before(template, "A") == set()


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def created_before(template: dict[str, Any], logical_id: str) -> set[str]:
    """Resources CloudFormation must create before ``logical_id``: DependsOn, Ref, GetAtt, Sub."""
    resources = template["Resources"]

    def direct(resource: dict[str, Any]) -> set[str]:
        depends_on = resource.get("DependsOn", [])
        found = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        pending: list[Any] = [resource.get("Properties", {})]
        while pending:
            value = pending.pop()
            if isinstance(value, list):
                pending.extend(value)
            elif isinstance(value, dict):
                if isinstance(value.get("Ref"), str):
                    found.add(value["Ref"])
                getatt = value.get("Fn::GetAtt")
                if isinstance(getatt, list):
                    found.add(getatt[0])
                elif isinstance(getatt, str):
                    found.add(getatt.split(".")[0])
                sub = value.get("Fn::Sub")
                text = sub[0] if isinstance(sub, list) and sub else sub
                if isinstance(text, str):
                    found.update(_SUB_NAME.findall(text))
                pending.extend(value.values())
        return found & set(resources)

    before: set[str] = set()
    pending = [logical_id]
    while pending:
        for dependency in direct(resources[pending.pop()]) - before:
            before.add(dependency)
            pending.append(dependency)
    return before
