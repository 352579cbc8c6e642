"""One input value read and checked: what ``CheckInput``'s validation is made of.

``InvalidInputError`` names the parameter, the value and what is allowed; nothing was read from
AWS or changed when it is raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from enable_vpc_flow_logs.common import RemediationError

if TYPE_CHECKING:
    from collections.abc import Mapping


class InvalidInputError(RemediationError):
    """An input value is not acceptable; nothing was read or changed."""


def text(events: Mapping[str, object], name: str) -> str:
    """The parameter as a string, stripped (absent: empty)."""
    value = events.get(name, "")
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {value!r}")
    return value.strip()


def integer(events: Mapping[str, object], name: str) -> int:
    """The parameter as an integer: SSM passes a String parameter's digits as a string."""
    value = events.get(name)
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidInputError(f"{name} must be an integer, got {value!r}")


def flag(events: Mapping[str, object], name: str) -> bool:
    """``true`` / ``false`` as SSM passes a String parameter; empty means false."""
    value = text(events, name).lower() or "false"
    require(value in ("true", "false"), name, value, "true or false")
    return value == "true"


def require(condition: object, name: str, value: object, allowed: str) -> None:
    """Raise ``InvalidInputError`` unless ``condition``: ``name=value`` expected ``allowed``."""
    if not condition:
        raise InvalidInputError(f"{name}={value!r} is not valid: expected {allowed}")
