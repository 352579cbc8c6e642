"""Make moto behave as AWS documents where moto 5.2 differs, without touching the product.

One context manager, :func:`patch_moto`, patches moto's response and backend classes (not the
product), so it works for in-process ``mock_aws`` tests and for an in-process
``ThreadedMotoServer`` alike. One module per service says what it patches and why:
:mod:`.logs`, :mod:`.logs_account_policies`, :mod:`.firehose`, :mod:`.s3`, :mod:`.ec2`,
:mod:`.sts`, :mod:`.config`, :mod:`.events`.
Each patch has a test in ``tests/unit/local_aws/moto_patches/`` that fails once moto does the
thing itself, naming the patch to drop.

A new patch goes in the module of its service (a new module for a new service, with a
``patched()`` context manager), registered with one line in :data:`SERVICE_PATCHES`.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from local_aws.moto_patches import (
    config,
    ec2,
    events,
    firehose,
    logs,
    logs_account_policies,
    s3,
    sts,
)
from local_aws.moto_patches.config import (
    COMPLIANCE_DETAILS_DEFAULT_LIMIT,
    COMPLIANCE_DETAILS_MAX_LIMIT,
    FILTERABLE_COMPLIANCE_TYPES,
    FLOW_LOG_RESOURCE_TYPE,
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    MAX_ANNOTATION_LENGTH,
    MAX_EVALUATIONS_PER_CALL,
    configuration_items,
    issue_result_token,
)
from local_aws.moto_patches.logs import MAX_LOG_GROUP_IDENTIFIERS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager

__all__ = [
    "COMPLIANCE_DETAILS_DEFAULT_LIMIT",
    "COMPLIANCE_DETAILS_MAX_LIMIT",
    "FILTERABLE_COMPLIANCE_TYPES",
    "FLOW_LOG_RESOURCE_TYPE",
    "HISTORY_DEFAULT_LIMIT",
    "HISTORY_MAX_LIMIT",
    "MAX_ANNOTATION_LENGTH",
    "MAX_EVALUATIONS_PER_CALL",
    "MAX_LOG_GROUP_IDENTIFIERS",
    "SERVICE_PATCHES",
    "configuration_items",
    "issue_result_token",
    "patch_moto",
]

SERVICE_PATCHES: tuple[Callable[[], AbstractContextManager[None]], ...] = (
    logs.patched,
    logs_account_policies.patched,
    firehose.patched,
    s3.patched,
    ec2.patched,
    sts.patched,
    config.patched,  # after ec2: its flow-log recorder wraps the EC2 patch of CreateFlowLogs
    events.patched,
)
"""Every service's patches, entered in this order by :func:`patch_moto`."""


@contextmanager
def patch_moto() -> Iterator[None]:
    """Patch moto (in this process) to behave as AWS documents; undo on exit."""
    with ExitStack() as stack:
        for patched in SERVICE_PATCHES:
            stack.enter_context(patched())
        yield
