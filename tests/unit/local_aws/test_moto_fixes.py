"""local_aws.moto_fixes: moto behaves as AWS documents while patched, and as before after."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.config.responses import ConfigResponse

from local_aws.moto_fixes import configuration_items, issue_result_token, patch_moto

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
RULE = "vpc-flow-logs-enabled"


@pytest.fixture
def config(aws: None) -> ConfigServiceClient:
    return boto3.client("config")


def evaluation(
    resource_id: str, compliance: str = "NON_COMPLIANT", at: datetime = T0, **extra: Any
) -> Any:
    return {
        "ComplianceResourceType": "AWS::EC2::VPC",
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": at,
        **extra,
    }


def details(config: ConfigServiceClient, **kwargs: Any) -> dict[str, tuple[str, str | None]]:
    results = config.get_compliance_details_by_config_rule(ConfigRuleName=RULE, **kwargs)
    return {
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: (
            r["ComplianceType"],
            r.get("Annotation"),
        )
        for r in results["EvaluationResults"]
    }


def test_describe_log_groups_honours_log_group_identifiers(aws: None) -> None:
    logs = boto3.client("logs")
    for name in ("/a", "/b", "/c"):
        logs.create_log_group(logGroupName=name)

    found = logs.describe_log_groups(logGroupIdentifiers=["/c", "/a", "/missing"])["logGroups"]
    everything = logs.describe_log_groups()["logGroups"]

    assert [group["logGroupName"] for group in found] == ["/a", "/c"]
    assert len(everything) == 3
    with pytest.raises(ClientError, match="cannot be combined"):
        logs.describe_log_groups(logGroupIdentifiers=["/a"], logGroupNamePrefix="/")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.describe_log_groups(logGroupIdentifiers=[f"/g{n}" for n in range(51)])


def test_describe_vpcs_and_flow_logs_page_by_max_results(aws: None) -> None:
    ec2 = boto3.client("ec2")
    vpc_ids = [ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"] for _ in range(6)]
    for vpc_id in vpc_ids:
        ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="ALL",
            LogGroupName=f"/g/{vpc_id}",
            DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/r",
        )

    first = ec2.describe_vpcs(MaxResults=5)
    second = ec2.describe_vpcs(MaxResults=5, NextToken=first["NextToken"])
    flow_pages = list(
        ec2.get_paginator("describe_flow_logs").paginate(PaginationConfig={"PageSize": 5})
    )

    assert len(first["Vpcs"]) == 5
    assert len(second["Vpcs"]) == 2  # 6 and the default VPC
    assert "NextToken" not in second
    assert [len(page["FlowLogs"]) for page in flow_pages] == [5, 1]
    assert len(ec2.describe_vpcs()["Vpcs"]) == 7  # no MaxResults: everything, as before
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        ec2.describe_vpcs(MaxResults=1001)


def test_put_evaluations_records_the_latest_evaluation_per_resource(
    config: ConfigServiceClient,
) -> None:
    token = issue_result_token(RULE)

    config.put_evaluations(
        Evaluations=[evaluation("vpc-1", Annotation="old"), evaluation("vpc-2", "COMPLIANT")],
        ResultToken=token,
    )
    config.put_evaluations(
        Evaluations=[
            evaluation("vpc-1", "NOT_APPLICABLE", T0 + timedelta(hours=1), Annotation="new"),
            evaluation("vpc-2", "NON_COMPLIANT", T0 - timedelta(hours=1)),  # older: ignored
        ],
        ResultToken=issue_result_token(RULE),
    )

    assert details(config) == {"vpc-1": ("NOT_APPLICABLE", "new"), "vpc-2": ("COMPLIANT", None)}
    assert details(config, ComplianceTypes=["COMPLIANT"]) == {"vpc-2": ("COMPLIANT", None)}


def test_put_evaluations_in_test_mode_records_nothing(config: ConfigServiceClient) -> None:
    issue_result_token(RULE)

    response = config.put_evaluations(
        Evaluations=[evaluation("vpc-1")], ResultToken="TESTMODE", TestMode=True
    )

    assert response["FailedEvaluations"] == []
    assert details(config) == {}


@pytest.mark.parametrize(
    ("evaluations", "token", "error"),
    [
        ([evaluation("vpc-1")], "not-a-token", "InvalidResultTokenException"),
        ([evaluation(f"vpc-{n}") for n in range(101)], None, "ValidationException"),
        ([evaluation("vpc-1", Annotation="x" * 257)], None, "ValidationException"),
    ],
)
def test_put_evaluations_rejects_what_aws_rejects(
    config: ConfigServiceClient, evaluations: list[Any], token: str | None, error: str
) -> None:
    with pytest.raises(ClientError, match=error):
        config.put_evaluations(
            Evaluations=evaluations, ResultToken=token or issue_result_token(RULE)
        )


def test_compliance_details_page_by_limit(config: ConfigServiceClient) -> None:
    token = issue_result_token(RULE)
    for start in (0, 100):
        config.put_evaluations(
            Evaluations=[evaluation(f"vpc-{n:03d}") for n in range(start, start + 100)],
            ResultToken=token,
        )

    default_page = config.get_compliance_details_by_config_rule(ConfigRuleName=RULE)
    pages = list(
        config.get_paginator("get_compliance_details_by_config_rule").paginate(
            ConfigRuleName=RULE, PaginationConfig={"PageSize": 100}
        )
    )

    assert len(default_page["EvaluationResults"]) == 10  # AWS's default Limit
    assert [len(page["EvaluationResults"]) for page in pages] == [100, 100]
    with pytest.raises(ClientError, match="InvalidParameterValueException"):
        config.get_compliance_details_by_config_rule(
            ConfigRuleName=RULE, ComplianceTypes=["INSUFFICIENT_DATA"]
        )


def test_compliance_details_of_an_unknown_rule_raise(config: ConfigServiceClient) -> None:
    with pytest.raises(ClientError, match="NoSuchConfigRuleException"):
        config.get_compliance_details_by_config_rule(ConfigRuleName="no-such-rule")


def test_the_patches_are_undone_on_exit() -> None:
    with mock_aws():
        with patch_moto():
            assert hasattr(ConfigResponse, "get_compliance_details_by_config_rule")
        assert not hasattr(ConfigResponse, "get_compliance_details_by_config_rule")
        with pytest.raises(NotImplementedError):
            boto3.client("config").put_evaluations(
                Evaluations=[evaluation("vpc-1")], ResultToken=issue_result_token(RULE)
            )


@pytest.mark.parametrize("prefix", ["", "/team-a", "/team-a/vpcs"])
def test_create_flow_logs_to_s3_accepts_a_key_prefix(aws: None, prefix: str) -> None:
    boto3.client("s3").create_bucket(Bucket="flow-logs")
    ec2 = boto3.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::flow-logs{prefix}",
    )

    assert created["Unsuccessful"] == []
    (flow_log,) = ec2.describe_flow_logs(FlowLogIds=created["FlowLogIds"])["FlowLogs"]
    assert flow_log["LogDestination"] == f"arn:aws:s3:::flow-logs{prefix}"


def test_create_flow_logs_to_a_missing_bucket_still_fails(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="flow-logs")
    ec2 = boto3.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::other-bucket/flow-logs",
    )

    assert created["FlowLogIds"] == []
    assert "does not exist" in created["Unsuccessful"][0]["Error"]["Message"]


def _vpc_flow_log(ec2: Any, vpc_id: str, traffic_type: str = "REJECT") -> str:
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType=traffic_type,
        LogGroupName=f"/aws/vpc-flow-logs/{vpc_id}-{traffic_type}",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/VpcFlowLogsDeliveryRole",
    )
    flow_log_id: str = created["FlowLogIds"][0]
    return flow_log_id


def test_flow_logs_are_recorded_and_their_history_is_served_newest_first(
    config: ConfigServiceClient,
) -> None:
    ec2 = boto3.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    flow_log_id = _vpc_flow_log(ec2, vpc_id)
    other = _vpc_flow_log(ec2, vpc_id, "ACCEPT")
    ec2.delete_flow_logs(FlowLogIds=[flow_log_id])

    history = config.get_resource_config_history(
        resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id
    )["configurationItems"]
    forward = config.get_resource_config_history(
        resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id, chronologicalOrder="Forward"
    )["configurationItems"]
    first_page = config.get_resource_config_history(
        resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id, limit=1
    )

    assert [item["configurationItemStatus"] for item in history] == [
        "ResourceDeleted",
        "ResourceDiscovered",
    ]
    assert "configuration" not in history[0]
    configuration = json.loads(history[1]["configuration"])
    assert configuration["resourceId"] == vpc_id
    assert configuration["trafficType"] == "REJECT"
    assert history[1]["arn"] == f"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/{flow_log_id}"
    assert [item["configurationItemStatus"] for item in forward] == [
        "ResourceDiscovered",
        "ResourceDeleted",
    ]
    assert len(first_page["configurationItems"]) == 1
    assert "nextToken" in first_page
    items = configuration_items("123456789012", "us-east-1")
    assert [(i["resourceId"], i["configurationItemStatus"]) for i in items] == [
        (flow_log_id, "ResourceDiscovered"),
        (other, "ResourceDiscovered"),
        (flow_log_id, "ResourceDeleted"),
    ]


def test_history_of_an_unknown_flow_log_raises_and_limits_are_checked(
    config: ConfigServiceClient,
) -> None:
    with pytest.raises(ClientError, match="ResourceNotDiscoveredException"):
        config.get_resource_config_history(
            resourceType="AWS::EC2::FlowLog", resourceId="fl-0123456789abcdef0"
        )
    vpc_id = boto3.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    flow_log_id = _vpc_flow_log(boto3.client("ec2"), vpc_id)
    with pytest.raises(ClientError, match="InvalidLimitException"):
        config.get_resource_config_history(
            resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id, limit=101
        )


def test_moto_itself_keeps_no_flow_log_history() -> None:
    """Fails once moto records AWS::EC2::FlowLog itself: then drop the recording patch."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        flow_log_id = _vpc_flow_log(ec2, vpc_id)
        with pytest.raises(ClientError, match="ResourceNotDiscoveredException"):
            boto3.client("config", region_name="us-east-1").get_resource_config_history(
                resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id
            )


def test_assume_role_of_a_missing_role_is_denied(aws: None) -> None:
    iam = boto3.client("iam")
    role_arn = iam.create_role(RoleName="present", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sts = boto3.client("sts")

    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="session")

    assert assumed["AssumedRoleUser"]["Arn"].endswith("assumed-role/present/session")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/present", RoleSessionName="session")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/absent", RoleSessionName="session")


def test_assume_role_of_any_arn_succeeds_without_the_patch() -> None:
    with mock_aws():
        sts = boto3.client("sts")
        sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/absent", RoleSessionName="session")
