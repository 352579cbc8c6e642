"""Config's events, scope and remediation parameters, built as AWS Config builds them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Any, cast

import pytest

from local_aws.app_model import ConfigRuleSpec, RemediationParameter, RemediationSpec
from local_aws.automation import AutomationExecution
from local_aws.config_service import (
    ConfigService,
    in_scope,
    notification_item,
    remediation_parameters,
    rule_event,
    scheduled_invoking_event,
    vpc_configuration_item,
)
from local_aws.deploy import Deployment
from local_aws.intrinsics import TemplateError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
VPC = {
    "CidrBlock": "10.0.0.0/16",
    "DhcpOptionsId": "dopt-1",
    "State": "available",
    "VpcId": "vpc-0123456789abcdef0",
    "OwnerId": "123456789012",
    "InstanceTenancy": "default",
    "CidrBlockAssociationSet": [
        {
            "AssociationId": "a-1",
            "CidrBlock": "10.0.0.0/16",
            "CidrBlockState": {"State": "associated"},
        }
    ],
    "IsDefault": False,
    "Tags": [{"Key": "Name", "Value": "payments"}, {"Key": "team", "Value": "core"}],
}
RULE = ConfigRuleSpec(
    logical_id="Rule",
    name="vpc-flow-logs-enabled",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
    resource_types=("AWS::EC2::VPC",),
    tag_key=None,
    tag_value=None,
    compliance_resource_id=None,
    input_parameters={"TrafficType": "REJECT", "MinRetentionDays": "365"},
    message_types=frozenset({"ConfigurationItemChangeNotification", "ScheduledNotification"}),
    maximum_execution_frequency="TwentyFour_Hours",
)
DEPLOYMENT = Deployment(
    rule_name="vpc-flow-logs-enabled",
    rule_arn="arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc123",
    rule_id="config-rule-abc123",
    function_arn=RULE.function_arn,
    document_names=("Runbook",),
    role_arns=(),
)


def item(vpc: Mapping[str, Any] | None, status: str) -> dict[str, Any]:
    return vpc_configuration_item(
        vpc,
        vpc_id="vpc-0123456789abcdef0",
        status=status,
        account_id="123456789012",
        region="us-east-1",
        partition="aws",
        capture_time=NOW,
        state_id=7,
    )


def test_a_vpc_configuration_item_looks_like_configs() -> None:
    recorded = item(VPC, "ResourceDiscovered")

    assert recorded["configurationItemVersion"] == "1.3"
    assert recorded["configurationItemStatus"] == "ResourceDiscovered"
    assert recorded["configurationItemCaptureTime"] == "2026-01-02T03:04:05.678Z"
    assert recorded["resourceType"] == "AWS::EC2::VPC"
    assert recorded["resourceId"] == "vpc-0123456789abcdef0"
    assert recorded["resourceName"] == "payments"
    assert recorded["ARN"] == "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0"
    assert recorded["tags"] == {"Name": "payments", "team": "core"}
    configuration = recorded["configuration"]
    assert configuration["vpcId"] == "vpc-0123456789abcdef0"
    assert configuration["cidrBlockAssociationSet"][0]["cidrBlockState"] == {"state": "associated"}
    assert configuration["tags"] == [
        {"key": "Name", "value": "payments"},
        {"key": "team", "value": "core"},
    ]


def test_a_deleted_vpc_has_no_configuration() -> None:
    recorded = item(None, "ResourceDeleted")
    assert recorded["configuration"] is None
    assert recorded["tags"] == {}
    assert recorded["configurationItemStatus"] == "ResourceDeleted"


def test_the_rule_event_carries_json_strings_and_the_rule_identity() -> None:
    event = rule_event(
        scheduled_invoking_event("123456789012", NOW),
        rule=RULE,
        deployment=DEPLOYMENT,
        account_id="123456789012",
        execution_role_arn="arn:aws:iam::123456789012:role/config",
        result_token="token",
    )

    assert json.loads(event["invokingEvent"]) == {
        "awsAccountId": "123456789012",
        "notificationCreationTime": "2026-01-02T03:04:05.678Z",
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    assert json.loads(event["ruleParameters"]) == {
        "TrafficType": "REJECT",
        "MinRetentionDays": "365",
    }
    assert event["configRuleName"] == "vpc-flow-logs-enabled"
    assert event["configRuleArn"] == DEPLOYMENT.rule_arn
    assert event["configRuleId"] == "config-rule-abc123"
    assert event["resultToken"] == "token"
    assert event["eventLeftScope"] is False


def test_a_rule_without_parameters_gets_no_rule_parameters() -> None:
    rule = ConfigRuleSpec(**{**RULE.__dict__, "input_parameters": {}})
    event = rule_event(
        {},
        rule=rule,
        deployment=DEPLOYMENT,
        account_id="1",
        execution_role_arn="r",
        result_token="t",
    )
    assert "ruleParameters" not in event


@pytest.mark.parametrize(
    ("tag_key", "tag_value", "tags", "expected"),
    [
        (None, None, {}, True),
        ("team", None, {"team": "any"}, True),
        ("team", None, {}, False),
        ("team", "core", {"team": "core"}, True),
        ("team", "core", {"team": "edge"}, False),
    ],
)
def test_scope_by_tag(
    tag_key: str | None, tag_value: str | None, tags: dict[str, str], *, expected: bool
) -> None:
    rule = ConfigRuleSpec(**{**RULE.__dict__, "tag_key": tag_key, "tag_value": tag_value})
    assert in_scope(rule, "AWS::EC2::VPC", "vpc-1", tags) is expected


def test_scope_by_resource_type() -> None:
    assert not in_scope(RULE, "AWS::EC2::Subnet", "subnet-1", {})


def remediation(*, error_percentage: int | None = 50, attempts: int = 3) -> RemediationSpec:
    return RemediationSpec(
        logical_id="Remediation",
        rule_name=RULE.name,
        target_type="SSM_DOCUMENT",
        document_name="Runbook",
        document_version=None,
        automatic=True,
        maximum_automatic_attempts=attempts,
        retry_attempt_seconds=60,
        parameters={
            "VpcId": RemediationParameter(resource_value="RESOURCE_ID", static_values=()),
            "AutomationAssumeRole": RemediationParameter(None, ("arn:aws:iam::1:role/a",)),
            "RetentionInDays": RemediationParameter(None, ("365",)),
        },
        concurrent_execution_rate_percentage=10,
        error_percentage=error_percentage,
    )


def test_remediation_parameters_map_the_resource_id_and_static_values() -> None:
    assert remediation_parameters(remediation(), "vpc-1") == {
        "VpcId": ["vpc-1"],
        "AutomationAssumeRole": ["arn:aws:iam::1:role/a"],
        "RetentionInDays": ["365"],
    }


def test_an_unknown_resource_value_is_refused() -> None:
    spec = remediation()
    spec.parameters["VpcId"] = RemediationParameter(resource_value="RESOURCE_ARN", static_values=())
    with pytest.raises(TemplateError, match="unknown RESOURCE_ARN"):
        remediation_parameters(spec, "vpc-1")


class FakeAutomation:
    """Fails for the VPC ids it is told to, succeeds otherwise; records every start."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.started: list[str] = []

    def start_automation_execution(
        self, document_name: str, parameters: Mapping[str, Sequence[str]]
    ) -> AutomationExecution:
        vpc_id = parameters["VpcId"][0]
        self.started.append(vpc_id)
        failed = vpc_id in self.failing
        return AutomationExecution(
            execution_id=f"exec-{len(self.started)}",
            document_name=document_name,
            parameters=dict(parameters),
            assume_role="arn:aws:iam::1:role/a",
            status="Failed" if failed else "Success",
            failure_message=f"{vpc_id} is gone" if failed else None,
        )


