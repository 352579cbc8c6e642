"""Least privilege by execution: the run's recorded requests, judged by the template's policies.

moto authorizes actions only (the run's roles are widened to ``Resource: *``). Here every request
a stack role made in the run, mapped to the IAM requests AWS would authorize (resources and
context keys, ``local_aws.iam_requests``), is evaluated with ``@cloud-copilot/iam-simulate``
against that role's policies as the *template* writes them, resolved with the deployment's
real names and ARNs. Requests the roles must never make are built the same way, from the live
account, and must be denied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_aws.app_model import read_guard_stack
from local_aws.assembly import CloudAssembly, StackTemplate
from local_aws.iam_requests import ApiCall, IamRequest, iam_requests
from local_aws.moto_state import MotoState
from tests.support.iam_simulator import ALLOWED, Policies, Request, simulate, table

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from local_aws.app_model import GuardStack, RoleSpec
    from local_aws.run import LocalDeployment

MANAGED_BY = ("ManagedBy", "vpc-flow-logs-guard")
OUR_TAG = {"Key": MANAGED_BY[0], "Value": MANAGED_BY[1]}
FIGURES: list[str] = []
"""What the evaluations counted; ``tests/e2e/conftest.py`` prints them in pytest's summary."""


@dataclass(frozen=True)
class Verdict:
    """The decision for every IAM request checked, and what went wrong."""

    rows: list[tuple[Request, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> int:
        return sum(1 for _, decision in self.rows if decision == ALLOWED)

    @property
    def denied(self) -> int:
        return len(self.rows) - self.allowed

    def report(self) -> str:
        return "\n".join([*self.failures, "", table(self.rows)])


def template_stack(local: LocalDeployment, assembly_dir: Path) -> GuardStack:
    """The stack of ``assembly_dir`` resolved with the names ``local``'s deployment got."""
    artifact = CloudAssembly.load(assembly_dir).stack(local.stack.template.stack_name)
    rule = local.stack.rule.logical_id
    pseudo = local.stack.template.pseudo
    template = StackTemplate(
        artifact,
        account_id=pseudo.account_id,
        region=pseudo.region,
        partition=pseudo.partition,
        attributes={
            (rule, "Arn"): local.deployment.rule_arn,
            (rule, "ConfigRuleId"): local.deployment.rule_id,
        },
    )
    return read_guard_stack(template)


def role_policies(local: LocalDeployment, stack: GuardStack) -> dict[str, Policies]:
    """Each role's identity policies and boundary, as the template gives them, by role ARN."""
    policies = {}
    for arn, role in stack.roles.items():
        identity: dict[str, Any] = dict(role.inline_policies)
        for managed in role.managed_policy_arns:
            identity[managed] = role.customer_managed_policies.get(managed) or _aws_managed(
                local, managed
            )
        boundary_arn = stack.template.properties(role.logical_id).get("PermissionsBoundary")
        boundary = None
        if boundary_arn:
            boundary = _template_managed_policy(stack, str(boundary_arn)) or _aws_managed(
                local, str(boundary_arn)
            )
        policies[arn] = Policies(identity=identity, boundary=boundary)
    return policies


def _template_managed_policy(stack: GuardStack, arn: str) -> dict[str, Any] | None:
    template = stack.template
    for resource in template.resources("AWS::IAM::ManagedPolicy"):
        if template.ref(resource.logical_id) == arn:
            document: dict[str, Any] = template.properties(resource.logical_id)["PolicyDocument"]
            return document
    return None


def _aws_managed(local: LocalDeployment, arn: str) -> dict[str, Any]:
    """A policy the template only names (AWS managed): its document as IAM holds it."""
    iam = local.admin.iam()
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document: Any = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    return document if isinstance(document, dict) else json.loads(document)


def evaluate(
    requests: Sequence[IamRequest], policies: dict[str, Policies], *, expect: str
) -> Verdict:
    """Evaluate each request with its principal's policies; ``expect`` is allowed or denied."""
    rows: list[tuple[Request, str]] = []
    failures: list[str] = []
    cases = []
    for item in requests:
        if item.principal_arn not in policies:
            failures.append(f"{item.action} by {item.principal_arn}: not a role of the template")
            continue
        request = Request(item.principal_arn, item.action, item.resource, item.context)
        cases.append((request, policies[item.principal_arn]))
    for (request, _), decision in zip(cases, simulate(cases), strict=True):
        rows.append((request, decision))
        if (decision == ALLOWED) != (expect == ALLOWED):
            failures.append(
                f"{request.action} on {request.resource} by "
                f"{request.principal.rsplit('/', 1)[-1]}: {decision}, expected {expect}"
            )
    return Verdict(rows=rows, failures=failures)


def recorded_requests(local: LocalDeployment) -> tuple[list[IamRequest], list[str]]:
    """The IAM requests of every call a role made in the run, and the calls that failed mapping."""
    recorded = local.requests.by_roles()
    unmapped = [
        f"{item.call.service}:{item.call.operation} by {item.call.principal_arn}: {item.error}"
        for item in recorded
        if item.error is not None
    ]
    return [request for item in recorded for request in item.iam_requests], unmapped


@dataclass(frozen=True)
class Forbidden:
    """A call a role must never be able to make, and why."""

    why: str
    call: ApiCall
    denied_action: str = ""
    """The IAM action AWS must refuse; default: the operation's own."""

    @property
    def action(self) -> str:
        return self.denied_action or f"{self.call.service}:{self.call.operation}"


@dataclass(frozen=True)
class _Callers:
    """The stack's two roles, and calls as either of them in the deployment's account."""

    local: LocalDeployment

    @property
    def rule(self) -> RoleSpec:
        stack = self.local.stack
        return stack.role_by_arn(stack.function.role_arn)

    @property
    def runbook(self) -> RoleSpec:
        roles = self.local.stack.roles.values()
        return next(role for role in roles if role.trusts_service("ssm.amazonaws.com"))

    def call(self, role: RoleSpec, service: str, operation: str, **parameters: Any) -> ApiCall:
        pseudo = self.local.stack.template.pseudo
        return ApiCall(
            role.arn,
            service,
            operation,
            parameters,
            pseudo.account_id,
            pseudo.region,
            pseudo.partition,
        )

    def create_flow_log(self, role: RoleSpec, vpc_id: str, delivery_role_arn: str) -> ApiCall:
        """CreateFlowLogs as the runbook sends it, passing ``delivery_role_arn``."""
        return self.call(
            role,
            "ec2",
            "CreateFlowLogs",
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="REJECT",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=f"/aws/vpc-flow-logs/{vpc_id}",
            DeliverLogsPermissionArn=delivery_role_arn,
            TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": [OUR_TAG]}],
        )


def forbidden_calls(local: LocalDeployment) -> list[Forbidden]:
    """Calls outside each role's job, on the live account (real names, real tags)."""
    callers = _Callers(local)
    call, rule, runbook = callers.call, callers.rule, callers.runbook
    not_ours = _flow_log(local, ours=False)
    vpc_id = str(not_ours["ResourceId"])
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    put_policy = {"PolicyName": "x", "PolicyDocument": policy}
    return [
        Forbidden(
            "another role's policy",
            call(runbook, "iam", "PutRolePolicy", RoleName=rule.name, **put_policy),
        ),
        Forbidden(
            "its own policy (escalation)",
            call(runbook, "iam", "PutRolePolicy", RoleName=runbook.name, **put_policy),
        ),
        Forbidden(
            "a role other than the delivery role",
            call(
                runbook,
                "iam",
                "CreateRole",
                RoleName="Administrator",
                AssumeRolePolicyDocument=policy,
            ),
        ),
        Forbidden(
            "the delivery role without its permissions boundary",
            call(
                runbook,
                "iam",
                "CreateRole",
                RoleName="VpcFlowLogsDeliveryRole",
                AssumeRolePolicyDocument=policy,
            ),
        ),
        Forbidden(
            "the delivery role with a boundary that bounds nothing",
            call(
                runbook,
                "iam",
                "CreateRole",
                RoleName="VpcFlowLogsDeliveryRole",
                AssumeRolePolicyDocument=policy,
                PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
            ),
        ),
        Forbidden(
            "a log group outside /aws/vpc-flow-logs/",
            call(
                runbook,
                "logs",
                "CreateLogGroup",
                logGroupName=f"/aws/vpc-flow-logs-x/{vpc_id}",
                tags=dict([MANAGED_BY]),
            ),
        ),
        Forbidden(
            "the retention of a log group that is not a flow-log group",
            call(
                runbook,
                "logs",
                "PutRetentionPolicy",
                logGroupName=local.stack.function.log_group_name,
                retentionInDays=1,
            ),
        ),
        Forbidden(
            "deleting a flow log without our ManagedBy tag",
            call(runbook, "ec2", "DeleteFlowLogs", FlowLogIds=[not_ours["FlowLogId"]]),
        ),
        Forbidden(
            "tagging a flow log after its creation (it could adopt one that is not ours)",
            call(runbook, "ec2", "CreateTags", Resources=[not_ours["FlowLogId"]], Tags=[OUR_TAG]),
        ),
        Forbidden(
            "passing a role other than the delivery role (here: its own)",
            callers.create_flow_log(runbook, vpc_id, runbook.arn),
            "iam:PassRole",
        ),
        Forbidden(
            "passing a role other than the delivery role (here: the account's other one)",
            callers.create_flow_log(runbook, vpc_id, str(not_ours["DeliverLogsPermissionArn"])),
            "iam:PassRole",
        ),
        Forbidden(
            "the rule's role creating a flow log",
            callers.create_flow_log(rule, vpc_id, runbook.arn),
        ),
        Forbidden(
            "the rule's role reading another rule's results",
            call(rule, "config", "GetComplianceDetailsByConfigRule", ConfigRuleName="other-rule"),
        ),
        Forbidden(
            "the rule's role writing another log group",
            call(
                rule,
                "logs",
                "PutLogEvents",
                logGroupName=f"/aws/vpc-flow-logs/{vpc_id}",
                logStreamName="forged",
                logEvents=[],
            ),
        ),
        Forbidden(
            "the rule's role changing the delivery role",
            call(rule, "iam", "PutRolePolicy", RoleName="VpcFlowLogsDeliveryRole", **put_policy),
        ),
    ]


def permitted_calls(local: LocalDeployment) -> list[ApiCall]:
    """Calls the demo does not make that the roles must be able to make (positive controls)."""
    callers = _Callers(local)
    group = local.stack.function.log_group_name
    stream = {"logGroupName": group, "logStreamName": "2026/12/02/[$LATEST]0123456789abcdef"}
    return [
        # A run that replaces the VPC's earlier flow log deletes it: the denial above is the tag.
        callers.call(
            callers.runbook,
            "ec2",
            "DeleteFlowLogs",
            FlowLogIds=[_flow_log(local, ours=True)["FlowLogId"]],
        ),
        # Lambda writes the function's logs with its role (the local run prints them instead).
        callers.call(callers.rule, "logs", "CreateLogStream", **stream),
        callers.call(callers.rule, "logs", "PutLogEvents", **stream, logEvents=[]),
    ]


def mapped(local: LocalDeployment, calls: Sequence[ApiCall]) -> list[list[IamRequest]]:
    """Each call's IAM requests, with the account's state as it is now."""
    pseudo = local.stack.template.pseudo
    state = MotoState(pseudo.account_id, pseudo.region, pseudo.partition)
    return [iam_requests(call, state) for call in calls]


def _flow_log(local: LocalDeployment, *, ours: bool) -> Any:
    """A flow log of the demo account that the runbook created (``ours``), or one it did not."""
    for flow_log in local.admin.ec2().describe_flow_logs()["FlowLogs"]:
        tags = {tag["Key"]: tag["Value"] for tag in flow_log.get("Tags", [])}
        if (tags.get(MANAGED_BY[0]) == MANAGED_BY[1]) is ours:
            return flow_log
    raise AssertionError(f"the demo account has no flow log with ours={ours}")
