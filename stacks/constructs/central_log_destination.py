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

from stacks.constructs.archive_stream import DATE, ArchiveStreamProps, add_archive_stream

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

LOGS_SERVICE: Final = "logs.amazonaws.com"
"""The principal AWS's cross-account Firehose walkthrough trusts (step 2, TrustPolicyForCWL)."""
ARCHIVE_PREFIX: Final = "CloudWatchLogs/"
"""Everything Firehose writes, data and errors, is under this prefix of the bucket."""
PARTITION_QUERY: Final = "{account: .owner}"
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

        processor = firehose.CfnDeliveryStream.ProcessorProperty
        parameter = firehose.CfnDeliveryStream.ProcessorParameterProperty
        self.firehose_role, self.stream = add_archive_stream(
            self,
            ArchiveStreamProps(
                bucket=props.bucket,
                key=props.key,
                stream_name=stream_name,
                prefix=ARCHIVE_PREFIX,
                partitions=f"account=!{{partitionKeyFromQuery:account}}/region={stack.region}/{DATE}",
                role_description=(
                    "Firehose writes the organization's CloudWatch Logs to the archive bucket"
                ),
                policy_name="WriteArchive",
                dynamic_partitioning=True,
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
