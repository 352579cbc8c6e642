"""Deploying the mini stack creates what CloudFormation would, with policies widened to '*'."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local_aws.app_model import read_guard_stack, read_log_archive_stack
from local_aws.assembly import CloudAssembly, StackTemplate
from local_aws.deploy import deploy, deploy_log_archive, widen_resources
from local_aws.moto_patches import patch_moto
from local_aws.server import EmbeddedAws
from tests.unit.local_aws.mini_archive import (
    ARCHIVE_ACCOUNT,
    ARCHIVE_STACK,
    POLICY_NAME,
    archive_template,
    destination_arn,
    with_account_policy,
)
from tests.unit.local_aws.mini_assembly import RULE_NAME, mini_template

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_widening_keeps_actions_effects_and_conditions() -> None:
    policy: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:PutRetentionPolicy"],
                "Resource": "arn:aws:logs:us-east-1:1:log-group:/aws/vpc-flow-logs/*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"],
                "Condition": {
                    "StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}
                },
            },
        ],
    }

    widened = widen_resources(policy)

    assert [statement["Resource"] for statement in widened["Statement"]] == ["*", "*"]
    assert widened["Statement"][1]["Condition"] == policy["Statement"][1]["Condition"]
    assert widened["Statement"][0]["Action"] == ["logs:PutRetentionPolicy"]
    assert policy["Statement"][0]["Resource"] != "*"  # the template's copy is untouched


def test_deploys_roles_function_rule_and_document(mini_assembly: Path) -> None:
    with EmbeddedAws() as aws:
        artifact = CloudAssembly.load(mini_assembly).stack()
        template = StackTemplate(artifact, account_id=aws.account_id, region=aws.region)
        stack = read_guard_stack(template)

        deployment = deploy(stack, aws.admin)

        iam = aws.admin.iam()
        function_role = stack.role_by_arn(stack.function.role_arn)
        assert iam.get_role(RoleName=function_role.name)["Role"]["Arn"] == function_role.arn
        policies = set(iam.list_role_policies(RoleName=function_role.name)["PolicyNames"])
        assert policies == {"Evaluate", "FnRoleExtraPolicy9C0D1E2F"}
        extra = iam.get_role_policy(
            RoleName=function_role.name, PolicyName="FnRoleExtraPolicy9C0D1E2F"
        )["PolicyDocument"]
        document = extra if isinstance(extra, dict) else json.loads(extra)
        assert document["Statement"][0]["Resource"] == "*"

        assert deployment.rule_name == RULE_NAME
        rule = aws.admin.config().describe_config_rules(ConfigRuleNames=[RULE_NAME])["ConfigRules"]
        assert rule[0]["Source"]["SourceIdentifier"] == stack.function.arn
        assert json.loads(rule[0]["InputParameters"]) == {"Marker": "yes"}

        function = aws.admin.client("lambda").get_function(FunctionName=stack.function.name)
        assert function["Configuration"]["Handler"] == "index.handler"

        names = [doc["Name"] for doc in aws.admin.ssm().list_documents()["DocumentIdentifiers"]]
        assert set(deployment.document_names) <= set(names)

        groups = aws.admin.logs().describe_log_groups()["logGroups"]
        assert {group["logGroupName"]: group.get("retentionInDays") for group in groups} == {
            stack.function.log_group_name: 30
        }


def test_deploys_the_archive_in_its_account_and_the_members_policy_to_it(
    assembly_writer: Callable[..., Path],
) -> None:
    assembly = assembly_writer(
        with_account_policy(mini_template(), destination_arn()),
        other_stacks={ARCHIVE_STACK: archive_template()},
    )
    loaded = CloudAssembly.load(assembly)
    with EmbeddedAws(fixes=patch_moto()) as aws:
        archive = read_log_archive_stack(
            StackTemplate(
                loaded.stack(ARCHIVE_STACK), account_id=ARCHIVE_ACCOUNT, region=aws.region
            )
        )
        member = read_guard_stack(
            StackTemplate(loaded.stack("MiniGuard"), account_id=aws.account_id, region=aws.region)
        )
        archive_admin = aws.admin_in(ARCHIVE_ACCOUNT)

        # When the archive is deployed in its account, then the member in its own
        deploy_log_archive(archive, archive_admin)
        deploy(member, aws.admin)

        # Then the stream, the destination (with its policy) and the roles are in the archive's
        (stream,) = archive.streams.values()
        described = archive_admin.client("firehose").describe_delivery_stream(
            DeliveryStreamName=stream.name
        )["DeliveryStreamDescription"]
        assert described["DeliveryStreamARN"] == stream.arn
        (destination,) = archive_admin.logs().describe_destinations()["destinations"]
        assert destination["arn"] == destination_arn()
        assert destination["targetArn"] == stream.arn
        assert json.loads(destination["accessPolicy"]) == json.loads(
            archive.destination(destination_arn()).access_policy or ""
        )
        role_names = {role.name for role in archive.roles.values()}
        found = {role["RoleName"] for role in archive_admin.iam().list_roles()["Roles"]}
        assert role_names <= found
        assert not role_names & {r["RoleName"] for r in aws.admin.iam().list_roles()["Roles"]}
        (bucket,) = archive.buckets.values()
        assert archive_admin.s3().get_bucket_versioning(Bucket=bucket.name)["Status"] == "Enabled"
        # and the member's account policy forwards to the archive's destination
        (policy,) = aws.admin.logs().describe_account_policies(
            policyType="SUBSCRIPTION_FILTER_POLICY"
        )["accountPolicies"]
        assert policy["policyName"] == POLICY_NAME
        assert json.loads(policy["policyDocument"])["DestinationArn"] == destination_arn()
