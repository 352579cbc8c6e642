"""Paging shared by the patches: AWS's opaque ``NextToken`` played as a start index."""

from __future__ import annotations


def index_token(next_token: str | None, total: int, error: Exception) -> int:
    """The index a page starts at; ``error`` for a token this answer never handed out."""
    if not next_token:
        return 0
    if not next_token.isdigit() or int(next_token) > total:
        raise error
    return int(next_token)
