"""Read a CDK cloud assembly (``cdk.out``) the way ``cdk deploy`` and CloudFormation use it.

``manifest.json`` names the stacks and their asset manifests; a stack's template says what to
create; a Lambda function's ``Code.S3Key`` names the file asset (a folder in ``cdk.out``) that
``cdk deploy`` would upload. :class:`StackTemplate` then gives every resource the physical name
and attributes CloudFormation would give it in one account and region, and resolves intrinsic
functions with them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_aws.intrinsics import PseudoParameters, Resolver, TemplateError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

MANIFEST_FILE = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"


@dataclass(frozen=True)
class FileAsset:
    """One file asset: a folder (packaging ``zip``) or a file that ``cdk deploy`` uploads."""

    asset_id: str
    path: Path
    packaging: str
    object_keys: frozenset[str]


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly: its template and the file assets it refers to."""

    artifact_id: str
    stack_name: str
    template_path: Path
    template: dict[str, Any]
    file_assets: tuple[FileAsset, ...]

    def asset_for_object_key(self, object_key: str) -> FileAsset:
        """The asset that ``cdk deploy`` uploads under ``object_key`` (a template's S3Key)."""
        for asset in self.file_assets:
            if object_key in asset.object_keys:
                return asset
        raise TemplateError(
            f"stack {self.stack_name}: no file asset is published under the S3 key {object_key}"
        )


@dataclass(frozen=True)
class CloudAssembly:
    """The stacks of a synthesized CDK app."""

    directory: Path
    stacks: tuple[StackArtifact, ...]

    @classmethod
    def load(cls, directory: Path) -> CloudAssembly:
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.is_file():
            raise TemplateError(f"{directory} is not a cloud assembly: {MANIFEST_FILE} is missing")
        artifacts: dict[str, Any] = _read_json(manifest_path).get("artifacts", {})
        assets: dict[str, tuple[FileAsset, ...]] = {
            artifact_id: _file_assets(directory, artifact["properties"]["file"])
            for artifact_id, artifact in artifacts.items()
            if artifact.get("type") == ASSET_MANIFEST_ARTIFACT
        }
        stacks = tuple(
            _stack(directory, artifact_id, artifact, assets)
            for artifact_id, artifact in artifacts.items()
            if artifact.get("type") == STACK_ARTIFACT
        )
        if not stacks:
            raise TemplateError(f"the cloud assembly in {directory} has no stack")
        return cls(directory=directory, stacks=stacks)

    def stack(self, name: str | None = None) -> StackArtifact:
        """The stack called ``name``, or the only stack when no name is given."""
        if name is None:
            if len(self.stacks) != 1:
                names = ", ".join(stack.stack_name for stack in self.stacks)
                raise TemplateError(f"the assembly has several stacks ({names}): name one")
            return self.stacks[0]
        for stack in self.stacks:
            if name in (stack.stack_name, stack.artifact_id):
                return stack
        raise TemplateError(f"the assembly has no stack called {name}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise TemplateError(f"{path} does not hold a JSON object")
    return data


def _file_assets(directory: Path, manifest_file: str) -> tuple[FileAsset, ...]:
    files: dict[str, Any] = _read_json(directory / manifest_file).get("files", {})
    return tuple(
        FileAsset(
            asset_id=asset_id,
            path=directory / entry["source"]["path"],
            packaging=entry["source"].get("packaging", "file"),
            object_keys=frozenset(
                destination["objectKey"] for destination in entry.get("destinations", {}).values()
            ),
        )
        for asset_id, entry in files.items()
    )


def _stack(
    directory: Path,
    artifact_id: str,
    artifact: dict[str, Any],
    assets: dict[str, tuple[FileAsset, ...]],
) -> StackArtifact:
    properties = artifact.get("properties", {})
    template_path = directory / properties["templateFile"]
    file_assets = tuple(
        asset
        for dependency in artifact.get("dependencies", [])
        for asset in assets.get(dependency, ())
    )
    return StackArtifact(
        artifact_id=artifact_id,
        stack_name=properties.get("stackName", artifact_id),
        template_path=template_path,
        template=_read_json(template_path),
        file_assets=file_assets,
    )


@dataclass(frozen=True)
class Resource:
    """One resource of a template, as written (unresolved)."""

    logical_id: str
    type: str
    definition: dict[str, Any]


# Per resource type: the property that names it and the longest name CloudFormation generates.
_NAME_PROPERTIES: dict[str, tuple[str, int]] = {
    "AWS::IAM::Role": ("RoleName", 64),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128),
    "AWS::Lambda::Function": ("FunctionName", 64),
    "AWS::Lambda::LayerVersion": ("LayerName", 140),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::SSM::Document": ("Name", 128),
    "AWS::Config::ConfigRule": ("ConfigRuleName", 128),
    "AWS::Config::ConfigurationRecorder": ("Name", 256),
    "AWS::Config::DeliveryChannel": ("Name", 256),
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::Logs::Destination": ("DestinationName", 512),
    "AWS::Logs::AccountPolicy": ("PolicyName", 256),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", 64),
}


