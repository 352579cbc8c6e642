"""The remediation runbook: the Automation document and the role it runs as."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.build.runbook_document import build_document
from stacks.constructs.firehose_source import pass_source_role
from stacks.settings.account import (
    CLOUD_WATCH_LOGS,
    DELIVERY_ROLE_NAME,
    KINESIS_DATA_FIREHOSE,
    LOG_GROUP_PREFIX,
    S3,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

DOCUMENT_PATH: Final = (
    Path(__file__).resolve().parents[2] / "ssm_documents" / "enable_vpc_flow_logs.yaml"
)
BOUNDARY_PATH: Final = "/vpc-flow-logs-guard/"
"""IAM path of the delivery role's permissions boundary (``enable_vpc_flow_logs.boundary``).

IAM is global but this stack is regional, and a StackSet deploys it once per account and
region, while the delivery role is one per account. So every regional stack creates its own
boundary, with a name CloudFormation generates (no collision between regions, none with a
policy an earlier, deleted stack left behind) under this path, all with the same document.
The runbook creates the role with its own stack's boundary; any region's runbook may then
write the role's inline policy as long as the role's boundary is a policy under this path.
Only principals allowed ``iam:CreatePolicy`` (administrators) can put a policy there."""
MANAGED_BY_KEY: Final = "ManagedBy"
MANAGED_BY_VALUE: Final = "vpc-flow-logs-guard"
FLOW_LOGS_SERVICE: Final = "vpc-flow-logs.amazonaws.com"
S3_DELIVERY_ACTIONS: Final = ("logs:CreateLogDelivery", "logs:DeleteLogDelivery")
"""What the caller of CreateFlowLogs / DeleteFlowLogs needs for an S3 destination (VPC user
guide, "Create a flow log that publishes to Amazon S3"); neither has resource-level permissions.
s3:GetBucketPolicy / s3:PutBucketPolicy would only let VPC Flow Logs write a bucket policy on a
bucket of this account: the central bucket is in the log-archive account, whose stack owns its
policy, so they are not granted."""
FIREHOSE_DELIVERY_ACTIONS: Final = ("logs:CreateLogDelivery", "logs:DeleteLogDelivery")
"""What the caller of CreateFlowLogs / DeleteFlowLogs needs for a Firehose destination (VPC user
guide, "Create a flow log that publishes to Amazon Data Firehose"). That page also lists
iam:CreateServiceLinkedRole and firehose:TagDeliveryStream, for a stream of the caller's own
account: across accounts the destination account role does both, in the stream's account."""


BOUNDARY_ACTIONS: Final = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")
"""What VPC Flow Logs does with the delivery role on a log group (VPC user guide, "IAM role for
publishing flow logs to CloudWatch Logs"), besides logs:DescribeLogGroups. The guide's list
also has logs:CreateLogGroup: the runbook creates the groups, so the role never needs it."""


@dataclass(frozen=True)
class RemediationRunbookProps:
    """The document and what the automation role must be able to do."""

    kms_key_arn: str = ""
    """When set, the role may associate this key with the log groups it creates."""
    destination: str = CLOUD_WATCH_LOGS
    """Where remediation delivers: ``cloud-watch-logs`` (delivery role and log groups), ``s3`` (a
    bucket, perhaps in another account) or ``kinesis-data-firehose`` (another account's stream):
    the role may do what that path needs only."""
    firehose_source_role_arn: str = ""
    """With ``kinesis-data-firehose``: the source account role the runbook passes to the log
    delivery service (``FirehoseSource``)."""
    content: dict[str, Any] | None = None
    """The document; default: ``ssm_documents/enable_vpc_flow_logs.yaml`` with its scripts."""


