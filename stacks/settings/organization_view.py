"""Settings of the organization view: an AWS Config aggregator and compliance notifications.

For the security (delegated-administrator) account. Built once ``aggregatorName`` is given
(``-c aggregatorName=org-vpc-flow-logs``); ``complianceNotificationEmail`` adds an e-mail
subscription. Kept apart from the per-account settings like ``stacks/settings/organization.py``
and read the same way; nothing here calls AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stacks.settings.account import SettingsError, invalid

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

AGGREGATOR_NAME: Final = re.compile(r"[\w-]{1,256}")
"""ConfigurationAggregatorName: 1-256 of ``[\\w\\-]`` (AWS Config API reference)."""
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

DEFAULTS: Final[dict[str, Any]] = {"aggregatorName": "", "complianceNotificationEmail": ""}
KEYS: Final = frozenset(DEFAULTS)
"""Context keys these settings own (the per-account settings must not treat them as unknown)."""


@dataclass(frozen=True)
class OrganizationViewSettings:
    aggregator_name: str
    compliance_notification_email: str

    @property
    def wanted(self) -> bool:
        return bool(self.aggregator_name)

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> OrganizationViewSettings:
        problems = []
        name = get("aggregatorName")
        name = DEFAULTS["aggregatorName"] if name is None else name
        email = get("complianceNotificationEmail")
        email = DEFAULTS["complianceNotificationEmail"] if email is None else email
        if not isinstance(name, str) or (name and not AGGREGATOR_NAME.fullmatch(name.strip())):
            problems.append(
                str(invalid("aggregatorName", name, "'' or 1-256 letters, digits, _ and -"))
            )
        if not isinstance(email, str) or (email and not EMAIL.fullmatch(email.strip())):
            problems.append(
                str(invalid("complianceNotificationEmail", email, "'' or an e-mail address"))
            )
        elif email and not name:
            problems.append(
                "setting 'complianceNotificationEmail' is set but 'aggregatorName' is empty; "
                "allowed: give aggregatorName too (the organization view is built only with it)"
            )
        if problems:
            raise SettingsError(
                "invalid organization view settings:\n  - " + "\n  - ".join(problems)
            )
        return cls(str(name).strip(), str(email).strip())

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> OrganizationViewSettings:
        return cls.from_context(context.get)
