"""The Lambda as AWS Config invokes it, against moto (patched to behave as AWS documents)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from tests.support.runbook import play
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    ACCOUNT_ID,
    CallCounter,
    FakeLambdaContext,
    World,
    change_event,
    flow_log_event,
    oversized_event,
    scheduled_event,
)
from tests.unit.ssm_documents.payloads import runbook_input
from vpc_flow_logs_rule import aws_api, handler
from vpc_flow_logs_rule.aws_api import PutEvaluationsError
from vpc_flow_logs_rule.notifications import UnsupportedEventError
from vpc_flow_logs_rule.parameters import ParameterError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

CAPTURE_TIME = "2026-11-20T09:15:42.318Z"
NOTIFICATION_TIME = "2026-11-22T06:00:00.512Z"
ALL_TYPES = {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Where the handler's structured log lines of this test go."""
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    return stream


def invoke(event: dict[str, Any]) -> dict[str, int]:
    return handler.lambda_handler(event, cast("LambdaContext", FakeLambdaContext()))


def counts(**non_zero: int) -> dict[str, int]:
    return {**ALL_TYPES, **non_zero}


def reported(counter: CallCounter) -> list[dict[str, Any]]:
    return [e for p in counter.params("PutEvaluations") for e in p["Evaluations"]]


# --- change notifications -------------------------------------------------------------------


def test_a_covered_vpc_is_compliant_in_three_calls(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, "REJECT")

    result = invoke(change_event(vpc_id, capture_time=CAPTURE_TIME))

    assert result == counts(COMPLIANT=1)
    assert dict(counter.calls) == {
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }
    assert world.recorded()[vpc_id] == (
        "COMPLIANT",
        f"REJECT traffic is covered by flow log {flow_log_id}",
    )
    assert reported(counter)[0]["OrderingTimestamp"] == datetime(
        2026, 11, 20, 9, 15, 42, 318000, tzinfo=UTC
    )


def test_a_vpc_without_flow_logs_is_non_compliant(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()

    assert invoke(change_event(vpc_id)) == counts(NON_COMPLIANT=1)
    assert world.recorded()[vpc_id] == ("NON_COMPLIANT", "no flow log covers REJECT traffic")
    assert dict(counter.calls) == {"DescribeFlowLogs": 1, "PutEvaluations": 1}


def test_failed_delivery_is_named(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, "ALL")
    world.set_flow_log(
        flow_log_id, deliver_logs_status="FAILED", deliver_logs_error_message="Access error"
    )

    invoke(change_event(vpc_id))

    assert world.recorded()[vpc_id] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {flow_log_id} delivery FAILED: Access error",
    )


def test_failed_delivery_is_accepted_when_not_required(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, "ALL")
    world.set_flow_log(flow_log_id, deliver_logs_status="FAILED")

    result = invoke(change_event(vpc_id, parameters={"RequireDeliverySuccess": "false"}))

    assert result == counts(COMPLIANT=1)


def test_a_deleted_log_group_is_named(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, log_group=world.log_group("/aws/vpc-flow-logs/gone"))
    world.logs.delete_log_group(logGroupName="/aws/vpc-flow-logs/gone")

    invoke(change_event(vpc_id))

    assert world.recorded()[vpc_id] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {flow_log_id} delivers to log group "
        "/aws/vpc-flow-logs/gone, which does not exist",
    )


def test_short_retention_is_named_with_what_was_found_and_the_minimum(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, log_group=world.log_group("/short", retention_days=30))

    invoke(change_event(vpc_id))

    assert world.recorded()[vpc_id] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {flow_log_id} delivers to log group "
        "/short whose retention is 30 days (minimum 365)",
    )


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded"])
def test_a_deleted_vpc_is_not_applicable_without_describe_calls(
    world: World, counter: CallCounter, status: str
) -> None:
    vpc_id = "vpc-0a1b2c3d4e5f60718"

    result = invoke(change_event(vpc_id, status=status))

    assert result == counts(NOT_APPLICABLE=1)
    assert dict(counter.calls) == {"PutEvaluations": 1}
    assert world.recorded()[vpc_id] == ("NOT_APPLICABLE", f"VPC was deleted ({status})")


