"""What the synthesized stacks deploy, taken from their templates only (nothing hard-coded here).

The per-account stack (:func:`read_guard_stack`): the Config rule (scope, triggers, input
parameters), the rule's Lambda function (handler, runtime, environment, code asset, role), the
remediation configuration (target document and parameter mapping), the Automation document's
content, the account-level subscription filter policy, and every IAM role with its policies.

The log-archive stack (:func:`read_log_archive_stack`): its buckets and their policies, the
CloudWatch Logs destination with its access policy, the Firehose stream it targets, both roles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from local_aws.intrinsics import TemplateError

if TYPE_CHECKING:
    from pathlib import Path

    from local_aws.assembly import StackTemplate

CHANGE_NOTIFICATION = "ConfigurationItemChangeNotification"
OVERSIZED_CHANGE_NOTIFICATION = "OversizedConfigurationItemChangeNotification"
SCHEDULED_NOTIFICATION = "ScheduledNotification"

# Lambda's defaults when the template leaves the property out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
# Config's defaults for a remediation configuration.
DEFAULT_MAXIMUM_AUTOMATIC_ATTEMPTS = 5
DEFAULT_RETRY_ATTEMPT_SECONDS = 60


@dataclass(frozen=True)
class RoleSpec:
    """An IAM role and every policy the template gives it."""

    logical_id: str
    name: str
    arn: str
    path: str
    trust_policy: dict[str, Any]
    inline_policies: dict[str, dict[str, Any]]
    managed_policy_arns: tuple[str, ...]
    customer_managed_policies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def trusts_service(self, service: str) -> bool:
        """True when the trust policy lets ``service`` (e.g. lambda.amazonaws.com) assume it."""
        for statement in _statements(self.trust_policy):
            if statement.get("Effect") != "Allow":
                continue
            if "sts:AssumeRole" not in _as_list(statement.get("Action")):
                continue
            principal = statement.get("Principal", {})
            if isinstance(principal, dict) and service in _as_list(principal.get("Service")):
                return True
        return False


@dataclass(frozen=True)
class FunctionSpec:
    """The rule's Lambda function as Lambda would run it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    architectures: tuple[str, ...]
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    role_arn: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    log_group_name: str
    log_format: str


@dataclass(frozen=True)
class ConfigRuleSpec:
    """A custom Config rule backed by a Lambda function."""

    logical_id: str
    name: str
    function_arn: str
    resource_types: tuple[str, ...]
    tag_key: str | None
    tag_value: str | None
    compliance_resource_id: str | None
    input_parameters: dict[str, Any]
    message_types: frozenset[str]
    maximum_execution_frequency: str | None


@dataclass(frozen=True)
class RemediationParameter:
    """One document parameter of a remediation: the resource's id or static values."""

    resource_value: str | None
    static_values: tuple[str, ...]


@dataclass(frozen=True)
class RemediationSpec:
    """An ``AWS::Config::RemediationConfiguration`` that runs an Automation document."""

    logical_id: str
    rule_name: str
    target_type: str
    document_name: str
    document_version: str | None
    automatic: bool
    maximum_automatic_attempts: int
    retry_attempt_seconds: int
    parameters: dict[str, RemediationParameter]
    concurrent_execution_rate_percentage: int | None
    error_percentage: int | None


@dataclass(frozen=True)
class DocumentSpec:
    """An SSM document: its parsed content, and the text and format CreateDocument receives."""

    logical_id: str
    name: str
    document_type: str
    content: dict[str, Any]
    document_format: str = "JSON"
    source: str = ""
    """The Content CloudFormation passes to CreateDocument (empty: ``content`` as JSON)."""


