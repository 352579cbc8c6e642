"""local_aws.moto_patches.logs: DescribeLogGroups honours logGroupIdentifiers."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.local_aws.moto_patches.gaps import patch_can_go


def _log_groups(*names: str) -> None:
    logs = boto3.client("logs")
    for name in names:
        logs.create_log_group(logGroupName=name)


def test_describe_log_groups_honours_log_group_identifiers(aws: None) -> None:
    _log_groups("/a", "/b", "/c")
    logs = boto3.client("logs")

    found = logs.describe_log_groups(logGroupIdentifiers=["/c", "/a", "/missing"])["logGroups"]
    everything = logs.describe_log_groups()["logGroups"]

    assert [group["logGroupName"] for group in found] == ["/a", "/c"]
    assert len(everything) == 3
    with pytest.raises(ClientError, match="cannot be combined"):
        logs.describe_log_groups(logGroupIdentifiers=["/a"], logGroupNamePrefix="/")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.describe_log_groups(logGroupIdentifiers=[f"/g{n}" for n in range(51)])


def test_describe_log_groups_pages_the_identified_groups(aws: None) -> None:
    _log_groups("/a", "/b", "/c")
    logs = boto3.client("logs")

    first = logs.describe_log_groups(logGroupIdentifiers=["/a", "/b", "/c"], limit=2)
    second = logs.describe_log_groups(
        logGroupIdentifiers=["/a", "/b", "/c"], limit=2, nextToken=first["nextToken"]
    )

    assert [group["logGroupName"] for group in first["logGroups"]] == ["/a", "/b"]
    assert [group["logGroupName"] for group in second["logGroups"]] == ["/c"]
    assert "nextToken" not in second


def test_unpatched_moto_still_ignores_log_group_identifiers(unpatched_aws: None) -> None:
    _log_groups("/a", "/b")

    found = boto3.client("logs").describe_log_groups(logGroupIdentifiers=["/a"])["logGroups"]

    assert [group["logGroupName"] for group in found] == ["/a", "/b"], patch_can_go(
        "logs._describe_log_groups", "honours DescribeLogGroups' logGroupIdentifiers"
    )
