"""The central archive's intake: CloudWatch Logs destination -> Firehose -> the flow-logs bucket.

Member accounts keep their flow logs in CloudWatch Logs and forward them, by subscription filter
or account-level subscription filter policy, to this destination (CloudWatch Logs User Guide,
"Cross-account cross-Region account-level subscriptions using Firehose", steps 1-3). The
destination is regional: a member's log groups and the destination must be in the same Region.

What Firehose writes, under ``CloudWatchLogs/`` of the bucket::

    CloudWatchLogs/account=<owner>/region=<region>/year=YYYY/month=MM/day=DD/<object>.gz
    CloudWatchLogs/errors/<error-output-type>/year=YYYY/month=MM/day=DD/<object>

CloudWatch Logs sends each batch GZIP-compressed; Firehose's ``Decompression`` processor opens it
so that dynamic partitioning can read the record's JSON (``owner`` is the sending account, the
decompressed record is ``{"messageType", "owner", "logGroup", "logStream", "logEvents"...}``) and
Firehose compresses the delivered object again. The record has no Region: the destination's own
Region is the Region of every log group that can reach it. The date is Firehose's arrival time
(``!{timestamp:}``, UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

LOGS_SERVICE: Final = "logs.amazonaws.com"
"""The principal AWS's cross-account Firehose walkthrough trusts (step 2, TrustPolicyForCWL)."""
FIREHOSE_SERVICE: Final = "firehose.amazonaws.com"
ARCHIVE_PREFIX: Final = "CloudWatchLogs/"
"""Everything Firehose writes, data and errors, is under this prefix of the bucket."""
PARTITION_QUERY: Final = "{account: .owner}"
DATE: Final = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
BUFFER_MB: Final = 128
"""Dynamic partitioning needs at least 64 MB; larger objects archive better (see README)."""
BUFFER_SECONDS: Final = 900
"""Firehose's maximum: fewer, larger objects per partition."""
DESTINATION_ACTIONS: Final = ("logs:PutSubscriptionFilter", "logs:PutAccountPolicy")
"""A subscription filter and an account-level subscription filter policy both need their own
action on the destination (walkthrough step 2: "This policy must specify the
logs:PutSubscriptionFilter and logs:PutAccountPolicy actions")."""


@dataclass(frozen=True)
class CentralLogDestinationProps:
    """Where the destination delivers and who may use it."""

    organization_id: str
    bucket: s3.IBucket
    key: kms.IKey | None
    """The bucket's KMS key, when the bucket is SSE-KMS: Firehose encrypts objects with it."""


