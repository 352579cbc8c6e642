"""The demo account and the loop Config runs on it, as a user lives it.

The account is small and realistic: the default VPC nobody touched, a new VPC without a flow
log, one whose flow log keeps a week of logs, one that logs only ACCEPTed traffic, one already
compliant, one exempted by tag, and one deleted after its first evaluation (its deletion never
reaches the rule, e.g. recording was paused, so only the scheduled run can clear it).

The loop: Config discovers the VPCs and flow logs and notifies the rule; remediation gives the
non-compliant VPCs flow logs, and the flow logs' own notifications turn them COMPLIANT, with no
scheduled run. Then someone deletes one of those flow logs: its deletion notification turns the
VPC NON_COMPLIANT, remediation restores it, and the new flow log's notification turns it
COMPLIANT again. Last, the scheduled run sees what no notification tells: the raised retention
of an existing log group and the VPC deleted while recording was paused.

The exemption comes from the app's settings: ``cdk.json`` exempts nothing, so the demo
synthesizes with ``-c exemptTag=FlowLogsExempt=true`` (:data:`DEMO_CONTEXT`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from local_aws.app_model import GuardStack
    from local_aws.clients import Aws
    from local_aws.config_service import Evaluation, Remediation
    from local_aws.run import LocalDeployment

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"
COMPLIANCE_ORDER = (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE)

EXEMPT_TAG_KEY = "FlowLogsExempt"
EXEMPT_TAG = f"{EXEMPT_TAG_KEY}=true"
DEMO_CONTEXT = {"exemptTag": EXEMPT_TAG}
"""``cdk synth -c`` overrides the demo needs on top of ``cdk.json``."""

LEGACY_DELIVERY_ROLE = "legacy-flow-logs-delivery"
FLOW_LOG_PREFIX = "/aws/vpc-flow-logs/"


class ScenarioError(Exception):
    """The assembly cannot play the scenario (e.g. synthesized without the demo's settings)."""


@dataclass(frozen=True)
class VpcCase:
    """One VPC of the demo account: how it starts and what Config must say about it."""

    name: str
    setup: str
    story: str
    expected_before: str
    expected_after: str
    delete_after_first_evaluation: bool = False
    expected_notified: str | None = None
    """After remediation and the flow logs' notifications, before any scheduled run (default:
    ``expected_after``)."""

    @property
    def expected_after_notifications(self) -> str:
        return self.expected_notified or self.expected_after


DEMO_CASES: tuple[VpcCase, ...] = (
    VpcCase("default", "default", "the account's default VPC, never given a flow log",
            NON_COMPLIANT, COMPLIANT),
    VpcCase("payments", "no-flow-log", "new VPC, nobody added a flow log",
            NON_COMPLIANT, COMPLIANT),
    VpcCase("analytics", "short-retention", "ALL traffic to its log group, kept 7 days",
            NON_COMPLIANT, COMPLIANT, expected_notified=NON_COMPLIANT),
    VpcCase("partner-link", "accept-only", "ACCEPT-only flow log to a 400-day log group",
            NON_COMPLIANT, COMPLIANT),
    VpcCase("core-network", "compliant", "ALL traffic to a log group that never expires",
            COMPLIANT, COMPLIANT),
    VpcCase("sandbox", "exempt", f"tagged {EXEMPT_TAG}, no flow log",
            NOT_APPLICABLE, NOT_APPLICABLE),
    VpcCase("load-test", "no-flow-log", "no flow log; deleted after its first evaluation",
            NON_COMPLIANT, NOT_APPLICABLE, delete_after_first_evaluation=True,
            expected_notified=NON_COMPLIANT),
)  # fmt: skip
DRIFT_CASE = "payments"
"""The VPC whose runbook-made flow log someone deletes."""
EXPECTED_DRIFT = (COMPLIANT, NON_COMPLIANT, COMPLIANT)
"""Its compliance before the deletion, after the deletion's notification, after remediation."""


@dataclass(frozen=True)
class Step:
    """One step of the loop, as the dashboard lists it."""

    name: str
    notifications: int
    seconds: float
    outcome: str


@dataclass
class VpcResult:
    """One VPC's row on the dashboard."""

    case: VpcCase
    vpc_id: str
    before: Evaluation | None = None
    after: Evaluation | None = None
    remediation: Remediation | None = None
    retention_after: dict[str, int | None] = field(default_factory=dict)
    notified: Evaluation | None = None
    """After remediation and the flow logs' notifications, before any scheduled run."""
    restored: Remediation | None = None
    """The remediation after someone deleted its flow log (the drift VPC only)."""

    @property
    def before_type(self) -> str:
        return self.before.compliance_type if self.before else "NO_EVALUATION"

    @property
    def notified_type(self) -> str:
        return self.notified.compliance_type if self.notified else "NO_EVALUATION"

    @property
    def last_remediation(self) -> Remediation | None:
        return self.restored or self.remediation

    @property
    def after_type(self) -> str:
        return self.after.compliance_type if self.after else "NO_EVALUATION"

    @property
    def as_expected(self) -> bool:
        return (self.before_type, self.notified_type, self.after_type) == (
            self.case.expected_before,
            self.case.expected_after_notifications,
            self.case.expected_after,
        )


@dataclass
class ScenarioResult:
    """Everything the dashboard shows and the end-to-end test asserts."""

    rows: list[VpcResult]
    timings: dict[str, float]
    lambda_invocations: int
    lambda_seconds: float
    automation_executions: int
    lambda_python: str
    rule_parameters: dict[str, Any]
    remediation_settings: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    drift: tuple[str, ...] = ()
    """The drift VPC's compliance through its loop (see :data:`EXPECTED_DRIFT`)."""
    scheduled_recorded: int | None = None
    """Evaluations the scheduled run recorded (it records only what changed)."""

    def counts(self, when: str) -> Counter[str]:
        return Counter(
            row.before_type if when == "before" else row.after_type
            for row in self.rows
            if (row.before if when == "before" else row.after) is not None
        )

    @property
    def unexpected(self) -> list[VpcResult]:
        """Rows whose evaluations differ from the expected ones (the demo fails on any)."""
        return [row for row in self.rows if not row.as_expected]

    @property
    def drift_as_expected(self) -> bool:
        return self.drift == EXPECTED_DRIFT

    @property
    def failed(self) -> bool:
        return bool(self.unexpected) or not self.drift_as_expected

    @property
    def not_compliant_but_should_be(self) -> list[VpcResult]:
        return [
            row
            for row in self.rows
            if row.case.expected_after == COMPLIANT and row.after_type != COMPLIANT
        ]


def check_settings(stack: GuardStack, cases: Sequence[VpcCase] = DEMO_CASES) -> None:
    """Fail when the stack was not synthesized with the settings the cases need."""
    exempt_tag = stack.rule.input_parameters.get("ExemptTag")
    if any(case.setup == "exempt" for case in cases) and exempt_tag != EXEMPT_TAG:
        raise ScenarioError(
            f"the rule's ExemptTag is {exempt_tag!r}, the demo needs {EXEMPT_TAG!r}: synthesize "
            + " ".join(f"-c {key}={value}" for key, value in DEMO_CONTEXT.items())
        )


# -- the account ------------------------------------------------------------------------------


def build_account(admin: Aws, cases: Sequence[VpcCase]) -> dict[str, str]:
    """Create the cases' VPCs (and their flow logs) as their owners did; return name -> VPC id."""
    ec2 = admin.ec2()
    setups: dict[str, Callable[[Aws, str], None]] = {
        "default": _nothing,
        "no-flow-log": _nothing,
        "exempt": _tag_exempt,
        "short-retention": _short_retention,
        "accept-only": _accept_only,
        "compliant": _compliant,
    }
    if any(case.setup in {"short-retention", "accept-only", "compliant"} for case in cases):
        _legacy_delivery_role(admin)
    ids = {}
    for index, case in enumerate(cases):
        if case.setup not in setups:
            raise ValueError(f"unknown VPC setup {case.setup!r}; known: {', '.join(setups)}")
        if case.setup == "default":
            vpc_id = _default_vpc(admin)
        else:
            vpc_id = ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": case.name}])
        setups[case.setup](admin, vpc_id)
        ids[case.name] = vpc_id
    return ids


def _nothing(admin: Aws, vpc_id: str) -> None:
    del admin, vpc_id


def _default_vpc(admin: Aws) -> str:
    vpcs = admin.ec2().describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        return admin.ec2().create_default_vpc()["Vpc"]["VpcId"]
    return vpcs[0]["VpcId"]


def _tag_exempt(admin: Aws, vpc_id: str) -> None:
    key, _, value = EXEMPT_TAG.partition("=")
    admin.ec2().create_tags(Resources=[vpc_id], Tags=[{"Key": key, "Value": value}])


def _legacy_delivery_role(admin: Aws) -> None:
    """The role a team created by hand, long ago, for its flow logs."""
    admin.iam().create_role(
        RoleName=LEGACY_DELIVERY_ROLE,
        AssumeRolePolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
            '"sts:AssumeRole", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}]}'
        ),
    )


