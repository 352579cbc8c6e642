"""Roles in an embedded AWS for the local_aws tests: trusted by one service, allowed a policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support.accounts import create_role, put_role_policy

if TYPE_CHECKING:
    from local_aws.clients import Credentials
    from local_aws.server import EmbeddedAws


def service_trust(service: str) -> dict[str, Any]:
    """A trust policy that lets ``service`` (e.g. ``lambda.amazonaws.com``) assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}
        ],
    }


def allow(action: str, resource: str = "*") -> dict[str, Any]:
    """A policy of one statement allowing ``action`` (``*``: everything) on ``resource``."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }


def assumed_role(
    aws: EmbeddedAws,
    name: str,
    service: str,
    policy: dict[str, Any] | None = None,
) -> tuple[str, Credentials]:
    """A role trusted by ``service``, with ``policy`` inline if given, assumed as that service
    would (before IAM is enforced): its ARN and the session's credentials."""
    iam = aws.admin.iam()
    arn = create_role(iam, name, service_trust(service))
    if policy is not None:
        put_role_policy(iam, name, "inline", policy)
    return arn, aws.assume_role(arn, f"{name}-session")
