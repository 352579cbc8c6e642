"""Deploy the stacks' resources into the embedded AWS, as CloudFormation would create them.

:func:`deploy` creates the per-account stack in its account, :func:`deploy_log_archive` the
log-archive stack's central archive in the log-archive account (each with that account's admin).

IAM roles get the template's own policies, with one deliberate change: every ``Resource`` is
widened to ``"*"``. moto authorizes every non-S3 call against the resource ``"*"``, so a
statement scoped to an ARN would never match there and would fail calls AWS allows. What moto
can check, and what this run proves, is that each role is granted every *action* its code calls;
resource scoping and conditions are checked on the template itself by the stack's tests, and on
the requests the run recorded by the end-to-end test (``tests/e2e/least_privilege.py``).
(moto evaluates only ``StringEquals`` on ``sts:ExternalId``, so conditions are kept as written
and have no effect here.)
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from local_aws.app_model import AccountPolicySpec, ArchiveStack, GuardStack, RoleSpec
    from local_aws.clients import Aws


@dataclass(frozen=True)
class Deployment:
    """What the deployment created, with the names and ARNs the embedded AWS gave it."""

    rule_name: str
    rule_arn: str
    rule_id: str
    function_arn: str
    document_names: tuple[str, ...]
    role_arns: tuple[str, ...]


def widen_resources(policy: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``policy`` whose statements apply to ``"*"`` (see the module docstring)."""
    widened = copy.deepcopy(policy)
    statements = widened.get("Statement", [])
    for statement in [statements] if isinstance(statements, dict) else statements:
        if "Resource" in statement:
            statement["Resource"] = "*"
    return widened


def deploy(stack: GuardStack, admin: Aws) -> Deployment:
    """Create the roles, managed policies, log groups, the function, the rule and the documents."""
    for role in stack.roles.values():
        _create_role(admin, role)
    template = stack.template
    for policy in template.resources("AWS::IAM::ManagedPolicy"):
        # also those no role of the stack attaches (the delivery role's boundary)
        document = template.properties(policy.logical_id)["PolicyDocument"]
        _create_customer_managed_policy(admin, template.ref(policy.logical_id), document)
    logs = admin.logs()
    for name, retention in stack.log_groups.items():
        logs.create_log_group(logGroupName=name)
        if retention is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention))
    for account_policy in stack.account_policies:
        put_account_policy(admin, account_policy)

    function = stack.function
    admin.client("lambda").create_function(
        FunctionName=function.name,
        Runtime=function.runtime,
        Role=function.role_arn,
        Handler=function.handler,
        Code={"ZipFile": _zip_folder(function.code_dir)},
        Timeout=function.timeout_seconds,
        MemorySize=function.memory_mb,
        Architectures=list(function.architectures),
        Environment={"Variables": function.environment},
    )

    rule = stack.rule
    source_details: list[dict[str, str]] = [
        {"EventSource": "aws.config", "MessageType": message_type}
        for message_type in sorted(rule.message_types)
    ]
    for detail in source_details:
        if detail["MessageType"] == "ScheduledNotification" and rule.maximum_execution_frequency:
            detail["MaximumExecutionFrequency"] = rule.maximum_execution_frequency
    scope: dict[str, Any] = {"ComplianceResourceTypes": list(rule.resource_types)}
    if rule.tag_key:
        scope["TagKey"] = rule.tag_key
        if rule.tag_value:
            scope["TagValue"] = rule.tag_value
    config_rule: Any = {
        "ConfigRuleName": rule.name,
        "Source": {
            "Owner": "CUSTOM_LAMBDA",
            "SourceIdentifier": function.arn,
            "SourceDetails": source_details,
        },
        "Scope": scope,
        "InputParameters": json.dumps(rule.input_parameters),
    }
    config = admin.config()
    config.put_config_rule(ConfigRule=config_rule)
    described = config.describe_config_rules(ConfigRuleNames=[rule.name])["ConfigRules"][0]

    ssm = admin.ssm()
    for document in stack.documents.values():
        ssm.create_document(
            Name=document.name,
            Content=document.source or json.dumps(document.content),
            DocumentType=document.document_type,  # type: ignore[arg-type]
            DocumentFormat=document.document_format,  # type: ignore[arg-type]
        )
    return Deployment(
        rule_name=rule.name,
        rule_arn=described["ConfigRuleArn"],
        rule_id=described["ConfigRuleId"],
        function_arn=function.arn,
        document_names=tuple(stack.documents),
        role_arns=tuple(stack.roles),
    )


