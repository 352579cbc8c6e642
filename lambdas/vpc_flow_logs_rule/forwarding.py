"""Whether a log group forwards to the central destination, from the account's subscription
filter policies: plain data, no AWS calls.

A log group counts as forwarded when an account-level subscription filter policy sends to the
destination and its selection criteria do not exclude the group. For this policy type "the only
supported selectionCriteria filter is LogGroupName NOT IN []" (CloudWatch Logs API Reference,
PutAccountPolicy); without criteria the policy covers every log group. Criteria this module
cannot read select nothing: the rule does not guess that a group is forwarded.

Not checked: a log group's own subscription filter (one DescribeSubscriptionFilters call per
group, which a scheduled run over thousands of VPCs cannot afford), and the policy's filter
pattern (whether it matches the group's records depends on the records' format).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from vpc_flow_logs_rule.model import LogGroup

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_NOT_IN: Final = re.compile(r"\s*LogGroupName\s+NOT\s+IN\s+(\[.*\])\s*", re.DOTALL)


@dataclass(frozen=True)
class SubscriptionFilterPolicy:
    """One entry of DescribeAccountPolicies (policyType SUBSCRIPTION_FILTER_POLICY)."""

    name: str
    destination_arn: str | None
    """The policy document's ``DestinationArn``; None when the document has none."""
    excluded: frozenset[str] | None
    """Log group names the selection criteria leave out; None: criteria not understood."""


def subscription_filter_policy(
    name: str, document: str | None, selection_criteria: str | None
) -> SubscriptionFilterPolicy:
    """Read a policy as DescribeAccountPolicies returns it (document and criteria are text)."""
    destination: str | None = None
    try:
        decoded = json.loads(document or "{}")
    except json.JSONDecodeError:
        decoded = {}
    if isinstance(decoded, dict) and isinstance(decoded.get("DestinationArn"), str):
        destination = decoded["DestinationArn"]
    return SubscriptionFilterPolicy(name, destination, excluded_names(selection_criteria))


def excluded_names(selection_criteria: str | None) -> frozenset[str] | None:
    """The names of ``LogGroupName NOT IN ["a", "b"]``; empty for no criteria; None if unread."""
    if not selection_criteria or not selection_criteria.strip():
        return frozenset()
    match = _NOT_IN.fullmatch(selection_criteria)
    if match is None:
        return None
    try:
        names = json.loads(match[1])
    except json.JSONDecodeError:
        return None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    return frozenset(names)


def forwards(
    log_group_name: str, destination_arn: str, policies: Iterable[SubscriptionFilterPolicy]
) -> bool:
    """Whether one of ``policies`` sends ``log_group_name`` to ``destination_arn``."""
    return any(
        policy.destination_arn == destination_arn
        and policy.excluded is not None
        and log_group_name not in policy.excluded
        for policy in policies
    )


def with_forwarding(
    log_groups: Mapping[str, LogGroup],
    destination_arn: str,
    policies: Iterable[SubscriptionFilterPolicy],
) -> dict[str, LogGroup]:
    """``log_groups`` with ``forwarded_to`` set to the destination for those it reaches."""
    policies = list(policies)
    return {
        name: (
            LogGroup(group.name, group.retention_in_days, frozenset({destination_arn}))
            if forwards(name, destination_arn, policies)
            else group
        )
        for name, group in log_groups.items()
    }
