"""Settings of the organization-wide stacks: the log-archive bucket and the StackSet.

Kept apart from ``stacks/settings/account.py`` (the per-account product's settings): a
single-account user has none of these, and the per-account stack must not change when they are
given. Read once from CDK context like the per-account settings (``-c key=value`` strings or JSON
types); the defaults are in ``DEFAULTS`` below and in the README's "Whole organization" section. A
wrong value raises ``SettingsError`` naming the key, the value and what is allowed. Nothing here
calls AWS.

Two stacks are built only when their settings are given (see ``wanted``): the log-archive stack
needs ``organizationId``; the organization stack needs ``organizationalUnitIds``, ``regions`` and
``assetBucketPrefix``. Giving part of a stack's required settings is an error, not a skip.

An opt-in region can only be a target alone: the rule's code is copied to every target region
from the organization stack's own region, and S3 refuses such a copy into or out of an opt-in
region (see ``_opt_in_problem``). Which regions are opt-in comes from aws-cdk-lib's
``RegionInfo`` (a table shipped with the library, no AWS call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aws_cdk.region_info import RegionInfo

from stacks.settings.account import SettingsError, invalid, parse_bool, parse_int, snake_case

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ORGANIZATION_ID: Final = re.compile(r"o-[a-z0-9]{10,32}")
ORGANIZATIONAL_UNIT_ID: Final = re.compile(r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32}")
"""An OU id, or the organization's root id (every account)."""
REGION: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")
BUCKET_NAME_MAX: Final = 63

ARCHIVE_STORAGE_CLASSES: Final = ("GLACIER_INSTANT_RETRIEVAL", "GLACIER", "DEEP_ARCHIVE")
REGION_CONCURRENCY: Final = ("PARALLEL", "SEQUENTIAL")
CALL_AS: Final = ("SELF", "DELEGATED_ADMIN")
CONCURRENCY_MODES: Final = ("SOFT_FAILURE_TOLERANCE", "STRICT_FAILURE_TOLERANCE")
MIN_RETENTION_DAYS: Final = 365
"""The flow logs' retention the product promises (the rule's default ``minRetentionDays``)."""
DEEP_ARCHIVE_MIN_DAYS: Final = 180
"""S3 Glacier Deep Archive bills objects for at least 180 days."""

DEFAULTS: Final[dict[str, Any]] = {
    "organizationId": "",
    "logArchiveKmsKey": False,
    "logArchiveStorageClass": "GLACIER_INSTANT_RETRIEVAL",
    "logArchiveTransitionDays": 90,
    "logArchiveTransitionSmallObjects": True,
    "logArchiveExpirationDays": 400,
    "centralLogDestination": False,
    "firehoseDelivery": False,
    "organizationalUnitIds": [],
    "regions": [],
    "assetBucketPrefix": "",
    "autoDeployRetainStacks": False,
    "maxConcurrentPercentage": 25,
    "failureTolerancePercentage": 10,
    "regionConcurrency": "PARALLEL",
    "concurrencyMode": "SOFT_FAILURE_TOLERANCE",
    "callAs": "SELF",
}
KEYS: Final = frozenset(DEFAULTS)
"""Context keys these settings own (the per-account settings must not treat them as unknown)."""


