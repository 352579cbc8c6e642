"""local_aws.moto_patches.events: topic targets; events crossing accounts and Regions as sent."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from local_aws.moto_patches.events import emit_service_event
from tests.unit.local_aws.moto_patches.gaps import patch_can_go, still_raises

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_ACCOUNT = "123456789012"  # moto's, without MOTO_ACCOUNT_ID
SENDER = "210987654321"
RECEIVER = "111122223333"
THIRD = "444455556666"
SENDER_REGION = "eu-west-1"
RECEIVER_REGION = "us-east-1"
BUS = "central"
PATTERN = {"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"]}
DETAIL = {"configRuleName": "vpc-flow-logs-enabled", "resourceId": "vpc-1"}


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``accounts(account_id)`` switches moto's caller account (MOTO_ACCOUNT_ID)."""

    def switch(account_id: str) -> None:
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account_id)

    yield switch
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)


def queue(region: str, name: str = "observer") -> tuple[str, str]:
    """A queue in the current account: (URL, ARN)."""
    sqs = boto3.client("sqs", region_name=region)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def received(url: str, region: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=region)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def topic_observed_by_queue(region: str) -> tuple[str, str]:
    """A topic in the current account with a queue subscribed (raw delivery): (topic ARN, URL)."""
    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url, arn = queue(region)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )
    return topic, url


def rule_to(target_arn: str, region: str, bus: str = "default") -> None:
    events = boto3.client("events", region_name=region)
    events.put_rule(Name="forward", EventBusName=bus, EventPattern=json.dumps(PATTERN))
    events.put_targets(
        Rule="forward",
        EventBusName=bus,
        Targets=[{"Id": "t", "Arn": target_arn, "RoleArn": "arn:aws:iam::1:role/r"}],
    )


def put_event(account: str, region: str) -> str:
    """AWS Config's event on ``account``'s default bus in ``region``; its id."""
    return emit_service_event(
        account,
        region,
        source="aws.config",
        detail_type="Config Rules Compliance Change",
        detail=DETAIL,
    )


# --- a topic target -------------------------------------------------------------------------------


def test_a_topic_target_receives_the_event_itself_as_json(aws: None) -> None:
    topic, url = topic_observed_by_queue(RECEIVER_REGION)
    rule_to(topic, RECEIVER_REGION)

    event_id = put_event(DEFAULT_ACCOUNT, RECEIVER_REGION)

    (message,) = received(url, RECEIVER_REGION)
    assert message["id"] == event_id
    assert message["source"] == "aws.config"
    assert message["detail-type"] == "Config Rules Compliance Change"
    assert message["account"] == DEFAULT_ACCOUNT
    assert message["region"] == RECEIVER_REGION
    assert message["detail"] == DETAIL
    assert message["time"].endswith("Z")  # ISO 8601, as AWS writes it
    assert "ingestion-time" not in message


def test_a_topic_targets_input_transformer_is_applied(aws: None) -> None:
    topic, url = topic_observed_by_queue(RECEIVER_REGION)
    events = boto3.client("events", region_name=RECEIVER_REGION)
    events.put_rule(Name="forward", EventPattern=json.dumps(PATTERN))
    events.put_targets(
        Rule="forward",
        Targets=[
            {
                "Id": "t",
                "Arn": topic,
                "InputTransformer": {
                    "InputPathsMap": {"vpc": "$.detail.resourceId"},
                    "InputTemplate": '{"vpc": "<vpc>"}',
                },
            }
        ],
    )

    put_event(DEFAULT_ACCOUNT, RECEIVER_REGION)

    assert received(url, RECEIVER_REGION) == [{"vpc": "vpc-1"}]


def test_unpatched_moto_cannot_send_to_a_topic() -> None:
    with mock_aws():
        topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
        rule_to(topic, RECEIVER_REGION)
        with still_raises(
            NotImplementedError, patch="events._publish", behaviour="sends events to SNS topics"
        ):
            put_event(DEFAULT_ACCOUNT, RECEIVER_REGION)


# --- an event bus target in another account and Region ------------------------------------------