class RemediationRunbook(Construct):
    """An SSM Automation document and the automation role Config passes to it.

    The role may do exactly what the document's scripts do for the configured destination,
    on exactly the resources it touches: for CloudWatch Logs the delivery role by name and log
    groups under ``/aws/vpc-flow-logs/``; for S3 the log delivery CreateFlowLogs sets up (no
    role, no log group, no bucket policy); in both, flow logs of this account and region
    (deleting only those the runbook created and tagged).
    """

    def __init__(self, scope: Construct, construct_id: str, props: RemediationRunbookProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.content = props.content if props.content is not None else build_document(DOCUMENT_PATH)

        # YAML: SSM supports an inline aws:executeScript Script in YAML documents only.
        # CloudFormation serializes an object Content in the DocumentFormat it is given
        # (aws-cloudformation-resource-providers-ssm#137), and cfn-lint validates the object
        # against SSM's document schema (a YAML string it fails to parse from a JSON template).
        self.document = ssm.CfnDocument(
            self,
            "Document",
            document_type="Automation",
            document_format="YAML",
            content=self.content,
        )

        self.boundary = (
            delivery_role_boundary(self, "DeliveryRoleBoundary")
            if props.destination == CLOUD_WATCH_LOGS
            else None
        )
        boundary_arn = self.boundary.managed_policy_arn if self.boundary is not None else ""

        self.role = iam.Role(
            self,
            "AutomationRole",
            description="Runs the VPC flow logs runbook for AWS Config remediation: delivery "
            "role, log group and flow log of one VPC.",
            assumed_by=iam.ServicePrincipal(
                "ssm.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="ssm",
                            resource="automation-execution",
                            resource_name="*",
                        )
                    },
                },
            ),
            inline_policies={
                "EnableVpcFlowLogs": iam.PolicyDocument(
                    statements=automation_statements(
                        stack,
                        props.kms_key_arn,
                        props.destination,
                        boundary_arn=boundary_arn,
                        firehose_source_role_arn=props.firehose_source_role_arn,
                    )
                )
            },
        )


def delivery_role_boundary(scope: Construct, construct_id: str) -> iam.ManagedPolicy:
    """The delivery role's permissions boundary: flow-log delivery to our log groups, at most.

    Retained when the stack is deleted or the policy replaced: it is the boundary of a role
    the stack does not own (and may be another region's role's boundary), and IAM refuses to
    delete a policy still attached to a role (DeletePolicy: DeleteConflict). Deleting it
    would fail the stack deletion; a retained one costs nothing and grants nothing by itself
    (a boundary only limits). README, "Remove", says how to delete it by hand.
    """
    stack = cdk.Stack.of(scope)
    # The region is a wildcard: the role is global and shared by every region's flow logs.
    log_groups = stack.format_arn(
        service="logs",
        region="*",
        resource="log-group",
        resource_name=f"{LOG_GROUP_PREFIX}*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    policy = iam.ManagedPolicy(
        scope,
        construct_id,
        path=BOUNDARY_PATH,
        description="Permissions boundary of VpcFlowLogsDeliveryRole: at most, VPC Flow Logs "
        f"writes log streams of log groups under {LOG_GROUP_PREFIX}.",
        statements=[
            iam.PolicyStatement(
                sid="WriteFlowLogStreams", actions=list(BOUNDARY_ACTIONS), resources=[log_groups]
            ),
            iam.PolicyStatement(
                sid="FindLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]
            ),
        ],
    )
    policy.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return policy


def boundary_arn_pattern(stack: cdk.Stack) -> str:
    """Every policy under ``BOUNDARY_PATH`` of this account: any region's stack's boundary."""
    return stack.format_arn(
        service="iam",
        region="",
        resource="policy",
        resource_name=f"{BOUNDARY_PATH.strip('/')}/*",
    )