@dataclass(frozen=True)
class OrganizationSettings:
    """The organization stacks' settings, typed and validated (snake_case of the context keys)."""

    organization_id: str
    log_archive_kms_key: bool
    log_archive_storage_class: str
    log_archive_transition_days: int
    log_archive_transition_small_objects: bool
    log_archive_expiration_days: int
    central_log_destination: bool
    firehose_delivery: bool
    organizational_unit_ids: tuple[str, ...]
    regions: tuple[str, ...]
    asset_bucket_prefix: str
    auto_deploy_retain_stacks: bool
    max_concurrent_percentage: int
    failure_tolerance_percentage: int
    region_concurrency: str
    concurrency_mode: str
    call_as: str

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> OrganizationSettings:
        """Build from a context getter (``app.node.try_get_context``); absent keys take DEFAULTS."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key, parse in _PARSERS.items():
            raw = get(key)
            try:
                values[snake_case(key)] = parse(key, DEFAULTS[key] if raw is None else raw)
            except SettingsError as error:
                problems.append(str(error))
        if not problems:
            settings = cls(**values)
            problems = settings._cross_check()
            if not problems:
                return settings
        raise SettingsError("invalid organization settings:\n  - " + "\n  - ".join(problems))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> OrganizationSettings:
        """Build from a plain mapping of context keys to values (tests, tools)."""
        return cls.from_context(context.get)

    @property
    def wants_log_archive(self) -> bool:
        """The log-archive stack is built once the organization id is given."""
        return bool(self.organization_id)

    @property
    def wants_organization(self) -> bool:
        """The StackSet stack is built once its targets are given."""
        return bool(self.organizational_unit_ids)

    @property
    def delegated_admin(self) -> bool:
        """The StackSet is managed from a StackSets delegated administrator account."""
        return self.call_as == "DELEGATED_ADMIN"

    def asset_bucket_names(self) -> dict[str, str]:
        """Region -> the bucket the StackSet's Lambda code is copied to for that region."""
        return {region: f"{self.asset_bucket_prefix}-{region}" for region in self.regions}

    def _cross_check(self) -> list[str]:
        problems = []
        if self.central_log_destination and not self.organization_id:
            problems.append(
                "setting 'centralLogDestination' = true needs 'organizationId': the destination "
                "admits the organization's accounts and lives in the log-archive stack"
            )
        if self.firehose_delivery and not self.organization_id:
            problems.append(
                "setting 'firehoseDelivery' = true needs 'organizationId': the stream's "
                "destination account role admits the organization's accounts and lives in the "
                "log-archive stack"
            )
        if self.log_archive_expiration_days <= self.log_archive_transition_days:
            problems.append(
                f"setting 'logArchiveExpirationDays' = {self.log_archive_expiration_days} must be "
                f"greater than 'logArchiveTransitionDays' = {self.log_archive_transition_days}: "
                "objects would expire before they reach the archive storage class"
            )
        if (
            self.log_archive_storage_class == "DEEP_ARCHIVE"
            and self.log_archive_expiration_days - self.log_archive_transition_days
            < DEEP_ARCHIVE_MIN_DAYS
        ):
            problems.append(
                "setting 'logArchiveStorageClass' = 'DEEP_ARCHIVE' needs 'logArchiveExpirationDays'"
                f" at least {DEEP_ARCHIVE_MIN_DAYS} days after 'logArchiveTransitionDays' (Deep "
                f"Archive bills {DEEP_ARCHIVE_MIN_DAYS} days per object)"
            )
        targets = {
            "organizationalUnitIds": bool(self.organizational_unit_ids),
            "regions": bool(self.regions),
            "assetBucketPrefix": bool(self.asset_bucket_prefix),
        }
        if any(targets.values()) and not all(targets.values()):
            given = ", ".join(key for key, present in targets.items() if present)
            missing = ", ".join(key for key, present in targets.items() if not present)
            problems.append(
                f"the organization stack needs organizationalUnitIds, regions and "
                f"assetBucketPrefix together; given: {given}; missing: {missing}"
            )
        opt_in = [region for region in self.regions if RegionInfo.get(region).is_opt_in_region]
        if opt_in and len(self.regions) > 1:
            problems.append(_opt_in_problem(opt_in))
        too_long = [
            name for name in self.asset_bucket_names().values() if len(name) > BUCKET_NAME_MAX
        ]
        if too_long:
            problems.append(
                f"setting 'assetBucketPrefix' = {self.asset_bucket_prefix!r} makes bucket names "
                f"longer than {BUCKET_NAME_MAX} characters: {', '.join(too_long)}"
            )
        return problems


