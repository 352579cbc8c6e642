"""SSM Automation as played locally: parameters, substitution, steps, outputs, failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from local_aws.app_model import DocumentSpec
from local_aws.automation import (
    AutomationError,
    AutomationService,
    StepFailedError,
    resolve_parameters,
    select,
    substitute,
)
from local_aws.clients import Credentials
from local_aws.sandbox import Sandbox

if TYPE_CHECKING:
    from pathlib import Path

ROLE = "arn:aws:iam::123456789012:role/automation"
DECLARED: dict[str, Any] = {
    "VpcId": {"type": "String", "allowedPattern": "^vpc-[0-9a-f]{8,17}$"},
    "AutomationAssumeRole": {"type": "String"},
    "TrafficType": {"type": "String", "default": "REJECT", "allowedValues": ["ACCEPT", "REJECT"]},
    "RetentionInDays": {"type": "Integer", "default": 365, "allowedValues": [7, 365]},
    "Enabled": {"type": "Boolean", "default": True},
    "Names": {"type": "StringList", "default": []},
}


# -- parameters -------------------------------------------------------------------------------


def test_parameters_get_their_types_and_defaults() -> None:
    values = resolve_parameters(
        DECLARED,
        {
            "VpcId": ["vpc-0123456789abcdef0"],
            "AutomationAssumeRole": [ROLE],
            "RetentionInDays": ["7"],
            "Enabled": ["false"],
            "Names": ["a", "b"],
        },
    )
    assert values == {
        "VpcId": "vpc-0123456789abcdef0",
        "AutomationAssumeRole": ROLE,
        "TrafficType": "REJECT",
        "RetentionInDays": 7,
        "Enabled": False,
        "Names": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"VpcId": ["vpc-1"], "AutomationAssumeRole": [ROLE]}, "does not match its allowedPattern"),
        ({"AutomationAssumeRole": [ROLE]}, "parameter VpcId is required"),
        (
            {"VpcId": ["vpc-0123456789abcdef0"], "AutomationAssumeRole": [ROLE], "Extra": ["1"]},
            "Extra are not defined in the document",
        ),
        (
            {
                "VpcId": ["vpc-0123456789abcdef0"],
                "AutomationAssumeRole": [ROLE],
                "TrafficType": ["ALL"],
            },
            "is not one of its allowedValues",
        ),
        (
            {
                "VpcId": ["vpc-0123456789abcdef0"],
                "AutomationAssumeRole": [ROLE],
                "RetentionInDays": ["week"],
            },
            "must be an Integer",
        ),
        (
            {
                "VpcId": ["vpc-0123456789abcdef0", "vpc-0123456789abcdef1"],
                "AutomationAssumeRole": [ROLE],
            },
            "takes one value, got 2",
        ),
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(
    given: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(AutomationError, match=message):
        resolve_parameters(DECLARED, given)


# -- substitution and outputs -----------------------------------------------------------------


def test_a_lone_variable_keeps_its_type_and_others_are_interpolated() -> None:
    variables = {"Days": 365, "VpcId": "vpc-1", "global:REGION": "us-east-1", "On": True}
    payload = {
        "Days": "{{ Days }}",
        "Group": "/aws/vpc-flow-logs/{{VpcId}}",
        "Where": ["{{ global:REGION }}"],
        "Flag": "{{ On }}-{{ On }}",
        "Untouched": 3,
    }
    assert substitute(payload, variables) == {
        "Days": 365,
        "Group": "/aws/vpc-flow-logs/vpc-1",
        "Where": ["us-east-1"],
        "Flag": "true-true",
        "Untouched": 3,
    }


def test_an_undeclared_variable_fails_the_step() -> None:
    with pytest.raises(StepFailedError, match=r"variable \{\{ LogGroup \}\} is not defined"):
        substitute("{{ LogGroup }}", {})


def test_selectors_pick_payload_fields_and_check_their_type() -> None:
    root = {"Payload": {"FlowLogId": "fl-1", "Ids": ["a", "b"], "Days": 7}}
    assert (
        select(root, {"Name": "Id", "Selector": "$.Payload.FlowLogId", "Type": "String"}) == "fl-1"
    )
    assert select(root, {"Name": "Second", "Selector": "$.Payload.Ids[1]", "Type": "String"}) == "b"
    with pytest.raises(StepFailedError, match="selects nothing"):
        select(root, {"Name": "X", "Selector": "$.Payload.Missing", "Type": "String"})
    with pytest.raises(StepFailedError, match="is int, not String"):
        select(root, {"Name": "Days", "Selector": "$.Payload.Days", "Type": "String"})


# -- executions -------------------------------------------------------------------------------

ECHO = """\
def handler(events, context):
    if events.get("Fail"):
        raise RuntimeError("VPC " + events["VpcId"] + " does not exist")
    return {"Seen": events, "Execution": context["automation:EXECUTION_ID"],
            "Account": context["global:ACCOUNT_ID"]}