def put_account_policy(admin: Aws, spec: AccountPolicySpec) -> None:
    """PutAccountPolicy as CloudFormation calls it for an ``AWS::Logs::AccountPolicy``."""
    arguments: dict[str, Any] = {
        "policyName": spec.name,
        "policyDocument": spec.document,
        "policyType": spec.policy_type,
    }
    if spec.scope is not None:
        arguments["scope"] = spec.scope
    if spec.selection_criteria is not None:
        arguments["selectionCriteria"] = spec.selection_criteria
    admin.logs().put_account_policy(**arguments)


def deploy_log_archive(stack: ArchiveStack, admin: Aws) -> None:
    """Create the roles, buckets, Firehose streams and destinations (with access policies).

    In CloudFormation's order: a stream needs its bucket and role, a destination its stream
    and role. Not created: the buckets' lifecycle rules, encryption and access logging (nothing
    here reads them) and their policies. A policy the stack writes denies every request without
    TLS (``aws:SecureTransport``), as AWS would refuse the embedded AWS's plain HTTP, and moto
    authorizes nothing of Firehose's own writes; the end-to-end test evaluates the bucket policy
    with the IAM simulator on the objects Firehose wrote (``BucketSpec.policy``).
    """
    for role in stack.roles.values():
        _create_role(admin, role)
    s3 = admin.s3()
    for bucket in stack.buckets.values():
        if admin.region == "us-east-1":
            s3.create_bucket(Bucket=bucket.name)
        else:
            s3.create_bucket(
                Bucket=bucket.name,
                CreateBucketConfiguration={"LocationConstraint": admin.region},  # type: ignore[typeddict-item]
            )
        if bucket.versioned:
            s3.put_bucket_versioning(
                Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
            )
    firehose = admin.client("firehose")
    for stream in stack.streams.values():
        arguments: dict[str, Any] = {
            "DeliveryStreamName": stream.name,
            "DeliveryStreamType": stream.stream_type,
            "ExtendedS3DestinationConfiguration": stream.extended_s3,
        }
        if stream.encryption is not None:
            arguments["DeliveryStreamEncryptionConfigurationInput"] = stream.encryption
        firehose.create_delivery_stream(**arguments)
    logs = admin.logs()
    for destination in stack.destinations.values():
        logs.put_destination(
            destinationName=destination.name,
            targetArn=destination.target_arn,
            roleArn=destination.role_arn,
        )
        if destination.access_policy is not None:
            logs.put_destination_policy(
                destinationName=destination.name, accessPolicy=destination.access_policy
            )


def _create_role(admin: Aws, role: RoleSpec) -> None:
    iam = admin.iam()
    iam.create_role(
        RoleName=role.name,
        Path=role.path,
        AssumeRolePolicyDocument=json.dumps(role.trust_policy),
    )
    for policy_name, document in role.inline_policies.items():
        iam.put_role_policy(
            RoleName=role.name,
            PolicyName=policy_name,
            PolicyDocument=json.dumps(widen_resources(document)),
        )
    for arn in role.managed_policy_arns:
        if arn in role.customer_managed_policies:
            _create_customer_managed_policy(admin, arn, role.customer_managed_policies[arn])
        iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)


def _create_customer_managed_policy(admin: Aws, arn: str, document: dict[str, Any]) -> None:
    iam = admin.iam()
    path_and_name = arn.split(":policy", 1)[1]
    path, _, name = path_and_name.rpartition("/")
    try:
        iam.get_policy(PolicyArn=arn)
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(
            PolicyName=name,
            Path=f"{path}/",
            PolicyDocument=json.dumps(widen_resources(document)),
        )


def _zip_folder(folder: Path) -> bytes:
    """The asset folder zipped, as ``cdk deploy`` uploads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for root, directories, files in os.walk(folder):
            directories[:] = sorted(d for d in directories if d != "__pycache__")
            for file in sorted(files):
                path = os.path.join(root, file)
                archive.write(path, os.path.relpath(path, folder))
    return buffer.getvalue()
