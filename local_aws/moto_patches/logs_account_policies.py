"""CloudWatch Logs account-level subscription filter policies, which moto 5.2 lacks altogether.

- ``PutAccountPolicy``, ``DescribeAccountPolicies`` and ``DeleteAccountPolicy`` for the policy
  type ``SUBSCRIPTION_FILTER_POLICY`` (CloudWatch Logs API Reference): one such policy per
  account and Region ("Each account can have one account-level subscription filter policy per
  Region"), ``selectionCriteria`` only as ``LogGroupName NOT IN [...]``, scope ``ALL``, a policy
  document with ``DestinationArn`` and optionally ``FilterPattern`` and ``Distribution``.
  Other policy types raise NotImplementedError.
- Delivery: events put into a log group the policy selects, and that its filter pattern matches,
  go to the policy's destination as CloudWatch Logs sends them (a GZIP-compressed
  ``DATA_MESSAGE`` with ``owner`` the sending account), into the Firehose stream the destination
  targets, which writes to S3 as its configuration says (:mod:`.firehose`).

Where this stops: the destination's access policy and role are not evaluated (moto's backends
deliver, with no caller); filter patterns are only the empty one (every event) and
space-delimited ones (``[a, b=2, c="eni-*"]``).
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import re
import time
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Final
from unittest import mock

from moto.firehose.models import firehose_backends
from moto.logs.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from moto.logs.models import LogStream, logs_backends
from moto.logs.responses import LogsResponse
from moto.utilities.arns import parse_arn

if TYPE_CHECKING:
    from collections.abc import Iterator

SUBSCRIPTION_FILTER_POLICY: Final = "SUBSCRIPTION_FILTER_POLICY"
_NOT_IN: Final = re.compile(r"\s*LogGroupName\s+NOT\s+IN\s+(\[.*\])\s*", re.DOTALL)
_FIELD: Final = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*("[^"]*"|[^,\s\]]+))?\s*')


def _policies(backend: Any) -> dict[str, dict[str, Any]]:
    """The backend's subscription filter policies by name (gone when moto resets it)."""
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_account_policies", {})
    return store


def _excluded(criteria: str | None) -> list[str]:
    if not criteria:
        return []
    match = _NOT_IN.fullmatch(criteria)
    names = json.loads(match[1]) if match else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        # "the only supported selectionCriteria filter is LogGroupName NOT IN []"
        raise InvalidParameterException(f"Invalid selectionCriteria: {criteria}")
    return names


def _space_delimited(pattern: str) -> list[tuple[str, str | None]]:
    """``[a, b=2, c="eni-*"]`` as (field, condition) pairs; NotImplementedError otherwise."""
    text = pattern.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise NotImplementedError(f"the embedded AWS matches no filter pattern like {pattern!r}")
    fields = []
    for part in text[1:-1].split(","):
        match = _FIELD.fullmatch(part)
        if match is None:
            raise NotImplementedError(f"the embedded AWS cannot read {part!r} in {pattern!r}")
        fields.append((match[1], match[2].strip('"') if match[2] else None))
    return fields


def matches(pattern: str, message: str) -> bool:
    """Whether a log event matches: every event for an empty pattern; for a space-delimited
    one, as many fields as the pattern names, each condition met (``*`` any characters)."""
    if not pattern.strip():
        return True
    fields = _space_delimited(pattern)
    values = message.split()
    if len(values) != len(fields):
        return False
    return all(
        condition is None or fnmatch.fnmatchcase(value, condition)
        for (_, condition), value in zip(fields, values, strict=True)
    )


