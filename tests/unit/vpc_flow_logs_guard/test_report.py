"""``report --aggregator``: the rule's recorded results, organization-wide, from an aggregator.

moto has no aggregate compliance calls, so the AWS-access function is checked against the
service model with botocore's Stubber, and the command with that function swapped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from vpc_flow_logs_guard import aws, cli
from vpc_flow_logs_guard.model import AccessError
from vpc_flow_logs_guard.report import findings_from_aggregate

if TYPE_CHECKING:
    from collections.abc import Iterator

AGGREGATOR = "org-vpc-flow-logs"
RULE = "vpc-flow-logs-enabled"
A, B = "111111111111", "222222222222"
AT = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def result(account: str, region: str, resource_id: str, compliance: str, **extra: Any) -> Any:
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": RULE,
                "ResourceType": extra.pop("resource_type", "AWS::EC2::VPC"),
                "ResourceId": resource_id,
            },
            "OrderingTimestamp": AT,
        },
        "ComplianceType": compliance,
        "ResultRecordedTime": AT,
        "ConfigRuleInvokedTime": AT,
        "AccountId": account,
        "AwsRegion": region,
        **extra,
    }


class StubbedSession:
    """Hands out one stubbed config client, as boto3.session.Session.client would."""

    def __init__(self) -> None:
        self.client_ = boto3.session.Session(region_name="us-east-1").client("config")
        self.stubber = Stubber(self.client_)

    def client(self, service: str, **_: Any) -> Any:
        assert service == "config"
        return self.client_


@pytest.fixture
def stubbed() -> Iterator[StubbedSession]:
    session = StubbedSession()
    with session.stubber:
        yield session
    session.stubber.assert_no_pending_responses()


def details_params(account: str, region: str, token: str | None = None) -> dict[str, Any]:
    params = {
        "ConfigurationAggregatorName": AGGREGATOR,
        "ConfigRuleName": RULE,
        "AccountId": account,
        "AwsRegion": region,
        "Limit": 100,
    }
    return {**params, "NextToken": token} if token else params


def test_aggregate_compliance_reads_every_page_of_every_account_and_region(
    stubbed: StubbedSession,
) -> None:
    stub = stubbed.stubber
    listing = "describe_aggregate_compliance_by_config_rules"
    stub.add_response(
        listing,
        {
            "AggregateComplianceByConfigRules": [
                {"ConfigRuleName": RULE, "AccountId": A, "AwsRegion": "us-east-1"},
                {"ConfigRuleName": "other-rule", "AccountId": A, "AwsRegion": "us-east-1"},
            ],
            "NextToken": "t1",
        },
        {"ConfigurationAggregatorName": AGGREGATOR},
    )
    stub.add_response(
        listing,
        {
            "AggregateComplianceByConfigRules": [
                {"ConfigRuleName": RULE, "AccountId": B, "AwsRegion": "eu-west-1"}
            ]
        },
        {"ConfigurationAggregatorName": AGGREGATOR, "NextToken": "t1"},
    )
    details = "get_aggregate_compliance_details_by_config_rule"
    stub.add_response(
        details,
        {
            "AggregateEvaluationResults": [result(A, "us-east-1", "vpc-1", "COMPLIANT")],
            "NextToken": "p2",
        },
        details_params(A, "us-east-1"),
    )
    stub.add_response(
        details,
        {"AggregateEvaluationResults": [result(A, "us-east-1", "vpc-2", "NON_COMPLIANT")]},
        details_params(A, "us-east-1", "p2"),
    )
    stub.add_response(
        details,
        {"AggregateEvaluationResults": [result(B, "eu-west-1", "vpc-3", "COMPLIANT")]},
        details_params(B, "eu-west-1"),
    )

    places, results = aws.aggregate_compliance(stubbed, "us-east-1", AGGREGATOR, RULE)  # type: ignore[arg-type]

    assert places == [(A, "us-east-1"), (B, "eu-west-1")]
    assert [
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in results
    ] == [
        "vpc-1",
        "vpc-2",
        "vpc-3",
    ]


def test_an_unknown_aggregator_is_an_access_error(stubbed: StubbedSession) -> None:
    stubbed.stubber.add_client_error(
        "describe_aggregate_compliance_by_config_rules",
        "NoSuchConfigurationAggregatorException",
        "The configuration aggregator does not exist.",
    )

    with pytest.raises(AccessError, match="NoSuchConfigurationAggregatorException"):
        aws.aggregate_compliance(stubbed, "us-east-1", AGGREGATOR, RULE)  # type: ignore[arg-type]


def test_findings_keep_vpcs_only_and_an_empty_aggregator_is_a_failure() -> None:
    found = findings_from_aggregate(
        [(B, "eu-west-1")],
        [
            result(B, "eu-west-1", "vpc-3", "NON_COMPLIANT", Annotation="No flow log"),
            result(B, "eu-west-1", "sg-1", "COMPLIANT", resource_type="AWS::EC2::SecurityGroup"),
        ],
        aggregator=AGGREGATOR,
        rule_name=RULE,
    )
    empty = findings_from_aggregate([], [], aggregator=AGGREGATOR, rule_name=RULE)

    assert [(r.account_id, r.region, r.vpc_id, r.annotation) for r in found.results] == [
        (B, "eu-west-1", "vpc-3", "No flow log")
    ]
    assert found.exit_code == 1
    assert empty.exit_code == 2
    assert "no results of rule" in empty.failures[0].message


def test_report_renders_like_audit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def aggregate(session: Any, region: str, aggregator: str, rule_name: str) -> Any:
        assert (region, aggregator, rule_name) == ("eu-west-1", AGGREGATOR, RULE)
        return [(A, "us-east-1")], [result(A, "us-east-1", "vpc-1", "COMPLIANT")]

    monkeypatch.setattr(aws, "aggregate_compliance", aggregate)

    code = cli.main(["report", "--aggregator", AGGREGATOR, "--region", "eu-west-1"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[1].split()[:4] == [A, "us-east-1", "vpc-1", "COMPLIANT"]
    assert "1 VPCs: 1 COMPLIANT, 0 NON_COMPLIANT, 0 NOT_APPLICABLE" in out
