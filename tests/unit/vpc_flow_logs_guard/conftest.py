"""Fixtures of the command's tests."""

from __future__ import annotations

import pytest

from tests.unit.vpc_flow_logs_guard.builders import Organization


@pytest.fixture
def organization(aws: None) -> Organization:
    return Organization()
