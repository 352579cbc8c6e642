"""The runbook and the rule read ``DeliverLogsStatus`` the same way.

EC2 documents the values SUCCESS and FAILED (API reference, ``FlowLog``) and does not promise
the field on a brand-new flow log. Only FAILED disqualifies a flow log, in both: after the
runbook remediates a VPC, the rule says COMPLIANT whatever status the new flow log shows, except
FAILED, which the runbook reports as a failed run and the rule as NON_COMPLIANT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from enable_vpc_flow_logs.common import RemediationError
from tests.support.runbook import play
from tests.unit.lambdas.vpc_flow_logs_rule.builders import (
    FakeLambdaContext,
    World,
    change_event,
)
from tests.unit.ssm_documents.payloads import runbook_input
from vpc_flow_logs_rule import handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

REGION = "us-east-1"
MISSING = None
FIRST = "2026-11-20T09:15:42.318Z"
LATER = "2026-11-20T10:15:42.318Z"


def remediate(world: World, vpc_id: str, status: str | None) -> dict[str, Any]:
    """Run the runbook; the flow log it creates shows ``status`` (None: no status at all)."""
    session = boto3.session.Session(region_name=REGION)

    def created(parsed: dict[str, Any], **_: Any) -> None:
        for flow_log_id in parsed.get("FlowLogIds", []):
            world.set_flow_log(flow_log_id, deliver_logs_status=status)

    session.events.register("after-call.ec2.CreateFlowLogs", created)
    return play(runbook_input(vpc_id), session).output


def judged(world: World, vpc_id: str, capture_time: str) -> tuple[str, str | None]:
    event = change_event(vpc_id, capture_time=capture_time)
    handler.lambda_handler(event, cast("LambdaContext", FakeLambdaContext()))
    return world.recorded()[vpc_id]


def listed_status(world: World, vpc_id: str) -> list[str | None]:
    flow_logs = world.ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])[
        "FlowLogs"
    ]
    return [flow_log.get("DeliverLogsStatus") for flow_log in flow_logs]


@pytest.mark.parametrize("status", ["SUCCESS", MISSING], ids=["SUCCESS", "missing"])
@pytest.mark.usefixtures("aws")
def test_after_remediation_the_rule_says_compliant(status: str | None) -> None:
    world = World()
    vpc_id = world.vpc()

    output = remediate(world, vpc_id, status)

    assert listed_status(world, vpc_id) == [status]
    assert judged(world, vpc_id, FIRST) == (
        "COMPLIANT",
        f"REJECT traffic is covered by flow log {output['FlowLogId']}",
    )


@pytest.mark.usefixtures("aws")
def test_failed_delivery_counts_for_neither() -> None:
    world = World()
    vpc_id = world.vpc()

    # When the new flow log reads back FAILED, the run fails and the rule does not count it
    with pytest.raises(RemediationError, match="cannot deliver to log group"):
        remediate(world, vpc_id, "FAILED")
    compliance, annotation = judged(world, vpc_id, FIRST)
    assert compliance == "NON_COMPLIANT"
    assert "delivery FAILED" in str(annotation)

    # And the next attempt replaces it (the runbook does not count it either), then complies
    output = remediate(world, vpc_id, MISSING)
    assert listed_status(world, vpc_id) == [MISSING]
    assert judged(world, vpc_id, LATER) == (
        "COMPLIANT",
        f"REJECT traffic is covered by flow log {output['FlowLogId']}",
    )
