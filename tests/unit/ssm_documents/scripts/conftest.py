"""Every request the runbook script makes in these tests must be one its oldest SDK accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.service_models import ServiceModels, recording

if TYPE_CHECKING:
    from collections.abc import Iterator

BOTOCORE_FLOOR = "1.31.0"


@pytest.fixture(autouse=True)
def requests_valid_at_the_sdk_floor() -> Iterator[None]:
    models = ServiceModels(BOTOCORE_FLOOR)
    with recording() as requests:
        yield
    problems = [problem for request in requests for problem in models.problems(request)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
