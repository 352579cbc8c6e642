"""The SDK floor the script's requests are held to is an old release, and it bites."""

from __future__ import annotations

from pathlib import Path

import botocore

from tests.support.service_models import ApiRequest, ServiceModels
from tests.unit.ssm_documents.scripts.enable_vpc_flow_logs.builders import BOTOCORE_FLOOR


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_floor_is_older_than_the_installed_sdk() -> None:
    assert version(BOTOCORE_FLOOR) < version(botocore.__version__)
    assert version(BOTOCORE_FLOOR) < (1, 34, 0)  # 1.34.0 was built on 2023-12-13


def test_the_floor_refuses_what_it_does_not_know_and_accepts_what_the_script_sends() -> None:
    floor = ServiceModels(BOTOCORE_FLOOR)
    # DescribeLogGroups' logGroupIdentifiers came in 2025 (the rule's parameter, not ours)
    newer = ApiRequest("logs", "DescribeLogGroups", {"logGroupIdentifiers": ["a"]})
    ours = ApiRequest("logs", "DescribeLogGroups", {"logGroupNamePrefix": "/aws/vpc-flow-logs/"})

    assert floor.problems(newer)
    assert floor.problems(ours) == []
    assert ServiceModels(botocore.__version__).problems(newer) == []


def test_the_runbook_page_names_the_floor_the_tests_use() -> None:
    page = Path(__file__).parents[5] / "docs" / "runbook.md"
    text = " ".join(page.read_text(encoding="utf-8").split())

    assert f"The floor is **botocore {BOTOCORE_FLOOR}**" in text


def test_the_floor_knows_cross_account_firehose_flow_logs() -> None:
    # CreateFlowLogs as the Firehose path sends it: DeliverCrossAccountRole is in 1.31.0's model
    floor = ServiceModels(BOTOCORE_FLOOR)
    to_stream = {
        "ResourceIds": ["vpc-0123456789abcdef0"],
        "ResourceType": "VPC",
        "TrafficType": "REJECT",
        "LogDestinationType": "kinesis-data-firehose",
        "LogDestination": "arn:aws:firehose:us-east-1:111122223333:deliverystream/central",
        "DeliverLogsPermissionArn": "arn:aws:iam::123456789012:role/vpc-flow-logs-guard/Source",
        "DeliverCrossAccountRole": "arn:aws:iam::111122223333:role/"
        "AWSLogDeliveryFirehoseCrossAccountRole",
    }

    assert floor.problems(ApiRequest("ec2", "CreateFlowLogs", to_stream)) == []
    assert floor.problems(ApiRequest("ec2", "CreateFlowLogs", {**to_stream, "Unknown": "x"}))