@dataclass(frozen=True)
class AccountPolicySpec:
    """An ``AWS::Logs::AccountPolicy``: what CloudFormation passes to PutAccountPolicy."""

    logical_id: str
    name: str
    policy_type: str
    document: str
    scope: str | None
    selection_criteria: str | None

    @property
    def destination_arn(self) -> str | None:
        """The ``DestinationArn`` of a subscription filter policy's document."""
        value = json.loads(self.document).get("DestinationArn")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class GuardStack:
    """Everything of the stack that the local run deploys and plays."""

    template: StackTemplate
    rule: ConfigRuleSpec
    function: FunctionSpec
    remediation: RemediationSpec | None
    documents: dict[str, DocumentSpec]
    roles: dict[str, RoleSpec]
    log_groups: dict[str, int | None]
    account_policies: tuple[AccountPolicySpec, ...] = ()

    def role_by_arn(self, arn: str) -> RoleSpec:
        if arn not in self.roles:
            known = ", ".join(sorted(self.roles)) or "none"
            raise TemplateError(f"{arn} is not a role of the stack (its roles: {known})")
        return self.roles[arn]


def read_guard_stack(template: StackTemplate) -> GuardStack:
    """Collect the stack's rule, function, remediation, documents and roles from its template."""
    roles = _roles(template)
    rule = _config_rule(template)
    function = _function_for(template, rule.function_arn)
    documents = {document.name: document for document in _documents(template)}
    remediation = _remediation_for(template, rule.name)
    if remediation is not None and remediation.document_name not in documents:
        raise TemplateError(
            f"the remediation of {rule.name} targets the document {remediation.document_name},"
            " which the stack does not create"
        )
    log_groups = {
        str(props.get("LogGroupName", template.physical_name(resource.logical_id))): props.get(
            "RetentionInDays"
        )
        for resource in template.resources("AWS::Logs::LogGroup")
        for props in [template.properties(resource.logical_id)]
    }
    return GuardStack(
        template=template,
        rule=rule,
        function=function,
        remediation=remediation,
        documents=documents,
        roles=roles,
        log_groups=log_groups,
        account_policies=_account_policies(template),
    )


def _account_policies(template: StackTemplate) -> tuple[AccountPolicySpec, ...]:
    policies = []
    for resource in template.resources("AWS::Logs::AccountPolicy"):
        props = template.properties(resource.logical_id)
        document = props.get("PolicyDocument")
        policies.append(
            AccountPolicySpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                policy_type=str(props.get("PolicyType")),
                # CloudFormation takes the document as a JSON string, as the API does.
                document=document if isinstance(document, str) else json.dumps(document),
                scope=props.get("Scope"),
                selection_criteria=props.get("SelectionCriteria"),
            )
        )
    return tuple(policies)


# -- the log-archive stack --------------------------------------------------------------------


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket and the policy an ``AWS::S3::BucketPolicy`` of the stack gives it."""

    logical_id: str
    name: str
    arn: str
    versioned: bool
    policy: dict[str, Any] | None


@dataclass(frozen=True)
class DeliveryStreamSpec:
    """An ``AWS::KinesisFirehose::DeliveryStream`` into S3 (the CreateDeliveryStream call)."""

    logical_id: str
    name: str
    arn: str
    stream_type: str
    encryption: dict[str, Any] | None
    extended_s3: dict[str, Any]
    """``ExtendedS3DestinationConfiguration``: CloudFormation's property names are the API's."""

    @property
    def role_arn(self) -> str:
        return str(self.extended_s3["RoleARN"])

    @property
    def bucket_name(self) -> str:
        return str(self.extended_s3["BucketARN"]).split(":::", 1)[-1]


@dataclass(frozen=True)
class LogDestinationSpec:
    """An ``AWS::Logs::Destination``: its target, the role CloudWatch Logs uses, who may use it."""

    logical_id: str
    name: str
    arn: str
    role_arn: str
    target_arn: str
    access_policy: str | None


@dataclass(frozen=True)
class ArchiveStack:
    """What the log-archive stack deploys of the central archive."""

    template: StackTemplate
    buckets: dict[str, BucketSpec]
    """By bucket name."""
    streams: dict[str, DeliveryStreamSpec]
    """By stream ARN."""
    destinations: dict[str, LogDestinationSpec]
    """By destination ARN."""
    roles: dict[str, RoleSpec]
    outputs: dict[str, Any]

    def destination(self, arn: str) -> LogDestinationSpec:
        if arn not in self.destinations:
            known = ", ".join(sorted(self.destinations)) or "none"
            raise TemplateError(
                f"{arn} is not a destination of the log-archive stack {self.template.stack_name} "
                f"(its destinations: {known})"
            )
        return self.destinations[arn]


def read_log_archive_stack(template: StackTemplate) -> ArchiveStack:
    """Collect the log-archive stack's buckets, streams, destinations and roles."""
    roles = _roles(template)
    buckets = _buckets(template)
    streams = {stream.arn: stream for stream in _streams(template)}
    destinations = {destination.arn: destination for destination in _destinations(template)}
    for stream in streams.values():
        if stream.bucket_name not in buckets:
            raise TemplateError(
                f"stream {stream.name} writes to {stream.bucket_name}, not a bucket of the stack"
            )
        if stream.role_arn not in roles:
            raise TemplateError(
                f"stream {stream.name}'s role {stream.role_arn} is not a role of the stack"
            )
    for destination in destinations.values():
        if destination.target_arn not in streams:
            raise TemplateError(
                f"destination {destination.name} targets {destination.target_arn}: only a Firehose "
                "stream of the same stack is supported"
            )
        if destination.role_arn not in roles:
            raise TemplateError(
                f"destination {destination.name}'s role {destination.role_arn} is not a role of "
                "the stack"
            )
    return ArchiveStack(
        template=template,
        buckets=buckets,
        streams=streams,
        destinations=destinations,
        roles=roles,
        outputs=template.outputs(),
    )


