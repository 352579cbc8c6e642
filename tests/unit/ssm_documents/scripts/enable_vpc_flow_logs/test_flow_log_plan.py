"""Which flow log satisfies a request, which of ours are replaced, and whose are in the way."""

from __future__ import annotations

from typing import Any

import pytest

from enable_vpc_flow_logs.flow_log_plan import (
    FlowLogPlan,
    covers_traffic,
    decision,
    plan_flow_log,
    unmet_requirements,
)
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import (
    ACCOUNT,
    DESTINATION_ROLE,
    OURS,
    REGION,
    SOURCE_ROLE,
    STREAM,
    flow_log,
    request,
    to_firehose,
)


@pytest.mark.parametrize(
    ("existing", "requested", "covers"),
    [
        ("ALL", "REJECT", True),
        ("ALL", "ACCEPT", True),
        ("ALL", "ALL", True),
        ("REJECT", "REJECT", True),
        ("REJECT", "ALL", False),
        ("ACCEPT", "REJECT", False),
    ],
)
def test_traffic_coverage(existing: str, requested: str, covers: bool) -> None:
    assert covers_traffic(existing, requested) is covers


ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc-flow-logs/vpc-0123456789abcdef0"


@pytest.mark.parametrize(
    ("fields", "overrides", "reason"),
    [
        ({}, {}, None),
        ({"LogGroupName": None, "LogDestination": ARN}, {}, None),
        ({"LogGroupName": None, "LogDestination": ARN + ":*"}, {}, None),
        ({"MaxAggregationInterval": 60}, {}, None),
        ({"LogFormat": "${version}  ${action}"}, {"LogFormat": "${version} ${action}"}, None),
        ({"FlowLogStatus": "DELETING"}, {}, "not ACTIVE"),
        (
            {"DeliverLogsStatus": "FAILED", "DeliverLogsErrorMessage": "Rate limited"},
            {},
            "delivery FAILED (Rate limited)",
        ),
        ({"TrafficType": "ACCEPT"}, {}, "does not cover REJECT"),
        ({"LogGroupName": "/aws/vpc-flow-logs/other"}, {}, "does not deliver"),
        (
            {"LogGroupName": None, "LogDestination": ARN.replace(ACCOUNT, "210987654321")},
            {},
            "does not deliver",
        ),
        ({"LogDestinationType": "s3", "LogGroupName": None}, {}, "does not deliver"),
        ({}, {"MaxAggregationInterval": 60}, "600s is longer than 60s"),
        ({}, {"LogFormat": "${version} ${srcaddr}"}, "log format differs"),
    ],
)
def test_what_satisfies_a_request(
    fields: dict[str, Any], overrides: dict[str, object], reason: str | None
) -> None:
    reasons = unmet_requirements(flow_log(**fields), request(**overrides))

    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1
        assert reason in reasons[0]


def test_plan_prefers_our_satisfying_flow_log_and_replaces_only_ours() -> None:
    foreign_ok = flow_log(FlowLogId="fl-a", TrafficType="ALL")
    ours_ok = flow_log(FlowLogId="fl-b", Tags=OURS)
    ours_bad = flow_log(FlowLogId="fl-c", Tags=OURS, DeliverLogsStatus="FAILED")
    foreign_bad = flow_log(FlowLogId="fl-d", TrafficType="ACCEPT")
    elsewhere = flow_log(FlowLogId="fl-e", LogGroupName="/x", TrafficType="ACCEPT")

    plan = plan_flow_log([foreign_ok, ours_ok, ours_bad, foreign_bad, elsewhere], request())

    assert plan.satisfying is ours_ok
    assert [fl.get("FlowLogId") for fl in plan.replaceable] == ["fl-c"]
    assert [conflict.split()[0] for conflict in plan.conflicts] == ["fl-d"]


def test_the_plan_the_later_steps_read_names_flow_logs_by_id() -> None:
    kept = flow_log(FlowLogId="fl-b", DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/r")
    stale = flow_log(FlowLogId="fl-c", Tags=OURS, TrafficType="ACCEPT")

    assert decision(FlowLogPlan(satisfying=kept, replaceable=(stale,))) == {
        "Keep": "fl-b",
        "KeepDeliveryRoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
        "Replace": ["fl-c"],
    }
    assert decision(FlowLogPlan(satisfying=None, replaceable=(stale,))) == {
        "Keep": "",
        "KeepDeliveryRoleArn": "",
        "Replace": ["fl-c"],
    }


def test_an_s3_flow_log_must_have_the_requested_options() -> None:
    s3 = {"DestinationType": "s3", "S3BucketArn": "arn:aws:s3:::b-1", "DeliveryRoleBoundaryArn": ""}
    existing = flow_log(
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::b-1/",
        LogGroupName=None,
        DestinationOptions={"FileFormat": "parquet"},
    )

    assert unmet_requirements(existing, request(**s3)) == ["FileFormat is parquet, not plain-text"]
    assert unmet_requirements(existing, request(**s3, S3FileFormat="parquet")) == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        # EC2's API reference spells a stream ...:deliverystream:<name>: the same stream
        ({"LogDestination": STREAM.replace(":deliverystream/", ":deliverystream:")}, None),
        # the roles it delivers with are not judged, as the rule does not: it delivers
        ({"DeliverLogsPermissionArn": "arn:aws:iam::210987654321:role/other"}, None),
        ({"DeliverCrossAccountRole": None}, None),
        ({"LogDestination": STREAM.replace("central-flow-logs", "other")}, "does not deliver"),
        ({"LogDestinationType": "s3", "LogDestination": STREAM}, "does not deliver"),
        ({"TrafficType": "ACCEPT"}, "does not cover REJECT"),
        ({"DeliverLogsStatus": "FAILED"}, "delivery FAILED"),
        ({"MaxAggregationInterval": 600}, None),
    ],
)
def test_what_satisfies_a_firehose_request(fields: dict[str, Any], reason: str | None) -> None:
    described: dict[str, Any] = {
        "LogDestinationType": "kinesis-data-firehose",
        "LogDestination": STREAM,
        "LogGroupName": None,
        "DeliverLogsPermissionArn": SOURCE_ROLE,
        "DeliverCrossAccountRole": DESTINATION_ROLE,
    } | fields
    existing = flow_log(**described)
    for absent in [key for key, value in described.items() if value is None]:
        existing.pop(absent)  # type: ignore[misc]  # as DescribeFlowLogs leaves it out

    reasons = unmet_requirements(existing, request(**to_firehose()))

    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1
        assert reason in reasons[0]


def test_a_firehose_plan_replaces_ours_to_the_stream_and_leaves_other_streams_alone() -> None:
    to_stream = {"LogDestinationType": "kinesis-data-firehose", "LogGroupName": None}
    ours_stale = flow_log(
        FlowLogId="fl-a", Tags=OURS, TrafficType="ACCEPT", **to_stream, LogDestination=STREAM
    )
    other_stream = flow_log(
        FlowLogId="fl-b", TrafficType="ACCEPT", **to_stream, LogDestination=STREAM + "-2"
    )
    foreign_stale = flow_log(
        FlowLogId="fl-c", TrafficType="ACCEPT", **to_stream, LogDestination=STREAM
    )

    plan = plan_flow_log([ours_stale, other_stream, foreign_stale], request(**to_firehose()))

    assert plan.satisfying is None
    assert [fl.get("FlowLogId") for fl in plan.replaceable] == ["fl-a"]
    assert [conflict.split()[0] for conflict in plan.conflicts] == ["fl-c"]
