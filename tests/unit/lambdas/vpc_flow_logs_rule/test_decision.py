from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.lambdas.vpc_flow_logs_rule.builders import VPC_ID, flow_log
from vpc_flow_logs_rule import decision
from vpc_flow_logs_rule.decision import Account
from vpc_flow_logs_rule.model import ComplianceType, Evaluation, FlowLog, LogGroup, Vpc
from vpc_flow_logs_rule.parameters import ExemptTag, RuleParameters

ACCOUNT = Account("123456789012", "us-east-1")
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
DEFAULTS = RuleParameters()


GROUPS = {
    name: LogGroup(name, 365)
    for name in ("/aws/vpc-flow-logs/a", "/aws/vpc-flow-logs/b", "/aws/vpc-flow-logs/c")
}


def judge(
    flow_logs: list[FlowLog],
    groups: dict[str, LogGroup] | None = None,
    parameters: RuleParameters = DEFAULTS,
) -> decision.Verdict:
    return decision.evaluate_flow_logs(
        flow_logs, GROUPS if groups is None else groups, parameters, ACCOUNT
    )


def test_a_vpc_without_flow_logs_is_non_compliant() -> None:
    verdict = judge([])

    assert verdict == decision.Verdict(
        ComplianceType.NON_COMPLIANT, "no flow log covers REJECT traffic"
    )


def test_an_active_delivering_reject_flow_log_with_long_retention_is_compliant() -> None:
    verdict = judge([flow_log()])

    assert verdict.compliance_type is ComplianceType.COMPLIANT
    assert verdict.annotation == "REJECT traffic is covered by flow log fl-1"


def test_all_traffic_satisfies_reject() -> None:
    assert judge([flow_log(traffic_type="ALL")]).compliance_type is ComplianceType.COMPLIANT


def test_accept_traffic_does_not_satisfy_reject_and_says_so() -> None:
    verdict = judge([flow_log(traffic_type="ACCEPT")])

    assert verdict.compliance_type is ComplianceType.NON_COMPLIANT
    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 covers ACCEPT traffic only"
    )


def test_two_partial_flow_logs_cover_all_together() -> None:
    parameters = RuleParameters(traffic_type="ALL")
    accept = flow_log("fl-a", "ACCEPT", log_group="/aws/vpc-flow-logs/a")
    reject = flow_log("fl-r", "REJECT", log_group="/aws/vpc-flow-logs/b")

    together = judge([accept, reject], parameters=parameters)
    alone = judge([reject], parameters=parameters)

    assert together == decision.Verdict(
        ComplianceType.COMPLIANT, "ALL traffic is covered by flow logs fl-a, fl-r"
    )
    assert alone.compliance_type is ComplianceType.NON_COMPLIANT
    assert alone.annotation == (
        "no flow log covers ACCEPT traffic; flow log fl-r covers REJECT traffic only"
    )


def test_a_partial_flow_log_that_fails_a_check_does_not_complete_all() -> None:
    parameters = RuleParameters(traffic_type="ALL")
    accept = flow_log(
        "fl-a",
        "ACCEPT",
        deliver_logs_status="FAILED",
        deliver_logs_error_message="Rate limited",
    )
    reject = flow_log("fl-r", "REJECT", log_group="/aws/vpc-flow-logs/b")

    verdict = judge([accept, reject], parameters=parameters)

    assert verdict.compliance_type is ComplianceType.NON_COMPLIANT
    assert verdict.annotation == (
        "no flow log covers ACCEPT traffic; flow log fl-a delivery FAILED: Rate limited; "
        "flow log fl-r covers REJECT traffic only"
    )


def test_failed_delivery_does_not_count() -> None:
    failed = flow_log(deliver_logs_status="FAILED", deliver_logs_error_message="Access error")

    verdict = judge([failed])

    assert verdict.compliance_type is ComplianceType.NON_COMPLIANT
    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivery FAILED: Access error"
    )