def _put_account_policy(self: Any) -> str:
    policy_type = self._get_param("policyType")
    if policy_type != SUBSCRIPTION_FILTER_POLICY:
        raise NotImplementedError(f"the embedded AWS has no {policy_type} account policies")
    name = self._get_param("policyName")
    document_text = self._get_param("policyDocument")
    criteria = self._get_param("selectionCriteria")
    _excluded(criteria)
    document = json.loads(document_text)
    destination = document.get("DestinationArn")
    if not isinstance(destination, str):
        raise InvalidParameterException("The policy document has no DestinationArn")
    if document.get("FilterPattern", "").strip():
        _space_delimited(document["FilterPattern"])  # refuse what delivery could not match
    backend = self.logs_backend
    arn = parse_arn(destination)
    if arn.service == "logs" and arn.region != backend.region_name:
        raise InvalidParameterException(
            "The sending account's log groups and the destination must be in the same Region"
        )
    if (
        arn.service == "logs"
        and destination not in logs_backends[arn.account][arn.region].destinations
    ):
        raise ResourceNotFoundException("The specified destination does not exist.")
    policies = _policies(backend)
    if policies and name not in policies:
        raise LimitExceededException()
    policy = {
        "policyName": name,
        "policyDocument": document_text,
        "policyType": policy_type,
        "scope": self._get_param("scope") or "ALL",
        "lastUpdatedTime": int(time.time() * 1000),
        "accountId": backend.account_id,
    }
    if criteria:
        policy["selectionCriteria"] = criteria
    policies[name] = policy
    return json.dumps({"accountPolicy": policy})


def _describe_account_policies(self: Any) -> str:
    policy_type = self._get_param("policyType")
    name = self._get_param("policyName")
    found = [
        policy
        for policy in _policies(self.logs_backend).values()
        if policy["policyType"] == policy_type and name in (None, policy["policyName"])
    ]
    return json.dumps({"accountPolicies": found})


def _delete_account_policy(self: Any) -> str:
    policies = _policies(self.logs_backend)
    name = self._get_param("policyName")
    if self._get_param("policyType") != SUBSCRIPTION_FILTER_POLICY or name not in policies:
        raise ResourceNotFoundException("Policy with the specified name does not exist.")
    del policies[name]
    return ""


def _deliver(stream: Any, policy: dict[str, Any], events: list[dict[str, Any]]) -> None:
    document = json.loads(policy["policyDocument"])
    pattern = document.get("FilterPattern", "")
    selected = [event for event in events if matches(pattern, event["message"])]
    if not selected:
        return
    arn = parse_arn(document["DestinationArn"])
    destination = logs_backends[arn.account][arn.region].destinations[document["DestinationArn"]]
    target = parse_arn(destination.target_arn)
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": stream.account_id,
        "logGroup": stream.log_group.name,
        "logStream": stream.log_stream_name,
        "subscriptionFilters": [policy["policyName"]],
        "logEvents": selected,
    }
    data = gzip.compress(json.dumps(message, separators=(",", ":")).encode())
    firehose = firehose_backends[target.account][target.region]
    firehose.put_record_batch(target.resource_id, [{"Data": data}])


def _put_log_events(original: Any) -> Any:
    def put_log_events(self: Any, log_events: list[dict[str, Any]]) -> str:
        before = len(self.events)
        result = original(self, log_events)
        events = [
            {"id": event.event_id, "timestamp": event.timestamp, "message": event.message}
            for event in self.events[before:]
        ]
        backend = logs_backends[self.account_id][self.region]
        for policy in list(_policies(backend).values()):
            if self.log_group.name not in _excluded(policy.get("selectionCriteria")):
                _deliver(self, policy, events)
        return str(result)

    return put_log_events


@contextmanager
def patched() -> Iterator[None]:
    """Account-level subscription filter policies and their delivery, while entered."""
    with ExitStack() as stack:
        for name, method in (
            ("put_account_policy", _put_account_policy),
            ("describe_account_policies", _describe_account_policies),
            ("delete_account_policy", _delete_account_policy),
        ):
            stack.enter_context(mock.patch.object(LogsResponse, name, method, create=True))
        stack.enter_context(
            mock.patch.object(
                LogStream, "put_log_events", _put_log_events(LogStream.put_log_events)
            )
        )
        yield
