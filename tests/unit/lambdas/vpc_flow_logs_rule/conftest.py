"""Fixtures shared by the rule's tests that run against moto."""

from __future__ import annotations

import pytest

from tests.unit.lambdas.vpc_flow_logs_rule.builders import CallCounter, World


@pytest.fixture
def world(aws: None) -> World:
    return World()


@pytest.fixture
def counter(aws: None) -> CallCounter:
    return CallCounter()
