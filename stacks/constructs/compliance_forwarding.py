"""The member side of the organization view: this rule's compliance changes, sent to its bus.

AWS Config sends ``Config Rules Compliance Change`` events to the default event bus of the
account and Region where the rule runs, and nowhere else (AWS Config Developer Guide,
"Monitoring AWS Config with Amazon EventBridge"). An EventBridge rule on that bus, matching
exactly this Config rule's events, sends each one on to the organization view's event bus
(``complianceEventBusArn``), in another account, another Region, or both:

- another account: the view's bus policy admits the organization's accounts, and "If the sender
  account inherits permissions to send events from an AWS Organizations, the sender account also
  must have an IAM role with policies that enable it to send events to the receiver account"
  (EventBridge User Guide, "Sending and receiving Amazon EventBridge events between AWS
  accounts"). The target therefore carries a role of its own, trusted by EventBridge for this
  rule only (``aws:SourceAccount``, ``aws:SourceArn``), allowed ``events:PutEvents`` on that bus
  only;
- another Region: the same target. A rule whose target is an event bus ARN of another Region
  delivers there, with the target's role (EventBridge User Guide, "Sending and receiving Amazon
  EventBridge events between AWS Regions"; GovCloud and China Regions cannot receive). So every
  Region of every member account forwards to the one bus the view has;
- the bus's own account and Region: nothing is built (a CloudFormation condition). Config's
  events there already reach the view's rule on that default bus; forwarding them as well would
  notify twice.

The forwarded event keeps its ``account`` and ``region`` (the member's), so the view tells
where a VPC changed. The sending account pays for each forwarded event as a custom event; the
receiving account is not charged (the cross-account page above).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk.interfaces.aws_events import IRuleRef

CONFIG_EVENT_SOURCE: Final = "aws.config"
COMPLIANCE_CHANGE: Final = "Config Rules Compliance Change"
"""The ``detail-type`` of AWS Config's event when a resource's compliance with a rule changes."""
FORWARDING_RULE_NAME: Final = "vpc-flow-logs-guard-compliance-forwarding"
"""Fixed: the role's trust policy names the rule's ARN (a generated name would be a cycle), and
the view's bus policy admits events sent by rules of this name only."""
EVENTS_SERVICE: Final = "events.amazonaws.com"


def compliance_change_pattern(config_rule_name: str) -> events.EventPattern:
    """AWS Config's compliance-change events of one Config rule, and nothing else."""
    return events.EventPattern(
        source=[CONFIG_EVENT_SOURCE],
        detail_type=[COMPLIANCE_CHANGE],
        detail={"configRuleName": [config_rule_name]},
    )


@dataclass(frozen=True)
class ComplianceForwardingProps:
    event_bus_arn: str
    """``complianceEventBusArn``: the organization view's event bus (any account and Region)."""
    config_rule_name: str
    """The Config rule whose compliance changes are sent (a token is fine)."""


@jsii.implements(events.IRuleTarget)
class _EventBusTarget:
    """An event bus by ARN, sent to with ``role``; without CDK's own policy on the role."""

    def __init__(self, event_bus_arn: str, role: iam.IRole) -> None:
        self._arn = event_bus_arn
        self._role = role

    def bind(self, _rule: IRuleRef, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._arn, role=self._role)


class ComplianceForwarding(Construct):
    """A rule on the default bus sending this Config rule's compliance changes to the view's bus."""

    def __init__(
        self, scope: Construct, construct_id: str, props: ComplianceForwardingProps
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.event_bus_arn = props.event_bus_arn
        _, _, _, bus_region, bus_account, _ = props.event_bus_arn.split(":", 5)
        # Known only at deployment: a StackSet deploys this template to every account and Region.
        self.elsewhere = cdk.CfnCondition(
            self,
            "BusElsewhere",
            expression=cdk.Fn.condition_not(
                cdk.Fn.condition_and(
                    cdk.Fn.condition_equals(cdk.Aws.ACCOUNT_ID, bus_account),
                    cdk.Fn.condition_equals(cdk.Aws.REGION, bus_region),
                )
            ),
        )
        self.rule_arn = stack.format_arn(
            service="events", resource="rule", resource_name=FORWARDING_RULE_NAME
        )
        self.role = iam.Role(
            self,
            "Role",
            description="Lets EventBridge send this account's vpc-flow-logs-enabled compliance "
            "changes to the organization view's event bus",
            # Confused deputy: only EventBridge running this rule of this account.
            assumed_by=iam.ServicePrincipal(
                EVENTS_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": self.rule_arn},
                },
            ),
            inline_policies={
                "PutEventsOnTheComplianceBus": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["events:PutEvents"], resources=[props.event_bus_arn]
                        )
                    ]
                )
            },
        )
        self.rule = events.Rule(
            self,
            "Rule",
            rule_name=FORWARDING_RULE_NAME,
            description="Sends this account's and Region's compliance changes of the AWS Config "
            "rule vpc-flow-logs-enabled to the organization view's event bus",
            event_pattern=compliance_change_pattern(props.config_rule_name),
        )
        self.rule.add_target(_EventBusTarget(props.event_bus_arn, self.role))
        for resource in (self.role, self.rule):
            child = resource.node.default_child
            if not isinstance(child, cdk.CfnResource):
                raise TypeError(f"{resource.node.path} has no CloudFormation resource")
            child.cfn_options.condition = self.elsewhere