def _buckets(template: StackTemplate) -> dict[str, BucketSpec]:
    policies = {}
    for resource in template.resources("AWS::S3::BucketPolicy"):
        props = template.properties(resource.logical_id)
        policies[str(props["Bucket"])] = props["PolicyDocument"]
    buckets = {}
    for resource in template.resources("AWS::S3::Bucket"):
        props = template.properties(resource.logical_id)
        name = template.physical_name(resource.logical_id)
        buckets[name] = BucketSpec(
            logical_id=resource.logical_id,
            name=name,
            arn=template.get_att(resource.logical_id, "Arn"),
            versioned=props.get("VersioningConfiguration", {}).get("Status") == "Enabled",
            policy=policies.get(name),
        )
    return buckets


def _streams(template: StackTemplate) -> list[DeliveryStreamSpec]:
    streams = []
    for resource in template.resources("AWS::KinesisFirehose::DeliveryStream"):
        props = template.properties(resource.logical_id)
        if "ExtendedS3DestinationConfiguration" not in props:
            raise TemplateError(
                f"stream {resource.logical_id}: only an ExtendedS3DestinationConfiguration "
                "is supported"
            )
        streams.append(
            DeliveryStreamSpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                arn=template.get_att(resource.logical_id, "Arn"),
                stream_type=str(props.get("DeliveryStreamType", "DirectPut")),
                encryption=props.get("DeliveryStreamEncryptionConfigurationInput"),
                extended_s3=props["ExtendedS3DestinationConfiguration"],
            )
        )
    return streams


def _destinations(template: StackTemplate) -> list[LogDestinationSpec]:
    destinations = []
    for resource in template.resources("AWS::Logs::Destination"):
        props = template.properties(resource.logical_id)
        policy = props.get("DestinationPolicy")
        destinations.append(
            LogDestinationSpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                arn=template.get_att(resource.logical_id, "Arn"),
                role_arn=str(props["RoleArn"]),
                target_arn=str(props["TargetArn"]),
                access_policy=None if policy is None else str(policy),
            )
        )
    return destinations


