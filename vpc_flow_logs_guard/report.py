"""The rule's recorded results for the organization, from an AWS Config aggregator (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vpc_flow_logs_guard.model import Failure, Findings, VpcResult
from vpc_flow_logs_rule.model import VPC_RESOURCE_TYPE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


def findings_from_aggregate(
    places: Sequence[tuple[str, str]],
    results: Iterable[Mapping[str, Any]],
    *,
    aggregator: str,
    rule_name: str,
) -> Findings:
    """One result per VPC from GetAggregateComplianceDetailsByConfigRule's answers.

    ``places`` are the (account, region) pairs where the aggregator knows the rule; none at all
    is a failure (wrong aggregator or rule name, or the aggregator has not collected yet), not a
    clean bill of health.
    """
    found = []
    for result in results:
        qualifier = result.get("EvaluationResultIdentifier", {}).get(
            "EvaluationResultQualifier", {}
        )
        if qualifier.get("ResourceType") != VPC_RESOURCE_TYPE:
            continue
        found.append(
            VpcResult(
                result.get("AccountId", ""),
                result.get("AwsRegion", ""),
                qualifier.get("ResourceId", ""),
                result.get("ComplianceType", ""),
                result.get("Annotation", ""),
            )
        )
    failures: tuple[Failure, ...] = ()
    if not places:
        failures = (
            Failure(
                "-",
                None,
                f"aggregator {aggregator} has no results of rule {rule_name} in any account",
            ),
        )
    return Findings(tuple(found), failures).sorted()