def _flow_log(admin: Aws, vpc_id: str, traffic: str, log_group: str, retention: int | None) -> None:
    logs = admin.logs()
    logs.create_log_group(logGroupName=log_group)
    if retention is not None:
        logs.put_retention_policy(logGroupName=log_group, retentionInDays=retention)
    role_arn = admin.iam().get_role(RoleName=LEGACY_DELIVERY_ROLE)["Role"]["Arn"]
    admin.ec2().create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType=traffic,  # type: ignore[arg-type]
        LogDestinationType="cloud-watch-logs",
        LogGroupName=log_group,
        DeliverLogsPermissionArn=role_arn,
    )


def _short_retention(admin: Aws, vpc_id: str) -> None:
    _flow_log(admin, vpc_id, "ALL", f"{FLOW_LOG_PREFIX}{vpc_id}", 7)


def _accept_only(admin: Aws, vpc_id: str) -> None:
    _flow_log(admin, vpc_id, "ACCEPT", f"partner-link-accepted-{vpc_id}", 400)


def _compliant(admin: Aws, vpc_id: str) -> None:
    _flow_log(admin, vpc_id, "ALL", f"{FLOW_LOG_PREFIX}{vpc_id}", None)


# -- the loop ---------------------------------------------------------------------------------


def run_scenario(local: LocalDeployment, cases: Sequence[VpcCase] = DEMO_CASES) -> ScenarioResult:
    """Build the account, then play Config through the loop (see the module's docstring)."""
    check_settings(local.stack, cases)
    timings = dict(local.timings)
    steps: list[Step] = []
    clock = time.monotonic()
    ids = build_account(local.admin, cases)
    rows = [VpcResult(case, ids[case.name]) for case in cases]
    timings["account"] = _lap(clock)

    clock = time.monotonic()
    for row in rows:  # Config records each VPC and flow log, and notifies the rule
        local.config.notify_change(row.vpc_id, "ResourceDiscovered")
    discovered = len(rows) + len(local.config.notify_recorded_changes())
    before = local.config.evaluations()
    for row in rows:
        row.before = before.get(row.vpc_id)
    timings["evaluate"] = _lap(clock)
    steps.append(Step("discover VPCs and flow logs", discovered, timings["evaluate"],
                      _tally(row.before_type for row in rows)))  # fmt: skip

    for row in rows:
        if row.case.delete_after_first_evaluation:
            local.admin.ec2().delete_vpc(VpcId=row.vpc_id)

    clock = time.monotonic()
    remediation = local.stack.remediation
    targets = [row for row in rows if row.before_type == NON_COMPLIANT]
    if remediation is not None and remediation.automatic and targets:
        done = local.config.remediate(row.vpc_id for row in targets)
        for row, outcome in zip(targets, done, strict=True):
            row.remediation = outcome
            row.retention_after = _retention_of(local.admin, outcome)
    timings["remediate"] = _lap(clock)
    fixed = sum(1 for row in targets if row.remediation and row.remediation.succeeded)
    steps.append(Step("remediate NON_COMPLIANT VPCs", 0, timings["remediate"],
                      f"{fixed} of {len(targets)} runbook executions succeeded"))  # fmt: skip

    clock = time.monotonic()
    notified = len(local.config.notify_recorded_changes())  # the new flow logs' notifications
    current = local.config.evaluations()
    for row in rows:
        row.notified = current.get(row.vpc_id)
    timings["flow-log notifications"] = _lap(clock)
    steps.append(Step("new flow logs notify the rule", notified,
                      timings["flow-log notifications"],
                      _tally(row.notified_type for row in rows)))  # fmt: skip

    drift = _drift(local, rows, steps, timings)

    clock = time.monotonic()
    scheduled = local.config.notify_scheduled()  # what only it sees: retention, the deleted VPC
    after = local.config.evaluations()
    for row in rows:
        row.after = after.get(row.vpc_id)
    timings["scheduled run"] = _lap(clock)
    recorded = sum(dict(scheduled.result).values()) if isinstance(scheduled.result, dict) else None
    steps.append(Step("scheduled run", 1, timings["scheduled run"],
                      f"{recorded} evaluations recorded (changes only); "
                      + _tally(row.after_type for row in rows)))  # fmt: skip

    runner = local.runner
    return ScenarioResult(
        rows=rows,
        timings=timings,
        lambda_invocations=len(runner.invocations),
        lambda_seconds=sum(invocation.duration_seconds for invocation in runner.invocations),
        automation_executions=len(local.automation.executions),
        lambda_python=(
            f"{runner.interpreter.version}"
            + ("" if runner.interpreter.exact else f" (no {runner.function.runtime} here)")
        ),
        rule_parameters=dict(local.stack.rule.input_parameters),
        remediation_settings=_remediation_settings(local),
        steps=steps,
        drift=drift,
        scheduled_recorded=recorded,
    )


