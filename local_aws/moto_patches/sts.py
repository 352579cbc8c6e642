"""STS as AWS answers where moto 5.2 differs.

- ``AssumeRole`` of a role that does not exist fails with AccessDenied, as AWS answers (moto hands
  out credentials for any role ARN). Trust policies are still not evaluated.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

if TYPE_CHECKING:
    from collections.abc import Iterator


def _assume_role(original: Any) -> Any:
    """AccessDenied for a role that does not exist in its account, as AWS answers."""

    def assume_role(self: Any, **kwargs: Any) -> Any:
        role_arn: str = kwargs["role_arn"]
        parts = role_arn.split(":", 5)
        account_id, partition = (parts[4], parts[1]) if len(parts) == 6 else ("", "")
        iam = iam_backends[account_id][partition] if account_id and partition else None
        if iam is None or not any(role.arn == role_arn for role in iam.get_roles()):
            raise STSClientError(
                "AccessDenied",
                f"User: arn:{partition or 'aws'}:iam::{self.account_id}:user/moto is not "
                f"authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
        return original(self, **kwargs)

    return assume_role


@contextmanager
def patched() -> Iterator[None]:
    """The STS patches, undone on exit."""
    with mock.patch.object(STSBackend, "assume_role", _assume_role(STSBackend.assume_role)):
        yield