def test_a_vpc_that_left_the_scope_is_not_applicable_without_describe_calls(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()

    assert invoke(change_event(vpc_id, left_scope=True)) == counts(NOT_APPLICABLE=1)
    assert dict(counter.calls) == {"PutEvaluations": 1}
    assert world.recorded()[vpc_id] == ("NOT_APPLICABLE", "VPC is no longer in the rule's scope")


@pytest.mark.parametrize(
    ("parameters", "tags", "annotation"),
    [
        ({"ExemptVpcIds": "{vpc_id}, vpc-1a2b3c4d"}, {}, "VPC is exempt: listed in ExemptVpcIds"),
        (
            {"ExemptTag": "flow-logs"},
            {"flow-logs": "off"},
            "VPC is exempt: it has the tag flow-logs=off (ExemptTag)",
        ),
        (
            {"ExemptTag": "flow-logs=off"},
            {"flow-logs": "off"},
            "VPC is exempt: it has the tag flow-logs=off (ExemptTag)",
        ),
    ],
)
def test_an_exempt_vpc_is_not_applicable_without_describe_calls(
    world: World,
    counter: CallCounter,
    parameters: dict[str, str],
    tags: dict[str, str],
    annotation: str,
) -> None:
    vpc_id = world.vpc()
    parameters = {k: v.format(vpc_id=vpc_id) for k, v in parameters.items()}

    result = invoke(change_event(vpc_id, tags=tags, parameters=parameters))

    assert result == counts(NOT_APPLICABLE=1)
    assert dict(counter.calls) == {"PutEvaluations": 1}
    assert world.recorded()[vpc_id] == ("NOT_APPLICABLE", annotation)


def test_a_tag_with_another_value_does_not_exempt(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()

    result = invoke(
        change_event(vpc_id, tags={"flow-logs": "on"}, parameters={"ExemptTag": "flow-logs=off"})
    )

    assert result == counts(NON_COMPLIANT=1)


def test_a_log_group_in_another_account_does_not_count(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id)
    world.set_flow_log(
        flow_log_id,
        log_destination="arn:aws:logs:us-east-1:111122223333:log-group:/central/flow-logs",
    )

    invoke(change_event(vpc_id))

    assert world.recorded()[vpc_id] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {flow_log_id} delivers to log group "
        "/central/flow-logs in account 111122223333 region us-east-1, not this account and region",
    )
    assert "DescribeLogGroups" not in counter.calls


def test_an_s3_flow_log_to_another_bucket_does_not_count(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    world.bucket("team-bucket")
    flow_log_id = world.flow_log(
        vpc_id, destination_type="s3", destination="arn:aws:s3:::team-bucket"
    )

    invoke(change_event(vpc_id, parameters={"S3BucketArn": "arn:aws:s3:::central-flow-logs"}))

    assert world.recorded()[vpc_id] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {flow_log_id} delivers to "
        "arn:aws:s3:::team-bucket, not to the required bucket arn:aws:s3:::central-flow-logs",
    )
    assert dict(counter.calls) == {"DescribeFlowLogs": 1, "PutEvaluations": 1}


def test_an_s3_flow_log_to_the_required_bucket_counts(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()
    world.bucket("central-flow-logs")
    flow_log_id = world.flow_log(
        vpc_id, destination_type="s3", destination="arn:aws:s3:::central-flow-logs/team-a"
    )

    invoke(change_event(vpc_id, parameters={"S3BucketArn": "arn:aws:s3:::central-flow-logs"}))

    assert world.recorded()[vpc_id] == (
        "COMPLIANT",
        f"REJECT traffic is covered by flow log {flow_log_id}",
    )


CENTRAL_STREAM = "arn:aws:firehose:us-east-1:111122223333:deliverystream/central-flow-logs"
SOURCE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/vpc-flow-logs-guard/FirehoseSource-1A2B"
DESTINATION_ROLE = "arn:aws:iam::111122223333:role/AWSLogDeliveryFirehoseCrossAccountRole-us-east-1"


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        pytest.param(CENTRAL_STREAM, "COMPLIANT", id="the required stream"),
        pytest.param(CENTRAL_STREAM.replace("central", "team"), "NON_COMPLIANT", id="another"),
    ],
)
def test_a_firehose_flow_log_counts_only_to_the_required_stream(
    world: World, counter: CallCounter, stream: str, expected: str
) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(
        vpc_id,
        destination_type="kinesis-data-firehose",
        destination=stream,
        role=SOURCE_ROLE,
        cross_account_role=DESTINATION_ROLE,
    )

    invoke(change_event(vpc_id, parameters={"FirehoseArn": CENTRAL_STREAM}))

    assert world.recorded()[vpc_id] == (
        (expected, f"REJECT traffic is covered by flow log {flow_log_id}")
        if expected == "COMPLIANT"
        else (
            expected,
            f"no flow log covers REJECT traffic; flow log {flow_log_id} delivers to {stream}, "
            f"not to the required stream {CENTRAL_STREAM}",
        )
    )
    # No log group to read: Firehose is judged from DescribeFlowLogs alone
    assert dict(counter.calls) == {"DescribeFlowLogs": 1, "PutEvaluations": 1}