def _drift(
    local: LocalDeployment, rows: Sequence[VpcResult], steps: list[Step], timings: dict[str, float]
) -> tuple[str, ...]:
    """Someone deletes the drift VPC's flow log; notifications and remediation bring it back."""
    row = next((row for row in rows if row.case.name == DRIFT_CASE), None)
    if row is None or row.remediation is None or not row.remediation.succeeded:
        return ()
    states = [row.notified_type]
    flow_log_id = row.remediation.executions[-1].outputs.get("Verify.FlowLogId")

    clock = time.monotonic()
    local.admin.ec2().delete_flow_logs(FlowLogIds=[str(flow_log_id)])
    notified = len(local.config.notify_recorded_changes())
    states.append(_compliance(local, row.vpc_id))
    timings["flow log deleted"] = _lap(clock)
    steps.append(Step("someone deletes a flow log", notified, timings["flow log deleted"],
                      f"{flow_log_id} of {row.case.name}: {states[-1]}"))  # fmt: skip

    clock = time.monotonic()
    (row.restored,) = local.config.remediate([row.vpc_id])
    notified = len(local.config.notify_recorded_changes())
    states.append(_compliance(local, row.vpc_id))
    timings["restored"] = _lap(clock)
    steps.append(Step("remediation restores it", notified, timings["restored"],
                      f"{row.case.name}: {states[-1]}"))  # fmt: skip
    return tuple(states)


