"""Reads what AWS Config sends (parsed by Powertools' AWSConfigRuleEvent) into plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from vpc_flow_logs_rule.model import FLOW_LOG_RESOURCE_TYPE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.data_classes.aws_config_rule_event import (
        AWSConfigRuleEvent,
    )

CHANGE: Final = "ConfigurationItemChangeNotification"
OVERSIZED_CHANGE: Final = "OversizedConfigurationItemChangeNotification"
SCHEDULED: Final = "ScheduledNotification"
MESSAGE_TYPES: Final = (CHANGE, OVERSIZED_CHANGE, SCHEDULED)


class UnsupportedEventError(ValueError):
    """An event this rule is not built for (fail loudly rather than guess)."""


@dataclass(frozen=True)
class ChangedResource:
    """The resource a change notification is about.

    ``tags`` is None when the notification does not carry them (an oversized one).
    ``logged_resource_id`` is, for a flow log, the VPC, subnet or interface its configuration
    names: None when the notification carries no configuration (oversized, deleted).
    """

    resource_type: str
    resource_id: str
    status: str
    capture_time: datetime
    tags: Mapping[str, str] | None
    left_scope: bool
    logged_resource_id: str | None = None


def parse_time(text: str) -> datetime:
    """Config's ISO 8601 times (``2023-04-27T15:03:11.636Z``) as aware datetimes."""
    return datetime.fromisoformat(text)


def rule_parameters(event: AWSConfigRuleEvent) -> str | Mapping[str, object] | None:
    """The raw ``ruleParameters`` (JSON text); Powertools' property raises when it is absent."""
    value = event.get("ruleParameters")
    if value is None or isinstance(value, str | dict):
        return value
    return str(value)


def message_type(event: AWSConfigRuleEvent) -> str:
    kind = event.invoking_event.get("messageType")
    if kind not in MESSAGE_TYPES:
        raise UnsupportedEventError(
            f"Unsupported messageType {kind!r}; this rule handles {', '.join(MESSAGE_TYPES)}"
        )
    return str(kind)


def notification_time(event: AWSConfigRuleEvent) -> datetime:
    return parse_time(event.invoking_event["notificationCreationTime"])


def changed_resource(event: AWSConfigRuleEvent) -> ChangedResource:
    """The resource of a (possibly oversized) configuration item change notification."""
    invoking = event.invoking_event
    kind = message_type(event)
    configuration: Mapping[str, object] | None = None
    if kind == CHANGE:
        item = invoking["configurationItem"]
        if item["resourceType"] == FLOW_LOG_RESOURCE_TYPE:
            configuration = _configuration_or_previous(item, invoking.get("configurationItemDiff"))
        raw_tags = item.get("tags")
        tags: Mapping[str, str] | None = (
            {str(key): str(value) for key, value in raw_tags.items()}
            if isinstance(raw_tags, dict)
            else {}
        )
    elif kind == OVERSIZED_CHANGE:
        item = invoking["configurationItemSummary"]
        tags = None
    else:
        raise UnsupportedEventError(f"{kind} does not carry a configuration item")
    return ChangedResource(
        resource_type=item["resourceType"],
        resource_id=item["resourceId"],
        status=item["configurationItemStatus"],
        capture_time=parse_time(item["configurationItemCaptureTime"]),
        tags=tags,
        left_scope=bool(event.get("eventLeftScope", False)),
        logged_resource_id=logged_resource_id(configuration),
    )


def _configuration_or_previous(
    item: Mapping[str, object], diff: object
) -> Mapping[str, object] | None:
    """The item's configuration; for a deleted item (none), the one the diff says it had.

    A deletion's ``configurationItemDiff`` holds the last configuration as the ``previousValue``
    of its ``Configuration`` property; without it the caller falls back to the history.
    """
    configuration = item.get("configuration")
    if isinstance(configuration, dict):
        return configuration
    changed = diff.get("changedProperties") if isinstance(diff, dict) else None
    whole = changed.get("Configuration") if isinstance(changed, dict) else None
    previous = whole.get("previousValue") if isinstance(whole, dict) else None
    return previous if isinstance(previous, dict) else None


def logged_resource_id(configuration: Mapping[str, object] | None) -> str | None:
    """The VPC, subnet or interface an ``AWS::EC2::FlowLog`` configuration logs, if it says.

    Config records flow logs with the CloudFormation resource's properties; ``resourceId`` is the
    documented name, ``ResourceId`` the CloudFormation one, so both are read.
    """
    if not configuration:
        return None
    for key in ("resourceId", "ResourceId"):
        value = configuration.get(key)
        if isinstance(value, str) and value:
            return value
    return None
