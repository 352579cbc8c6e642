"""What the remediation runbook would do for a VPC, decided by the runbook's own code (pure).

The runbook's input is built from the same settings the deployment gives it
(:meth:`stacks.settings.account.Settings.runbook_parameters`) and validated by its own
``parse_request``; its decisions are imported from its steps' modules (``enable_vpc_flow_logs``:
``plan_flow_log`` of ``CheckInput``, ``delivery_role_problems`` and ``policies_equal`` of
``DeliveryRole``, ``retention_to_set`` of ``LogGroup``), and :func:`plan_vpc` takes them in the
order of the document's steps, on what their reads would return (handed in as
:class:`RunbookReads`). Nothing is written.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import yaml

from enable_vpc_flow_logs.boundary import BOUNDARY_PATH
from enable_vpc_flow_logs.common import (
    CLOUD_WATCH_LOGS,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    destination_text,
)
from enable_vpc_flow_logs.delivery_role import (
    INLINE_POLICY_NAME,
    delivery_policy,
    delivery_role_problems,
    policies_equal,
    trust_policy,
)
from enable_vpc_flow_logs.flow_log_plan import FlowLogPlan, flow_log_id, plan_flow_log
from enable_vpc_flow_logs.input_checks import InvalidInputError
from enable_vpc_flow_logs.log_group import retention_to_set
from enable_vpc_flow_logs.request import parse_request
from stacks.settings.account import in_region
from vpc_flow_logs_guard.model import VpcPlan

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_ec2.type_defs import FlowLogTypeDef
    from mypy_boto3_iam.type_defs import RoleTypeDef
    from mypy_boto3_logs.type_defs import LogGroupTypeDef

    from enable_vpc_flow_logs.request import Request
    from stacks.settings.account import Settings

DOCUMENT: Final = (
    Path(__file__).resolve().parent.parent / "ssm_documents" / "enable_vpc_flow_logs.yaml"
)
"""The runbook's document (``stacks.constructs.remediation_runbook.DOCUMENT_PATH``); its
defaults apply."""
BOUNDARY_NAME: Final = "DeliveryRoleBoundary"
"""Stands for the stack's boundary, whose name CloudFormation generates at deployment."""
BOUNDARY_TEXT: Final = "the stack's DeliveryRoleBoundaryArn"
SOURCE_ROLE_NAME: Final = "vpc-flow-logs-guard/FirehoseSourceRole"
"""Stands for the stack's Firehose source account role (a generated name under that path)."""


class RunbookReads(Protocol):
    """The runbook's reads of one account and region (read-only calls only)."""

    def flow_logs(self, vpc_id: str) -> list[FlowLogTypeDef]: ...

    def role(self, name: str) -> RoleTypeDef | None: ...

    def inline_policy(self, role_name: str, policy_name: str) -> object | None: ...

    def log_group(self, name: str) -> LogGroupTypeDef | None: ...

    def log_group_tags(self, arn: str) -> dict[str, str]: ...


def boundary_arn(partition: str, account_id: str) -> str:
    """A boundary ARN the runbook accepts, standing for the stack's (see ``BOUNDARY_NAME``)."""
    return f"arn:{partition}:iam::{account_id}:policy{BOUNDARY_PATH}{BOUNDARY_NAME}"


@cache
def document_defaults() -> dict[str, str]:
    """The document's parameter defaults: SSM gives them for parameters the remediation omits."""
    parameters = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))["parameters"]
    return {name: str(p["default"]) for name, p in parameters.items() if "default" in p}


def runbook_input(
    settings: Settings, vpc_id: str, *, account_id: str, region: str, partition: str
) -> dict[str, str]:
    """The runbook's InputPayload as the deployed remediation would give it for ``vpc_id``."""
    parameters = settings.runbook_parameters(
        boundary_arn=boundary_arn(partition, account_id),
        firehose_source_role_arn=f"arn:{partition}:iam::{account_id}:role/{SOURCE_ROLE_NAME}",
    )
    return {
        **document_defaults(),
        **in_region(parameters, region),
        "VpcId": vpc_id,
        "AccountId": account_id,
        "Region": region,
        "Partition": partition,
    }


