"""Edit a copy of a synthesized assembly: take one action away from some roles' policies."""

from __future__ import annotations

import copy
import json
import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def copy_without_action(assembly: Path, destination: Path, service: str, action: str) -> Path:
    """A copy of the assembly whose roles trusted by ``service`` no longer grant ``action``."""
    shutil.copytree(assembly, destination)
    manifest = json.loads((destination / "manifest.json").read_text())
    (template_file,) = [
        artifact["properties"]["templateFile"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    ]
    template = json.loads((destination / template_file).read_text())
    removed = _remove_action(template, service, action)
    assert removed, f"no role trusted by {service} grants {action}: the control would prove nothing"
    (destination / template_file).write_text(json.dumps(template))
    return destination


def _remove_action(template: dict[str, Any], service: str, action: str) -> int:
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


def copy_with_resource(assembly: Path, destination: Path, sid: str, resource: str) -> Path:
    """A copy of the assembly whose policy statement ``sid`` applies to ``resource`` only."""
    shutil.copytree(assembly, destination)
    manifest = json.loads((destination / "manifest.json").read_text())
    (template_file,) = [
        artifact["properties"]["templateFile"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    ]
    template = json.loads((destination / template_file).read_text())
    edited = 0
    for resource_definition in template["Resources"].values():
        properties = resource_definition.get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        if resource_definition["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Sid") == sid:
                    statement["Resource"] = resource
                    edited += 1
    assert edited, f"no policy statement {sid}: the control would prove nothing"
    (destination / template_file).write_text(json.dumps(template))
    return destination
