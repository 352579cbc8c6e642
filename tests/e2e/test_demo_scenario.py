"""The demo account, end to end: the synthesized app evaluates, remediates and re-evaluates.

Everything the run uses comes from the synthesized template (rule scope, triggers and parameters,
the function's handler, environment, asset and role, the remediation's parameter mapping, the
document, the roles' policies), and runs against moto with IAM enforced.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from local_aws.dashboard import render
from local_aws.scenario import COMPLIANT, EXEMPT_TAG, NON_COMPLIANT, NOT_APPLICABLE
from tests.e2e.least_privilege import (
    FIGURES,
    evaluate,
    forbidden_calls,
    mapped,
    permitted_calls,
    recorded_requests,
    role_policies,
    template_stack,
)
from tests.e2e.template_edits import copy_with_resource
from tests.support.iam_simulator import ALLOWED, IMPLICITLY_DENIED, table

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_ec2.type_defs import FilterTypeDef

    from local_aws.run import LocalDeployment
    from local_aws.scenario import ScenarioResult, VpcResult

pytestmark = pytest.mark.e2e

DemoRun = tuple["LocalDeployment", "ScenarioResult"]
MANAGED_BY = {"Key": "ManagedBy", "Value": "vpc-flow-logs-guard"}
FIXED_BY_THE_RUNBOOK = ("default", "payments", "partner-link")

PHASES = ["CheckInput", "ChooseDestination", "DeliveryRole", "LogGroup", "FlowLog", "Verify"]
"""The runbook's steps for a CloudWatch Logs destination (the demo's)."""


def row(result: ScenarioResult, name: str) -> VpcResult:
    return next(row for row in result.rows if row.case.name == name)


def test_every_vpc_ends_as_expected(demo_run: DemoRun) -> None:
    local, result = demo_run
    dashboard = render(result, rule_name=local.deployment.rule_name, region="us-east-1")
    assert result.unexpected == [], dashboard
    assert result.not_compliant_but_should_be == []


def test_counts_per_compliance_type_before_and_after(demo_run: DemoRun) -> None:
    _, result = demo_run
    assert result.counts("before") == {COMPLIANT: 1, NON_COMPLIANT: 5, NOT_APPLICABLE: 1}
    assert result.counts("after") == {COMPLIANT: 5, NOT_APPLICABLE: 2}


def test_annotations_name_what_is_wrong(demo_run: DemoRun) -> None:
    _, result = demo_run
    annotation = {item.case.name: item.before.annotation for item in result.rows if item.before}
    assert "REJECT" in annotation["payments"]
    assert "retention is 7 days" in annotation["analytics"]
    assert "365" in annotation["analytics"]
    assert "ACCEPT" in annotation["partner-link"]
    assert EXEMPT_TAG in annotation["sandbox"]


def test_the_runbook_gave_each_vpc_a_flow_log_the_rule_accepts(demo_run: DemoRun) -> None:
    local, result = demo_run
    ec2, logs = local.admin.ec2(), local.admin.logs()
    for name in FIXED_BY_THE_RUNBOOK:
        item = row(result, name)
        remediation = item.last_remediation  # payments' first flow log was deleted since
        assert remediation is not None
        assert remediation.succeeded
        assert len(remediation.executions) == 1
        (execution,) = remediation.executions
        assert [step.name for step in execution.steps] == PHASES
        assert {step.status for step in execution.steps} == {"Success"}
        outputs = execution.outputs
        flow_log_id = outputs["Verify.FlowLogId"]
        log_group = outputs["Verify.LogGroupName"]

        (flow_log,) = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
        assert flow_log["ResourceId"] == item.vpc_id
        assert flow_log["TrafficType"] in {"REJECT", "ALL"}
        assert flow_log["FlowLogStatus"] == "ACTIVE"
        assert flow_log["LogGroupName"] == log_group == f"/aws/vpc-flow-logs/{item.vpc_id}"
        assert MANAGED_BY in flow_log.get("Tags", [])
        (group,) = logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
        assert group.get("retentionInDays") == 365
        assert logs.list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))["tags"].get(
            "ManagedBy"
        ) == ("vpc-flow-logs-guard")


def test_a_too_short_retention_is_raised_and_the_flow_log_kept(demo_run: DemoRun) -> None:
    local, result = demo_run
    item = row(result, "analytics")
    before = item.before.annotation if item.before else ""

    assert item.remediation is not None
    assert item.remediation.succeeded
    outputs = item.remediation.executions[0].outputs
    assert outputs["Verify.FlowLogId"] in before  # the flow log the rule complained about
    flow_logs = local.admin.ec2().describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [item.vpc_id]}]
    )["FlowLogs"]
    assert len(flow_logs) == 1
    assert item.retention_after == {f"/aws/vpc-flow-logs/{item.vpc_id}": 365}


def test_the_delivery_role_trusts_only_vpc_flow_logs(demo_run: DemoRun) -> None:
    local, _ = demo_run
    iam = local.admin.iam()
    role = iam.get_role(RoleName="VpcFlowLogsDeliveryRole")["Role"]
    trust: Any = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert iam.list_role_policies(RoleName="VpcFlowLogsDeliveryRole")["PolicyNames"] == [
        "VpcFlowLogsDelivery"
    ]


def test_the_delivery_role_is_created_within_the_stacks_boundary(demo_run: DemoRun) -> None:
    local, result = demo_run
    iam = local.admin.iam()
    (boundary,) = local.stack.template.resources("AWS::IAM::ManagedPolicy")
    boundary_arn = local.stack.template.ref(boundary.logical_id)

    role = iam.get_role(RoleName="VpcFlowLogsDeliveryRole")["Role"]

    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary_arn
    assert boundary_arn.startswith("arn:aws:iam::123456789012:policy/vpc-flow-logs-guard/")
    assert iam.get_policy(PolicyArn=boundary_arn)["Policy"]["Path"] == "/vpc-flow-logs-guard/"
    # the remediation configuration gave the runbook that boundary, in every execution
    spec = local.stack.remediation
    assert spec is not None
    assert spec.parameters["DeliveryRoleBoundaryArn"].static_values == (boundary_arn,)
    given = {
        execution.parameters["DeliveryRoleBoundaryArn"]
        for item in result.rows
        if item.remediation is not None
        for execution in item.remediation.executions
    }
    assert given == {boundary_arn}


def test_the_vpc_deleted_after_evaluation_is_cleared_by_the_scheduled_run(
    demo_run: DemoRun,
) -> None:
    local, result = demo_run
    item = row(result, "load-test")
    spec = local.stack.remediation
    assert spec is not None

    assert item.before_type == NON_COMPLIANT
    assert item.remediation is not None
    assert not item.remediation.succeeded
    assert len(item.remediation.executions) == spec.maximum_automatic_attempts
    assert "does not exist" in (item.remediation.failure_message or "")
    # the console would show CheckInput failed, before anything was written
    assert {execution.failed_step for execution in item.remediation.executions} == {"CheckInput"}
    assert [step.name for step in item.remediation.executions[0].steps] == ["CheckInput"]
    assert item.after_type == NOT_APPLICABLE


def test_the_compliant_and_the_exempt_vpcs_are_left_alone(demo_run: DemoRun) -> None:
    local, result = demo_run
    for name in ("core-network", "sandbox"):
        item = row(result, name)
        assert item.remediation is None
        assert item.before_type == item.after_type
    flow_logs = local.admin.ec2().describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [row(result, "sandbox").vpc_id]}]
    )["FlowLogs"]
    assert flow_logs == []


def test_a_second_remediation_changes_nothing(demo_run: DemoRun) -> None:
    # Given a VPC the runbook already fixed
    local, result = demo_run
    item = row(result, "payments")
    assert item.last_remediation is not None
    first = item.last_remediation.executions[0].outputs
    ec2 = local.admin.ec2()
    by_vpc: list[FilterTypeDef] = [{"Name": "resource-id", "Values": [item.vpc_id]}]
    count = len(ec2.describe_flow_logs(Filters=by_vpc)["FlowLogs"])

    # When Config remediates it again
    (again,) = local.config.remediate([item.vpc_id])

    # Then the same flow log is reported and nothing was added
    assert again.succeeded, again.failure_message
    assert again.executions[0].outputs == first
    assert len(ec2.describe_flow_logs(Filters=by_vpc)["FlowLogs"]) == count


def test_the_function_got_configs_events_with_the_templates_parameters(demo_run: DemoRun) -> None:
    local, _ = demo_run
    template = local.stack.template
    (rule,) = template.resources("AWS::Config::ConfigRule")
    declared = template.properties(rule.logical_id)["InputParameters"]

    events = [invocation.event for invocation in local.runner.invocations]
    message_types = [json.loads(event["invokingEvent"])["messageType"] for event in events]

    items = [json.loads(event["invokingEvent"]).get("configurationItem", {}) for event in events]
    resource_types = [item.get("resourceType") for item in items]

    # 7 VPCs; flow logs: 3 of the account, 3 made by remediation, 1 deleted, 1 restored
    assert message_types.count("ConfigurationItemChangeNotification") == 15
    assert resource_types.count("AWS::EC2::VPC") == 7
    assert resource_types.count("AWS::EC2::FlowLog") == 8
    assert message_types.count("ScheduledNotification") == 1
    assert all(json.loads(event["ruleParameters"]) == declared for event in events)
    assert declared["ExemptTag"] == EXEMPT_TAG
    assert {event["configRuleName"] for event in events} == {"vpc-flow-logs-enabled"}


def test_the_function_ran_on_its_runtimes_python(demo_run: DemoRun) -> None:
    local, _ = demo_run
    interpreter = local.runner.interpreter
    if not interpreter.exact:
        pytest.skip(f"no {interpreter.runtime} interpreter on this machine")
    assert f"python{interpreter.version}" == local.stack.function.runtime


def test_the_dashboard_shows_every_vpc_before_and_after(demo_run: DemoRun) -> None:
    local, result = demo_run
    dashboard = render(result, rule_name=local.deployment.rule_name, region="us-east-1")
    for item in result.rows:
        assert item.vpc_id in dashboard
    assert "RESULT: every VPC ended as expected (5 COMPLIANT, 2 NOT_APPLICABLE)." in dashboard


def test_the_flow_logs_own_notifications_turn_the_fixed_vpcs_compliant(demo_run: DemoRun) -> None:
    _, result = demo_run
    for name in FIXED_BY_THE_RUNBOOK:
        assert row(result, name).notified_type == COMPLIANT, name
    # what no flow log notification tells: a raised retention, a VPC deleted unrecorded
    assert row(result, "analytics").notified_type == NON_COMPLIANT
    assert row(result, "load-test").notified_type == NON_COMPLIANT
    steps = {step.name: step for step in result.steps}
    assert steps["new flow logs notify the rule"].notifications == 3


def test_a_deleted_flow_log_is_seen_in_minutes_and_remediated(demo_run: DemoRun) -> None:
    local, result = demo_run
    assert result.drift == (COMPLIANT, NON_COMPLIANT, COMPLIANT)
    steps = {step.name: step for step in result.steps}
    assert steps["someone deletes a flow log"].notifications == 1
    assert steps["remediation restores it"].notifications == 1

    # The deletion's notification found the VPC in the flow log's history: at most 4 calls
    (deletion,) = [
        invocation
        for invocation in local.runner.invocations
        if json.loads(invocation.event["invokingEvent"])
        .get("configurationItem", {})
        .get("configurationItemStatus")
        == "ResourceDeleted"
    ]
    (line,) = [
        json.loads(text)
        for text in deletion.output.splitlines()
        if text.startswith("{") and '"Evaluations reported"' in text
    ]
    assert line["aws_calls"]["GetResourceConfigHistory"] == 1
    assert sum(line["aws_calls"].values()) <= 4
    assert line["evaluations"] == {"COMPLIANT": 0, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 0}


def test_the_scheduled_run_records_only_what_changed(demo_run: DemoRun) -> None:
    local, result = demo_run
    # analytics (retention raised by the runbook) and load-test (deleted): nothing else changed
    assert result.scheduled_recorded == 2
    (scheduled,) = [
        invocation
        for invocation in local.runner.invocations
        if json.loads(invocation.event["invokingEvent"])["messageType"] == "ScheduledNotification"
    ]
    assert scheduled.result == {"COMPLIANT": 1, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 1}


# -- least privilege by execution (tests/e2e/least_privilege.py) ------------------------------


def test_every_request_the_roles_made_is_allowed_by_the_templates_policies(
    demo_run: DemoRun, demo_assembly: Path
) -> None:
    # Given every request the rule's function and the runbook made, as IAM requests
    local, _ = demo_run
    requests, unmapped = recorded_requests(local)
    policies = role_policies(local, template_stack(local, demo_assembly))

    # When each is evaluated against its role's policies from the template
    verdict = evaluate(requests, policies, expect=ALLOWED)

    # Then all are allowed, with their resources and conditions
    assert unmapped == [], "\n".join(unmapped)
    assert verdict.failures == [], verdict.report()
    actions = {request.action for request, _ in verdict.rows}
    assert {"ec2:CreateFlowLogs", "iam:PassRole", "ec2:CreateTags", "logs:CreateLogGroup"} <= (
        actions
    )
    assert {"config:PutEvaluations", "config:GetComplianceDetailsByConfigRule"} <= actions
    FIGURES.append(
        f"IAM by execution: {len(verdict.rows)} IAM requests of {len(local.requests.by_roles())} "
        f"recorded calls by the stack's roles checked, {verdict.allowed} allowed, "
        f"{verdict.denied} denied"
    )


def test_what_the_roles_must_never_do_is_denied(demo_run: DemoRun, demo_assembly: Path) -> None:
    local, _ = demo_run
    policies = role_policies(local, template_stack(local, demo_assembly))
    forbidden = forbidden_calls(local)

    failures, rows = [], []
    for item, requests in zip(forbidden, mapped(local, [f.call for f in forbidden]), strict=True):
        verdict = evaluate(requests, policies, expect=IMPLICITLY_DENIED)
        rows += verdict.rows
        decisions = [
            decision for request, decision in verdict.rows if request.action == item.action
        ]
        if not decisions or ALLOWED in decisions:
            failures.append(f"{item.why}: {item.action} {decisions or 'not requested'}")

    assert failures == [], "\n".join([*failures, "", table(rows)])
    FIGURES.append(
        f"IAM by execution: {len(forbidden)} forbidden calls ({len(rows)} IAM requests, "
        f"{sum(1 for _, decision in rows if decision != ALLOWED)} denied): every call denied"
    )


def test_what_the_run_did_not_exercise_but_the_roles_need_is_allowed(
    demo_run: DemoRun, demo_assembly: Path
) -> None:
    local, _ = demo_run
    policies = role_policies(local, template_stack(local, demo_assembly))
    requests = [request for call in mapped(local, permitted_calls(local)) for request in call]

    verdict = evaluate(requests, policies, expect=ALLOWED)

    assert verdict.failures == [], verdict.report()


def test_a_statement_scoped_to_the_wrong_resource_fails_the_evaluation_naming_the_request(
    demo_run: DemoRun, demo_assembly: Path, tmp_path: Path
) -> None:
    # Given the template with the runbook's log-group statement scoped to other log groups
    local, _ = demo_run
    pseudo = local.stack.template.pseudo
    elsewhere = f"arn:aws:logs:{pseudo.region}:{pseudo.account_id}:log-group:/aws/other/*"
    edited = copy_with_resource(
        demo_assembly, tmp_path / "cdk.out", "ManageFlowLogGroups", elsewhere
    )
    requests, _ = recorded_requests(local)

    # When the same recorded requests are evaluated against it
    verdict = evaluate(
        requests, role_policies(local, template_stack(local, edited)), expect=ALLOWED
    )

    # Then the log-group requests are named as denied, with the table
    created = [f for f in verdict.failures if f.startswith("logs:CreateLogGroup on ")]
    assert created, verdict.report()
    assert "/aws/vpc-flow-logs/vpc-" in created[0]
    assert "ImplicitlyDenied" in created[0]
    assert "logs:CreateLogGroup" in verdict.report()