def automation_statements(
    stack: cdk.Stack,
    kms_key_arn: str,
    destination: str = CLOUD_WATCH_LOGS,
    *,
    boundary_arn: str = "",
    firehose_source_role_arn: str = "",
) -> list[iam.PolicyStatement]:
    """The automation role's permissions: what the runbook's scripts call, and no more.

    Every IAM write is bounded, so that whatever a document run as this role writes, the
    delivery role can never do more than its boundary allows: CreateRole only of the delivery
    role and only with this stack's boundary ``boundary_arn``; PutRolePolicy only on the
    delivery role and only while its boundary is one of ours (any region's); TagRole only our
    tag. No UpdateAssumeRolePolicy, Put/DeleteRolePermissionsBoundary, AttachRolePolicy,
    CreatePolicyVersion or DeleteRole, and nothing on any other role. (``iam:PermissionsBoundary``
    is a condition key of both CreateRole and PutRolePolicy: Service Authorization Reference.)
    """
    if destination == S3:
        if kms_key_arn:
            raise ValueError("a KMS key encrypts log groups; the S3 destination creates none")
        return vended_delivery_statements(stack, "DeliverFlowLogsToS3", S3_DELIVERY_ACTIONS)
    if destination == KINESIS_DATA_FIREHOSE:
        return firehose_delivery_statements(stack, kms_key_arn, firehose_source_role_arn)
    if destination != CLOUD_WATCH_LOGS:
        raise ValueError(
            f"unknown destination {destination!r}: {CLOUD_WATCH_LOGS}, {S3} or "
            f"{KINESIS_DATA_FIREHOSE}"
        )
    if not boundary_arn:
        raise ValueError("the cloud-watch-logs destination needs the delivery role's boundary")
    delivery_role_arn = stack.format_arn(
        service="iam", region="", resource="role", resource_name=DELIVERY_ROLE_NAME
    )
    log_groups = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{LOG_GROUP_PREFIX}*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    statements = [
        iam.PolicyStatement(
            sid="ReadDeliveryRole",
            actions=["iam:GetRole", "iam:GetRolePolicy"],
            resources=[delivery_role_arn],
        ),
        iam.PolicyStatement(
            sid="CreateDeliveryRoleWithBoundary",
            actions=["iam:CreateRole"],
            resources=[delivery_role_arn],
            conditions={"ArnEquals": {"iam:PermissionsBoundary": boundary_arn}},
        ),
        iam.PolicyStatement(
            # For CreateRole's Tags (IAM user guide, "Tagging IAM roles"): our tag only.
            sid="TagDeliveryRoleAsOurs",
            actions=["iam:TagRole"],
            resources=[delivery_role_arn],
            conditions={
                "StringEquals": {f"aws:RequestTag/{MANAGED_BY_KEY}": MANAGED_BY_VALUE},
                "ForAllValues:StringEquals": {"aws:TagKeys": [MANAGED_BY_KEY]},
            },
        ),
        iam.PolicyStatement(
            sid="WriteDeliveryPolicyWithinBoundary",
            actions=["iam:PutRolePolicy"],
            resources=[delivery_role_arn],
            conditions={"ArnLike": {"iam:PermissionsBoundary": boundary_arn_pattern(stack)}},
        ),
        iam.PolicyStatement(
            # No iam:PassedToService condition: AWS documents no value for flow logs to
            # CloudWatch Logs (VPC user guide, "IAM role for publishing flow logs to
            # CloudWatch Logs", names none; its cross-account Firehose page uses
            # delivery.logs.amazonaws.com), and a wrong value refuses every CreateFlowLogs.
            # The role trusts only VPC Flow Logs.
            sid="PassDeliveryRole",
            actions=["iam:PassRole"],
            resources=[delivery_role_arn],
        ),
        iam.PolicyStatement(
            sid="ManageFlowLogGroups",
            actions=[
                "logs:CreateLogGroup",
                "logs:ListTagsForResource",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                *(["logs:AssociateKmsKey"] if kms_key_arn else []),
            ],
            resources=[log_groups],
        ),
        iam.PolicyStatement(
            sid="DescribeWithoutResourceLevelPermissions",
            actions=["ec2:DescribeFlowLogs", "ec2:DescribeVpcs", "logs:DescribeLogGroups"],
            resources=["*"],
        ),
        *flow_log_statements(stack),
    ]
    if kms_key_arn:
        statements.extend(kms_statements(stack, kms_key_arn, log_groups))
    return statements


