"""Which permissions boundaries the delivery role may have: ``CheckInput`` and ``DeliveryRole``."""

from __future__ import annotations

import re
from typing import Final

BOUNDARY_PATH: Final = "/vpc-flow-logs-guard/"
"""Every regional stack's delivery-role boundary lives under this IAM path (see the stack)."""
BOUNDARY_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):policy"
    + re.escape(BOUNDARY_PATH)
    + r"[\w+=,.@-]{1,128}$"
)
"""A managed policy under ``BOUNDARY_PATH`` (the document's allowedPattern)."""


def is_boundary_of_account(arn: str, partition: str, account_id: str) -> bool:
    """Whether ``arn`` is a managed policy of the account under ``BOUNDARY_PATH``."""
    match = BOUNDARY_ARN.fullmatch(arn)
    return bool(match and match["partition"] == partition and match["account"] == account_id)
