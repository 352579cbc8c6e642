"""The runbook, measured: a fresh VPC, and one that is already compliant.

The document plays in this process (``tests.support.runbook``): its steps in order, each script
step calling its module with the input the document gives it. ``CheckInput`` gets what its
Automation step would pass: its ``InputPayload`` with the parameters' defaults, the VPC id, the
stack's boundary and the automation globals (``tests.unit.ssm_documents.payloads``). Two things
are injected as the scripts' tests inject them: the boto3 session the clients come from (so the
calls can be counted) and an instant ``sleep`` (moto has no IAM propagation delay to wait for,
so it is never called).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from enable_vpc_flow_logs.delivery_role import INLINE_POLICY_NAME
from tests.benchmarks.measure import Measurement, measure
from tests.support.runbook import play
from tests.unit.ssm_documents.payloads import REGION, runbook_input

if TYPE_CHECKING:
    import boto3

FRESH_WITHOUT_ROLE: Final = "fresh VPC, no delivery role yet"
FRESH: Final = "fresh VPC, delivery role exists"
ALREADY_COMPLIANT: Final = "already-compliant VPC (run again)"


def _instant(seconds: float) -> None:
    del seconds


@dataclass(frozen=True)
class Remediation:
    output: dict[str, Any]
    measurement: Measurement


def remediate(session: boto3.session.Session, vpc_id: str) -> Remediation:
    """One run of the runbook for ``vpc_id``, counted and timed."""
    events = runbook_input(vpc_id)

    def run() -> dict[str, Any]:
        return play(events, session, sleep=_instant).output

    output, measurement = measure(session, run)
    return Remediation(output, measurement)


def forget_delivery_role(session: boto3.session.Session, role_name: str) -> None:
    """Delete the delivery role, so the next run meets an account that never had one."""
    iam = session.client("iam")
    try:
        iam.delete_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY_NAME)
        iam.delete_role(RoleName=role_name)
    except iam.exceptions.NoSuchEntityException:
        return


def delivery_role_name() -> str:
    return str(runbook_input("vpc-00000000")["DeliveryRoleName"])


def warm_up(session: boto3.session.Session) -> None:
    """Load the runbook's service models into the session before anything is timed."""
    for service in ("ec2", "iam", "logs"):
        session.client(service, region_name=REGION)
