"""Which permissions boundaries the delivery role may have: a policy of the account under the
project's path, in the account's partition."""

from __future__ import annotations

import pytest

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH, is_boundary_of_account

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("arn", "partition", "accepted"),
    [
        (f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/Stack-Boundary-1A2B", "aws", True),
        (f"arn:aws-cn:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/B", "aws-cn", True),
        (f"arn:aws-cn:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/B", "aws", False),
        ("arn:aws:iam::444455556666:policy/vpc-flow-logs-guard/B", "aws", False),
        (f"arn:aws:iam::{ACCOUNT}:policy/B", "aws", False),
        (f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/nested/B", "aws", False),
        (f"arn:aws:iam::{ACCOUNT}:policy/other/vpc-flow-logs-guard/B", "aws", False),
        ("arn:aws:iam::aws:policy/AdministratorAccess", "aws", False),
        ("", "aws", False),
    ],
)
def test_only_a_policy_of_the_account_under_the_path_is_a_boundary(
    arn: str, partition: str, accepted: bool
) -> None:
    assert is_boundary_of_account(arn, partition, ACCOUNT) is accepted


def test_the_path_is_the_stacks() -> None:
    from stacks.constructs.remediation_runbook import BOUNDARY_PATH as STACKS_PATH

    assert BOUNDARY_PATH == STACKS_PATH == "/vpc-flow-logs-guard/"
