"""Synthesize the stack for tests: from cdk.json's context plus overrides, as the CLI does.

Synthesizing costs seconds (jsii, and pip for the Lambda asset), so the default template is
built once per session, with bundling, and tests that vary a setting synthesize without
bundling the Lambda (CDK's ``aws:cdk:bundling-stacks`` context, as ``cdk deploy OtherStack``
does), which leaves the template the same apart from the asset hash.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from stacks.settings.account import Settings
from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

if TYPE_CHECKING:
    from collections.abc import Callable

S = TypeVar("S", bound=cdk.Stack)

ROOT = Path(__file__).resolve().parents[3]
CDK_JSON = ROOT / "cdk.json"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def cdk_json_context() -> dict[str, Any]:
    """The context ``cdk.json`` gives the app: the settings' defaults and feature flags."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def synth_stack(
    build: Callable[[cdk.App], S],
    *,
    nag: bool = False,
    change: Callable[[S], object] | None = None,
) -> tuple[Any, Path]:
    """The template (JSON) of the stack ``build`` adds to an app with cdk.json's context, and
    the assembly directory; ``nag`` registers cdk-nag as app.py does."""
    app = cdk.App(context=cdk_json_context())
    stack = build(app)
    if change is not None:
        change(stack)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    return assembly.get_stack_artifact(stack.artifact_id).template, Path(assembly.directory)


@dataclass(frozen=True)
class Synthesized:
    """A synthesized stack: its template (as assertions and as JSON) and where it was written."""

    template: Template
    json: dict[str, Any]
    stack: VpcFlowLogsStack
    assembly_dir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: dict(resource)
            for logical_id, resource in self.template.find_resources(resource_type).items()
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        """The one resource of that type: (logical id, resource)."""
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))


def rule_asset(synthesized: Synthesized) -> Path:
    """The rule Lambda's asset folder in the cloud assembly, found through the template."""
    _, function = synthesized.only("AWS::Lambda::Function")
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    folder = synthesized.assembly_dir / f"asset.{asset_hash}"
    assert folder.is_dir(), f"no asset folder {folder}"
    return folder


def asset_distributions(folder: Path) -> dict[str, str]:
    """The distributions installed in an asset (their ``.dist-info``): name -> version."""
    return {
        canonical_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions(path=[str(folder)])
    }


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): ``typing_extensions`` ->
    ``typing-extensions``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def synthesize(
    overrides: dict[str, Any] | None = None,
    *,
    bundle: bool = False,
    outdir: Path | None = None,
    runbook_content: dict[str, Any] | None = None,
) -> Synthesized:
    """Synthesize the stack from ``cdk.json``'s context plus ``overrides`` (as ``-c`` gives);
    ``runbook_content`` replaces the document built from ``ssm_documents/``."""
    context = {**cdk_json_context(), **(overrides or {})}
    if not bundle:
        context["aws:cdk:bundling-stacks"] = []
    app = cdk.App(context=context, outdir=str(outdir) if outdir else None)
    settings = Settings.from_context(app.node.try_get_context, app.node.get_all_context())
    stack = VpcFlowLogsStack(
        app, "VpcFlowLogsGuard", settings=settings, runbook_content=runbook_content
    )
    assembly = app.synth()
    template_json: dict[str, Any] = assembly.get_stack_artifact(stack.artifact_id).template
    return Synthesized(
        template=Template.from_json(template_json),
        json=template_json,
        stack=stack,
        assembly_dir=Path(assembly.directory),
    )
