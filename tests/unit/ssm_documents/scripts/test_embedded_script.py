"""The script as the document carries it: loaded from source in a namespace of its own.

How the Automation runtime loads an inline script is not documented, so the script must work
both ways: imported as a module (the other tests) and executed from source in a fresh
namespace that ``sys.modules`` does not know. The source is the embedded text of the built
document (comments and docstrings removed), run against moto; it must behave as the module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

import enable_vpc_flow_logs as module
from stacks.build.runbook_document import build_document
from tests.unit.ssm_documents.payloads import BOUNDARY_ARN, REGION
from tests.unit.ssm_documents.payloads import runbook_input as events

DOCUMENT = Path(__file__).parents[4] / "ssm_documents" / "enable_vpc_flow_logs.yaml"
NAMESPACE = "ssm_inline_enable_flow_log"

Handler = Callable[[module.RunbookInput, object], dict[str, Any]]


def embedded_handler() -> Handler:
    """Execute the document's script text in a fresh namespace and return its handler."""
    (step,) = [s for s in build_document(DOCUMENT)["mainSteps"] if s["name"] == "EnableFlowLog"]
    assert NAMESPACE not in sys.modules
    namespace: dict[str, Any] = {"__name__": NAMESPACE}
    code = compile(step["inputs"]["Script"], "EnableFlowLog", "exec")
    exec(code, namespace)  # noqa: S102 - the runbook's own script, as SSM would run it
    handler: Handler = namespace[step["inputs"]["Handler"]]
    return handler


def new_vpc() -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def neutral(output: dict[str, Any], vpc_id: str) -> dict[str, Any]:
    """The output with this VPC's and flow log's ids replaced, to compare two runs."""
    flow_log_id = output["FlowLogId"]
    text = repr(output).replace(vpc_id, "<vpc>").replace(flow_log_id, "<flow-log>")
    return {"text": text, "flow_log_id_shape": flow_log_id.startswith("fl-")}


def test_the_embedded_script_defines_itself_without_sys_modules() -> None:
    handler = embedded_handler()

    assert callable(handler)
    assert NAMESPACE not in sys.modules


@pytest.mark.usefixtures("aws")
def test_the_embedded_script_behaves_as_the_module() -> None:
    embedded = embedded_handler()
    first, second = new_vpc(), new_vpc()

    # When the embedded script remediates one VPC (creating the role) and the module another
    from_source = embedded(events(first), None)
    from_module: dict[str, Any] = dict(module.handler(events(second), None))

    # Then both give their VPC a flow log; the module, finding the role, does not create it
    ec2 = boto3.client("ec2", region_name=REGION)
    pairs: list[tuple[str, dict[str, Any]]] = [(first, from_source), (second, from_module)]
    for vpc_id, output in pairs:
        flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])
        assert [fl["FlowLogId"] for fl in flow_logs["FlowLogs"]] == [output["FlowLogId"]]
    assert (
        f"created IAM role VpcFlowLogsDeliveryRole with boundary {BOUNDARY_ARN}"
        in (from_source["Changes"])
    )
    assert not any("IAM role" in change for change in from_module["Changes"])

    # And run again, each is a no-op with the same output as the other's second run
    again_source = embedded(events(second), None)
    again_module: dict[str, Any] = dict(module.handler(events(first), None))
    assert again_source["Changes"] == again_module["Changes"] == []
    assert again_source["FlowLogId"] == from_module["FlowLogId"]
    assert neutral(again_source, second) == neutral(again_module, first)


@pytest.mark.usefixtures("aws")
def test_the_embedded_script_refuses_bad_input_like_the_module() -> None:
    embedded = embedded_handler()
    bad = events("vpc-123")

    with pytest.raises(Exception, match=r"VpcId='vpc-123' is not valid") as from_source:
        embedded(bad, None)
    with pytest.raises(module.InvalidInputError) as from_module:
        module.handler(bad, None)
    assert type(from_source.value).__name__ == "InvalidInputError"
    assert str(from_source.value) == str(from_module.value)