@pytest.mark.parametrize("status", ["SUCCESS", None, "SKIPPED"], ids=["SUCCESS", "none", "other"])
def test_a_status_other_than_failed_counts(status: str | None) -> None:
    # AWS documents SUCCESS and FAILED, and promises no status on a brand-new flow log
    verdict = judge([flow_log(deliver_logs_status=status)])

    assert verdict.compliance_type is ComplianceType.COMPLIANT


def test_failed_delivery_counts_when_delivery_success_is_not_required() -> None:
    failed = flow_log(deliver_logs_status="FAILED", deliver_logs_error_message="Access error")

    verdict = judge([failed], parameters=RuleParameters(require_delivery_success=False))

    assert verdict.compliance_type is ComplianceType.COMPLIANT


def test_an_inactive_flow_log_does_not_count() -> None:
    verdict = judge([flow_log(flow_log_status="DELETING")])

    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 is DELETING, not ACTIVE"
    )


def test_a_destination_type_not_allowed_does_not_count() -> None:
    s3 = flow_log(
        destination_type="s3",
        log_group=None,
        log_destination="arn:aws:s3:::central-flow-logs",
    )

    allowed = judge([s3])
    refused = judge(
        [s3], parameters=RuleParameters(allowed_destination_types=frozenset({"cloud-watch-logs"}))
    )

    assert allowed.compliance_type is ComplianceType.COMPLIANT
    assert refused.compliance_type is ComplianceType.NON_COMPLIANT
    assert refused.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivers to s3, which is not an allowed "
        "destination type (cloud-watch-logs)"
    )


CENTRAL = "arn:aws:s3:::central-flow-logs"


def s3_flow_log(destination: str | None, flow_log_id: str = "fl-1") -> FlowLog:
    return flow_log(flow_log_id, destination_type="s3", log_group=None, log_destination=destination)


@pytest.mark.parametrize(
    ("required", "destination", "counts"),
    [
        pytest.param(CENTRAL, CENTRAL, True, id="the bucket"),
        pytest.param(CENTRAL, CENTRAL + "/", True, id="the bucket, trailing slash"),
        pytest.param(CENTRAL, CENTRAL + "/team-a", True, id="a folder of the bucket"),
        pytest.param(CENTRAL + "/team-a", CENTRAL + "/team-a/x", True, id="under the prefix"),
        pytest.param(CENTRAL, "arn:aws:s3:::central-flow-logs-2", False, id="a longer name"),
        pytest.param(CENTRAL, "arn:aws:s3:::other", False, id="another bucket"),
        pytest.param(CENTRAL + "/team-a", CENTRAL, False, id="above the prefix"),
        pytest.param(CENTRAL + "/team-a", CENTRAL + "/team-ab", False, id="another prefix"),
        pytest.param(CENTRAL, None, False, id="no destination"),
    ],
)
def test_with_s3_bucket_arn_only_that_bucket_counts(
    required: str, destination: str | None, counts: bool
) -> None:
    parameters = RuleParameters(s3_bucket_arn=required)

    verdict = judge([s3_flow_log(destination)], parameters=parameters)

    assert (verdict.compliance_type is ComplianceType.COMPLIANT) is counts
    assert decision.delivers_under(destination, required) is counts


def test_a_flow_log_to_another_bucket_names_both_buckets() -> None:
    parameters = RuleParameters(s3_bucket_arn=CENTRAL)

    verdict = judge([s3_flow_log("arn:aws:s3:::team-bucket/logs")], parameters=parameters)

    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivers to "
        "arn:aws:s3:::team-bucket/logs, not to the required bucket arn:aws:s3:::central-flow-logs"
    )


def test_without_s3_bucket_arn_any_bucket_counts() -> None:
    verdict = judge([s3_flow_log("arn:aws:s3:::team-bucket")])

    assert verdict.compliance_type is ComplianceType.COMPLIANT


def test_s3_bucket_arn_does_not_change_what_cloudwatch_logs_flow_logs_need() -> None:
    parameters = RuleParameters(s3_bucket_arn=CENTRAL)

    assert judge([flow_log()], parameters=parameters).compliance_type is ComplianceType.COMPLIANT


