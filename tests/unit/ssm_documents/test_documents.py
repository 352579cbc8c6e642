"""Every runbook in ssm_documents/, checked after the build that embeds its scripts.

Mirrors what SSM would reject at CreateDocument or only discover mid-execution: unknown
actions, an unpinned runtime, a handler missing from its script, a ``{{ Name }}`` nobody
declares, an output selecting a field the script never returns, a default its own pattern
refuses, a placeholder left behind.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from enable_vpc_flow_logs import request as script
from stacks.build.runbook_document import PLACEHOLDER, build_document, document_yaml, script_files
from tests.unit.ssm_documents.payloads import runbook_input

DOCUMENTS_DIR = Path(__file__).parents[3] / "ssm_documents"
DOCUMENTS = sorted(DOCUMENTS_DIR.glob("*.yaml"))

KNOWN_ACTIONS = {
    "aws:approve",
    "aws:assertAwsResourceProperty",
    "aws:branch",
    "aws:changeInstanceState",
    "aws:copyImage",
    "aws:createImage",
    "aws:createStack",
    "aws:createTags",
    "aws:deleteImage",
    "aws:deleteStack",
    "aws:executeAutomation",
    "aws:executeAwsApi",
    "aws:executeScript",
    "aws:executeStateMachine",
    "aws:invokeLambdaFunction",
    "aws:loop",
    "aws:pause",
    "aws:runCommand",
    "aws:runInstances",
    "aws:sleep",
    "aws:updateVariable",
    "aws:waitForAwsResourceProperty",
}
PINNED_RUNTIME = "python3.11"  # what SSM executeScript runs for this project (see the contract)
KNOWN_GLOBALS = {
    "global:ACCOUNT_ID",
    "global:REGION",
    "global:AWS_PARTITION",
    "global:DATE",
    "global:DATE_TIME",
    "global:DATE_TIME_ISO8601",
    "automation:EXECUTION_ID",
}
PARAMETER_TYPES = {"String": str, "Integer": int, "Boolean": bool, "StringList": list}
VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def test_there_are_documents_to_check() -> None:
    assert DOCUMENTS, f"no *.yaml under {DOCUMENTS_DIR}"


@pytest.fixture(params=DOCUMENTS, ids=lambda path: path.name)
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    return build_document(path)


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    main_steps: list[dict[str, Any]] = document["mainSteps"]
    return main_steps


def script_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in steps(document) if step["action"] == "aws:executeScript"]


def strings_outside_scripts(node: object) -> list[str]:
    """Every string in the document except the embedded script bodies."""
    if isinstance(node, dict):
        return [
            text
            for key, value in node.items()
            if key != "Script"
            for text in strings_outside_scripts(value)
        ]
    if isinstance(node, list):
        return [text for item in node for text in strings_outside_scripts(item)]
    return [node] if isinstance(node, str) else []


def typed_dict_fields(module: ast.Module, class_name: str) -> set[str]:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {
                statement.target.id
                for statement in node.body
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            }
    raise AssertionError(f"no class {class_name} in the step's modules")


def handler_types(step: dict[str, Any]) -> tuple[ast.Module, ast.FunctionDef]:
    """The step's modules as written (the embedded program keeps no annotation: the build drops
    them) and its handler there."""
    (source_step,) = [s for s in source_steps(step["name"]) if s["name"] == step["name"]]
    match = PLACEHOLDER.search(source_step["inputs"]["Script"])
    assert match, f"step {step['name']} names no script"
    files = [DOCUMENTS_DIR / "scripts" / name for name in script_files(match[1])]
    module = ast.Module(
        body=[node for path in files for node in ast.parse(path.read_text()).body], type_ignores=[]
    )
    handler_name = step["inputs"]["Handler"]
    for node in ast.parse(files[-1].read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == handler_name:
            return module, node
    raise AssertionError(f"step {step['name']}: handler {handler_name} is not in {files[-1]}")


def source_steps(step_name: str) -> list[dict[str, Any]]:
    """The steps of the document (as written) that has a step of this name."""
    for path in DOCUMENTS:
        steps: list[dict[str, Any]] = yaml.safe_load(path.read_text())["mainSteps"]
        if any(step["name"] == step_name for step in steps):
            return steps
    raise AssertionError(f"no document has a step {step_name}")


def paths(document: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every sequence of steps an execution that succeeds can take (branches both ways)."""
    main = steps(document)
    index = {step["name"]: position for position, step in enumerate(main)}
    found: list[list[dict[str, Any]]] = []

    def walk(position: int, taken: list[dict[str, Any]]) -> None:
        assert len(taken) <= len(main), "the document loops"
        if position >= len(main):
            found.append(taken)
            return
        step = main[position]
        taken = [*taken, step]
        if step["action"] == "aws:branch":
            inputs = step["inputs"]
            targets = [choice["NextStep"] for choice in inputs["Choices"]]
            targets.append(inputs.get("Default", main[position + 1]["name"]))
            for target in dict.fromkeys(targets):
                walk(index[target], taken)
        elif step.get("isEnd"):
            found.append(taken)
        else:
            walk(index[step["nextStep"]] if "nextStep" in step else position + 1, taken)

    walk(0, [])
    return found


