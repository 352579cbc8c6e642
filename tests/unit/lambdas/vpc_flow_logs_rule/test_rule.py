from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.lambdas.vpc_flow_logs_rule import builders
from tests.unit.lambdas.vpc_flow_logs_rule.builders import VPC_ID, FakeLookups
from vpc_flow_logs_rule import rule
from vpc_flow_logs_rule.model import (
    ComplianceType,
    Evaluation,
    FlowLog,
    RecordedResult,
    Vpc,
)
from vpc_flow_logs_rule.notifications import ChangedResource
from vpc_flow_logs_rule.parameters import ExemptTag, RuleParameters

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def changed(**changes: object) -> ChangedResource:
    base: dict[str, object] = {
        "resource_type": "AWS::EC2::VPC",
        "resource_id": VPC_ID,
        "status": "OK",
        "capture_time": NOW,
        "tags": None,
        "left_scope": False,
    }
    return ChangedResource(**{**base, **changes})  # type: ignore[arg-type]


def flow_log(resource_id: str, traffic_type: str = "ALL") -> FlowLog:
    """An S3 flow log (no log group to look up)."""
    return builders.flow_log(
        f"fl-{resource_id}",
        traffic_type,
        vpc_id=resource_id,
        log_group=None,
        destination_type="s3",
        log_destination="arn:aws:s3:::flow-logs",
    )


def test_a_vpc_gone_before_its_oversized_notification_is_looked_at_is_not_applicable() -> None:
    lookups = FakeLookups()
    parameters = RuleParameters(exempt_tag=ExemptTag("skip", None))

    evaluations = rule.evaluate_change(lookups, parameters, changed(), account_id="123456789012")

    assert evaluations == [
        Evaluation(VPC_ID, ComplianceType.NOT_APPLICABLE, "VPC no longer exists", NOW)
    ]
    assert lookups.asked == ["DescribeVpcs"]


def test_a_resource_that_is_not_a_vpc_is_not_applicable_under_its_own_type() -> None:
    lookups = FakeLookups()

    [evaluation] = rule.evaluate_change(
        lookups,
        RuleParameters(),
        changed(resource_type="AWS::EC2::Subnet", resource_id="subnet-1"),
        account_id="123456789012",
    )

    assert evaluation.resource_type == "AWS::EC2::Subnet"
    assert evaluation.compliance_type is ComplianceType.NOT_APPLICABLE
    assert lookups.asked == []


def test_s3_flow_logs_need_no_log_group_lookup() -> None:
    lookups = FakeLookups(flow_logs=[flow_log(VPC_ID)])

    [evaluation] = rule.evaluate_change(
        lookups, RuleParameters(), changed(tags={}), account_id="123456789012"
    )

    assert evaluation.compliance_type is ComplianceType.COMPLIANT
    assert lookups.asked == ["DescribeFlowLogs"]


def test_a_scheduled_run_reads_everything_before_deciding_and_skips_exempt_log_groups() -> None:
    kept, exempt = "vpc-11111111", "vpc-22222222"
    cloud_watch = builders.flow_log("fl-cw", "ALL", vpc_id=exempt, log_group="/exempt")
    lookups = FakeLookups(
        vpcs=[Vpc(kept), Vpc(exempt, {"skip": "1"})],
        flow_logs=[flow_log(kept), cloud_watch],
        recorded={
            "vpc-33333333": RecordedResult("NON_COMPLIANT", "no flow log covers REJECT traffic"),
            kept: RecordedResult("NON_COMPLIANT", "no flow log covers ALL traffic"),
        },
    )

    evaluations = rule.evaluate_scheduled(
        lookups,
        RuleParameters(exempt_tag=ExemptTag("skip", None)),
        rule_name="vpc-flow-logs-enabled",
        account_id="123456789012",
        ordering_timestamp=NOW,
    )

    assert [(e.resource_id, e.compliance_type) for e in evaluations] == [
        (kept, ComplianceType.COMPLIANT),
        (exempt, ComplianceType.NOT_APPLICABLE),
        ("vpc-33333333", ComplianceType.NOT_APPLICABLE),
    ]
    assert lookups.asked == [
        "DescribeVpcs",
        "DescribeFlowLogs",
        "GetComplianceDetailsByConfigRule",
    ]


