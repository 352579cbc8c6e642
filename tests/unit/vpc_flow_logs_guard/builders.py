"""Builders for the command's tests: an organization in moto, with an audit role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from vpc_flow_logs_guard.model import AccessError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

MANAGEMENT = "123456789012"  # moto's default account
ROLE = "VpcFlowLogsGuardAudit"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
DISABLED_REGION = "ap-east-1"  # not-opted-in in moto's region table, as in a new AWS account
DELIVERY_ROLE = "arn:aws:iam::{account}:role/VpcFlowLogsDeliveryRole"


class Organization:
    """Arranges resources in any account, through moto's x-moto-account-id header."""

    def __init__(self) -> None:
        orgs = self.client("organizations", MANAGEMENT)
        orgs.create_organization(FeatureSet="ALL")
        self.member = self._create_account("member")
        self.no_role = self._create_account("no-role")  # has no audit role: cannot be assumed
        for account in (MANAGEMENT, self.member):
            self.client("iam", account).create_role(
                RoleName=ROLE, AssumeRolePolicyDocument='{"Version": "2012-10-17"}'
            )

    def _create_account(self, name: str) -> str:
        orgs = self.client("organizations", MANAGEMENT)
        created = orgs.create_account(Email=f"{name}@example.com", AccountName=name)
        return str(created["CreateAccountStatus"]["AccountId"])

    def client(self, service: str, account: str, region: str = REGIONS[0]) -> Any:
        client = boto3.session.Session(region_name=region).client(service)  # type: ignore[call-overload]

        def as_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-sign.*.*", as_account)
        return client

    def vpc(self, account: str, region: str) -> str:
        ec2: EC2Client = self.client("ec2", account, region)
        return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def flow_log(
        self, account: str, region: str, vpc_id: str, traffic: str = "REJECT", retention: int = 365
    ) -> str:
        logs = self.client("logs", account, region)
        name = f"/aws/vpc-flow-logs/{vpc_id}"
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        ec2: EC2Client = self.client("ec2", account, region)
        created = ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType=traffic,  # type: ignore[arg-type]
            LogGroupName=name,
            DeliverLogsPermissionArn=DELIVERY_ROLE.format(account=account),
        )
        return created["FlowLogIds"][0]

    def default_vpc(self, account: str, region: str) -> str:
        ec2: EC2Client = self.client("ec2", account, region)
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        return vpcs[0]["VpcId"]


class RunbookWorld:
    """What the runbook's reads return (``plan.RunbookReads``), arranged by a test."""

    def __init__(self, *, denied: str = "") -> None:
        self.flow_logs_by_vpc: dict[str, list[dict[str, Any]]] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.inline_policies: dict[tuple[str, str], object] = {}
        self.log_groups: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.denied = denied
        """A read that fails as AWS would refuse it (e.g. ``iam:GetRole``)."""

    def _check(self, action: str) -> None:
        if action == self.denied:
            raise AccessError(f"{action}: AccessDenied: not allowed")

    def flow_logs(self, vpc_id: str) -> list[Any]:
        self._check("ec2:DescribeFlowLogs")
        return self.flow_logs_by_vpc.get(vpc_id, [])

    def role(self, name: str) -> Any:
        self._check("iam:GetRole")
        return self.roles.get(name)

    def inline_policy(self, role_name: str, policy_name: str) -> object | None:
        self._check("iam:GetRolePolicy")
        return self.inline_policies.get((role_name, policy_name))

    def log_group(self, name: str) -> Any:
        self._check("logs:DescribeLogGroups")
        return self.log_groups.get(name)

    def log_group_tags(self, arn: str) -> dict[str, str]:
        self._check("logs:ListTagsForResource")
        return self.tags.get(arn, {})