def central_bus_with_observer(accounts: Any) -> str:
    """The receiver's bus, with a rule to a topic a queue observes; the queue's URL."""
    accounts(RECEIVER)
    boto3.client("events", region_name=RECEIVER_REGION).create_event_bus(Name=BUS)
    topic, url = topic_observed_by_queue(RECEIVER_REGION)
    rule_to(topic, RECEIVER_REGION, bus=BUS)
    return url


BUS_ARN = f"arn:aws:events:{RECEIVER_REGION}:{RECEIVER}:event-bus/{BUS}"


def test_a_bus_in_another_account_and_region_receives_the_event_as_it_was_sent(
    aws: None, accounts: Any
) -> None:
    url = central_bus_with_observer(accounts)
    accounts(SENDER)
    rule_to(BUS_ARN, SENDER_REGION)

    event_id = put_event(SENDER, SENDER_REGION)

    accounts(RECEIVER)
    (message,) = received(url, RECEIVER_REGION)
    assert (message["account"], message["region"], message["id"]) == (
        SENDER,
        SENDER_REGION,
        event_id,
    )
    assert message["detail"] == DETAIL


def test_unpatched_moto_rewrites_a_forwarded_events_region_and_id(accounts: Any) -> None:
    with mock_aws():
        accounts(RECEIVER)
        events = boto3.client("events", region_name=RECEIVER_REGION)
        events.create_event_bus(Name=BUS)
        url, arn = queue(RECEIVER_REGION)
        rule_to(arn, RECEIVER_REGION, bus=BUS)  # moto's SQS target: no account in the body
        accounts(SENDER)
        rule_to(BUS_ARN, SENDER_REGION)

        event_id = put_event(SENDER, SENDER_REGION)

        accounts(RECEIVER)
        (message,) = received(url, RECEIVER_REGION)
    if (message["region"], message["id"]) == (SENDER_REGION, event_id):
        pytest.fail(patch_can_go("events._forward", "keeps a forwarded event's Region and id"))
    assert message["region"] == RECEIVER_REGION


def test_an_event_received_from_another_bus_goes_to_no_third_bus(aws: None, accounts: Any) -> None:
    accounts(THIRD)
    boto3.client("events", region_name=RECEIVER_REGION).create_event_bus(Name="third")
    third_url, third_queue = queue(RECEIVER_REGION)
    rule_to(third_queue, RECEIVER_REGION, bus="third")
    url = central_bus_with_observer(accounts)
    boto3.client("events", region_name=RECEIVER_REGION).put_targets(
        Rule="forward",
        EventBusName=BUS,
        Targets=[
            {
                "Id": "onwards",
                "Arn": f"arn:aws:events:{RECEIVER_REGION}:{THIRD}:event-bus/third",
                "RoleArn": "arn:aws:iam::1:role/r",
            }
        ],
    )
    accounts(SENDER)
    rule_to(BUS_ARN, SENDER_REGION)

    put_event(SENDER, SENDER_REGION)

    accounts(RECEIVER)
    assert len(received(url, RECEIVER_REGION)) == 1  # the receiver's own topic still gets it
    accounts(THIRD)
    assert received(third_url, RECEIVER_REGION) == []


def test_unpatched_moto_forwards_a_forwarded_event_again(accounts: Any) -> None:
    with mock_aws():
        accounts(THIRD)
        boto3.client("events", region_name=RECEIVER_REGION).create_event_bus(Name="third")
        third_url, third_queue = queue(RECEIVER_REGION)
        rule_to(third_queue, RECEIVER_REGION, bus="third")
        accounts(RECEIVER)
        boto3.client("events", region_name=RECEIVER_REGION).create_event_bus(Name=BUS)
        rule_to(
            f"arn:aws:events:{RECEIVER_REGION}:{THIRD}:event-bus/third", RECEIVER_REGION, bus=BUS
        )
        accounts(SENDER)
        rule_to(BUS_ARN, SENDER_REGION)

        put_event(SENDER, SENDER_REGION)

        accounts(THIRD)
        third = received(third_url, RECEIVER_REGION)
    if not third:
        pytest.fail(patch_can_go("events._forward", "stops events at the second bus"))
