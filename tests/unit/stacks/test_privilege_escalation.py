"""No role the stacks create is a way to admin: attacks simulated against the synthesized templates.

Each request is evaluated by ``@cloud-copilot/iam-simulate`` (``tests/support/iam_simulator``)
with the role's policies as synthesized (intrinsics resolved as ``iam_policies`` does) and the
request context AWS would send. The attacker holds the automation role (anyone who may pass it
to an Automation document of their own) or the delivery role (anyone who could get VPC Flow
Logs' credentials for it, or who wrote its inline policy). Positive controls show the simulator
allows what the runbook and VPC Flow Logs need, so a denial means the policy, not the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from enable_vpc_flow_logs import delivery_role as script
from tests.support import iam_simulator
from tests.support.iam_simulator import ALLOWED, IMPLICITLY_DENIED, Policies, Request
from tests.unit.stacks.central_stream import TO_CENTRAL_STREAM
from tests.unit.stacks.iam_policies import (
    ACCOUNT,
    aws_managed_policies,
    identity_policies,
    role_arn,
    role_policies,
)
from tests.unit.stacks.synthesis import (
    KMS_KEY_ARN,
    synth_log_archive,
    synth_organization,
    synth_view,
    synthesize,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tests.unit.stacks.synthesis import Synthesized

IAM = f"arn:aws:iam::{ACCOUNT}"
DELIVERY_ROLE = f"{IAM}:role/VpcFlowLogsDeliveryRole"
ADMIN_ROLE = f"{IAM}:role/Admin"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
ANOTHER_REGIONS_BOUNDARY = f"{IAM}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-Boundary-9Z8Y"
ADMIN_POLICY_UNDER_ROOT = f"{IAM}:policy/VpcFlowLogsBoundary"
FLOW_LOG_GROUP = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/vpc-flow-logs/vpc-1"
FLOW_LOG_STREAM = f"{FLOW_LOG_GROUP}:log-stream:eni-0123456789abcdef0-all"
OTHER_LOG_GROUP = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/payments"
OUR_TAG: dict[str, str | list[str]] = {
    "aws:RequestTag/ManagedBy": "vpc-flow-logs-guard",
    "aws:TagKeys": ["ManagedBy"],
}
COMPLIANCE_BUS = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/vpc-flow-logs-guard-compliance"
ALL_ACTIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Case:
    """One request and the decision it must get."""

    what: str
    action: str
    resource: str
    context: Mapping[str, str | list[str]]
    expected: str


def decide(principal: str, policies: Policies, cases: Sequence[Case]) -> list[tuple[Case, str]]:
    requests = [Request(principal, case.action, case.resource, case.context) for case in cases]
    decisions = iam_simulator.simulate([(request, policies) for request in requests])
    return list(zip(cases, decisions, strict=True))


def report(results: Sequence[tuple[Case, str]], principal: str) -> str:
    rows = [(Request(principal, c.action, c.resource, c.context), d) for c, d in results]
    what = "\n".join(f"  {case.what}: {decision}" for case, decision in results)
    return f"\n{iam_simulator.table(rows)}\n{what}"


@pytest.fixture(scope="module")
def default() -> Synthesized:
    return synthesize()


@dataclass(frozen=True)
class Runbook:
    """The automation role and the delivery role's boundary, as the template has them."""

    automation_role: str
    automation_policies: dict[str, Any]
    boundary_arn: str
    boundary: dict[str, Any]


@pytest.fixture(scope="module")
def runbook(default: Synthesized) -> Runbook:
    roles = role_policies(default.json)
    (automation_id,) = [logical_id for logical_id in roles if "AutomationRole" in logical_id]
    boundary_id, boundary = default.only("AWS::IAM::ManagedPolicy")
    path = boundary["Properties"]["Path"]
    return Runbook(
        automation_role=role_arn(default.json, automation_id),
        automation_policies=roles[automation_id],
        boundary_arn=f"{IAM}:policy{path}{boundary_id.lower()}",
        boundary=identity_policies(default.json)[boundary_id],
    )


# --- as the automation role -------------------------------------------------------------------


