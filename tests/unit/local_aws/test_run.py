"""The whole loop on the hand-written mini assembly: notify, evaluate, remediate, re-evaluate.

The mini rule's function calls ec2:DescribeVpcs and config:PutEvaluations; its runbook calls
ec2:CreateTags. With IAM enforced, taking one action away from a role fails the run with
AccessDenied naming that action: the enforcement is live, not decorative.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from local_aws.intrinsics import TemplateError
from local_aws.lambda_runner import LambdaInvocationError
from local_aws.moto_patches.firehose import JqMissingError
from local_aws.run import LocalDeployment, LogArchiveAccount
from tests.unit.local_aws.mini_archive import (
    ARCHIVE_ACCOUNT,
    ARCHIVE_STACK,
    DESTINATION_ROLE,
    STREAM,
    archive_template,
    destination_arn,
    with_account_policy,
    with_firehose_delivery,
)
from tests.unit.local_aws.mini_assembly import STACK, mini_template

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_evaluates_remediates_and_re_evaluates_then_cleans_up(mini_assembly: Path) -> None:
    with LocalDeployment(mini_assembly) as local:
        endpoint, work = local.admin.endpoint_url, local.work_dir
        # Given a VPC without the tag the rule wants
        vpc_id = local.admin.ec2().create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

        # When Config records it and notifies the rule
        invocation = local.config.notify_change(vpc_id)

        # Then the function ran as Lambda runs it, and reported (not in test mode)
        assert invocation is not None
        result: dict[str, Any] = invocation.result
        assert result["evaluated"] == 1
        assert result["marker_env"] == "from-template"
        assert result["yaml_importable"] is False
        assert result["function_name"] == local.stack.function.name
        assert (
            f":assumed-role/{local.stack.role_by_arn(local.stack.function.role_arn).name}/"
            in (result["identity"])
        )
        if local.runner.interpreter.exact:
            assert result["python"].startswith("3.13")
        before = local.config.evaluations()
        assert before[vpc_id].compliance_type == "NON_COMPLIANT"
        assert before[vpc_id].annotation == "not tagged Fixed=yes"

        # When Config remediates it with the remediation's parameters
        (done,) = local.config.remediate([vpc_id])

        # Then the runbook ran as the automation role with RESOURCE_ID and the static values
        assert done.succeeded, done.failure_message
        execution = done.executions[0]
        assert execution.parameters["VpcId"] == vpc_id
        assert execution.parameters["Retention"] == 7  # static "7", typed Integer
        assert execution.outputs == {"Tag.Tagged": vpc_id, "Tag.Retention": 7}

        # When the periodic evaluation runs
        local.config.notify_scheduled()

        # Then the VPC is COMPLIANT, and the untouched default VPC is not
        after = local.config.evaluations()
        assert after[vpc_id].compliance_type == "COMPLIANT"
        default_vpc = next(key for key in after if key != vpc_id)
        assert after[default_vpc].compliance_type == "NON_COMPLIANT"

    # And afterwards the server and the work folder are gone
    assert not work.exists()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(endpoint, timeout=5)  # noqa: S310 - loopback


def without_action(template: dict[str, Any], role: str, action: str) -> dict[str, Any]:
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if action in actions:
                statement["Action"] = [item for item in actions if item != action] or [
                    "sts:GetCallerIdentity"
                ]
                return template
    raise AssertionError(f"{role} does not grant {action}")


def test_a_missing_permission_fails_the_run_with_access_denied_naming_it(
    assembly_writer: Callable[..., Path],
) -> None:
    # Given a copy of the template whose roles each lack one action their code calls
    template = without_action(mini_template(), "FnRoleE5F6A7B8", "ec2:DescribeVpcs")
    template = without_action(template, "AutoRoleC9F6ECEC", "ec2:CreateTags")
    with LocalDeployment(assembly_writer(template)) as local:
        vpc_id = local.admin.ec2().create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

        # When Config notifies the rule, then the function fails
        with pytest.raises(LambdaInvocationError) as failed:
            local.config.notify_change(vpc_id)

        # When Config remediates, then every attempt fails
        (done,) = local.config.remediate([vpc_id])

    assert "AccessDenied" in failed.value.error_message
    assert "ec2:DescribeVpcs" in failed.value.error_message
    assert not done.succeeded
    assert len(done.executions) == 2  # MaximumAutomaticAttempts
    assert "AccessDenied" in (done.failure_message or "")
    assert "ec2:CreateTags" in (done.failure_message or "")


def test_a_function_role_lambda_cannot_assume_is_a_template_error(
    assembly_writer: Callable[..., Path],
) -> None:
    template = mini_template()
    trust = template["Resources"]["FnRoleE5F6A7B8"]["Properties"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
    with (
        pytest.raises(TemplateError, match="Lambda cannot assume the function's role"),
        LocalDeployment(assembly_writer(template)),
    ):
        pass


LOG_ARCHIVE = LogArchiveAccount(ARCHIVE_STACK, ARCHIVE_ACCOUNT)


def write(local: LocalDeployment, group: str, message: str) -> None:
    logs = local.admin.logs()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
    )


def test_an_event_of_a_forwarded_group_lands_in_the_archive_account(
    assembly_writer: Callable[..., Path],
) -> None:
    assembly = assembly_writer(
        with_account_policy(mini_template(), destination_arn()),
        other_stacks={ARCHIVE_STACK: archive_template()},
    )
    with LocalDeployment(assembly, stack_name=STACK, log_archive=LOG_ARCHIVE) as local:
        local.admin.logs().create_log_group(logGroupName="/aws/vpc-flow-logs/vpc-1")

        # When an event is written to a forwarded group and one to the excluded function's group
        write(local, "/aws/vpc-flow-logs/vpc-1", "forwarded")
        write(local, local.stack.function.log_group_name, "excluded")

        # Then one object is in the archive account's bucket, under the member's partition
        (bucket,) = local.log_archive.buckets
        s3 = local.log_archive_admin.s3()
        (item,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        assert item["Key"].startswith(
            f"CloudWatchLogs/account={local.admin.sts().get_caller_identity()['Account']}/"
        )
        (line,) = gzip.decompress(body).decode().splitlines()
        assert [event["message"] for event in json.loads(line)["logEvents"]] == ["forwarded"]
        assert local.admin.s3().list_buckets()["Buckets"] == []  # nothing in the member account


def test_a_member_forwarding_elsewhere_than_the_archive_is_refused_before_anything_starts(
    assembly_writer: Callable[..., Path],
) -> None:
    assembly = assembly_writer(
        with_account_policy(mini_template(), destination_arn(account="999999999999")),
        other_stacks={ARCHIVE_STACK: archive_template()},
    )

    with (
        pytest.raises(TemplateError, match="centralLogDestinationArn") as refused,
        LocalDeployment(assembly, stack_name=STACK, log_archive=LOG_ARCHIVE),
    ):
        pass
    assert destination_arn() in str(refused.value)  # the archive's output, to copy


def test_without_jq_the_archive_is_refused_naming_what_to_install(
    assembly_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assembly = assembly_writer(
        with_account_policy(mini_template(), destination_arn()),
        other_stacks={ARCHIVE_STACK: archive_template()},
    )
    monkeypatch.setattr("shutil.which", lambda name: None)

    with (
        pytest.raises(JqMissingError, match="jq is not installed"),
        LocalDeployment(assembly, stack_name=STACK, log_archive=LOG_ARCHIVE),
    ):
        pass


@pytest.mark.parametrize(
    ("name", "value", "output"),
    [
        ("FirehoseArn", f"{STREAM}-other", "CentralFirehoseArn"),
        ("DeliverCrossAccountRole", f"{DESTINATION_ROLE}-other", "CentralFirehoseRoleArn"),
    ],
)
def test_a_member_delivering_to_a_stream_or_role_the_archive_lacks_is_refused(
    assembly_writer: Callable[..., Path], name: str, value: str, output: str
) -> None:
    # Given a member whose remediation delivers to the archive's stream with its role, but one
    # of the two is not the archive's
    member = with_firehose_delivery(mini_template(), {name: value})
    assembly = assembly_writer(member, other_stacks={ARCHIVE_STACK: archive_template()})

    # Then nothing starts, and the message names the output to copy
    with (
        pytest.raises(TemplateError, match=f"{name} {value}, which the log-archive") as refused,
        LocalDeployment(assembly, stack_name=STACK, log_archive=LOG_ARCHIVE),
    ):
        pass
    assert f"synthesize with its output {output}" in str(refused.value)


def test_a_member_delivering_to_the_archives_stream_with_its_role_starts(
    assembly_writer: Callable[..., Path],
) -> None:
    member = with_firehose_delivery(mini_template(), {})
    assembly = assembly_writer(member, other_stacks={ARCHIVE_STACK: archive_template()})

    with LocalDeployment(assembly, stack_name=STACK, log_archive=LOG_ARCHIVE) as local:
        assert STREAM in local.log_archive.streams
        assert DESTINATION_ROLE in local.log_archive.roles
