"""DeliveryRole: the role VPC Flow Logs assumes reused, repaired or refused; its policies."""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

import pytest

from enable_vpc_flow_logs import delivery_role
from enable_vpc_flow_logs.common import RemediationError
from enable_vpc_flow_logs.delivery_role import delivery_policy, policies_equal
from tests.support.policy_lint import parliament_findings
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    BOUNDARY_ARN,
    OTHER_REGIONS_BOUNDARY,
    ROLE,
    ROLE_ARN,
    WRONG_TRUST,
    Calls,
    allows,
    before,
    create_role,
    our_policy,
    our_trust,
    put_policy,
    remediate,
    request,
    vpc_flow_logs,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient


def test_existing_correct_role_is_reused_untouched(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    create_role(iam, ROLE, our_trust())
    put_policy(iam, our_policy())

    output = remediate(session, vpc_id)

    assert [name for name in calls.names if name.startswith("iam:")] == [
        "iam:GetRole",
        "iam:GetRolePolicy",
    ]
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert not [change for change in output["Changes"] if "IAM role" in change]


def test_role_with_wrong_trust_fails_naming_it_and_writes_nothing(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role trusts EC2 instead of VPC Flow Logs (its boundary and policy are right)
    create_role(iam, ROLE, WRONG_TRUST)
    put_policy(iam, our_policy())

    # When the runbook runs, it fails naming the role, what differs and the fix
    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    message = str(failure.value)
    assert f"delivery role {ROLE} cannot be used: its trust policy is not the one" in message
    assert f"aws iam update-assume-role-policy --role-name {ROLE} --policy-document '" in message
    document = message.split("--policy-document '", 1)[1].split("'", 1)[0]
    assert json.loads(document) == our_trust()
    assert "boundary" not in message.split("--policy-document", 1)[0]  # the boundary is fine
    # And it changed nothing: the trust policy is still EC2's, and no write was made
    assert calls.writes == []
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert policies_equal(trust, WRONG_TRUST)


def test_role_from_an_earlier_version_without_boundary_fails_with_the_fix(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role an earlier version created: right trust and policy, no boundary
    create_role(iam, ROLE, our_trust(), boundary=None)
    put_policy(iam, our_policy())

    # When the runbook runs, it cannot adopt the role (it may not set a boundary): it fails
    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    assert str(failure.value).startswith(
        f"delivery role {ROLE} cannot be used: it has no permissions boundary (an earlier "
        f"version created it without one): aws iam put-role-permissions-boundary --role-name "
        f"{ROLE} --permissions-boundary {BOUNDARY_ARN}. "
    )
    assert "trust policy is not" not in str(failure.value)
    assert calls.writes == []
    assert "PermissionsBoundary" not in iam.get_role(RoleName=ROLE)["Role"]

    # And once a person runs the fix, the next run uses the role and writes no IAM call
    iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=BOUNDARY_ARN)
    calls.made.clear()
    output = remediate(session, vpc_id)
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == []


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param("arn:aws:iam::aws:policy/AdministratorAccess", id="AWS managed"),
        pytest.param(f"arn:aws:iam::{ACCOUNT}:policy/VpcFlowLogsGuard-Boundary", id="other path"),
        pytest.param(
            "arn:aws:iam::444455556666:policy/vpc-flow-logs-guard/Boundary", id="other account"
        ),
    ],
)
def test_role_with_a_boundary_not_ours_fails_naming_it(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient, boundary: str
) -> None:
    create_role(iam, ROLE, WRONG_TRUST, boundary=boundary)

    with pytest.raises(RemediationError) as failure:
        remediate(session, vpc_id)

    # Both differences are named, each with its fix; nothing is written
    message = str(failure.value)
    assert "its trust policy is not the one this runbook writes" in message
    assert (
        f"its permissions boundary {boundary} is not a policy of account {ACCOUNT} under "
        f"/vpc-flow-logs-guard/: aws iam put-role-permissions-boundary --role-name {ROLE} "
        f"--permissions-boundary {BOUNDARY_ARN}"
    ) in message
    assert calls.writes == []


