"""The automation role: the reported actions are enough, and each enforced one is needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    AUTOMATION_ROLE_ACTIONS,
    BUCKET,
    FIREHOSE_AUTOMATION_ROLE_ACTIONS,
    MANAGED_BY,
    OTHER_REGIONS_BOUNDARY,
    ROLE,
    S3_AUTOMATION_ROLE_ACTIONS,
    group_name,
    our_trust,
    remediate,
    run_with_actions,
    to_firehose,
    to_s3,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.support.accounts import World
    from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import Scenario


def scenario_fresh(world: World, vpc_id: str) -> None:
    """Nothing exists yet."""


def scenario_compliant(world: World, vpc_id: str) -> None:
    """The runbook already ran."""
    remediate(world.session, vpc_id)


def scenario_other_regions_role(world: World, vpc_id: str) -> None:
    """Another region's stack created the role (its boundary); its inline policy is missing."""
    world.role(ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)


def scenario_our_group_never_expires(world: World, vpc_id: str) -> None:
    """An interrupted run left our log group without a retention."""
    world.log_group(group_name(vpc_id), retention_days=None, tags=MANAGED_BY)


def scenario_bucket(world: World, vpc_id: str) -> None:
    """The destination bucket exists (its policy lets the delivery service write)."""
    world.bucket(BUCKET)


def scenario_s3_compliant(world: World, vpc_id: str) -> None:
    """The runbook already delivered the VPC's REJECT traffic to the bucket."""
    scenario_bucket(world, vpc_id)
    remediate(world.session, vpc_id, **to_s3())


def scenario_firehose_compliant(world: World, vpc_id: str) -> None:
    """The runbook already delivered the VPC's REJECT traffic to the stream."""
    remediate(world.session, vpc_id, **to_firehose())


SCENARIOS: dict[str, tuple[Scenario, dict[str, object]]] = {
    "fresh": (scenario_fresh, {}),
    "compliant": (scenario_compliant, {}),
    "other region's role": (scenario_other_regions_role, {}),
    "replace": (scenario_compliant, {"TrafficType": "ALL"}),  # our REJECT log gets replaced
    "our group never expires": (scenario_our_group_never_expires, {}),
    "s3 fresh": (scenario_bucket, dict(to_s3())),
    "s3 replace": (scenario_s3_compliant, {"TrafficType": "ALL", **to_s3()}),
    "firehose fresh": (scenario_fresh, dict(to_firehose())),
    "firehose replace": (scenario_firehose_compliant, {"TrafficType": "ALL", **to_firehose()}),
}
OTHER_DESTINATIONS = ("s3", "firehose")


def run_as_automation_role(actions: Sequence[str], scenario: str) -> Exception | None:
    """Arrange ``scenario``, then run the script as a role of ``actions``; its error, if any."""
    prepare, overrides = SCENARIOS[scenario]
    return run_with_actions(actions, prepare, overrides)


@pytest.mark.parametrize(
    "scenario", [name for name in SCENARIOS if not name.startswith(OTHER_DESTINATIONS)]
)
def test_reported_automation_actions_are_enough(scenario: str) -> None:
    # Given the scenario's account, when the script runs with the reported actions only,
    # then it succeeds
    assert run_as_automation_role(AUTOMATION_ROLE_ACTIONS, scenario) is None


@pytest.mark.parametrize("scenario", [name for name in SCENARIOS if name.startswith("s3")])
def test_s3_destination_needs_no_iam_or_cloudwatch_logs_actions(scenario: str) -> None:
    # logs:CreateLogDelivery / logs:DeleteLogDelivery, which CreateFlowLogs and DeleteFlowLogs
    # need for S3 delivery, are implicit: moto does not check them (the stack tests do).
    assert run_as_automation_role(S3_AUTOMATION_ROLE_ACTIONS, scenario) is None


@pytest.mark.parametrize("scenario", [name for name in SCENARIOS if name.startswith("firehose")])
def test_firehose_destination_needs_no_cloudwatch_logs_and_no_iam_write(scenario: str) -> None:
    # iam:PassRole of the source role (only to delivery.logs.amazonaws.com, only for our VPCs)
    # and the log delivery actions are implicit: moto does not check them (the stack tests and
    # local_aws.iam_requests do).
    assert run_as_automation_role(FIREHOSE_AUTOMATION_ROLE_ACTIONS, scenario) is None


@pytest.mark.parametrize(
    ("action", "scenario"),
    [
        ("ec2:DescribeVpcs", "fresh"),
        ("ec2:DescribeFlowLogs", "fresh"),
        ("ec2:CreateFlowLogs", "fresh"),
        ("ec2:DeleteFlowLogs", "replace"),
        ("iam:GetRole", "fresh"),
        ("iam:CreateRole", "fresh"),
        ("iam:GetRolePolicy", "compliant"),
        ("iam:PutRolePolicy", "other region's role"),
        ("iam:PutRolePolicy", "fresh"),
        ("logs:DescribeLogGroups", "fresh"),
        ("logs:CreateLogGroup", "fresh"),
        ("logs:PutRetentionPolicy", "fresh"),
        ("logs:ListTagsForResource", "our group never expires"),
        ("ec2:CreateFlowLogs", "s3 fresh"),
        ("ec2:DeleteFlowLogs", "s3 replace"),
        ("ec2:CreateFlowLogs", "firehose fresh"),
        ("ec2:DeleteFlowLogs", "firehose replace"),
    ],
)
def test_each_enforced_automation_action_is_needed(action: str, scenario: str) -> None:
    # moto does not check iam:TagRole, iam:PassRole, logs:TagResource and ec2:CreateTags (the
    # implicit permissions of tag-on-create and of passing the role) nor has AssociateKmsKey.
    without = [granted for granted in AUTOMATION_ROLE_ACTIONS if granted != action]

    failure = run_as_automation_role(without, scenario)

    assert failure is not None
    assert "AccessDenied" in str(failure)
    assert action.split(":")[1] in str(failure) or "403" in str(failure)
