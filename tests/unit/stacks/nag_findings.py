"""cdk-nag on the per-account stack: its validation report, and the findings
``stacks/nag_acknowledgements.py`` acknowledges there (each test says which it expects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.settings.account import Settings
from stacks.vpc_flow_logs_stack import VpcFlowLogsStack
from tests.unit.stacks.synthesis import cdk_json_context

if TYPE_CHECKING:
    from collections.abc import Callable


def nag_report(
    overrides: dict[str, Any],
    change: Callable[[cdk.Stack], None] | None = None,
    *,
    runbook_content: dict[str, Any] | None = None,
) -> Any:
    """Synthesize with cdk-nag as app.py registers it; return the validation report."""
    context = {**cdk_json_context(), **overrides, "aws:cdk:bundling-stacks": []}
    app = cdk.App(context=context)
    settings = Settings.from_context(app.node.try_get_context, app.node.get_all_context())
    stack = VpcFlowLogsStack(
        app, "VpcFlowLogsGuard", settings=settings, runbook_content=runbook_content
    )
    if change is not None:
        change(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    return json.loads((Path(assembly.directory) / "validation-report.json").read_text())


ACKNOWLEDGED: Final = {
    "AwsSolutions-L1",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
    ":log-group:<RuleLogGroupC9F0201F>:log-stream:*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
    ":log-group:/aws/vpc-flow-logs/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>"
    ":vpc-flow-log/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>"
    ":log-group:/aws/vpc-flow-logs/*]",
}
"""The acknowledged findings of the default stack, by rule."""
ACKNOWLEDGED_RECORDER: Final = {
    "AwsSolutions-S1",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
    "AwsSolutions-IAM5[Resource::<ConfigRecorderDeliveryBucket70BAD22D.Arn>/AWSLogs/"
    "<AWS::AccountId>/Config/*]",
}
"""What the configuration recorder (``createConfigRecorder``) adds."""
