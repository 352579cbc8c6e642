"""The runbook document as the Firehose follow-up is to extend it: the interface the stack feeds.

The stack refuses ``destination=kinesis-data-firehose`` while the document does not offer that
``DestinationType`` (every remediation would fail). Until the runbook gains its Firehose step,
the member-side tests synthesize with this document: the real one plus the parameters the
remediation passes, with the patterns they must match. Once the real document declares them,
:func:`with_firehose` changes nothing, and the tests run against the real document.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from stacks.build.runbook_document import build_document
from stacks.constructs.remediation_runbook import DOCUMENT_PATH, KINESIS_DATA_FIREHOSE

FIREHOSE_PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "FirehoseArn": {
        "type": "String",
        "description": "(Required with kinesis-data-firehose) The stream's ARN "
        "(CreateFlowLogs' LogDestination).",
        "default": "",
        "allowedPattern": r"^$|^arn:aws[a-z-]*:firehose:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:"
        r"deliverystream/[A-Za-z0-9_.-]{1,64}$",
    },
    "DeliverLogsPermissionArn": {
        "type": "String",
        "description": "(Required with kinesis-data-firehose) The source account role under "
        "/vpc-flow-logs-guard/ (the stack's FirehoseSourceRoleArn output).",
        "default": "",
        "allowedPattern": r"^$|^arn:aws[a-z-]*:iam::\d{12}:role/vpc-flow-logs-guard/"
        r"[\w+=,.@-]{1,64}$",
    },
    "DeliverCrossAccountRole": {
        "type": "String",
        "description": "(Required with kinesis-data-firehose) The stream account's role, "
        "named AWSLogDeliveryFirehoseCrossAccountRole...",
        "default": "",
        "allowedPattern": r"^$|^arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+/)*"
        r"AWSLogDeliveryFirehoseCrossAccountRole[\w+=,.@-]*$",
    },
}


def with_firehose(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """``document`` (default: the built runbook) offering ``kinesis-data-firehose`` and
    declaring the three parameters above, where it does not already."""
    extended = copy.deepcopy(document if document is not None else build_document(DOCUMENT_PATH))
    parameters = extended["parameters"]
    allowed = parameters["DestinationType"]["allowedValues"]
    if KINESIS_DATA_FIREHOSE not in allowed:
        allowed.append(KINESIS_DATA_FIREHOSE)
    for name, spec in FIREHOSE_PARAMETERS.items():
        parameters.setdefault(name, copy.deepcopy(spec))
    return extended


def without_firehose() -> dict[str, Any]:
    """The built runbook with ``kinesis-data-firehose`` taken out of its DestinationType (as
    it is before the follow-up): the stack must refuse the destination."""
    document = build_document(DOCUMENT_PATH)
    spec = document["parameters"]["DestinationType"]
    spec["allowedValues"] = [v for v in spec["allowedValues"] if v != KINESIS_DATA_FIREHOSE]
    return document
