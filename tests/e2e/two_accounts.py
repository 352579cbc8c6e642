"""The two-account runs (``test_central_archive``, ``test_firehose_delivery``): a member
account (moto's default) and the log-archive account of one organization, in one Region, with
the stack names ``app.py`` gives."""

from __future__ import annotations

from typing import Final

REGION: Final = "us-east-1"
LOG_ARCHIVE_ACCOUNT: Final = "210987654321"
ORGANIZATION_ID: Final = "o-a1b2c3d4e5"
MEMBER_STACK: Final = "VpcFlowLogsGuard"
LOG_ARCHIVE_STACK: Final = "VpcFlowLogsGuardLogArchive"
