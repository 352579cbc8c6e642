"""The per-account stack delivering to the log archive's Firehose stream (direct delivery): the
settings that ask for it and the source role it creates, for the tests of both sides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tests.unit.stacks.iam_policies import resolve

if TYPE_CHECKING:
    from tests.unit.stacks.synthesis import Synthesized

ARCHIVE: Final = "111122223333"
"""The log-archive account the stream is in."""
STREAM_NAME: Final = "VpcFlowLogsGuardLogArchive-FlowLogs"
LOG_DELIVERY: Final = "delivery.logs.amazonaws.com"
TO_CENTRAL_STREAM: Final = {
    "destination": "kinesis-data-firehose",
    "centralFirehoseArn": f"arn:aws:firehose:{{region}}:{ARCHIVE}:deliverystream/{STREAM_NAME}",
    "centralFirehoseRoleArn": (
        f"arn:aws:iam::{ARCHIVE}:role/AWSLogDeliveryFirehoseCrossAccountRole-{{region}}"
    ),
}
"""The settings (``-c``) of a member delivering to the stream: the log-archive stack's outputs."""


def source_role(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    """The role only the log delivery service may assume, with its intrinsics resolved."""
    found = [
        (logical_id, resolve(resource, synthesized.json["Resources"]))
        for logical_id, resource in synthesized.resources("AWS::IAM::Role").items()
        if resource["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": LOG_DELIVERY}
    ]
    assert len(found) == 1, found
    return found[0]
