"""Negative control: IAM enforcement is live, so one missing permission fails the run.

A copy of the synthesized assembly loses one action from the rule function's role and one from
the automation role; the run must then fail with AccessDenied naming each action, as AWS would.
(The positive control is the demo scenario: with the template as synthesized, all succeed.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from local_aws.lambda_runner import LambdaInvocationError
from local_aws.run import LocalDeployment
from tests.e2e.template_edits import copy_without_action

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


def test_a_permission_missing_from_a_role_fails_with_access_denied_naming_it(
    demo_assembly: Path, tmp_path: Path
) -> None:
    # Given the app without ec2:DescribeFlowLogs for the rule and logs:PutRetentionPolicy for
    # the runbook
    assembly = copy_without_action(
        demo_assembly, tmp_path / "one-less", "lambda.amazonaws.com", "ec2:DescribeFlowLogs"
    )
    assembly = copy_without_action(
        assembly, tmp_path / "two-less", "ssm.amazonaws.com", "logs:PutRetentionPolicy"
    )
    with LocalDeployment(assembly) as local:
        vpc_id = local.admin.ec2().create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]

        # When Config notifies the rule
        with pytest.raises(LambdaInvocationError) as failed:
            local.config.notify_change(vpc_id)

        # When Config remediates the VPC
        (remediation,) = local.config.remediate([vpc_id])

    # Then the function failed, and the first remediation attempt (Config retries) failed
    assert "AccessDenied" in failed.value.error_message
    assert "ec2:DescribeFlowLogs" in failed.value.error_message
    first = remediation.executions[0]
    assert first.status == "Failed"
    assert "AccessDenied" in (first.failure_message or "")
    assert "logs:PutRetentionPolicy" in (first.failure_message or "")
    # and no retry "succeeded" by keeping the log group the first attempt created without a
    # retention: the runbook knows the group is its own and keeps asking for the retention
    assert [execution.status for execution in remediation.executions[1:]] == ["Failed"] * (
        len(remediation.executions) - 1
    )
    assert len(remediation.executions) > 1
