"""LogGroup: created or reused, its retention only ever raised, and its KMS key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from enable_vpc_flow_logs.common import RemediationError
from enable_vpc_flow_logs.log_group import retention_to_set
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    REGION,
    Calls,
    Env,
    before,
    error,
    group_name,
    inject,
    log_group,
    remediate,
    response,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_logs import CloudWatchLogsClient


@pytest.mark.parametrize(
    ("existing", "expected", "writes_retention"),
    [
        pytest.param(30, 365, True, id="shorter is raised"),
        pytest.param(365, 365, False, id="equal is kept"),
        pytest.param(731, 731, False, id="longer is kept"),
        pytest.param(None, None, False, id="never expires is kept"),
    ],
)
def test_existing_log_group_retention(
    env: Env,
    existing: int | None,
    expected: int | None,
    writes_retention: bool,
) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    logs.create_log_group(logGroupName=group_name(vpc_id))
    if existing is not None:
        logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=existing)

    output = remediate(session, vpc_id)

    assert log_group(logs, group_name(vpc_id)).get("retentionInDays") == expected
    assert ("logs:PutRetentionPolicy" in calls.names) is writes_retention
    assert "logs:CreateLogGroup" not in calls.names
    if writes_retention:
        assert (
            f"raised retention of log group {group_name(vpc_id)} from 30 to 365"
            in output["Changes"]
        )


def test_retention_is_set_on_our_group_left_without_one_by_a_failed_run(env: Env) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    # Given a run that created the log group and then failed to set its retention
    inject(session, "cloudwatch-logs.PutRetentionPolicy", [error("AccessDeniedException", "no")])
    with pytest.raises(RemediationError, match="AccessDeniedException"):
        remediate(session, vpc_id)
    assert "retentionInDays" not in log_group(logs, group_name(vpc_id))
    calls.made.clear()

    # When the runbook runs again
    output = remediate(session, vpc_id)

    # Then the group it created gets the requested retention (it read the tags to know)
    assert log_group(logs, group_name(vpc_id))["retentionInDays"] == 365
    assert calls.params("logs:ListTagsForResource") == [
        {"resourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}"}
    ]
    assert calls.params("logs:PutRetentionPolicy") == [
        {"logGroupName": group_name(vpc_id), "retentionInDays": 365}
    ]
    assert (
        f"set retention of log group {group_name(vpc_id)} to 365 days (an earlier run created "
        "it and did not set one)" in output["Changes"]
    )


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="untagged"),
        pytest.param({"ManagedBy": "someone-else"}, id="managed by someone else"),
    ],
)
def test_users_never_expiring_group_is_kept(env: Env, tags: dict[str, str] | None) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    logs.create_log_group(logGroupName=group_name(vpc_id))
    if tags:
        logs.tag_log_group(logGroupName=group_name(vpc_id), tags=tags)

    remediate(session, vpc_id)

    assert "retentionInDays" not in log_group(logs, group_name(vpc_id))
    assert "logs:ListTagsForResource" in calls.names
    assert "logs:PutRetentionPolicy" not in calls.names


def test_log_group_created_by_a_concurrent_run_is_used(
    session: boto3.session.Session, calls: Calls, vpc_id: str, logs: CloudWatchLogsClient
) -> None:
    def other_run() -> None:
        logs.create_log_group(logGroupName=group_name(vpc_id))
        logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=3653)

    before(session, "cloudwatch-logs.CreateLogGroup", other_run)

    output = remediate(session, vpc_id)

    assert log_group(logs, group_name(vpc_id))["retentionInDays"] == 3653
    assert "logs:PutRetentionPolicy" not in calls.names
    assert not [change for change in output["Changes"] if "log group" in change]


# --------------------------------------------------------------------------------------------
# KMS
# --------------------------------------------------------------------------------------------


KEY_REFUSALS = [
    pytest.param(
        "AccessDeniedException",
        "The specified KMS key does not exist or is not allowed to be used with Arn "
        "'arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/x'",
        id="AccessDenied",
    ),
    pytest.param(
        "InvalidParameterException",
        "Unable to validate if specified KMS key is valid.",
        id="InvalidParameter",
    ),
]


def test_new_log_group_is_created_with_the_key(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    output = remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert calls.params("logs:CreateLogGroup")[0]["kmsKeyId"] == key_arn
    assert log_group(logs, group_name(vpc_id))["kmsKeyId"] == key_arn
    assert "logs:AssociateKmsKey" not in calls.names
    assert f"created log group {group_name(vpc_id)} encrypted with {key_arn}" in output["Changes"]


def test_key_is_associated_with_an_existing_group(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    # Given an unencrypted group (moto has no AssociateKmsKey: AWS's empty answer is injected)
    logs.create_log_group(logGroupName=group_name(vpc_id))
    inject(session, "cloudwatch-logs.AssociateKmsKey", [response(200, {})])

    output = remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert calls.params("logs:AssociateKmsKey") == [
        {"logGroupName": group_name(vpc_id), "kmsKeyId": key_arn}
    ]
    assert f"associated KMS key {key_arn} with log group {group_name(vpc_id)}" in output["Changes"]


def test_group_already_using_the_key_is_left_alone(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    logs: CloudWatchLogsClient,
    key_arn: str,
) -> None:
    logs.create_log_group(logGroupName=group_name(vpc_id), kmsKeyId=key_arn)
    logs.put_retention_policy(logGroupName=group_name(vpc_id), retentionInDays=365)

    remediate(session, vpc_id, KmsKeyArn=key_arn)

    assert not [name for name in calls.writes if name.startswith("logs:")]


@pytest.mark.parametrize(("code", "message"), KEY_REFUSALS)
@pytest.mark.parametrize("group_exists", [False, True], ids=["new group", "existing group"])
def test_key_policy_refusal_is_a_clear_error(
    env: Env,
    key_arn: str,
    code: str,
    message: str,
    group_exists: bool,
) -> None:
    session, calls, vpc_id, logs = env.session, env.calls, env.vpc_id, env.logs
    # Given a key whose policy does not let CloudWatch Logs use it
    if group_exists:
        logs.create_log_group(logGroupName=group_name(vpc_id))
    operation = "AssociateKmsKey" if group_exists else "CreateLogGroup"
    inject(session, f"cloudwatch-logs.{operation}", [error(code, message)])

    # When the runbook runs, then it stops with a message naming the key and what to allow
    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id, KmsKeyArn=key_arn)

    text = str(raised.value)
    assert key_arn in text
    assert group_name(vpc_id) in text
    assert message in text
    assert "logs.us-east-1.amazonaws.com" in text
    assert "kms:GenerateDataKey*" in text
    assert "kms:EncryptionContext:aws:logs:arn" in text
    assert f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name(vpc_id)}" in text
    assert "ec2:CreateFlowLogs" not in calls.names


def test_other_log_group_errors_name_the_group(session: boto3.session.Session, vpc_id: str) -> None:
    inject(
        session,
        "cloudwatch-logs.CreateLogGroup",
        [error("LimitExceededException", "Resource limit exceeded.")],
    )

    with pytest.raises(RemediationError, match=r"log group /aws/vpc-flow-logs/vpc-\w+ failed"):
        remediate(session, vpc_id)


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "requested", "expected"),
    [(None, 365, None), (30, 365, 365), (365, 365, None), (3653, 365, None), (1, 3, 3)],
)
@pytest.mark.parametrize("ours", [False, True])
def test_retention_is_only_ever_raised(
    current: int | None, requested: int, expected: int | None, ours: bool
) -> None:
    if current is None and ours:
        expected = requested  # our group that an interrupted run left without a retention
    assert retention_to_set(current, requested, ours=ours) == expected
