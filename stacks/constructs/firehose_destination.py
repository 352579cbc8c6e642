"""The log-archive side of direct Firehose delivery: the organization's flow logs -> Firehose -> S3.

Member accounts' flow logs deliver straight to this stream (``LogDestinationType``
``kinesis-data-firehose``), across accounts, as the VPC User Guide sets it up ("Publish flow logs
to Amazon Data Firehose", "IAM roles for cross account delivery"): the log delivery service
assumes the member's *source account role*, and with it this account's *destination account
role*, whose name must start with ``AWSLogDeliveryFirehoseCrossAccountRole``. With that role it
tags the stream ``LogDeliveryEnabled=true`` and creates the service-linked role
``AWSServiceRoleForLogDelivery``, which "grants permission for all Firehose delivery streams that
have the LogDeliveryEnabled tag set to true" (CloudWatch Logs User Guide, "Logs sent to
Firehose"); the stream is created with the tag already.

The destination role trusts roles of the organization (``aws:PrincipalOrgID``) under the source
roles' path (``aws:PrincipalArn``): the guide's trust names one source role, which an
organization whose accounts come and go cannot. What it may do is narrowed to this stream and
that one service-linked role (the guide grants both actions on ``*``).

What Firehose writes, under ``VpcFlowLogs/`` of the bucket::

    VpcFlowLogs/region=<region>/year=YYYY/month=MM/day=DD/<stream>-<n>-<date>-<uuid>.gz
    VpcFlowLogs/errors/<error-output-type>/year=YYYY/month=MM/day=DD/<object>

Records arrive "in plain text format" (the guide), one flow log record each; a new line is
appended to each record so that an object holds one record per line. The date is Firehose's
arrival time (UTC). Objects are GZIP-compressed and encrypted like the rest of the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from constructs import Construct

from stacks.constructs.archive_stream import DATE, ArchiveStreamProps, add_archive_stream
from stacks.constructs.firehose_source import LOG_DELIVERY_SERVICE, SOURCE_ROLE_PATH
from stacks.settings.account import CROSS_ACCOUNT_ROLE_PREFIX

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

FLOW_LOGS_PREFIX: Final = "VpcFlowLogs/"
"""Everything this stream writes, data and errors, is under this prefix of the bucket."""
LOG_DELIVERY_TAG: Final = ("LogDeliveryEnabled", "true")
"""The tag the log delivery service-linked role needs on the stream (CloudWatch Logs User Guide,
"Logs sent to Firehose")."""
SERVICE_LINKED_ROLE: Final = "AWSServiceRoleForLogDelivery"


@dataclass(frozen=True)
class CentralFirehoseDeliveryProps:
    organization_id: str
    bucket: s3.IBucket
    key: kms.IKey | None
    """The bucket's KMS key, when the bucket is SSE-KMS: Firehose encrypts objects with it."""


class CentralFirehoseDelivery(Construct):
    """The organization's Firehose stream into the archive bucket, its role, and the
    destination account role the members' flow logs are delivered through."""

    def __init__(
        self, scope: Construct, construct_id: str, props: CentralFirehoseDeliveryProps
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        stream_name = f"{stack.stack_name}-FlowLogs"
        stream_arn = stack.format_arn(
            service="firehose", resource="deliverystream", resource_name=stream_name
        )

        self.firehose_role, self.stream = add_archive_stream(
            self,
            ArchiveStreamProps(
                bucket=props.bucket,
                key=props.key,
                stream_name=stream_name,
                prefix=FLOW_LOGS_PREFIX,
                partitions=f"region={stack.region}/{DATE}",
                role_description=(
                    "Firehose writes the organization's flow logs to the archive bucket"
                ),
                policy_name="WriteFlowLogs",
                # One record per line, whether or not a record ends with one: a blank line at
                # worst, never two records run together.
                processors=[
                    firehose.CfnDeliveryStream.ProcessorProperty(type="AppendDelimiterToRecord")
                ],
                tags=[cdk.CfnTag(key=LOG_DELIVERY_TAG[0], value=LOG_DELIVERY_TAG[1])],
            ),
        )

        self.destination_role = iam.Role(
            self,
            "DestinationRole",
            # A name the guide requires; one role per Region's stack (IAM is global).
            role_name=f"{CROSS_ACCOUNT_ROLE_PREFIX}-{stack.region}",
            description="The organization's flow logs are delivered to the central Firehose "
            "stream through this role (destination account role)",
            assumed_by=iam.PrincipalWithConditions(
                iam.AnyPrincipal(),
                {
                    "StringEquals": {"aws:PrincipalOrgID": props.organization_id},
                    "ArnLike": {
                        "aws:PrincipalArn": f"arn:{stack.partition}:iam::*:role{SOURCE_ROLE_PATH}*"
                    },
                },
            ),
            inline_policies={
                "PrepareTheStreamForLogDelivery": iam.PolicyDocument(
                    statements=destination_statements(stack, stream_arn)
                )
            },
        )


def destination_statements(stack: cdk.Stack, stream_arn: str) -> list[iam.PolicyStatement]:
    """The destination account role's permissions (VPC User Guide: iam:CreateServiceLinkedRole
    and firehose:TagDeliveryStream on ``*``), narrowed to this stream and its one tag, and to the
    log delivery service-linked role."""
    key, value = LOG_DELIVERY_TAG
    return [
        iam.PolicyStatement(
            sid="TagTheStreamForLogDelivery",
            actions=["firehose:TagDeliveryStream"],
            resources=[stream_arn],
            conditions={
                "StringEquals": {f"aws:RequestTag/{key}": value},
                "ForAllValues:StringEquals": {"aws:TagKeys": [key]},
            },
        ),
        iam.PolicyStatement(
            sid="CreateTheLogDeliveryServiceLinkedRole",
            actions=["iam:CreateServiceLinkedRole"],
            resources=[
                stack.format_arn(
                    service="iam",
                    region="",
                    resource="role",
                    resource_name=f"aws-service-role/{LOG_DELIVERY_SERVICE}/{SERVICE_LINKED_ROLE}",
                )
            ],
            conditions={"StringEquals": {"iam:AWSServiceName": LOG_DELIVERY_SERVICE}},
        ),
    ]
