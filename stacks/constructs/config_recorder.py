"""Optional: an AWS Config recorder for VPCs and flow logs, and its delivery channel.

Only for accounts and regions that have no recorder (AWS Config allows one per region): a
custom rule only sees the resource types the recorder records.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

RECORDED_TYPES: Final = ("AWS::EC2::VPC", "AWS::EC2::FlowLog")
CONFIG_SERVICE: Final = "config.amazonaws.com"


class VpcConfigRecorder(Construct):
    """A recorder limited to VPCs, an encrypted TLS-only bucket and a delivery channel."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        self.bucket = s3.Bucket(
            self,
            "DeliveryBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            # Configuration history is audit evidence: it outlives the stack.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        objects = self.bucket.arn_for_objects(f"AWSLogs/{stack.account}/Config/*")

        self.role = iam.Role(
            self,
            "Role",
            description="AWS Config recorder for AWS::EC2::VPC: reads the configuration, "
            "delivers it to the stack's bucket.",
            assumed_by=iam.ServicePrincipal(
                CONFIG_SERVICE,
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")
            ],
            inline_policies={
                "DeliverToBucket": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="CheckBucket",
                            actions=["s3:GetBucketAcl"],
                            resources=[self.bucket.bucket_arn],
                        ),
                        iam.PolicyStatement(
                            sid="WriteConfigObjects",
                            actions=["s3:PutObject"],
                            resources=[objects],
                        ),
                    ]
                )
            },
        )

        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            role_arn=self.role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=False,
                include_global_resource_types=False,
                resource_types=list(RECORDED_TYPES),
                recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(
                    use_only="INCLUSION_BY_RESOURCE_TYPES"
                ),
            ),
        )

        self.delivery_channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            s3_bucket_name=self.bucket.bucket_name,
        )
        # AWS Config refuses a channel while no recorder exists ("Before you can create a
        # delivery channel, you must create a configuration recorder": PutDeliveryChannel,
        # AWS::Config::DeliveryChannel). It also checks it can write to the bucket: the role and
        # the bucket policy must exist by then (the bucket itself is referenced).
        self.delivery_channel.node.add_dependency(self.recorder, self.role)
        if self.bucket.policy is not None:
            self.delivery_channel.node.add_dependency(self.bucket.policy)
