"""Every request the rule sends is one the botocore its asset ships would send.

The rule runs (in process, against moto) through the notifications AWS Config sends it; each
request is validated against the service models of the botocore release found in the
synthesized asset, read from the asset itself. A release from before DescribeLogGroups took
``logGroupIdentifiers`` refuses exactly those requests: the check has teeth, and it is what a
runtime's older SDK would do to the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

import pytest

from tests.support.service_models import ApiRequest, ServiceModels, recording
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    FakeLambdaContext,
    World,
    change_event,
    oversized_event,
    put_forwarding_policy,
    scheduled_event,
)
from tests.unit.stacks.synthesis import asset_distributions, rule_asset
from vpc_flow_logs_rule import handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tests.unit.stacks.synthesis import Synthesized

OLDER_BOTOCORE: Final = "1.38.0"
"""A release whose DescribeLogGroups has no ``logGroupIdentifiers``, which the rule sends."""
RULE_OPERATIONS: Final = {
    ("ec2", "DescribeVpcs"),
    ("ec2", "DescribeFlowLogs"),
    ("logs", "DescribeLogGroups"),
    ("config", "GetComplianceDetailsByConfigRule"),
    ("config", "PutEvaluations"),
    ("logs", "DescribeAccountPolicies"),
}
"""Every AWS operation the rule calls (its role's actions besides writing its own logs)."""


def invoke(event: dict[str, Any]) -> None:
    handler.lambda_handler(event, cast("LambdaContext", FakeLambdaContext()))


@pytest.fixture(scope="module")
def shipped(default: Synthesized) -> ServiceModels:
    """The service models of the botocore in the synthesized asset (its ``.dist-info``)."""
    return ServiceModels(asset_distributions(rule_asset(default))["botocore"])


@pytest.fixture
def rule_requests(aws: None) -> list[ApiRequest]:
    """The requests of the rule's handler over representative notifications."""
    world = World()
    to_logs = world.vpc()
    world.flow_log(to_logs, "REJECT")
    to_s3 = world.vpc()
    world.flow_log(
        to_s3, "ALL", destination_type="s3", destination=world.bucket("central-flow-logs")
    )
    exempt = world.vpc(tags={"flow-logs": "off"})
    gone = world.vpc()
    invoke(change_event(gone))  # recorded NON_COMPLIANT, then the VPC is deleted
    world.ec2.delete_vpc(VpcId=gone)

    forwarding = {"CentralLogDestinationArn": put_forwarding_policy(world)}

    with recording() as requests:
        invoke(change_event(to_logs))
        invoke(change_event(to_logs, parameters=forwarding))
        invoke(change_event(to_s3))
        invoke(oversized_event(exempt, parameters={"ExemptTag": "flow-logs=off"}))
        invoke(scheduled_event())  # evaluates every VPC and clears the deleted one
        invoke(change_event(to_logs, token="TESTMODE"))
    return requests


def test_every_request_of_the_rule_validates_against_the_shipped_botocore(
    shipped: ServiceModels, rule_requests: list[ApiRequest]
) -> None:
    # The scenarios reach every operation, with the parameters in question
    assert {(r.service, r.operation) for r in rule_requests} == RULE_OPERATIONS
    assert any("logGroupIdentifiers" in r.params for r in rule_requests)
    assert any(r.params.get("TestMode") is True for r in rule_requests)
    assert (
        ApiRequest("logs", "DescribeAccountPolicies", {"policyType": "SUBSCRIPTION_FILTER_POLICY"})
        in rule_requests
    )
    cleared = [e["ComplianceType"] for r in rule_requests for e in r.params.get("Evaluations", [])]
    assert "NOT_APPLICABLE" in cleared

    problems = [line for request in rule_requests for line in shipped.problems(request)]

    assert problems == []


def test_an_older_botocore_refuses_exactly_the_log_group_identifiers(
    rule_requests: list[ApiRequest],
) -> None:
    older = ServiceModels(OLDER_BOTOCORE)

    refused = [r for r in rule_requests if older.problems(r)]

    assert refused
    assert refused == [r for r in rule_requests if "logGroupIdentifiers" in r.params]
    assert all(
        'Unknown parameter in input: "logGroupIdentifiers"' in line
        for request in refused
        for line in older.problems(request)
    )
