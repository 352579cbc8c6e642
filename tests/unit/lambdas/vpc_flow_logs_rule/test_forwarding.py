"""CentralLogDestinationArn: a flow-log group counts only if the account policy forwards it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest

from tests.unit.lambdas.vpc_flow_logs_rule import builders
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    ACCOUNT_ID,
    LOCAL_DESTINATION,
    CallCounter,
    FakeLambdaContext,
    FakeLookups,
    World,
    change_event,
    put_forwarding_policy,
    scheduled_event,
)
from vpc_flow_logs_rule import handler, rule
from vpc_flow_logs_rule.forwarding import (
    SubscriptionFilterPolicy,
    excluded_names,
    forwards,
    subscription_filter_policy,
)
from vpc_flow_logs_rule.model import ComplianceType, FlowLog, Vpc
from vpc_flow_logs_rule.parameters import ParameterError, RuleParameters, parse_parameters

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

DESTINATION = "arn:aws:logs:us-east-1:111122223333:destination:central-archive"
OTHER = "arn:aws:logs:us-east-1:111122223333:destination:someone-else"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
TO_ARCHIVE = SubscriptionFilterPolicy("to-archive", DESTINATION, frozenset({"/aws/lambda/rule"}))


def flow_log(vpc_id: str) -> FlowLog:
    """An active ALL flow log to its own log group in this account and Region."""
    return builders.flow_log(
        f"fl-{vpc_id}", "ALL", vpc_id=vpc_id, log_group=f"/aws/vpc-flow-logs/{vpc_id}"
    )


# --- reading the policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (None, frozenset()),
        ("", frozenset()),
        ('LogGroupName NOT IN ["a", "b"]', frozenset({"a", "b"})),
        (" LogGroupName  NOT IN  [] ", frozenset()),
        ('LogGroupName IN ["a"]', None),
        ('LogGroupName NOT IN ["a",', None),
        ("LogGroupName NOT IN [1]", None),
    ],
)
def test_selection_criteria_are_read_or_known_unreadable(
    criteria: str | None, expected: frozenset[str] | None
) -> None:
    assert excluded_names(criteria) == expected


def test_a_policy_is_read_from_its_document_text() -> None:
    policy = subscription_filter_policy(
        "to-archive",
        json.dumps({"DestinationArn": DESTINATION, "FilterPattern": ""}),
        'LogGroupName NOT IN ["/aws/lambda/rule"]',
    )

    assert policy == TO_ARCHIVE
    assert subscription_filter_policy("x", "not json", None).destination_arn is None


@pytest.mark.parametrize(
    ("group", "policies", "expected"),
    [
        ("/aws/vpc-flow-logs/vpc-1", [TO_ARCHIVE], True),
        ("/aws/lambda/rule", [TO_ARCHIVE], False),
        ("/aws/vpc-flow-logs/vpc-1", [], False),
        ("/aws/vpc-flow-logs/vpc-1", [SubscriptionFilterPolicy("p", OTHER, frozenset())], False),
        ("/aws/vpc-flow-logs/vpc-1", [SubscriptionFilterPolicy("p", DESTINATION, None)], False),
    ],
    ids=["selected", "excluded", "no-policy", "other-destination", "unreadable-criteria"],
)
def test_a_group_forwards_only_through_a_policy_to_the_destination_that_selects_it(
    group: str, policies: list[SubscriptionFilterPolicy], expected: bool
) -> None:
    assert forwards(group, DESTINATION, policies) is expected


# --- the parameter -------------------------------------------------------------------------------


def test_the_parameter_is_parsed() -> None:
    parameters = parse_parameters({"CentralLogDestinationArn": DESTINATION})

    assert parameters.central_log_destination_arn == DESTINATION


@pytest.mark.parametrize(
    ("raw", "allowed"),
    [
        ({"CentralLogDestinationArn": "central-archive"}, "a CloudWatch Logs destination ARN"),
        (
            {"CentralLogDestinationArn": DESTINATION.replace("us-east-1", "{region}")},
            "a CloudWatch Logs destination ARN",
        ),
        (
            {"CentralLogDestinationArn": DESTINATION, "AllowedDestinationTypes": "s3"},
            "AllowedDestinationTypes must include cloud-watch-logs",
        ),
    ],
)
def test_a_bad_parameter_names_itself_its_value_and_what_is_allowed(
    raw: dict[str, str], allowed: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_parameters(raw)

    assert "CentralLogDestinationArn" in str(caught.value)
    assert allowed in str(caught.value)


# --- the rule, one read per invocation ------------------------------------------------------------


def test_a_scheduled_run_reads_the_account_policy_once_for_every_log_group() -> None:
    vpcs = [Vpc(f"vpc-{i:08x}") for i in range(120)]
    lookups = FakeLookups(
        vpcs=vpcs, flow_logs=[flow_log(v.vpc_id) for v in vpcs], policies=[TO_ARCHIVE]
    )
    parameters = RuleParameters(central_log_destination_arn=DESTINATION)

    evaluations = rule.evaluate_scheduled(
        lookups, parameters, rule_name="r", account_id=ACCOUNT_ID, ordering_timestamp=NOW
    )

    assert {e.compliance_type for e in evaluations} == {ComplianceType.COMPLIANT}
    assert lookups.asked.count("DescribeAccountPolicies") == 1
    assert lookups.asked.count("DescribeLogGroups") == 1  # the fake answers all names at once


def test_without_the_parameter_the_policy_is_not_read() -> None:
    vpc = Vpc("vpc-00000001")
    lookups = FakeLookups(vpcs=[vpc], flow_logs=[flow_log(vpc.vpc_id)])

    rule.evaluate_scheduled(
        lookups, RuleParameters(), rule_name="r", account_id=ACCOUNT_ID, ordering_timestamp=NOW
    )

    assert "DescribeAccountPolicies" not in lookups.asked


def test_a_group_the_policy_excludes_makes_the_vpc_non_compliant() -> None:
    vpc = Vpc("vpc-00000001")
    fl = flow_log(vpc.vpc_id)
    excluding = SubscriptionFilterPolicy("p", DESTINATION, frozenset({fl.log_group_name or ""}))
    lookups = FakeLookups(vpcs=[vpc], flow_logs=[fl], policies=[excluding])

    (evaluation,) = rule.evaluate_scheduled(
        lookups,
        RuleParameters(traffic_type="ALL", central_log_destination_arn=DESTINATION),
        rule_name="r",
        account_id=ACCOUNT_ID,
        ordering_timestamp=NOW,
    )

    assert evaluation.compliance_type is ComplianceType.NON_COMPLIANT
    assert (evaluation.annotation or "").startswith(
        f"no flow log covers ALL traffic; flow log {fl.flow_log_id} delivers to log group "
        f"{fl.log_group_name}, which no account subscription filter policy forwards to"
    )


# --- the Lambda against the embedded AWS ----------------------------------------------------------


def invoke(event: dict[str, Any]) -> dict[str, int]:
    return handler.lambda_handler(event, cast("LambdaContext", FakeLambdaContext()))


FORWARDING = {"TrafficType": "REJECT", "CentralLogDestinationArn": LOCAL_DESTINATION}


def test_compliant_only_while_the_account_policy_forwards(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    world.flow_log(vpc_id, "REJECT")
    put_forwarding_policy(world)

    forwarded = invoke(change_event(vpc_id, parameters=FORWARDING))
    world.logs.delete_account_policy(
        policyName="VpcFlowLogsGuardCentralArchive", policyType="SUBSCRIPTION_FILTER_POLICY"
    )
    not_forwarded = invoke(change_event(vpc_id, parameters=FORWARDING))

    assert forwarded["COMPLIANT"] == 1
    assert not_forwarded["NON_COMPLIANT"] == 1
    assert "which no account subscription filter policy forwards to" in (
        world.recorded()[vpc_id][1] or ""
    )
    assert (
        counter.params("DescribeAccountPolicies")
        == [{"policyType": "SUBSCRIPTION_FILTER_POLICY"}] * 2
    )


def test_a_scheduled_run_makes_one_policy_call_whatever_the_number_of_groups(
    world: World, counter: CallCounter
) -> None:
    vpcs = [world.vpc() for _ in range(60)]  # 60 log groups: two DescribeLogGroups calls
    for vpc_id in vpcs:
        world.flow_log(vpc_id, "REJECT")
    put_forwarding_policy(world)

    result = invoke(scheduled_event(parameters=FORWARDING))

    assert result["COMPLIANT"] == len(vpcs)
    assert counter.calls["DescribeLogGroups"] == 2
    assert counter.calls["DescribeAccountPolicies"] == 1
