"""The member side of the organization view: the setting, the forwarding rule, its role, and
what the view's bus lets that role do.

Policies are evaluated by the IAM simulator (tests/support/iam_simulator.py): the member's role
with its own policy against the view's bus policy, with the request context EventBridge
documents for a rule forwarding an event (``aws:SourceArn``: the rule; ``events:source`` and
``events:detail-type``: the event's).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from cfnlint.api import lint

from stacks.constructs.compliance_forwarding import (
    COMPLIANCE_CHANGE,
    CONFIG_EVENT_SOURCE,
    FORWARDING_RULE_NAME,
)
from stacks.organization_view_stack import BUS_STATEMENT_ID, COMPLIANCE_BUS_NAME, EVENT_RULE_NAME
from stacks.settings.account import SettingsError
from tests.support import iam_simulator
from tests.support.iam_simulator import ALLOWED, IMPLICITLY_DENIED, Policies, Request
from tests.unit.stacks.as_deployed import condition_holds
from tests.unit.stacks.iam_policies import ACCOUNT, PARTITION, REGION, resolve, role_policies
from tests.unit.stacks.nag_findings import nag_report
from tests.unit.stacks.synthesis import (
    ORG,
    settings_with,
    synth_organization,
    synth_view,
    synthesize,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tests.unit.stacks.synthesis import Synthesized

BUS_ARN = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{COMPLIANCE_BUS_NAME}"
"""The view's bus as ``iam_policies.resolve`` writes the view stack's: the security account."""
FORWARDING = {"complianceEventBusArn": BUS_ARN}
MEMBER = "210987654321"
OUTSIDER = "777788889999"
OTHER_ORG = "o-z9y8x7w6v5"


@pytest.fixture(scope="module")
def forwarding() -> Synthesized:
    return synthesize(FORWARDING)


def forwarding_resources(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in synthesized.json["Resources"].items()
        if logical_id.startswith("ComplianceForwarding")
    }


def forwarding_rule(synthesized: Synthesized) -> dict[str, Any]:
    (rule,) = synthesized.resources("AWS::Events::Rule").values()
    return rule


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        BUS_ARN,
        f" {BUS_ARN} ",
        "arn:aws:events:eu-central-2:111122223333:event-bus/security.alerts_1",
        "arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/central",
        "arn:aws:events:us-east-1:111122223333:event-bus/default",
    ],
)
def test_an_event_bus_arn_is_accepted(value: str) -> None:
    assert settings_with(complianceEventBusArn=value).compliance_event_bus_arn == value.strip()


@pytest.mark.parametrize(
    "value",
    [
        COMPLIANCE_BUS_NAME,
        f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{COMPLIANCE_BUS_NAME}",
        f"arn:aws:sns:us-east-1:{ACCOUNT}:{COMPLIANCE_BUS_NAME}",
        f"arn:aws:events:{{region}}:{ACCOUNT}:event-bus/{COMPLIANCE_BUS_NAME}",
        f"arn:aws:events:us-east-1:1111:event-bus/{COMPLIANCE_BUS_NAME}",
        f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/aws.partner/example.com/bus",
        f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/{'b' * 257}",
        [BUS_ARN],
    ],
)
def test_anything_else_is_refused_naming_key_value_and_what_is_allowed(value: object) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(complianceEventBusArn=value)

    message = str(caught.value)
    assert "setting 'complianceEventBusArn'" in message
    assert repr(value) in message
    assert "an event bus ARN like arn:aws:events:" in message


def test_accepted_arns_and_fixed_names_are_what_the_eventbridge_api_accepts() -> None:
    # The API's own patterns (botocore's service model): a rule target may name the bus by ARN,
    # CreateEventBus takes the name, PutRule the rule names, PutPermission the statement id.
    model = botocore.session.get_session().get_service_model("events")

    def fits(shape_name: str, value: str) -> bool:
        shape = model.shape_for(shape_name).metadata
        length_ok = shape.get("min", 0) <= len(value) <= shape.get("max", len(value))
        return length_ok and re.fullmatch(shape["pattern"], value) is not None

    longest = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/{'b' * 256}"
    assert settings_with(complianceEventBusArn=longest).compliance_event_bus_arn == longest
    for arn in (BUS_ARN, longest):
        assert fits("EventBusNameOrArn", arn)
        assert fits("NonPartnerEventBusName", arn.rsplit("/", 1)[1])
    assert fits("NonPartnerEventBusName", COMPLIANCE_BUS_NAME)
    assert fits("RuleName", FORWARDING_RULE_NAME)
    assert fits("RuleName", EVENT_RULE_NAME)
    assert fits("StatementId", BUS_STATEMENT_ID)


# --- the template --------------------------------------------------------------------------------


def test_without_the_setting_nothing_is_forwarded() -> None:
    default = synthesize()

    assert forwarding_resources(default) == {}
    assert default.resources("AWS::Events::Rule") == {}
    assert "Conditions" not in default.json


def test_the_rule_matches_exactly_this_config_rules_compliance_changes(
    forwarding: Synthesized,
) -> None:
    config_rule_id, _ = forwarding.only("AWS::Config::ConfigRule")

    rule = forwarding_rule(forwarding)["Properties"]

    assert rule["Name"] == FORWARDING_RULE_NAME
    assert "EventBusName" not in rule  # the default bus, where AWS Config sends them
    assert rule["EventPattern"] == {
        "source": [CONFIG_EVENT_SOURCE],
        "detail-type": [COMPLIANCE_CHANGE],
        "detail": {"configRuleName": [{"Ref": config_rule_id}]},
    }


def test_the_target_is_the_views_bus_sent_to_with_the_rules_own_role(
    forwarding: Synthesized,
) -> None:
    role_id = next(k for k in forwarding.resources("AWS::IAM::Role") if "ComplianceForwarding" in k)

    (target,) = forwarding_rule(forwarding)["Properties"]["Targets"]

    assert target["Arn"] == BUS_ARN
    assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_the_role_is_eventbridges_for_this_rule_only_and_may_only_put_events_on_the_bus(
    forwarding: Synthesized,
) -> None:
    roles = forwarding.resources("AWS::IAM::Role")
    (role_id,) = [k for k in roles if "ComplianceForwarding" in k]
    resources = forwarding.json["Resources"]

    properties = roles[role_id]["Properties"]
    trust = resolve(properties["AssumeRolePolicyDocument"], resources)

    assert trust["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {
                    "aws:SourceArn": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/"
                    f"{FORWARDING_RULE_NAME}"
                },
            },
        }
    ]
    assert role_policies(forwarding.json)[role_id] == {
        "PutEventsOnTheComplianceBus": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "events:PutEvents", "Effect": "Allow", "Resource": BUS_ARN}],
        }
    }
    assert "ManagedPolicyArns" not in properties
    assert "RoleName" not in properties  # one per Region of a StackSet: CloudFormation names it


@pytest.mark.parametrize(
    ("account", "region", "built"),
    [
        (MEMBER, REGION, True),  # another account, the bus's Region
        (MEMBER, "eu-west-1", True),  # another account and Region
        (ACCOUNT, "eu-west-1", True),  # the view's account, another Region
        (ACCOUNT, REGION, False),  # where the view's own default-bus rule hears Config
    ],
)
def test_the_forwarding_is_built_everywhere_but_in_the_buss_own_account_and_region(
    forwarding: Synthesized, account: str, region: str, built: bool
) -> None:
    resources = forwarding_resources(forwarding)
    (condition,) = {resource["Condition"] for resource in resources.values()}

    assert {resource["Type"] for resource in resources.values()} == {
        "AWS::Events::Rule",
        "AWS::IAM::Role",
    }
    assert condition_holds(forwarding.json, condition, account, region) is built


def test_the_stack_set_deploys_the_forwarding_to_every_member() -> None:
    synthesized = synth_organization(account=FORWARDING)

    def forwarding_of(template: dict[str, Any]) -> dict[str, Any]:
        return {
            k: r for k, r in template["Resources"].items() if k.startswith("ComplianceForwarding")
        }

    assert forwarding_of(synthesized.member) == forwarding_of(synthesized.per_account)
    assert len(forwarding_of(synthesized.member)) == 2
    assert synthesized.member["Conditions"] == synthesized.per_account["Conditions"]


def test_cdk_nag_finds_nothing_in_the_forwarding() -> None:
    report = nag_report(FORWARDING)

    (nag,) = report["pluginReports"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    paths = [
        construct["constructPath"]
        for finding in nag["suppressedViolations"]
        for construct in finding["violatingConstructs"]
    ]
    assert paths
    assert not [path for path in paths if "ComplianceForwarding" in path]


def test_template_passes_cfn_lint(forwarding: Synthesized) -> None:
    matches = lint(json.dumps(forwarding.json), regions=["us-east-1", "eu-west-1"])

    assert [str(match) for match in matches] == []


# --- what the view's bus lets a member's role do ------------------------------------------------


def forwarded(
    account: str = MEMBER,
    *,
    org: str = ORG,
    rule: str | None = FORWARDING_RULE_NAME,
    source: str = CONFIG_EVENT_SOURCE,
    detail_type: str = COMPLIANCE_CHANGE,
    region: str = "eu-west-1",
) -> Mapping[str, str | list[str]]:
    """What EventBridge sends when a rule in ``account`` forwards one event (or a direct
    PutEvents call, ``rule=None``)."""
    context: dict[str, str | list[str]] = {
        "aws:PrincipalOrgID": org,
        "aws:PrincipalAccount": account,
        "events:source": [source],
        "events:detail-type": [detail_type],
    }
    if rule is not None:
        context |= {
            "aws:SourceArn": f"arn:aws:events:{region}:{account}:rule/{rule}",
            "aws:SourceAccount": account,
            "events:eventBusInvocation": "true",
        }
    return context


STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def bus_policy() -> dict[str, Any]:
    template, _ = synth_view()
    (policy,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::EventBusPolicy"
    ]
    statement = resolve(policy["Statement"], template["Resources"])
    assert statement["Resource"] == BUS_ARN  # the bus the member setting names
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_a_members_forwarding_role_may_put_events_and_nobody_else(
    forwarding: Synthesized, bus_policy: dict[str, Any]
) -> None:
    (role_id,) = [k for k in role_policies(forwarding.json) if "ComplianceForwarding" in k]
    member_role = f"arn:aws:iam::{MEMBER}:role/{role_id}"
    member_policies = role_policies(forwarding.json)[role_id]
    outsider = f"arn:aws:iam::{OUTSIDER}:role/Admin"
    insider = f"arn:aws:iam::{MEMBER}:role/Admin"
    cases: dict[str, tuple[str, Mapping[str, Any], Mapping[str, str | list[str]], str, str]] = {
        "a member's rule forwards a compliance change from another Region": (
            member_role, member_policies, forwarded(), BUS_ARN, ALLOWED,
        ),
        "the security account's own rule in another Region": (
            f"arn:aws:iam::{ACCOUNT}:role/{role_id}", member_policies,
            forwarded(ACCOUNT), BUS_ARN, ALLOWED,
        ),
        "an account of another organization, even with a rule of that name": (
            outsider, {"star": STAR}, forwarded(OUTSIDER, org=OTHER_ORG), BUS_ARN,
            IMPLICITLY_DENIED,
        ),
        "a member's administrator calling PutEvents directly": (
            insider, {"star": STAR}, forwarded(rule=None), BUS_ARN, IMPLICITLY_DENIED,
        ),
        "a member's rule of another name": (
            insider, {"star": STAR}, forwarded(rule="anything-to-security"), BUS_ARN,
            IMPLICITLY_DENIED,
        ),
        "a member's forwarding rule with another source's event": (
            member_role, member_policies, forwarded(source="aws.ec2"), BUS_ARN,
            IMPLICITLY_DENIED,
        ),
        "a member's forwarding rule with another detail type": (
            member_role, member_policies,
            forwarded(detail_type="Config Configuration Item Change"), BUS_ARN,
            IMPLICITLY_DENIED,
        ),
        "the forwarding role on the security account's default bus": (
            member_role, member_policies, forwarded(),
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", IMPLICITLY_DENIED,
        ),
    }  # fmt: skip

    decisions = iam_simulator.simulate(
        [
            (
                Request(principal, "events:PutEvents", resource, context, account_id=ACCOUNT),
                Policies(
                    identity=identity,
                    resource=bus_policy if resource == BUS_ARN else None,
                ),
            )
            for principal, identity, context, resource, _ in cases.values()
        ]
    )

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (*_, expected) in cases.items()
    }


def test_only_eventbridge_running_this_accounts_forwarding_rule_may_assume_the_role(
    forwarding: Synthesized,
) -> None:
    roles = forwarding.resources("AWS::IAM::Role")
    (role_id,) = [k for k in roles if "ComplianceForwarding" in k]
    trust = resolve(
        roles[role_id]["Properties"]["AssumeRolePolicyDocument"], forwarding.json["Resources"]
    )
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{FORWARDING_RULE_NAME}"
    cases = {
        "EventBridge for the forwarding rule": (ACCOUNT, rule, ALLOWED),
        "EventBridge for another rule of this account": (
            ACCOUNT, rule.replace(FORWARDING_RULE_NAME, "other"), IMPLICITLY_DENIED,
        ),
        "EventBridge for the same rule name in another Region": (
            ACCOUNT, rule.replace(REGION, "eu-west-1"), IMPLICITLY_DENIED,
        ),
        "EventBridge for another account's rule": (
            MEMBER, rule.replace(ACCOUNT, MEMBER), IMPLICITLY_DENIED,
        ),
    }  # fmt: skip

    decisions = iam_simulator.simulate(
        [
            (
                Request(
                    "events.amazonaws.com",
                    "sts:AssumeRole",
                    f"arn:aws:iam::{ACCOUNT}:role/{role_id}",
                    {
                        "aws:SourceAccount": account,
                        "aws:SourceArn": source_arn,
                        "aws:PrincipalServiceName": "events.amazonaws.com",
                    },
                ),
                Policies(resource=trust),
            )
            for account, source_arn, _ in cases.values()
        ]
    )

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (*_, expected) in cases.items()
    }
