#!/usr/bin/env python3
"""CDK app: one stack per account and region that keeps every VPC's flow logs enabled.

Settings come from ``cdk.json``'s context (the defaults) and ``-c key=value`` (overrides), read
once here. The CLI passes both; run as ``python app.py`` (without the CLI), the defaults are
read from ``cdk.json`` directly, so both ways give the same template.
"""

import json
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.settings import Settings
from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"

# Context given here has the lowest precedence: cdk.json and -c, as the CLI passes them, win.
app = cdk.App(context=json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])
settings = Settings.from_context(app.node.try_get_context, app.node.get_all_context())
VpcFlowLogsStack(
    app,
    "VpcFlowLogsGuard",
    settings=settings,
    description="VPC Flow Logs Guard: AWS Config rule vpc-flow-logs-enabled with automatic "
    "remediation by an SSM Automation runbook",
)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
