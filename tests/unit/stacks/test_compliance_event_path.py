"""A compliance change travels from any member account and Region to the view's topic, once.

The event rules, bus, bus policy and topic are created in the embedded AWS (moto, patched by
``local_aws.moto_patches.events``) from the synthesized templates themselves: the member stack's
forwarding rule (where its CloudFormation condition builds it) and the view stack's bus and two
rules. AWS Config's event (``tests/events/configRulesComplianceChange.json``) is then put on a
member's default bus, as AWS Config puts it; a queue subscribed to the view's topic sees what an
e-mail subscriber would get. moto does not evaluate the bus policy, the roles or the topic's key:
``test_compliance_forwarding`` judges those with iam-simulate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
import pytest

from local_aws.moto_patches.events import emit_service_event
from stacks.organization_view_stack import COMPLIANCE_BUS_NAME
from tests.unit.stacks.as_deployed import resolver
from tests.unit.stacks.synthesis import synth_view, synthesize

if TYPE_CHECKING:
    from collections.abc import Iterator

EVENT: Final = json.loads(
    (
        Path(__file__).resolve().parents[2] / "events" / "configRulesComplianceChange.json"
    ).read_text()
)
SECURITY: Final = "111122223333"
MEMBER: Final = EVENT["account"]
HOME: Final = "us-east-1"
"""The view's Region; members also run in ``EVENT["region"]``."""
BUS_ARN: Final = f"arn:aws:events:{HOME}:{SECURITY}:event-bus/{COMPLIANCE_BUS_NAME}"
PLACES: Final = [(MEMBER, EVENT["region"]), (MEMBER, HOME), (SECURITY, EVENT["region"])]
"""Where the member stack runs, besides the view's own account and Region."""


def deploy_events(template: dict[str, Any], account: str, region: str) -> dict[str, str]:
    """Create the template's buses, bus policies, topics and event rules in ``account`` and
    ``region``, skipping resources whose condition is false there; logical id -> physical."""
    names: dict[str, str] = {}
    resources = template["Resources"]
    events = boto3.client("events", region_name=region)
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Config::ConfigRule":
            names[logical_id] = properties["ConfigRuleName"]
        elif resource["Type"] == "AWS::IAM::Role":
            names[f"{logical_id}.Arn"] = f"arn:aws:iam::{account}:role/{logical_id}"
        elif resource["Type"] == "AWS::Events::EventBus":
            created = events.create_event_bus(Name=properties["Name"])
            names[logical_id] = properties["Name"]
            names[f"{logical_id}.Arn"] = created["EventBusArn"]
        elif resource["Type"] == "AWS::SNS::Topic":
            sns = boto3.client("sns", region_name=region)
            names[logical_id] = sns.create_topic(Name=logical_id)["TopicArn"]
    deployed = resolver(template, account, region, names)
    for resource in resources.values():
        if resource["Type"] not in ("AWS::Events::EventBusPolicy", "AWS::Events::Rule"):
            continue
        condition = resource.get("Condition")
        if condition and not deployed.condition(condition):
            continue
        properties = deployed.resolve(resource.get("Properties", {}))
        if resource["Type"] == "AWS::Events::EventBusPolicy":
            statement = properties["Statement"]
            events.put_permission(
                EventBusName=properties["EventBusName"],
                Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
        elif resource["Type"] == "AWS::Events::Rule":
            bus = properties.get("EventBusName", "default")
            events.put_rule(
                Name=properties["Name"],
                EventBusName=bus,
                EventPattern=json.dumps(properties["EventPattern"]),
            )
            events.put_targets(
                Rule=properties["Name"], EventBusName=bus, Targets=properties["Targets"]
            )
    return names


def as_aws_config_sends(event: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """The fixture event as AWS Config would emit it in ``account`` and ``region``."""
    detail = json.loads(
        json.dumps(event["detail"])
        .replace(EVENT["account"], account)
        .replace(EVENT["region"], region)
    )
    return {**event, "account": account, "region": region, "detail": detail}


def put_as_aws_config(event: dict[str, Any], account: str, region: str) -> None:
    """On ``account``'s default bus in ``region``, as AWS Config puts it (not ``PutEvents``:
    AWS keeps ``aws.*`` sources to its services)."""
    emit_service_event(
        account,
        region,
        source=event["source"],
        detail_type=event["detail-type"],
        detail=event["detail"],
        resources=event["resources"],
    )


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    member = synthesize({"complianceEventBusArn": BUS_ARN}).json
    view, _ = synth_view("security@example.com")
    return member, view


@pytest.fixture
def organization(
    aws: None, monkeypatch: pytest.MonkeyPatch, templates: tuple[dict[str, Any], dict[str, Any]]
) -> Iterator[Any]:
    """The view in SECURITY/HOME, the member stack in PLACES and in SECURITY/HOME; yields
    ``at(account)`` (switches moto's caller) and the URL of a queue that reads the view's topic."""
    member, view = templates

    def at(account: str) -> None:
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account)

    at(SECURITY)
    names = deploy_events(view, SECURITY, HOME)
    (topic,) = [value for key, value in names.items() if key.startswith("ComplianceTopic")]
    sqs = boto3.client("sqs", region_name=HOME)
    url = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name=HOME).subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    for account, region in [*PLACES, (SECURITY, HOME)]:
        at(account)
        deploy_events(member, account, region)
    yield at, url
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)


def mailbox(at: Any, url: str) -> list[dict[str, Any]]:
    at(SECURITY)
    sqs = boto3.client("sqs", region_name=HOME)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_a_members_change_in_another_region_reaches_the_topic_as_config_sent_it(
    organization: Any,
) -> None:
    at, url = organization
    at(MEMBER)

    put_as_aws_config(EVENT, MEMBER, EVENT["region"])

    (message,) = mailbox(at, url)
    assert set(message) == set(EVENT)
    assert (message["account"], message["region"]) == (MEMBER, EVENT["region"])
    assert message["source"] == "aws.config"
    assert message["detail-type"] == "Config Rules Compliance Change"
    assert message["detail"] == EVENT["detail"]
    assert message["detail"]["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"


def test_every_account_and_region_reaches_the_topic_exactly_once(organization: Any) -> None:
    at, url = organization
    everywhere = [*PLACES, (SECURITY, HOME)]

    for account, region in everywhere:
        at(account)
        put_as_aws_config(as_aws_config_sends(EVENT, account, region), account, region)

    messages = mailbox(at, url)
    assert sorted((m["account"], m["region"]) for m in messages) == sorted(everywhere)
    assert {m["detail"]["awsAccountId"] for m in messages} == {SECURITY, MEMBER}


def test_another_config_rules_changes_stay_where_they_happened(organization: Any) -> None:
    at, url = organization
    other = {**EVENT, "detail": {**EVENT["detail"], "configRuleName": "s3-bucket-versioning"}}

    for account, region in [*PLACES, (SECURITY, HOME)]:
        at(account)
        put_as_aws_config(other, account, region)

    assert mailbox(at, url) == []
