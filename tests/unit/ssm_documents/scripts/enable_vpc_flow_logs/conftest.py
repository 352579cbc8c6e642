"""Fixtures of the runbook script's tests (the builders they use are in ``builders``).

Every request the script makes in these tests must be one its oldest SDK accepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import botocore.retries.bucket
import pytest

from tests.support.accounts import World, new_session
from tests.support.service_models import ServiceModels, recording
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    BOTOCORE_FLOOR,
    BUCKET,
    BUCKET_ARN,
    REGION,
    Calls,
    Env,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    import boto3
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient


@pytest.fixture(autouse=True)
def requests_valid_at_the_sdk_floor() -> Iterator[None]:
    models = ServiceModels(BOTOCORE_FLOOR)
    with recording() as requests:
        yield
    problems = [problem for request in requests for problem in models.problems(request)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def world(aws: None) -> World:
    """The account in moto, arranged through a session the script does not use."""
    return World()


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    """The session the script's clients come from (recorded by ``calls``)."""
    return new_session(region_name=REGION)


@pytest.fixture
def calls(session: boto3.session.Session) -> Calls:
    recorder = Calls()
    session.events.register("before-parameter-build.*.*", recorder.record)
    return recorder


@pytest.fixture
def ec2(world: World) -> EC2Client:
    return world.ec2


@pytest.fixture
def iam(world: World) -> IAMClient:
    return world.iam


@pytest.fixture
def logs(world: World) -> CloudWatchLogsClient:
    return world.logs


@pytest.fixture
def vpc_id(world: World) -> str:
    return world.vpc()


@pytest.fixture
def sleeps() -> list[float]:
    """The script's waits, recorded instead of slept (``remediate(..., sleeps=sleeps)``)."""
    return []


@pytest.fixture
def env(session: boto3.session.Session, calls: Calls, vpc_id: str, world: World) -> Env:
    return Env(session, calls, vpc_id, world)


@pytest.fixture
def key_arn(world: World) -> str:
    return world.session.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def bucket(world: World) -> str:
    arn = world.bucket(BUCKET)
    assert arn == BUCKET_ARN
    return arn


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off, recorded instead of slept; its rate limiter does not wait."""
    waits: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", waits.append)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "_sleep_amount", lambda *_: 0)
    return waits