def test_role_with_a_path_is_refused_since_flow_log_passes_it_by_its_arn_without_one(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given a role of the right name, trust and boundary, created under a path
    iam.create_role(
        RoleName=ROLE,
        Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps(our_trust()),
        PermissionsBoundary=BOUNDARY_ARN,
    )

    with pytest.raises(RemediationError) as raised:
        remediate(session, vpc_id)

    assert (
        f"its ARN is arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE}, not {ROLE_ARN} (path /)"
    ) in str(raised.value)
    assert calls.writes == []


def test_the_role_is_left_alone_when_the_kept_flow_log_uses_another(
    session: boto3.session.Session, calls: Calls
) -> None:
    # Given CheckInput kept a flow log that delivers with the team's own role
    plan = {
        "Keep": "fl-1",
        "KeepDeliveryRoleArn": f"arn:aws:iam::{ACCOUNT}:role/Team",
        "Replace": [],
    }
    events = {"Request": json.dumps(request()), "FlowLogPlan": json.dumps(plan)}

    output = delivery_role.run(events, session)  # type: ignore[arg-type]

    # Then our role is not even read, and the step reports the role in use
    assert output == {"DeliveryRoleArn": f"arn:aws:iam::{ACCOUNT}:role/Team", "Changes": []}
    assert calls.made == []


def test_a_kept_flow_log_with_our_role_still_gets_our_role_checked(
    session: boto3.session.Session, calls: Calls, iam: IAMClient
) -> None:
    create_role(iam, ROLE, our_trust())
    put_policy(iam, our_policy())
    plan = {"Keep": "fl-1", "KeepDeliveryRoleArn": ROLE_ARN, "Replace": []}
    events = {"Request": json.dumps(request()), "FlowLogPlan": json.dumps(plan)}

    output = delivery_role.run(events, session)  # type: ignore[arg-type]

    assert output == {"DeliveryRoleArn": ROLE_ARN, "Changes": []}
    assert calls.names == ["iam:GetRole", "iam:GetRolePolicy"]


def test_role_bounded_by_another_regions_boundary_is_used_and_its_policy_repaired(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient
) -> None:
    # Given the role another region's stack created, with that stack's boundary, and an
    # inline policy that differs
    create_role(iam, ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)
    put_policy(
        iam,
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
        },
    )

    output = remediate(session, vpc_id)

    # Then the boundary is accepted as it is, and only the inline policy is written
    assert output["DeliveryRoleArn"] == ROLE_ARN
    assert [name for name in calls.writes if name.startswith("iam:")] == ["iam:PutRolePolicy"]
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == OTHER_REGIONS_BOUNDARY


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
            },
            id="too broad",
        ),
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"arn:aws:logs:*:{ACCOUNT}:log-group:/aws/vpc-flow-logs/x",
                    }
                ],
            },
            id="too narrow",
        ),
        pytest.param(None, id="missing"),
    ],
)
def test_wrong_or_missing_inline_policy_is_replaced(
    session: boto3.session.Session,
    calls: Calls,
    vpc_id: str,
    iam: IAMClient,
    policy: dict[str, Any] | None,
) -> None:
    create_role(iam, ROLE, our_trust())
    if policy is not None:
        put_policy(iam, policy)

    output = remediate(session, vpc_id)

    assert [name for name in calls.writes if name.startswith("iam:")] == ["iam:PutRolePolicy"]
    current = iam.get_role_policy(RoleName=ROLE, PolicyName="VpcFlowLogsDelivery")
    assert policies_equal(current["PolicyDocument"], our_policy())
    verb = "wrote" if policy is None else "repaired"
    assert f"{verb} inline policy VpcFlowLogsDelivery of IAM role {ROLE}" in output["Changes"]


