"""One builder of moto accounts: VPCs, log groups, flow logs, buckets and roles.

``World`` arranges through the AWS API (boto3), as a person or another tool would; behaviour
tests use it. ``BackendWorld`` has the same methods and puts the same resources straight into
moto's backends, which is several times faster (what its API handlers call, without the HTTP
round trip and parsing); the benchmarks use it for accounts of thousands of VPCs. Either way,
what a test then measures goes through boto3.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.loaders
import botocore.session
from moto.ec2.models import ec2_backends
from moto.logs.models import logs_backends

from local_aws.moto_patches import issue_result_token

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.literals import LogDestinationTypeType, TrafficTypeType
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client

ACCOUNT_ID: Final = "123456789012"  # moto's default account, as in tests/events
REGION: Final = "us-east-1"
RULE_NAME: Final = "vpc-flow-logs-enabled"
DELIVERY_ROLE_NAME: Final = "VpcFlowLogsDeliveryRole"
DELIVERY_ROLE: Final = f"arn:aws:iam::{ACCOUNT_ID}:role/{DELIVERY_ROLE_NAME}"

_MODELS = botocore.loaders.create_loader()


def new_session(**kwargs: Any) -> boto3.session.Session:
    """A fresh session (own events, own credentials) that shares parsed service models.

    Parsing EC2's model takes most of a short test's time; sessions that share one loader
    parse it once per test run.
    """
    core = botocore.session.Session()
    core.register_component("data_loader", _MODELS)
    return boto3.session.Session(botocore_session=core, **kwargs)


def create_role(
    iam: IAMClient, name: str, trust: dict[str, Any], boundary: str | None = None
) -> str:
    """An IAM role trusting ``trust``, within ``boundary`` if given; returns its ARN."""
    kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(trust)}
    if boundary is not None:
        kwargs["PermissionsBoundary"] = boundary
    arn: str = iam.create_role(**kwargs)["Role"]["Arn"]
    return arn


def put_role_policy(iam: IAMClient, role: str, name: str, policy: dict[str, Any]) -> None:
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(policy))


class World:
    """Arranges one account and region in moto, through a session of its own.

    Its calls are not made through boto3's default session (the product's), so a recorder
    on that session does not see them. Creating it registers ``RULE_NAME`` with moto's
    AWS Config, as if the rule were deployed.
    """

    def __init__(self, session: boto3.session.Session | None = None, region: str = REGION) -> None:
        self.region = region
        self.session = session if session is not None else new_session(region_name=region)
        issue_result_token(RULE_NAME)

    @cached_property
    def ec2(self) -> EC2Client:
        return self.session.client("ec2", region_name=self.region)

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        return self.session.client("logs", region_name=self.region)

    @cached_property
    def iam(self) -> IAMClient:
        return self.session.client("iam", region_name=self.region)

    @cached_property
    def config(self) -> ConfigServiceClient:
        return self.session.client("config", region_name=self.region)

    @cached_property
    def s3(self) -> S3Client:
        return self.session.client("s3", region_name=self.region)

    @cached_property
    def default_vpc_id(self) -> str:
        default = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        return default["Vpcs"][0]["VpcId"]

    def vpc(self, tags: dict[str, str] | None = None, cidr: str = "10.0.0.0/16") -> str:
        vpc_id = self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        if tags:
            self.ec2.create_tags(
                Resources=[vpc_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
        return vpc_id

    def bucket(self, name: str) -> str:
        """An S3 bucket (moto checks that an S3 flow log's bucket exists); returns its ARN."""
        self.s3.create_bucket(Bucket=name)
        return f"arn:aws:s3:::{name}"

    def log_group(
        self,
        name: str,
        retention_days: int | None = 365,
        *,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"logGroupName": name}
        if tags:
            kwargs["tags"] = tags
        if kms_key_id is not None:
            kwargs["kmsKeyId"] = kms_key_id
        self.logs.create_log_group(**kwargs)
        if retention_days is not None:
            self.logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        return name

    def role(self, name: str, trust: dict[str, Any], boundary: str | None = None) -> str:
        """An IAM role trusting ``trust``, within ``boundary`` if given; returns its ARN."""
        return create_role(self.iam, name, trust, boundary)

    def role_policy(self, role: str, name: str, policy: dict[str, Any]) -> None:
        put_role_policy(self.iam, role, name, policy)

    def flow_log(
        self,
        vpc_id: str,
        traffic_type: TrafficTypeType = "REJECT",
        *,
        log_group: str | None = None,
        destination_type: LogDestinationTypeType = "cloud-watch-logs",
        destination: str | None = None,
        resource_type: str = "VPC",
        role: str = DELIVERY_ROLE,
        tags: dict[str, str] | None = None,
        cross_account_role: str | None = None,
    ) -> str:
        """A flow log; a cloud-watch-logs one without ``log_group`` or ``destination`` gets a
        new log group kept 365 days, delivered to by ``role``. With ``cross_account_role``, a
        Firehose flow log to another account's stream: ``role`` is the source account's role."""
        kwargs: dict[str, Any] = {
            "ResourceIds": [vpc_id],
            "ResourceType": resource_type,
            "TrafficType": traffic_type,
            "LogDestinationType": destination_type,
        }
        if destination_type == "cloud-watch-logs":
            kwargs["DeliverLogsPermissionArn"] = role
            if destination is not None:
                kwargs["LogDestination"] = destination
            else:
                kwargs["LogGroupName"] = log_group or self.log_group(
                    f"/aws/vpc-flow-logs/{vpc_id}-{traffic_type.lower()}"
                )
        else:
            kwargs["LogDestination"] = destination
        if cross_account_role is not None:
            kwargs["DeliverLogsPermissionArn"] = role
            kwargs["DeliverCrossAccountRole"] = cross_account_role
        if tags:
            tag_list = [{"Key": key, "Value": value} for key, value in tags.items()]
            kwargs["TagSpecifications"] = [{"ResourceType": "vpc-flow-log", "Tags": tag_list}]
        response = self.ec2.create_flow_logs(**kwargs)
        if response["Unsuccessful"]:
            raise RuntimeError(response["Unsuccessful"])
        return response["FlowLogIds"][0]

    def set_flow_log(self, flow_log_id: str, **attributes: Any) -> None:
        """Give a flow log a state moto cannot reach through the API (FAILED delivery...)."""
        flow_log = ec2_backends[ACCOUNT_ID][self.region].flow_logs[flow_log_id]
        for name, value in attributes.items():
            if not hasattr(flow_log, name):
                raise AttributeError(name)
            setattr(flow_log, name, value)

    def recorded(self, rule_name: str = RULE_NAME) -> dict[str, tuple[str, str | None]]:
        """What AWS Config holds for the rule: VPC id -> (compliance type, annotation)."""
        found: dict[str, tuple[str, str | None]] = {}
        for page in self.config.get_paginator("get_compliance_details_by_config_rule").paginate(
            ConfigRuleName=rule_name
        ):
            for result in page["EvaluationResults"]:
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                found[qualifier["ResourceId"]] = (
                    result["ComplianceType"],
                    result.get("Annotation"),
                )
        return found


class BackendWorld(World):
    """``World`` whose VPCs, log groups and flow logs go straight into moto's backends.

    Same arguments, defaults and results as ``World``'s methods; moto's backends are what its
    API handlers call, so the resources are the same. Buckets, roles and reads still go
    through the API (few of them).
    """

    def _ec2(self) -> Any:
        return ec2_backends[ACCOUNT_ID][self.region]

    def _logs(self) -> Any:
        return logs_backends[ACCOUNT_ID][self.region]

    def vpc(self, tags: dict[str, str] | None = None, cidr: str = "10.0.0.0/16") -> str:
        tag_list = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
        vpc_id: str = self._ec2().create_vpc(cidr, tags=tag_list).id
        return vpc_id

    def log_group(
        self,
        name: str,
        retention_days: int | None = 365,
        *,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
    ) -> str:
        logs = self._logs()
        logs.create_log_group(name, dict(tags or {}), **_kms(kms_key_id))
        if retention_days is not None:
            logs.put_retention_policy(name, retention_days)  # an int, as the JSON API passes it
        return name

    def retention(self, name: str, retention_days: int) -> None:
        """Change a log group's retention (``put_retention_policy``), in the backend."""
        self._logs().put_retention_policy(name, retention_days)

    def flow_log(
        self,
        vpc_id: str,
        traffic_type: TrafficTypeType = "REJECT",
        *,
        log_group: str | None = None,
        destination_type: LogDestinationTypeType = "cloud-watch-logs",
        destination: str | None = None,
        resource_type: str = "VPC",
        role: str = DELIVERY_ROLE,
        tags: dict[str, str] | None = None,
        cross_account_role: str | None = None,
    ) -> str:
        to_logs = destination_type == "cloud-watch-logs"
        if to_logs and destination is None and log_group is None:
            log_group = self.log_group(f"/aws/vpc-flow-logs/{vpc_id}-{traffic_type.lower()}")
        ec2 = self._ec2()
        created, unsuccessful = ec2.create_flow_logs(
            resource_type=resource_type,
            resource_ids=[vpc_id],
            traffic_type=traffic_type,
            deliver_logs_permission_arn=role if to_logs or cross_account_role else None,
            log_destination_type=destination_type,
            log_destination=destination,
            log_group_name=log_group if to_logs else None,
            log_format=None,
            max_aggregation_interval=None,
        )
        if unsuccessful:
            raise RuntimeError(unsuccessful)
        flow_log_id: str = created[0].id
        if cross_account_role is not None:  # as local_aws.moto_patches.ec2 keeps it
            created[0].deliver_cross_account_role = cross_account_role
        if tags:
            ec2.create_tags([flow_log_id], tags)
        return flow_log_id


def _kms(kms_key_id: str | None) -> dict[str, str]:
    return {} if kms_key_id is None else {"kmsKeyId": kms_key_id}
