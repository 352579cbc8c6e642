"""The per-account, per-region stack: one ``VpcFlowLogsGuard`` and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk

from stacks.constructs.account_guard import VpcFlowLogsGuard, VpcFlowLogsGuardProps

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from constructs import Construct

    from stacks.settings.account import Settings

GUARD_ID = "Default"
"""CDK leaves ``Default`` out of logical ids, so the guard's resources keep the logical ids they
had when the stack built them itself (changing them would replace deployed resources)."""


class VpcFlowLogsStack(cdk.Stack):
    """Keeps every VPC of the account and region logging its traffic (see ``VpcFlowLogsGuard``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        rule_code: lambda_.Code | None = None,
        runbook_content: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.guard = VpcFlowLogsGuard(
            self,
            GUARD_ID,
            VpcFlowLogsGuardProps(
                settings=settings, rule_code=rule_code, runbook_content=runbook_content
            ),
        )
        self.rule = self.guard.rule
        self.runbook = self.guard.runbook
        self.remediation = self.guard.remediation
