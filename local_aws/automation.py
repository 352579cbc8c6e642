"""Play SSM Automation: run an Automation document's steps as its assume role.

What ``StartAutomationExecution`` and the Automation engine do, for the document content the
template carries: check the parameters (declared, typed, ``allowedPattern``/``allowedValues``,
defaults) and that every step a step names exists, substitute ``{{ Name }}`` variables
(parameters, ``global:*``, ``automation:*``, earlier steps' outputs), run the steps as the role
named by ``assumeRole`` in the order SSM does (``mainSteps`` order, ``nextStep``, ``isEnd``,
``aws:branch``, ``onFailure`` with ``Abort`` the default, ``maxAttempts``), collect each step's
outputs by their ``Selector`` and the document's ``outputs``: for a step that did not succeed
(failed, or skipped by a branch), SSM's ``No output available yet because the step is not
successfully executed`` (as ``describe-automation-executions`` shows it in the AWS CLI reference).

``aws:executeScript`` runs the embedded script text in a sandbox (stdlib + boto3, the step's
Python runtime) calling its handler with ``(events, context)``, like SSM does. ``aws:branch``
evaluates its ``Choices`` in order, then ``Default``, then goes on to the next step (SSM user
guide, "aws:branch - Run conditional automation steps"). Other actions fail their step, naming
the action, as unsupported here. :func:`run_steps` is the engine alone, for any way of running
a script step.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_aws.sandbox import find_interpreter

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from local_aws.app_model import DocumentSpec
    from local_aws.clients import Credentials
    from local_aws.sandbox import Interpreter, Sandbox

MAX_SCRIPT_SECONDS = 600  # aws:executeScript's limit
NO_OUTPUT = "No output available yet because the step is not successfully executed"
"""What SSM reports for a document output whose step did not succeed."""
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}")
_WHOLE_VARIABLE = re.compile(r"^\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}$")
_SELECTOR_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']+)'\]")


class AutomationError(Exception):
    """SSM refuses to start the execution (bad parameters, bad document)."""


@dataclass
class StepExecution:
    """One step's run: its status, outputs, and what its script printed."""

    name: str
    action: str
    status: str = "Pending"
    attempts: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    failure_message: str | None = None
    output: str = ""
    duration_seconds: float = 0.0


@dataclass
class AutomationExecution:
    """One execution of a document, as ``GetAutomationExecution`` would describe it."""

    execution_id: str
    document_name: str
    parameters: dict[str, Any]
    assume_role: str
    status: str = "InProgress"
    steps: list[StepExecution] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    failure_message: str | None = None
    duration_seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"

    @property
    def failed_step(self) -> str | None:
        """The step whose failure ended the execution (SSM's console marks it Failed)."""
        if self.succeeded or not self.steps or self.steps[-1].status != "Failed":
            return None
        return self.steps[-1].name


Perform = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], str]]
"""Runs one step's action with its substituted inputs; returns the root its output selectors
read (``{"Payload": ...}`` for a script) and what the step printed. Raises StepFailedError."""


class StepFailedError(Exception):
    """A step failed; the message says why, as SSM's ``FailureMessage`` does."""


