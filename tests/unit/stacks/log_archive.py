"""What the log-archive stack's tests share: the accounts around it, readers of its template
(the flow-logs bucket, its policy, a role's inline statements), the IAM simulator's requests
of the callers AWS documents, and Firehose's expansion of an S3 prefix.

The stack itself is synthesized by ``synthesis.synth_log_archive`` (for ``synthesis.ORG``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from tests.support import iam_simulator
from tests.unit.stacks.iam_policies import ACCOUNT, resolve

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

OTHER_ORG: Final = "o-zzzzzzzzzz"
MEMBER_ACCOUNT: Final = "444455556666"
DELIVERY: Final = "delivery.logs.amazonaws.com"
FLOW_LOG_KEY: Final = f"AWSLogs/{MEMBER_ACCOUNT}/vpcflowlogs/eu-west-1/2026/11/23/log.gz"
"""Where log delivery writes a member's flow-log file (S3 destination)."""
ADMIN_POLICY: Final = {
    "name": "admin",
    "policy": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
}
"""An identity policy allowing everything: the resource policy alone must refuse."""


# --- the template -------------------------------------------------------------------------------


def flow_logs_bucket(template: Any) -> tuple[str, dict[str, Any]]:
    """The flow-logs bucket (the one with access logging): (logical id, resource)."""
    (found,) = [
        (logical_id, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::S3::Bucket"
        and "LoggingConfiguration" in resource["Properties"]
    ]
    return found


def bucket_policy(template: Any, bucket_id: str) -> dict[str, Any]:
    """The policy of bucket ``bucket_id``, intrinsics resolved."""
    (policy,) = [
        resource["Properties"]["PolicyDocument"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::S3::BucketPolicy"
        and resource["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    resolved: dict[str, Any] = resolve(policy, template["Resources"])
    return resolved


def inline_statements(role_resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the role's one inline policy."""
    (policy,) = role_resource["Properties"]["Policies"]
    found: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return found


def firehose_stream(template: Any, name: str) -> dict[str, Any]:
    """The Firehose delivery stream named ``name``."""
    found: dict[str, Any]
    (found,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"
        and r["Properties"]["DeliveryStreamName"] == name
    ]
    return found


def stream_s3_configuration(template: Any, name: str) -> dict[str, Any]:
    """The ``ExtendedS3DestinationConfiguration`` of stream ``name``, as synthesized."""
    config: dict[str, Any] = firehose_stream(template, name)["Properties"][
        "ExtendedS3DestinationConfiguration"
    ]
    return config


def stream_role(template: Any, name: str) -> tuple[str, dict[str, Any]]:
    """The role stream ``name`` writes as: (logical id, resource with intrinsics resolved)."""
    logical_id: str = stream_s3_configuration(template, name)["RoleARN"]["Fn::GetAtt"][0]
    return logical_id, resolve(template["Resources"][logical_id], template["Resources"])


# --- requests, evaluated by the IAM simulator ---------------------------------------------------


def request(
    principal: str,
    action: str,
    resource: str,
    context: Mapping[str, str | Sequence[str]],
    identity: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A request for ``simulate``, over TLS; ``identity``: the caller's policies."""
    return {
        "principal": principal,
        "action": action,
        "resource": resource,
        "context": {"aws:SecureTransport": "true", **context},
        "identity": identity or [],
    }


def delivery(org: str, key: str, **context: str) -> dict[str, Any]:
    """Log delivery writing object ``key`` for a member of ``org``, with the context the
    service sends (add ``resource``)."""
    return {
        "principal": DELIVERY,
        "action": "s3:PutObject",
        "key": key,
        "context": {
            "aws:SourceOrgID": org,
            "aws:SourceAccount": MEMBER_ACCOUNT,
            "aws:PrincipalServiceName": DELIVERY,
            "aws:SecureTransport": "true",
            "s3:x-amz-acl": "bucket-owner-full-control",
            **context,
        },
    }


def simulate(policy: dict[str, Any], requests: list[dict[str, Any]]) -> list[str]:
    """The simulator's decision (Allowed / ImplicitlyDenied / ExplicitlyDenied) per request,
    ``policy`` being the resource's policy, in the log-archive account."""
    return iam_simulator.simulate(
        [
            (
                iam_simulator.Request(
                    principal=request["principal"],
                    action=request["action"],
                    resource=request["resource"],
                    context=request["context"],
                    account_id=ACCOUNT,
                ),
                iam_simulator.Policies(
                    identity={item["name"]: item["policy"] for item in request.get("identity", [])},
                    resource=policy,
                ),
            )
            for request in requests
        ]
    )


# --- Firehose -----------------------------------------------------------------------------------


def render(prefix: str, keys: dict[str, str], year: str, month: str, day: str) -> str:
    """A prefix as Firehose expands its ``!{partitionKeyFromQuery:}`` and ``!{timestamp:}``."""
    dates = {"yyyy": year, "MM": month, "dd": day}
    rendered = re.sub(r"!\{partitionKeyFromQuery:(\w+)\}", lambda m: keys[m[1]], prefix)
    rendered = re.sub(r"!\{timestamp:(\w+)\}", lambda m: dates[m[1]], rendered)
    assert "!{" not in rendered, f"unexpanded namespace in {rendered}"
    return rendered
