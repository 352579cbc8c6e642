"""The organization view, for the security account: one aggregator, one compliance alert.

- An AWS Config organization aggregator (all regions) with the role AWS Config assumes to read
  the organization's account list, which ``vpc-flow-logs-guard report --aggregator`` reads.
- An EventBridge rule on ``Config Rules Compliance Change`` events of the rule, to an SNS topic
  encrypted with a KMS key of this stack, optionally with an e-mail subscription.

AWS Config sends compliance-change events to the default bus of the account where the rule
runs (EventBridge reference, "AWS Config events"), so this rule sees this account's changes and
whatever the organization's accounts forward to this bus.
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

from stacks.constructs.config_rule import RULE_NAME
from stacks.nag_acknowledgements import acknowledge_organization_view

if TYPE_CHECKING:
    from aws_cdk.interfaces.aws_events import IRuleRef
    from constructs import Construct

    from stacks.settings.organization_view import OrganizationViewSettings

CONFIG_SERVICE: Final = "config.amazonaws.com"
EVENTS_SERVICE: Final = "events.amazonaws.com"
EVENT_RULE_NAME: Final = "vpc-flow-logs-guard-compliance-change"
"""Fixed, so the key and topic policies can name the rule's ARN without a dependency cycle."""
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

        rule_arn = self.format_arn(service="events", resource="rule", resource_name=EVENT_RULE_NAME)
        from_the_rule = {
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnEquals": {"aws:SourceArn": rule_arn},
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
                conditions=from_the_rule,
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
                conditions=from_the_rule,
            )
        )
        if settings.compliance_notification_email:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(settings.compliance_notification_email)
            )
        self.rule = events.Rule(
            self,
            "ComplianceChange",
            rule_name=EVENT_RULE_NAME,
            description=f"Compliance changes of the AWS Config rule {RULE_NAME}",
            event_pattern=events.EventPattern(
                source=["aws.config"],
                detail_type=["Config Rules Compliance Change"],
                detail={"configRuleName": [RULE_NAME]},
            ),
        )
        self.rule.add_target(_TopicTarget(self.topic))
        cdk.CfnOutput(self, "AggregatorName", value=settings.aggregator_name)
        cdk.CfnOutput(self, "ComplianceTopicArn", value=self.topic.topic_arn)