def test_is_an_automation_document(document: dict[str, Any]) -> None:
    assert document["schemaVersion"] == "0.3"
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert "AutomationAssumeRole" in document["parameters"]
    assert document["description"].strip()


def test_every_action_is_known(document: dict[str, Any]) -> None:
    unknown = {step["action"] for step in steps(document)} - KNOWN_ACTIONS
    assert not unknown


def test_step_names_are_unique(document: dict[str, Any]) -> None:
    names = [step["name"] for step in steps(document)]
    assert len(names) == len(set(names))


def test_scripts_run_on_the_pinned_runtime_and_define_their_handler(
    document: dict[str, Any],
) -> None:
    assert script_steps(document)
    for step in script_steps(document):
        assert step["inputs"]["Runtime"] == PINNED_RUNTIME
        _, handler = handler_types(step)
        assert [argument.arg for argument in handler.args.args] == ["events", "context"]


def test_script_payload_matches_the_scripts_typed_input(document: dict[str, Any]) -> None:
    for step in script_steps(document):
        module, handler = handler_types(step)
        annotation = handler.args.args[0].annotation
        assert isinstance(annotation, ast.Name), "the handler's events must be a TypedDict"
        assert set(step["inputs"]["InputPayload"]) == typed_dict_fields(module, annotation.id)


def test_outputs_select_fields_the_script_returns(document: dict[str, Any]) -> None:
    for step in script_steps(document):
        module, handler = handler_types(step)
        assert isinstance(handler.returns, ast.Name), "the handler must return a TypedDict"
        returned = typed_dict_fields(module, handler.returns.id)
        for output in step.get("outputs", []):
            selector = re.fullmatch(r"\$\.Payload\.(\w+)", output["Selector"])
            assert selector, f"{output['Name']}: selector {output['Selector']}"
            assert selector[1] in returned, f"{output['Name']} selects {selector[1]}"
            assert output["Type"] in {"String", "Integer", "Boolean", "StringList", "StringMap"}


def test_document_outputs_name_step_outputs(document: dict[str, Any]) -> None:
    declared = {
        f"{step['name']}.{output['Name']}"
        for step in steps(document)
        for output in step.get("outputs", [])
    }
    assert document.get("outputs")
    assert set(document["outputs"]) <= declared


def test_every_variable_is_declared(document: dict[str, Any]) -> None:
    parameters = set(document["parameters"])
    step_outputs = {
        f"{step['name']}.{output['Name']}"
        for step in steps(document)
        for output in step.get("outputs", [])
    }
    used = {name for text in strings_outside_scripts(document) for name in VARIABLE.findall(text)}
    assert used
    assert used <= parameters | KNOWN_GLOBALS | step_outputs, used - parameters - KNOWN_GLOBALS


def test_every_step_output_a_step_reads_comes_from_a_step_that_ran_before_it(
    document: dict[str, Any],
) -> None:
    # A step a branch skips has no outputs: no later step, and no document output, may need them
    for path in paths(document):
        ran: set[str] = set()
        for step in path:
            needed = {
                name.split(".")[0]
                for text in strings_outside_scripts(step)
                for name in VARIABLE.findall(text)
                if "." in name
            }
            assert needed <= ran, f"{[s['name'] for s in path]}: {step['name']} reads {needed}"
            ran.add(step["name"])
        assert {output.split(".")[0] for output in document["outputs"]} <= ran


def test_every_parameter_is_typed_described_and_constrained(document: dict[str, Any]) -> None:
    for name, parameter in document["parameters"].items():
        assert parameter.get("type") in PARAMETER_TYPES, name
        assert str(parameter.get("description", "")).strip(), name
        assert "allowedPattern" in parameter or "allowedValues" in parameter, name
        if "allowedPattern" in parameter:
            re.compile(parameter["allowedPattern"])


