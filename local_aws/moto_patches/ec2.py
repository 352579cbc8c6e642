"""EC2 as AWS documents it where moto 5.2 differs.

- ``DescribeVpcs`` and ``DescribeFlowLogs`` honour ``MaxResults`` / ``NextToken`` (moto returns
  everything in one page, which hides how many calls a caller makes).
- ``CreateFlowLogs`` to S3 accepts a bucket ARN with a key prefix (``arn:aws:s3:::bucket/prefix``,
  as the VPC user guide documents): moto looks the whole ``bucket/prefix`` up as a bucket name and
  reports it missing.
- ``CreateFlowLogs`` keeps ``DeliverCrossAccountRole`` and ``DescribeFlowLogs`` returns it (EC2 API
  reference, ``FlowLog``: "The ARN of the IAM role that allows the service to publish flow logs
  across accounts"); moto ignores the parameter, so a flow log to another account's Firehose
  stream could not be told from a same-account one.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.ec2.responses.flow_logs import FlowLogs
from moto.ec2.responses.vpcs import VPCs
from moto.s3.models import S3Backend

from local_aws.moto_patches._paging import index_token

if TYPE_CHECKING:
    from collections.abc import Iterator

# Both accept 5-1000. DescribeFlowLogs: "between 5 and 1000; if MaxResults is given a value larger
# than 1000, only 1000 results are returned" (EC2 API reference), so it clamps instead of raising.
MIN_MAX_RESULTS = 5
MAX_MAX_RESULTS = 1000


def _paginated(original: Any, key: str, *, clamp: bool) -> Any:
    """Page an EC2 Describe* answer by MaxResults / NextToken (no MaxResults: everything)."""

    def paginated(self: Any) -> Any:
        result = original(self)
        page_size = self._get_int_param("MaxResults")
        if page_size is None:
            return result
        if clamp:
            page_size = min(page_size, MAX_MAX_RESULTS)
        if not MIN_MAX_RESULTS <= page_size <= MAX_MAX_RESULTS:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ( {page_size} ) for parameter maxResults is invalid. "
                f"Expecting a value between {MIN_MAX_RESULTS} and {MAX_MAX_RESULTS}.",
            )
        items = result.result[key]
        start = index_token(
            self._get_param("NextToken"),
            len(items),
            EC2ClientError("InvalidNextToken", "The token provided is invalid."),
        )
        result.result[key] = items[start : start + page_size]
        if start + page_size < len(items):
            result.result["NextToken"] = str(start + page_size)
        return result

    return paginated


def _create_flow_logs(original: Any) -> Any:
    """Look an S3 destination's bucket up by the bucket name, without the key prefix."""
    get_bucket = S3Backend.get_bucket

    def bucket_without_prefix(self: Any, bucket_name: str) -> Any:
        return get_bucket(self, bucket_name.split("/", 1)[0])

    def create_flow_logs(self: Any, *args: Any, **kwargs: Any) -> Any:
        with mock.patch.object(S3Backend, "get_bucket", bucket_without_prefix):
            return original(self, *args, **kwargs)

    return create_flow_logs


def _create_flow_logs_response(original: Any) -> Any:
    """Keep the request's DeliverCrossAccountRole on the flow logs it created."""

    def create_flow_logs(self: Any) -> Any:
        role = self._get_param("DeliverCrossAccountRole")
        result = original(self)
        if role:
            for flow_log_id in result.result["FlowLogIds"]:
                # Serialized as the FlowLog shape's DeliverCrossAccountRole.
                self.ec2_backend.flow_logs[flow_log_id].deliver_cross_account_role = role
        return result

    return create_flow_logs


@contextmanager
def patched() -> Iterator[None]:
    """The EC2 patches, undone on exit."""
    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(
                VPCs, "describe_vpcs", _paginated(VPCs.describe_vpcs, "Vpcs", clamp=False)
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogs,
                "describe_flow_logs",
                _paginated(FlowLogs.describe_flow_logs, "FlowLogs", clamp=True),
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogsBackend,
                "create_flow_logs",
                _create_flow_logs(FlowLogsBackend.create_flow_logs),
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogs,
                "create_flow_logs",
                _create_flow_logs_response(FlowLogs.create_flow_logs),
            )
        )
        yield
