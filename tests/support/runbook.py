"""The remediation runbook played in this process, as SSM plays its document.

The document's steps run through the local Automation engine (``local_aws.automation``: step
order, ``aws:branch``, outputs substituted into later inputs); each script step calls its phase
module's ``run`` with clients from a given boto3 session (so a test can record and inject
calls) and a ``sleep`` to record waits. With ``embedded=True`` each script step instead runs the
text the built document embeds, in a namespace of its own, through its ``handler``.

A step's exception propagates as it is (``RemediationError``, ``InvalidInputError``): tests
assert on it. The input is the ``CheckInput`` payload (``tests.unit.ssm_documents.payloads``),
whose ``AccountId``/``Region``/``Partition`` stand for the automation globals; the document's
defaults fill in the parameters it leaves out. Nothing is validated on the way in, so a test can
hand the script what SSM's patterns would refuse.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from local_aws.automation import AutomationExecution, run_steps
from stacks.build.runbook_document import PLACEHOLDER, build_document, script_files

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import boto3

DOCUMENT_PATH: Final = (
    Path(__file__).resolve().parents[2] / "ssm_documents" / "enable_vpc_flow_logs.yaml"
)
"""The stack's document (``stacks.constructs.remediation_runbook.DOCUMENT_PATH``, without
importing the CDK)."""
GLOBALS: Final = {
    "AccountId": "global:ACCOUNT_ID",
    "Region": "global:REGION",
    "Partition": "global:AWS_PARTITION",
}
"""The payload keys that carry the automation globals, and the globals."""


@dataclass(frozen=True)
class PlayedRun:
    """One execution of the document: what SSM records, and each script step's Payload."""

    execution: AutomationExecution
    payloads: dict[str, dict[str, Any]]

    @property
    def steps(self) -> list[str]:
        """The steps that ran, in order."""
        return [step.name for step in self.execution.steps]

    @property
    def changes(self) -> list[str]:
        """What every step changed, in order (each script step's ``Changes``)."""
        return [
            change for payload in self.payloads.values() for change in payload.get("Changes", [])
        ]

    @property
    def output(self) -> dict[str, Any]:
        """The document's outputs by their output name, and every step's ``Changes``."""
        outputs = {key.split(".", 1)[1]: value for key, value in self.execution.outputs.items()}
        return {**outputs, "Changes": self.changes}


def play(
    events: Mapping[str, object],
    session: boto3.session.Session | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    embedded: bool = False,
) -> PlayedRun:
    """Run the document for ``events``; ``session`` gives the clients (not with ``embedded``)."""
    content = built_document() if embedded else source_document()
    parameters = {
        name: spec["default"] for name, spec in content["parameters"].items() if "default" in spec
    }
    variables: dict[str, Any] = {**parameters}
    for key, value in events.items():
        variables[GLOBALS.get(key, key)] = value
    execution = AutomationExecution(
        execution_id="in-process",
        document_name=DOCUMENT_PATH.stem,
        parameters=dict(events),
        assume_role="",
    )
    payloads: dict[str, dict[str, Any]] = {}

    def perform(step: dict[str, Any], inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        events = inputs.get("InputPayload", {})
        if embedded:
            payload = embedded_handler(step)(events, None)
        else:
            assert session is not None, "a session gives the clients, or embedded=True"
            run = phase_module(step).run
            extra = {"sleep": sleep} if "sleep" in inspect.signature(run).parameters else {}
            payload = run(events, session, **extra)
        payloads[step["name"]] = dict(payload)
        return {"Payload": payload}, ""

    run_steps(content, execution, variables, perform)
    return PlayedRun(execution, payloads)


@functools.cache
def source_document() -> dict[str, Any]:
    """The document as written: its script steps name their modules (``%%SCRIPT=...%%``)."""
    document: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document


@functools.cache
def built_document() -> dict[str, Any]:
    return build_document(DOCUMENT_PATH)


def phase_module(step: Mapping[str, Any]) -> Any:
    """The module a script step runs: the last file its placeholder names."""
    match = PLACEHOLDER.search(str(step["inputs"]["Script"]))
    assert match, f"step {step['name']} names no script"
    module = script_files(match[1])[-1].removesuffix(".py").replace("/", ".")
    return importlib.import_module(module)


def embedded_handler(step: Mapping[str, Any]) -> Callable[[Any, object], Any]:
    """The handler of the script the built document embeds for ``step``, executed from its text
    in a namespace ``sys.modules`` does not know (how SSM loads it is not documented)."""
    namespace: dict[str, Any] = {"__name__": f"ssm_inline_{step['name']}"}
    code = compile(step["inputs"]["Script"], str(step["name"]), "exec")
    exec(code, namespace)  # noqa: S102 - the runbook's own script, as SSM would run it
    handler: Callable[[Any, object], Any] = namespace[step["inputs"]["Handler"]]
    return handler
