"""Organization settings: defaults, parsing of -c strings, and errors that name the setting."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.settings import account as account_settings
from stacks.settings.account import SettingsError
from stacks.settings.organization import (
    DEFAULTS,
    KEYS,
    OrganizationSettings,
)

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
    assert settings.log_archive_transition_small_objects is True
    assert settings.central_log_destination is False
    assert settings.firehose_delivery is False
    assert settings.auto_deploy_retain_stacks is False
    assert (settings.max_concurrent_percentage, settings.failure_tolerance_percentage) == (25, 10)
    assert (settings.region_concurrency, settings.call_as) == ("PARALLEL", "SELF")
    assert settings.concurrency_mode == "SOFT_FAILURE_TOLERANCE"
    assert settings.delegated_admin is False


def test_command_line_strings_are_parsed() -> None:
    settings = build(
        organizationId="o-a1b2c3d4e5",
        organizationalUnitIds="ou-ab12-cdef3456, r-ab12,ou-ab12-cdef3456",
        regions="eu-west-1,us-east-1",
        assetBucketPrefix="vfl-guard-assets",
        logArchiveKmsKey="true",
        logArchiveTransitionDays="30",
        logArchiveTransitionSmallObjects="false",
        centralLogDestination="true",
        firehoseDelivery="TRUE",
        regionConcurrency="sequential",
        concurrencyMode="strict_failure_tolerance",
        callAs="delegated_admin",
    )

    assert settings.wants_log_archive
    assert settings.wants_organization
    assert settings.organizational_unit_ids == ("ou-ab12-cdef3456", "r-ab12")
    assert settings.regions == ("eu-west-1", "us-east-1")
    assert settings.log_archive_kms_key is True
    assert settings.log_archive_transition_days == 30
    assert settings.log_archive_transition_small_objects is False
    assert settings.central_log_destination is True
    assert settings.firehose_delivery is True
    assert settings.region_concurrency == "SEQUENTIAL"
    assert settings.call_as == "DELEGATED_ADMIN"
    assert settings.delegated_admin is True
    assert settings.concurrency_mode == "STRICT_FAILURE_TOLERANCE"
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
        ({"concurrencyMode": "FAST"}, "SOFT_FAILURE_TOLERANCE | STRICT_FAILURE_TOLERANCE"),
        (
            {**TARGETS, "regions": "eu-west-1,af-south-1,us-east-1"},
            "mixes opt-in regions (af-south-1) with other regions",
        ),
        (
            {**TARGETS, "regions": "af-south-1,me-south-1"},
            "Target an opt-in region alone, e.g. -c regions=af-south-1",
        ),
        ({"autoDeployRetainStacks": "yes"}, "true or false"),
        ({"organizationId": "o-a1b2c3d4e5", "centralLogDestination": "on"}, "true or false"),
        (
            {"centralLogDestination": "true"},
            "'centralLogDestination' = true needs 'organizationId'",
        ),
        ({"organizationId": "o-a1b2c3d4e5", "firehoseDelivery": "1"}, "true or false"),
        ({"firehoseDelivery": "true"}, "'firehoseDelivery' = true needs 'organizationId'"),
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


@pytest.mark.parametrize("region", ["af-south-1", "eu-west-1"])
def test_a_region_alone_may_be_opt_in_or_not(region: str) -> None:
    # Deployed in that region, the organization stack copies the code within the region.
    settings = build(**{**TARGETS, "regions": region})

    assert settings.regions == (region,)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        build(organizationId="x", callAs="x", regions="x")

    assert str(error.value).count("\n  - ") == 3


def test_keys_are_disjoint_from_the_per_account_settings() -> None:
    # app.py hands each settings object its own keys; an overlap would mean one key, two meanings
    per_account = set(account_settings._PARSERS)

    assert KEYS.isdisjoint(per_account)
    assert set(DEFAULTS) == KEYS