def _roles(template: StackTemplate) -> dict[str, RoleSpec]:
    inline: dict[str, dict[str, dict[str, Any]]] = {}
    managed: dict[str, list[str]] = {}
    customer: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in template.resources("AWS::IAM::Policy"):
        props = template.properties(resource.logical_id)
        for role_name in props.get("Roles", []):
            inline.setdefault(role_name, {})[props["PolicyName"]] = props["PolicyDocument"]
    for resource in template.resources("AWS::IAM::ManagedPolicy"):
        props = template.properties(resource.logical_id)
        arn = template.ref(resource.logical_id)
        for role_name in props.get("Roles", []):
            managed.setdefault(role_name, []).append(arn)
            customer.setdefault(role_name, {})[arn] = props["PolicyDocument"]
    roles = {}
    for resource in template.resources("AWS::IAM::Role"):
        props = template.properties(resource.logical_id)
        name = template.physical_name(resource.logical_id)
        policies = {
            policy["PolicyName"]: policy["PolicyDocument"] for policy in props.get("Policies", [])
        }
        policies.update(inline.get(name, {}))
        arn = template.get_att(resource.logical_id, "Arn")
        roles[arn] = RoleSpec(
            logical_id=resource.logical_id,
            name=name,
            arn=arn,
            path=str(props.get("Path", "/")),
            trust_policy=props["AssumeRolePolicyDocument"],
            inline_policies=policies,
            managed_policy_arns=(*props.get("ManagedPolicyArns", []), *managed.get(name, [])),
            customer_managed_policies=customer.get(name, {}),
        )
    return roles


def _config_rule(template: StackTemplate) -> ConfigRuleSpec:
    rules = [
        resource
        for resource in template.resources("AWS::Config::ConfigRule")
        if template.properties(resource.logical_id).get("Source", {}).get("Owner")
        == "CUSTOM_LAMBDA"
    ]
    if len(rules) != 1:
        raise TemplateError(
            f"expected one AWS::Config::ConfigRule owned by CUSTOM_LAMBDA, found {len(rules)}"
        )
    logical_id = rules[0].logical_id
    props = template.properties(logical_id)
    source = props["Source"]
    details = source.get("SourceDetails", [])
    scope = props.get("Scope", {})
    frequencies = [
        detail["MaximumExecutionFrequency"]
        for detail in details
        if detail.get("MessageType") == SCHEDULED_NOTIFICATION
        and "MaximumExecutionFrequency" in detail
    ]
    input_parameters = props.get("InputParameters", {})
    if isinstance(input_parameters, str):
        input_parameters = json.loads(input_parameters)
    return ConfigRuleSpec(
        logical_id=logical_id,
        name=template.physical_name(logical_id),
        function_arn=str(source["SourceIdentifier"]),
        resource_types=tuple(scope.get("ComplianceResourceTypes", [])),
        tag_key=scope.get("TagKey"),
        tag_value=scope.get("TagValue"),
        compliance_resource_id=scope.get("ComplianceResourceId"),
        input_parameters=input_parameters,
        message_types=frozenset(
            detail["MessageType"] for detail in details if detail.get("EventSource") == "aws.config"
        ),
        maximum_execution_frequency=(
            frequencies[0] if frequencies else props.get("MaximumExecutionFrequency")
        ),
    )


def _function_for(template: StackTemplate, function_arn: str) -> FunctionSpec:
    for resource in template.resources("AWS::Lambda::Function"):
        if template.get_att(resource.logical_id, "Arn") == function_arn:
            return _function(template, resource.logical_id)
    raise TemplateError(f"the rule's function {function_arn} is not a function of the stack")


def _function(template: StackTemplate, logical_id: str) -> FunctionSpec:
    props = template.properties(logical_id)
    code = props.get("Code", {})
    if "S3Key" not in code:
        raise TemplateError(f"function {logical_id}: only code from a CDK file asset is supported")
    code_dir = _asset_dir(template, str(code["S3Key"]), f"function {logical_id}")
    layer_dirs = tuple(_layer_dir(template, str(arn)) for arn in props.get("Layers", []))
    name = template.physical_name(logical_id)
    logging_config = props.get("LoggingConfig", {})
    if "Handler" not in props or "Runtime" not in props:
        raise TemplateError(f"function {logical_id} needs a Handler and a Runtime")
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=template.get_att(logical_id, "Arn"),
        handler=str(props["Handler"]),
        runtime=str(props["Runtime"]),
        architectures=tuple(props.get("Architectures", ["x86_64"])),
        timeout_seconds=int(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        environment={
            str(key): str(value)
            for key, value in props.get("Environment", {}).get("Variables", {}).items()
        },
        role_arn=str(props["Role"]),
        code_dir=code_dir,
        layer_dirs=layer_dirs,
        log_group_name=str(logging_config.get("LogGroup", f"/aws/lambda/{name}")),
        log_format=str(logging_config.get("LogFormat", "Text")),
    )


