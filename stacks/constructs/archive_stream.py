"""A Firehose stream into the log-archive bucket under a prefix of its own, and its role.

Both ways into the archive that go through Firehose use it: the CloudWatch Logs destination's
stream (``central_log_destination.py``) and the stream member accounts' flow logs deliver to
directly (``firehose_destination.py``). Each writes GZIP objects, encrypted as the bucket is,
under its own prefix (data and errors); the bucket policy admits each stream's role there only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from constructs import Construct

FIREHOSE_SERVICE: Final = "firehose.amazonaws.com"
DATE: Final = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
"""Firehose's arrival time (UTC): the flow records' own times are inside the objects."""
BUFFER_MB: Final = 128
"""Firehose's largest S3 buffer (dynamic partitioning needs at least 64 MB): fewer, larger
objects, which archive better (docs/organization.md, "What archiving costs")."""
BUFFER_SECONDS: Final = 900
"""Firehose's maximum: fewer, larger objects per partition."""


@dataclass(frozen=True)
class ArchiveStreamProps:
    """One stream into the archive: where it writes, how it processes records, what it is for."""

    bucket: s3.IBucket
    key: kms.IKey | None
    """The bucket's KMS key, when the bucket is SSE-KMS: Firehose encrypts objects with it."""
    stream_name: str
    prefix: str
    """Everything the stream writes, data and errors, is under this prefix of the bucket."""
    partitions: str
    """The data objects' key after ``prefix``, e.g. ``region=<region>/`` + :data:`DATE`."""
    role_description: str
    policy_name: str
    processors: Sequence[firehose.CfnDeliveryStream.ProcessorProperty]
    dynamic_partitioning: bool = False
    tags: Sequence[cdk.CfnTag] = field(default_factory=tuple)


def add_archive_stream(
    scope: Construct, props: ArchiveStreamProps
) -> tuple[iam.Role, firehose.CfnDeliveryStream]:
    """Firehose's role (``FirehoseRole``) and the stream (``Stream``), made in ``scope``.

    A function, not a construct of its own, so that both resources keep the logical ids they
    had in ``scope`` before it existed: a deployed stack's stream and role are not replaced.
    """
    stack = cdk.Stack.of(scope)
    stream_arn = stack.format_arn(
        service="firehose", resource="deliverystream", resource_name=props.stream_name
    )
    role = iam.Role(
        scope,
        "FirehoseRole",
        description=props.role_description,
        assumed_by=iam.ServicePrincipal(
            FIREHOSE_SERVICE,
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnEquals": {"aws:SourceArn": stream_arn},
            },
        ),
        inline_policies={
            props.policy_name: iam.PolicyDocument(
                statements=firehose_statements(props.bucket, props.key, stack.region, props.prefix)
            )
        },
    )
    encryption = (
        firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
            kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                awskms_key_arn=props.key.key_arn
            )
        )
        if props.key is not None
        else None
    )
    stream = firehose.CfnDeliveryStream(
        scope,
        "Stream",
        delivery_stream_name=props.stream_name,
        # Both writers put records themselves (a CloudWatch Logs destination, VPC Flow Logs):
        # "Use Direct Put as the source" (VPC User Guide).
        delivery_stream_type="DirectPut",
        delivery_stream_encryption_configuration_input=(
            firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            )
        ),
        extended_s3_destination_configuration=(
            firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=props.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=f"{props.prefix}{props.partitions}",
                error_output_prefix=f"{props.prefix}errors/!{{firehose:error-output-type}}/{DATE}",
                compression_format="GZIP",
                encryption_configuration=encryption,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    size_in_m_bs=BUFFER_MB, interval_in_seconds=BUFFER_SECONDS
                ),
                dynamic_partitioning_configuration=(
                    firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                        enabled=True
                    )
                    if props.dynamic_partitioning
                    else None
                ),
                processing_configuration=(
                    firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                        enabled=True, processors=list(props.processors)
                    )
                ),
            )
        ),
        tags=list(props.tags) or None,
    )
    return role, stream


def firehose_statements(
    bucket: s3.IBucket, key: kms.IKey | None, region: str, prefix: str
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
