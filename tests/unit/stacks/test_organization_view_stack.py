"""The organization view stack: aggregator and its role, the compliance bus and its policy, the
alert's two rules, topic and key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import aws_iam as iam
from cfnlint.api import lint

from stacks.constructs.compliance_forwarding import FORWARDING_RULE_NAME
from stacks.constructs.config_rule import RULE_NAME
from stacks.organization_view_stack import (
    BUS_STATEMENT_ID,
    COMPLIANCE_BUS_NAME,
    EVENT_RULE_NAME,
    ORGANIZATIONS_READ,
    OrganizationViewStack,
)
from stacks.settings.account import SettingsError
from stacks.settings.organization_view import OrganizationViewSettings
from tests.unit.stacks.synthesis import AGGREGATOR, ORG, VIEW, run_app
from tests.unit.stacks.synthesis import synth_view as synth

if TYPE_CHECKING:
    from pathlib import Path


def rule_arn(name: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":events:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":rule/{name}",
            ],
        ]
    }


FROM_THE_RULES = {
    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    "ArnEquals": {
        "aws:SourceArn": [
            rule_arn(EVENT_RULE_NAME),
            rule_arn(f"{COMPLIANCE_BUS_NAME}/{EVENT_RULE_NAME}"),
        ]
    },
}


@pytest.fixture(scope="module")
def template() -> Any:
    return synth("security@example.com")[0]


def only(template: Any, resource_type: str) -> dict[str, Any]:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    return dict(resource["Properties"])


def logical_id(template: Any, resource_type: str) -> str:
    (found,) = [k for k, r in template["Resources"].items() if r["Type"] == resource_type]
    return str(found)


def rules(template: Any) -> dict[str, dict[str, Any]]:
    """The event rules by the bus they are on (``default`` when none is named)."""
    found = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"
    ]
    by_bus = {
        "default" if "EventBusName" not in rule else "compliance": dict(rule) for rule in found
    }
    assert len(by_bus) == len(found)
    return by_bus


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


def test_the_same_rule_on_both_buses_sends_this_rules_compliance_changes_to_the_topic(
    template: Any,
) -> None:
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic")}
    bus = {"Ref": logical_id(template, "AWS::Events::EventBus")}

    on = rules(template)

    assert set(on) == {"default", "compliance"}
    assert on["compliance"]["EventBusName"] == bus
    for rule in on.values():
        assert rule["Name"] == EVENT_RULE_NAME
        assert rule["EventPattern"] == {
            "source": ["aws.config"],
            "detail-type": ["Config Rules Compliance Change"],
            "detail": {"configRuleName": [RULE_NAME]},
        }
        (target,) = rule["Targets"]
        assert target["Arn"] == topic
        assert "RoleArn" not in target  # SNS targets are authorized by the topic policy


def test_the_bus_admits_only_the_organizations_forwarding_rules_with_configs_events(
    template: Any,
) -> None:
    bus_id = logical_id(template, "AWS::Events::EventBus")
    policy = only(template, "AWS::Events::EventBusPolicy")

    assert only(template, "AWS::Events::EventBus")["Name"] == COMPLIANCE_BUS_NAME
    assert policy["EventBusName"] == {"Ref": bus_id}
    assert policy["StatementId"] == BUS_STATEMENT_ID
    assert policy["Statement"] == {
        "Sid": BUS_STATEMENT_ID,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": ORG},
            "ArnLike": {
                "aws:SourceArn": {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            f":events:*:*:rule/{FORWARDING_RULE_NAME}",
                        ],
                    ]
                }
            },
            "ForAllValues:StringEquals": {
                "events:source": ["aws.config"],
                "events:detail-type": ["Config Rules Compliance Change"],
            },
        },
    }
    assert template["Outputs"]["ComplianceEventBusArn"]["Value"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_only_the_two_rules_may_publish_and_use_the_key(template: Any) -> None:
    topic = only(template, "AWS::SNS::Topic")
    key = only(template, "AWS::KMS::Key")
    topic_policy = only(template, "AWS::SNS::TopicPolicy")

    key_id = logical_id(template, "AWS::KMS::Key")
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
            "Condition": FROM_THE_RULES,
        }
    ]
    statements = topic_policy["PolicyDocument"]["Statement"]
    publish = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Action"], s["Principal"], s["Condition"]) for s in publish] == [
        ("sns:Publish", {"Service": "events.amazonaws.com"}, FROM_THE_RULES)
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
        ({**VIEW, "aggregatorName": "org aggregator"}, "aggregatorName"),
        ({**VIEW, "complianceNotificationEmail": "nobody"}, "e-mail"),
        ({"complianceNotificationEmail": "sec@example.com"}, "give aggregatorName too"),
        ({"aggregatorName": AGGREGATOR}, "give organizationId too"),
        ({**VIEW, "organizationId": "a1b2c3d4e5"}, "setting 'organizationId' = 'a1b2c3d4e5'"),
    ],
)
def test_bad_settings_say_what_is_wrong(context: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        OrganizationViewSettings.from_mapping(context)


def test_the_organization_id_alone_does_not_build_the_view() -> None:
    settings = OrganizationViewSettings.from_mapping({"organizationId": ORG})

    assert not settings.wanted


def test_the_app_builds_the_view_only_when_its_aggregator_is_named(tmp_path: Path) -> None:
    without = run_app(tmp_path / "without", {})
    with_view = run_app(tmp_path / "with", VIEW)
    without_organization = run_app(tmp_path / "no-organization", {"aggregatorName": AGGREGATOR})

    assert without.returncode == 0, without.stderr
    assert with_view.returncode == 0, with_view.stderr
    assert without_organization.returncode != 0
    assert "give organizationId too" in without_organization.stderr
    view = "VpcFlowLogsGuardOrganizationView.template.json"
    assert not (tmp_path / "without" / view).exists()
    template = json.loads((tmp_path / "with" / view).read_text())
    assert only(template, "AWS::Config::ConfigurationAggregator")[
        "ConfigurationAggregatorName"
    ] == (AGGREGATOR)
    assert only(template, "AWS::Events::EventBusPolicy")["Statement"]["Condition"][
        "StringEquals"
    ] == {"aws:PrincipalOrgID": ORG}
