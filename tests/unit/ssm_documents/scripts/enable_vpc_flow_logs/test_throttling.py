"""Throttling: botocore's adaptive retries absorb it up to the attempt limit, then it fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from enable_vpc_flow_logs.common import MAX_ATTEMPTS, RemediationError
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    remediate,
    throttled,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import boto3
    from botocore.awsrequest import AWSResponse


def test_throttling_is_absorbed_by_the_sdk_up_to_its_attempt_limit(
    session: boto3.session.Session,
    vpc_id: str,
    backoff: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given every client a step makes is recorded
    made: list[Any] = []
    make = session.client

    def client(*args: Any, **kwargs: Any) -> Any:
        made.append(make(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(session, "client", client)
    # And EC2 throttles DescribeVpcs (over HTTP, so botocore's retry handler sees it)
    throttled_calls = MAX_ATTEMPTS - 1
    answered: list[int] = []

    def throttle(**_: Any) -> AWSResponse | None:
        if len(answered) < throttled_calls:
            answered.append(1)
            return throttled()
        return None

    session.events.register("before-send.ec2.DescribeVpcs", cast("Callable[..., None]", throttle))

    # When the runbook runs, it still succeeds: the last attempt gets through
    output = remediate(session, vpc_id)

    # Then botocore backed off once per throttled answer, as every step's clients are set to
    assert output["FlowLogId"].startswith("fl-")
    assert len(backoff) == throttled_calls
    services = [made_client.meta.service_model.service_name for made_client in made]
    assert services == ["ec2", "iam", "logs", "ec2", "ec2"]  # one per step, in order
    for made_client in made:
        assert made_client.meta.config.retries == {
            "mode": "adaptive",
            "total_max_attempts": MAX_ATTEMPTS,
        }
        assert "vpc-flow-logs-guard" in made_client.meta.config.user_agent_extra


@pytest.mark.usefixtures("backoff")
def test_throttling_beyond_the_attempt_limit_is_a_clear_error(
    session: boto3.session.Session, vpc_id: str
) -> None:
    # Given EC2 throttles every DescribeVpcs
    sent: list[int] = []

    def throttle(**_: Any) -> AWSResponse:
        sent.append(1)
        return throttled()

    session.events.register("before-send.ec2.DescribeVpcs", cast("Callable[..., None]", throttle))

    # When the runbook runs, then it fails naming the call, after exactly the attempt limit
    with pytest.raises(RemediationError, match=f"describing VPC {vpc_id} failed: RequestLimit"):
        remediate(session, vpc_id)
    assert len(sent) == MAX_ATTEMPTS