class Stack:
    def __init__(self, spec: RemediationSpec) -> None:
        self.rule = RULE
        self.remediation = spec


def config_with(spec: RemediationSpec, automation: FakeAutomation) -> ConfigService:
    return ConfigService(
        cast("Any", Stack(spec)),
        DEPLOYMENT,
        runner=cast("Any", None),
        automation=cast("Any", automation),
        admin=cast("Any", None),
        account_id="123456789012",
        partition="aws",
        issue_result_token=lambda name: f"token-for-{name}",
    )


def test_a_failing_remediation_is_retried_up_to_the_maximum_attempts() -> None:
    automation = FakeAutomation(failing={"vpc-gone"})

    done = config_with(remediation(attempts=3), automation).remediate(["vpc-gone", "vpc-ok"])

    assert automation.started == ["vpc-gone", "vpc-gone", "vpc-gone", "vpc-ok"]
    assert [r.succeeded for r in done] == [False, True]
    assert done[0].failure_message == "vpc-gone is gone"


def test_too_many_failures_stop_the_round_as_error_percentage_says() -> None:
    # Given 4 targets and 25 %: one failure is allowed, the second stops the round
    automation = FakeAutomation(failing={"vpc-1", "vpc-2"})
    config = config_with(remediation(error_percentage=25, attempts=1), automation)

    # When
    done = config.remediate(["vpc-1", "vpc-2", "vpc-3", "vpc-4"])

    # Then
    assert automation.started == ["vpc-1", "vpc-2"]
    assert done[2].skipped_reason is not None
    assert "ErrorPercentage of 25%" in done[2].skipped_reason
    assert not done[3].succeeded


