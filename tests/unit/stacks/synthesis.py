"""Synthesize the app's stacks for tests: from cdk.json's context plus overrides, as the CLI does.

The per-account stack (``synthesize``), the organization stack with its StackSet member
(``synth_organization``), the log-archive stack (``synth_log_archive``), the organization view
(``synth_view``), and ``app.py`` itself in a subprocess (``run_app``).

Synthesizing costs seconds (jsii, and pip for the Lambda asset), so the default template is
built once per session, with bundling, and tests that vary a setting synthesize without
bundling the Lambda (CDK's ``aws:cdk:bundling-stacks`` context, as ``cdk deploy OtherStack``
does), which leaves the template the same apart from the asset hash.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from stacks.log_archive_stack import LogArchiveStack
from stacks.organization_stack import OrganizationStack
from stacks.organization_view_stack import OrganizationViewStack
from stacks.settings.account import Settings
from stacks.settings.organization import OrganizationSettings
from stacks.settings.organization_view import OrganizationViewSettings
from stacks.vpc_flow_logs_stack import VpcFlowLogsStack

if TYPE_CHECKING:
    from collections.abc import Callable

S = TypeVar("S", bound=cdk.Stack)

ROOT = Path(__file__).resolve().parents[3]
CDK_JSON = ROOT / "cdk.json"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ORG: Final = "o-a1b2c3d4e5"
"""The organization the log-archive and view stacks are synthesized for."""
TWO_OUS_TWO_REGIONS: Final = {
    "organizationalUnitIds": "ou-ab12-cdef3456,ou-ab12-ghij7890",
    "regions": "eu-west-1,us-east-1",
    "assetBucketPrefix": "vfl-guard-assets",
}
"""The organization stack's settings unless a test says otherwise."""
AGGREGATOR: Final = "org-vpc-flow-logs"
VIEW: Final = {"aggregatorName": AGGREGATOR, "organizationId": ORG}
"""The organization view's settings."""


def cdk_json_context() -> dict[str, Any]:
    """The context ``cdk.json`` gives the app: the settings' defaults and feature flags."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def settings_with(**overrides: Any) -> Settings:
    """The per-account settings from cdk.json's context plus ``overrides``."""
    return Settings.from_mapping({**cdk_json_context(), **overrides})


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


def synth_log_archive(
    overrides: dict[str, Any] | None = None,
    *,
    nag: bool = False,
    change: Callable[[cdk.Stack], object] | None = None,
) -> tuple[Any, Path]:
    """The log-archive template (JSON) for ``ORG`` plus ``overrides``, and the assembly
    directory."""
    settings = OrganizationSettings.from_mapping({"organizationId": ORG, **(overrides or {})})
    return synth_stack(
        lambda app: LogArchiveStack(app, "VpcFlowLogsGuardLogArchive", settings=settings),
        nag=nag,
        change=change,
    )


def synth_view(
    email: str = "",
    *,
    nag: bool = False,
    change: Callable[[OrganizationViewStack], object] | None = None,
) -> tuple[Any, Path]:
    """The organization view's template (JSON), alerts to ``email`` if given, and the assembly
    directory."""
    settings = OrganizationViewSettings.from_mapping({**VIEW, "complianceNotificationEmail": email})
    return synth_stack(
        lambda app: OrganizationViewStack(
            app, "VpcFlowLogsGuardOrganizationView", settings=settings
        ),
        nag=nag,
        change=change,
    )


@dataclass(frozen=True)
class OrganizationSynthesized:
    """The organization stack, its StackSet's member template, and the per-account stack
    synthesized from the same settings for comparison."""

    stack: OrganizationStack
    parent: dict[str, Any]
    member: dict[str, Any]
    per_account: dict[str, Any]
    assembly_dir: Path

    def stack_set(self) -> dict[str, Any]:
        found: list[dict[str, Any]] = [
            r
            for r in self.parent["Resources"].values()
            if r["Type"] == "AWS::CloudFormation::StackSet"
        ]
        assert len(found) == 1
        return found[0]


def synth_organization(
    overrides: dict[str, Any] | None = None,
    *,
    account: dict[str, Any] | None = None,
    nag: bool = False,
    change: Callable[[cdk.Stack], object] | None = None,
) -> OrganizationSynthesized:
    """The organization stack from ``TWO_OUS_TWO_REGIONS`` plus ``overrides``; the per-account
    settings are cdk.json's plus ``account``."""
    context = {**cdk_json_context(), **(account or {}), "aws:cdk:bundling-stacks": []}
    app = cdk.App(context=context)
    settings = Settings.from_context(app.node.try_get_context, context)
    organization = OrganizationSettings.from_mapping({**TWO_OUS_TWO_REGIONS, **(overrides or {})})
    stack = OrganizationStack(
        app, "VpcFlowLogsGuardOrganization", settings=settings, organization=organization
    )
    per_account = VpcFlowLogsStack(app, "VpcFlowLogsGuard", settings=settings)
    if change is not None:
        change(stack)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    directory = Path(assembly.directory)
    (member_file,) = directory.glob("*.stackset.template.json")
    return OrganizationSynthesized(
        stack=stack,
        parent=assembly.get_stack_artifact(stack.artifact_id).template,
        member=json.loads(member_file.read_text()),
        per_account=assembly.get_stack_artifact(per_account.artifact_id).template,
        assembly_dir=directory,
    )


def run_app(outdir: Path, context: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """``app.py`` as the CDK CLI runs it: a subprocess, the context in ``CDK_CONTEXT_JSON``,
    the assembly written to ``outdir`` (``CDK_OUTDIR``); the Lambda is not bundled."""
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        # -c key=value arrives like this; skipping the Lambda's bundling keeps the test fast
        "CDK_CONTEXT_JSON": json.dumps({**context, "aws:cdk:bundling-stacks": []}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    for name in ("PYTEST_CURRENT_TEST", "PYTEST_VERSION"):  # CDK treats pytest as in-memory
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
