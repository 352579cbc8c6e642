"""The only module that talks to AWS: makes the clients, pages through results, reports.

Every call goes through botocore's standard retry mode; an error that survives the retries
propagates, so the invocation fails and AWS Config tries again instead of recording a wrong result.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

from vpc_flow_logs_rule.forwarding import SubscriptionFilterPolicy, subscription_filter_policy
from vpc_flow_logs_rule.model import (
    FLOW_LOG_RESOURCE_TYPE,
    TEST_MODE_TOKEN,
    VPC_RESOURCE_TYPE,
    FlowLog,
    LogGroup,
    RecordedResult,
    Vpc,
)
from vpc_flow_logs_rule.notifications import logged_resource_id

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_config.type_defs import EvaluationTypeDef
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_logs import CloudWatchLogsClient

    from vpc_flow_logs_rule.model import Evaluation

CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
)
EC2_PAGE_SIZE: Final = 1000  # DescribeVpcs / DescribeFlowLogs maximum
LOG_GROUPS_PER_CALL: Final = 50  # DescribeLogGroups logGroupIdentifiers maximum
EVALUATIONS_PER_CALL: Final = 100  # PutEvaluations maximum
COMPLIANCE_PAGE_SIZE: Final = 100  # GetComplianceDetailsByConfigRule maximum
# The filterable compliance types: INSUFFICIENT_DATA "cannot be used as a ComplianceType for
# filtering results" (GetComplianceDetailsByConfigRule, AWS Config API reference).
RECORDED_COMPLIANCE_TYPES: Final = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
# Configuration items of one flow log, newest first, in its single history call: the deletion
# item and the ones before it. More than a few means the flow log was changed a lot in a week.
HISTORY_ITEMS: Final = 10
SUBSCRIPTION_FILTER_POLICY: Final = "SUBSCRIPTION_FILTER_POLICY"


class PutEvaluationsError(RuntimeError):
    """AWS Config answered PutEvaluations with FailedEvaluations."""


class AwsApi:
    """AWS calls of one invocation; clients are created on first use.

    ``calls`` counts the requests made, by operation (retries not included).
    """

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self.calls: Counter[str] = Counter()
        self._subscription_filter_policies: list[SubscriptionFilterPolicy] | None = None

    @cached_property
    def session(self) -> boto3.session.Session:
        if self._session is not None:
            return self._session
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()  # shared, so warm invocations reuse loaded models
        return boto3.DEFAULT_SESSION or boto3.session.Session()

    @cached_property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise RuntimeError("No AWS region configured (AWS_REGION is set in Lambda)")
        return region

    @cached_property
    def ec2(self) -> EC2Client:
        return self.session.client("ec2", config=CLIENT_CONFIG)

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        return self.session.client("logs", config=CLIENT_CONFIG)

    @cached_property
    def config(self) -> ConfigServiceClient:
        return self.session.client("config", config=CLIENT_CONFIG)

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        """Every VPC of the region, or the one given (empty if it no longer exists)."""
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": EC2_PAGE_SIZE}}
        if vpc_id:
            kwargs["Filters"] = [{"Name": "vpc-id", "Values": [vpc_id]}]
        vpcs: list[Vpc] = []
        pages = self.ec2.get_paginator("describe_vpcs").paginate(**kwargs)
        for page in pages:
            self.calls["DescribeVpcs"] += 1
            vpcs.extend(
                Vpc(vpc["VpcId"], {tag["Key"]: tag["Value"] for tag in vpc.get("Tags", [])})
                for vpc in page["Vpcs"]
            )
        return vpcs

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        """Flow logs attached to VPCs: all of the region's, or those of one VPC.

        DescribeFlowLogs has no resource-type filter, so subnet, interface and other flow logs
        are dropped here by their resource id.
        """
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": EC2_PAGE_SIZE}}
        if vpc_id:
            kwargs["Filters"] = [{"Name": "resource-id", "Values": [vpc_id]}]
        flow_logs: list[FlowLog] = []
        pages = self.ec2.get_paginator("describe_flow_logs").paginate(**kwargs)
        for page in pages:
            self.calls["DescribeFlowLogs"] += 1
            flow_logs.extend(
                FlowLog.from_description(item)
                for item in page["FlowLogs"]
                if item.get("ResourceId", "").startswith("vpc-")
            )
        return flow_logs

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        """The named log groups that exist, by name, 50 names a call.

        Outside a cross-account monitoring account, logGroupIdentifiers takes names only.
        """
        wanted = sorted(set(names))
        found: dict[str, LogGroup] = {}
        for start in range(0, len(wanted), LOG_GROUPS_PER_CALL):
            chunk = wanted[start : start + LOG_GROUPS_PER_CALL]
            kwargs: dict[str, Any] = {"logGroupIdentifiers": chunk}
            while True:
                self.calls["DescribeLogGroups"] += 1
                response = self.logs.describe_log_groups(**kwargs)
                for group in response.get("logGroups", []):
                    name = group.get("logGroupName", "")
                    if name in chunk:
                        found[name] = LogGroup(name, group.get("retentionInDays"))
                token = response.get("nextToken")
                if not token:
                    break
                kwargs["nextToken"] = token
        return found

    def subscription_filter_policies(self) -> list[SubscriptionFilterPolicy]:
        """The account's subscription filter policies in this Region, read once per invocation.

        "Each account can have one account-level subscription filter policy per Region"
        (PutAccountPolicy), so this is one call; DescribeAccountPolicies has no paginator, its
        ``nextToken`` is followed all the same. Needs logs:DescribeAccountPolicies and
        logs:DescribeSubscriptionFilters (DescribeAccountPolicies, API Reference).
        """
        if self._subscription_filter_policies is None:
            policies: list[SubscriptionFilterPolicy] = []
            kwargs: dict[str, Any] = {"policyType": SUBSCRIPTION_FILTER_POLICY}
            while True:
                self.calls["DescribeAccountPolicies"] += 1
                response = self.logs.describe_account_policies(**kwargs)
                policies.extend(
                    subscription_filter_policy(
                        item.get("policyName", ""),
                        item.get("policyDocument"),
                        item.get("selectionCriteria"),
                    )
                    for item in response.get("accountPolicies", [])
                )
                token = response.get("nextToken")
                if not token:
                    break
                kwargs["nextToken"] = token
            self._subscription_filter_policies = policies
        return self._subscription_filter_policies

    def recorded_vpc_results(self, rule_name: str) -> dict[str, RecordedResult]:
        """The latest result of ``rule_name`` for every VPC, by VPC id, 100 a call."""
        results: dict[str, RecordedResult] = {}
        pages = self.config.get_paginator("get_compliance_details_by_config_rule").paginate(
            ConfigRuleName=rule_name,
            ComplianceTypes=list(RECORDED_COMPLIANCE_TYPES),
            PaginationConfig={"PageSize": COMPLIANCE_PAGE_SIZE},
        )
        for page in pages:
            self.calls["GetComplianceDetailsByConfigRule"] += 1
            for result in page.get("EvaluationResults", []):
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                if qualifier.get("ResourceType") == VPC_RESOURCE_TYPE and "ResourceId" in qualifier:
                    results[qualifier["ResourceId"]] = RecordedResult(
                        result.get("ComplianceType", ""), result.get("Annotation") or None
                    )
        return results

    def flow_log_owner(self, flow_log_id: str) -> str | None:
        """The resource a flow log logs, from its history in AWS Config: one call.

        A deleted flow log's own item has no configuration; the items before it do. Newest
        first is GetResourceConfigHistory's default order. None when Config has no item with a
        configuration among the newest (or knows nothing of the flow log).
        """
        self.calls["GetResourceConfigHistory"] += 1
        try:
            response = self.config.get_resource_config_history(
                resourceType=FLOW_LOG_RESOURCE_TYPE,
                resourceId=flow_log_id,
                chronologicalOrder="Reverse",
                limit=HISTORY_ITEMS,
            )
        except self.config.exceptions.ResourceNotDiscoveredException:
            return None
        for item in response.get("configurationItems", []):
            text = item.get("configuration")
            if not text:
                continue
            configuration = json.loads(text)
            owner = logged_resource_id(configuration if isinstance(configuration, dict) else None)
            if owner:
                return owner
        return None

    def put_evaluations(self, evaluations: Sequence[Evaluation], result_token: str) -> None:
        """Report in batches of 100; ``TESTMODE`` tokens report with TestMode (nothing kept).

        Nothing to report is still one call, with an empty list: PutEvaluations "is required in
        every Lambda function that is invoked by an AWS Config rule" and takes 0 to 100
        evaluations (AWS Config API reference), so the invocation answers its result token.
        """
        test_mode = result_token == TEST_MODE_TOKEN
        for start in range(0, max(len(evaluations), 1), EVALUATIONS_PER_CALL):
            batch = [_to_aws(e) for e in evaluations[start : start + EVALUATIONS_PER_CALL]]
            self.calls["PutEvaluations"] += 1
            response = self.config.put_evaluations(
                Evaluations=batch, ResultToken=result_token, TestMode=test_mode
            )
            failed = response.get("FailedEvaluations", [])
            if failed:
                ids = ", ".join(item.get("ComplianceResourceId", "?") for item in failed)
                raise PutEvaluationsError(
                    f"AWS Config did not accept {len(failed)} of {len(batch)} evaluations "
                    f"(batch starting at {start}): {ids}"
                )


def _to_aws(evaluation: Evaluation) -> EvaluationTypeDef:
    item: EvaluationTypeDef = {
        "ComplianceResourceType": evaluation.resource_type,
        "ComplianceResourceId": evaluation.resource_id,
        "ComplianceType": evaluation.compliance_type.value,
        "OrderingTimestamp": evaluation.ordering_timestamp,
    }
    if evaluation.annotation:
        item["Annotation"] = evaluation.annotation
    return item
