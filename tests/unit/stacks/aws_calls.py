"""Which AWS API operations a module calls, read from its source (no import, no AWS).

A call ``<...>.<client>.<method>(...)`` counts when ``<client>`` is named after the service
(``ec2``, ``iam``, ``logs``, ``config``: how the rule's and the runbook's AWS modules name their
clients) and ``<method>`` is an operation of that service in botocore's model;
``<client>.get_paginator("describe_flow_logs")`` counts as ``describe_flow_logs``. The result
is the IAM action of each operation, e.g. ``ec2:DescribeVpcs``.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import botocore.session

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def aws_actions(source: Path, services: Iterable[str]) -> set[str]:
    """IAM actions of the operations ``source`` calls on clients named after ``services``."""
    session = botocore.session.get_session()
    methods = {
        service: {
            botocore.xform_name(operation): f"{service}:{operation}"
            for operation in session.get_service_model(service).operation_names
        }
        for service in services
    }
    actions: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        service = _receiver_name(node.func.value)
        if service not in methods:
            continue
        method = node.func.attr
        if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
            method = str(node.args[0].value)
        if method in methods[service]:
            actions.add(methods[service][method])
    return actions
