from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from local_aws.moto_patches import issue_result_token
from tests.unit.lambdas.vpc_flow_logs_rule.builders import RULE_NAME, CallCounter, World
from vpc_flow_logs_rule import aws_api
from vpc_flow_logs_rule.aws_api import AwsApi, PutEvaluationsError
from vpc_flow_logs_rule.model import ComplianceType, Evaluation, RecordedResult

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def api(counter: CallCounter) -> AwsApi:
    return AwsApi()


def evaluations(
    count: int, compliance: ComplianceType = ComplianceType.COMPLIANT
) -> list[Evaluation]:
    return [Evaluation(f"vpc-{n:08x}", compliance, f"note {n}", NOW) for n in range(count)]


def test_clients_retry_in_standard_mode(api: AwsApi) -> None:
    for client in (api.ec2, api.logs, api.config):
        retries = getattr(client.meta.config, "retries", None)
        assert retries == {"mode": "standard", "total_max_attempts": 6}


def test_clients_are_created_on_first_use_only(api: AwsApi, counter: CallCounter) -> None:
    assert "ec2" not in vars(api)
    assert api.region == "us-east-1"
    assert "ec2" not in vars(api)
    assert counter.total == 0


def test_describe_vpcs_pages_through_every_vpc_with_its_tags(
    world: World, api: AwsApi, counter: CallCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws_api, "EC2_PAGE_SIZE", 5)
    tagged = world.vpc({"Team": "platform"})
    created = {world.vpc() for _ in range(10)}

    vpcs = api.describe_vpcs()

    assert {vpc.vpc_id for vpc in vpcs} == {*created, tagged, world.default_vpc_id}
    assert next(vpc for vpc in vpcs if vpc.vpc_id == tagged).tags == {"Team": "platform"}
    assert counter.calls["DescribeVpcs"] == api.calls["DescribeVpcs"] == 3  # 12 VPCs, 5 a page
    assert [p["MaxResults"] for p in counter.params("DescribeVpcs")] == [5, 5, 5]


def test_describe_vpcs_of_a_vanished_vpc_is_empty(api: AwsApi, world: World) -> None:
    assert api.describe_vpcs("vpc-0123456789abcdef0") == []


def test_describe_flow_logs_keeps_vpc_flow_logs_only(
    world: World, api: AwsApi, counter: CallCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws_api, "EC2_PAGE_SIZE", 5)
    vpc_ids = [world.vpc() for _ in range(6)]
    vpc_flow_logs = {world.flow_log(vpc_id) for vpc_id in vpc_ids}
    subnet = world.ec2.create_subnet(VpcId=vpc_ids[0], CidrBlock="10.0.1.0/24")["Subnet"]
    world.flow_log(subnet["SubnetId"], resource_type="Subnet")

    flow_logs = api.describe_flow_logs()

    assert {fl.flow_log_id for fl in flow_logs} == vpc_flow_logs
    assert counter.calls["DescribeFlowLogs"] == 2  # 7 flow logs, 5 a page
    assert "ResourceType" not in str(counter.params("DescribeFlowLogs"))  # AWS has no such filter


