"""S3 as AWS answers where moto 5.2 differs.

- With IAM enforced, a signed request for an object whose key has a character the SDKs
  percent-encode but moto's server puts back into the URL unencoded (``=``, as in Firehose's
  ``account=<id>/`` partitions) fails with SignatureDoesNotMatch: moto recomputes the signature
  over the URL werkzeug rebuilt, not over the path the client signed. Here the path is encoded
  again as the SDKs encode an S3 key (everything but RFC 3986's unreserved characters and ``/``;
  Amazon S3 API Reference, "Create a canonical request": each path segment URI-encoded once).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import quote, unquote

from moto.iam.access_control import S3IAMRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from botocore.awsrequest import AWSRequest


def _create_aws_request(original: Any) -> Any:
    def create_aws_request(self: S3IAMRequest) -> AWSRequest:
        request: AWSRequest = original(self)
        path, separator, query = str(request.url).partition("?")
        request.url = quote(unquote(path), safe="/~") + separator + query
        return request

    return create_aws_request


@contextmanager
def patched() -> Iterator[None]:
    """The S3 patches, undone on exit."""
    with mock.patch.object(
        S3IAMRequest, "_create_aws_request", _create_aws_request(S3IAMRequest._create_aws_request)
    ):
        yield