def _compliance(local: LocalDeployment, vpc_id: str) -> str:
    evaluation = local.config.evaluations().get(vpc_id)
    return evaluation.compliance_type if evaluation else "NO_EVALUATION"


def _tally(types: Iterable[str]) -> str:
    counts = Counter(types)
    return ", ".join(f"{counts[kind]} {kind}" for kind in COMPLIANCE_ORDER if counts[kind])


def _retention_of(admin: Aws, remediation: Remediation) -> dict[str, int | None]:
    if not remediation.succeeded:
        return {}
    outputs = remediation.executions[-1].outputs
    retention: dict[str, int | None] = {}
    for key, value in outputs.items():
        if key.endswith(".LogGroupName") and isinstance(value, str):
            groups = admin.logs().describe_log_groups(logGroupNamePrefix=value)["logGroups"]
            for group in groups:
                if group.get("logGroupName") == value:
                    retention[value] = group.get("retentionInDays")
    return retention


def _remediation_settings(local: LocalDeployment) -> dict[str, Any]:
    spec = local.stack.remediation
    if spec is None:
        return {}
    return {
        "document": spec.document_name,
        "automatic": spec.automatic,
        "maximum attempts": spec.maximum_automatic_attempts,
        "retry seconds": spec.retry_attempt_seconds,
        "error %": spec.error_percentage,
    }


def _lap(started: float) -> float:
    return time.monotonic() - started