def _opt_in_problem(regions: list[str]) -> str:
    # The copy is aws-cdk-lib's BucketDeployment, run in the organization stack's region: its AWS
    # CLI sends every S3 call to that region's endpoint. "If your Region launched after March 20,
    # 2019, your client and bucket must be in the same Region" (S3 User Guide); S3 answers 400
    # there instead of redirecting (S3 API Reference, "Request redirection and the REST API";
    # IllegalLocationConstraintException in aws/aws-cdk#34858). Every opt-in region is one.
    return (
        f"setting 'regions' mixes opt-in regions ({', '.join(regions)}) with other regions: the "
        "organization stack copies the rule's code to '<assetBucketPrefix>-<region>' from the "
        "region it is deployed in, and S3 refuses a copy into or out of an opt-in region "
        "(IllegalLocationConstraintException). Target an opt-in region alone, e.g. "
        f"-c regions={regions[0]}, with the organization stack deployed in that region"
    )


def _int_in(low: int, high: int) -> Callable[[str, object], int]:
    def parse(key: str, raw: object) -> int:
        return parse_int(key, raw, low, high)

    return parse


def _one_of(allowed: tuple[str, ...]) -> Callable[[str, object], str]:
    def parse(key: str, raw: object) -> str:
        if isinstance(raw, str) and raw.strip().upper() in allowed:
            return raw.strip().upper()
        raise invalid(key, raw, " | ".join(allowed))

    return parse


def _matching(
    pattern: re.Pattern[str], example: str, *, empty: bool = True
) -> Callable[[str, object], str]:
    def parse(key: str, raw: object) -> str:
        if isinstance(raw, str) and ((empty and not raw.strip()) or pattern.fullmatch(raw.strip())):
            return raw.strip()
        raise invalid(key, raw, ("'' (not set) or " if empty else "") + example)

    return parse


def _list_of(pattern: re.Pattern[str], example: str) -> Callable[[str, object], tuple[str, ...]]:
    def parse(key: str, raw: object) -> tuple[str, ...]:
        if isinstance(raw, str):
            items = [item.strip() for item in raw.split(",")]
        elif isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            items = [item.strip() for item in raw]
        else:
            raise invalid(key, raw, "a list of strings or a comma-separated string")
        items = [item for item in items if item]
        wrong = [item for item in items if not pattern.fullmatch(item)]
        if wrong:
            raise invalid(key, raw, f"{example} (not: {', '.join(wrong)})")
        return tuple(dict.fromkeys(items))

    return parse


_PARSERS: Final[dict[str, Callable[[str, Any], Any]]] = {
    "organizationId": _matching(ORGANIZATION_ID, "an organization id like o-a1b2c3d4e5"),
    "logArchiveKmsKey": parse_bool,
    "logArchiveStorageClass": _one_of(ARCHIVE_STORAGE_CLASSES),
    "logArchiveTransitionDays": _int_in(1, 3650),
    "logArchiveTransitionSmallObjects": parse_bool,
    "logArchiveExpirationDays": _int_in(MIN_RETENTION_DAYS, 36500),
    "centralLogDestination": parse_bool,
    "firehoseDelivery": parse_bool,
    "organizationalUnitIds": _list_of(
        ORGANIZATIONAL_UNIT_ID, "OU ids like ou-ab12-cdef3456, or the root id like r-ab12"
    ),
    "regions": _list_of(REGION, "region names like eu-west-1"),
    "assetBucketPrefix": _matching(
        BUCKET_NAME, "lowercase letters, digits and hyphens (S3 bucket name rules)"
    ),
    "autoDeployRetainStacks": parse_bool,
    "maxConcurrentPercentage": _int_in(1, 100),
    "failureTolerancePercentage": _int_in(0, 100),
    "regionConcurrency": _one_of(REGION_CONCURRENCY),
    "concurrencyMode": _one_of(CONCURRENCY_MODES),
    "callAs": _one_of(CALL_AS),
}
