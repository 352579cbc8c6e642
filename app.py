#!/usr/bin/env python3
"""CDK app: the per-account stack, and the organization-wide stacks when they are configured.

Settings come from ``cdk.json``'s context (the defaults) and ``-c key=value`` (overrides), read
once here. The CLI passes both; run as ``python app.py`` (without the CLI), the defaults are
read from ``cdk.json`` directly, so both ways give the same template.

- ``VpcFlowLogsGuard``: one account and region (always built).
- ``VpcFlowLogsGuardLogArchive``: the central flow-logs bucket, built once ``organizationId`` is
  given (``-c organizationId=o-...``).
- ``VpcFlowLogsGuardOrganization``: the StackSet, built once ``organizationalUnitIds``,
  ``regions`` and ``assetBucketPrefix`` are given.
- ``VpcFlowLogsGuardOrganizationView``: the security account's Config aggregator, the event bus
  the members forward compliance changes to and the topic they reach, built once
  ``aggregatorName`` is given (with ``organizationId``).

The organization stacks need facts only an organization has (its id, OU ids, bucket names); with
made-up values they would deploy and do nothing useful, so they are left out until given.
"""

import json
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.log_archive_stack import LogArchiveStack
from stacks.organization_stack import OrganizationStack
from stacks.organization_view_stack import OrganizationViewStack
from stacks.settings import organization as organization_settings
from stacks.settings import organization_view as organization_view_settings
from stacks.settings.account import Settings
from stacks.settings.organization import OrganizationSettings
from stacks.settings.organization_view import OrganizationViewSettings
from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"

# Context given here has the lowest precedence: cdk.json and -c, as the CLI passes them, win.
app = cdk.App(context=json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])
context = app.node.get_all_context()
settings = Settings.from_context(
    app.node.try_get_context,
    {
        key: value
        for key, value in context.items()
        if key not in organization_settings.KEYS | organization_view_settings.KEYS
    },
)
organization = OrganizationSettings.from_context(app.node.try_get_context)
view = OrganizationViewSettings.from_context(app.node.try_get_context)
VpcFlowLogsStack(
    app,
    "VpcFlowLogsGuard",
    settings=settings,
    description="VPC Flow Logs Guard: AWS Config rule vpc-flow-logs-enabled with automatic "
    "remediation by an SSM Automation runbook",
)
if organization.wants_log_archive:
    LogArchiveStack(
        app,
        "VpcFlowLogsGuardLogArchive",
        settings=organization,
        description="VPC Flow Logs Guard: central S3 bucket for the organization's VPC flow logs",
    )
if organization.wants_organization:
    OrganizationStack(
        app,
        "VpcFlowLogsGuardOrganization",
        settings=settings,
        organization=organization,
        description="VPC Flow Logs Guard: service-managed StackSet to the organization's OUs",
    )
if view.wanted:
    OrganizationViewStack(
        app,
        "VpcFlowLogsGuardOrganizationView",
        settings=view,
        description="VPC Flow Logs Guard: organization-wide AWS Config aggregator and "
        "compliance-change notifications",
    )
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
