"""Deploying the mini stack creates what CloudFormation would, with policies widened to '*'."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local_aws.app_model import read_guard_stack
from local_aws.assembly import CloudAssembly, StackTemplate
from local_aws.deploy import deploy, widen_resources
from local_aws.server import EmbeddedAws
from tests.unit.local_aws.mini_assembly import RULE_NAME

if TYPE_CHECKING:
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
