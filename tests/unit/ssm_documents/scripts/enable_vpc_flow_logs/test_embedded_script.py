"""Each step's script as the document carries it: loaded from its text in a namespace of its own.

How the Automation runtime loads an inline script is not documented, so each step's script must
work both ways: its modules imported (the other tests), and the one program the build embeds
(the shared modules and the step's own, without the imports between them) executed in a fresh
namespace that ``sys.modules`` does not know. Played through the whole document against moto,
the embedded scripts must behave as the modules.
"""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest

from enable_vpc_flow_logs import check_input
from enable_vpc_flow_logs.input_checks import InvalidInputError
from tests.support.runbook import built_document, embedded_handler, play
from tests.unit.ssm_documents.payloads import BOUNDARY_ARN, REGION
from tests.unit.ssm_documents.payloads import runbook_input as events
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    SOURCE_ROLE,
    STREAM,
    to_firehose,
)

SCRIPT_STEPS = [step for step in built_document()["mainSteps"] if "Script" in step["inputs"]]


def new_vpc() -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def neutral(output: dict[str, Any], vpc_id: str) -> str:
    """The output with this VPC's and flow log's ids replaced, to compare two runs."""
    return repr(output).replace(vpc_id, "<vpc>").replace(output["FlowLogId"], "<flow-log>")


def test_every_script_step_is_checked() -> None:
    assert [step["name"] for step in SCRIPT_STEPS] == [
        "CheckInput",
        "DeliveryRole",
        "LogGroup",
        "FlowLog",
        "Verify",
    ]


@pytest.mark.parametrize("step", SCRIPT_STEPS, ids=lambda step: step["name"])
def test_each_embedded_script_defines_its_handler_without_sys_modules(
    step: dict[str, Any],
) -> None:
    modules = set(sys.modules)

    handler = embedded_handler(step)

    assert callable(handler)
    assert handler.__module__ == f"ssm_inline_{step['name']}"
    assert set(sys.modules) - modules == set()  # it imported nothing new, ours least of all


@pytest.mark.usefixtures("aws")
def test_the_embedded_scripts_behave_as_the_modules() -> None:
    first, second = new_vpc(), new_vpc()
    session = boto3.session.Session(region_name=REGION)

    # When the embedded scripts remediate one VPC (creating the role) and the modules another
    from_source = play(events(first), embedded=True)
    from_modules = play(events(second), session)

    # Then both ran every step and gave their VPC a flow log; the modules found the role
    ec2 = boto3.client("ec2", region_name=REGION)
    for vpc_id, played in [(first, from_source), (second, from_modules)]:
        assert played.execution.succeeded
        assert len(played.steps) == 6
        flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])
        assert [fl["FlowLogId"] for fl in flow_logs["FlowLogs"]] == [played.output["FlowLogId"]]
    assert f"created IAM role VpcFlowLogsDeliveryRole with boundary {BOUNDARY_ARN}" in (
        from_source.changes
    )
    assert not any("IAM role" in change for change in from_modules.changes)

    # And run again, each is a no-op with the same output as the other's second run
    again_source = play(events(second), embedded=True)
    again_modules = play(events(first), session)
    assert again_source.changes == again_modules.changes == []
    assert again_source.output["FlowLogId"] == from_modules.output["FlowLogId"]
    assert neutral(again_source.output, second) == neutral(again_modules.output, first)


@pytest.mark.usefixtures("aws")
def test_the_embedded_scripts_take_the_s3_path_as_the_modules() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="central-flow-logs")
    to_s3 = {
        "DestinationType": "s3",
        "S3BucketArn": "arn:aws:s3:::central-flow-logs",
        "DeliveryRoleBoundaryArn": "",
    }
    first, second = new_vpc(), new_vpc()

    from_source = play(events(first, **to_s3), embedded=True)
    from_modules = play(events(second, **to_s3), boto3.session.Session(region_name=REGION))

    for played in (from_source, from_modules):
        assert played.steps == ["CheckInput", "ChooseDestination", "FlowLog", "Verify"]
    assert neutral(from_source.output, first) == neutral(from_modules.output, second)


@pytest.mark.usefixtures("aws")
def test_the_embedded_scripts_take_the_firehose_path_as_the_modules() -> None:
    first, second = new_vpc(), new_vpc()

    from_source = play(events(first, **to_firehose()), embedded=True)
    from_modules = play(events(second, **to_firehose()), boto3.session.Session(region_name=REGION))

    for played in (from_source, from_modules):
        assert played.steps == ["CheckInput", "ChooseDestination", "FlowLog", "Verify"]
        assert played.output["Destination"] == STREAM
    assert neutral(from_source.output, first) == neutral(from_modules.output, second)
    # The embedded validation refuses a role of another account as the module does
    wrong = {**to_firehose(), "DeliverLogsPermissionArn": SOURCE_ROLE.replace(ACCOUNT, "4" * 12)}
    with pytest.raises(Exception, match="expected a role of this account") as from_source_error:
        play(events(first, **wrong), embedded=True)
    with pytest.raises(InvalidInputError) as from_module_error:
        play(events(first, **wrong), boto3.session.Session(region_name=REGION))
    assert str(from_source_error.value) == str(from_module_error.value)


@pytest.mark.usefixtures("aws")
def test_the_embedded_check_refuses_bad_input_like_the_module() -> None:
    (step,) = [step for step in SCRIPT_STEPS if step["name"] == "CheckInput"]
    bad = events("vpc-123")

    with pytest.raises(Exception, match=r"VpcId='vpc-123' is not valid") as from_source:
        embedded_handler(step)(bad, None)
    with pytest.raises(InvalidInputError) as from_module:
        check_input.handler(bad, None)
    assert type(from_source.value).__name__ == "InvalidInputError"
    assert str(from_source.value) == str(from_module.value)