STREAM = "arn:aws:firehose:us-east-1:111122223333:deliverystream/central-flow-logs"


def firehose_flow_log(destination: str | None, flow_log_id: str = "fl-1") -> FlowLog:
    return flow_log(
        flow_log_id,
        destination_type="kinesis-data-firehose",
        log_group=None,
        log_destination=destination,
    )


@pytest.mark.parametrize(
    ("destination", "counts"),
    [
        pytest.param(STREAM, True, id="the stream"),
        pytest.param(STREAM.replace("/", ":"), True, id="the stream, as EC2's reference spells it"),
        pytest.param(STREAM + "-2", False, id="a longer name"),
        pytest.param(STREAM.replace("111122223333", "444455556666"), False, id="another account"),
        pytest.param(STREAM.replace("us-east-1", "eu-west-1"), False, id="another region"),
        pytest.param(STREAM.replace("central", "team"), False, id="another stream"),
        pytest.param(None, False, id="no destination"),
    ],
)
def test_with_firehose_arn_only_that_stream_counts(destination: str | None, counts: bool) -> None:
    parameters = RuleParameters(firehose_arn=STREAM)

    verdict = judge([firehose_flow_log(destination)], parameters=parameters)

    assert (verdict.compliance_type is ComplianceType.COMPLIANT) is counts
    assert decision.same_stream(destination, STREAM) is counts


def test_a_flow_log_to_another_stream_names_both_streams() -> None:
    other = STREAM.replace("central", "team")

    verdict = judge([firehose_flow_log(other)], parameters=RuleParameters(firehose_arn=STREAM))

    assert verdict.annotation == (
        f"no flow log covers REJECT traffic; flow log fl-1 delivers to {other}, not to the "
        f"required stream {STREAM}"
    )


def test_without_firehose_arn_any_stream_counts() -> None:
    verdict = judge([firehose_flow_log(STREAM.replace("central", "team"))])

    assert verdict.compliance_type is ComplianceType.COMPLIANT


def test_firehose_arn_leaves_other_destinations_to_their_own_checks() -> None:
    parameters = RuleParameters(firehose_arn=STREAM, s3_bucket_arn=CENTRAL)

    assert judge([flow_log()], parameters=parameters).compliance_type is ComplianceType.COMPLIANT
    assert (
        judge([s3_flow_log(CENTRAL)], parameters=parameters).compliance_type
        is ComplianceType.COMPLIANT
    )
    # a stream ARN given as S3 destination is still judged as S3
    assert (
        judge([s3_flow_log(STREAM)], parameters=parameters).compliance_type
        is ComplianceType.NON_COMPLIANT
    )


def test_a_firehose_flow_log_is_not_allowed_when_firehose_is_not() -> None:
    parameters = RuleParameters(
        allowed_destination_types=frozenset({"cloud-watch-logs", "s3"}), firehose_arn=None
    )

    verdict = judge([firehose_flow_log(STREAM)], parameters=parameters)

    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivers to kinesis-data-firehose, "
        "which is not an allowed destination type (cloud-watch-logs, s3)"
    )


def test_a_deleted_log_group_does_not_count() -> None:
    verdict = judge([flow_log(log_group="/aws/vpc-flow-logs/gone")])

    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivers to log group "
        "/aws/vpc-flow-logs/gone, which does not exist"
    )


def test_a_log_group_that_never_expires_passes() -> None:
    groups = {"/aws/vpc-flow-logs/a": LogGroup("/aws/vpc-flow-logs/a", None)}

    assert judge([flow_log()], groups).compliance_type is ComplianceType.COMPLIANT


