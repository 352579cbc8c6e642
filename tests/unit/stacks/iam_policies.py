"""Every IAM policy document in a template, with CloudFormation intrinsics resolved.

Pseudo parameters become a fixed account and region; ``Ref`` and ``Fn::GetAtt .Arn`` of the
template's own resources become names and ARNs of the right shape for their type (a managed
policy's ``Ref`` is its ARN), so a policy linter sees ARNs like the ones IAM will see.
"""

from __future__ import annotations

import re
from typing import Any

PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


_SUB = re.compile(r"\$\{([^}!.]+)\}")
"""``${Name}`` in an ``Fn::Sub`` string: a pseudo parameter or a resource's ``Ref``."""

NAME_PROPERTIES = {
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::Logs::Destination": "DestinationName",
    "AWS::Events::EventBus": "Name",
}
"""Resources named in the template: their ARN carries that name, as AWS writes it."""


def _arn(resource_type: str, logical_id: str, properties: dict[str, Any] | None = None) -> str:
    named = (properties or {}).get(NAME_PROPERTIES.get(resource_type, ""))
    name = named if isinstance(named, str) else logical_id.lower()
    arns = {
        "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
        "AWS::Config::ConfigRule": f"arn:{PARTITION}:config:{REGION}:{ACCOUNT}"
        ":config-rule/config-rule-a1b2c3",
        "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{name}",
        "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        "AWS::Logs::Destination": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:destination:{name}",
        "AWS::KinesisFirehose::DeliveryStream": (
            f"arn:{PARTITION}:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}"
        ),
        "AWS::KMS::Key": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}",
        "AWS::Events::EventBus": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{name}",
    }
    if resource_type not in arns:
        raise ValueError(f"no ARN shape for {resource_type} ({logical_id})")
    return arns[resource_type]


def _ref(target: str, resources: dict[str, Any]) -> str:
    if target in PSEUDO:
        return PSEUDO[target]
    if target not in resources:
        raise ValueError(f"Ref to unknown {target}")
    if resources[target]["Type"] == "AWS::IAM::ManagedPolicy":  # Ref is its ARN
        path = resources[target].get("Properties", {}).get("Path", "/")
        return f"arn:{PARTITION}:iam::{ACCOUNT}:policy{path}{target.lower()}"
    return target.lower()


def _get_att(logical_id: str, attribute: str, resources: dict[str, Any]) -> str:
    if attribute != "Arn":
        raise ValueError(f"unexpected attribute {attribute} of {logical_id}")
    resource = resources[logical_id]
    return _arn(resource["Type"], logical_id, resource.get("Properties"))


def resolve(value: Any, resources: dict[str, Any]) -> Any:
    """``value`` with every intrinsic function replaced by a plausible literal."""
    if isinstance(value, list):
        return [resolve(item, resources) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
        return _intrinsic(next(iter(value.items())), resources)
    return {key: resolve(item, resources) for key, item in value.items()}


def _intrinsic(call: tuple[str, Any], resources: dict[str, Any]) -> Any:
    name, argument = call
    if name == "Ref":
        return _ref(argument, resources)
    if name == "Fn::GetAtt":
        logical_id, attribute = argument
        return _get_att(logical_id, attribute, resources)
    if name == "Fn::Join":
        separator, parts = argument
        return separator.join(str(resolve(part, resources)) for part in parts)
    if name == "Fn::Sub" and isinstance(argument, str):
        return _SUB.sub(lambda match: str(_ref(match[1], resources)), argument)
    raise ValueError(f"unsupported intrinsic {name}: {argument}")


def identity_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Where -> resolved policy document, for every identity policy in the template."""
    resources = template["Resources"]
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found[f"{logical_id}/{policy['PolicyName']}"] = resolve(
                    policy["PolicyDocument"], resources
                )
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found[logical_id] = resolve(properties["PolicyDocument"], resources)
    return found


def trust_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Role -> resolved trust policy."""
    resources = template["Resources"]
    return {
        logical_id: resolve(resource["Properties"]["AssumeRolePolicyDocument"], resources)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def role_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Role logical id -> its identity policies (inline, ``AWS::IAM::Policy`` attached to it,
    customer managed policies of the template it names), resolved; policy name -> document.

    AWS managed policies cannot be read offline: see ``aws_managed_policies``.
    """
    resources = template["Resources"]
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        policies = {
            policy["PolicyName"]: resolve(policy["PolicyDocument"], resources)
            for policy in properties.get("Policies", [])
        }
        for arn in properties.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and set(arn) == {"Ref"} and arn["Ref"] in resources:
                managed = resources[arn["Ref"]]["Properties"]["PolicyDocument"]
                policies[arn["Ref"]] = resolve(managed, resources)
        found[logical_id] = policies
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in resource["Properties"].get("Roles", []):
                document = resource["Properties"]["PolicyDocument"]
                found[role["Ref"]][logical_id] = resolve(document, resources)
    return found


def aws_managed_policies(template: dict[str, Any]) -> dict[str, list[str]]:
    """Role logical id -> the AWS managed policy ARNs attached to it, resolved."""
    resources = template["Resources"]
    return {
        logical_id: [
            arn
            for arn in (
                resolve(value, resources) for value in properties.get("ManagedPolicyArns", [])
            )
            if arn.startswith(f"arn:{PARTITION}:iam::aws:policy/")
        ]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
        for properties in [resource["Properties"]]
    }


def role_arn(template: dict[str, Any], logical_id: str) -> str:
    """The role's ARN as ``resolve`` writes it."""
    return str(_get_att(logical_id, "Arn", template["Resources"]))