def test_describe_flow_logs_of_one_vpc_filters_by_resource_id(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    mine, other = world.vpc(), world.vpc()
    accept = world.flow_log(mine, "ACCEPT")
    world.flow_log(other, "ALL")

    flow_logs = api.describe_flow_logs(mine)

    assert [(fl.flow_log_id, fl.resource_id, fl.traffic_type) for fl in flow_logs] == [
        (accept, mine, "ACCEPT")
    ]
    assert flow_logs[0].destination_type == "cloud-watch-logs"
    assert flow_logs[0].log_group_name == f"/aws/vpc-flow-logs/{mine}-accept"
    assert counter.calls["DescribeFlowLogs"] == 1


def test_describe_log_groups_asks_for_the_named_groups_50_a_call(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    existing = [world.log_group(f"/aws/vpc-flow-logs/{n:03d}", 30) for n in range(60)]
    forever = world.log_group("/aws/vpc-flow-logs/forever", retention_days=None)
    world.log_group("/unrelated", 1)
    missing = [f"/aws/vpc-flow-logs/missing-{n:03d}" for n in range(59)]

    found = api.describe_log_groups([*existing, forever, *missing, existing[0]])

    assert set(found) == {*existing, forever}
    assert found[forever].retention_in_days is None
    assert found[existing[0]].retention_in_days == 30
    assert counter.calls["DescribeLogGroups"] == 3  # 120 distinct names
    sizes = [len(p["logGroupIdentifiers"]) for p in counter.params("DescribeLogGroups")]
    assert sizes == [50, 50, 20]


def test_describe_log_groups_of_nothing_makes_no_call(api: AwsApi, counter: CallCounter) -> None:
    assert api.describe_log_groups([]) == {}
    assert counter.total == 0


def test_put_evaluations_reports_in_batches_of_100(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    api.put_evaluations(evaluations(250), issue_result_token(RULE_NAME))

    sizes = [len(p["Evaluations"]) for p in counter.params("PutEvaluations")]
    assert sizes == [100, 100, 50]
    assert {p["TestMode"] for p in counter.params("PutEvaluations")} == {False}
    assert len(world.recorded()) == 250


def test_put_evaluations_sends_what_config_needs(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    first = Evaluation("vpc-00000001", ComplianceType.NON_COMPLIANT, "no flow log", NOW)
    second = Evaluation("vpc-00000002", ComplianceType.NOT_APPLICABLE, None, NOW)

    api.put_evaluations([first, second], issue_result_token(RULE_NAME))

    assert counter.params("PutEvaluations")[0]["Evaluations"] == [
        {
            "ComplianceResourceType": "AWS::EC2::VPC",
            "ComplianceResourceId": "vpc-00000001",
            "ComplianceType": "NON_COMPLIANT",
            "OrderingTimestamp": NOW,
            "Annotation": "no flow log",
        },
        {
            "ComplianceResourceType": "AWS::EC2::VPC",
            "ComplianceResourceId": "vpc-00000002",
            "ComplianceType": "NOT_APPLICABLE",
            "OrderingTimestamp": NOW,
        },
    ]


def test_a_testmode_token_reports_in_test_mode(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    api.put_evaluations(evaluations(3), "TESTMODE")

    assert [p["TestMode"] for p in counter.params("PutEvaluations")] == [True]
    assert world.recorded() == {}


def test_nothing_to_report_still_answers_the_result_token(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    token = issue_result_token(RULE_NAME)

    api.put_evaluations([], token)

    assert counter.params("PutEvaluations") == [
        {"Evaluations": [], "ResultToken": token, "TestMode": False}
    ]
    assert world.recorded() == {}


def test_failed_evaluations_are_not_ignored(api: AwsApi) -> None:
    failed = {
        "ComplianceResourceType": "AWS::EC2::VPC",
        "ComplianceResourceId": "vpc-00000001",
        "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": NOW,
    }
    with Stubber(api.config) as stubber:
        stubber.add_response("put_evaluations", {"FailedEvaluations": [failed]})

        with pytest.raises(PutEvaluationsError, match=r"did not accept 1 of 3 .*vpc-00000001"):
            api.put_evaluations(evaluations(3), "TESTMODE")


def test_recorded_results_of_every_compliance_type_are_read_100_a_call(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    token = issue_result_token(RULE_NAME)
    non_compliant = evaluations(150, ComplianceType.NON_COMPLIANT)
    compliant = [
        Evaluation(f"vpc-c{n:07x}", ComplianceType.COMPLIANT, "covered", NOW) for n in range(30)
    ]
    exempt = [Evaluation("vpc-e0000001", ComplianceType.NOT_APPLICABLE, "exempt", NOW)]
    other = Evaluation(
        "sg-0123", ComplianceType.NON_COMPLIANT, "sg", NOW, "AWS::EC2::SecurityGroup"
    )
    for batch in (non_compliant[:100], non_compliant[100:], compliant, exempt, [other]):
        world.config.put_evaluations(
            Evaluations=[
                {
                    "ComplianceResourceType": e.resource_type,
                    "ComplianceResourceId": e.resource_id,
                    "ComplianceType": e.compliance_type.value,
                    "OrderingTimestamp": e.ordering_timestamp,
                    "Annotation": str(e.annotation),
                }
                for e in batch
            ],
            ResultToken=token,
        )

    results = api.recorded_vpc_results(RULE_NAME)

    assert set(results) == {e.resource_id for e in [*non_compliant, *compliant, *exempt]}
    assert results["vpc-c0000000"] == RecordedResult("COMPLIANT", "covered")
    assert results["vpc-e0000001"] == RecordedResult("NOT_APPLICABLE", "exempt")
    assert results["vpc-00000000"] == RecordedResult("NON_COMPLIANT", "note 0")
    assert counter.calls["GetComplianceDetailsByConfigRule"] == 2  # 182 results
    assert {p["Limit"] for p in counter.params("GetComplianceDetailsByConfigRule")} == {100}
    assert {
        tuple(p["ComplianceTypes"]) for p in counter.params("GetComplianceDetailsByConfigRule")
    } == {("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")}


def test_a_deleted_flow_logs_owner_is_found_in_one_history_call(
    world: World, api: AwsApi, counter: CallCounter
) -> None:
    vpc_id = world.vpc()
    flow_log_id = world.flow_log(vpc_id)
    world.ec2.delete_flow_logs(FlowLogIds=[flow_log_id])

    owner = api.flow_log_owner(flow_log_id)

    assert owner == vpc_id
    assert dict(counter.calls) == {"GetResourceConfigHistory": 1}
    assert counter.params("GetResourceConfigHistory") == [
        {
            "resourceType": "AWS::EC2::FlowLog",
            "resourceId": flow_log_id,
            "chronologicalOrder": "Reverse",
            "limit": 10,
        }
    ]


def test_an_unknown_flow_log_has_no_owner(api: AwsApi, counter: CallCounter) -> None:
    assert api.flow_log_owner("fl-0123456789abcdef0") is None
    assert counter.total == 1


@pytest.fixture
def throttled_flow_logs(aws: None, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """DescribeFlowLogs answers RequestLimitExceeded on every attempt (no real sleeping)."""
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)
    attempts: list[int] = []

    class Throttled:
        status_code = 503
        headers: dict[str, str] = {}  # noqa: RUF012 - a fake response
        content = (
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            b"<Message>Request limit exceeded.</Message></Error></Errors>"
            b"<RequestID>r-1</RequestID></Response>"
        )

    def throttle(**_: Any) -> Any:
        attempts.append(1)
        return Throttled()

    CallCounter()  # sets up the product's (default) session
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register_first("before-send.ec2.DescribeFlowLogs", throttle)
    return attempts


def test_a_throttled_call_is_retried_then_raises(throttled_flow_logs: list[int]) -> None:
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        AwsApi().describe_flow_logs()

    assert len(throttled_flow_logs) == 6  # the first attempt and 5 retries