class AutomationService:
    """Runs the stack's Automation documents against the embedded AWS."""

    def __init__(
        self,
        documents: Mapping[str, DocumentSpec],
        *,
        credentials_for: Callable[[str], Credentials],
        endpoint_url: str,
        region: str,
        account_id: str,
        partition: str,
        sandbox: Sandbox,
        interpreter_for: Callable[[str], Interpreter] = find_interpreter,
    ) -> None:
        self._documents = documents
        self._credentials_for = credentials_for
        self._endpoint_url = endpoint_url
        self._region = region
        self._account_id = account_id
        self._partition = partition
        self._sandbox = sandbox
        self._interpreter_for = interpreter_for
        self.executions: list[AutomationExecution] = []

    def start_automation_execution(
        self, document_name: str, parameters: Mapping[str, Sequence[str]]
    ) -> AutomationExecution:
        """Validate, then run the document to its end (synchronously); return the execution."""
        if document_name not in self._documents:
            raise AutomationError(f"document {document_name} does not exist")
        document = self._documents[document_name]
        if document.document_type != "Automation":
            raise AutomationError(f"document {document_name} is not an Automation document")
        content = document.content
        check_steps(content.get("mainSteps", []))
        values = resolve_parameters(content.get("parameters", {}), parameters)
        execution_id = str(uuid.uuid4())
        variables: dict[str, Any] = {
            **values,
            "global:ACCOUNT_ID": self._account_id,
            "global:REGION": self._region,
            "global:AWS_PARTITION": self._partition,
            "global:DATE": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            "global:DATE_TIME": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d_%H.%M.%S"),
            "automation:EXECUTION_ID": execution_id,
        }
        if "assumeRole" not in content:
            raise AutomationError(f"document {document_name} has no assumeRole")
        assume_role = str(substitute(content["assumeRole"], variables))
        credentials = self._credentials_for(assume_role)
        execution = AutomationExecution(
            execution_id=execution_id,
            document_name=document_name,
            parameters=values,
            assume_role=assume_role,
        )
        self.executions.append(execution)
        started = time.monotonic()

        def perform(step: dict[str, Any], inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
            return self._action(step, inputs, execution, credentials)

        run_steps(content, execution, variables, perform)
        execution.duration_seconds = time.monotonic() - started
        return execution

    def _action(
        self,
        step: dict[str, Any],
        inputs: dict[str, Any],
        execution: AutomationExecution,
        credentials: Credentials,
    ) -> tuple[dict[str, Any], str]:
        action = step["action"]
        if action == "aws:executeScript":
            return self._execute_script(step, inputs, execution, credentials)
        raise StepFailedError(f"action {action} is not supported by the local Automation player")

    def _execute_script(
        self,
        step: dict[str, Any],
        inputs: dict[str, Any],
        execution: AutomationExecution,
        credentials: Credentials,
    ) -> tuple[dict[str, Any], str]:
        for required in ("Runtime", "Handler", "Script"):
            if required not in inputs:
                raise StepFailedError(
                    f"aws:executeScript needs {required} (attachments unsupported)"
                )
        document_format = self._documents[execution.document_name].document_format
        if document_format != "YAML":
            # SSM supports an inline Script in YAML runbooks only.
            raise StepFailedError(
                f"aws:executeScript with an inline Script needs a YAML document, not "
                f"{document_format}"
            )
        call_name = f"ssm-{len(self.executions):03d}-{step['name']}-{len(execution.steps) + 1}"
        script_dir = self._sandbox.work / call_name
        script_dir.mkdir(parents=True, exist_ok=True)
        script_path = script_dir / "script.py"
        script_path.write_text(str(inputs["Script"]), encoding="utf-8")
        context = {
            "automation:EXECUTION_ID": execution.execution_id,
            "automation:DOCUMENT_NAME": execution.document_name,
            "global:ACCOUNT_ID": self._account_id,
            "global:REGION": self._region,
            "global:AWS_PARTITION": self._partition,
        }
        timeout = min(int(step.get("timeoutSeconds", MAX_SCRIPT_SECONDS)), MAX_SCRIPT_SECONDS)
        run = self._sandbox.run(
            interpreter=self._interpreter_for(str(inputs["Runtime"])),
            mode="ssm-script",
            request={
                "script_path": str(script_path),
                "handler": str(inputs["Handler"]),
                "events": inputs.get("InputPayload", {}),
                "context": context,
            },
            code_paths=[],
            environment={
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "AWS_REGION": self._region,
                "AWS_DEFAULT_REGION": self._region,
                "AWS_ENDPOINT_URL": self._endpoint_url,
                **credentials.environment(),
            },
            cwd=script_dir,
            timeout_seconds=timeout,
            name=call_name,
        )
        if run.error is not None:
            trace = "".join(run.error.get("stackTrace", []))
            raise StepFailedError(
                f"{run.error.get('errorType')} - {run.error.get('errorMessage')}\n{trace}".rstrip()
            )
        return {"Payload": run.result}, run.output


def check_steps(steps: Sequence[Mapping[str, Any]]) -> None:
    """Refuse what SSM refuses in ``mainSteps``: a step name used twice, or a step named by
    ``nextStep``, ``onFailure``, or an ``aws:branch`` choice or default that does not exist."""
    names = [str(step.get("name")) for step in steps]
    if len(set(names)) != len(names):
        raise AutomationError(f"step names are not unique: {names}")
    for step in steps:
        targets = [step.get("nextStep")]
        on_failure = str(step.get("onFailure", ""))
        if on_failure.startswith("step:"):
            targets.append(on_failure.removeprefix("step:"))
        if step.get("action") == "aws:branch":
            inputs = step.get("inputs", {})
            targets += [choice.get("NextStep") for choice in inputs.get("Choices", [])]
            targets.append(inputs.get("Default"))
            if not inputs.get("Choices") or any("NextStep" not in c for c in inputs["Choices"]):
                raise AutomationError(f"step {step.get('name')}: every choice needs a NextStep")
        missing = [target for target in targets if target is not None and target not in names]
        if missing:
            raise AutomationError(
                f"step {step.get('name')} names steps that do not exist: {missing}"
            )


def run_steps(
    content: Mapping[str, Any],
    execution: AutomationExecution,
    variables: dict[str, Any],
    perform: Perform,
) -> None:
    """Play the document's ``mainSteps`` from the first, as the Automation engine does.

    Each step's outputs become ``<Step>.<Name>`` variables for the steps after it. The
    execution ends Success after a step with ``isEnd`` or the last one, Failed when a step fails
    with ``onFailure`` ``Abort`` (the default); its ``outputs`` are the document's, each from
    its step, or :data:`NO_OUTPUT` for a step that did not succeed. An exception other than
    StepFailedError from ``perform`` propagates (the in-process runner's tests want it).
    """
    steps: list[dict[str, Any]] = list(content.get("mainSteps", []))
    by_name = {step["name"]: index for index, step in enumerate(steps)}
    index = 0
    while 0 <= index < len(steps):
        step = steps[index]
        result, chosen = _run_step(step, variables, perform)
        execution.steps.append(result)
        if result.status == "Failed":
            on_failure = str(step.get("onFailure", "Abort"))
            if on_failure == "Continue":
                index += 1
                continue
            if on_failure.startswith("step:"):
                index = by_name[on_failure.removeprefix("step:")]
                continue
            execution.status = "Failed"
            execution.failure_message = (
                f"Step fails when it is executing step {result.name}: {result.failure_message}"
            )
            break
        if chosen is not None:
            index = by_name[chosen]
        elif step.get("isEnd"):
            break
        else:
            index = by_name[step["nextStep"]] if "nextStep" in step else index + 1
    if execution.status == "InProgress":
        execution.status = "Success"
    execution.outputs = {
        name: variables.get(name, NO_OUTPUT) for name in content.get("outputs", [])
    }


def _run_step(
    step: dict[str, Any], variables: dict[str, Any], perform: Perform
) -> tuple[StepExecution, str | None]:
    """Run one step, retried up to ``maxAttempts``; with an ``aws:branch`` step, the step to
    go to (None: the next one)."""
    result = StepExecution(name=str(step["name"]), action=str(step["action"]))
    attempts = int(step.get("maxAttempts", 1))
    started = time.monotonic()
    chosen: str | None = None
    while result.attempts < attempts:
        result.attempts += 1
        try:
            inputs = substitute(step.get("inputs", {}), variables)
            result.inputs = inputs
            if result.action == "aws:branch":
                chosen = choose(inputs)
                payload_root: dict[str, Any] = {}
            else:
                payload_root, output = perform(step, inputs)
                result.output += output
            result.outputs = {
                output_spec["Name"]: select(payload_root, output_spec)
                for output_spec in step.get("outputs", [])
            }
        except StepFailedError as error:
            result.status = "Failed"
            result.failure_message = str(error)
            continue
        result.status = "Success"
        result.failure_message = None
        for name, value in result.outputs.items():
            variables[f"{result.name}.{name}"] = value
        break
    result.duration_seconds = time.monotonic() - started
    return result, chosen


_STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, operand: value == operand,
    "EqualsIgnoreCase": lambda value, operand: value.lower() == operand.lower(),
    "StartsWith": lambda value, operand: value.startswith(operand),
    "EndsWith": lambda value, operand: value.endswith(operand),
    "Contains": lambda value, operand: operand in value,
}
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "NumericEquals": lambda value, operand: value == operand,
    "NumericGreater": lambda value, operand: value > operand,
    "NumericGreaterOrEquals": lambda value, operand: value >= operand,
    "NumericLesser": lambda value, operand: value < operand,
    "NumericLesserOrEquals": lambda value, operand: value <= operand,
}


