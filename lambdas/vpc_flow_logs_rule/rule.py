"""Puts the AWS look-ups and the decisions together, per kind of notification.

All look-ups happen before anything is reported, so a failed call reports nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Protocol

from vpc_flow_logs_rule import annotation, decision
from vpc_flow_logs_rule.model import ComplianceType, Evaluation

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from vpc_flow_logs_rule.model import FlowLog, LogGroup, Vpc
    from vpc_flow_logs_rule.notifications import ChangedResource
    from vpc_flow_logs_rule.parameters import RuleParameters


class Lookups(Protocol):
    """The reads the rule needs (vpc_flow_logs_rule.aws_api.AwsApi provides them)."""

    @property
    def region(self) -> str: ...

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]: ...

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]: ...

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]: ...

    def previously_non_compliant_vpc_ids(self, rule_name: str) -> list[str]: ...


def evaluate_change(
    api: Lookups, parameters: RuleParameters, resource: ChangedResource, *, account_id: str
) -> list[Evaluation]:
    """One evaluation for the resource of a change notification.

    Deleted, out-of-scope and exempt VPCs need no look-up. Otherwise: DescribeFlowLogs for this
    VPC, and DescribeLogGroups if it delivers to CloudWatch Logs. The configuration item carries
    the tags; an oversized notification does not, so DescribeVpcs fetches them, only when an
    ExemptTag is set.
    """

    def result(compliance_type: ComplianceType, text: str) -> list[Evaluation]:
        return [
            Evaluation(
                resource.resource_id,
                compliance_type,
                text,
                resource.capture_time,
                resource_type=resource.resource_type,
            )
        ]

    reason = decision.change_not_applicable(
        resource.resource_type,
        resource.resource_id,
        status=resource.status,
        left_scope=resource.left_scope,
        parameters=parameters,
    )
    if reason:
        return result(ComplianceType.NOT_APPLICABLE, reason)

    tags = resource.tags
    if tags is None:
        tags = {}
        if parameters.exempt_tag is not None:
            vpcs = api.describe_vpcs(resource.resource_id)
            if not vpcs:
                return result(ComplianceType.NOT_APPLICABLE, annotation.vpc_gone())
            tags = vpcs[0].tags
    reason = decision.exemption(resource.resource_id, tags, parameters)
    if reason:
        return result(ComplianceType.NOT_APPLICABLE, reason)

    account = decision.Account(account_id, api.region)
    flow_logs = api.describe_flow_logs(resource.resource_id)
    names = decision.log_groups_to_describe(flow_logs, parameters, account)
    log_groups = api.describe_log_groups(names) if names else {}
    verdict = decision.evaluate_flow_logs(flow_logs, log_groups, parameters, account)
    return result(verdict.compliance_type, verdict.annotation)


def evaluate_scheduled(
    api: Lookups,
    parameters: RuleParameters,
    *,
    rule_name: str,
    account_id: str,
    ordering_timestamp: datetime,
) -> list[Evaluation]:
    """Every VPC of the region, plus NOT_APPLICABLE for VPCs that are gone.

    Costs O(pages): all VPCs and all flow logs in pages of 1000, the referenced log groups 50 a
    call, and the rule's NON_COMPLIANT results 100 a call.
    """
    account = decision.Account(account_id, api.region)
    vpcs = api.describe_vpcs()
    flow_logs = api.describe_flow_logs()
    scoped_ids = {vpc.vpc_id for vpc in decision.in_scope(vpcs, parameters)}
    names = decision.log_groups_to_describe(
        (fl for fl in flow_logs if fl.resource_id in scoped_ids), parameters, account
    )
    log_groups = api.describe_log_groups(names) if names else {}
    # Stale clean-up asks only for NON_COMPLIANT results: a deleted VPC must not stay
    # NON_COMPLIANT, while asking for COMPLIANT ones too would add ceil(N/100) calls to every run.
    previously_non_compliant = api.previously_non_compliant_vpc_ids(rule_name)
    return [
        *decision.evaluate_vpcs(
            vpcs,
            flow_logs,
            log_groups,
            parameters,
            account=account,
            ordering_timestamp=ordering_timestamp,
        ),
        *decision.stale_evaluations(
            previously_non_compliant, (vpc.vpc_id for vpc in vpcs), ordering_timestamp
        ),
    ]


def summarize(evaluations: Sequence[Evaluation]) -> dict[str, int]:
    """How many evaluations of each compliance type (all three keys, zeros included)."""
    counts = Counter(evaluation.compliance_type for evaluation in evaluations)
    return {compliance.value: counts[compliance] for compliance in ComplianceType}
