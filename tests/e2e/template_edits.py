"""Edit a copy of a synthesized assembly: narrow what some of its policies grant.

Each edit changes the copy's template in place and returns how many statements it changed; an
edit that changes nothing fails, since a control on an unchanged template would prove nothing.
"""

from __future__ import annotations

import copy
import json
import shutil
from typing import TYPE_CHECKING, Any

from local_aws.assembly import CloudAssembly

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

Template = dict[str, Any]


def edited_copy(
    assembly: Path, destination: Path, edit: Callable[[Template], int], what: str
) -> Path:
    """A copy of the assembly (its one stack's template changed by ``edit``), in ``destination``.

    ``what`` says what the edit looks for, for the failure when it finds nothing.
    """
    shutil.copytree(assembly, destination)
    stack = CloudAssembly.load(destination).stack()
    template = stack.template
    assert edit(template), f"no {what}: the control would prove nothing"
    stack.template_path.write_text(json.dumps(template))
    return destination


def copy_without_action(assembly: Path, destination: Path, service: str, action: str) -> Path:
    """A copy of the assembly whose roles trusted by ``service`` no longer grant ``action``."""
    return edited_copy(
        assembly,
        destination,
        lambda template: _remove_action(template, service, action),
        f"role trusted by {service} that grants {action}",
    )


def copy_with_resource(assembly: Path, destination: Path, sid: str, resource: str) -> Path:
    """A copy of the assembly whose policy statement ``sid`` applies to ``resource`` only."""
    return edited_copy(
        assembly,
        destination,
        lambda template: _set_resource(template, sid, resource),
        f"policy statement {sid}",
    )


def _remove_action(template: Template, service: str, action: str) -> int:
    resources = template["Resources"]
    roles = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
        and service in json.dumps(resource["Properties"]["AssumeRolePolicyDocument"])
    }
    documents = [
        policy["PolicyDocument"]
        for logical_id in roles
        for policy in resources[logical_id]["Properties"].get("Policies", [])
    ]
    documents += [
        resource["Properties"]["PolicyDocument"]
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and any(role.get("Ref") in roles for role in resource["Properties"].get("Roles", []))
    ]
    removed = 0
    for document in documents:
        kept = []
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if action in actions:
                removed += 1
                statement = copy.deepcopy(statement)  # noqa: PLW2901
                statement["Action"] = [item for item in actions if item != action]
                if not statement["Action"]:
                    continue
            kept.append(statement)
        document["Statement"] = kept
    return removed


def _set_resource(template: Template, sid: str, resource: str) -> int:
    edited = 0
    for definition in template["Resources"].values():
        properties = definition.get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        if definition["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Sid") == sid:
                    statement["Resource"] = resource
                    edited += 1
    return edited
