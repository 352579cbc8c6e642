"""Fixtures of the local_aws tests: the hand-written mini assembly (see ``mini_assembly``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.unit.local_aws.mini_assembly import mini_template, write_assembly

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.fixture
def assembly_writer(tmp_path: Path) -> Callable[..., Path]:
    """Write a variant of the mini assembly: ``assembly_writer(template, files=None,
    other_stacks=None)``."""
    counter = iter(range(1000))

    def write(
        template: dict[str, Any],
        files: dict[str, str] | None = None,
        other_stacks: dict[str, dict[str, Any]] | None = None,
    ) -> Path:
        return write_assembly(
            tmp_path / f"cdk{next(counter)}.out", template, files, other_stacks=other_stacks
        )

    return write


@pytest.fixture
def mini_assembly(assembly_writer: Callable[..., Path]) -> Path:
    return assembly_writer(mini_template())
