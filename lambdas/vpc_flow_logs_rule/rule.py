"""Puts the AWS look-ups and the decisions together, per kind of notification.

All look-ups happen before anything is reported, so a failed call reports nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Protocol

from vpc_flow_logs_rule import annotation, decision, forwarding
from vpc_flow_logs_rule.model import (
    FLOW_LOG_RESOURCE_TYPE,
    VPC_RESOURCE_TYPE,
    ComplianceType,
    Evaluation,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from vpc_flow_logs_rule.forwarding import SubscriptionFilterPolicy
    from vpc_flow_logs_rule.model import FlowLog, LogGroup, RecordedResult, Vpc
    from vpc_flow_logs_rule.notifications import ChangedResource
    from vpc_flow_logs_rule.parameters import RuleParameters


class RegionReads(Protocol):
    """What judging a region's VPCs reads (the audit command needs only these)."""

    @property
    def region(self) -> str: ...

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]: ...

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]: ...

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]: ...

    def subscription_filter_policies(self) -> list[SubscriptionFilterPolicy]: ...


class Lookups(RegionReads, Protocol):
    """The reads the rule needs (vpc_flow_logs_rule.aws_api.AwsApi provides them)."""

    def recorded_vpc_results(self, rule_name: str) -> dict[str, RecordedResult]: ...

    def flow_log_owner(self, flow_log_id: str) -> str | None: ...


def evaluate_change(
    api: Lookups, parameters: RuleParameters, resource: ChangedResource, *, account_id: str
) -> list[Evaluation]:
    """One evaluation for the VPC of a change notification (for a flow log's: its VPC's, or none).

    Deleted, out-of-scope and exempt VPCs need no look-up. Otherwise: DescribeFlowLogs for this
    VPC, and DescribeLogGroups if it delivers to CloudWatch Logs. The configuration item carries
    the tags; an oversized notification does not, so DescribeVpcs fetches them, only when an
    ExemptTag is set. A flow log's notification goes to :func:`evaluate_flow_log_change`.
    """
    if resource.resource_type == FLOW_LOG_RESOURCE_TYPE:
        return evaluate_flow_log_change(api, parameters, resource, account_id=account_id)

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
    log_groups = _log_groups(api, names, parameters)
    verdict = decision.evaluate_flow_logs(flow_logs, log_groups, parameters, account)
    return result(verdict.compliance_type, verdict.annotation)


def evaluate_flow_log_change(
    api: Lookups, parameters: RuleParameters, resource: ChangedResource, *, account_id: str
) -> list[Evaluation]:
    """The evaluation of the VPC a changed flow log belongs to; none for the flow log itself.

    The owner comes from the item's configuration, or, when the notification has none (a
    deleted flow log, an oversized notification), from the flow log's history in AWS Config
    (one call). A subnet's or an interface's flow log does not count for a VPC: nothing is
    reported. Then the VPC is judged as on its own change: DescribeFlowLogs, DescribeLogGroups
    if it delivers to CloudWatch Logs, and DescribeVpcs when the tags are needed (ExemptTag) or
    no flow log is left (a VPC that is gone has none). Raises ValueError for a configuration
    item status AWS Config does not document.
    """
    status = resource.status
    if resource.left_scope or status == decision.NOT_RECORDED_STATUS:
        return []
    if status not in decision.EVALUATED_STATUSES | decision.DELETED_STATUSES:
        raise ValueError(
            f"Unexpected configurationItemStatus {status!r} for {resource.resource_id}"
        )
    owner = resource.logged_resource_id or api.flow_log_owner(resource.resource_id)
    if owner is None or not owner.startswith("vpc-"):
        return []

    def result(compliance_type: ComplianceType, text: str) -> list[Evaluation]:
        return [Evaluation(owner, compliance_type, text, resource.capture_time)]

    if owner in parameters.exempt_vpc_ids:
        return result(ComplianceType.NOT_APPLICABLE, annotation.exempt_by_id())
    vpcs: list[Vpc] | None = None
    if parameters.exempt_tag is not None:
        vpcs = api.describe_vpcs(owner)
        reason = decision.exemption(owner, vpcs[0].tags, parameters) if vpcs else None
        if reason:
            return result(ComplianceType.NOT_APPLICABLE, reason)
    flow_logs = api.describe_flow_logs(owner)
    if not flow_logs and vpcs is None:
        vpcs = api.describe_vpcs(owner)
    if vpcs is not None and not vpcs:
        return result(ComplianceType.NOT_APPLICABLE, annotation.vpc_gone())
    account = decision.Account(account_id, api.region)
    names = decision.log_groups_to_describe(flow_logs, parameters, account)
    log_groups = _log_groups(api, names, parameters)
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
    """What changed since the rule's recorded results: every VPC judged, only changes reported.

    A VPC is reported when its compliance type or annotation differs from what AWS Config
    holds for it (or it has no result yet); a VPC with a result that is gone is reported
    NOT_APPLICABLE once. Costs O(pages): all VPCs and all flow logs in pages of 1000, the
    referenced log groups 50 a call, and the rule's recorded results 100 a call.
    """
    vpcs, judged = judge_region(api, parameters, account_id, ordering_timestamp)
    recorded = api.recorded_vpc_results(rule_name)
    stale = decision.stale_evaluations(recorded, (vpc.vpc_id for vpc in vpcs), ordering_timestamp)
    return changed_evaluations([*judged, *stale], recorded)


