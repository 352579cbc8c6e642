"""The runbook's InputPayload as SSM builds it for a Config remediation: every value a string."""

from __future__ import annotations

from typing import Any, Final

ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
DELIVERY_ROLE: Final = "VpcFlowLogsDeliveryRole"
BOUNDARY_ARN: Final = (
    f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-Boundary-1A2B"
)


def runbook_input(vpc_id: str, **overrides: str) -> dict[str, Any]:
    """The defaults the stack's remediation configuration passes, for ``vpc_id``."""
    return {
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
