"""CloudWatch Logs as AWS documents it where moto 5.2 differs.

- ``DescribeLogGroups`` honours ``logGroupIdentifiers`` (1-50 log group names; no other filter may
  be combined with it). moto ignores the parameter and lists every group.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse

from local_aws.moto_patches._paging import index_token

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_LOG_GROUP_IDENTIFIERS = 50


def _describe_log_groups(original: Any) -> Any:
    def describe_log_groups(self: Any) -> str:
        identifiers: list[str] | None = self._get_param("logGroupIdentifiers")
        if identifiers is None:
            return str(original(self))
        if self._get_param("logGroupNamePrefix") or self._get_param("logGroupNamePattern"):
            raise InvalidParameterException(
                "logGroupIdentifiers cannot be combined with logGroupNamePrefix "
                "or logGroupNamePattern"
            )
        if not 1 <= len(identifiers) <= MAX_LOG_GROUP_IDENTIFIERS:
            raise InvalidParameterException(
                constraint=(f"Member must have length between 1 and {MAX_LOG_GROUP_IDENTIFIERS}"),
                parameter="logGroupIdentifiers",
                value=identifiers,
            )
        limit = int(self._get_param("limit") or MAX_LOG_GROUP_IDENTIFIERS)
        # Outside a cross-account monitoring account AWS accepts log group names only.
        groups = self.logs_backend.groups
        found = sorted(
            (groups[name] for name in set(identifiers) if name in groups),
            key=lambda group: group.name,
        )
        start = index_token(
            self._get_param("nextToken"),
            len(found),
            InvalidParameterException("The specified nextToken is invalid."),
        )
        body: dict[str, Any] = {
            "logGroups": [group.to_describe_dict() for group in found[start : start + limit]]
        }
        if start + limit < len(found):
            body["nextToken"] = str(start + limit)
        return json.dumps(body)

    return describe_log_groups


@contextmanager
def patched() -> Iterator[None]:
    """The CloudWatch Logs patches, undone on exit."""
    with mock.patch.object(
        LogsResponse, "describe_log_groups", _describe_log_groups(LogsResponse.describe_log_groups)
    ):
        yield
