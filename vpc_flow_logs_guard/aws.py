"""The only module of the command that talks to AWS: sessions, clients, paging, errors.

Read-only calls only. Every client uses botocore's ``adaptive`` retry mode (standard retries plus
client-side rate limiting when AWS throttles; boto3 guide "Retries"). An AWS error becomes an
:class:`AccessError` whose message names the call and AWS's code, so the audit reports it for
that account or region and carries on.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Final, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vpc_flow_logs_guard.model import AccessError
from vpc_flow_logs_rule.aws_api import AwsApi

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_config.type_defs import AggregateEvaluationResultTypeDef
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FlowLogTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import RoleTypeDef
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import LogGroupTypeDef

    from vpc_flow_logs_rule.model import FlowLog, LogGroup, Vpc

MAX_POOL_CONNECTIONS: Final = 16
CLIENT_CONFIG: Final = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=MAX_POOL_CONNECTIONS,
)
SESSION_NAME: Final = "vpc-flow-logs-guard-audit"
AGGREGATE_PAGE_SIZE: Final = 100  # GetAggregateComplianceDetailsByConfigRule maximum

T = TypeVar("T")


def _call(what: str, function: Callable[[], T]) -> T:
    try:
        return function()
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        raise AccessError(f"{what}: {code}: {details.get('Message', str(error))}") from error
    except BotoCoreError as error:
        raise AccessError(f"{what}: {error}") from error


class RegionLookups(AwsApi):
    """The rule's own reads (:class:`vpc_flow_logs_rule.aws_api.AwsApi`) for one region.

    Its clients are made when it is created, under the account's lock (a boto3 session is not
    thread-safe; its clients are), with this command's retry settings.
    """

    def __init__(self, session: boto3.session.Session, region: str) -> None:
        super().__init__(session)
        self._region = region
        self._ec2: EC2Client = session.client("ec2", region_name=region, config=CLIENT_CONFIG)
        self._logs: CloudWatchLogsClient = session.client(
            "logs", region_name=region, config=CLIENT_CONFIG
        )

    @cached_property
    def region(self) -> str:
        return self._region

    @cached_property
    def ec2(self) -> EC2Client:
        return self._ec2

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        return self._logs

    def describe_vpcs(self, vpc_id: str | None = None) -> list[Vpc]:
        return _call("ec2:DescribeVpcs", lambda: super(RegionLookups, self).describe_vpcs(vpc_id))

    def describe_flow_logs(self, vpc_id: str | None = None) -> list[FlowLog]:
        return _call(
            "ec2:DescribeFlowLogs",
            lambda: super(RegionLookups, self).describe_flow_logs(vpc_id),
        )

    def describe_log_groups(self, names: Iterable[str]) -> dict[str, LogGroup]:
        return _call(
            "logs:DescribeLogGroups",
            lambda: super(RegionLookups, self).describe_log_groups(names),
        )


class RunbookReader:
    """The remediation runbook's reads for one region, for ``audit --plan``.

    ec2:DescribeFlowLogs, iam:GetRole, iam:GetRolePolicy, logs:DescribeLogGroups and
    logs:ListTagsForResource, each of access level Read or List in the Service Authorization
    Reference (a test checks every call of ``audit --plan`` against it). The region's flow logs
    are read once (the runbook reads one VPC's), and the delivery role once.
    """

    def __init__(self, session: boto3.session.Session, region: str) -> None:
        self._ec2: EC2Client = session.client("ec2", region_name=region, config=CLIENT_CONFIG)
        self._iam: IAMClient = session.client("iam", region_name=region, config=CLIENT_CONFIG)
        self._logs: CloudWatchLogsClient = session.client(
            "logs", region_name=region, config=CLIENT_CONFIG
        )
        self._roles: dict[str, RoleTypeDef | None] = {}

    @cached_property
    def _flow_logs(self) -> dict[str, list[FlowLogTypeDef]]:
        def every() -> dict[str, list[FlowLogTypeDef]]:
            by_vpc: dict[str, list[FlowLogTypeDef]] = {}
            for page in self._ec2.get_paginator("describe_flow_logs").paginate():
                for flow_log in page.get("FlowLogs", []):
                    by_vpc.setdefault(flow_log.get("ResourceId", ""), []).append(flow_log)
            return by_vpc

        return _call("ec2:DescribeFlowLogs", every)

    def flow_logs(self, vpc_id: str) -> list[FlowLogTypeDef]:
        return self._flow_logs.get(vpc_id, [])

    def role(self, name: str) -> RoleTypeDef | None:
        if name not in self._roles:

            def get() -> RoleTypeDef | None:
                try:
                    return self._iam.get_role(RoleName=name)["Role"]
                except self._iam.exceptions.NoSuchEntityException:
                    return None

            self._roles[name] = _call(f"iam:GetRole {name}", get)
        return self._roles[name]

    def inline_policy(self, role_name: str, policy_name: str) -> object | None:
        def get() -> object | None:
            try:
                return self._iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)[
                    "PolicyDocument"
                ]
            except self._iam.exceptions.NoSuchEntityException:
                return None

        return _call(f"iam:GetRolePolicy {role_name}", get)

    def log_group(self, name: str) -> LogGroupTypeDef | None:
        def find() -> LogGroupTypeDef | None:
            pages = self._logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=name
            )
            for page in pages:
                for group in page.get("logGroups", []):
                    if group.get("logGroupName") == name:
                        return group
            return None

        return _call(f"logs:DescribeLogGroups {name}", find)

    def log_group_tags(self, arn: str) -> dict[str, str]:
        return _call(
            f"logs:ListTagsForResource {arn}",
            lambda: self._logs.list_tags_for_resource(resourceArn=arn).get("tags", {}),
        )


class AccountAccess:
    """One account's session: who it is, its regions, and a :class:`RegionLookups` per region."""

    def __init__(self, session: boto3.session.Session, account_id: str, partition: str) -> None:
        self.session = session
        self.account_id = account_id
        self.partition = partition
        self._lock = threading.Lock()

    def region_statuses(self, home_region: str) -> dict[str, str]:
        """Every region of the partition with its opt-in status (ec2:DescribeRegions).

        ``AllRegions`` lists the disabled ones too, with OptInStatus ``not-opted-in`` (EC2 API
        reference, DescribeRegions / Region), so a region asked for but disabled is told apart
        from one that does not exist.
        """
        with self._lock:
            ec2 = self.session.client("ec2", region_name=home_region, config=CLIENT_CONFIG)
        response = _call("ec2:DescribeRegions", lambda: ec2.describe_regions(AllRegions=True))
        return {
            region["RegionName"]: region.get("OptInStatus", "")
            for region in response.get("Regions", [])
            if "RegionName" in region
        }

    def lookups(self, region: str) -> RegionLookups:
        with self._lock:
            return RegionLookups(self.session, region)

    def runbook_reads(self, region: str) -> RunbookReader:
        with self._lock:
            return RunbookReader(self.session, region)


def base_session(profile: str | None, region: str | None) -> boto3.session.Session:
    """boto3's normal credential chain (environment, profile, SSO, instance role...)."""
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except BotoCoreError as error:
        raise AccessError(f"AWS profile {profile!r}: {error}") from error


def own_account(session: boto3.session.Session, region: str) -> AccountAccess:
    """The caller's account (sts:GetCallerIdentity)."""
    sts = session.client("sts", region_name=region, config=CLIENT_CONFIG)
    identity = _call("sts:GetCallerIdentity", sts.get_caller_identity)
    return AccountAccess(session, identity["Account"], identity["Arn"].split(":")[1])


def organization_accounts(session: boto3.session.Session, region: str) -> list[tuple[str, str]]:
    """(account id, name) of the organization's ACTIVE accounts (organizations:ListAccounts).

    Works from the management account or a delegated administrator.
    """
    client = session.client("organizations", region_name=region, config=CLIENT_CONFIG)

    def listed() -> list[tuple[str, str]]:
        accounts: list[tuple[str, str]] = []
        for page in client.get_paginator("list_accounts").paginate():
            accounts.extend(
                (account["Id"], account.get("Name", ""))
                for account in page.get("Accounts", [])
                if account.get("Status", "ACTIVE") == "ACTIVE"
            )
        return accounts

    return _call("organizations:ListAccounts", listed)


def assume_role(
    session: boto3.session.Session, account_id: str, role_name: str, *, partition: str, region: str
) -> AccountAccess:
    """A session in ``account_id`` through ``role_name`` (sts:AssumeRole)."""
    role_arn = f"arn:{partition}:iam::{account_id}:role/{role_name}"
    sts = session.client("sts", region_name=region, config=CLIENT_CONFIG)
    response = _call(
        f"sts:AssumeRole {role_arn}",
        lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME),
    )
    credentials = response["Credentials"]
    assumed = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return AccountAccess(assumed, account_id, partition)


