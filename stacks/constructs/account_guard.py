"""Everything one account and region needs: rule, runbook, automatic remediation, optional recorder.

A construct rather than a stack, so the per-account stack (``VpcFlowLogsStack``) and the
organization's StackSet template (``stacks/organization_stack.py``) build exactly the same product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from constructs import Construct

from stacks.constructs.auto_remediation import AutoRemediation, AutoRemediationProps
from stacks.constructs.compliance_forwarding import (
    ComplianceForwarding,
    ComplianceForwardingProps,
)
from stacks.constructs.config_recorder import VpcConfigRecorder
from stacks.constructs.config_rule import VpcFlowLogsRule, VpcFlowLogsRuleProps
from stacks.constructs.firehose_source import FirehoseSource, FirehoseSourceProps
from stacks.constructs.log_forwarding import LogForwarding, LogForwardingProps
from stacks.constructs.remediation_runbook import RemediationRunbook, RemediationRunbookProps
from stacks.nag_acknowledgements import acknowledge_findings
from stacks.settings.account import SettingsError, destination_arn_in, in_region

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_cdk import aws_lambda as lambda_

    from stacks.settings.account import Settings


@dataclass(frozen=True)
class VpcFlowLogsGuardProps:
    """What the guard is built from.

    ``rule_code`` and ``runbook_content`` replace the bundled Lambda asset and the document
    built from ``ssm_documents/`` (tests use them); ``None`` builds the real ones.
    """

    settings: Settings
    rule_code: lambda_.Code | None = None
    runbook_content: dict[str, Any] | None = None


class VpcFlowLogsGuard(Construct):
    """Keeps every VPC of the account and region logging its traffic.

    The rule and the remediation read the same settings, so the runbook creates what the
    rule accepts: the traffic type the rule requires, a destination the rule allows, a
    retention at or above the rule's minimum.

    Give it the id ``"Default"`` to keep the logical ids its resources had when they were
    built directly in the stack (CDK leaves ``Default`` out of logical ids).
    """

    def __init__(self, scope: Construct, construct_id: str, props: VpcFlowLogsGuardProps) -> None:
        super().__init__(scope, construct_id)
        settings = props.settings

        self.recorder = (
            VpcConfigRecorder(self, "ConfigRecorder") if settings.create_config_recorder else None
        )

        self.rule = VpcFlowLogsRule(
            self,
            "Rule",
            VpcFlowLogsRuleProps(
                input_parameters=_in_stack_region(settings.rule_input_parameters(), self),
                maximum_execution_frequency=_frequency(settings.evaluation_frequency),
                log_retention_days=settings.rule_log_retention_days,
                code=props.rule_code,
                reads_forwarding=bool(settings.central_log_destination_arn),
            ),
        )
        if self.recorder is not None:
            # AWS Config refuses a rule while no recorder exists.
            self.rule.rule.node.add_dependency(
                self.recorder.recorder, self.recorder.delivery_channel
            )

        self.firehose_source = (
            FirehoseSource(
                self,
                "FirehoseSource",
                FirehoseSourceProps(
                    destination_role_arn=destination_arn_in(
                        settings.central_firehose_role_arn, cdk.Stack.of(self).region
                    )
                ),
            )
            if settings.to_firehose
            else None
        )
        source_role_arn = (
            self.firehose_source.role.role_arn if self.firehose_source is not None else ""
        )

        self.runbook = RemediationRunbook(
            self,
            "Runbook",
            RemediationRunbookProps(
                kms_key_arn=settings.kms_key_arn,
                content=props.runbook_content,
                destination=settings.destination,
                firehose_source_role_arn=source_role_arn,
            ),
        )
        _runbook_delivers_to(settings.destination, self.runbook.content)

        self.remediation = AutoRemediation(
            self,
            "Remediation",
            AutoRemediationProps(
                rule=self.rule.rule,
                document_name=self.runbook.document.ref,
                automation_role_arn=self.runbook.role.role_arn,
                static_parameters=_in_stack_region(
                    settings.runbook_parameters(
                        boundary_arn=(
                            self.runbook.boundary.managed_policy_arn
                            if self.runbook.boundary is not None
                            else ""
                        ),
                        firehose_source_role_arn=source_role_arn,
                    ),
                    self,
                ),
                document_parameters=self.runbook.content.get("parameters", {}),
                automatic=settings.automatic_remediation,
                maximum_automatic_attempts=settings.maximum_automatic_attempts,
                retry_attempt_seconds=settings.retry_attempt_seconds,
                concurrent_execution_rate_percentage=settings.concurrent_execution_rate_percentage,
                error_percentage=settings.error_percentage,
            ),
        )

        self.forwarding = (
            LogForwarding(
                self,
                "CentralArchiveForwarding",
                LogForwardingProps(
                    destination_arn=settings.central_log_destination_arn,
                    excluded_log_group_names=[self.rule.log_group.log_group_name],
                    log_format=settings.log_format,
                ),
            )
            if settings.central_log_destination_arn
            else None
        )

        self.compliance_forwarding = (
            ComplianceForwarding(
                self,
                "ComplianceForwarding",
                ComplianceForwardingProps(
                    event_bus_arn=settings.compliance_event_bus_arn,
                    config_rule_name=self.rule.rule.config_rule_name,
                ),
            )
            if settings.compliance_event_bus_arn
            else None
        )

        cdk.CfnOutput(
            self,
            "RuleName",
            value=self.rule.rule.config_rule_name,
            description="AWS Config rule that judges every VPC",
        )
        cdk.CfnOutput(
            self,
            "DocumentName",
            value=self.runbook.document.ref,
            description="SSM Automation document that remediates one VPC",
        )
        cdk.CfnOutput(
            self,
            "AutomationRoleArn",
            value=self.runbook.role.role_arn,
            description="Role the remediation runs as",
        )
        if self.runbook.boundary is not None:
            cdk.CfnOutput(
                self,
                "DeliveryRoleBoundaryArn",
                value=self.runbook.boundary.managed_policy_arn,
                description="Permissions boundary the runbook gives VpcFlowLogsDeliveryRole",
            )
        if self.firehose_source is not None:
            cdk.CfnOutput(
                self,
                "FirehoseSourceRoleArn",
                value=self.firehose_source.role.role_arn,
                description="Source account role of the flow logs to the central Firehose stream "
                "(the runbook's DeliverLogsPermissionArn)",
            )

        acknowledge_findings(self.rule, self.runbook, self.recorder, self.firehose_source)


def _in_stack_region(parameters: dict[str, str], scope: Construct) -> dict[str, str]:
    """The parameters with ``{region}`` of the central ARNs made the stack's Region."""
    return in_region(parameters, cdk.Stack.of(scope).region)


def _runbook_delivers_to(destination: str, document: Mapping[str, Any]) -> None:
    """Refuse a destination the runbook document does not offer: remediation would fail on every
    VPC (a value outside ``allowedValues``) while the stack deployed without complaint."""
    spec = document.get("parameters", {}).get("DestinationType", {})
    offered = [str(value) for value in spec.get("allowedValues", [])]
    if destination not in offered:
        raise SettingsError(
            f"setting 'destination' = {destination!r}: the runbook document "
            f"(ssm_documents/enable_vpc_flow_logs.yaml) does not deliver there; its "
            f"DestinationType allows {', '.join(offered) or 'nothing'}"
        )


def _frequency(name: str) -> config.MaximumExecutionFrequency:
    by_value = {
        "One_Hour": config.MaximumExecutionFrequency.ONE_HOUR,
        "Three_Hours": config.MaximumExecutionFrequency.THREE_HOURS,
        "Six_Hours": config.MaximumExecutionFrequency.SIX_HOURS,
        "Twelve_Hours": config.MaximumExecutionFrequency.TWELVE_HOURS,
        "TwentyFour_Hours": config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
    }
    return by_value[name]