def vended_delivery_statements(
    stack: cdk.Stack, sid: str, delivery_actions: Sequence[str]
) -> list[iam.PolicyStatement]:
    """CreateFlowLogs to a destination with no delivery role and no log group of ours: read the
    VPC and its flow logs, create and delete ours, and set up the log delivery (its actions take
    no resource ARN)."""
    return [
        iam.PolicyStatement(
            sid="DescribeWithoutResourceLevelPermissions",
            actions=["ec2:DescribeFlowLogs", "ec2:DescribeVpcs"],
            resources=["*"],
        ),
        *flow_log_statements(stack),
        iam.PolicyStatement(sid=sid, actions=list(delivery_actions), resources=["*"]),
    ]


def firehose_delivery_statements(
    stack: cdk.Stack, kms_key_arn: str, source_role_arn: str
) -> list[iam.PolicyStatement]:
    """CreateFlowLogs to another account's stream: pass the stack's source account role, only
    to the log delivery service for this account's VPCs, and set up the log delivery. No IAM
    write, no role of the stream's account (it is not passed: EC2 is given its ARN)."""
    if kms_key_arn:
        raise ValueError("a KMS key encrypts log groups; the Firehose destination creates none")
    if not source_role_arn:
        raise ValueError("the kinesis-data-firehose destination needs the source role")
    return [
        *vended_delivery_statements(stack, "DeliverFlowLogsToFirehose", FIREHOSE_DELIVERY_ACTIONS),
        pass_source_role(stack, source_role_arn, "PassFirehoseSourceRoleToLogDelivery"),
    ]


def flow_log_statements(stack: cdk.Stack) -> list[iam.PolicyStatement]:
    """Create, tag on create, and delete our own flow logs: the same for every destination."""
    vpcs = stack.format_arn(service="ec2", resource="vpc", resource_name="*")
    flow_logs = stack.format_arn(service="ec2", resource="vpc-flow-log", resource_name="*")
    return [
        iam.PolicyStatement(
            sid="CreateFlowLogs",
            actions=["ec2:CreateFlowLogs"],
            resources=[vpcs, flow_logs],
        ),
        iam.PolicyStatement(
            sid="TagFlowLogsOnCreate",
            actions=["ec2:CreateTags"],
            resources=[flow_logs],
            conditions={"StringEquals": {"ec2:CreateAction": "CreateFlowLogs"}},
        ),
        iam.PolicyStatement(
            sid="DeleteOwnFlowLogs",
            actions=["ec2:DeleteFlowLogs"],
            resources=[flow_logs],
            conditions={"StringEquals": {f"aws:ResourceTag/{MANAGED_BY_KEY}": MANAGED_BY_VALUE}},
        ),
    ]


def kms_statements(stack: cdk.Stack, key_arn: str, log_groups: str) -> list[iam.PolicyStatement]:
    """Use of the key, only through CloudWatch Logs and only for our log groups.

    CloudWatch Logs encrypts with the key as ``logs.<region>.amazonaws.com``, which the key
    policy must allow. Where the key policy relies on ``kms:ViaService`` instead, CloudWatch
    Logs calls KMS with the caller's permissions: these statements cover that case, and grant
    nothing outside CloudWatch Logs.
    """
    via_logs = {"kms:ViaService": f"logs.{stack.region}.amazonaws.com"}
    return [
        iam.PolicyStatement(
            sid="DescribeKeyViaLogs",
            actions=["kms:DescribeKey"],
            resources=[key_arn],
            conditions={"StringEquals": via_logs},
        ),
        iam.PolicyStatement(
            sid="UseKeyViaLogsForFlowLogGroups",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key_arn],
            conditions={
                "StringEquals": via_logs,
                "StringLike": {"kms:EncryptionContext:aws:logs:arn": log_groups},
            },
        ),
    ]
