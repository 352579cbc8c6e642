"""The rule decides what counts; the runbook decides what to leave alone. They must agree.

Both sides get their parameters from one generated :class:`Settings`, as the stack hands them
over (the rule's InputParameters, the document's parameters over its defaults), and judge the
same generated VPC: flow logs as DescribeFlowLogs lists them, and the runbook's log group. Only
the pure functions of each side run; nothing calls AWS.

What must hold, always:

1. No loop: when the runbook would change nothing, the rule counts the VPC COMPLIANT.
2. One run is enough: after the changes the runbook plans (the flow log it creates, as EC2
   describes it, its own superseded ones deleted, the log group created or its retention
   raised), the rule counts the VPC and a second run would change nothing.
3. Exact agreement where both look: for a flow log to the runbook's destination, "the runbook
   keeps it" holds exactly when "the rule counts it on its own and it covers the traffic".

Where the two legitimately differ, the rule is the more lenient, by design, so that no
difference can loop:

- the rule counts flow logs the runbook does not manage: to another log group under the prefix,
  another allowed destination type, a folder under the required bucket;
- neither judges which roles a Firehose flow log delivers with: one to the stream that has not
  FAILED delivers;
- the rule lets ACCEPT plus REJECT cover ALL; the runbook keeps one flow log that covers it alone;
- the rule reads the log group's retention separately and accepts ``minRetentionDays``; the
  runbook raises it to ``retentionInDays`` (never below the minimum: the settings refuse it);
- ``requireDeliverySuccess`` false lets the rule count a FAILED flow log; the runbook always
  wants one that delivers (property 3 therefore judges with delivery success required);
- the runbook deletes its own superseded flow logs to its destination, which the rule ignores.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enable_vpc_flow_logs import request as script
from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    KINESIS_DATA_FIREHOSE,
    LOG_GROUP_PREFIX,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    S3,
)
from enable_vpc_flow_logs.destinations import S3_FILE_FORMATS
from enable_vpc_flow_logs.flow_log import flow_log_arguments
from enable_vpc_flow_logs.flow_log_plan import (
    delivers_to_destination,
    flow_log_id,
    plan_flow_log,
    unmet_requirements,
)
from enable_vpc_flow_logs.log_group import retention_to_set
from stacks.build.runbook_document import build_document
from stacks.constructs.remediation_runbook import DOCUMENT_PATH
from stacks.settings.account import LOG_RETENTION_DAYS, RUNBOOK_DESTINATIONS, Settings, in_region
from tests.unit.stacks.synthesis import cdk_json_context
from vpc_flow_logs_rule import decision
from vpc_flow_logs_rule.model import ComplianceType, FlowLog, LogGroup
from vpc_flow_logs_rule.parameters import DESTINATION_TYPES, RuleParameters, parse_parameters

if TYPE_CHECKING:
    from collections.abc import Sequence

    from enable_vpc_flow_logs.request import Request

ACCOUNT = "123456789012"
REGION = "us-east-1"
VPC_ID = "vpc-0123456789abcdef0"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/vpc-flow-logs-guard/VpcFlowLogsGuard-B-1"
BUCKET_ARN = "arn:aws:s3:::org-vpc-flow-logs"
ARCHIVE = "111122223333"
STREAM_SETTING = f"arn:aws:firehose:{{region}}:{ARCHIVE}:deliverystream/org-flow-logs"
STREAM = STREAM_SETTING.replace("{region}", REGION)
DESTINATION_ROLE_SETTING = (
    f"arn:aws:iam::{ARCHIVE}:role/AWSLogDeliveryFirehoseCrossAccountRole-{{region}}"
)
DESTINATION_ROLE = DESTINATION_ROLE_SETTING.replace("{region}", REGION)
SOURCE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vpc-flow-logs-guard/VpcFlowLogsGuard-Source-1"
HERE = decision.Account(ACCOUNT, REGION)
FIELDS = ("${version}", "${srcaddr}", "${dstaddr}", "${action}", "${vpc-id}", "${log-status}")
AWS_DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)
"""What DescribeFlowLogs reports for a flow log created without LogFormat (VPC user guide)."""
DOCUMENT_DEFAULTS = {
    name: parameter["default"]
    for name, parameter in build_document(DOCUMENT_PATH)["parameters"].items()
    if "default" in parameter
}
OURS = [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}]


# --- generated settings -> both sides' parameters -----------------------------------------------


@st.composite
def deployments(draw: st.DrawFn) -> Settings:
    destination = draw(st.sampled_from(RUNBOOK_DESTINATIONS))
    minimum = draw(st.sampled_from([0, 1, 30, 365, 731]))
    to_s3 = destination == S3
    to_firehose = destination == KINESIS_DATA_FIREHOSE
    context = {
        **cdk_json_context(),
        "trafficType": draw(st.sampled_from(script.TRAFFIC_TYPES)),
        "minRetentionDays": minimum,
        "retentionInDays": draw(st.sampled_from([d for d in LOG_RETENTION_DAYS if d >= minimum])),
        "allowedDestinationTypes": [
            destination,
            *draw(st.lists(st.sampled_from(DESTINATION_TYPES), max_size=2)),
        ],
        "requireDeliverySuccess": draw(st.booleans()),
        "destination": destination,
        "centralBucketArn": BUCKET_ARN if to_s3 else "",
        "centralFirehoseArn": STREAM_SETTING if to_firehose else "",
        "centralFirehoseRoleArn": DESTINATION_ROLE_SETTING if to_firehose else "",
        "logFormat": " ".join(draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=3))),
        "maxAggregationInterval": draw(st.sampled_from(script.AGGREGATION_INTERVALS)),
        "s3FileFormat": draw(st.sampled_from(S3_FILE_FORMATS)) if to_s3 else "plain-text",
        "s3HiveCompatiblePartitions": draw(st.booleans()) if to_s3 else False,
        "s3PerHourPartition": draw(st.booleans()) if to_s3 else False,
    }
    return Settings.from_mapping(context)


def rule_side(deployment: Settings) -> RuleParameters:
    """What the rule reads: its InputParameters as AWS Config hands them over (JSON text), the
    stack's Region in the central ARNs."""
    return parse_parameters(json.dumps(in_region(deployment.rule_input_parameters(), REGION)))