def aggregate_compliance(
    session: boto3.session.Session, region: str, aggregator: str, rule_name: str
) -> tuple[list[tuple[str, str]], list[AggregateEvaluationResultTypeDef]]:
    """The rule's (account, region) pairs and its latest result for every resource.

    config:DescribeAggregateComplianceByConfigRules finds the accounts and regions where the rule
    runs (the StackSet deploys it under the same name everywhere);
    config:GetAggregateComplianceDetailsByConfigRule then reads each one's results, 100 a page.
    """
    client: ConfigServiceClient = session.client("config", region_name=region, config=CLIENT_CONFIG)

    def where() -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        paginator = client.get_paginator("describe_aggregate_compliance_by_config_rules")
        for page in paginator.paginate(ConfigurationAggregatorName=aggregator):
            for item in page.get("AggregateComplianceByConfigRules", []):
                name = item.get("ConfigRuleName", "")
                if name == rule_name:
                    found.append((name, item.get("AccountId", ""), item.get("AwsRegion", "")))
        return found

    rules = _call("config:DescribeAggregateComplianceByConfigRules", where)
    results: list[AggregateEvaluationResultTypeDef] = []
    for name, account_id, rule_region in rules:

        def details(name: str = name, account: str = account_id, at: str = rule_region) -> None:
            pages = client.get_paginator(
                "get_aggregate_compliance_details_by_config_rule"
            ).paginate(
                ConfigurationAggregatorName=aggregator,
                ConfigRuleName=name,
                AccountId=account,
                AwsRegion=at,
                PaginationConfig={"PageSize": AGGREGATE_PAGE_SIZE},
            )
            for page in pages:
                results.extend(page.get("AggregateEvaluationResults", []))

        _call(f"config:GetAggregateComplianceDetailsByConfigRule {name}", details)
    return [(account, at) for _, account, at in rules], results