"""


def document(
    *, fail: bool = False, on_failure: str | None = None, document_format: str = "YAML"
) -> DocumentSpec:
    step: dict[str, Any] = {
        "name": "Echo",
        "action": "aws:executeScript",
        "inputs": {
            "Runtime": "python3.11",
            "Handler": "handler",
            "Script": ECHO,
            "InputPayload": {
                "VpcId": "{{ VpcId }}",
                "Days": "{{ RetentionInDays }}",
                "Region": "{{ global:REGION }}",
                "Fail": fail,
            },
        },
        "outputs": [
            {"Name": "Days", "Selector": "$.Payload.Seen.Days", "Type": "Integer"},
            {"Name": "Execution", "Selector": "$.Payload.Execution", "Type": "String"},
        ],
    }
    if on_failure:
        step["onFailure"] = on_failure
    second = {
        "name": "After",
        "action": "aws:executeScript",
        "inputs": {
            "Runtime": "python3.11",
            "Handler": "handler",
            "Script": ECHO,
            "InputPayload": {"VpcId": "{{ VpcId }}", "Previous": "{{ Echo.Days }}"},
        },
        "outputs": [{"Name": "Previous", "Selector": "$.Payload.Seen.Previous", "Type": "Integer"}],
    }
    return DocumentSpec(
        logical_id="Doc",
        name="Runbook",
        document_type="Automation",
        document_format=document_format,
        content={
            "schemaVersion": "0.3",
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": DECLARED,
            "outputs": ["Echo.Days", "After.Previous"],
            "mainSteps": [step, second],
        },
    )


def service(tmp_path: Path, spec: DocumentSpec, roles: dict[str, Credentials]) -> AutomationService:
    def credentials_for(role_arn: str) -> Credentials:
        if role_arn not in roles:
            raise AutomationError(f"The defined assume role {role_arn} is unable to be assumed")
        return roles[role_arn]

    return AutomationService(
        {spec.name: spec},
        credentials_for=credentials_for,
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        account_id="123456789012",
        partition="aws",
        sandbox=Sandbox.create(tmp_path / "sandbox"),
    )


GIVEN = {
    "VpcId": ["vpc-0123456789abcdef0"],
    "AutomationAssumeRole": [ROLE],
    "RetentionInDays": ["7"],
}


def test_an_inline_script_in_a_json_document_fails_its_step(tmp_path: Path) -> None:
    automation = service(
        tmp_path, document(document_format="JSON"), {ROLE: Credentials("AKID", "s", "t")}
    )

    execution = automation.start_automation_execution("Runbook", GIVEN)

    assert execution.status == "Failed"
    assert "inline Script needs a YAML document, not JSON" in str(execution.failure_message)


def test_runs_the_steps_in_order_passing_outputs_along(tmp_path: Path) -> None:
    # Given
    automation = service(tmp_path, document(), {ROLE: Credentials("AKID", "secret", "token")})

    # When
    execution = automation.start_automation_execution("Runbook", GIVEN)

    # Then
    assert execution.succeeded, execution.failure_message
    assert execution.assume_role == ROLE
    assert [step.status for step in execution.steps] == ["Success", "Success"]
    assert execution.steps[0].inputs["InputPayload"] == {
        "VpcId": "vpc-0123456789abcdef0",
        "Days": 7,
        "Region": "us-east-1",
        "Fail": False,
    }
    assert execution.steps[0].outputs["Execution"] == execution.execution_id
    assert execution.outputs == {"Echo.Days": 7, "After.Previous": 7}


def test_a_failing_script_fails_the_execution_with_its_error(tmp_path: Path) -> None:
    automation = service(tmp_path, document(fail=True), {ROLE: Credentials("AKID", "secret")})

    execution = automation.start_automation_execution("Runbook", GIVEN)

    assert execution.status == "Failed"
    assert [step.name for step in execution.steps] == ["Echo"]  # Abort: the rest does not run
    assert execution.failure_message is not None
    assert "step Echo: RuntimeError - VPC vpc-0123456789abcdef0 does not exist" in (
        execution.failure_message
    )
    assert execution.outputs == {}


def test_on_failure_continue_runs_the_next_step(tmp_path: Path) -> None:
    spec = document(fail=True, on_failure="Continue")
    automation = service(tmp_path, spec, {ROLE: Credentials("AKID", "secret")})

    execution = automation.start_automation_execution("Runbook", GIVEN)

    assert [step.status for step in execution.steps] == ["Failed", "Failed"]  # Echo.Days unset


def test_a_role_the_service_cannot_assume_refuses_the_start(tmp_path: Path) -> None:
    automation = service(tmp_path, document(), {})
    with pytest.raises(AutomationError, match="unable to be assumed"):
        automation.start_automation_execution("Runbook", GIVEN)


def test_an_unknown_document_is_refused(tmp_path: Path) -> None:
    automation = service(tmp_path, document(), {})
    with pytest.raises(AutomationError, match="document Other does not exist"):
        automation.start_automation_execution("Other", GIVEN)


def test_an_unsupported_action_fails_its_step_by_name(tmp_path: Path) -> None:
    spec = document()
    spec.content["mainSteps"] = [{"name": "Wait", "action": "aws:approve", "inputs": {}}]
    automation = service(tmp_path, spec, {ROLE: Credentials("AKID", "secret")})

    execution = automation.start_automation_execution("Runbook", GIVEN)

    assert execution.status == "Failed"
    assert "action aws:approve is not supported" in (execution.failure_message or "")


def test_max_attempts_retries_a_failing_step(tmp_path: Path) -> None:
    # Given a step that fails on its first attempt only
    counter = tmp_path / "attempts"
    flaky = (
        "import pathlib\n"
        "def handler(events, context):\n"
        "    counter = pathlib.Path(events['Counter'])\n"
        "    seen = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "    counter.write_text(str(seen))\n"
        "    if seen == 1:\n"
        "        raise RuntimeError('Unable to assume given IAM role')\n"
        "    return {'Attempt': seen}\n"
    )
    spec = document()
    spec.content["outputs"] = ["Flaky.Attempt"]
    spec.content["mainSteps"] = [
        {
            "name": "Flaky",
            "action": "aws:executeScript",
            "maxAttempts": 2,
            "inputs": {
                "Runtime": "python3.11",
                "Handler": "handler",
                "Script": flaky,
                "InputPayload": {"Counter": str(counter)},
            },
            "outputs": [{"Name": "Attempt", "Selector": "$.Payload.Attempt", "Type": "Integer"}],
        }
    ]
    automation = service(tmp_path, spec, {ROLE: Credentials("AKID", "secret")})

    # When
    execution = automation.start_automation_execution("Runbook", GIVEN)

    # Then
    assert execution.succeeded, execution.failure_message
    assert execution.steps[0].attempts == 2
    assert execution.outputs == {"Flaky.Attempt": 2}
