from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes.aws_config_rule_event import AWSConfigRuleEvent

from tests.unit.lambdas.vpc_flow_logs_rule.builders import ABSENT, load_event, scheduled_event
from vpc_flow_logs_rule import notifications
from vpc_flow_logs_rule.notifications import ChangedResource, UnsupportedEventError

VPC_ID = "vpc-0a1b2c3d4e5f60718"  # the id in tests/events


def parsed(name: str) -> AWSConfigRuleEvent:
    return AWSConfigRuleEvent(load_event(name))


def test_a_change_notification_carries_the_vpc_its_status_capture_time_and_tags() -> None:
    event = parsed("awsConfigRuleVpcChanged.json")

    assert notifications.message_type(event) == notifications.CHANGE
    assert notifications.changed_resource(event) == ChangedResource(
        resource_type="AWS::EC2::VPC",
        resource_id=VPC_ID,
        status="OK",
        capture_time=datetime(2026, 11, 20, 9, 15, 42, 318000, tzinfo=UTC),
        tags={"Name": "payments", "Team": "platform"},
        left_scope=False,
    )


def test_a_deleted_vpc_notification_has_no_tags() -> None:
    resource = notifications.changed_resource(parsed("awsConfigRuleVpcDeleted.json"))

    assert resource.status == "ResourceDeleted"
    assert resource.tags == {}
    assert resource.capture_time == datetime(2026, 11, 21, 17, 2, 11, 904000, tzinfo=UTC)


def test_an_oversized_notification_carries_only_a_summary() -> None:
    event = parsed("awsConfigRuleVpcOversized.json")

    resource = notifications.changed_resource(event)

    assert notifications.message_type(event) == notifications.OVERSIZED_CHANGE
    assert resource.resource_id == VPC_ID
    assert resource.status == "OK"
    assert resource.tags is None  # unknown: the summary has none
    assert resource.capture_time == datetime(2026, 11, 20, 11, 40, 3, 772000, tzinfo=UTC)


def test_event_left_scope_is_read() -> None:
    raw = load_event("awsConfigRuleVpcChanged.json")
    raw["eventLeftScope"] = True

    assert notifications.changed_resource(AWSConfigRuleEvent(raw)).left_scope is True


def test_a_scheduled_notification_is_timed_by_its_creation() -> None:
    event = parsed("awsConfigRuleVpcScheduled.json")

    assert notifications.message_type(event) == notifications.SCHEDULED
    assert notifications.notification_time(event) == datetime(
        2026, 11, 22, 6, 0, 0, 512000, tzinfo=UTC
    )
    with pytest.raises(UnsupportedEventError):
        notifications.changed_resource(event)


def test_an_unsupported_message_type_fails_loudly() -> None:
    raw = load_event("awsConfigRuleVpcScheduled.json")
    raw["invokingEvent"] = json.dumps(
        {"messageType": "ConfigurationSnapshotDeliveryCompleted", "awsAccountId": "123456789012"}
    )

    with pytest.raises(UnsupportedEventError, match="ConfigurationSnapshotDeliveryCompleted"):
        notifications.message_type(AWSConfigRuleEvent(raw))


def test_rule_parameters_are_read_defensively() -> None:
    without = AWSConfigRuleEvent(scheduled_event(parameters=ABSENT, token="TESTMODE"))
    with_them = parsed("awsConfigRuleVpcScheduled.json")

    with pytest.raises(KeyError):
        _ = without.rule_parameters  # what Powertools does when Config sends none
    assert notifications.rule_parameters(without) is None
    assert json.loads(str(notifications.rule_parameters(with_them)))["TrafficType"] == "REJECT"


def test_a_flow_log_notification_carries_the_resource_it_logs() -> None:
    created = notifications.changed_resource(parsed("awsConfigRuleFlowLogCreated.json"))
    deleted = notifications.changed_resource(parsed("awsConfigRuleFlowLogDeleted.json"))

    assert created.resource_type == "AWS::EC2::FlowLog"
    assert created.logged_resource_id == VPC_ID
    assert deleted.status == "ResourceDeleted"
    assert deleted.logged_resource_id == VPC_ID  # from the diff's previous configuration


def test_a_deleted_flow_log_without_a_diff_leaves_the_owner_to_the_history() -> None:
    event = load_event("awsConfigRuleFlowLogDeleted.json")
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItemDiff"] = {"changedProperties": {}, "changeType": "DELETE"}
    event["invokingEvent"] = json.dumps(invoking)

    resource = notifications.changed_resource(AWSConfigRuleEvent(event))

    assert resource.logged_resource_id is None


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        ({"resourceId": "subnet-1"}, "subnet-1"),
        ({"ResourceId": "eni-1"}, "eni-1"),
        ({"resourceId": ""}, None),
        ({"resourceId": 7}, None),
        ({}, None),
        (None, None),
    ],
)
def test_logged_resource_id_reads_either_spelling(
    configuration: dict[str, object] | None, expected: str | None
) -> None:
    assert notifications.logged_resource_id(configuration) == expected
