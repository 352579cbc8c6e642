"""The central log-archive stack: one S3 bucket that receives every account's VPC flow logs.

Deployed once, in the organization's log-archive account. The bucket policy follows AWS's
documented policy for flow logs delivered to S3 (VPC user guide, "Amazon S3 bucket permissions
for flow logs"), with the confused-deputy condition widened from one account
(``aws:SourceAccount``) to the organization (``aws:SourceOrgID``), so a new account of the
organization can deliver without a policy change and no account outside it can.

With ``centralLogDestination``, the stack also receives flow logs kept in CloudWatch Logs: a
CloudWatch Logs destination for the organization feeds a Firehose stream into the same bucket
(``stacks/constructs/central_log_destination.py``), and the bucket policy admits that stream's
role as the one other writer, under its own prefix.

With ``firehoseDelivery``, member accounts' flow logs deliver straight to a Firehose stream of
this account, across accounts (``stacks/constructs/firehose_destination.py``); its role is one
more writer of the bucket, under ``VpcFlowLogs/`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from stacks.constructs.central_log_destination import (
    ARCHIVE_PREFIX,
    CentralLogDestination,
    CentralLogDestinationProps,
)
from stacks.constructs.firehose_destination import (
    FLOW_LOGS_PREFIX as FIREHOSE_PREFIX,
)
from stacks.constructs.firehose_destination import (
    CentralFirehoseDelivery,
    CentralFirehoseDeliveryProps,
)
from stacks.constructs.firehose_source import LOG_DELIVERY_SERVICE
from stacks.nag_acknowledgements import acknowledge_central_archive, acknowledge_firehose_delivery

if TYPE_CHECKING:
    from collections.abc import Sequence

    from constructs import Construct

    from stacks.settings.organization import OrganizationSettings

FLOW_LOGS_PREFIX: Final = "AWSLogs/"
"""Flow logs land under ``[folder/]AWSLogs/<account>/vpcflowlogs/...``; we use no folder."""
ACCESS_LOGS_PREFIX: Final = "flow-logs-bucket/"
INCOMPLETE_UPLOAD_DAYS: Final = 7
SMALL_OBJECTS_FROM_BYTES: Final = 1
"""With small-object transitions on, the archive rule takes objects larger than this (AWS's own
example, S3 User Guide "Allowing objects smaller than 128 KB to be transitioned")."""
SERVER_ACCESS_LOGS_USE_BUCKET_POLICY: Final = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"

_STORAGE_CLASSES: Final = {
    "GLACIER_INSTANT_RETRIEVAL": s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
    "GLACIER": s3.StorageClass.GLACIER,
    "DEEP_ARCHIVE": s3.StorageClass.DEEP_ARCHIVE,
}


class LogArchiveStack(cdk.Stack):
    """The flow-logs bucket, its server access log bucket and, optionally, its KMS key and the
    CloudWatch Logs destination that feeds the bucket through Firehose."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: OrganizationSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Grant the S3 logging service by bucket policy, not by the LogDeliveryWrite ACL that
        # BUCKET_OWNER_ENFORCED (ACLs disabled) forbids; scoped to this stack.
        self.node.set_context(SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        org_condition = {"StringEquals": {"aws:SourceOrgID": settings.organization_id}}

        self.key: kms.Key | None = None
        if settings.log_archive_kms_key:
            self.key = kms.Key(
                self,
                "Key",
                description="Encrypts the VPC flow logs of every account of the organization",
                enable_key_rotation=True,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            # Flow logs to an SSE-KMS bucket: the delivery service encrypts with the key
            # (VPC user guide, "Required key policy for use with SSE-KMS").
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowLogDeliveryToEncrypt",
                    principals=[iam.ServicePrincipal(LOG_DELIVERY_SERVICE)],
                    actions=[
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    resources=["*"],
                    conditions=org_condition,
                )
            )

        expiration = cdk.Duration.days(settings.log_archive_expiration_days)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # Server access logging delivers only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireWithTheFlowLogs",
                    expiration=expiration,
                    noncurrent_version_expiration=expiration,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(
                        INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
        )

        small_objects = settings.log_archive_transition_small_objects
        expire = s3.LifecycleRule(
            id="ExpireAfterRetention",
            expiration=expiration,
            # A deleted or overwritten log stays recoverable for the full retention.
            noncurrent_version_expiration=expiration,
            abort_incomplete_multipart_upload_after=cdk.Duration.days(INCOMPLETE_UPLOAD_DAYS),
        )
        # A rule of its own: a size filter limits every action of its rule, and expiry must
        # reach every object.
        archive = s3.LifecycleRule(
            id="Archive",
            transitions=[
                s3.Transition(
                    storage_class=_STORAGE_CLASSES[settings.log_archive_storage_class],
                    transition_after=cdk.Duration.days(settings.log_archive_transition_days),
                )
            ],
            object_size_greater_than=SMALL_OBJECTS_FROM_BYTES if small_objects else None,
        )
        rules = [expire, archive]
        self.bucket = s3.Bucket(
            self,
            "FlowLogs",
            encryption=(
                s3.BucketEncryption.KMS if self.key is not None else s3.BucketEncryption.S3_MANAGED
            ),
            encryption_key=self.key,
            bucket_key_enabled=True if self.key is not None else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=ACCESS_LOGS_PREFIX,
            lifecycle_rules=rules,
        )
        if small_objects:
            # S3 transitions no object under 128 KB by default (since September 2024); a size
            # filter takes precedence, for every storage class (TransitionDefaultMinimumObjectSize
            # varies_by_storage_class would not cover Glacier Instant Retrieval). aws-cdk-lib
            # writes the size as a number where CloudFormation's schema has a string.
            cfn_bucket = self.bucket.node.default_child
            if not isinstance(cfn_bucket, s3.CfnBucket):
                raise TypeError("s3.Bucket has no CfnBucket")
            cfn_bucket.add_property_override(
                f"LifecycleConfiguration.Rules.{rules.index(archive)}.ObjectSizeGreaterThan",
                str(SMALL_OBJECTS_FROM_BYTES),
            )
        self.central: CentralLogDestination | None = None
        if settings.central_log_destination:
            self.central = CentralLogDestination(
                self,
                "CentralLogDestination",
                CentralLogDestinationProps(
                    organization_id=settings.organization_id, bucket=self.bucket, key=self.key
                ),
            )
            acknowledge_central_archive(self.central, self.bucket)
        self.firehose: CentralFirehoseDelivery | None = None
        if settings.firehose_delivery:
            self.firehose = CentralFirehoseDelivery(
                self,
                "FirehoseDelivery",
                CentralFirehoseDeliveryProps(
                    organization_id=settings.organization_id, bucket=self.bucket, key=self.key
                ),
            )
            acknowledge_firehose_delivery(self.firehose, self.bucket)
        writers = []
        if self.central is not None:
            writers.append(
                Writer("TheArchiveStream", self.central.firehose_role.role_arn, ARCHIVE_PREFIX)
            )
        if self.firehose is not None:
            writers.append(
                Writer("TheFlowLogStream", self.firehose.firehose_role.role_arn, FIREHOSE_PREFIX)
            )
        for statement in delivery_statements(
            self.bucket.bucket_arn, settings.organization_id, writers=writers
        ):
            self.bucket.add_to_resource_policy(statement)

        cdk.CfnOutput(
            self,
            "BucketArn",
            value=self.bucket.bucket_arn,
            description="Flow-logs bucket: the per-account setting centralBucketArn",
        )
        if self.key is not None:
            cdk.CfnOutput(
                self,
                "KeyArn",
                value=self.key.key_arn,
                description="KMS key the flow-logs bucket encrypts with",
            )
        if self.central is not None:
            cdk.CfnOutput(
                self,
                "CentralLogDestinationArn",
                value=self.central.destination.attr_arn,
                description="CloudWatch Logs destination of the central archive: the per-account "
                "setting centralLogDestinationArn (same Region as the log groups)",
            )
        if self.firehose is not None:
            cdk.CfnOutput(
                self,
                "CentralFirehoseArn",
                value=self.firehose.stream.attr_arn,
                description="Firehose stream for direct delivery: the per-account setting "
                "centralFirehoseArn (its Region as {region} for a StackSet)",
            )
            cdk.CfnOutput(
                self,
                "CentralFirehoseRoleArn",
                value=self.firehose.destination_role.role_arn,
                description="Destination account role for direct delivery: the per-account "
                "setting centralFirehoseRoleArn (its Region as {region} for a StackSet)",
            )


@dataclass(frozen=True)
class Writer:
    """A Firehose stream's role that writes to the bucket, and the only prefix it may write."""

    name: str
    """In the statement ids: ``DenyWritesByAnyoneButLogDeliveryAnd<name>``."""
    role_arn: str
    prefix: str


def delivery_statements(
    bucket_arn: str, organization_id: str, *, writers: Sequence[Writer] = ()
) -> list[iam.PolicyStatement]:
    """What the log delivery service may do on the bucket, for accounts of the organization.

    Only ``delivery.logs.amazonaws.com`` is granted, only with ``aws:SourceOrgID`` equal to the
    organization, and writes only under ``AWSLogs/`` with the bucket-owner ACL the service sets.
    A second statement denies ``s3:PutObject`` to every caller that is not that service, so even
    principals of the log-archive account with broad IAM permissions cannot add or overwrite logs.

    Each of the ``writers`` (the Firehose streams' roles: the central archive's under
    ``CloudWatchLogs/``, direct delivery's under ``VpcFlowLogs/``) is excepted from that denial,
    and one more statement per writer keeps it under its own prefix. The roles are of this
    account, so their own policies grant the writes; the bucket policy only denies.
    """
    delivery = iam.ServicePrincipal(LOG_DELIVERY_SERVICE)
    statements = [
        iam.PolicyStatement(
            sid="AWSLogDeliveryWrite",
            principals=[delivery],
            actions=["s3:PutObject"],
            resources=[f"{bucket_arn}/{FLOW_LOGS_PREFIX}*"],
            conditions={
                "StringEquals": {
                    "aws:SourceOrgID": organization_id,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        ),
        iam.PolicyStatement(
            sid="AWSLogDeliveryAclCheck",
            principals=[delivery],
            actions=["s3:GetBucketAcl", "s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringEquals": {"aws:SourceOrgID": organization_id}},
        ),
    ]
    not_log_delivery = {"StringNotEquals": {"aws:PrincipalServiceName": LOG_DELIVERY_SERVICE}}
    if not writers:
        return [
            *statements,
            iam.PolicyStatement(
                sid="DenyWritesByAnyoneButLogDelivery",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[f"{bucket_arn}/*"],
                conditions=not_log_delivery,
            ),
        ]
    # Both conditions must hold to deny; a request without aws:PrincipalArn (the delivery
    # service's) or without aws:PrincipalServiceName (a role's) meets the negated operator
    # (IAM User Guide, "Condition operators": negated operators match an absent key). Several
    # values of one negated operator are NOR'ed: the writer is none of the roles.
    arns = [writer.role_arn for writer in writers]
    return [
        *statements,
        iam.PolicyStatement(
            sid="DenyWritesByAnyoneButLogDeliveryAnd" + "And".join(w.name for w in writers),
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[f"{bucket_arn}/*"],
            conditions={
                **not_log_delivery,
                "ArnNotEquals": {"aws:PrincipalArn": arns[0] if len(arns) == 1 else arns},
            },
        ),
        *(
            iam.PolicyStatement(
                sid=f"Deny{writer.name}OutsideItsPrefix",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                not_resources=[f"{bucket_arn}/{writer.prefix}*"],
                conditions={"ArnEquals": {"aws:PrincipalArn": writer.role_arn}},
            )
            for writer in writers
        ),
    ]
