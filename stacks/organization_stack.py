"""The organization stack: a service-managed StackSet of the per-account product.

Deployed in the organization's management account or a CloudFormation StackSets delegated
administrator account. CloudFormation deploys the StackSet's template (a ``StackSetStack``
holding the same ``VpcFlowLogsGuard`` as the per-account stack, built from the same per-account
settings) to every account of the target OUs in every target region, and to accounts that join
those OUs later (automatic deployment).

The rule's Lambda code is a file asset: a StackSet instance can only read it from a bucket in its
own region, so ``cdk-stacksets`` copies it (a ``BucketDeployment`` in this stack) to one bucket per
target region named ``<assetBucketPrefix>-<region>``. Those buckets are not created here (a stack
lives in one region); they must exist, in this account, before deployment, and let the
organization read them (README, "Whole organization"). The copy runs in this stack's region and
fails into or out of an opt-in region, which is why ``OrganizationSettings`` lets an opt-in region
be a target only alone (and this stack must then be deployed in it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_stacksets import (
    Capability,
    DeploymentType,
    OperationPreferences,
    RegionConcurrencyType,
    StackSet,
    StackSetStack,
    StackSetTarget,
    StackSetTemplate,
)

from stacks.constructs.account_guard import VpcFlowLogsGuard, VpcFlowLogsGuardProps
from stacks.nag_acknowledgements import acknowledge_asset_copy
from stacks.vpc_flow_logs_stack import GUARD_ID

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from constructs import Construct

    from stacks.settings.account import Settings
    from stacks.settings.organization import OrganizationSettings

STACK_SET_NAME: Final = "vpc-flow-logs-guard"


class MemberAccountStack(StackSetStack):
    """The StackSet's template: exactly the per-account product (``VpcFlowLogsGuard``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        asset_buckets: list[s3.IBucket],
        asset_bucket_prefix: str,
        rule_code: lambda_.Code | None = None,
        runbook_content: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            asset_buckets=asset_buckets,
            asset_bucket_prefix=asset_bucket_prefix,
        )
        self.guard = VpcFlowLogsGuard(
            self,
            GUARD_ID,
            VpcFlowLogsGuardProps(
                settings=settings, rule_code=rule_code, runbook_content=runbook_content
            ),
        )


class OrganizationStack(cdk.Stack):
    """The StackSet, its member-account template and the copy of the Lambda code per region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        organization: OrganizationSettings,
        rule_code: lambda_.Code | None = None,
        runbook_content: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.asset_buckets: list[s3.IBucket] = [
            s3.Bucket.from_bucket_name(self, f"AssetBucket-{region}", name)
            for region, name in organization.asset_bucket_names().items()
        ]
        self.member_stack = MemberAccountStack(
            self,
            "MemberAccount",
            settings=settings,
            asset_buckets=self.asset_buckets,
            asset_bucket_prefix=organization.asset_bucket_prefix,
            rule_code=rule_code,
            runbook_content=runbook_content,
        )
        self.stack_set = StackSet(
            self,
            "StackSet",
            stack_set_name=STACK_SET_NAME,
            description="VPC Flow Logs Guard in every account and region of the target OUs",
            template=StackSetTemplate.from_stack_set_stack(self.member_stack),
            deployment_type=DeploymentType.service_managed(
                auto_deploy_enabled=True,
                auto_deploy_retain_stacks=organization.auto_deploy_retain_stacks,
                # CallAs: DELEGATED_ADMIN or SELF (the library's default is DELEGATED_ADMIN)
                delegated_admin=organization.delegated_admin,
            ),
            target=StackSetTarget.from_organizational_units(
                organizational_units=list(organization.organizational_unit_ids),
                regions=list(organization.regions),
            ),
            operation_preferences=OperationPreferences(
                max_concurrent_percentage=organization.max_concurrent_percentage,
                failure_tolerance_percentage=organization.failure_tolerance_percentage,
                region_concurrency_type=RegionConcurrencyType(organization.region_concurrency),
            ),
            # The template creates IAM roles (unnamed), so CAPABILITY_IAM suffices.
            capabilities=[Capability.IAM],
            managed_execution=True,
        )
        # cdk-stacksets' OperationPreferences has no ConcurrencyMode (0.0.157, and its main branch
        # in 2026-07); CloudFormation has it. STRICT (AWS's default) caps the real concurrency at
        # the failure tolerance + 1 (API reference, StackSetOperationPreferences).
        stack_set_resource = self.stack_set.node.default_child
        if not isinstance(stack_set_resource, cdk.CfnResource):
            raise TypeError("cdk-stacksets StackSet has no CloudFormation resource")
        stack_set_resource.add_property_override(
            "OperationPreferences.ConcurrencyMode", organization.concurrency_mode
        )

        cdk.CfnOutput(
            self,
            "StackSetName",
            value=STACK_SET_NAME,
            description="CloudFormation StackSet that deploys the guard to the target OUs",
        )
        acknowledge_asset_copy(self, organization.asset_bucket_names().values())
