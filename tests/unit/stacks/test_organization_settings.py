"""Organization settings: defaults, parsing of -c strings, and errors that name the setting."""

from __future__ import annotations

from typing import Any

import pytest

from stacks import settings as account_settings
from stacks.organization_settings import (
    DEFAULTS,
    KEYS,
    OrganizationSettings,
)
from stacks.settings import SettingsError

TARGETS = {
    "organizationalUnitIds": ["ou-ab12-cdef3456", "r-ab12"],
    "regions": ["eu-west-1", "us-east-1"],
    "assetBucketPrefix": "vfl-guard-assets",
}


def build(**overrides: Any) -> OrganizationSettings:
    return OrganizationSettings.from_mapping(overrides)


def test_defaults_build_neither_organization_stack() -> None:
    settings = build()

    assert settings.organization_id == ""
    assert not settings.wants_log_archive
    assert not settings.wants_organization
    assert settings.log_archive_transition_days == 90
    assert settings.log_archive_expiration_days == 400
    assert settings.log_archive_storage_class == "GLACIER_INSTANT_RETRIEVAL"
    assert settings.log_archive_kms_key is False
    assert settings.auto_deploy_retain_stacks is False
    assert (settings.max_concurrent_percentage, settings.failure_tolerance_percentage) == (25, 10)
    assert (settings.region_concurrency, settings.call_as) == ("PARALLEL", "SELF")


def test_command_line_strings_are_parsed() -> None:
    settings = build(
        organizationId="o-a1b2c3d4e5",
        organizationalUnitIds="ou-ab12-cdef3456, r-ab12,ou-ab12-cdef3456",
        regions="eu-west-1,us-east-1",
        assetBucketPrefix="vfl-guard-assets",
        logArchiveKmsKey="true",
        logArchiveTransitionDays="30",
        regionConcurrency="sequential",
        callAs="delegated_admin",
    )

    assert settings.wants_log_archive
    assert settings.wants_organization
    assert settings.organizational_unit_ids == ("ou-ab12-cdef3456", "r-ab12")
    assert settings.regions == ("eu-west-1", "us-east-1")
    assert settings.log_archive_kms_key is True
    assert settings.log_archive_transition_days == 30
    assert settings.region_concurrency == "SEQUENTIAL"
    assert settings.call_as == "DELEGATED_ADMIN"
    assert settings.asset_bucket_names() == {
        "eu-west-1": "vfl-guard-assets-eu-west-1",
        "us-east-1": "vfl-guard-assets-us-east-1",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"organizationId": "o-short"}, "'organizationId' = 'o-short' is invalid"),
        ({"organizationId": "123456789012"}, "an organization id like o-a1b2c3d4e5"),
        (
            {**TARGETS, "organizationalUnitIds": "ou-ab12-cdef3456,123456789012"},
            "(not: 123456789012)",
        ),
        ({**TARGETS, "regions": "eu-west-1,Europe"}, "'regions'"),
        ({**TARGETS, "assetBucketPrefix": "Assets_Bucket"}, "'assetBucketPrefix'"),
        ({"logArchiveExpirationDays": 364}, "'logArchiveExpirationDays' = 364 is invalid"),
        ({"logArchiveStorageClass": "STANDARD_IA"}, "GLACIER_INSTANT_RETRIEVAL | GLACIER"),
        (
            {"logArchiveTransitionDays": 400, "logArchiveExpirationDays": 400},
            "'logArchiveExpirationDays' = 400 must be greater than 'logArchiveTransitionDays'",
        ),
        (
            {"logArchiveStorageClass": "DEEP_ARCHIVE", "logArchiveTransitionDays": 300},
            "needs 'logArchiveExpirationDays' at least 180 days after",
        ),
        ({"maxConcurrentPercentage": 0}, "'maxConcurrentPercentage' = 0 is invalid"),
        ({"failureTolerancePercentage": "101"}, "a whole number from 0 to 100"),
        ({"regionConcurrency": "RANDOM"}, "PARALLEL | SEQUENTIAL"),
        ({"callAs": "ADMIN"}, "SELF | DELEGATED_ADMIN"),
        ({"autoDeployRetainStacks": "yes"}, "true or false"),
        (
            {"organizationalUnitIds": "ou-ab12-cdef3456"},
            "given: organizationalUnitIds; missing: regions, assetBucketPrefix",
        ),
        (
            {**TARGETS, "assetBucketPrefix": "a" * 60},
            "makes bucket names longer than 63 characters",
        ),
    ],
)
def test_a_wrong_setting_is_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match="invalid organization settings") as error:
        build(**overrides)

    assert message in str(error.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        build(organizationId="x", callAs="x", regions="x")

    assert str(error.value).count("\n  - ") == 3


def test_keys_are_disjoint_from_the_per_account_settings() -> None:
    # app.py hands each settings object its own keys; an overlap would mean one key, two meanings
    per_account = set(account_settings._PARSERS)

    assert KEYS.isdisjoint(per_account)
    assert set(DEFAULTS) == KEYS
