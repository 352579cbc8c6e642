from __future__ import annotations

from typing import TYPE_CHECKING

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

    _, rule = everything.only("AWS::Config::ConfigRule")

    assert {recorder_id, channel_id} <= set(rule["DependsOn"])