def choose(inputs: Mapping[str, Any]) -> str | None:
    """The step an ``aws:branch`` goes to: the first true choice's ``NextStep``, else
    ``Default``, else None (the next step). ``inputs`` are substituted already."""
    for choice in inputs.get("Choices", []):
        if _holds(choice):
            return str(choice["NextStep"])
    default = inputs.get("Default")
    return None if default is None else str(default)


def _holds(condition: Mapping[str, Any]) -> bool:
    if "And" in condition:
        return all(_holds(item) for item in condition["And"])
    if "Or" in condition:
        return any(_holds(item) for item in condition["Or"])
    if "Not" in condition:
        return not any(_holds(item) for item in condition["Not"])
    value = condition.get("Variable")
    for name, test in _STRING_OPERATORS.items():
        if name in condition:
            return test(str(value), str(condition[name]))
    for name, numeric in _NUMERIC_OPERATORS.items():
        if name in condition:
            return numeric(float(str(value)), float(str(condition[name])))
    if "BooleanEquals" in condition:
        actual = value if isinstance(value, bool) else str(value).lower() == "true"
        return actual is bool(condition["BooleanEquals"])
    raise StepFailedError(f"aws:branch choice has no operator this player knows: {condition}")


def resolve_parameters(
    declared: Mapping[str, Any], given: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The typed value of every declared parameter, checked as SSM checks them."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise AutomationError(f"parameters {', '.join(unknown)} are not defined in the document")
    values = {}
    for name, spec in declared.items():
        if name in given:
            value = _typed(name, spec.get("type", "String"), list(given[name]))
        elif "default" in spec:
            value = spec["default"]
        else:
            raise AutomationError(f"parameter {name} is required and has no default")
        _check_allowed(name, spec, value)
        values[name] = value
    return values


def _typed(name: str, parameter_type: str, raw: list[str]) -> Any:
    if parameter_type == "StringList":
        return raw
    if len(raw) != 1:
        raise AutomationError(f"parameter {name} takes one value, got {len(raw)}")
    value = raw[0]
    if parameter_type == "String":
        return value
    if parameter_type == "Integer":
        try:
            return int(value)
        except ValueError as error:
            raise AutomationError(f"parameter {name} must be an Integer, got {value!r}") from error
    if parameter_type == "Boolean":
        if value.lower() not in {"true", "false"}:
            raise AutomationError(f"parameter {name} must be a Boolean, got {value!r}")
        return value.lower() == "true"
    if parameter_type in {"StringMap", "MapList"}:
        return json.loads(value)
    raise AutomationError(f"parameter {name} has an unsupported type {parameter_type}")


def _check_allowed(name: str, spec: Mapping[str, Any], value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    pattern = spec.get("allowedPattern")
    allowed = spec.get("allowedValues")
    for item in items:
        if pattern is not None and re.fullmatch(str(pattern), str(item)) is None:
            raise AutomationError(
                f"parameter {name} value {item!r} does not match its allowedPattern {pattern}"
            )
        if allowed is not None and item not in allowed and str(item) not in map(str, allowed):
            raise AutomationError(
                f"parameter {name} value {item!r} is not one of its allowedValues {allowed}"
            )


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """``value`` with every ``{{ Name }}`` replaced; a lone variable keeps its type."""
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if not isinstance(value, str):
        return value
    whole = _WHOLE_VARIABLE.match(value)
    if whole:
        return _variable(whole.group(1), variables)

    def replace(match: re.Match[str]) -> str:
        found = _variable(match.group(1), variables)
        if isinstance(found, (dict, list)):
            raise StepFailedError(f"{{{{ {match.group(1)} }}}} is not a string inside {value!r}")
        return str(found).lower() if isinstance(found, bool) else str(found)

    return _VARIABLE.sub(replace, value)


def _variable(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise StepFailedError(f"variable {{{{ {name} }}}} is not defined")
    return variables[name]


def select(payload_root: Mapping[str, Any], output: Mapping[str, Any]) -> Any:
    """The value an output's ``Selector`` (``$.Payload.X``) picks, checked against its ``Type``."""
    selector = str(output.get("Selector", ""))
    if not selector.startswith("$"):
        raise StepFailedError(f"output {output.get('Name')}: selector {selector!r} is not JSONPath")
    value: Any = payload_root
    position = 1
    while position < len(selector):
        match = _SELECTOR_PART.match(selector, position)
        if match is None:
            raise StepFailedError(f"output {output.get('Name')}: cannot parse {selector!r}")
        key = match.group(1) or match.group(3)
        try:
            value = value[key] if key is not None else value[int(match.group(2))]
        except (KeyError, IndexError, TypeError) as error:
            raise StepFailedError(
                f"output {output.get('Name')}: {selector} selects nothing in the step's result"
            ) from error
        position = match.end()
    expected = {
        "String": str,
        "Integer": int,
        "Boolean": bool,
        "StringList": list,
        "StringMap": dict,
        "MapList": list,
    }.get(str(output.get("Type", "String")))
    if expected is not None and not isinstance(value, expected):
        raise StepFailedError(
            f"output {output.get('Name')}: {selector} is {type(value).__name__}, "
            f"not {output.get('Type', 'String')}"
        )
    return value
