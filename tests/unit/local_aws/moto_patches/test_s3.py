"""local_aws.moto_patches.s3: signed requests for keys with '=' pass moto's signature check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from local_aws.clients import Credentials
from local_aws.moto_patches import patch_moto
from local_aws.server import EmbeddedAws
from tests.unit.local_aws.moto_patches.gaps import still_raises

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

KEY = "CloudWatchLogs/account=123456789012/region=us-east-1/object.gz"


def put_and_get(fixes: AbstractContextManager[object] | None, *, secret: str = "") -> bytes:
    """Put and read back KEY with IAM enforcement (and signature checks) on; ``secret``: sign
    with this secret instead of the admin's."""
    with EmbeddedAws(fixes=fixes) as aws:
        aws.enforce_iam()
        admin = aws.admin
        if secret:
            admin = admin.as_identity(Credentials(admin.credentials.access_key_id, secret))
        s3 = admin.s3()
        s3.create_bucket(Bucket="archive")
        s3.put_object(Bucket="archive", Key=KEY, Body=b"body")
        body: bytes = s3.get_object(Bucket="archive", Key=KEY)["Body"].read()
        return body


def test_a_key_with_an_equals_sign_is_put_and_read_with_iam_enforced() -> None:
    assert put_and_get(patch_moto()) == b"body"


def test_the_signature_is_still_checked() -> None:
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        put_and_get(patch_moto(), secret="not-the-admins-secret")


def test_unpatched_moto_still_refuses_the_signature_of_such_a_key() -> None:
    with still_raises(
        ClientError,
        patch="s3._create_aws_request",
        behaviour="checks SigV4 signatures of S3 keys with '=' as the client signed them",
    ):
        put_and_get(None)