@pytest.mark.parametrize(("days", "compliant"), [(364, False), (365, True), (400, True)])
def test_retention_must_reach_the_minimum(days: int, compliant: bool) -> None:
    groups = {"/aws/vpc-flow-logs/a": LogGroup("/aws/vpc-flow-logs/a", days)}

    verdict = judge([flow_log()], groups)

    assert (verdict.compliance_type is ComplianceType.COMPLIANT) is compliant
    if not compliant:
        assert verdict.annotation == (
            "no flow log covers REJECT traffic; flow log fl-1 delivers to log group "
            "/aws/vpc-flow-logs/a whose retention is 364 days (minimum 365)"
        )


def test_min_retention_zero_turns_the_retention_check_off_but_the_group_must_exist() -> None:
    parameters = RuleParameters(min_retention_days=0)
    groups = {"/aws/vpc-flow-logs/a": LogGroup("/aws/vpc-flow-logs/a", 1)}

    short = judge([flow_log()], groups, parameters)
    missing = judge([flow_log()], {}, parameters)

    assert short.compliance_type is ComplianceType.COMPLIANT
    assert missing.compliance_type is ComplianceType.NON_COMPLIANT
    assert "which does not exist" in missing.annotation


@pytest.mark.parametrize(
    ("arn", "where"),
    [
        (
            "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc-flow-logs/a",
            "account 111122223333 region us-east-1",
        ),
        (
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-logs/a:*",
            "account 123456789012 region eu-west-1",
        ),
    ],
)
def test_a_log_group_in_another_account_or_region_does_not_count(arn: str, where: str) -> None:
    elsewhere = flow_log(log_group="/aws/vpc-flow-logs/a", log_destination=arn)

    verdict = judge([elsewhere])

    assert verdict.compliance_type is ComplianceType.NON_COMPLIANT
    assert verdict.annotation == (
        "no flow log covers REJECT traffic; flow log fl-1 delivers to log group "
        f"/aws/vpc-flow-logs/a in {where}, not this account and region"
    )
    assert decision.log_groups_to_describe([elsewhere], DEFAULTS, ACCOUNT) == []


def test_a_log_group_arn_in_this_account_and_region_is_looked_up_by_name() -> None:
    local = flow_log(
        log_group=None,
        log_destination="arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-logs/b:*",
    )

    assert decision.log_groups_to_describe([local], DEFAULTS, ACCOUNT) == ["/aws/vpc-flow-logs/b"]
    assert judge([local]).compliance_type is ComplianceType.COMPLIANT


def test_only_log_groups_of_allowed_cloud_watch_flow_logs_are_looked_up() -> None:
    flow_logs = [
        flow_log("fl-1", log_group="/b"),
        flow_log("fl-2", log_group="/a"),
        flow_log("fl-3", log_group="/a"),
        flow_log("fl-4", destination_type="s3", log_group=None, log_destination="arn:aws:s3:::x"),
    ]
    s3_only = RuleParameters(allowed_destination_types=frozenset({"s3"}))

    assert decision.log_groups_to_describe(flow_logs, DEFAULTS, ACCOUNT) == ["/a", "/b"]
    assert decision.log_groups_to_describe(flow_logs, s3_only, ACCOUNT) == []


def test_every_problem_of_a_flow_log_is_named() -> None:
    broken = flow_log(
        flow_log_status="INACTIVE",
        deliver_logs_status="FAILED",
        deliver_logs_error_message="Access error",
        log_group="/aws/vpc-flow-logs/gone",
    )

    problems = decision.flow_log_problems(broken, GROUPS, DEFAULTS, ACCOUNT)

    assert problems == [
        "flow log fl-1 is INACTIVE, not ACTIVE",
        "flow log fl-1 delivery FAILED: Access error",
        "flow log fl-1 delivers to log group /aws/vpc-flow-logs/gone, which does not exist",
    ]