def runbook_side(deployment: Settings) -> Request:
    """What the script reads: the remediation's parameters over the document's defaults, as the
    stack gives them (its boundary or source role, its Region in the central ARNs)."""
    given = deployment.runbook_parameters(
        boundary_arn="" if deployment.to_s3 or deployment.to_firehose else BOUNDARY_ARN,
        firehose_source_role_arn=SOURCE_ROLE if deployment.to_firehose else "",
    )
    parameters = {**DOCUMENT_DEFAULTS, **in_region(given, REGION)}
    globals_ = {"VpcId": VPC_ID, "AccountId": ACCOUNT, "Region": REGION, "Partition": "aws"}
    return script.parse_request({**parameters, **globals_})


# --- generated VPCs ---------------------------------------------------------------------------


def log_group_arn(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


@st.composite
def flow_logs(draw: st.DrawFn, request: Request, index: int) -> dict[str, Any]:
    """One DescribeFlowLogs entry of the VPC, often to the runbook's own destination."""
    item: dict[str, Any] = {
        "FlowLogId": f"fl-{index}",
        "ResourceId": VPC_ID,
        "TrafficType": draw(st.sampled_from(script.TRAFFIC_TYPES)),
        "FlowLogStatus": draw(st.sampled_from(["ACTIVE", "ACTIVE", "DELETING"])),
        "MaxAggregationInterval": draw(st.sampled_from(script.AGGREGATION_INTERVALS)),
        "LogFormat": draw(
            st.one_of(
                st.just(AWS_DEFAULT_FORMAT),
                st.lists(st.sampled_from(FIELDS), unique=True, max_size=5).map(" ".join),
            )
        ),
        "Tags": draw(st.sampled_from([OURS, []])),
    }
    delivery = draw(st.sampled_from(["SUCCESS", "FAILED", None]))
    if delivery:
        item["DeliverLogsStatus"] = delivery
    kind = draw(st.sampled_from(["cloud-watch-logs", "s3", "kinesis-data-firehose"]))
    item["LogDestinationType"] = kind
    if kind == "cloud-watch-logs":
        name = draw(
            st.sampled_from(
                [request["LogGroupName"] or f"{LOG_GROUP_PREFIX}{VPC_ID}"] * 2
                + [f"{LOG_GROUP_PREFIX}shared", "/team/flow-logs"]
            )
        )
        item["LogGroupName"] = name
        if draw(st.booleans()):
            item["LogDestination"] = log_group_arn(name) + draw(st.sampled_from(["", ":*"]))
    elif kind == "s3":
        item["LogDestination"] = draw(
            st.sampled_from(
                [BUCKET_ARN, BUCKET_ARN, f"{BUCKET_ARN}/team-a", "arn:aws:s3:::other-bucket"]
            )
        )
        if draw(st.booleans()):
            item["DestinationOptions"] = {
                "FileFormat": draw(st.sampled_from(S3_FILE_FORMATS)),
                "HiveCompatiblePartitions": draw(st.booleans()),
                "PerHourPartition": draw(st.booleans()),
            }
    else:
        # the stream, also as EC2's API reference spells it, or another account's stream
        item["LogDestination"] = draw(
            st.sampled_from(
                [
                    STREAM,
                    STREAM,
                    STREAM.replace(":deliverystream/", ":deliverystream:"),
                    "arn:aws:firehose:us-east-1:210987654321:deliverystream/x",
                ]
            )
        )
        if draw(st.booleans()):  # roles are not judged: any, or none (same account)
            item["DeliverLogsPermissionArn"] = draw(st.sampled_from([SOURCE_ROLE, "arn:x"]))
            item["DeliverCrossAccountRole"] = draw(st.sampled_from([DESTINATION_ROLE, "arn:y"]))
    return item


class Group:
    """A log group as both sides see it: the rule its retention, the runbook also its tag."""

    def __init__(self, name: str, retention: int | None, *, ours: bool) -> None:
        self.name, self.retention, self.ours = name, retention, ours


@st.composite
def vpcs(draw: st.DrawFn, request: Request) -> tuple[list[dict[str, Any]], dict[str, Group]]:
    """A VPC's flow logs and log groups; half the time one the runbook has fixed before.

    Arbitrary setups seldom leave the runbook nothing to do (under 1% of them), so the
    properties about that case would rarely run: a fixed VPC (the flow log and log group an
    earlier run created, its delivery status and the group's retention drawn again) makes it
    common, beside whatever other flow logs the VPC has.
    """
    count = draw(st.integers(0, 3))
    items = [draw(flow_logs(request, index)) for index in range(count)]
    fixed = draw(st.booleans())
    if fixed:
        earlier = created_flow_log(request)
        delivery = draw(st.sampled_from(["SUCCESS", "FAILED", None]))
        items.append(
            {**earlier, "FlowLogId": "fl-fixed"}
            | ({"DeliverLogsStatus": delivery} if delivery else {})
        )
    names = {item["LogGroupName"] for item in items if "LogGroupName" in item}
    if request["LogGroupName"]:
        names.add(request["LogGroupName"])
    groups = {}
    for name in sorted(names):
        if fixed and name == request["LogGroupName"]:
            retention = draw(st.sampled_from([request["RetentionInDays"], None, 1, 3653]))
            groups[name] = Group(name, retention, ours=True)
        elif draw(st.booleans()) or name != request["LogGroupName"]:
            retention = draw(st.sampled_from([None, 1, 30, 365, 731, 3653]))
            groups[name] = Group(name, retention, ours=draw(st.booleans()))
    return items, groups


# --- each side's pure judgement ----------------------------------------------------------------


def runbook_changes(
    items: Sequence[dict[str, Any]], groups: dict[str, Group], request: Request
) -> tuple[list[str], dict[str, Group]]:
    """The changes a run would make (LogGroup's retention_to_set, then CheckInput's
    plan_flow_log, which FlowLog acts on), and the groups after.

    KMS is not generated: the settings give no key, so the runbook associates none.
    """
    changes: list[str] = []
    after = dict(groups)
    if request["DestinationType"] == CLOUD_WATCH_LOGS:  # the only one with a log group
        name, days = request["LogGroupName"], request["RetentionInDays"]
        group = groups.get(name)
        if group is None:
            changes.append("create log group")
            after[name] = Group(name, days, ours=True)
        else:
            raise_to = retention_to_set(group.retention, days, ours=group.ours)
            if raise_to is not None:
                changes.append("set retention")
                after[group.name] = Group(group.name, raise_to, ours=group.ours)
    plan = plan_flow_log(items, request)  # type: ignore[arg-type]
    if plan.satisfying is None:
        changes.append("create flow log")
    if plan.replaceable:
        changes.append("delete superseded flow logs")
    return changes, after


def rule_verdict(
    items: Sequence[dict[str, Any]], groups: dict[str, Group], parameters: RuleParameters
) -> ComplianceType:
    flow_logs = [FlowLog.from_description(item) for item in items]
    wanted = decision.log_groups_to_describe(flow_logs, parameters, HERE)
    found = {name: LogGroup(name, groups[name].retention) for name in wanted if name in groups}
    return decision.evaluate_flow_logs(flow_logs, found, parameters, HERE).compliance_type


def rule_counts_alone(
    item: dict[str, Any], groups: dict[str, Group], parameters: RuleParameters
) -> bool:
    return rule_verdict([item], groups, parameters) == ComplianceType.COMPLIANT


def created_flow_log(request: Request) -> dict[str, Any]:
    """The flow log CreateFlowLogs makes from the runbook's arguments, as EC2 then lists it.

    A new flow log has no DeliverLogsStatus yet (EC2 does not promise one); without LogFormat,
    EC2 uses and reports its default format; without DestinationOptions, its defaults apply.
    """
    arguments = flow_log_arguments(request)
    item: dict[str, Any] = {
        "FlowLogId": "fl-new",
        "ResourceId": VPC_ID,
        "FlowLogStatus": "ACTIVE",
        "TrafficType": arguments["TrafficType"],
        "LogDestinationType": arguments["LogDestinationType"],
        "MaxAggregationInterval": arguments["MaxAggregationInterval"],
        "LogFormat": arguments.get("LogFormat", AWS_DEFAULT_FORMAT),
        "Tags": arguments["TagSpecifications"][0]["Tags"],
    }
    if "LogGroupName" in arguments:
        item["LogGroupName"] = arguments["LogGroupName"]
        item["LogDestination"] = log_group_arn(arguments["LogGroupName"])
    else:
        item["LogDestination"] = arguments["LogDestination"]
    if "DestinationOptions" in arguments:
        item["DestinationOptions"] = arguments["DestinationOptions"]
    for role in ("DeliverLogsPermissionArn", "DeliverCrossAccountRole"):
        if role in arguments:
            item[role] = arguments[role]
    return item


# --- the properties -------------------------------------------------------------------------

EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[Settings, list[dict[str, Any]], dict[str, Group]]:
    deployment = draw(deployments())
    items, groups = draw(vpcs(runbook_side(deployment)))
    return deployment, items, groups


@EXAMPLES
@given(cases())
def test_when_the_runbook_would_change_nothing_the_rule_counts_the_vpc(
    case: tuple[Settings, list[dict[str, Any]], dict[str, Group]],
) -> None:
    deployment, items, groups = case
    request, parameters = runbook_side(deployment), rule_side(deployment)

    changes, _ = runbook_changes(items, groups, request)

    if not changes:
        assert rule_verdict(items, groups, parameters) == ComplianceType.COMPLIANT


@EXAMPLES
@given(cases())
def test_after_one_run_the_rule_counts_the_vpc_and_a_second_run_changes_nothing(
    case: tuple[Settings, list[dict[str, Any]], dict[str, Group]],
) -> None:
    deployment, items, groups = case
    request, parameters = runbook_side(deployment), rule_side(deployment)
    plan = plan_flow_log(items, request)  # type: ignore[arg-type]
    if plan.satisfying is None and plan.conflicts:
        return  # the run fails, naming the foreign flow logs: a person must act

    # When the run's changes are applied
    _, groups_after = runbook_changes(items, groups, request)
    gone = {flow_log_id(flow_log) for flow_log in plan.replaceable}
    items_after = [item for item in items if item["FlowLogId"] not in gone]
    if plan.satisfying is None:
        items_after.append(created_flow_log(request))

    # Then the rule counts the VPC, and the runbook is done
    assert rule_verdict(items_after, groups_after, parameters) == ComplianceType.COMPLIANT
    assert runbook_changes(items_after, groups_after, request)[0] == []


@EXAMPLES
@given(cases())
def test_on_the_runbooks_destination_keeping_a_flow_log_is_counting_it(
    case: tuple[Settings, list[dict[str, Any]], dict[str, Group]],
) -> None:
    deployment, items, groups = case
    request = runbook_side(deployment)
    # The runbook always wants a flow log that delivers (see the module docstring)
    parameters = replace(rule_side(deployment), require_delivery_success=True)
    # The rule reads the group as the runbook's own log-group step leaves it
    _, groups_after = runbook_changes(items, groups, request)

    for item in items:
        if delivers_to_destination(item, request):  # type: ignore[arg-type]
            kept = not unmet_requirements(item, request)  # type: ignore[arg-type]
            assert kept == rule_counts_alone(item, groups_after, parameters), item

    plan = plan_flow_log(items, request)  # type: ignore[arg-type]
    on_destination = [i for i in items if delivers_to_destination(i, request)]  # type: ignore[arg-type]
    assert (plan.satisfying is not None) == any(
        rule_counts_alone(item, groups_after, parameters) for item in on_destination
    )


def test_the_generated_cases_reach_both_answers() -> None:
    """The strategies are not vacuous: both verdicts and both runbook outcomes occur."""
    seen: set[tuple[str, bool, ComplianceType]] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(cases())
    def collect(case: tuple[Settings, list[dict[str, Any]], dict[str, Group]]) -> None:
        deployment, items, groups = case
        changes, _ = runbook_changes(items, groups, runbook_side(deployment))
        verdict = rule_verdict(items, groups, rule_side(deployment))
        seen.add((deployment.destination, not changes, verdict))

    collect()

    for destination in RUNBOOK_DESTINATIONS:  # every destination, both outcomes
        assert (destination, True, ComplianceType.COMPLIANT) in seen, destination
        assert (destination, False, ComplianceType.NON_COMPLIANT) in seen, destination
    # the rule's deliberate leniency
    assert any(done is False and verdict == ComplianceType.COMPLIANT for _, done, verdict in seen)
