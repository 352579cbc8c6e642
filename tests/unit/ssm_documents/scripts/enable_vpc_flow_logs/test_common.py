"""What every step shares: its clients' retries, its errors, how it names the destination."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from enable_vpc_flow_logs.common import (
    MAX_ATTEMPTS,
    RETRY_CONFIG,
    RemediationError,
    aws_error,
    backoff_delays,
    destination_text,
    failing,
)
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    BUCKET_ARN,
    request,
    to_s3,
)


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeVpcs")


def test_clients_retry_adaptively_and_say_who_calls() -> None:
    config: Any = RETRY_CONFIG
    assert config.retries == {"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS}
    assert MAX_ATTEMPTS == 10
    assert config.user_agent_extra == "vpc-flow-logs-guard"


def test_an_aws_error_becomes_a_remediation_error_naming_what_was_done() -> None:
    with pytest.raises(RemediationError) as raised, failing("describing VPC vpc-1"):
        raise client_error("UnauthorizedOperation", "You are not authorized")

    assert str(raised.value) == (
        "describing VPC vpc-1 failed: UnauthorizedOperation: You are not authorized"
    )
    assert isinstance(raised.value.__cause__, ClientError)


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(KeyError), failing("anything"):
        raise KeyError("x")


def test_an_error_without_code_or_message_is_still_described() -> None:
    error = ClientError({"Error": {}}, "DescribeVpcs")

    assert aws_error(error) == ("Unknown", str(error))
    assert aws_error(client_error("Throttling", "slow down")) == ("Throttling", "slow down")


def test_the_destination_is_named_as_a_person_reads_it() -> None:
    assert destination_text(request()) == "log group /aws/vpc-flow-logs/vpc-0123456789abcdef0"
    assert destination_text(request(**to_s3(f"{BUCKET_ARN}/a/"))) == f"S3 {BUCKET_ARN}/a"


def test_backoff_doubles_up_to_its_cap_within_its_budget() -> None:
    assert backoff_delays(60.0) == [2.0, 4.0, 8.0, 16.0, 30.0]
    assert backoff_delays(1.0) == []
    assert backoff_delays(100.0, first=10.0, cap=25.0) == [10.0, 20.0, 25.0, 25.0]
