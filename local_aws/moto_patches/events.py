"""EventBridge as AWS documents it where moto 5.2 differs, for rules whose targets are a topic or
another event bus.

- An SNS topic target receives the event itself, as JSON, as the message ("The transformed event
  is sent to a target instead of the original event": without a transformer, the original one;
  EventBridge User Guide, "Amazon EventBridge input transformation"). moto raises
  NotImplementedError for SNS targets.
- An event bus target in another account or Region receives the event as it was: same ``id``,
  ``time``, ``account`` and ``region`` (the sender's: a receiving rule "that match[es] events
  that come from the sender account" tells them apart by ``account``; EventBridge User Guide,
  "Sending and receiving Amazon EventBridge events between AWS accounts"). moto puts a new event
  in the receiving account, with that account's id and Region.
- An event that reached a bus through a bus target goes no further to another bus: "If a
  receiver account sets up a rule that sends events received from a sender account on to a
  third account, these events are not sent to the third account", nor between three buses of
  one account (same guide, and "Sending events between event buses in the same account and
  Region"). moto forwards it again.

AWS keeps ``aws.*`` sources to AWS services (``PutEvents`` answers
``NotAuthorizedForSourceException``; moto 5.2 accepts them). Whoever plays an AWS service (a test
playing AWS Config) puts its event on the default bus with :func:`emit_service_event`, as the
service does, not through ``PutEvents``.

Where this stops, as moto does: the receiving bus's policy and the target's role are not
evaluated (a bus target is delivered whoever may put events there: the tests judge those
policies with iam-simulate), the topic's policy and key neither, and a delivery that AWS would
fail (an absent bus, an absent topic) is dropped silently, as AWS only counts it in the rule's
``FailedInvocations`` metric.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.core.utils import iso_8601_datetime_without_milliseconds, unix_time, utcfromtimestamp
from moto.events.models import Rule, events_backends
from moto.events.utils import EventTemplateParser
from moto.sns.exceptions import TopicNotFound
from moto.sns.models import sns_backends
from moto.utilities.arns import parse_arn

if TYPE_CHECKING:
    from collections.abc import Iterator

_delivery = threading.local()
"""``forwarded`` is true while an event that came through a bus target reaches its bus's rules."""


def emit_service_event(
    account_id: str,
    region: str,
    *,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str] | None = None,
) -> str:
    """Put an AWS service's event on ``account_id``'s default bus in ``region``, as the service
    does (its rules see it at once); the event's id."""
    event_id = str(uuid.uuid4())
    now = unix_time()
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": now,  # moto's form; targets get ISO 8601 (``_as_delivered``, moto's SQS target)
        "region": region,
        "resources": list(resources or []),
        "detail": copy.deepcopy(detail),
        "ingestion-time": now,
    }
    bus = events_backends[account_id][region].describe_event_bus("default")
    for rule in list(bus.rules.values()):
        rule.send_to_targets(copy.deepcopy(event))  # type: ignore[arg-type]
    return event_id


def _is_sns(target: dict[str, Any]) -> bool:
    return str(target["Arn"]).split(":")[2] == "sns"


def _is_bus(target: dict[str, Any]) -> bool:
    arn = parse_arn(target["Arn"])
    return bool(arn.service == "events" and arn.resource_type == "event-bus")


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target sees it: ``time`` in ISO 8601 (moto keeps seconds since the epoch),
    without moto's own ``ingestion-time``."""
    delivered = {key: value for key, value in event.items() if key != "ingestion-time"}
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = iso_8601_datetime_without_milliseconds(
            utcfromtimestamp(delivered["time"])
        )
    return delivered


def _publish(target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    transformer = target.get("InputTransformer")
    if transformer:
        payload: Any = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=copy.deepcopy(event),  # type: ignore[arg-type]
        )
    else:
        payload = _as_delivered(event)
    message = payload if isinstance(payload, str) else json.dumps(payload)
    try:
        sns_backends[arn.account][arn.region].publish(message=message, arn=target["Arn"])
    except TopicNotFound:
        return  # AWS: a failed invocation of the rule, nothing the sender sees


def _forward(target: dict[str, Any], event: dict[str, Any]) -> None:
    if getattr(_delivery, "forwarded", False):
        return  # received from another bus: not sent on to a third
    arn = parse_arn(target["Arn"])
    bus = events_backends[arn.account][arn.region].event_buses.get(arn.resource_id)
    if bus is None:
        return
    _delivery.forwarded = True
    try:
        for receiving_rule in list(bus.rules.values()):
            receiving_rule.send_to_targets(copy.deepcopy(event))  # type: ignore[arg-type]
    finally:
        _delivery.forwarded = False


def _send_to_targets(original: Any) -> Any:
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        ours = [t for t in self.targets if _is_sns(t) or _is_bus(t)]
        if not ours:
            original(self, original_event, transform_input)
            return
        if not self.event_pattern.matches_event(original_event):
            return
        theirs = copy.copy(self)
        theirs.targets = [t for t in self.targets if t not in ours]
        if theirs.targets:
            original(theirs, copy.deepcopy(original_event), transform_input)
        for target in ours:
            if _is_sns(target):
                _publish(target, original_event)
            else:
                _forward(target, original_event)

    return send_to_targets


@contextmanager
def patched() -> Iterator[None]:
    """The EventBridge patches, undone on exit."""
    with mock.patch.object(Rule, "send_to_targets", _send_to_targets(Rule.send_to_targets)):
        yield
