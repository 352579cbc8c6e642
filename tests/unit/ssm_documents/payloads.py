"""``CheckInput``'s InputPayload as SSM builds it for a Config remediation: every value a string.

The one payload builder of the runbook's tests (``builders.events`` in
``tests/unit/ssm_documents/scripts/enable_vpc_flow_logs`` is this function).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tests.support.accounts import ACCOUNT_ID, DELIVERY_ROLE_NAME, REGION

if TYPE_CHECKING:
    from enable_vpc_flow_logs.check_input import RunbookInput

ACCOUNT: Final = ACCOUNT_ID
DELIVERY_ROLE: Final = DELIVERY_ROLE_NAME
BOUNDARY_ARN: Final = (
    f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-Boundary-1A2B"
)

__all__ = ["ACCOUNT", "BOUNDARY_ARN", "DELIVERY_ROLE", "REGION", "runbook_input"]


def runbook_input(vpc_id: str, **overrides: object) -> RunbookInput:
    """The defaults the stack's remediation configuration passes, for ``vpc_id``.

    ``overrides`` may be of any type: the tests of bad input pass values SSM would not.
    """
    payload: dict[str, object] = {
        "VpcId": vpc_id,
        "TrafficType": "REJECT",
        "LogGroupName": "",
        "RetentionInDays": "365",
        "KmsKeyArn": "",
        "DeliveryRoleName": DELIVERY_ROLE,
        "DeliveryRoleBoundaryArn": BOUNDARY_ARN,
        "MaxAggregationInterval": "600",
        "LogFormat": "",
        "DestinationType": "cloud-watch-logs",
        "S3BucketArn": "",
        "AccountId": ACCOUNT,
        "Region": REGION,
        "Partition": "aws",
        **overrides,
    }
    return payload  # type: ignore[return-value]  # overrides may be of the wrong type
