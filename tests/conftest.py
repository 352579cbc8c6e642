"""Fixtures shared by every test: no test may reach real AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a fixed region, and no cached default session."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "vpc-flow-logs-rule")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "VpcFlowLogsGuard")
    boto3.DEFAULT_SESSION = None
    yield
    boto3.DEFAULT_SESSION = None


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's mock_aws, patched to behave as AWS documents (local_aws.moto_patches)."""
    from moto import mock_aws

    from local_aws.moto_patches import patch_moto

    with mock_aws(), patch_moto():
        yield
