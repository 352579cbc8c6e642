"""``CheckInput``'s InputPayload as SSM builds it for a Config remediation: every value a string.

The one payload builder of the runbook's tests, the rule's tests that run the runbook, the
contract tests and the benchmarks (``builders.events`` in
``tests/unit/ssm_documents/scripts/enable_vpc_flow_logs`` is this function). The values are the
document's own: each ``{{ Name }}`` of the ``CheckInput`` step's ``InputPayload`` gets the
parameter's default, or the automation global, as SSM substitutes them; only what has no usable
default is given here. (The later steps' payloads are ``CheckInput``'s outputs.)
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import yaml

from stacks.constructs.remediation_runbook import DOCUMENT_PATH
from tests.support.accounts import ACCOUNT_ID, DELIVERY_ROLE_NAME, REGION

if TYPE_CHECKING:
    from enable_vpc_flow_logs.check_input import RunbookInput

ACCOUNT: Final = ACCOUNT_ID
DELIVERY_ROLE: Final = DELIVERY_ROLE_NAME
BOUNDARY_ARN: Final = (
    f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-Boundary-1A2B"
)
"""The delivery role's boundary, as the remediation configuration passes it (its default, empty,
is refused with ``cloud-watch-logs``)."""
GLOBALS: Final = {
    "global:ACCOUNT_ID": ACCOUNT,
    "global:REGION": REGION,
    "global:AWS_PARTITION": "aws",
}
CHECK_INPUT: Final = "CheckInput"
"""The step that takes the document's parameters; every later step takes its outputs."""
_VARIABLE: Final = re.compile(r"\{\{\s*([\w:]+)\s*\}\}")

__all__ = ["ACCOUNT", "BOUNDARY_ARN", "DELIVERY_ROLE", "REGION", "runbook_input"]


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document


def runbook_input(vpc_id: str, **overrides: object) -> RunbookInput:
    """``CheckInput``'s payload for ``vpc_id``, every other parameter at its default.

    ``overrides`` replace payload entries and may be of any type: the tests of bad input pass
    values SSM would not.
    """
    document = _document()
    values: dict[str, object] = {
        name: spec["default"] for name, spec in document["parameters"].items() if "default" in spec
    }
    values |= {**GLOBALS, "VpcId": vpc_id, "DeliveryRoleBoundaryArn": BOUNDARY_ARN}
    (step,) = [step for step in document["mainSteps"] if step["name"] == CHECK_INPUT]
    assert step["action"] == "aws:executeScript", f"{CHECK_INPUT} is {step['action']}"
    payload: dict[str, object] = {}
    for key, template in step["inputs"]["InputPayload"].items():
        variable = _VARIABLE.fullmatch(str(template))
        assert variable, f"InputPayload {key}: {template!r} is not one {{{{ variable }}}}"
        payload[key] = values[variable[1]]
    return payload | overrides  # type: ignore[return-value]  # overrides may be of the wrong type
