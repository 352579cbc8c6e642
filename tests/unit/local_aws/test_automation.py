"""SSM Automation as played locally: parameters, substitution, steps, outputs, failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from local_aws.app_model import DocumentSpec
from local_aws.automation import (
    NO_OUTPUT,
    AutomationError,
    AutomationExecution,
    AutomationService,
    StepFailedError,
    check_steps,
    choose,
    resolve_parameters,
    run_steps,
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
    assert execution.failed_step == "Echo"
    # as describe-automation-executions shows the outputs of steps that did not succeed
    assert execution.outputs == {"Echo.Days": NO_OUTPUT, "After.Previous": NO_OUTPUT}


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


# -- the engine: step order, branches, outputs of steps that did not run -------------------------


def script(name: str, **inputs: Any) -> dict[str, Any]:
    return {
        "name": name,
        "action": "aws:executeScript",
        "inputs": {"InputPayload": inputs},
        "outputs": [{"Name": "Seen", "Selector": "$.Payload.Seen", "Type": "String"}],
    }


def branch(name: str, *choices: dict[str, Any], default: str | None = None) -> dict[str, Any]:
    inputs: dict[str, Any] = {"Choices": list(choices)}
    if default is not None:
        inputs["Default"] = default
    return {"name": name, "action": "aws:branch", "inputs": inputs}


def play(
    main_steps: list[dict[str, Any]], outputs: list[str], **variables: Any
) -> tuple[AutomationExecution, list[str]]:
    """Run ``main_steps`` with a script action that echoes its payload's ``Value``."""
    ran: list[str] = []

    def perform(step: dict[str, Any], inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        ran.append(step["name"])
        payload = inputs["InputPayload"]
        if payload.get("Fail"):
            raise StepFailedError(f"{step['name']} failed")
        return {"Payload": {"Seen": str(payload.get("Value", step["name"]))}}, ""

    check_steps(main_steps)
    execution = AutomationExecution("id", "Doc", {}, ROLE)
    run_steps({"mainSteps": main_steps, "outputs": outputs}, execution, dict(variables), perform)
    return execution, ran


BRANCHED = [
    script("Check", Value="{{ Kind }}"),
    branch(
        "Choose",
        {"NextStep": "Last", "Variable": "{{ Check.Seen }}", "StringEquals": "s3"},
        default="Middle",
    ),
    script("Middle"),
    script("Last", Value="{{ Check.Seen }}"),
]


@pytest.mark.parametrize(
    ("kind", "ran", "middle"),
    [
        ("s3", ["Check", "Last"], NO_OUTPUT),
        ("cloud-watch-logs", ["Check", "Middle", "Last"], "Middle"),
    ],
)
def test_a_branch_skips_steps_whose_outputs_are_then_not_available(
    kind: str, ran: list[str], middle: str
) -> None:
    execution, performed = play(BRANCHED, ["Middle.Seen", "Last.Seen"], Kind=kind)

    assert execution.succeeded
    assert performed == ran
    assert [step.name for step in execution.steps] == [ran[0], "Choose", *ran[1:]]
    assert execution.steps[1].status == "Success"
    assert execution.outputs == {"Middle.Seen": middle, "Last.Seen": kind}


def test_without_a_true_choice_or_default_a_branch_goes_on_to_the_next_step() -> None:
    main_steps = [
        branch("Choose", {"NextStep": "Last", "Variable": "x", "StringEquals": "y"}),
        script("Middle"),
        script("Last"),
    ]

    _, performed = play(main_steps, [])

    assert performed == ["Middle", "Last"]


def test_is_end_and_next_step_decide_what_runs_after_a_step() -> None:
    main_steps = [
        {**script("First"), "nextStep": "Third"},
        script("Second"),
        {**script("Third"), "isEnd": True},
        script("Fourth"),
    ]

    execution, performed = play(main_steps, ["Second.Seen", "Third.Seen"])

    assert performed == ["First", "Third"]
    assert execution.outputs == {"Second.Seen": NO_OUTPUT, "Third.Seen": "Third"}


@pytest.mark.parametrize(
    ("choice", "holds"),
    [
        ({"Variable": "abc", "StringEquals": "abc"}, True),
        ({"Variable": "abc", "StringEquals": "ABC"}, False),
        ({"Variable": "abc", "EqualsIgnoreCase": "ABC"}, True),
        ({"Variable": "abc", "StartsWith": "ab"}, True),
        ({"Variable": "abc", "EndsWith": "bc"}, True),
        ({"Variable": "abc", "Contains": "x"}, False),
        ({"Variable": True, "BooleanEquals": True}, True),
        ({"Variable": "false", "BooleanEquals": True}, False),
        ({"Variable": 7, "NumericGreater": 5}, True),
        ({"Variable": "7", "NumericLesserOrEquals": 7}, True),
        ({"Not": [{"Variable": "a", "StringEquals": "a"}]}, False),
        (
            {
                "And": [
                    {"Variable": "a", "StringEquals": "a"},
                    {
                        "Or": [
                            {"Variable": 1, "NumericEquals": 2},
                            {"Variable": "b", "Contains": "b"},
                        ]
                    },
                ]
            },
            True,
        ),
    ],
)
def test_branch_choices_evaluate_as_ssm_documents_them(choice: dict[str, Any], holds: bool) -> None:
    chosen = choose({"Choices": [{**choice, "NextStep": "Yes"}], "Default": "No"})

    assert chosen == ("Yes" if holds else "No")


def test_a_choice_with_an_operator_the_player_does_not_know_fails_the_branch() -> None:
    main_steps = [
        branch("Choose", {"NextStep": "Last", "Variable": "x", "Matches": "x"}),
        script("Last"),
    ]

    execution, performed = play(main_steps, [])

    assert execution.status == "Failed"
    assert execution.failed_step == "Choose"
    assert performed == []


@pytest.mark.parametrize(
    ("main_steps", "message"),
    [
        (
            [branch("Choose", {"NextStep": "Nowhere", "Variable": "x", "StringEquals": "x"})],
            "Nowhere",
        ),
        (
            [branch("Choose", {"Variable": "x", "StringEquals": "x"})],
            "every choice needs a NextStep",
        ),
        ([branch("Choose", default="Nowhere")], "every choice needs a NextStep"),
        ([{**script("A"), "nextStep": "B"}], r"\['B'\]"),
        ([{**script("A"), "onFailure": "step:B"}], r"\['B'\]"),
        ([script("A"), script("A")], "not unique"),
    ],
)
def test_a_document_naming_steps_that_do_not_exist_is_refused(
    main_steps: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(AutomationError, match=message):
        check_steps(main_steps)
