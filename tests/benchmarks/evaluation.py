"""The rule's evaluations, measured: scheduled runs, the naive baseline, change notifications.

The rule runs through its real entry point, ``vpc_flow_logs_rule.handler.lambda_handler``, with
events shaped as AWS Config sends them (``tests/events`` via the rule tests' builders) and a
real result token, so PutEvaluations records (no TestMode) and the stale clean-up finds the
previous run's results, as in production.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

import boto3

from local_aws.moto_patches import issue_result_token
from tests.benchmarks.measure import Measurement, measure, peak_memory
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    ACCOUNT_ID,
    REGION,
    FakeLambdaContext,
    change_event,
    flow_log_event,
    scheduled_event,
)
from vpc_flow_logs_rule import handler, rule
from vpc_flow_logs_rule.aws_api import AwsApi
from vpc_flow_logs_rule.model import VPC_RESOURCE_TYPE, Evaluation, RecordedResult
from vpc_flow_logs_rule.notifications import ChangedResource
from vpc_flow_logs_rule.parameters import parse_parameters

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from vpc_flow_logs_rule.forwarding import SubscriptionFilterPolicy
    from vpc_flow_logs_rule.model import FlowLog, LogGroup, Vpc

NAIVE_RULE_NAME: Final = "naive-vpc-flow-logs-baseline"
FORWARDING_RULE_NAME: Final = "central-destination-configured"
CENTRAL_DESTINATION: Final = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:destination:central-archive"
FORWARDING_POLICY: Final = "VpcFlowLogsGuardCentralArchive"
EVERY_VPC_RULE_NAME: Final = "record-every-vpc-baseline"
_FIRST_NOTIFICATION: Final = datetime(2026, 11, 22, 6, 0, 0, 512000, tzinfo=UTC)


class BenchmarkError(RuntimeError):
    """A measured run did not do what it must (wrong results, counters that disagree)."""


class Clock:
    """Notification times one hour apart, so each scheduled run is newer than the last."""

    def __init__(self) -> None:
        self._next = _FIRST_NOTIFICATION

    def tick(self) -> datetime:
        now, self._next = self._next, self._next + timedelta(hours=1)
        return now


def config_time(moment: datetime) -> str:
    """``2026-11-22T06:00:00.512Z``, as Config writes ``notificationCreationTime``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Rule:
    """The rule's Lambda, invoked in process through boto3's default session (the product's)."""

    def __init__(self) -> None:
        boto3.setup_default_session(region_name=REGION)
        if boto3.DEFAULT_SESSION is None:  # pragma: no cover - set just above
            raise BenchmarkError("no default boto3 session")
        self.session: boto3.session.Session = boto3.DEFAULT_SESSION
        self.clock = Clock()
        self._log = io.StringIO()
        handler.logger.registered_handler.stream = self._log  # type: ignore[attr-defined]

    def invoke(self, event: dict[str, Any]) -> dict[str, int]:
        return handler.lambda_handler(event, cast("LambdaContext", FakeLambdaContext()))

    def _scheduled_event(self) -> dict[str, Any]:
        return scheduled_event(notification_time=config_time(self.clock.tick()))

    def scheduled(self) -> dict[str, int]:
        return self.invoke(self._scheduled_event())

    def measured_scheduled(self, expected: Mapping[str, int]) -> Measurement:
        """One scheduled run, counted and timed; checks the results and the rule's counters."""
        event = self._scheduled_event()
        counts, measurement = measure(self.session, lambda: self.invoke(event))
        if counts != expected:
            raise BenchmarkError(f"scheduled run reported {counts}, the account holds {expected}")
        self._check_own_counters(measurement)
        return measurement

    def scheduled_peak_memory(self) -> int:
        event = self._scheduled_event()
        return peak_memory(lambda: self.invoke(event))

    def change(self, vpc_id: str) -> Measurement:
        event = change_event(vpc_id)
        _, measurement = measure(self.session, lambda: self.invoke(event))
        return measurement

    def flow_log_change(
        self, flow_log_id: str, *, vpc_id: str | None, status: str, expected: Mapping[str, int]
    ) -> Measurement:
        """A flow log's change notification: it must report ``expected`` for its VPC."""
        event = flow_log_event(flow_log_id, vpc_id=vpc_id, status=status)
        counts, measurement = measure(self.session, lambda: self.invoke(event))
        if {kind: n for kind, n in counts.items() if n} != dict(expected):
            raise BenchmarkError(f"flow log {status} notification reported {counts}")
        self._check_own_counters(measurement)
        return measurement

    def _check_own_counters(self, measurement: Measurement) -> None:
        """The rule logs the calls it counted; they must agree with the hook's count."""
        lines = [line for line in self._log.getvalue().splitlines() if '"aws_calls"' in line]
        own = json.loads(lines[-1])["aws_calls"]
        hooked = {op.partition(":")[2]: count for op, count in measurement.calls.items()}
        if own != hooked:
            raise BenchmarkError(f"the rule counted {own}, the botocore hook {hooked}")
        self._log.seek(0)
        self._log.truncate()


