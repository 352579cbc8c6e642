"""The organization view stack: aggregator and its role, the alert's rule, topic and key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import aws_iam as iam
from cfnlint.api import lint

from stacks.constructs.config_rule import RULE_NAME
from stacks.organization_view_stack import (
    EVENT_RULE_NAME,
    ORGANIZATIONS_READ,
    OrganizationViewStack,
)
from stacks.settings.account import SettingsError
from stacks.settings.organization_view import OrganizationViewSettings
from tests.unit.stacks.synthesis import synth_stack
from tests.unit.test_app import run_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

AGGREGATOR = "org-vpc-flow-logs"
RULE_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":events:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            f":rule/{EVENT_RULE_NAME}",
        ],
    ]
}
FROM_THE_RULE = {
    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    "ArnEquals": {"aws:SourceArn": RULE_ARN},
}


def synth(
    email: str = "",
    *,
    nag: bool = False,
    change: Callable[[OrganizationViewStack], object] | None = None,
) -> tuple[Any, Path]:
    settings = OrganizationViewSettings.from_mapping(
        {"aggregatorName": AGGREGATOR, "complianceNotificationEmail": email}
    )
    return synth_stack(
        lambda app: OrganizationViewStack(
            app, "VpcFlowLogsGuardOrganizationView", settings=settings
        ),
        nag=nag,
        change=change,
    )


@pytest.fixture(scope="module")
def template() -> Any:
    return synth("security@example.com")[0]


def only(template: Any, resource_type: str) -> dict[str, Any]:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    return dict(resource["Properties"])


def test_the_aggregator_reads_every_region_of_the_organization(template: Any) -> None:
    aggregator = only(template, "AWS::Config::ConfigurationAggregator")
    role = only(template, "AWS::IAM::Role")

    assert aggregator["ConfigurationAggregatorName"] == AGGREGATOR
    source = aggregator["OrganizationAggregationSource"]
    assert source["AllAwsRegions"] is True
    assert source["RoleArn"]["Fn::GetAtt"][1] == "Arn"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    (policy,) = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": list(ORGANIZATIONS_READ), "Effect": "Allow", "Resource": "*"}
    ]
    assert "ManagedPolicyArns" not in role


def test_the_rule_sends_this_rules_compliance_changes_to_the_topic(template: Any) -> None:
    rule = only(template, "AWS::Events::Rule")

    assert rule["Name"] == EVENT_RULE_NAME
    assert rule["EventPattern"] == {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {"configRuleName": [RULE_NAME]},
    }
    (target,) = rule["Targets"]
    topic_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    assert "RoleArn" not in target  # SNS targets are authorized by the topic policy


def test_only_the_rule_may_publish_and_use_the_key(template: Any) -> None:
    topic = only(template, "AWS::SNS::Topic")
    key = only(template, "AWS::KMS::Key")
    topic_policy = only(template, "AWS::SNS::TopicPolicy")

    key_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["EnableKeyRotation"] is True
    events_on_key = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert events_on_key == [
        {
            "Sid": "AllowComplianceRuleToPublish",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": "*",
            "Condition": FROM_THE_RULE,
        }
    ]
    statements = topic_policy["PolicyDocument"]["Statement"]
    publish = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Action"], s["Principal"], s["Condition"]) for s in publish] == [
        ("sns:Publish", {"Service": "events.amazonaws.com"}, FROM_THE_RULE)
    ]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_email_subscription_is_optional(template: Any) -> None:
    without, _ = synth()

    assert only(template, "AWS::SNS::Subscription")["Endpoint"] == "security@example.com"
    assert not [r for r in without["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]


def test_cdk_nag_accepts_the_stack_with_one_reasoned_acknowledgement() -> None:
    _, assembly_dir = synth("security@example.com", nag=True)

    report = json.loads((assembly_dir / "validation-report.json").read_text())
    (nag,) = report["pluginReports"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    assert [
        (v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
        for v in nag["suppressedViolations"]
    ] == [
        (
            "AwsSolutions-IAM5[Resource::*]",
            ["VpcFlowLogsGuardOrganizationView/AggregatorRole/Resource"],
        )
    ]


def test_cdk_nag_fails_the_synth_on_a_new_finding() -> None:
    def wildcard(stack: OrganizationViewStack) -> None:
        iam.Role(stack, "Extra", assumed_by=iam.AccountRootPrincipal()).add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])
        )

    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5"):
        synth(nag=True, change=wildcard)


@pytest.mark.parametrize("email", ["", "security@example.com"])
def test_template_passes_cfn_lint(email: str) -> None:
    template, _ = synth(email)

    assert [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])] == []


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"aggregatorName": "org aggregator"}, "aggregatorName"),
        ({"aggregatorName": "a", "complianceNotificationEmail": "nobody"}, "e-mail"),
        ({"complianceNotificationEmail": "sec@example.com"}, "give aggregatorName too"),
    ],
)
def test_bad_settings_say_what_is_wrong(context: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        OrganizationViewSettings.from_mapping(context)


def test_the_app_builds_the_view_only_when_its_aggregator_is_named(tmp_path: Path) -> None:
    without = run_app(tmp_path / "without", {})
    with_view = run_app(tmp_path / "with", {"aggregatorName": AGGREGATOR})

    assert without.returncode == 0, without.stderr
    assert with_view.returncode == 0, with_view.stderr
    view = "VpcFlowLogsGuardOrganizationView.template.json"
    assert not (tmp_path / "without" / view).exists()
    template = json.loads((tmp_path / "with" / view).read_text())
    assert only(template, "AWS::Config::ConfigurationAggregator")[
        "ConfigurationAggregatorName"
    ] == (AGGREGATOR)