def test_role_created_by_a_concurrent_run_counts_as_success(
    session: boto3.session.Session, calls: Calls, vpc_id: str, iam: IAMClient, ec2: EC2Client
) -> None:
    # Given another run (another region or VPC) creates the role between our GetRole and
    # CreateRole, without its inline policy yet
    def other_run() -> None:
        create_role(iam, ROLE, our_trust(), boundary=OTHER_REGIONS_BOUNDARY)

    before(session, "iam.CreateRole", other_run)

    # When ours runs
    output = remediate(session, vpc_id)

    # Then CreateRole's EntityAlreadyExists is success: it reads the role and finishes it
    assert calls.names[2:6] == [
        "iam:GetRole",
        "iam:CreateRole",
        "iam:GetRole",
        "iam:GetRolePolicy",
    ]
    assert f"created IAM role {ROLE}" not in output["Changes"]
    assert f"wrote inline policy VpcFlowLogsDelivery of IAM role {ROLE}" in output["Changes"]
    assert vpc_flow_logs(ec2, vpc_id)[0]["DeliverLogsPermissionArn"] == ROLE_ARN


# --------------------------------------------------------------------------------------------
# Policies, as IAM would read them
# --------------------------------------------------------------------------------------------


def test_policy_comparison_ignores_form_but_not_meaning() -> None:
    policy = our_policy()
    reshaped = {
        "Statement": [
            {**statement, "Action": sorted(statement["Action"], reverse=True)}
            if isinstance(statement["Action"], list)
            else {**statement, "Action": [statement["Action"]], "Resource": [statement["Resource"]]}
            for statement in reversed(policy["Statement"])
        ],
        "Version": "2012-10-17",
    }
    assert policies_equal(reshaped, policy)
    assert policies_equal(json.dumps(policy), policy)
    assert policies_equal("%7B%22Version%22%3A%222012-10-17%22%7D", {"Version": "2012-10-17"})

    changed = json.loads(json.dumps(policy))
    changed["Statement"][0]["Resource"] = "*"
    assert not policies_equal(changed, policy)


@pytest.mark.parametrize("policy", [our_policy(), delivery_policy("aws-cn", ACCOUNT)])
def test_delivery_policy_passes_parliament(policy: dict[str, Any]) -> None:
    assert parliament_findings(policy) == []


def test_delivery_policy_has_exactly_the_four_actions() -> None:
    actions = {
        action
        for statement in our_policy()["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
    }


GROUP = "/aws/vpc-flow-logs/vpc-0123456789abcdef0"
INSIDE_GROUP = [
    f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{GROUP}{suffix}"
    for region in ("us-east-1", "eu-west-1")
    for suffix in ("", ":*")
]
INSIDE_STREAM = [
    f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{GROUP}:log-stream:eni-0a1b2c3d-all"
    for region in ("us-east-1", "eu-west-1")
]
OUTSIDE = [
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/vpc-flow-logsX/g:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/other/aws/vpc-flow-logs/g:log-stream:s",
    f"arn:aws:logs:us-east-1:210987654321:log-group:{GROUP}:log-stream:s",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f",
]


def test_delivery_policy_covers_groups_and_streams_under_the_prefix_only() -> None:
    policy = our_policy()
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert all(allows(policy, action, arn) for arn in INSIDE_STREAM)
        assert not any(allows(policy, action, arn) for arn in OUTSIDE)
    assert all(allows(policy, "logs:DescribeLogStreams", arn) for arn in INSIDE_GROUP)
    assert not any(allows(policy, "logs:DescribeLogStreams", arn) for arn in OUTSIDE)
    assert allows(policy, "logs:DescribeLogGroups", "*")  # no resource-level permissions
    assert not allows(policy, "logs:CreateLogGroup", INSIDE_GROUP[0])
    assert not allows(policy, "logs:DeleteLogGroup", INSIDE_GROUP[0])
    assert not allows(policy, "logs:GetLogEvents", INSIDE_STREAM[0])


def test_trust_policy_admits_only_vpc_flow_logs_of_this_account() -> None:
    (statement,) = our_trust()["Statement"]

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    source_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    assert fnmatch.fnmatchcase(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/fl-0abc", source_arn)
    assert not fnmatch.fnmatchcase(
        "arn:aws:ec2:eu-west-1:210987654321:vpc-flow-log/fl-0abc", source_arn
    )
    assert not fnmatch.fnmatchcase(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1", source_arn)