FLOW_LOG_ITEM = {
    "version": "1.3",
    "accountId": "123456789012",
    "configurationItemCaptureTime": NOW.timestamp(),
    "configurationItemStatus": "ResourceDiscovered",
    "configurationStateId": "1767322800000",
    "arn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-1",
    "resourceType": "AWS::EC2::FlowLog",
    "resourceId": "fl-1",
    "awsRegion": "us-east-1",
    "availabilityZone": "Regional",
    "tags": {},
    "relatedEvents": [],
    "relationships": [],
    "supplementaryConfiguration": {},
    "configuration": json.dumps({"flowLogId": "fl-1", "resourceId": "vpc-1"}),
}


def test_a_recorded_flow_log_item_becomes_a_notifications_item() -> None:
    deleted = {
        key: value
        for key, value in {**FLOW_LOG_ITEM, "configurationItemStatus": "ResourceDeleted"}.items()
        if key != "configuration"
    }

    created = notification_item(FLOW_LOG_ITEM)
    gone = notification_item(deleted)

    assert created["configuration"] == {"flowLogId": "fl-1", "resourceId": "vpc-1"}
    assert created["configurationItemCaptureTime"] == "2026-01-02T03:04:05.678Z"
    assert created["configurationStateId"] == 1767322800000
    assert created["ARN"] == FLOW_LOG_ITEM["arn"]
    assert created["awsAccountId"] == "123456789012"
    assert gone["configuration"] is None
    assert gone["configurationItemStatus"] == "ResourceDeleted"


class FakeRunner:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> str:
        self.events.append(event)
        return f"invocation-{len(self.events)}"


@pytest.mark.parametrize(
    ("resource_types", "notified"),
    [(("AWS::EC2::VPC", "AWS::EC2::FlowLog"), 2), (("AWS::EC2::VPC",), 0)],
)
def test_recorded_items_are_notified_once_each_if_in_scope(
    resource_types: tuple[str, ...], notified: int
) -> None:
    recorded = [FLOW_LOG_ITEM]
    runner = FakeRunner()

    class ScopedStack:
        rule = dataclasses.replace(RULE, resource_types=resource_types)
        remediation = None

    config = ConfigService(
        cast("Any", ScopedStack()),
        DEPLOYMENT,
        runner=cast("Any", runner),
        automation=cast("Any", None),
        admin=cast("Any", None),
        account_id="123456789012",
        partition="aws",
        issue_result_token=lambda name: f"token-for-{name}",
        recorded_items=lambda: list(recorded),
    )

    first = config.notify_recorded_changes()
    recorded.append({**FLOW_LOG_ITEM, "configurationItemStatus": "ResourceDeleted"})
    second = config.notify_recorded_changes()
    third = config.notify_recorded_changes()

    assert len(first) + len(second) == notified
    assert third == []
    invoking = [json.loads(event["invokingEvent"]) for event in runner.events]
    assert [i["configurationItemDiff"]["changeType"] for i in invoking] == (
        ["CREATE", "DELETE"] if notified else []
    )
