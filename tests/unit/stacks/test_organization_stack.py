"""The organization stack: a service-managed StackSet of exactly the per-account product."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_iam as iam
from cfnlint.api import lint

from stacks.settings.organization import OrganizationSettings
from tests.unit.stacks.synthesis import (
    TWO_OUS_TWO_REGIONS,
    OrganizationSynthesized,
    synth_organization,
)


@pytest.fixture(scope="module")
def default() -> OrganizationSynthesized:
    return synth_organization()


def test_stack_set_is_service_managed_and_auto_deploys(default: OrganizationSynthesized) -> None:
    properties = default.stack_set()["Properties"]

    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["CallAs"] == "SELF"
    assert properties["Capabilities"] == ["CAPABILITY_IAM"]
    assert properties["ManagedExecution"] == {"Active": True}
    assert properties["StackSetName"] == "vpc-flow-logs-guard"


def test_stack_set_targets_the_ous_in_the_regions(default: OrganizationSynthesized) -> None:
    assert default.stack_set()["Properties"]["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {
                "AccountFilterType": "NONE",
                "OrganizationalUnitIds": ["ou-ab12-cdef3456", "ou-ab12-ghij7890"],
            },
            "Regions": ["eu-west-1", "us-east-1"],
        }
    ]


def test_operation_preferences_come_from_the_settings(default: OrganizationSynthesized) -> None:
    # SOFT: the real concurrency is MaxConcurrentPercentage; STRICT would cap it at the failure
    # tolerance + 1 accounts (StackSetOperationPreferences, ConcurrencyMode).
    assert default.stack_set()["Properties"]["OperationPreferences"] == {
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "FailureTolerancePercentage": 10,
        "MaxConcurrentPercentage": 25,
        "RegionConcurrencyType": "PARALLEL",
    }


@pytest.mark.parametrize(
    ("call_as", "delegated_admin"), [("SELF", False), ("DELEGATED_ADMIN", True)]
)
def test_call_as_is_cdk_stacksets_own_setting(call_as: str, delegated_admin: bool) -> None:
    # The library's delegated-admin option writes CallAs, no property override: what the L1
    # resource holds is what the template says.
    synthesized = synth_organization({"callAs": call_as})
    resource = synthesized.stack.stack_set.node.default_child

    assert isinstance(resource, cfn.CfnStackSet)
    assert resource.call_as == call_as
    assert synthesized.stack_set()["Properties"]["CallAs"] == call_as
    assert (
        OrganizationSettings.from_mapping(
            {**TWO_OUS_TWO_REGIONS, "callAs": call_as}
        ).delegated_admin
        is delegated_admin
    )


def test_cfn_lint_checks_the_concurrency_mode(default: OrganizationSynthesized) -> None:
    # Negative control for test_templates_pass_cfn_lint: CloudFormation's schema knows the
    # property and its values, so a wrong one would not pass.
    template = json.loads(json.dumps(default.parent))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudFormation::StackSet":
            resource["Properties"]["OperationPreferences"]["ConcurrencyMode"] = "FAST"

    matches = [str(m) for m in lint(json.dumps(template), regions=["us-east-1"])]

    assert any("'FAST' is not one of ['STRICT_FAILURE_TOLERANCE'" in m for m in matches), matches


def test_settings_change_retention_concurrency_and_call_as() -> None:
    synthesized = synth_organization(
        {
            "autoDeployRetainStacks": "true",
            "maxConcurrentPercentage": "100",
            "failureTolerancePercentage": "0",
            "regionConcurrency": "sequential",
            "concurrencyMode": "strict_failure_tolerance",
            "callAs": "DELEGATED_ADMIN",
        }
    )

    properties = synthesized.stack_set()["Properties"]
    assert properties["AutoDeployment"]["RetainStacksOnAccountRemoval"] is True
    assert properties["OperationPreferences"] == {
        "ConcurrencyMode": "STRICT_FAILURE_TOLERANCE",
        "FailureTolerancePercentage": 0,
        "MaxConcurrentPercentage": 100,
        "RegionConcurrencyType": "SEQUENTIAL",
    }
    assert properties["CallAs"] == "DELEGATED_ADMIN"


def without_asset_location(template: dict[str, Any]) -> dict[str, Any]:
    """The template with the Lambda code location and CDK's own bookkeeping left out."""
    resources = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::CDK::Metadata":
            continue
        copy = json.loads(json.dumps(resource))
        copy.pop("Metadata", None)
        if copy["Type"] == "AWS::Lambda::Function":
            copy["Properties"].pop("Code")
        resources[logical_id] = copy
    return {"Resources": resources, "Outputs": template.get("Outputs")}


