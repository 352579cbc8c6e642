"""Small builders for the rule's tests: Config events (from tests/events), flow-log records, a
Lambda context, a call counter, an account policy forwarding to a destination, and in-memory
lookups (``FakeLookups``) for the pure rule. The moto account (``World``) comes from
``tests.support.accounts``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from local_aws.moto_patches import issue_result_token
from tests.support.accounts import ACCOUNT_ID, DELIVERY_ROLE, REGION, RULE_NAME, World
from vpc_flow_logs_rule.model import FlowLog, LogGroup

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from vpc_flow_logs_rule.forwarding import SubscriptionFilterPolicy
    from vpc_flow_logs_rule.model import RecordedResult, Vpc

__all__ = [  # the account's names, for the tests that import them from here
    "ABSENT",
    "ACCOUNT_ID",
    "DELIVERY_ROLE",
    "EVENTS",
    "LOCAL_DESTINATION",
    "REGION",
    "RULE_NAME",
    "VPC_ID",
    "CallCounter",
    "FakeLambdaContext",
    "FakeLookups",
    "World",
    "change_event",
    "flow_log",
    "flow_log_event",
    "load_event",
    "oversized_event",
    "put_forwarding_policy",
    "scheduled_event",
]

EVENTS = Path(__file__).resolve().parents[3] / "events"
ABSENT = object()  # leave a key out of the event altogether
VPC_ID = "vpc-0a1b2c3d4e5f60718"


def flow_log(
    flow_log_id: str = "fl-1",
    traffic_type: str = "REJECT",
    *,
    vpc_id: str = VPC_ID,
    log_group: str | None = "/aws/vpc-flow-logs/a",
    **changes: object,
) -> FlowLog:
    """An active flow log of ``vpc_id`` to a CloudWatch Logs group, delivering; ``changes``
    replace any other field (e.g. an S3 destination)."""
    base = FlowLog(
        flow_log_id=flow_log_id,
        resource_id=vpc_id,
        traffic_type=traffic_type,
        flow_log_status="ACTIVE",
        deliver_logs_status="SUCCESS",
        deliver_logs_error_message=None,
        destination_type="cloud-watch-logs",
        log_group_name=log_group,
        log_destination=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _finish(
    event: dict[str, Any],
    invoking: dict[str, Any],
    *,
    parameters: dict[str, Any] | str | object | None,
    token: str | None,
    left_scope: bool | None = None,
) -> dict[str, Any]:
    event["invokingEvent"] = json.dumps(invoking)
    if parameters is ABSENT:
        del event["ruleParameters"]
    elif isinstance(parameters, str):
        event["ruleParameters"] = parameters
    elif isinstance(parameters, dict):
        event["ruleParameters"] = json.dumps(parameters)
    event["resultToken"] = token if token is not None else issue_result_token(RULE_NAME)
    if left_scope is not None:
        event["eventLeftScope"] = left_scope
    return event


def change_event(
    vpc_id: str,
    *,
    status: str = "OK",
    tags: dict[str, str] | None = None,
    capture_time: str | None = None,
    resource_type: str = "AWS::EC2::VPC",
    left_scope: bool = False,
    parameters: dict[str, Any] | str | object | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A ConfigurationItemChangeNotification for ``vpc_id`` (tests/events/awsConfigRuleVpc*.json).

    ``parameters`` None keeps the event's, ABSENT drops the key; ``token`` None issues a real one.
    """
    deleted = status in ("ResourceDeleted", "ResourceDeletedNotRecorded")
    event = load_event(
        "awsConfigRuleVpcDeleted.json" if deleted else "awsConfigRuleVpcChanged.json"
    )
    invoking = json.loads(event["invokingEvent"])
    item = invoking["configurationItem"]
    item.update(resourceId=vpc_id, resourceType=resource_type, configurationItemStatus=status)
    item["ARN"] = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/{vpc_id}"
    if item["configuration"] is not None:
        item["configuration"]["vpcId"] = vpc_id
    if tags is not None:
        item["tags"] = dict(tags)
        if item["configuration"] is not None:
            item["configuration"]["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    if capture_time is not None:
        item["configurationItemCaptureTime"] = capture_time
    return _finish(event, invoking, parameters=parameters, token=token, left_scope=left_scope)


def oversized_event(
    vpc_id: str,
    *,
    status: str = "OK",
    capture_time: str | None = None,
    parameters: dict[str, Any] | str | object | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    event = load_event("awsConfigRuleVpcOversized.json")
    invoking = json.loads(event["invokingEvent"])
    summary = invoking["configurationItemSummary"]
    summary.update(resourceId=vpc_id, configurationItemStatus=status)
    summary["ARN"] = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/{vpc_id}"
    if capture_time is not None:
        summary["configurationItemCaptureTime"] = capture_time
    return _finish(event, invoking, parameters=parameters, token=token)


def flow_log_event(
    flow_log_id: str,
    *,
    vpc_id: str | None = None,
    status: str = "ResourceDiscovered",
    oversized: bool = False,
    parameters: dict[str, Any] | str | object | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A change notification for a flow log (tests/events/awsConfigRuleFlowLog*.json).

    ``vpc_id`` goes into the configuration, or for a deleted item (which has none) into the
    diff's previous configuration; a deleted one without ``vpc_id`` has no diff to read.
    ``oversized`` sends the summary only, as OversizedConfigurationItemChangeNotification does.
    """
    deleted = status in ("ResourceDeleted", "ResourceDeletedNotRecorded")
    event = load_event(
        "awsConfigRuleFlowLogDeleted.json" if deleted else "awsConfigRuleFlowLogCreated.json"
    )
    invoking = json.loads(event["invokingEvent"])
    item = invoking["configurationItem"]
    item.update(resourceId=flow_log_id, configurationItemStatus=status)
    item["ARN"] = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc-flow-log/{flow_log_id}"
    if item["configuration"] is not None:
        item["configuration"].update(flowLogId=flow_log_id, resourceId=vpc_id)
    changed = invoking["configurationItemDiff"]["changedProperties"]
    if deleted and vpc_id is None:
        changed.clear()
    elif deleted:
        changed["Configuration"]["previousValue"].update(flowLogId=flow_log_id, resourceId=vpc_id)
    if oversized:
        summary = {key: value for key, value in item.items() if key != "configuration"}
        invoking = {
            "configurationItemSummary": summary,
            "messageType": "OversizedConfigurationItemChangeNotification",
            "notificationCreationTime": invoking["notificationCreationTime"],
            "recordVersion": "1.0",
        }
    return _finish(event, invoking, parameters=parameters, token=token)


def scheduled_event(
    *,
    notification_time: str | None = None,
    parameters: dict[str, Any] | str | object | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    event = load_event("awsConfigRuleVpcScheduled.json")
    invoking = json.loads(event["invokingEvent"])
    if notification_time is not None:
        invoking["notificationCreationTime"] = notification_time
    return _finish(event, invoking, parameters=parameters, token=token)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "vpc-flow-logs-rule"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:vpc-flow-logs-rule"
    aws_request_id: str = "6f1c2b7e-0d4a-4c55-9d1e-2a7b3c4d5e6f"


class CallCounter:
    """Counts the AWS calls made through boto3's default session (the product's), by operation.

    Registered on ``before-call``: one count per API call, however many retries it needed.
    ``requests`` keeps each call's parameters, in order.
    """

    def __init__(self) -> None:
        boto3.setup_default_session(region_name=REGION)
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        session = boto3.DEFAULT_SESSION
        if session is None:  # pragma: no cover - setup_default_session sets it
            raise RuntimeError("no default session")
        session.events.register("before-parameter-build.*.*", self._params)
        session.events.register("before-call.*.*", self._record)

    def _params(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.requests.append((model.name, dict(params)))

    def _record(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.requests if name == operation]

    @property
    def total(self) -> int:
        return sum(self.calls.values())


LOCAL_DESTINATION = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:destination:central-archive"


def put_forwarding_policy(world: World, excluded: Sequence[str] = ("/aws/lambda/rule",)) -> str:
    """A destination and an account-level subscription filter policy forwarding every log group
    but ``excluded`` (the rule's own) to it, as the log-archive stack and the member stack set
    them up; returns the destination's ARN (``LOCAL_DESTINATION``)."""
    world.logs.put_destination(
        destinationName="central-archive",
        targetArn=f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/archive",
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/logs",
    )
    world.logs.put_account_policy(
        policyName="VpcFlowLogsGuardCentralArchive",
        policyType="SUBSCRIPTION_FILTER_POLICY",
        policyDocument=json.dumps({"DestinationArn": LOCAL_DESTINATION}),
        selectionCriteria=f"LogGroupName NOT IN {json.dumps(list(excluded))}",
    )
    return LOCAL_DESTINATION


class FakeLookups:
    """The rule's lookups answered from memory; remembers what was asked, in order."""

    region = "us-east-1"

    def __init__(
        self,
        vpcs: list[Vpc] | None = None,
        flow_logs: list[FlowLog] | None = None,
        recorded: dict[str, RecordedResult] | None = None,
        owners: dict[str, str] | None = None,
        policies: list[SubscriptionFilterPolicy] | None = None,
    ) -> None:
        self.vpcs = vpcs or []
        self.flow_logs = flow_logs or []
        self.recorded = recorded or {}
        self.owners = owners or {}
        self.policies = policies or []
        self.asked: list[str] = []

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        self.asked.append("DescribeVpcs")
        return [v for v in self.vpcs if vpc_id in (None, v.vpc_id)]

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        self.asked.append("DescribeFlowLogs")
        return [f for f in self.flow_logs if vpc_id in (None, f.resource_id)]

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        self.asked.append("DescribeLogGroups")
        return {name: LogGroup(name, None) for name in names}

    def recorded_vpc_results(self, rule_name: str) -> dict[str, RecordedResult]:
        self.asked.append("GetComplianceDetailsByConfigRule")
        return self.recorded

    def flow_log_owner(self, flow_log_id: str) -> str | None:
        self.asked.append("GetResourceConfigHistory")
        return self.owners.get(flow_log_id)

    def subscription_filter_policies(self) -> list[SubscriptionFilterPolicy]:
        self.asked.append("DescribeAccountPolicies")
        return self.policies
