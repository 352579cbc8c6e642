"""local_aws.moto_patches.sts: AssumeRole of a role that does not exist is denied."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.local_aws.moto_patches.gaps import patch_can_go

ABSENT_ROLE = "arn:aws:iam::210987654321:role/absent"


def test_assume_role_of_a_missing_role_is_denied(aws: None) -> None:
    iam = boto3.client("iam")
    role_arn = iam.create_role(RoleName="present", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sts = boto3.client("sts")

    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="session")

    assert assumed["AssumedRoleUser"]["Arn"].endswith("assumed-role/present/session")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/present", RoleSessionName="session")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/absent", RoleSessionName="session")


def test_unpatched_moto_still_assumes_any_role_arn(unpatched_aws: None) -> None:
    try:
        assumed = boto3.client("sts").assume_role(RoleArn=ABSENT_ROLE, RoleSessionName="session")
    except ClientError as error:
        pytest.fail(f"{patch_can_go('sts._assume_role', 'denies a missing role')} ({error})")

    assert assumed["AssumedRoleUser"]["Arn"].endswith("assumed-role/absent/session")