def test_defaults_are_accepted_by_their_own_constraints(document: dict[str, Any]) -> None:
    for name, parameter in document["parameters"].items():
        if "default" not in parameter:
            continue
        default = parameter["default"]
        assert isinstance(default, PARAMETER_TYPES[parameter["type"]]), name
        if "allowedValues" in parameter:
            assert default in parameter["allowedValues"], name
            expected = PARAMETER_TYPES[parameter["type"]]
            assert all(isinstance(value, expected) for value in parameter["allowedValues"]), name
        if "allowedPattern" in parameter:
            assert re.search(parameter["allowedPattern"], str(default)), name


def test_nothing_is_left_unsubstituted(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document)
    assert "%%SCRIPT" not in text
    for step in script_steps(document):
        compile(step["inputs"]["Script"], step["name"], "exec")


def test_numbers_are_strings_with_allowed_values(document: dict[str, Any]) -> None:
    # AWS Config passes every static value as a string; SSM recommends String for numbers.
    for name, parameter in document["parameters"].items():
        assert parameter["type"] != "Integer", name


def test_ssm_accepts_the_built_document(aws: None, document: dict[str, Any]) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    response = ssm.create_document(
        Content=document_yaml(document),
        Name="Check",
        DocumentType="Automation",
        DocumentFormat="YAML",
    )
    assert response["DocumentDescription"]["Status"] == "Active"


# --- enable_vpc_flow_logs.yaml: its interface -------------------------------------------------
# (Its allowedValues, defaults and allowedPatterns agree with the script's, the rule's and the
# settings' own: tests/contract/test_shared_constants.py.)


@pytest.fixture
def flow_logs_document() -> dict[str, Any]:
    return build_document(DOCUMENTS_DIR / "enable_vpc_flow_logs.yaml")


def test_flow_logs_parameters_are_the_public_interface(
    flow_logs_document: dict[str, Any],
) -> None:
    parameters = flow_logs_document["parameters"]
    assert list(parameters) == [
        "VpcId",
        "AutomationAssumeRole",
        "TrafficType",
        "LogGroupName",
        "RetentionInDays",
        "KmsKeyArn",
        "DeliveryRoleName",
        "DeliveryRoleBoundaryArn",
        "MaxAggregationInterval",
        "LogFormat",
        "DestinationType",
        "S3BucketArn",
        "S3FileFormat",
        "S3HiveCompatiblePartitions",
        "S3PerHourPartition",
        "FirehoseArn",
        "DeliverLogsPermissionArn",
        "DeliverCrossAccountRole",
    ]
    assert {name: parameters[name].get("default") for name in parameters} == {
        "VpcId": None,
        "AutomationAssumeRole": None,
        "TrafficType": "REJECT",
        "LogGroupName": "",
        "RetentionInDays": "365",
        "KmsKeyArn": "",
        "DeliveryRoleName": "VpcFlowLogsDeliveryRole",
        "DeliveryRoleBoundaryArn": "",
        "MaxAggregationInterval": "600",
        "LogFormat": "",
        "DestinationType": "cloud-watch-logs",
        "S3BucketArn": "",
        "S3FileFormat": "plain-text",
        "S3HiveCompatiblePartitions": "false",
        "S3PerHourPartition": "false",
        "FirehoseArn": "",
        "DeliverLogsPermissionArn": "",
        "DeliverCrossAccountRole": "",
    }
    assert flow_logs_document["outputs"] == [
        "Verify.FlowLogId",
        "Verify.Destination",
        "Verify.LogGroupName",
        "Verify.DeliveryRoleArn",
    ]
    payload = flow_logs_document["mainSteps"][0]["inputs"]["InputPayload"]
    assert payload["AccountId"] == "{{ global:ACCOUNT_ID }}"
    assert payload["Region"] == "{{ global:REGION }}"
    assert payload["Partition"] == "{{ global:AWS_PARTITION }}"


def test_document_defaults_are_a_valid_request() -> None:
    # The payload SSM builds from the document's defaults (the boundary has none that works)
    request = script.parse_request(runbook_input("vpc-0123456789abcdef0"))

    assert request["LogGroupName"] == "/aws/vpc-flow-logs/vpc-0123456789abcdef0"
    assert request["RetentionInDays"] == 365
    assert request["TrafficType"] == "REJECT"