@pytest.mark.parametrize(
    ("tags", "tag", "exempt"),
    [
        (
            {"Owner": "team-a"},
            ExemptTag("Owner", None),
            "VPC is exempt: it has the tag Owner=team-a (ExemptTag)",
        ),
        (
            {"Owner": "team-a"},
            ExemptTag("Owner", "team-a"),
            "VPC is exempt: it has the tag Owner=team-a (ExemptTag)",
        ),
        ({"Owner": "team-b"}, ExemptTag("Owner", "team-a"), None),
        ({"owner": "team-a"}, ExemptTag("Owner", None), None),
        ({}, ExemptTag("Owner", None), None),
    ],
)
def test_exemption_by_tag_key_or_key_value(
    tags: dict[str, str], tag: ExemptTag, exempt: str | None
) -> None:
    assert decision.exemption(VPC_ID, tags, RuleParameters(exempt_tag=tag)) == exempt


def test_exemption_by_vpc_id() -> None:
    parameters = RuleParameters(exempt_vpc_ids=frozenset({VPC_ID}))

    assert decision.exemption(VPC_ID, {}, parameters) == "VPC is exempt: listed in ExemptVpcIds"
    assert decision.exemption("vpc-99999999", {}, parameters) is None


def test_evaluate_vpcs_gives_each_vpc_its_own_flow_logs_and_honours_exemptions() -> None:
    covered, bare, exempt = "vpc-11111111", "vpc-22222222", "vpc-33333333"
    vpcs = [Vpc(covered), Vpc(bare), Vpc(exempt, {"skip": "yes"})]
    flow_logs = [flow_log("fl-1", resource_id=covered)]

    evaluations = decision.evaluate_vpcs(
        vpcs,
        flow_logs,
        GROUPS,
        RuleParameters(exempt_tag=ExemptTag("skip", None)),
        account=ACCOUNT,
        ordering_timestamp=NOW,
    )

    assert [(e.resource_id, e.compliance_type) for e in evaluations] == [
        (covered, ComplianceType.COMPLIANT),
        (bare, ComplianceType.NON_COMPLIANT),
        (exempt, ComplianceType.NOT_APPLICABLE),
    ]
    assert {e.ordering_timestamp for e in evaluations} == {NOW}
    assert {e.resource_type for e in evaluations} == {"AWS::EC2::VPC"}


def test_stale_evaluations_mark_vanished_vpcs_not_applicable() -> None:
    stale = decision.stale_evaluations(
        ["vpc-gone0001", "vpc-still001", "vpc-gone0001"], ["vpc-still001"], NOW
    )

    assert stale == [
        Evaluation("vpc-gone0001", ComplianceType.NOT_APPLICABLE, "VPC no longer exists", NOW)
    ]


@pytest.mark.parametrize(
    ("resource_type", "status", "left_scope", "reason"),
    [
        ("AWS::EC2::VPC", "OK", False, None),
        ("AWS::EC2::VPC", "ResourceDiscovered", False, None),
        ("AWS::EC2::VPC", "ResourceDeleted", False, "VPC was deleted (ResourceDeleted)"),
        (
            "AWS::EC2::VPC",
            "ResourceDeletedNotRecorded",
            False,
            "VPC was deleted (ResourceDeletedNotRecorded)",
        ),
        (
            "AWS::EC2::VPC",
            "ResourceNotRecorded",
            False,
            "AWS Config does not record this VPC (ResourceNotRecorded)",
        ),
        ("AWS::EC2::VPC", "OK", True, "VPC is no longer in the rule's scope"),
        (
            "AWS::EC2::Subnet",
            "OK",
            False,
            "AWS::EC2::Subnet is not a VPC; the rule evaluates AWS::EC2::VPC only",
        ),
    ],
)
def test_change_not_applicable(
    resource_type: str, status: str, left_scope: bool, reason: str | None
) -> None:
    assert (
        decision.change_not_applicable(
            resource_type, VPC_ID, status=status, left_scope=left_scope, parameters=DEFAULTS
        )
        == reason
    )


def test_an_undocumented_configuration_item_status_fails_loudly() -> None:
    with pytest.raises(ValueError, match="Unexpected configurationItemStatus 'Mystery'"):
        decision.change_not_applicable(
            "AWS::EC2::VPC", VPC_ID, status="Mystery", left_scope=False, parameters=DEFAULTS
        )
