"""The rule, function, remediation, documents and roles are read from the template alone."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from local_aws.app_model import RoleSpec, read_guard_stack, read_log_archive_stack
from local_aws.assembly import CloudAssembly, StackTemplate
from local_aws.intrinsics import TemplateError
from tests.unit.local_aws.mini_archive import (
    ARCHIVE_ACCOUNT,
    ARCHIVE_STACK,
    DESTINATION_NAME,
    ORGANIZATION,
    POLICY_NAME,
    STREAM_NAME,
    archive_template,
    destination_arn,
    with_account_policy,
)
from tests.unit.local_aws.mini_assembly import RULE_NAME, mini_template

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from local_aws.app_model import ArchiveStack, GuardStack


def read(assembly: Path) -> GuardStack:
    artifact = CloudAssembly.load(assembly).stack()
    return read_guard_stack(StackTemplate(artifact, account_id="123456789012", region="us-east-1"))


def test_reads_the_rule_with_its_scope_triggers_and_parameters(mini_assembly: Path) -> None:
    rule = read(mini_assembly).rule

    assert rule.name == RULE_NAME
    assert rule.resource_types == ("AWS::EC2::VPC",)
    assert rule.input_parameters == {"Marker": "yes"}
    assert rule.message_types == {"ConfigurationItemChangeNotification", "ScheduledNotification"}
    assert rule.maximum_execution_frequency == "One_Hour"


def test_reads_the_function_lambda_would_run(mini_assembly: Path) -> None:
    stack = read(mini_assembly)
    function = stack.function

    assert function.arn == stack.rule.function_arn
    assert function.handler == "index.handler"
    assert function.runtime == "python3.13"
    assert function.timeout_seconds == 30
    assert function.memory_mb == 128  # Lambda's default
    assert function.environment == {"MARKER_ENV": "from-template"}
    assert (function.code_dir / "index.py").is_file()
    assert function.log_group_name.startswith("MiniGuard-FnLogs")
    assert function.role_arn in stack.roles


def test_reads_roles_with_inline_and_separate_policies(mini_assembly: Path) -> None:
    stack = read(mini_assembly)
    role = stack.role_by_arn(stack.function.role_arn)

    assert set(role.inline_policies) == {"Evaluate", "FnRoleExtraPolicy9C0D1E2F"}
    assert role.trusts_service("lambda.amazonaws.com")
    assert not role.trusts_service("ssm.amazonaws.com")


def test_reads_the_remediation_and_its_document(mini_assembly: Path) -> None:
    stack = read(mini_assembly)
    remediation = stack.remediation

    assert remediation is not None
    assert remediation.rule_name == RULE_NAME
    assert remediation.automatic is True
    assert remediation.maximum_automatic_attempts == 2
    assert remediation.error_percentage == 50
    assert remediation.parameters["VpcId"].resource_value == "RESOURCE_ID"
    role_arn = remediation.parameters["AutomationAssumeRole"].static_values[0]
    assert stack.role_by_arn(role_arn).trusts_service("ssm.amazonaws.com")
    document = stack.documents[remediation.document_name]
    assert document.content["mainSteps"][0]["action"] == "aws:executeScript"


def test_a_document_keeps_its_format_and_the_text_ssm_receives(
    assembly_writer: Callable[..., Path],
) -> None:
    # Given the document's content as YAML text (CloudFormation also accepts a string)
    template = mini_template()
    props = template["Resources"]["Doc"]["Properties"]
    content = props["Content"]
    props["Content"] = yaml.safe_dump(content)

    (document,) = read(assembly_writer(template)).documents.values()

    assert document.document_format == "YAML"
    assert document.content == content
    assert document.source == props["Content"]


def test_a_content_that_is_not_in_its_format_is_refused(
    assembly_writer: Callable[..., Path],
) -> None:
    template = mini_template()
    props = template["Resources"]["Doc"]["Properties"]
    props["Content"] = yaml.safe_dump(props["Content"])
    props["DocumentFormat"] = "JSON"

    with pytest.raises(TemplateError, match="Content is not JSON"):
        read(assembly_writer(template))


def test_a_remediation_of_a_document_the_stack_lacks_is_a_wiring_error(
    assembly_writer: Callable[..., Path],
) -> None:
    template = mini_template()
    template["Resources"]["Remediation430FED09"]["Properties"]["TargetId"] = "AWS-Elsewhere"
    with pytest.raises(TemplateError, match="targets the document AWS-Elsewhere"):
        read(assembly_writer(template))


def test_a_rule_whose_function_is_not_in_the_stack_is_refused(
    assembly_writer: Callable[..., Path],
) -> None:
    template = mini_template()
    source = template["Resources"]["Rule4C995B7F"]["Properties"]["Source"]
    source["SourceIdentifier"] = "arn:aws:lambda:us-east-1:123456789012:function:other"
    with pytest.raises(TemplateError, match="is not a function of the stack"):
        read(assembly_writer(template))


def test_a_template_without_custom_rule_is_refused(assembly_writer: Callable[..., Path]) -> None:
    template = mini_template()
    del template["Resources"]["Rule4C995B7F"]
    with pytest.raises(TemplateError, match="expected one AWS::Config::ConfigRule"):
        read(assembly_writer(template))


def test_inline_code_is_not_an_asset(assembly_writer: Callable[..., Path]) -> None:
    template = mini_template()
    template["Resources"]["Fn9270CBC0"]["Properties"]["Code"] = {"ZipFile": "def handler(): ..."}
    with pytest.raises(TemplateError, match="only code from a CDK file asset"):
        read(assembly_writer(template))


def test_a_layer_from_outside_the_stack_cannot_be_run(
    assembly_writer: Callable[..., Path],
) -> None:
    template = mini_template()
    template["Resources"]["Fn9270CBC0"]["Properties"]["Layers"] = [
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:1"
    ]
    with pytest.raises(TemplateError, match="is not built by this stack"):
        read(assembly_writer(template))


@pytest.mark.parametrize(
    ("statement", "trusted"),
    [
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "x.com"}}, True),
        (
            {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Principal": {"Service": ["x.com"]}},
            True,
        ),
        ({"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"Service": "x.com"}}, False),
        ({"Effect": "Allow", "Action": "sts:TagSession", "Principal": {"Service": "x.com"}}, False),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "x.com"}}, False),
    ],
)
def test_trusts_service(statement: dict[str, Any], *, trusted: bool) -> None:
    role = RoleSpec(
        logical_id="R",
        name="r",
        arn="arn:aws:iam::1:role/r",
        path="/",
        trust_policy={"Statement": [statement]},
        inline_policies={},
        managed_policy_arns=(),
    )
    assert role.trusts_service("x.com") is trusted


def read_archive(assembly: Path) -> ArchiveStack:
    artifact = CloudAssembly.load(assembly).stack(ARCHIVE_STACK)
    template = StackTemplate(artifact, account_id=ARCHIVE_ACCOUNT, region="us-east-1")
    return read_log_archive_stack(template)


def test_reads_the_account_policy_as_put_account_policy_takes_it(
    assembly_writer: Callable[..., Path],
) -> None:
    stack = read(assembly_writer(with_account_policy(mini_template(), destination_arn())))

    (policy,) = stack.account_policies

    assert policy.name == POLICY_NAME
    assert policy.policy_type == "SUBSCRIPTION_FILTER_POLICY"
    assert policy.scope == "ALL"
    assert policy.destination_arn == destination_arn()
    assert policy.selection_criteria == (f'LogGroupName NOT IN ["{stack.function.log_group_name}"]')
    assert read(assembly_writer(mini_template())).account_policies == ()


def test_reads_the_archives_bucket_stream_destination_and_roles(
    assembly_writer: Callable[..., Path],
) -> None:
    assembly = assembly_writer(mini_template(), other_stacks={ARCHIVE_STACK: archive_template()})

    archive = read_archive(assembly)

    (bucket,) = archive.buckets.values()
    assert bucket.versioned
    assert bucket.policy is not None
    assert bucket.policy["Statement"][0]["Resource"][0] == bucket.arn
    (stream,) = archive.streams.values()
    assert stream.name == STREAM_NAME
    assert stream.bucket_name == bucket.name
    assert stream.extended_s3["Prefix"].startswith(
        "CloudWatchLogs/account=!{partitionKeyFromQuery:account}/region=us-east-1/year="
    )
    destination = archive.destination(destination_arn())
    assert destination.name == DESTINATION_NAME
    assert destination.target_arn == stream.arn
    assert archive.roles[destination.role_arn].trusts_service("logs.amazonaws.com")
    assert archive.roles[stream.role_arn].trusts_service("firehose.amazonaws.com")
    policy = json.loads(destination.access_policy or "{}")
    assert policy["Statement"][0]["Resource"] == destination.arn
    assert ORGANIZATION in (destination.access_policy or "")
    assert archive.outputs["DestinationArn"] == destination.arn


def test_an_unknown_destination_names_the_ones_the_archive_has(
    assembly_writer: Callable[..., Path],
) -> None:
    archive = read_archive(
        assembly_writer(mini_template(), other_stacks={ARCHIVE_STACK: archive_template()})
    )

    with pytest.raises(TemplateError, match=f"its destinations: {destination_arn()}"):
        archive.destination(destination_arn(account="999999999999"))


def test_a_destination_that_targets_no_stream_of_the_stack_is_refused(
    assembly_writer: Callable[..., Path],
) -> None:
    template = archive_template()
    target = "arn:aws:kinesis:us-east-1:111122223333:stream/elsewhere"
    template["Resources"]["DestinationA1B2C3D4"]["Properties"]["TargetArn"] = target

    with pytest.raises(TemplateError, match="only a Firehose stream of the same stack"):
        read_archive(assembly_writer(mini_template(), other_stacks={ARCHIVE_STACK: template}))
