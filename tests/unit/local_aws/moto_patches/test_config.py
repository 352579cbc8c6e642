"""local_aws.moto_patches.config: evaluations are recorded and read back, flow logs recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.moto_patches import configuration_items, issue_result_token
from tests.unit.local_aws.moto_patches.gaps import patch_can_go, still_raises

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_ec2 import EC2Client

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


def _vpc_flow_log(ec2: EC2Client, vpc_id: str, traffic_type: str = "REJECT") -> str:
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType=traffic_type,  # type: ignore[arg-type]
        LogGroupName=f"/aws/vpc-flow-logs/{vpc_id}-{traffic_type}",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/VpcFlowLogsDeliveryRole",
    )
    flow_log_id: str = created["FlowLogIds"][0]
    return flow_log_id


# --- PutEvaluations and GetComplianceDetailsByConfigRule ------------------------------------


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
    config.put_evaluations(Evaluations=[], ResultToken=token)  # accepted, changes nothing

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
            ConfigRuleName=RULE,
            ComplianceTypes=["INSUFFICIENT_DATA"],
        )
    with pytest.raises(ClientError, match="ValidationException"):
        config.get_compliance_details_by_config_rule(ConfigRuleName=RULE, Limit=101)


def test_compliance_details_of_an_unknown_rule_raise(config: ConfigServiceClient) -> None:
    with pytest.raises(ClientError, match="NoSuchConfigRuleException"):
        config.get_compliance_details_by_config_rule(ConfigRuleName="no-such-rule")


def test_unpatched_moto_still_lacks_put_evaluations_outside_test_mode(
    unpatched_aws: None,
) -> None:
    with still_raises(
        NotImplementedError,
        patch="config._put_evaluations",
        behaviour="records PutEvaluations without TestMode",
    ):
        boto3.client("config").put_evaluations(
            Evaluations=[evaluation("vpc-1")], ResultToken=issue_result_token(RULE)
        )


def test_unpatched_moto_still_refuses_an_empty_put_evaluations(unpatched_aws: None) -> None:
    with still_raises(
        ClientError,
        patch="config._put_evaluations",
        behaviour="accepts PutEvaluations with no evaluations, as AWS does",
    ):
        boto3.client("config").put_evaluations(Evaluations=[], ResultToken=issue_result_token(RULE))


def test_unpatched_moto_still_accepts_over_100_evaluations(unpatched_aws: None) -> None:
    try:
        boto3.client("config").put_evaluations(
            Evaluations=[evaluation(f"vpc-{n}") for n in range(101)],
            ResultToken="TESTMODE",
            TestMode=True,
        )
    except ClientError as error:
        message = patch_can_go("config._put_evaluations", "validates PutEvaluations")
        pytest.fail(f"{message} ({error})")


def test_unpatched_moto_still_lacks_compliance_details(unpatched_aws: None) -> None:
    with still_raises(
        NotImplementedError,
        patch="config._get_compliance_details_by_config_rule",
        behaviour="implements GetComplianceDetailsByConfigRule",
    ):
        boto3.client("config").get_compliance_details_by_config_rule(ConfigRuleName=RULE)


# --- configuration items of AWS::EC2::FlowLog -----------------------------------------------


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


def test_unpatched_moto_still_keeps_no_flow_log_history(unpatched_aws: None) -> None:
    ec2 = boto3.client("ec2")
    flow_log_id = _vpc_flow_log(ec2, ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"])

    with still_raises(
        ClientError,
        patch="config._recording_create_flow_logs / _get_resource_config_history",
        behaviour="records AWS::EC2::FlowLog configuration items",
    ):
        boto3.client("config").get_resource_config_history(
            resourceType="AWS::EC2::FlowLog", resourceId=flow_log_id
        )
