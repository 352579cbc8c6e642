"""The organization view, for the security account: one aggregator, one compliance alert.

- An AWS Config organization aggregator (all regions) with the role AWS Config assumes to read
  the organization's account list, which ``vpc-flow-logs-guard report --aggregator`` reads.
- A dedicated event bus, ``vpc-flow-logs-guard-compliance``, to which the member accounts'
  stacks forward this rule's compliance changes from every Region
  (``stacks/constructs/compliance_forwarding.py``). Its policy lets only the organization's
  accounts put events, only events sent by their forwarding rule, only AWS Config's
  compliance changes.
- The same EventBridge rule on that bus and on this account's default bus (where AWS Config
  sends this account's own changes in this Region: EventBridge reference, "AWS Config events"),
  to an SNS topic encrypted with a KMS key of this stack, optionally with an e-mail subscription.

Why a bus of its own rather than opening the default bus to the organization: the default bus
carries every event AWS services send this account, and every rule anyone writes on it would
also match what every other account put there; its policy is one per bus, shared with whatever
else grants access to it. A dedicated bus has one rule, one policy written for it, and goes
with the stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from stacks.constructs.compliance_forwarding import (
    COMPLIANCE_CHANGE,
    CONFIG_EVENT_SOURCE,
    EVENTS_SERVICE,
    FORWARDING_RULE_NAME,
    compliance_change_pattern,
)
from stacks.constructs.config_recorder import CONFIG_SERVICE
from stacks.constructs.config_rule import RULE_NAME
from stacks.nag_acknowledgements import acknowledge_organization_view

if TYPE_CHECKING:
    from aws_cdk.interfaces.aws_events import IRuleRef
    from constructs import Construct

    from stacks.settings.organization_view import OrganizationViewSettings

EVENT_RULE_NAME: Final = "vpc-flow-logs-guard-compliance-change"
"""Fixed, so the key and topic policies can name the rules' ARNs without a dependency cycle (the
same name on the default bus and on the compliance bus)."""
COMPLIANCE_BUS_NAME: Final = "vpc-flow-logs-guard-compliance"
"""Fixed: the member accounts' setting ``complianceEventBusArn`` names it."""
BUS_STATEMENT_ID: Final = "OrganizationForwardsComplianceChanges"
# What AWSConfigRoleForOrganizations grants: the aggregator lists the organization's accounts.
ORGANIZATIONS_READ: Final = (
    "organizations:ListAccounts",
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListDelegatedAdministrators",
)


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    """The topic as a rule target, without the unconditioned topic policy of targets.SnsTopic."""

    def __init__(self, topic: sns.ITopic) -> None:
        self._topic = topic

    def bind(self, _rule: IRuleRef, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn)


class OrganizationViewStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: OrganizationViewSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        this_account = {"StringEquals": {"aws:SourceAccount": self.account}}

        self.aggregator_role = iam.Role(
            self,
            "AggregatorRole",
            description="Lets AWS Config list the organization's accounts for the aggregator",
            # Confused deputy: only AWS Config acting for this account (AWS Config developer
            # guide, "Cross-service confused deputy prevention").
            assumed_by=iam.ServicePrincipal(CONFIG_SERVICE, conditions=this_account),
            inline_policies={
                "OrganizationsRead": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=list(ORGANIZATIONS_READ), resources=["*"])
                    ]
                )
            },
        )
        self.aggregator = config.CfnConfigurationAggregator(
            self,
            "Aggregator",
            configuration_aggregator_name=settings.aggregator_name,
            organization_aggregation_source=config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=self.aggregator_role.role_arn, all_aws_regions=True
            ),
        )
        acknowledge_organization_view(self.aggregator_role)

        self.bus = events.EventBus(
            self,
            "ComplianceBus",
            event_bus_name=COMPLIANCE_BUS_NAME,
            description="Compliance changes of vpc-flow-logs-enabled, forwarded by the "
            "organization's accounts",
        )
        # "If you use AWS Organizations, you can specify an organization and grant access to all
        # accounts in that organization" (EventBridge User Guide, "Sending and receiving Amazon
        # EventBridge events between AWS accounts"). aws:SourceArn is the rule sending the event
        # ("Example policy: Send events only from a specific rule to the bus in a different
        # Region"); events:source and events:detail-type are the event's (Service Authorization
        # Reference, PutEvents), multivalued: ForAllValues.
        self.bus_policy = events.CfnEventBusPolicy(
            self,
            "ComplianceBusPolicy",
            event_bus_name=self.bus.event_bus_name,
            statement_id=BUS_STATEMENT_ID,
            statement=iam.PolicyStatement(
                sid=BUS_STATEMENT_ID,
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={
                    "StringEquals": {"aws:PrincipalOrgID": settings.organization_id},
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="events",
                            region="*",
                            account="*",
                            resource="rule",
                            resource_name=FORWARDING_RULE_NAME,
                        )
                    },
                    "ForAllValues:StringEquals": {
                        "events:source": [CONFIG_EVENT_SOURCE],
                        "events:detail-type": [COMPLIANCE_CHANGE],
                    },
                },
            ).to_statement_json(),
        )

        rule_arns = [
            self.format_arn(service="events", resource="rule", resource_name=EVENT_RULE_NAME),
            self.format_arn(
                service="events",
                resource="rule",
                resource_name=f"{COMPLIANCE_BUS_NAME}/{EVENT_RULE_NAME}",
            ),
        ]
        from_the_rules = {
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnEquals": {"aws:SourceArn": rule_arns},
        }
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the VPC flow logs compliance-change topic",
            enable_key_rotation=True,
        )
        # EventBridge needs the topic's key to publish to an encrypted topic (SNS developer
        # guide, "Enable compatibility between event sources from AWS services and encrypted
        # topics").
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowComplianceRuleToPublish",
                principals=[iam.ServicePrincipal(EVENTS_SERVICE)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=from_the_rules,
            )
        )
        self.topic = sns.Topic(
            self,
            "ComplianceTopic",
            display_name="VPC flow logs compliance changes",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowComplianceRuleToPublish",
                principals=[iam.ServicePrincipal(EVENTS_SERVICE)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_the_rules,
            )
        )
        if settings.compliance_notification_email:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(settings.compliance_notification_email)
            )
        description = f"Compliance changes of the AWS Config rule {RULE_NAME}"
        self.rule = events.Rule(
            self,
            "ComplianceChange",
            rule_name=EVENT_RULE_NAME,
            description=f"{description} in this account and Region",
            event_pattern=compliance_change_pattern(RULE_NAME),
        )
        self.rule.add_target(_TopicTarget(self.topic))
        self.organization_rule = events.Rule(
            self,
            "OrganizationComplianceChange",
            rule_name=EVENT_RULE_NAME,
            event_bus=self.bus,
            description=f"{description}, forwarded by the organization's accounts",
            event_pattern=compliance_change_pattern(RULE_NAME),
        )
        self.organization_rule.add_target(_TopicTarget(self.topic))
        cdk.CfnOutput(self, "AggregatorName", value=settings.aggregator_name)
        cdk.CfnOutput(self, "ComplianceTopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(
            self,
            "ComplianceEventBusArn",
            value=self.bus.event_bus_arn,
            description="The member accounts' setting complianceEventBusArn",
        )
