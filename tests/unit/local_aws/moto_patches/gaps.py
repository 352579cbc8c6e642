"""Tests that moto still lacks what a patch adds: each fails, naming the patch, once moto has it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


def patch_can_go(patch: str, behaviour: str) -> str:
    """The failure message of a gap test: what moto now does, and which patch to drop."""
    return (
        f"unpatched moto now {behaviour}: the patch {patch} in local_aws/moto_patches can go "
        "(drop it, its tests and this one)"
    )


@contextmanager
def still_raises(
    error: type[BaseException] | tuple[type[BaseException], ...], *, patch: str, behaviour: str
) -> Iterator[None]:
    """Pass if the block raises ``error``; fail with :func:`patch_can_go` if it does not."""
    try:
        yield
    except error:
        return
    pytest.fail(patch_can_go(patch, behaviour))
