"""Step ``LogGroup`` (CloudWatch Logs only): the log group the flow log delivers to.

Creates it with the retention, the ``ManagedBy`` tag and the KMS key if one is requested. An
existing group gets a shorter retention raised; a longer one is kept, and so is one that never
expires, unless the group carries our tag (a run that failed half-way created it and did not
set its retention). A requested key is associated. Outputs the group's name, ARN and retention.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

import boto3
from botocore.exceptions import ClientError

from enable_vpc_flow_logs.common import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    RETRY_CONFIG,
    RemediationError,
    aws_error,
    failing,
)

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import LogGroupTypeDef

    from enable_vpc_flow_logs.request import Request

NEVER_EXPIRES = "never expires"


class LogGroupInput(TypedDict):
    """The step's InputPayload: ``CheckInput``'s validated request."""

    Request: str


class LogGroupOutput(TypedDict):
    """The step's Payload; all but ``Changes`` are its outputs."""

    LogGroupName: str
    LogGroupArn: str
    RetentionInDays: str
    """The group's retention in days once the step is done, or ``never expires``."""
    Changes: list[str]


def run(events: LogGroupInput, session: boto3.session.Session) -> LogGroupOutput:
    """Create or bring up to date the log group with a client from ``session``."""
    request: Request = json.loads(events["Request"])
    logs = session.client("logs", region_name=request["Region"], config=RETRY_CONFIG)
    changes: list[str] = []
    retention = ensure_log_group(logs, request, changes)
    return {
        "LogGroupName": request["LogGroupName"],
        "LogGroupArn": request["LogGroupArn"],
        "RetentionInDays": NEVER_EXPIRES if retention is None else str(retention),
        "Changes": changes,
    }


def ensure_log_group(
    logs: CloudWatchLogsClient, request: Request, changes: list[str]
) -> int | None:
    """Create the log group, or bring its retention and KMS key up to the request.

    Returns the group's retention in days, None if it never expires.
    """
    name, wanted, key = request["LogGroupName"], request["RetentionInDays"], request["KmsKeyArn"]
    with failing(f"log group {name}"):
        group = _find_log_group(logs, name)
        if group is None:
            group = _create_log_group(logs, request, changes)
            if group is None:  # created just now, with the key if one was requested
                logs.put_retention_policy(logGroupName=name, retentionInDays=wanted)
                changes.append(f"set retention of log group {name} to {wanted} days")
                return wanted
        current = group.get("retentionInDays")
        # Only a group that never expires needs its tags: ours gets a retention, a user's not.
        ours = current is None and _log_group_is_ours(logs, request["LogGroupArn"])
        raise_to = retention_to_set(current, wanted, ours=ours)
        if raise_to is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=raise_to)
            changes.append(
                f"set retention of log group {name} to {raise_to} days (an earlier run created "
                "it and did not set one)"
                if current is None
                else f"raised retention of log group {name} from {current} to {raise_to}"
            )
        if key and group.get("kmsKeyId") != key:
            try:
                logs.associate_kms_key(logGroupName=name, kmsKeyId=key)
            except ClientError as error:
                _raise_if_kms_refusal(request, error)
                raise
            changes.append(f"associated KMS key {key} with log group {name}")
        return current if raise_to is None else raise_to


def retention_to_set(current: int | None, requested: int, *, ours: bool = False) -> int | None:
    """The retention to set on an existing log group, or None to leave it as it is.

    A longer retention is kept. A group that never expires (``current`` None) keeps doing so,
    unless this runbook created it (``ours``): then an earlier run created it and failed before
    its PutRetentionPolicy, and the group gets the requested retention now.
    """
    if current is None:
        return requested if ours else None
    if current >= requested:
        return None
    return requested


def _find_log_group(logs: CloudWatchLogsClient, name: str) -> LogGroupTypeDef | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group.get("logGroupName") == name:
                return group
    return None


def _log_group_is_ours(logs: CloudWatchLogsClient, log_group_arn: str) -> bool:
    tags = logs.list_tags_for_resource(resourceArn=log_group_arn).get("tags", {})
    return tags.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def _create_log_group(
    logs: CloudWatchLogsClient, request: Request, changes: list[str]
) -> LogGroupTypeDef | None:
    """Create the group; None when created, the existing group when another run won the race."""
    name, key = request["LogGroupName"], request["KmsKeyArn"]
    arguments: dict[str, Any] = {"logGroupName": name, "tags": {MANAGED_BY_KEY: MANAGED_BY_VALUE}}
    if key:
        arguments["kmsKeyId"] = key
    try:
        logs.create_log_group(**arguments)
    except logs.exceptions.ResourceAlreadyExistsException:
        group = _find_log_group(logs, name)
        if group is None:
            raise RemediationError(
                f"log group {name}: CreateLogGroup says it exists but DescribeLogGroups cannot "
                "find it"
            ) from None
        return group
    except ClientError as error:
        _raise_if_kms_refusal(request, error)
        raise
    changes.append(f"created log group {name}" + (f" encrypted with {key}" if key else ""))
    return None


def _raise_if_kms_refusal(request: Request, error: ClientError) -> None:
    code, message = aws_error(error)
    if request["KmsKeyArn"] and is_kms_refusal(code, message):
        raise RemediationError(kms_refusal_message(request, message)) from error


def is_kms_refusal(code: str, message: str) -> bool:
    """CloudWatch Logs' answer when a KMS key does not exist or its policy does not allow it."""
    lowered = message.lower()
    return code in {"AccessDeniedException", "InvalidParameterException"} and (
        "kms" in lowered or "key" in lowered
    )


def kms_refusal_message(request: Request, aws_message: str) -> str:
    """Explain what the key policy must allow for CloudWatch Logs to use the key."""
    region = request["Region"]
    return (
        f"CloudWatch Logs cannot use KMS key {request['KmsKeyArn']} for log group "
        f"{request['LogGroupName']}: {aws_message}. The key must exist in {region} and its key "
        f"policy must allow the principal logs.{region}.amazonaws.com the actions kms:Encrypt*, "
        "kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and kms:Describe*, with the "
        "condition ArnLike kms:EncryptionContext:aws:logs:arn = "
        f"{request['LogGroupArn']} (or a pattern that includes it)."
    )


def handler(events: LogGroupInput, context: object) -> LogGroupOutput:
    """``aws:executeScript`` entry point."""
    return run(events, boto3.session.Session())
