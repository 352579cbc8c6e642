"""Settings of the organization view: an AWS Config aggregator and compliance notifications.

For the security (delegated-administrator) account. Built once ``aggregatorName`` is given
(``-c aggregatorName=org-vpc-flow-logs``), which then needs ``organizationId``: the view's event
bus admits the organization's accounts, and only them. ``organizationId`` is the organization
settings' key (``stacks/settings/organization.py``), read here as it is there: one organization,
one setting. ``complianceNotificationEmail`` adds an e-mail subscription. Kept apart from the
per-account settings and read the same way; nothing here calls AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stacks.settings.account import SettingsError, invalid
from stacks.settings.organization import ORGANIZATION_ID

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

AGGREGATOR_NAME: Final = re.compile(r"[\w-]{1,256}")
"""ConfigurationAggregatorName: 1-256 of ``[\\w\\-]`` (AWS Config API reference)."""
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ORGANIZATION_ID_KEY: Final = "organizationId"
"""Owned by the organization settings (their ``KEYS``); the view reads it too."""

DEFAULTS: Final[dict[str, Any]] = {"aggregatorName": "", "complianceNotificationEmail": ""}
KEYS: Final = frozenset(DEFAULTS)
"""Context keys these settings own (the per-account settings must not treat them as unknown)."""


@dataclass(frozen=True)
class OrganizationViewSettings:
    aggregator_name: str
    compliance_notification_email: str
    organization_id: str
    """Whose accounts may send events to the view's bus (``aws:PrincipalOrgID``)."""

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
        organization = get(ORGANIZATION_ID_KEY)
        organization = "" if organization is None else organization
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
        if not isinstance(organization, str) or (
            organization.strip() and not ORGANIZATION_ID.fullmatch(organization.strip())
        ):
            problems.append(
                str(invalid(ORGANIZATION_ID_KEY, organization, "an organization id, o-a1b2c3d4e5"))
            )
        elif isinstance(name, str) and name.strip() and not organization.strip():
            problems.append(
                "setting 'aggregatorName' is set but 'organizationId' is empty; allowed: give "
                "organizationId too (o-...): the view's event bus admits the organization's "
                "accounts, and only them"
            )
        if problems:
            raise SettingsError(
                "invalid organization view settings:\n  - " + "\n  - ".join(problems)
            )
        return cls(str(name).strip(), str(email).strip(), str(organization).strip())

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> OrganizationViewSettings:
        return cls.from_context(context.get)