def plan_vpc(payload: Mapping[str, object], reads: RunbookReads) -> VpcPlan:
    """The runbook's steps for one VPC, as the document takes them, without writing."""
    try:
        request = parse_request(payload)
    except InvalidInputError as error:
        return VpcPlan("", "", "", blocker=f"the runbook would refuse its input: {error}")
    flow = plan_flow_log(reads.flow_logs(request["VpcId"]), request)
    if flow.satisfying is None and flow.conflicts:
        return VpcPlan(
            "",
            "",
            "",
            blocker=f"VPC {request['VpcId']} already has a flow log to "
            f"{destination_text(request)} that the runbook did not create and that does not "
            f"satisfy the request: {', '.join(flow.conflicts)}",
        )
    role = group = ""
    if request["DestinationType"] == CLOUD_WATCH_LOGS:  # the branch skips both steps otherwise
        existing = flow.satisfying.get("DeliverLogsPermissionArn", "") if flow.satisfying else ""
        if existing and existing.rsplit("/", 1)[-1] != request["DeliveryRoleName"]:
            role = f"leave alone: the flow log kept delivers with {existing}"
        else:
            role, blocker = _delivery_role(request, reads)
            if blocker:
                return VpcPlan("", "", "", blocker=blocker)
        group = _log_group(request, reads)
    return VpcPlan(role, group, _flow_log(request, flow))


def _delivery_role(request: Request, reads: RunbookReads) -> tuple[str, str]:
    """(what happens to the delivery role, why the run would stop or '')."""
    name, policy = request["DeliveryRoleName"], INLINE_POLICY_NAME
    role = reads.role(name)
    if role is None:
        return f"create {name} within {BOUNDARY_TEXT}, with inline policy {policy}", ""
    trust = trust_policy(request["Partition"], request["AccountId"])
    problems = delivery_role_problems(role, trust, request)
    if problems:
        text = "; ".join(problems).replace(request["DeliveryRoleBoundaryArn"], f"<{BOUNDARY_TEXT}>")
        return "", f"delivery role {name} cannot be used: {text}"
    current = reads.inline_policy(name, policy)
    if current is None:
        return f"keep {name}; write its inline policy {policy}", ""
    wanted = delivery_policy(request["Partition"], request["AccountId"])
    if not policies_equal(current, wanted):
        return f"keep {name}; repair its inline policy {policy}", ""
    return f"keep {name}", ""


def _log_group(request: Request, reads: RunbookReads) -> str:
    name, days, key = request["LogGroupName"], request["RetentionInDays"], request["KmsKeyArn"]
    group = reads.log_group(name)
    if group is None:
        encrypted = f", encrypted with {key}" if key else ""
        return f"create {name}{encrypted}, retention {days} days"
    current = group.get("retentionInDays")
    ours = (
        current is None
        and reads.log_group_tags(request["LogGroupArn"]).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE
    )
    raise_to = retention_to_set(current, days, ours=ours)
    changes = []
    if raise_to is not None:
        changes.append(
            f"set retention of {name} to {raise_to} days"
            if current is None
            else f"raise retention of {name} from {current} to {raise_to} days"
        )
    if key and group.get("kmsKeyId") != key:
        changes.append(f"associate KMS key {key} with {name}")
    kept = "never expires" if current is None else f"{current} days"
    return "; ".join(changes) or f"keep {name} (retention {kept})"


def _flow_log(request: Request, flow: FlowLogPlan) -> str:
    replaced = ", ".join(flow_log_id(fl) for fl in flow.replaceable)
    if flow.satisfying is not None:
        kept = f"keep {flow_log_id(flow.satisfying)}"
        return f"{kept}; delete {replaced} (superseded)" if replaced else kept
    created = (
        f"create: {request['TrafficType']} traffic to {destination_text(request)}, "
        f"aggregation {request['MaxAggregationInterval']}s"
    )
    return f"{created}; delete {replaced} (replaced)" if replaced else created