class CentralLogDestination(Construct):
    """A CloudWatch Logs destination for the organization, its Firehose stream and both roles."""

    def __init__(self, scope: Construct, construct_id: str, props: CentralLogDestinationProps):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        stream_name = f"{stack.stack_name}-CentralArchive"
        destination_name = f"{stack.stack_name}-CentralArchive"
        stream_arn = stack.format_arn(
            service="firehose", resource="deliverystream", resource_name=stream_name
        )
        destination_arn = stack.format_arn(
            service="logs",
            resource="destination",
            resource_name=destination_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

        self.firehose_role = iam.Role(
            self,
            "FirehoseRole",
            description="Firehose writes the organization's CloudWatch Logs to the archive bucket",
            assumed_by=iam.ServicePrincipal(
                FIREHOSE_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": stream_arn},
                },
            ),
            inline_policies={
                "WriteArchive": iam.PolicyDocument(
                    statements=firehose_statements(props.bucket, props.key, stack.region)
                )
            },
        )
        self.stream = firehose.CfnDeliveryStream(
            self,
            "Stream",
            delivery_stream_name=stream_name,
            # A CloudWatch Logs destination puts records itself (PutRecord/PutRecordBatch).
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=(
                firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                    key_type="AWS_OWNED_CMK"
                )
            ),
            extended_s3_destination_configuration=self._s3_destination(props, stack.region),
        )

        self.logs_role = iam.Role(
            self,
            "LogsRole",
            description="CloudWatch Logs puts the organization's subscribed log events to Firehose",
            # Trusted for the destination's Region, for log groups of the organization only: the
            # walkthrough's aws:SourceArn lists accounts, which an organization cannot.
            assumed_by=iam.ServicePrincipal(
                LOGS_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceOrgID": props.organization_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:*:*"},
                },
            ),
            inline_policies={
                "PutToStream": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                            resources=[stream_arn],
                        )
                    ]
                )
            },
        )
        self.destination = logs.CfnDestination(
            self,
            "Destination",
            destination_name=destination_name,
            role_arn=self.logs_role.role_arn,
            target_arn=self.stream.attr_arn,
            destination_policy=stack.to_json_string(
                destination_policy(destination_arn, props.organization_id)
            ),
        )
        # CloudWatch Logs sends a test message through the role when the destination is created;
        # the role's policy is inline, so the RoleArn reference orders the two.

    def _s3_destination(
        self, props: CentralLogDestinationProps, region: str
    ) -> firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty:
        processor = firehose.CfnDeliveryStream.ProcessorProperty
        parameter = firehose.CfnDeliveryStream.ProcessorParameterProperty
        encryption = (
            firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                    awskms_key_arn=props.key.key_arn
                )
            )
            if props.key is not None
            else None
        )
        return firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=props.bucket.bucket_arn,
            role_arn=self.firehose_role.role_arn,
            prefix=(
                f"{ARCHIVE_PREFIX}account=!{{partitionKeyFromQuery:account}}/region={region}/{DATE}"
            ),
            error_output_prefix=f"{ARCHIVE_PREFIX}errors/!{{firehose:error-output-type}}/{DATE}",
            compression_format="GZIP",
            encryption_configuration=encryption,
            buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                size_in_m_bs=BUFFER_MB, interval_in_seconds=BUFFER_SECONDS
            ),
            dynamic_partitioning_configuration=(
                firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(enabled=True)
            ),
            processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                enabled=True,
                processors=[
                    processor(
                        type="Decompression",
                        parameters=[
                            parameter(parameter_name="CompressionFormat", parameter_value="GZIP")
                        ],
                    ),
                    processor(
                        type="MetadataExtraction",
                        parameters=[
                            parameter(
                                parameter_name="MetadataExtractionQuery",
                                parameter_value=PARTITION_QUERY,
                            ),
                            parameter(parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"),
                        ],
                    ),
                    # One JSON record per line once decompressed.
                    processor(type="AppendDelimiterToRecord"),
                ],
            ),
        )


def destination_policy(destination_arn: str, organization_id: str) -> dict[str, object]:
    """Who may subscribe to the destination: principals of the organization's accounts only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrganizationAccountsSubscribe",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": list(DESTINATION_ACTIONS),
                "Resource": destination_arn,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            }
        ],
    }


def firehose_statements(
    bucket: s3.IBucket, key: kms.IKey | None, region: str, prefix: str = ARCHIVE_PREFIX
) -> list[iam.PolicyStatement]:
    """What Firehose needs on the bucket (Firehose Developer Guide, "Grant Firehose access to
    an Amazon S3 destination"), objects limited to the stream's prefix."""
    statements = [
        iam.PolicyStatement(
            sid="BucketOfTheArchive",
            actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources=[bucket.bucket_arn],
        ),
        iam.PolicyStatement(
            sid="ObjectsUnderTheArchivePrefix",
            actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{prefix}*")],
        ),
    ]
    if key is not None:
        # With an S3 Bucket Key the encryption context is the bucket's ARN, not the object's
        # (S3 User Guide, "Changes to note before enabling an S3 Bucket Key").
        statements.append(
            iam.PolicyStatement(
                sid="EncryptThroughS3",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"s3.{region}.amazonaws.com",
                        "kms:EncryptionContext:aws:s3:arn": bucket.bucket_arn,
                    }
                },
            )
        )
    return statements
