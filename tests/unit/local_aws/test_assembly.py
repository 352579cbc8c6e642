"""Reading cdk.out: stacks, templates, file assets, and the names CloudFormation would give."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from local_aws.assembly import CloudAssembly, StackTemplate, generated_name
from local_aws.intrinsics import TemplateError
from tests.unit.local_aws.mini_archive import (
    ARCHIVE_STACK,
    DESTINATION_NAME,
    STREAM_NAME,
    archive_template,
)
from tests.unit.local_aws.mini_assembly import ASSET_HASH, RULE_NAME, STACK, mini_template

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def deployed(assembly: Path) -> StackTemplate:
    artifact = CloudAssembly.load(assembly).stack()
    return StackTemplate(artifact, account_id="123456789012", region="us-east-1")


def test_loads_the_stack_its_template_and_its_asset_folder(mini_assembly: Path) -> None:
    # When
    stack = CloudAssembly.load(mini_assembly).stack(STACK)

    # Then
    assert stack.stack_name == STACK
    assert "Fn9270CBC0" in stack.template["Resources"]
    asset = stack.asset_for_object_key(f"{ASSET_HASH}.zip")
    assert asset.packaging == "zip"
    assert (asset.path / "index.py").is_file()


def test_an_unknown_object_key_names_the_key(mini_assembly: Path) -> None:
    stack = CloudAssembly.load(mini_assembly).stack()
    with pytest.raises(TemplateError, match=r"no file asset is published under the S3 key x\.zip"):
        stack.asset_for_object_key("x.zip")


def test_a_folder_without_manifest_is_not_an_assembly(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"manifest\.json is missing"):
        CloudAssembly.load(tmp_path)


def test_an_assembly_without_stacks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {}}))
    with pytest.raises(TemplateError, match="has no stack"):
        CloudAssembly.load(tmp_path)


def test_asking_for_a_stack_that_is_not_there(mini_assembly: Path) -> None:
    with pytest.raises(TemplateError, match="no stack called Other"):
        CloudAssembly.load(mini_assembly).stack("Other")


def test_given_names_are_kept_and_missing_ones_generated(mini_assembly: Path) -> None:
    template = deployed(mini_assembly)

    assert template.physical_name("Rule4C995B7F") == RULE_NAME
    role_name = template.physical_name("FnRoleE5F6A7B8")
    assert role_name.startswith(f"{STACK}-FnRoleE5F6A7B8-")
    assert role_name == template.physical_name("FnRoleE5F6A7B8")  # reproducible
    assert template.ref("FnRoleE5F6A7B8") == role_name


def test_arns_follow_each_service_format(mini_assembly: Path) -> None:
    template = deployed(mini_assembly)
    role = template.physical_name("FnRoleE5F6A7B8")
    function = template.physical_name("Fn9270CBC0")
    log_group = template.physical_name("FnLogs1A2B3C4D")

    assert template.get_att("FnRoleE5F6A7B8", "Arn") == f"arn:aws:iam::123456789012:role/{role}"
    assert template.get_att("Fn9270CBC0", "Arn") == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
    )
    assert template.get_att("FnLogs1A2B3C4D", "Arn") == (
        f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group}:*"
    )


def test_an_unsupported_attribute_is_named(mini_assembly: Path) -> None:
    with pytest.raises(TemplateError, match=r"Fn::GetAtt Fn9270CBC0\.SnapStartResponse"):
        deployed(mini_assembly).get_att("Fn9270CBC0", "SnapStartResponse")


def test_properties_come_resolved(mini_assembly: Path) -> None:
    template = deployed(mini_assembly)
    props = template.properties("Fn9270CBC0")
    assert props["Code"]["S3Bucket"] == "cdk-hnb659fds-assets-123456789012-us-east-1"
    assert props["Role"] == template.get_att("FnRoleE5F6A7B8", "Arn")
    assert props["LoggingConfig"]["LogGroup"] == template.physical_name("FnLogs1A2B3C4D")


def test_resources_whose_condition_is_false_are_not_created(
    assembly_writer: Callable[..., Path],
) -> None:
    # Given a resource that exists only in another region
    template = mini_template()
    template["Conditions"] = {"InOhio": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-2"]}}
    template["Resources"]["FnLogs1A2B3C4D"]["Condition"] = "InOhio"

    # When
    resources = deployed(assembly_writer(template)).resources("AWS::Logs::LogGroup")

    # Then
    assert resources == []


def test_a_managed_policys_ref_is_its_arn_with_its_path(
    assembly_writer: Callable[..., Path],
) -> None:
    # Given a managed policy no role attaches (as the delivery role's boundary is)
    template = mini_template()
    template["Resources"]["Boundary1A2B3C4D"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Path": "/vpc-flow-logs-guard/",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": []},
        },
    }

    deployed_template = deployed(assembly_writer(template))

    name = deployed_template.physical_name("Boundary1A2B3C4D")
    assert name.startswith(f"{STACK}-Boundary1A2B3C4D-")
    assert deployed_template.ref("Boundary1A2B3C4D") == (
        f"arn:aws:iam::123456789012:policy/vpc-flow-logs-guard/{name}"
    )


def test_generated_names_respect_the_length_limit() -> None:
    name = generated_name("A" * 50, "B" * 50, 64)
    assert len(name) == 64
    assert name.startswith("A" * 30)


def test_attributes_a_deployment_gave_replace_the_derived_ones(mini_assembly: Path) -> None:
    # Given the rule's ARN as the deployment's AWS Config chose it
    artifact = CloudAssembly.load(mini_assembly).stack()
    real = "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-real01"
    derived = deployed(mini_assembly).get_att("Rule4C995B7F", "Arn")

    # When
    template = StackTemplate(
        artifact,
        account_id="123456789012",
        region="us-east-1",
        attributes={("Rule4C995B7F", "Arn"): real},
    )

    # Then GetAtt and everything resolved through it use it; other attributes stay derived
    assert derived != real
    assert template.get_att("Rule4C995B7F", "Arn") == real
    assert template.resolve({"Fn::GetAtt": ["Rule4C995B7F", "Arn"]}) == real
    assert template.get_att("FnRoleE5F6A7B8", "Arn") == deployed(mini_assembly).get_att(
        "FnRoleE5F6A7B8", "Arn"
    )


def test_destinations_and_streams_have_their_arns_and_outputs_resolve(
    assembly_writer: Callable[..., Path],
) -> None:
    assembly = assembly_writer(mini_template(), other_stacks={ARCHIVE_STACK: archive_template()})
    artifact = CloudAssembly.load(assembly).stack(ARCHIVE_STACK)
    template = StackTemplate(artifact, account_id="111122223333", region="eu-west-1")

    destination = template.get_att("DestinationA1B2C3D4", "Arn")

    assert destination == f"arn:aws:logs:eu-west-1:111122223333:destination:{DESTINATION_NAME}"
    assert template.get_att("Stream9C0D1E2F", "Arn") == (
        f"arn:aws:firehose:eu-west-1:111122223333:deliverystream/{STREAM_NAME}"
    )
    bucket = template.physical_name("Bucket83908E77")
    assert template.outputs() == {
        "DestinationArn": destination,
        "BucketArn": f"arn:aws:s3:::{bucket}",
    }