def test_member_template_is_the_per_account_product(default: OrganizationSynthesized) -> None:
    # Same resources, logical ids, properties and outputs as the per-account stack, built from
    # the same settings: rule, document, remediation, roles.
    member = without_asset_location(default.member)

    assert member == without_asset_location(default.per_account)
    assert {r["Type"] for r in member["Resources"].values()} >= {
        "AWS::Config::ConfigRule",
        "AWS::SSM::Document",
        "AWS::Config::RemediationConfiguration",
        "AWS::Lambda::Function",
    }


def test_member_lambda_code_comes_from_the_asset_bucket_of_its_region(
    default: OrganizationSynthesized,
) -> None:
    (function,) = [
        r for r in default.member["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]

    code = function["Properties"]["Code"]
    assert code["S3Bucket"] == {"Fn::Join": ["-", ["vfl-guard-assets", {"Ref": "AWS::Region"}]]}
    assert code["S3Key"].endswith(".zip")


def test_lambda_code_is_copied_to_one_bucket_per_target_region(
    default: OrganizationSynthesized,
) -> None:
    copies = [
        r["Properties"]["DestinationBucketName"]
        for r in default.parent["Resources"].values()
        if r["Type"] == "Custom::CDKBucketDeployment"
    ]

    assert sorted(copies) == ["vfl-guard-assets-eu-west-1", "vfl-guard-assets-us-east-1"]


def test_member_template_has_no_named_iam_resource(default: OrganizationSynthesized) -> None:
    # CAPABILITY_IAM (not NAMED_IAM) is enough, and two regions of one account do not collide.
    for resource in default.member["Resources"].values():
        if resource["Type"].startswith("AWS::IAM::"):
            assert "RoleName" not in resource["Properties"]
            assert (
                "PolicyName" not in resource["Properties"] or resource["Type"] == "AWS::IAM::Policy"
            )


ACKNOWLEDGED_COPY = {
    "AwsSolutions-L1",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
    "<AWS::AccountId>-<AWS::Region>/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::vfl-guard-assets-eu-west-1/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::vfl-guard-assets-us-east-1/*]",
}


def test_cdk_nag_has_no_unacknowledged_finding() -> None:
    report = json.loads(
        (synth_organization(nag=True).assembly_dir / "validation-report.json").read_text()
    )

    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    prefix = "VpcFlowLogsGuardOrganization/Custom::CDKBucketDeployment"
    copy = {
        finding["ruleName"]
        for finding in nag["suppressedViolations"]
        for construct in finding["violatingConstructs"]
        if construct["constructPath"].startswith(prefix)
    }
    assert copy == ACKNOWLEDGED_COPY
    # the member template's findings are the per-account stack's, acknowledged the same way
    paths = {
        construct["constructPath"].split("/", 2)[-1]
        for finding in nag["suppressedViolations"]
        for construct in finding["violatingConstructs"]
        if construct["constructPath"].startswith("VpcFlowLogsGuardOrganization/MemberAccount/")
    }
    per_account = {
        construct["constructPath"].split("/", 1)[-1]
        for finding in nag["suppressedViolations"]
        for construct in finding["violatingConstructs"]
        if construct["constructPath"].startswith("VpcFlowLogsGuard/")
    }
    assert paths == per_account
    assert paths
    assert all(len(finding["reason"]) > 80 for finding in nag["suppressedViolations"])


def test_cdk_nag_fails_the_synth_on_a_new_finding() -> None:
    def add_wildcard(stack: cdk.Stack) -> None:
        role = iam.Role(stack, "Extra", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))

    with pytest.raises(RuntimeError, match=r"VpcFlowLogsGuardOrganization/Extra"):
        synth_organization(nag=True, change=add_wildcard)


def test_templates_pass_cfn_lint(default: OrganizationSynthesized) -> None:
    for template in (default.parent, default.member):
        matches = lint(json.dumps(template), regions=["us-east-1"])
        assert [str(match) for match in matches if not cdk_bucket_deployment_w3005(match)] == []


def cdk_bucket_deployment_w3005(match: Any) -> bool:
    """aws-cdk-lib's BucketDeployment handler both GetAtts and DependsOn its role (a warning)."""
    return match.rule.id == "W3005" and "CustomCDKBucketDeployment" in str(match)
