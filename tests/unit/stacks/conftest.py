"""Synthesized templates shared by the stack tests (see ``synthesis`` for how)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.unit.stacks.synthesis import KMS_KEY_ARN, Synthesized, synthesize

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.fixture(scope="session")
def default(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack as ``npx cdk synth`` builds it with the defaults, Lambda asset included."""
    return synthesize(bundle=True, outdir=tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def everything() -> Synthesized:
    """Every optional part on: a KMS key and the configuration recorder."""
    return synthesize({"kmsKeyArn": KMS_KEY_ARN, "createConfigRecorder": "true"})


@pytest.fixture
def synth() -> Callable[..., Synthesized]:
    """Synthesize with overrides, e.g. ``synth({"trafficType": "ALL"})``."""
    return synthesize