class StackTemplate:
    """A stack's template as deployed in one account and region: names, ARNs, resolved values."""

    def __init__(
        self,
        artifact: StackArtifact,
        *,
        account_id: str,
        region: str,
        partition: str = "aws",
        parameters: dict[str, str] | None = None,
        attributes: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        """``attributes``: ``Fn::GetAtt`` values a deployment gave, by (logical id, attribute),
        in place of the ones derived here (a Config rule's id is chosen by the service)."""
        self.artifact = artifact
        self._attributes = dict(attributes or {})
        self.pseudo = PseudoParameters(
            account_id=account_id,
            region=region,
            stack_name=artifact.stack_name,
            partition=partition,
        )
        self._resolver = Resolver(artifact.template, self.pseudo, self, parameters)

    @property
    def stack_name(self) -> str:
        return self.artifact.stack_name

    def resources(self, resource_type: str | None = None) -> list[Resource]:
        """The resources CloudFormation would create (their ``Condition``, if any, holds)."""
        found = []
        for logical_id, definition in self.artifact.template.get("Resources", {}).items():
            if resource_type is not None and definition.get("Type") != resource_type:
                continue
            condition = definition.get("Condition")
            if condition is not None and not self._resolver.condition(condition):
                continue
            found.append(Resource(logical_id, definition["Type"], definition))
        return found

    def resource(self, logical_id: str) -> Resource:
        definition = self.artifact.template.get("Resources", {}).get(logical_id)
        if definition is None:
            raise TemplateError(f"the template has no resource {logical_id}")
        return Resource(logical_id, definition["Type"], definition)

    def properties(self, logical_id: str) -> dict[str, Any]:
        """The resource's properties with every intrinsic function resolved."""
        resolved = self._resolver.resolve(
            self.resource(logical_id).definition.get("Properties", {})
        )
        return resolved if isinstance(resolved, dict) else {}

    def resolve(self, value: Any) -> Any:
        return self._resolver.resolve(value)

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs (``Outputs``), each value resolved, by output name."""
        outputs: dict[str, Any] = self.artifact.template.get("Outputs", {})
        return {
            name: self._resolver.resolve(output.get("Value"))
            for name, output in outputs.items()
            if output.get("Condition") is None or self._resolver.condition(output["Condition"])
        }

    # -- ResourceNames ------------------------------------------------------------------------

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its name property, or the name CloudFormation generates."""
        resource = self.resource(logical_id)
        name_property, max_length = _NAME_PROPERTIES.get(resource.type, ("", 255))
        given = (
            resource.definition.get("Properties", {}).get(name_property) if name_property else None
        )
        if given is not None:
            return str(self._resolver.resolve(given))
        name = generated_name(self.stack_name, logical_id, max_length)
        return name.lower() if resource.type == "AWS::S3::Bucket" else name

    def ref(self, logical_id: str) -> Any:
        resource = self.resource(logical_id)
        name = self.physical_name(logical_id)
        if resource.type == "AWS::IAM::ManagedPolicy":
            return self._arn_for(resource, name)
        if resource.type == "AWS::Lambda::LayerVersion":
            return self._arn_for(resource, name)
        if resource.type == "AWS::KMS::Key":
            return _stable_uuid(f"{self.stack_name}/{logical_id}")
        return name

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self._attributes:
            return self._attributes[logical_id, attribute]
        resource = self.resource(logical_id)
        name = self.physical_name(logical_id)
        if attribute == "Arn":
            return self._arn_for(resource, name)
        special = {
            ("AWS::IAM::Role", "RoleId"): "AROA" + _suffix(f"{self.stack_name}/{logical_id}", 17),
            ("AWS::Config::ConfigRule", "ConfigRuleId"): self._config_rule_id(logical_id),
            ("AWS::KMS::Key", "KeyId"): _stable_uuid(f"{self.stack_name}/{logical_id}"),
            ("AWS::SSM::Document", "Name"): name,
        }
        if (resource.type, attribute) in special:
            return special[(resource.type, attribute)]
        raise TemplateError(
            f"Fn::GetAtt {logical_id}.{attribute}: attribute of {resource.type} not supported"
        )

    def _config_rule_id(self, logical_id: str) -> str:
        return "config-rule-" + _suffix(f"{self.stack_name}/{logical_id}", 6).lower()

    def _arn_for(self, resource: Resource, name: str) -> str:
        p = self.pseudo
        region_account = f"{p.region}:{p.account_id}"
        path = str(self.resolve(resource.definition.get("Properties", {}).get("Path", "/")))
        arns = {
            "AWS::IAM::Role": f"arn:{p.partition}:iam::{p.account_id}:role{path}{name}",
            "AWS::IAM::ManagedPolicy": f"arn:{p.partition}:iam::{p.account_id}:policy{path}{name}",
            "AWS::Lambda::Function": f"arn:{p.partition}:lambda:{region_account}:function:{name}",
            "AWS::Lambda::LayerVersion": (
                f"arn:{p.partition}:lambda:{region_account}:layer:{name}:1"
            ),
            "AWS::Logs::LogGroup": f"arn:{p.partition}:logs:{region_account}:log-group:{name}:*",
            "AWS::SSM::Document": f"arn:{p.partition}:ssm:{region_account}:document/{name}",
            "AWS::Config::ConfigRule": (
                f"arn:{p.partition}:config:{region_account}:config-rule/"
                f"{self._config_rule_id(resource.logical_id)}"
            ),
            "AWS::KMS::Key": (
                f"arn:{p.partition}:kms:{region_account}:key/"
                + _stable_uuid(f"{self.stack_name}/{resource.logical_id}")
            ),
            "AWS::S3::Bucket": f"arn:{p.partition}:s3:::{name}",
            "AWS::SNS::Topic": f"arn:{p.partition}:sns:{region_account}:{name}",
            "AWS::Logs::Destination": (
                f"arn:{p.partition}:logs:{region_account}:destination:{name}"
            ),
            "AWS::KinesisFirehose::DeliveryStream": (
                f"arn:{p.partition}:firehose:{region_account}:deliverystream/{name}"
            ),
        }
        if resource.type not in arns:
            raise TemplateError(
                f"Fn::GetAtt {resource.logical_id}.Arn: {resource.type} has no ARN here"
            )
        return arns[resource.type]


def generated_name(stack_name: str, logical_id: str, max_length: int) -> str:
    """A name like CloudFormation generates: ``<stack>-<logical id>-<random suffix>``, bounded.

    The suffix is derived from the stack name and logical id, so a run is reproducible.
    """
    suffix = _suffix(f"{stack_name}/{logical_id}", 12)
    head = f"{stack_name}-{logical_id}"[: max_length - len(suffix) - 1]
    return f"{head}-{suffix}"


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:length]


def _stable_uuid(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