# --- oversized notifications ----------------------------------------------------------------


def test_an_oversized_notification_is_evaluated_in_three_calls(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    world.flow_log(vpc_id, "ALL")

    result = invoke(oversized_event(vpc_id, capture_time="2026-11-20T11:40:03.772Z"))

    assert result == counts(COMPLIANT=1)
    assert dict(counter.calls) == {
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }
    assert reported(counter)[0]["OrderingTimestamp"] == datetime(
        2026, 11, 20, 11, 40, 3, 772000, tzinfo=UTC
    )


def test_an_oversized_notification_fetches_tags_only_when_an_exempt_tag_is_set(
    world: World, counter: CallCounter
) -> None:
    exempt = world.vpc({"flow-logs": "off"})
    plain = world.vpc()
    world.flow_log(plain, "ALL")
    parameters = {"ExemptTag": "flow-logs=off"}

    first = invoke(oversized_event(exempt, parameters=parameters))
    first_calls = dict(counter.calls)
    counter.calls.clear()
    second = invoke(oversized_event(plain, parameters=parameters))

    assert first == counts(NOT_APPLICABLE=1)
    assert first_calls == {"DescribeVpcs": 1, "PutEvaluations": 1}
    assert second == counts(COMPLIANT=1)
    assert dict(counter.calls) == {
        "DescribeVpcs": 1,
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }


def test_an_oversized_notification_of_a_deleted_vpc_makes_no_describe_call(
    world: World, counter: CallCounter
) -> None:
    result = invoke(oversized_event("vpc-0a1b2c3d4e5f60718", status="ResourceDeleted"))

    assert result == counts(NOT_APPLICABLE=1)
    assert dict(counter.calls) == {"PutEvaluations": 1}


# --- scheduled notifications ----------------------------------------------------------------


def test_a_scheduled_run_evaluates_every_vpc_in_a_few_paged_calls(
    world: World, counter: CallCounter
) -> None:
    expected = {world.default_vpc_id: "NON_COMPLIANT"}

    def vpc(outcome: str, tags: dict[str, str] | None = None) -> str:
        vpc_id = world.vpc(tags)
        expected[vpc_id] = outcome
        return vpc_id

    world.flow_log(vpc("COMPLIANT"), "REJECT")
    world.flow_log(vpc("COMPLIANT"), "ALL")
    world.flow_log(vpc("NON_COMPLIANT"), "ACCEPT")
    failed = world.flow_log(vpc("NON_COMPLIANT"), "REJECT")
    world.set_flow_log(
        failed, deliver_logs_status="FAILED", deliver_logs_error_message="Rate limited"
    )
    world.flow_log(vpc("NON_COMPLIANT"), log_group=world.log_group("/a/short", 90))
    world.flow_log(vpc("COMPLIANT"), log_group=world.log_group("/a/forever", None))
    world.flow_log(vpc("NON_COMPLIANT"), log_group="/a/never-created")
    world.flow_log(vpc("NOT_APPLICABLE", {"flow-logs": "exempt"}), "ACCEPT")

    result = invoke(
        scheduled_event(
            notification_time=NOTIFICATION_TIME, parameters={"ExemptTag": "flow-logs=exempt"}
        )
    )

    recorded = world.recorded()
    assert {vpc_id: recorded[vpc_id][0] for vpc_id in expected} == expected
    assert result == counts(COMPLIANT=3, NON_COMPLIANT=5, NOT_APPLICABLE=1)
    assert dict(counter.calls) == {
        "DescribeVpcs": 1,
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "GetComplianceDetailsByConfigRule": 1,
        "PutEvaluations": 1,
    }
    assert {e["OrderingTimestamp"] for e in reported(counter)} == {
        datetime(2026, 11, 22, 6, 0, 0, 512000, tzinfo=UTC)
    }
    assert [p.get("MaxResults") for p in counter.params("DescribeFlowLogs")] == [1000]
    assert "Filter" not in counter.params("DescribeFlowLogs")[0]  # all of them, in one pass


def test_a_scheduled_run_covers_all_with_two_partial_flow_logs(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    world.flow_log(vpc_id, "ACCEPT")
    world.flow_log(vpc_id, "REJECT")
    half = world.vpc()
    world.flow_log(half, "REJECT")

    invoke(scheduled_event(parameters={"TrafficType": "ALL"}))

    recorded = world.recorded()
    compliance, annotation = recorded[half]
    assert recorded[vpc_id][0] == "COMPLIANT"
    assert compliance == "NON_COMPLIANT"
    assert str(annotation).startswith("no flow log covers ACCEPT traffic")


def test_a_scheduled_run_marks_vanished_vpcs_not_applicable(
    world: World, counter: CallCounter
) -> None:
    gone = world.vpc()
    invoke(change_event(gone))
    assert world.recorded()[gone][0] == "NON_COMPLIANT"
    world.ec2.delete_vpc(VpcId=gone)
    counter.calls.clear()

    result = invoke(scheduled_event(notification_time=NOTIFICATION_TIME))

    assert world.recorded()[gone] == ("NOT_APPLICABLE", "VPC no longer exists")
    assert result == counts(NON_COMPLIANT=1, NOT_APPLICABLE=1)  # the default VPC and the gone one
    assert counter.calls["GetComplianceDetailsByConfigRule"] == 1
    assert counter.params("GetComplianceDetailsByConfigRule")[0]["ComplianceTypes"] == [
        "COMPLIANT",
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
    ]


def test_a_scheduled_run_over_250_vpcs_costs_pages_not_vpcs(
    world: World, counter: CallCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws_api, "EC2_PAGE_SIZE", 100)
    for n in range(249):  # and the default VPC: 250
        vpc_id = world.vpc()
        if n % 2:
            world.flow_log(vpc_id, "ALL", log_group=world.log_group(f"/vpc/{n:03d}"))

    result = invoke(scheduled_event())

    assert result == counts(COMPLIANT=124, NON_COMPLIANT=126)
    assert dict(counter.calls) == {
        "DescribeVpcs": 3,  # 250 VPCs, 100 a page
        "DescribeFlowLogs": 2,  # 124 flow logs
        "DescribeLogGroups": 3,  # 124 log groups, 50 a call
        "GetComplianceDetailsByConfigRule": 1,
        "PutEvaluations": 3,  # 250 evaluations, 100 a call
    }
    assert [len(p["Evaluations"]) for p in counter.params("PutEvaluations")] == [100, 100, 50]
    assert len(world.recorded()) == 250


def test_a_steady_scheduled_run_records_nothing_and_still_answers_its_token(
    world: World, counter: CallCounter
) -> None:
    world.flow_log(world.vpc(), "REJECT")
    world.vpc()
    invoke(scheduled_event(notification_time=NOTIFICATION_TIME))
    before = world.recorded()
    counter.calls.clear()
    counter.requests.clear()

    result = invoke(scheduled_event(notification_time="2026-11-23T06:00:00.000Z"))

    assert result == ALL_TYPES
    assert world.recorded() == before
    assert [p["Evaluations"] for p in counter.params("PutEvaluations")] == [[]]
    assert counter.calls["GetComplianceDetailsByConfigRule"] == 1


def test_a_scheduled_run_records_only_the_vpcs_that_changed(
    world: World, counter: CallCounter
) -> None:
    vpcs = [world.vpc() for _ in range(5)]
    flow_logs = [world.flow_log(vpc_id, "REJECT") for vpc_id in vpcs]
    invoke(scheduled_event(notification_time=NOTIFICATION_TIME))
    world.ec2.delete_flow_logs(FlowLogIds=[flow_logs[0]])
    world.logs.put_retention_policy(
        logGroupName=f"/aws/vpc-flow-logs/{vpcs[1]}-reject", retentionInDays=30
    )
    counter.requests.clear()

    result = invoke(scheduled_event(notification_time="2026-11-23T06:00:00.000Z"))

    assert result == counts(NON_COMPLIANT=2)
    assert sorted(e["ComplianceResourceId"] for e in reported(counter)) == sorted(vpcs[:2])
    recorded = world.recorded()
    assert [recorded[vpc_id][0] for vpc_id in vpcs] == ["NON_COMPLIANT"] * 2 + ["COMPLIANT"] * 3


def test_a_gone_vpc_last_judged_compliant_turns_not_applicable_once(
    world: World, counter: CallCounter
) -> None:
    gone = world.vpc()
    flow_log_id = world.flow_log(gone, "REJECT")
    invoke(scheduled_event(notification_time=NOTIFICATION_TIME))
    assert world.recorded()[gone][0] == "COMPLIANT"
    world.ec2.delete_flow_logs(FlowLogIds=[flow_log_id])
    world.ec2.delete_vpc(VpcId=gone)

    invoke(scheduled_event(notification_time="2026-11-23T06:00:00.000Z"))
    counter.requests.clear()
    again = invoke(scheduled_event(notification_time="2026-11-24T06:00:00.000Z"))

    assert world.recorded()[gone] == ("NOT_APPLICABLE", "VPC no longer exists")
    assert again == ALL_TYPES
    assert reported(counter) == []


# --- flow log notifications -----------------------------------------------------------------


def test_a_created_flow_log_turns_its_vpc_compliant_in_three_calls(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    invoke(change_event(vpc_id))
    assert world.recorded()[vpc_id][0] == "NON_COMPLIANT"
    flow_log_id = world.flow_log(vpc_id, "REJECT")
    counter.calls.clear()
    counter.requests.clear()

    result = invoke(flow_log_event(flow_log_id, vpc_id=vpc_id))

    assert result == counts(COMPLIANT=1)
    assert world.recorded()[vpc_id][0] == "COMPLIANT"
    assert flow_log_id not in world.recorded()  # no verdict for the flow log itself
    assert [e["ComplianceResourceType"] for e in reported(counter)] == ["AWS::EC2::VPC"]
    assert dict(counter.calls) == {
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }


def test_a_deleted_flow_log_turns_its_vpc_non_compliant_in_four_calls(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    kept = world.flow_log(vpc_id, "ACCEPT")
    deleted = world.flow_log(vpc_id, "REJECT")
    invoke(flow_log_event(deleted, vpc_id=vpc_id))
    assert world.recorded()[vpc_id][0] == "COMPLIANT"
    world.ec2.delete_flow_logs(FlowLogIds=[deleted])
    counter.calls.clear()

    result = invoke(flow_log_event(deleted, status="ResourceDeleted"))

    assert result == counts(NON_COMPLIANT=1)
    compliance, annotation = world.recorded()[vpc_id]
    assert compliance == "NON_COMPLIANT"
    assert f"flow log {kept} covers ACCEPT traffic only" in str(annotation)
    assert dict(counter.calls) == {
        "GetResourceConfigHistory": 1,
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }


def test_a_deleted_flow_logs_vpc_is_read_from_the_notifications_diff_first(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    kept = world.flow_log(vpc_id, "REJECT")
    deleted = world.flow_log(vpc_id, "ACCEPT")
    world.ec2.delete_flow_logs(FlowLogIds=[deleted])

    result = invoke(flow_log_event(deleted, vpc_id=vpc_id, status="ResourceDeleted"))

    assert result == counts(COMPLIANT=1)
    assert f"covered by flow log {kept}" in str(world.recorded()[vpc_id][1])
    assert dict(counter.calls) == {
        "DescribeFlowLogs": 1,
        "DescribeLogGroups": 1,
        "PutEvaluations": 1,
    }


def test_deleting_the_only_flow_log_checks_that_the_vpc_still_exists(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, "REJECT")
    world.ec2.delete_flow_logs(FlowLogIds=[flow_log_id])

    result = invoke(flow_log_event(flow_log_id, status="ResourceDeleted"))

    assert result == counts(NON_COMPLIANT=1)
    assert dict(counter.calls) == {
        "GetResourceConfigHistory": 1,
        "DescribeFlowLogs": 1,
        "DescribeVpcs": 1,
        "PutEvaluations": 1,
    }


def test_an_oversized_flow_log_notification_finds_its_vpc_in_the_history(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id, "REJECT")

    result = invoke(flow_log_event(flow_log_id, status="OK", oversized=True))

    assert result == counts(COMPLIANT=1)
    assert counter.calls["GetResourceConfigHistory"] == 1
    assert counter.total == 4


def test_a_subnet_flow_log_records_nothing_and_answers_its_token(
    world: World, counter: CallCounter
) -> None:
    subnet_id = world.ec2.create_subnet(VpcId=world.default_vpc_id, CidrBlock="172.31.96.0/20")[
        "Subnet"
    ]["SubnetId"]
    flow_log_id = world.flow_log(subnet_id, "ALL", resource_type="Subnet")

    result = invoke(flow_log_event(flow_log_id, vpc_id=subnet_id))

    assert result == ALL_TYPES
    assert world.recorded() == {}
    assert dict(counter.calls) == {"PutEvaluations": 1}
    assert [p["Evaluations"] for p in counter.params("PutEvaluations")] == [[]]


# --- reporting, failures --------------------------------------------------------------------


def test_a_testmode_token_reports_with_test_mode_and_records_nothing(
    world: World, counter: CallCounter
) -> None:
    vpc_id = world.vpc()

    invoke(change_event(vpc_id, token="TESTMODE"))

    assert [p["TestMode"] for p in counter.params("PutEvaluations")] == [True]
    assert world.recorded() == {}


@pytest.mark.parametrize(
    "parameters",
    [
        {"TrafficType": "SOME"},
        {"MinRetentionDays": "a year"},
        {"AllowedDestinationTypes": "syslog"},
        {"RequireDeliverySuccess": "maybe"},
        {"ExemptVpcIds": "default"},
        {"ExemptTag": "=x"},
        {"Traffic": "ALL"},
    ],
)
def test_invalid_parameters_fail_the_invocation_and_report_nothing(
    counter: CallCounter, parameters: dict[str, str]
) -> None:
    name, value = next(iter(parameters.items()))

    with pytest.raises(ParameterError, match=name) as raised:
        invoke(change_event("vpc-0a1b2c3d4e5f60718", parameters=parameters))

    assert repr(value) in str(raised.value)
    assert counter.total == 0  # not a describe, not a PutEvaluations


def test_an_unsupported_message_type_fails_and_reports_nothing(counter: CallCounter) -> None:
    event = scheduled_event(token="TESTMODE")
    event["invokingEvent"] = json.dumps(
        {"messageType": "ConfigurationSnapshotDeliveryCompleted", "awsAccountId": ACCOUNT_ID}
    )

    with pytest.raises(UnsupportedEventError):
        invoke(event)

    assert counter.total == 0


@pytest.mark.parametrize("kind", ["change", "scheduled"])
def test_a_describe_that_keeps_failing_fails_the_invocation_and_reports_nothing(
    world: World, counter: CallCounter, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    vpc_id = world.vpc()
    world.flow_log(vpc_id, "ALL")
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)

    def throttle(**_: Any) -> Any:
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'  # CloudWatch Logs
        return type("Throttled", (), {"status_code": 400, "headers": {}, "content": body})()

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register_first("before-send.cloudwatch-logs.*", throttle)
    event = change_event(vpc_id) if kind == "change" else scheduled_event()

    with pytest.raises(ClientError, match="ThrottlingException"):
        invoke(event)

    assert counter.calls["DescribeLogGroups"] == 1  # one call, retried by botocore
    assert "PutEvaluations" not in counter.calls
    assert world.recorded() == {}


def test_failed_evaluations_fail_the_invocation(world: World, counter: CallCounter) -> None:
    vpc_id = world.vpc()

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        """Answer PutEvaluations (before it is sent) with every evaluation failed."""
        failed = json.loads(params["body"])["Evaluations"]
        parsed = {"FailedEvaluations": failed, "ResponseMetadata": {"HTTPStatusCode": 200}}
        url = "https://config.us-east-1.amazonaws.com/"
        return AWSResponse(url, 200, HTTPHeaders(), None), parsed

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.config.PutEvaluations", refuse)

    with pytest.raises(PutEvaluationsError, match=vpc_id):
        invoke(change_event(vpc_id))


def test_one_log_line_per_invocation_counts_what_was_reported(
    world: World, counter: CallCounter, log_stream: io.StringIO
) -> None:
    vpc_id = world.vpc()
    world.flow_log(vpc_id, "ALL")

    result = invoke(scheduled_event())

    assert result == counts(COMPLIANT=1, NON_COMPLIANT=1)
    summary = {"evaluations": result, "message_type": "ScheduledNotification"}
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert len(lines) == 1
    assert lines[0]["message"] == "Evaluations reported"
    assert {k: lines[0][k] for k in summary} == summary
    assert lines[0]["aws_calls"] == dict(counter.calls)
    assert lines[0]["function_request_id"] == FakeLambdaContext.aws_request_id


# --- the runbook's S3 path, judged by the rule --------------------------------------------------

CENTRAL_BUCKET = "arn:aws:s3:::central-flow-logs"
CENTRAL_ONLY = {"S3BucketArn": CENTRAL_BUCKET, "AllowedDestinationTypes": "s3"}
LATER = "2026-11-22T07:30:00.000Z"  # after NOTIFICATION_TIME


def run_runbook_to_s3(vpc_id: str, destination: str = CENTRAL_BUCKET) -> dict[str, Any]:
    """The remediation, as the stack configures it for the central bucket."""
    events = runbook_input(vpc_id, DestinationType="s3", S3BucketArn=destination)
    return play(events, boto3.session.Session(region_name="us-east-1")).output


def test_the_runbooks_s3_flow_log_is_compliant_and_another_bucket_is_not(world: World) -> None:
    # Given the central bucket, a team bucket, a fresh VPC and one logging to the team bucket
    world.bucket("central-flow-logs")
    team_bucket = world.bucket("team-bucket")
    fresh = world.vpc()
    elsewhere = world.vpc()
    team_flow_log = world.flow_log(elsewhere, "ALL", destination_type="s3", destination=team_bucket)

    # When the runbook gives the fresh VPC a flow log to the central bucket
    output = run_runbook_to_s3(fresh)
    # And the rule, required to see the central bucket, judges every VPC
    invoke(scheduled_event(notification_time=NOTIFICATION_TIME, parameters=CENTRAL_ONLY))

    # Then the remediated VPC is COMPLIANT, the other bucket does not count
    recorded = world.recorded()
    assert recorded[fresh] == (
        "COMPLIANT",
        f"REJECT traffic is covered by flow log {output['FlowLogId']}",
    )
    assert recorded[elsewhere] == (
        "NON_COMPLIANT",
        f"no flow log covers REJECT traffic; flow log {team_flow_log} delivers to {team_bucket}, "
        f"not to the required bucket {CENTRAL_BUCKET}",
    )

    # And remediating that VPC adds the central flow log, leaves the team's alone, and complies
    fixed = run_runbook_to_s3(elsewhere)
    # (the change Config records after the scheduled run)
    invoke(change_event(elsewhere, capture_time=LATER, parameters=CENTRAL_ONLY))
    assert world.recorded()[elsewhere][0] == "COMPLIANT"
    flow_logs = world.ec2.describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [elsewhere]}]
    )["FlowLogs"]
    assert {fl["FlowLogId"]: fl["LogDestination"] for fl in flow_logs} == {
        team_flow_log: team_bucket,
        fixed["FlowLogId"]: CENTRAL_BUCKET,
    }
