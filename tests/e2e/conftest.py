"""The real app, synthesized once per session with the demo's settings, run on an embedded AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from local_aws.run import LocalDeployment
from local_aws.scenario import DEMO_CONTEXT, run_scenario
from local_aws.synth import synthesize
from tests.e2e.least_privilege import FIGURES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local_aws.scenario import ScenarioResult


@pytest.fixture(scope="session")
def demo_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``npx cdk synth -c exemptTag=FlowLogsExempt=true`` of the project, once per session."""
    return synthesize(tmp_path_factory.mktemp("e2e") / "cdk.out", DEMO_CONTEXT)


@pytest.fixture(scope="module")
def demo_run(demo_assembly: Path) -> Iterator[tuple[LocalDeployment, ScenarioResult]]:
    """The demo's loop, run once per module; the embedded AWS stays up for the module's tests."""
    with LocalDeployment(demo_assembly) as local:
        yield local, run_scenario(local)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The IAM evaluation's figures (``tests/e2e/least_privilege.py``), after the results."""
    for line in FIGURES:
        terminalreporter.write_line(line)
