#!/usr/bin/env python3
"""CDK app: one stack per account and region that keeps every VPC's flow logs enabled."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

app = cdk.App()
VpcFlowLogsStack(app, "VpcFlowLogsGuard")
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