def _asset_dir(template: StackTemplate, object_key: str, owner: str) -> Path:
    asset = template.artifact.asset_for_object_key(object_key)
    if asset.packaging != "zip" or not asset.path.is_dir():
        raise TemplateError(f"{owner}: asset {asset.path} is not a folder (packaging zip)")
    return asset.path


def _layer_dir(template: StackTemplate, layer_arn: str) -> Path:
    for resource in template.resources("AWS::Lambda::LayerVersion"):
        if template.ref(resource.logical_id) == layer_arn:
            content = template.properties(resource.logical_id).get("Content", {})
            return _asset_dir(template, str(content.get("S3Key")), f"layer {resource.logical_id}")
    raise TemplateError(
        f"layer {layer_arn} is not built by this stack, so its code is not in the assembly"
    )


def _documents(template: StackTemplate) -> list[DocumentSpec]:
    documents = []
    for resource in template.resources("AWS::SSM::Document"):
        props = template.properties(resource.logical_id)
        document_format = str(props.get("DocumentFormat", "JSON"))
        if document_format not in {"JSON", "YAML"}:
            raise TemplateError(
                f"document {resource.logical_id}: DocumentFormat {document_format} is not "
                "JSON or YAML"
            )
        content = props.get("Content")
        source = ""
        if isinstance(content, dict):
            # CloudFormation serializes an object in the document's format.
            source = json.dumps(content) if document_format == "JSON" else yaml.safe_dump(content)
        elif isinstance(content, str):
            source = content
            try:
                content = (
                    json.loads(source) if document_format == "JSON" else yaml.safe_load(source)
                )
            except (ValueError, yaml.YAMLError) as error:
                raise TemplateError(
                    f"document {resource.logical_id}: Content is not {document_format}: {error}"
                ) from error
        if not isinstance(content, dict):
            raise TemplateError(f"document {resource.logical_id} has no content object")
        documents.append(
            DocumentSpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                document_type=str(props.get("DocumentType", "Command")),
                content=content,
                document_format=document_format,
                source=source,
            )
        )
    return documents


def _remediation_for(template: StackTemplate, rule_name: str) -> RemediationSpec | None:
    found = [
        resource
        for resource in template.resources("AWS::Config::RemediationConfiguration")
        if template.properties(resource.logical_id).get("ConfigRuleName") == rule_name
    ]
    if not found:
        return None
    if len(found) > 1:
        raise TemplateError(f"rule {rule_name} has {len(found)} remediation configurations")
    logical_id = found[0].logical_id
    props = template.properties(logical_id)
    parameters = props.get("Parameters", {})
    if isinstance(parameters, str):
        parameters = json.loads(parameters)
    controls = props.get("ExecutionControls", {}).get("SsmControls", {})
    return RemediationSpec(
        logical_id=logical_id,
        rule_name=rule_name,
        target_type=str(props.get("TargetType")),
        document_name=str(props.get("TargetId")),
        document_version=props.get("TargetVersion"),
        automatic=bool(props.get("Automatic", False)),
        maximum_automatic_attempts=int(
            props.get("MaximumAutomaticAttempts", DEFAULT_MAXIMUM_AUTOMATIC_ATTEMPTS)
        ),
        retry_attempt_seconds=int(props.get("RetryAttemptSeconds", DEFAULT_RETRY_ATTEMPT_SECONDS)),
        parameters={
            name: _remediation_parameter(name, value) for name, value in parameters.items()
        },
        concurrent_execution_rate_percentage=controls.get("ConcurrentExecutionRatePercentage"),
        error_percentage=controls.get("ErrorPercentage"),
    )


def _remediation_parameter(name: str, value: dict[str, Any]) -> RemediationParameter:
    if "ResourceValue" in value:
        return RemediationParameter(
            resource_value=str(value["ResourceValue"]["Value"]), static_values=()
        )
    if "StaticValue" in value:
        values = value["StaticValue"].get("Values", [])
        return RemediationParameter(
            resource_value=None, static_values=tuple(str(item) for item in values)
        )
    raise TemplateError(f"remediation parameter {name} has neither ResourceValue nor StaticValue")


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