def judge_region(
    api: RegionReads, parameters: RuleParameters, account_id: str, at: datetime
) -> tuple[list[Vpc], list[Evaluation]]:
    """Every VPC of the region and its evaluation: the scheduled run's judgement, which the
    audit command makes too. All VPCs and flow logs in pages, the log groups of in-scope VPCs'
    flow logs 50 a call (and, with ``CentralLogDestinationArn``, the account's one forwarding
    policy)."""
    account = decision.Account(account_id, api.region)
    vpcs = api.describe_vpcs()
    flow_logs = api.describe_flow_logs()
    scoped_ids = {vpc.vpc_id for vpc in decision.in_scope(vpcs, parameters)}
    names = decision.log_groups_to_describe(
        (fl for fl in flow_logs if fl.resource_id in scoped_ids), parameters, account
    )
    log_groups = _log_groups(api, names, parameters)
    evaluations = decision.evaluate_vpcs(
        vpcs,
        flow_logs,
        log_groups,
        parameters,
        account=account,
        ordering_timestamp=at,
    )
    return vpcs, evaluations


def _log_groups(
    api: RegionReads, names: list[str], parameters: RuleParameters
) -> dict[str, LogGroup]:
    """The named log groups that exist; with ``CentralLogDestinationArn``, each marked with
    whether it forwards there, from the account's subscription filter policies (one read per
    invocation, whatever the number of groups)."""
    if not names:
        return {}
    log_groups = api.describe_log_groups(names)
    destination = parameters.central_log_destination_arn
    if destination is None or not log_groups:
        return log_groups
    return forwarding.with_forwarding(log_groups, destination, api.subscription_filter_policies())


def changed_evaluations(
    evaluations: Iterable[Evaluation], recorded: Mapping[str, RecordedResult]
) -> list[Evaluation]:
    """The evaluations that would change what AWS Config holds (type or annotation)."""
    changed = []
    for evaluation in evaluations:
        if evaluation.resource_type != VPC_RESOURCE_TYPE:
            changed.append(evaluation)
            continue
        current = recorded.get(evaluation.resource_id)
        if (
            current is None
            or current.compliance_type != evaluation.compliance_type.value
            or current.annotation != (evaluation.annotation or None)
        ):
            changed.append(evaluation)
    return changed


def summarize(evaluations: Sequence[Evaluation]) -> dict[str, int]:
    """How many evaluations of each compliance type (all three keys, zeros included)."""
    counts = Counter(evaluation.compliance_type for evaluation in evaluations)
    return {compliance.value: counts[compliance] for compliance in ComplianceType}
