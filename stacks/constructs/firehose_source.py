"""The member side of direct Firehose delivery: the source account role.

VPC Flow Logs delivers to a Firehose stream of another account (the log-archive account) through
two roles (VPC User Guide, "IAM roles for cross account delivery"): the log delivery service
assumes this account's *source account role* (the flow log's ``DeliverLogsPermissionArn``), and
with it the stream account's *destination account role* (``DeliverCrossAccountRole``, a name
starting with ``AWSLogDeliveryFirehoseCrossAccountRole``), which tags the stream and creates the
log delivery service-linked role there.

The stack creates the source role, not the runbook: remediation writes no IAM at run time. IAM is
global and a StackSet deploys this stack once per Region, so its name is generated; its path,
``/vpc-flow-logs-guard/``, is what the destination role's trust policy admits (with the
organization), since the stream's account cannot list every member's role.

The guide gives the source role three statements: passing itself to the log delivery service for
the monitored resources, the log delivery actions, and assuming the destination role. The first
two read like the permissions of whoever calls CreateFlowLogs (the automation role has them too),
but the guide puts them on this role and AWS does not say which principal the service uses them
as; they are granted as documented, narrowed to this account's and Region's VPCs, on a role only
the log delivery service acting for this account can assume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

LOG_DELIVERY_SERVICE: Final = "delivery.logs.amazonaws.com"
"""The principal the source role trusts and is passed to (VPC User Guide)."""
SOURCE_ROLE_PATH: Final = "/vpc-flow-logs-guard/"
"""IAM path of every member's source role: the destination role trusts roles under it."""
LOG_DELIVERY_ACTIONS: Final = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:GetLogDelivery",
)
"""The source role's log delivery statement (VPC User Guide); no resource-level permissions."""


@dataclass(frozen=True)
class FirehoseSourceProps:
    destination_role_arn: str
    """The stream account's ``AWSLogDeliveryFirehoseCrossAccountRole...`` role, for this
    stack's Region (``{region}`` already filled in)."""


class FirehoseSource(Construct):
    """The source account role the log delivery service assumes for this account's flow logs."""

    def __init__(self, scope: Construct, construct_id: str, props: FirehoseSourceProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            path=SOURCE_ROLE_PATH,
            description="VPC Flow Logs delivers this account's flow logs to the log-archive "
            "account's Firehose stream as this role (source account role)",
            # Confused deputy: the log delivery service acting for this account and Region only,
            # the keys it sends for flow logs (VPC User Guide, "Amazon S3 bucket permissions for
            # flow logs": aws:SourceAccount, aws:SourceArn arn:aws:logs:<region>:<account>:*).
            assumed_by=iam.ServicePrincipal(
                LOG_DELIVERY_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="logs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                        )
                    },
                },
            ),
        )
        # A policy of its own (AWS::IAM::Policy), not inline: a statement names the role's own
        # ARN, which the role's inline policies cannot reference.
        for statement in source_statements(stack, self.role.role_arn, props.destination_role_arn):
            self.role.add_to_principal_policy(statement)
        # Retained, with its policy: the flow logs remediation created deliver through it, and
        # deleting the stack must not stop them (as the CloudWatch Logs delivery role stays).
        policy = self.role.node.find_child("DefaultPolicy")
        if not isinstance(policy, iam.Policy):
            raise TypeError("iam.Role.add_to_principal_policy made no iam.Policy")
        self.policy = policy
        for resource in (self.role, self.policy):
            resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)


def vpcs_of(stack: cdk.Stack) -> str:
    """Every VPC of the stack's account and Region: what a flow log of ours monitors."""
    return stack.format_arn(service="ec2", resource="vpc", resource_name="*")


def pass_source_role(stack: cdk.Stack, role_arn: str, sid: str) -> iam.PolicyStatement:
    """``iam:PassRole`` of the source role, only to the log delivery service and only for a VPC
    of this account and Region (``iam:AssociatedResourceArn``, as the guide conditions it)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["iam:PassRole"],
        resources=[role_arn],
        conditions={
            "StringEquals": {"iam:PassedToService": LOG_DELIVERY_SERVICE},
            "ArnLike": {"iam:AssociatedResourceArn": vpcs_of(stack)},
        },
    )


def source_statements(
    stack: cdk.Stack, role_arn: str, destination_role_arn: str
) -> list[iam.PolicyStatement]:
    """The source account role's permissions, as the VPC User Guide lists them."""
    return [
        iam.PolicyStatement(
            sid="AssumeTheStreamAccountsRole",
            actions=["sts:AssumeRole"],
            resources=[destination_role_arn],
        ),
        pass_source_role(stack, role_arn, "PassItselfToLogDeliveryForOurVpcs"),
        iam.PolicyStatement(
            sid="LogDeliveryWithoutResourceLevelPermissions",
            actions=list(LOG_DELIVERY_ACTIONS),
            resources=["*"],
        ),
    ]