def test_a_steady_scheduled_run_reports_only_what_changed() -> None:
    same, changed_type, changed_text, new, gone, gone_known = (
        "vpc-00000001",
        "vpc-00000002",
        "vpc-00000003",
        "vpc-00000004",
        "vpc-00000005",
        "vpc-00000006",
    )
    lookups = FakeLookups(
        vpcs=[Vpc(same), Vpc(changed_type), Vpc(changed_text), Vpc(new)],
        flow_logs=[flow_log(same), flow_log(changed_type), flow_log(changed_text)],
    )
    covered = "ALL traffic is covered by flow log fl-{}"
    lookups.recorded = {
        same: RecordedResult("COMPLIANT", covered.format(same)),
        changed_type: RecordedResult("NON_COMPLIANT", covered.format(changed_type)),
        changed_text: RecordedResult("COMPLIANT", "ALL traffic is covered by flow log fl-old"),
        gone: RecordedResult("COMPLIANT", "ALL traffic is covered by flow log fl-gone"),
        gone_known: RecordedResult("NOT_APPLICABLE", "VPC no longer exists"),
    }

    evaluations = rule.evaluate_scheduled(
        lookups,
        RuleParameters(traffic_type="ALL"),
        rule_name="vpc-flow-logs-enabled",
        account_id="123456789012",
        ordering_timestamp=NOW,
    )

    assert [(e.resource_id, e.compliance_type) for e in evaluations] == [
        (changed_type, ComplianceType.COMPLIANT),
        (changed_text, ComplianceType.COMPLIANT),
        (new, ComplianceType.NON_COMPLIANT),
        (gone, ComplianceType.NOT_APPLICABLE),
    ]


def test_changed_evaluations_compare_type_and_annotation() -> None:
    recorded = {
        "vpc-1": RecordedResult("COMPLIANT", "ok"),
        "vpc-2": RecordedResult("NON_COMPLIANT", None),
    }
    candidates = [
        Evaluation("vpc-1", ComplianceType.COMPLIANT, "ok", NOW),
        Evaluation("vpc-1", ComplianceType.COMPLIANT, "ok now", NOW),
        Evaluation("vpc-2", ComplianceType.NON_COMPLIANT, "", NOW),
        Evaluation("vpc-2", ComplianceType.NOT_APPLICABLE, None, NOW),
        Evaluation("vpc-3", ComplianceType.COMPLIANT, "ok", NOW),
    ]

    kept = rule.changed_evaluations(candidates, recorded)

    assert kept == [candidates[1], candidates[3], candidates[4]]


# --- flow log notifications -----------------------------------------------------------------

FLOW_LOG_ID = "fl-0f1e2d3c4b5a69788"


def flow_log_changed(**changes: object) -> ChangedResource:
    base: dict[str, object] = {
        "resource_type": "AWS::EC2::FlowLog",
        "resource_id": FLOW_LOG_ID,
        "logged_resource_id": VPC_ID,
    }
    return changed(**{**base, **changes})


def evaluate(lookups: FakeLookups, resource: ChangedResource, **parameters: object) -> list[Any]:
    return rule.evaluate_change(
        lookups,
        RuleParameters(**parameters),  # type: ignore[arg-type]
        resource,
        account_id="123456789012",
    )


def test_a_created_flow_log_evaluates_its_vpc_and_not_itself() -> None:
    lookups = FakeLookups(vpcs=[Vpc(VPC_ID)], flow_logs=[flow_log(VPC_ID)])

    [evaluation] = evaluate(lookups, flow_log_changed(status="ResourceDiscovered"))

    assert evaluation == Evaluation(
        VPC_ID,
        ComplianceType.COMPLIANT,
        f"REJECT traffic is covered by flow log fl-{VPC_ID}",
        NOW,
        resource_type="AWS::EC2::VPC",
    )
    assert lookups.asked == ["DescribeFlowLogs"]


def test_a_deleted_flow_log_finds_its_vpc_in_the_history() -> None:
    lookups = FakeLookups(vpcs=[Vpc(VPC_ID)], owners={FLOW_LOG_ID: VPC_ID})

    [evaluation] = evaluate(
        lookups, flow_log_changed(status="ResourceDeleted", logged_resource_id=None)
    )

    assert (evaluation.resource_id, evaluation.compliance_type) == (
        VPC_ID,
        ComplianceType.NON_COMPLIANT,
    )
    # No flow log is left: DescribeVpcs tells a bare VPC from a deleted one.
    assert lookups.asked == ["GetResourceConfigHistory", "DescribeFlowLogs", "DescribeVpcs"]