def naive_scheduled_run(
    api: AwsApi, *, rule_parameters: str, result_token: str, ordering_timestamp: datetime
) -> list[Evaluation]:
    """How simple public rules evaluate every VPC: one VPC at a time.

    Per VPC: DescribeFlowLogs filtered by its id, DescribeLogGroups for the groups it delivers
    to (when it has any), then PutEvaluations with that one evaluation. Each VPC goes through
    the rule's own per-VPC path (``rule.evaluate_change``: same decisions, same AWS module), so
    only the access pattern differs from a scheduled run.
    """
    parameters = parse_parameters(rule_parameters)
    evaluations: list[Evaluation] = []
    for vpc in api.describe_vpcs():
        resource = ChangedResource(
            VPC_RESOURCE_TYPE, vpc.vpc_id, "OK", ordering_timestamp, vpc.tags, left_scope=False
        )
        evaluation = rule.evaluate_change(api, parameters, resource, account_id=ACCOUNT_ID)
        api.put_evaluations(evaluation, result_token)
        evaluations.extend(evaluation)
    return evaluations


@dataclass(frozen=True)
class NaiveResult:
    measurement: Measurement
    peak_bytes: int | None


def measured_naive(
    target: Rule, recorded: Mapping[str, tuple[str, str | None]], *, with_memory: bool
) -> NaiveResult:
    """The naive baseline on the rule's account; it must reach the rule's exact results."""
    parameters = scheduled_event()["ruleParameters"]
    token = issue_result_token(NAIVE_RULE_NAME)

    def run() -> list[Evaluation]:
        return naive_scheduled_run(
            AwsApi(),
            rule_parameters=parameters,
            result_token=token,
            ordering_timestamp=target.clock.tick(),
        )

    evaluations, measurement = measure(target.session, run)
    naive = {e.resource_id: (e.compliance_type.value, e.annotation) for e in evaluations}
    if naive != dict(recorded):
        differing = sorted(
            k for k in naive.keys() | recorded.keys() if naive.get(k) != recorded.get(k)
        )
        raise BenchmarkError(f"naive baseline and rule disagree on {differing[:5]}")
    return NaiveResult(measurement, peak_memory(run) if with_memory else None)


def measured_with_forwarding(target: Rule, expected: Mapping[str, int]) -> Measurement:
    """A steady scheduled run with ``CentralLogDestinationArn``, under a rule of its own.

    The account gets an account-level subscription filter policy to the destination that
    selects every log group, so the verdicts are the plain rule's; the first run records them,
    the second (nothing changed) is measured. The policy is removed afterwards.
    """
    logs = target.session.client("logs")
    logs.put_destination(
        destinationName=CENTRAL_DESTINATION.rsplit(":", 1)[1],
        targetArn=f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/central-archive",
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/central-archive",
    )
    logs.put_account_policy(
        policyName=FORWARDING_POLICY,
        policyType="SUBSCRIPTION_FILTER_POLICY",
        policyDocument=json.dumps({"DestinationArn": CENTRAL_DESTINATION}),
    )
    token = issue_result_token(FORWARDING_RULE_NAME)

    def event() -> dict[str, Any]:
        parameters = json.loads(scheduled_event()["ruleParameters"])
        parameters["CentralLogDestinationArn"] = CENTRAL_DESTINATION
        built = scheduled_event(
            notification_time=config_time(target.clock.tick()),
            parameters=parameters,
            token=token,
        )
        built["configRuleName"] = FORWARDING_RULE_NAME
        return built

    try:
        target.invoke(event())
        steady = event()
        counts, measurement = measure(target.session, lambda: target.invoke(steady))
    finally:
        logs.delete_account_policy(
            policyName=FORWARDING_POLICY, policyType="SUBSCRIPTION_FILTER_POLICY"
        )
    if counts != expected:
        raise BenchmarkError(f"run with the central destination reported {counts}")
    return measurement


class RecordEveryVpc:
    """The rule's look-ups, except that no recorded result ever matches: every VPC is recorded
    on every run, as a rule that does not compare with the results Config already holds would,
    and as periodic rules such as the managed one do."""

    def __init__(self, api: AwsApi) -> None:
        self._api = api

    @property
    def region(self) -> str:
        return self._api.region

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        return self._api.describe_vpcs(vpc_id)

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        return self._api.describe_flow_logs(vpc_id)

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        return self._api.describe_log_groups(names)

    def recorded_vpc_results(self, rule_name: str) -> dict[str, RecordedResult]:
        recorded = self._api.recorded_vpc_results(rule_name)
        return {vpc_id: RecordedResult("", None) for vpc_id in recorded}

    def flow_log_owner(self, flow_log_id: str) -> str | None:
        return self._api.flow_log_owner(flow_log_id)

    def subscription_filter_policies(self) -> list[SubscriptionFilterPolicy]:
        return self._api.subscription_filter_policies()


@dataclass(frozen=True)
class EveryVpcResult:
    measurement: Measurement
    recorded: int


def measured_record_every_vpc(target: Rule) -> EveryVpcResult:
    """A scheduled run that records every VPC, on the rule's account, under a rule of its own;
    the second run is measured, as the rule's."""
    parameters = parse_parameters(scheduled_event()["ruleParameters"])
    token = issue_result_token(EVERY_VPC_RULE_NAME)

    def run() -> list[Evaluation]:
        api = AwsApi()
        evaluations = rule.evaluate_scheduled(
            RecordEveryVpc(api),
            parameters,
            rule_name=EVERY_VPC_RULE_NAME,
            account_id=ACCOUNT_ID,
            ordering_timestamp=target.clock.tick(),
        )
        api.put_evaluations(evaluations, token)
        return evaluations

    run()
    evaluations, measurement = measure(target.session, run)
    return EveryVpcResult(measurement, len(evaluations))
