"""Fixtures of the moto patch tests: moto with and without the patches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def unpatched_aws() -> Iterator[None]:
    """moto's mock_aws as moto ships it, to show the gap each patch fills."""
    with mock_aws():
        yield
