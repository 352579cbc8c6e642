"""The dashboard shows counts, one row per VPC with annotations and remediation, and a verdict."""

from __future__ import annotations

import datetime as dt

from local_aws.automation import AutomationExecution, StepExecution
from local_aws.config_service import Evaluation, Remediation
from local_aws.dashboard import render
from local_aws.scenario import (
    COMPLIANT,
    EXPECTED_DRIFT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    ScenarioResult,
    Step,
    VpcCase,
    VpcResult,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def evaluation(vpc_id: str, compliance: str, annotation: str) -> Evaluation:
    return Evaluation(vpc_id, "AWS::EC2::VPC", compliance, annotation, NOW)


def execution(
    status: str,
    outputs: dict[str, object],
    failure: str | None = None,
    steps: tuple[tuple[str, str], ...] = (),
) -> AutomationExecution:
    return AutomationExecution(
        execution_id="e",
        document_name="Runbook",
        parameters={},
        assume_role="arn:aws:iam::1:role/a",
        status=status,
        steps=[
            StepExecution(name, "aws:executeScript", step_status) for name, step_status in steps
        ],
        outputs=dict(outputs),
        failure_message=failure,
        duration_seconds=0.5,
    )


def result(*, fixed: bool) -> ScenarioResult:
    fixed_case = VpcCase("payments", "no-flow-log", "new VPC", NON_COMPLIANT, COMPLIANT)
    gone_case = VpcCase(
        "load-test",
        "no-flow-log",
        "deleted",
        NON_COMPLIANT,
        NOT_APPLICABLE,
        expected_notified=NON_COMPLIANT,
    )
    remediation = Remediation("vpc-1", {"VpcId": ["vpc-1"]})
    remediation.executions.append(
        execution(
            "Success",
            {
                "Verify.FlowLogId": "fl-1",
                "Verify.LogGroupName": "/aws/vpc-flow-logs/vpc-1",
            },
        )
    )
    failed = Remediation("vpc-2", {"VpcId": ["vpc-2"]})
    failed.executions += [
        execution(
            "Failed",
            {},
            "Step fails when it is executing step CheckInput: VPC vpc-2 does not exist\nTrace",
            steps=(("CheckInput", "Failed"),),
        )
    ] * 2
    rows = [
        VpcResult(
            fixed_case,
            "vpc-1",
            before=evaluation("vpc-1", NON_COMPLIANT, "no flow log covers REJECT traffic"),
            after=evaluation("vpc-1", COMPLIANT if fixed else NON_COMPLIANT, "covered by fl-1"),
            notified=evaluation("vpc-1", COMPLIANT, "covered by fl-1"),
            remediation=remediation,
            retention_after={"/aws/vpc-flow-logs/vpc-1": 365},
        ),
        VpcResult(
            gone_case,
            "vpc-2",
            before=evaluation("vpc-2", NON_COMPLIANT, "no flow log covers REJECT traffic"),
            after=evaluation("vpc-2", NOT_APPLICABLE, "VPC no longer exists"),
            notified=evaluation("vpc-2", NON_COMPLIANT, "no flow log covers REJECT traffic"),
            remediation=failed,
        ),
    ]
    return ScenarioResult(
        rows=rows,
        timings={"synth": 10.0, "deploy": 2.0, "total": 30.0},
        lambda_invocations=3,
        lambda_seconds=3.0,
        automation_executions=3,
        lambda_python="3.13",
        rule_parameters={"TrafficType": "REJECT"},
        remediation_settings={"automatic": True},
        steps=[
            Step("new flow logs notify the rule", 1, 1.5, "1 COMPLIANT, 1 NON_COMPLIANT"),
            Step("someone deletes a flow log", 1, 0.8, "fl-1 of payments: NON_COMPLIANT"),
        ],
        drift=EXPECTED_DRIFT if fixed else (COMPLIANT, COMPLIANT, COMPLIANT),
        scheduled_recorded=1,
    )


def test_shows_counts_rows_remediation_and_timings() -> None:
    text = render(result(fixed=True), rule_name="vpc-flow-logs-enabled", region="us-east-1")
    flat = " ".join(text.split())  # annotations wrap

    assert "Rules  >  vpc-flow-logs-enabled" in text
    assert " COMPLIANT                0       1" in text
    assert " NON_COMPLIANT            2       0" in text
    assert " NOT_APPLICABLE           0       1" in text
    assert "no flow log covers REJECT traffic" in text
    assert "FlowLogId fl-1, LogGroupName /aws/vpc-flow-logs/vpc-1 (retention 365 days)" in flat
    assert "FAILED at step CheckInput (2 attempts, 1.0 s): VPC vpc-2 does not exist" in flat
    assert "Trace" not in text
    assert "synth 10.0 s" in flat
    assert "total 30.0 s" in flat
    assert "3 Lambda invocations (Python 3.13" in flat
    assert "RESULT: every VPC ended as expected (1 COMPLIANT, 1 NOT_APPLICABLE)." in flat
    assert "new flow logs notify the rule 1 1.5 1 COMPLIANT, 1 NON_COMPLIANT" in flat
    assert "someone deletes a flow log 1 0.8 fl-1 of payments: NON_COMPLIANT" in flat
    assert "Drift: COMPLIANT -> NON_COMPLIANT -> COMPLIANT ok" in flat


def test_a_drift_loop_that_did_not_come_back_fails_the_run() -> None:
    broken = result(fixed=True)
    broken.drift = (COMPLIANT, COMPLIANT, COMPLIANT)

    flat = " ".join(render(broken, rule_name="r", region="us-east-1").split())

    assert broken.failed
    assert "FAILED: the deleted flow log's loop went COMPLIANT -> COMPLIANT -> COMPLIANT" in flat


def test_names_the_vpcs_that_did_not_end_as_expected() -> None:
    text = render(result(fixed=False), rule_name="r", region="us-east-1")
    flat = " ".join(text.split())

    assert "UNEXPECTED" in text
    assert "FAILED: payments (NON_COMPLIANT -> NON_COMPLIANT, expected NON_COMPLIANT ->" in flat