def automation_attacks(boundary: str) -> list[Case]:
    """What someone who runs a document of their own as the automation role would try."""
    ours = {"iam:PermissionsBoundary": boundary}
    return [
        Case("PutRolePolicy on the delivery role without a boundary (an earlier version's role)",
             "iam:PutRolePolicy", DELIVERY_ROLE, {}, IMPLICITLY_DENIED),
        Case("PutRolePolicy on the delivery role bounded by AdministratorAccess",
             "iam:PutRolePolicy", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ADMINISTRATOR_ACCESS}, IMPLICITLY_DENIED),
        Case("PutRolePolicy on the delivery role bounded by a policy outside the path",
             "iam:PutRolePolicy", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ADMIN_POLICY_UNDER_ROOT}, IMPLICITLY_DENIED),
        Case("PutRolePolicy on another role, even with our boundary",
             "iam:PutRolePolicy", ADMIN_ROLE, ours, IMPLICITLY_DENIED),
        Case("CreateRole of another name with our boundary",
             "iam:CreateRole", f"{IAM}:role/Escalated", ours, IMPLICITLY_DENIED),
        Case("CreateRole of the delivery role without a boundary",
             "iam:CreateRole", DELIVERY_ROLE, {}, IMPLICITLY_DENIED),
        Case("CreateRole of the delivery role bounded by AdministratorAccess",
             "iam:CreateRole", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ADMINISTRATOR_ACCESS}, IMPLICITLY_DENIED),
        Case("CreateRole of the delivery role with another stack's boundary",
             "iam:CreateRole", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ANOTHER_REGIONS_BOUNDARY}, IMPLICITLY_DENIED),
        Case("UpdateAssumeRolePolicy of the delivery role",
             "iam:UpdateAssumeRolePolicy", DELIVERY_ROLE, ours, IMPLICITLY_DENIED),
        Case("DeleteRolePermissionsBoundary of the delivery role",
             "iam:DeleteRolePermissionsBoundary", DELIVERY_ROLE, ours, IMPLICITLY_DENIED),
        Case("PutRolePermissionsBoundary of the delivery role, even to our boundary",
             "iam:PutRolePermissionsBoundary", DELIVERY_ROLE, ours, IMPLICITLY_DENIED),
        Case("PutRolePermissionsBoundary of the delivery role to AdministratorAccess",
             "iam:PutRolePermissionsBoundary", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ADMINISTRATOR_ACCESS}, IMPLICITLY_DENIED),
        Case("AttachRolePolicy AdministratorAccess to the delivery role",
             "iam:AttachRolePolicy", DELIVERY_ROLE,
             {**ours, "iam:PolicyARN": ADMINISTRATOR_ACCESS}, IMPLICITLY_DENIED),
        Case("CreatePolicyVersion of the boundary",
             "iam:CreatePolicyVersion", boundary, {}, IMPLICITLY_DENIED),
        Case("CreatePolicy under the boundary path",
             "iam:CreatePolicy", ANOTHER_REGIONS_BOUNDARY, {}, IMPLICITLY_DENIED),
        Case("DeleteRole of the delivery role (to create it again)",
             "iam:DeleteRole", DELIVERY_ROLE, ours, IMPLICITLY_DENIED),
        Case("DeleteRolePolicy of the delivery role",
             "iam:DeleteRolePolicy", DELIVERY_ROLE, ours, IMPLICITLY_DENIED),
        Case("TagRole the delivery role with another tag",
             "iam:TagRole", DELIVERY_ROLE,
             {"aws:RequestTag/Admin": "true", "aws:TagKeys": ["Admin"]}, IMPLICITLY_DENIED),
        Case("TagRole another role with our tag",
             "iam:TagRole", ADMIN_ROLE, OUR_TAG, IMPLICITLY_DENIED),
        Case("PassRole of the automation role itself (to a service)",
             "iam:PassRole", "AUTOMATION_ROLE",
             {"iam:PassedToService": "ssm.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("PassRole of another role to Lambda",
             "iam:PassRole", ADMIN_ROLE,
             {"iam:PassedToService": "lambda.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("PassRole of another role to VPC Flow Logs",
             "iam:PassRole", ADMIN_ROLE,
             {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("AssumeRole of the delivery role",
             "sts:AssumeRole", DELIVERY_ROLE, {}, IMPLICITLY_DENIED),
    ]  # fmt: skip


def automation_controls(boundary: str) -> list[Case]:
    """What the runbook does: the simulator must allow it."""
    return [
        Case("GetRole of the delivery role", "iam:GetRole", DELIVERY_ROLE, {}, ALLOWED),
        Case("GetRolePolicy of the delivery role",
             "iam:GetRolePolicy", DELIVERY_ROLE, {}, ALLOWED),
        Case("CreateRole of the delivery role with this stack's boundary",
             "iam:CreateRole", DELIVERY_ROLE, {"iam:PermissionsBoundary": boundary}, ALLOWED),
        Case("TagRole the delivery role with our tag (CreateRole's Tags)",
             "iam:TagRole", DELIVERY_ROLE, OUR_TAG, ALLOWED),
        Case("PutRolePolicy on the delivery role bounded by this stack's boundary",
             "iam:PutRolePolicy", DELIVERY_ROLE, {"iam:PermissionsBoundary": boundary}, ALLOWED),
        Case("PutRolePolicy on the delivery role bounded by another region's boundary",
             "iam:PutRolePolicy", DELIVERY_ROLE,
             {"iam:PermissionsBoundary": ANOTHER_REGIONS_BOUNDARY}, ALLOWED),
        Case("PassRole of the delivery role to VPC Flow Logs",
             "iam:PassRole", DELIVERY_ROLE,
             {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}, ALLOWED),
        Case("PassRole of the delivery role, whatever service name EC2 sends",
             "iam:PassRole", DELIVERY_ROLE,
             {"iam:PassedToService": "delivery.logs.amazonaws.com"}, ALLOWED),
    ]  # fmt: skip


def test_automation_role_cannot_widen_any_role_and_can_do_its_job(runbook: Runbook) -> None:
    cases = [
        Case(c.what, c.action, runbook.automation_role, c.context, c.expected)
        if c.resource == "AUTOMATION_ROLE"
        else c
        for c in [
            *automation_attacks(runbook.boundary_arn),
            *automation_controls(runbook.boundary_arn),
        ]
    ]

    results = decide(runbook.automation_role, Policies(runbook.automation_policies), cases)

    assert [decision for _, decision in results] == [case.expected for case in cases], report(
        results, runbook.automation_role
    )


def test_the_same_holds_with_a_kms_key_and_the_recorder() -> None:
    # The KMS statements and the recorder add no IAM permission to the automation role.
    everything = synthesize({"kmsKeyArn": KMS_KEY_ARN, "createConfigRecorder": "true"})
    roles = role_policies(everything.json)
    (automation_id,) = [logical_id for logical_id in roles if "AutomationRole" in logical_id]
    boundary_id, boundary = everything.only("AWS::IAM::ManagedPolicy")
    boundary_arn = f"{IAM}:policy{boundary['Properties']['Path']}{boundary_id.lower()}"
    principal = role_arn(everything.json, automation_id)
    cases = [c for c in automation_attacks(boundary_arn) if c.resource != "AUTOMATION_ROLE"]

    results = decide(principal, Policies(roles[automation_id]), cases)

    assert {decision for _, decision in results} == {IMPLICITLY_DENIED}, report(results, principal)


def test_with_the_central_stream_the_automation_role_writes_no_iam_at_all() -> None:
    # No delivery role, no boundary: every IAM write above is refused, and the one role it may
    # pass is the stack's source role, to the log delivery service only (test_firehose_source).
    to_stream = synthesize(TO_CENTRAL_STREAM)
    roles = role_policies(to_stream.json)
    (automation_id,) = [logical_id for logical_id in roles if "AutomationRole" in logical_id]
    principal = role_arn(to_stream.json, automation_id)
    cases = [
        c for c in automation_attacks(ANOTHER_REGIONS_BOUNDARY) if c.resource != "AUTOMATION_ROLE"
    ]

    results = decide(principal, Policies(roles[automation_id]), cases)

    assert {decision for _, decision in results} == {IMPLICITLY_DENIED}, report(results, principal)
    assert not [
        action
        for policy in roles[automation_id].values()
        for statement in policy["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        if action.startswith("iam:") and action != "iam:PassRole"
    ]


# --- as the delivery role, inside its boundary ------------------------------------------------


def delivery_attacks() -> list[Case]:
    """What the delivery role could try if its inline policy were ``*:*``."""
    return [
        Case("iam:PutRolePolicy on itself", "iam:PutRolePolicy", DELIVERY_ROLE, {},
             IMPLICITLY_DENIED),
        Case("iam:CreateRole", "iam:CreateRole", f"{IAM}:role/Escalated", {}, IMPLICITLY_DENIED),
        Case("iam:DeleteRolePermissionsBoundary of itself", "iam:DeleteRolePermissionsBoundary",
             DELIVERY_ROLE, {}, IMPLICITLY_DENIED),
        Case("iam:PassRole of another role", "iam:PassRole", ADMIN_ROLE,
             {"iam:PassedToService": "ec2.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("sts:AssumeRole of another role", "sts:AssumeRole", ADMIN_ROLE, {},
             IMPLICITLY_DENIED),
        Case("s3:GetObject", "s3:GetObject", "arn:aws:s3:::payroll/2026.csv", {},
             IMPLICITLY_DENIED),
        Case("ec2:TerminateInstances", "ec2:TerminateInstances",
             f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0", {},
             IMPLICITLY_DENIED),
        Case("logs:PutLogEvents outside /aws/vpc-flow-logs/", "logs:PutLogEvents",
             f"{OTHER_LOG_GROUP}:log-stream:x", {}, IMPLICITLY_DENIED),
        Case("logs:GetLogEvents of a flow log group (reading logs)", "logs:GetLogEvents",
             FLOW_LOG_STREAM, {}, IMPLICITLY_DENIED),
        Case("logs:DeleteLogGroup of a flow log group", "logs:DeleteLogGroup", FLOW_LOG_GROUP,
             {}, IMPLICITLY_DENIED),
        Case("logs:PutRetentionPolicy of a flow log group", "logs:PutRetentionPolicy",
             FLOW_LOG_GROUP, {}, IMPLICITLY_DENIED),
        Case("logs:CreateLogGroup", "logs:CreateLogGroup", FLOW_LOG_GROUP, {},
             IMPLICITLY_DENIED),
    ]  # fmt: skip


def delivery_controls() -> list[Case]:
    """What VPC Flow Logs does with the role."""
    return [
        Case("logs:CreateLogStream in a flow log group", "logs:CreateLogStream",
             FLOW_LOG_STREAM, {}, ALLOWED),
        Case("logs:PutLogEvents to a flow log stream", "logs:PutLogEvents", FLOW_LOG_STREAM, {},
             ALLOWED),
        Case("logs:DescribeLogStreams of a flow log group", "logs:DescribeLogStreams",
             FLOW_LOG_GROUP, {}, ALLOWED),
        Case("logs:DescribeLogGroups", "logs:DescribeLogGroups", "*", {}, ALLOWED),
    ]  # fmt: skip


def test_delivery_role_with_a_star_policy_stays_inside_its_boundary(runbook: Runbook) -> None:
    # Given the worst inline policy a document run as the automation role could write
    policies = Policies({"written-by-an-attacker": ALL_ACTIONS}, boundary=runbook.boundary)
    cases = [*delivery_attacks(), *delivery_controls()]

    results = decide(DELIVERY_ROLE, policies, cases)

    assert [decision for _, decision in results] == [case.expected for case in cases], report(
        results, DELIVERY_ROLE
    )


def test_without_the_boundary_the_star_policy_would_be_admin() -> None:
    # Negative control: the denials above come from the boundary, not from the simulator.
    results = decide(DELIVERY_ROLE, Policies({"star": ALL_ACTIONS}), delivery_attacks())

    assert {decision for _, decision in results} == {ALLOWED}, report(results, DELIVERY_ROLE)


def test_the_runbooks_own_inline_policy_works_inside_the_boundary(runbook: Runbook) -> None:
    policies = Policies(
        {script.INLINE_POLICY_NAME: script.delivery_policy("aws", ACCOUNT)},
        boundary=runbook.boundary,
    )

    results = decide(DELIVERY_ROLE, policies, delivery_controls())

    assert {decision for _, decision in results} == {ALLOWED}, report(results, DELIVERY_ROLE)
    # and the boundary allows exactly what that policy grants: nothing more
    assert script.policies_equal(runbook.boundary, script.delivery_policy("aws", ACCOUNT))


# --- every other role the stacks create -------------------------------------------------------


def escalations(own_role: str) -> list[Case]:
    """Actions that would let a role widen its own or another principal's permissions."""
    admin_policy = {"iam:PolicyARN": ADMINISTRATOR_ACCESS}
    document = f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/RunbookDocument"
    return [
        Case("create a role", "iam:CreateRole", f"{IAM}:role/Escalated", {}, IMPLICITLY_DENIED),
        Case("write its own policy", "iam:PutRolePolicy", own_role, {}, IMPLICITLY_DENIED),
        Case("write another role's policy", "iam:PutRolePolicy", ADMIN_ROLE, {},
             IMPLICITLY_DENIED),
        Case("attach a managed policy to itself", "iam:AttachRolePolicy", own_role,
             admin_policy, IMPLICITLY_DENIED),
        Case("change its trust", "iam:UpdateAssumeRolePolicy", own_role, {}, IMPLICITLY_DENIED),
        Case("remove its boundary", "iam:DeleteRolePermissionsBoundary", own_role, {},
             IMPLICITLY_DENIED),
        Case("new version of a policy", "iam:CreatePolicyVersion", ANOTHER_REGIONS_BOUNDARY, {},
             IMPLICITLY_DENIED),
        Case("pass itself", "iam:PassRole", own_role,
             {"iam:PassedToService": "lambda.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("pass another role", "iam:PassRole", ADMIN_ROLE,
             {"iam:PassedToService": "ec2.amazonaws.com"}, IMPLICITLY_DENIED),
        Case("assume another role", "sts:AssumeRole", ADMIN_ROLE, {}, IMPLICITLY_DENIED),
        Case("create a user", "iam:CreateUser", f"{IAM}:user/escalated", {}, IMPLICITLY_DENIED),
        Case("create an access key", "iam:CreateAccessKey", f"{IAM}:user/admin", {},
             IMPLICITLY_DENIED),
        Case("rewrite the runbook", "ssm:UpdateDocument", document, {}, IMPLICITLY_DENIED),
        Case("change a Lambda's code", "lambda:UpdateFunctionCode",
             f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rule", {}, IMPLICITLY_DENIED),
        Case("point remediation elsewhere", "config:PutRemediationConfigurations",
             f"arn:aws:config:us-east-1:{ACCOUNT}:remediation-configuration/rule/x", {},
             IMPLICITLY_DENIED),
        Case("rewrite a bucket policy", "s3:PutBucketPolicy", "arn:aws:s3:::any-bucket", {},
             IMPLICITLY_DENIED),
        Case("rewrite a key policy", "kms:PutKeyPolicy",
             f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab", {},
             IMPLICITLY_DENIED),
    ]  # fmt: skip


REVIEWED_AWS_MANAGED = {
    # read-only for the resource types it records, plus s3/sns for delivery (Config's guide)
    "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole",
    # read of Config and of the delivery bucket, config:PutEvaluations (Config's guide)
    "arn:aws:iam::aws:policy/service-role/AWSConfigRulesExecutionRole",
    # CloudWatch Logs writes only
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
}
"""AWS managed policies are not in the template and cannot be simulated offline: each one a
role attaches must be on this reviewed list (none of them grants an IAM, STS or policy write)."""


def every_template() -> dict[str, dict[str, Any]]:
    organization = synth_organization()
    log_archive, _ = synth_log_archive(
        {"logArchiveKmsKey": "true", "centralLogDestination": "true", "firehoseDelivery": "true"}
    )
    return {
        "VpcFlowLogsGuard (everything)": synthesize(
            {"kmsKeyArn": KMS_KEY_ARN, "createConfigRecorder": "true"}
        ).json,
        "VpcFlowLogsGuard (central bucket, compliance forwarding)": synthesize(
            {
                "destination": "s3",
                "centralBucketArn": "arn:aws:s3:::org-vpc-flow-logs",
                "complianceEventBusArn": COMPLIANCE_BUS,
            }
        ).json,
        "VpcFlowLogsGuard (central stream)": synthesize(TO_CENTRAL_STREAM).json,
        "VpcFlowLogsGuardOrganization": organization.parent,
        "StackSet member": organization.member,
        "VpcFlowLogsGuardLogArchive": log_archive,
        "VpcFlowLogsGuardOrganizationView": synth_view()[0],
    }


def test_no_role_of_any_stack_can_widen_permissions() -> None:
    templates = every_template()
    checked: list[str] = []
    failures: list[str] = []
    for stack, template in templates.items():
        for logical_id, policies in role_policies(template).items():
            principal = role_arn(template, logical_id)
            results = decide(principal, Policies(policies), escalations(principal))
            checked.append(f"{stack}/{logical_id}")
            if {decision for _, decision in results} != {IMPLICITLY_DENIED}:
                failures.append(f"{stack}/{logical_id}:{report(results, principal)}")
            unreviewed = set(aws_managed_policies(template)[logical_id]) - REVIEWED_AWS_MANAGED
            if unreviewed:
                failures.append(f"{stack}/{logical_id}: unreviewed AWS managed {unreviewed}")

    assert failures == []
    # every role was looked at: rule, automation and recorder roles, the asset copy's role, the
    # compliance forwarding role, the central stream's source role; in the log archive, the
    # central archive's two roles and direct delivery's Firehose and destination roles; the
    # view's aggregator role
    assert len(checked) == 2 + 3 + 1 + 3 + 2 + 4 + 2, checked