def test_a_flow_log_of_a_deleted_vpc_reports_the_vpc_gone() -> None:
    lookups = FakeLookups(owners={FLOW_LOG_ID: VPC_ID})

    [evaluation] = evaluate(
        lookups, flow_log_changed(status="ResourceDeleted", logged_resource_id=None)
    )

    assert (evaluation.compliance_type, evaluation.annotation) == (
        ComplianceType.NOT_APPLICABLE,
        "VPC no longer exists",
    )


def test_an_exempt_tag_is_read_from_the_vpc_of_a_flow_log() -> None:
    lookups = FakeLookups(vpcs=[Vpc(VPC_ID, {"skip": "yes"})], flow_logs=[flow_log(VPC_ID)])

    [evaluation] = evaluate(lookups, flow_log_changed(), exempt_tag=ExemptTag("skip", None))

    assert evaluation.compliance_type is ComplianceType.NOT_APPLICABLE
    assert lookups.asked == ["DescribeVpcs"]


def test_a_deleted_flow_log_with_an_exempt_tag_set_costs_one_more_look_up() -> None:
    kept = builders.flow_log("fl-kept", log_group="/aws/vpc-flow-logs/kept")
    lookups = FakeLookups(vpcs=[Vpc(VPC_ID)], flow_logs=[kept], owners={FLOW_LOG_ID: VPC_ID})

    [evaluation] = evaluate(
        lookups,
        flow_log_changed(status="ResourceDeleted", logged_resource_id=None),
        exempt_tag=ExemptTag("skip", None),
    )

    assert evaluation.compliance_type is ComplianceType.COMPLIANT
    # with PutEvaluations, 5 calls: the README says so
    assert lookups.asked == [
        "GetResourceConfigHistory",
        "DescribeVpcs",
        "DescribeFlowLogs",
        "DescribeLogGroups",
    ]


def test_an_exempt_vpc_id_needs_no_look_up() -> None:
    lookups = FakeLookups()

    [evaluation] = evaluate(lookups, flow_log_changed(), exempt_vpc_ids=frozenset({VPC_ID}))

    assert evaluation.compliance_type is ComplianceType.NOT_APPLICABLE
    assert lookups.asked == []


@pytest.mark.parametrize(
    "resource",
    [
        flow_log_changed(logged_resource_id="subnet-0123456789abcdef0"),
        flow_log_changed(logged_resource_id="eni-0123456789abcdef0"),
        flow_log_changed(left_scope=True),
        flow_log_changed(status="ResourceNotRecorded"),
    ],
    ids=["subnet", "interface", "left-scope", "not-recorded"],
)
def test_flow_logs_that_say_nothing_about_a_vpc_report_nothing(resource: ChangedResource) -> None:
    lookups = FakeLookups(vpcs=[Vpc(VPC_ID)], flow_logs=[flow_log(VPC_ID)])

    assert evaluate(lookups, resource) == []
    assert lookups.asked == []


def test_a_flow_log_config_does_not_know_reports_nothing() -> None:
    lookups = FakeLookups()

    assert evaluate(lookups, flow_log_changed(logged_resource_id=None)) == []
    assert lookups.asked == ["GetResourceConfigHistory"]


def test_an_undocumented_status_of_a_flow_log_raises() -> None:
    with pytest.raises(ValueError, match="Unexpected configurationItemStatus 'Weird'"):
        evaluate(FakeLookups(), flow_log_changed(status="Weird"))


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ([], {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}),
        (
            [ComplianceType.COMPLIANT, ComplianceType.NOT_APPLICABLE, ComplianceType.COMPLIANT],
            {"COMPLIANT": 2, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 1},
        ),
    ],
)
def test_summarize_counts_every_compliance_type(
    types: list[ComplianceType], expected: dict[str, int]
) -> None:
    evaluations = [Evaluation(f"vpc-{n}", kind, None, NOW) for n, kind in enumerate(types)]

    assert rule.summarize(evaluations) == expected
