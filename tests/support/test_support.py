"""The test-support tools are not rubber stamps: each refuses what AWS would refuse."""

from __future__ import annotations

import boto3
import botocore
import grimp
import pytest
from moto import mock_aws

from tests.support import iam_simulator
from tests.support.iam_simulator import Policies, Request
from tests.support.import_contracts import NoTestModuleImportsContract
from tests.support.service_authorization import problems, statement_problems
from tests.support.service_models import ApiRequest, ServiceModels, recording


def test_recording_sees_requests_as_botocore_validates_them() -> None:
    with mock_aws(), recording() as requests:
        ec2 = boto3.client("ec2", region_name="us-east-1")
        ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": ["vpc-1"]}])

    # EC2's "Filters" is botocore's alias of the model's "Filter", resolved before validation.
    assert requests == [
        ApiRequest(
            "ec2", "DescribeFlowLogs", {"Filter": [{"Name": "resource-id", "Values": ["vpc-1"]}]}
        )
    ]


def test_service_models_report_unknown_parameters_and_operations() -> None:
    models = ServiceModels(botocore.__version__)

    assert models.problems(ApiRequest("logs", "DescribeLogGroups", {"limit": 5})) == []
    assert models.problems(ApiRequest("logs", "DescribeLogGroups", {"bogus": 1}))
    assert models.problems(ApiRequest("logs", "NoSuchOperation", {})) == [
        f"botocore {botocore.__version__}: logs.NoSuchOperation: no such operation"
    ]


def test_simulator_evaluates_resources_conditions_and_boundaries() -> None:
    role = "arn:aws:iam::123456789012:role/caller"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::123456789012:role/delivery",
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            }
        ],
    }
    boundary = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
    }
    passed = {"iam:PassedToService": "ec2.amazonaws.com"}
    cases = [
        (
            Request(role, "iam:PassRole", "arn:aws:iam::123456789012:role/delivery", passed),
            Policies({"p": policy}),
        ),
        (
            Request(role, "iam:PassRole", "arn:aws:iam::123456789012:role/other", passed),
            Policies({"p": policy}),
        ),
        (
            Request(role, "iam:PassRole", "arn:aws:iam::123456789012:role/delivery"),
            Policies({"p": policy}),
        ),
        (
            Request(role, "iam:PassRole", "arn:aws:iam::123456789012:role/delivery", passed),
            Policies({"p": policy}, boundary=boundary),
        ),
    ]

    assert iam_simulator.simulate(cases) == [
        iam_simulator.ALLOWED,
        iam_simulator.IMPLICITLY_DENIED,
        iam_simulator.IMPLICITLY_DENIED,
        iam_simulator.IMPLICITLY_DENIED,
    ]


def test_the_in_process_runbook_plays_the_stacks_document() -> None:
    from stacks.constructs.remediation_runbook import DOCUMENT_PATH
    from tests.support.runbook import DOCUMENT_PATH as PLAYED

    assert PLAYED == DOCUMENT_PATH


def test_the_reference_check_is_not_a_rubber_stamp() -> None:
    assert statement_problems(
        [
            {"Action": "logs:CreateLogDelivery", "Resource": "arn:aws:logs:us-east-1:1:x"},
            {
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::123456789012:role/r",
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": "x"}},
            },
            {"Action": ["ec2:DescribeVpcs", "ec2:CreateFlowLogs"], "Resource": "*"},
        ]
    ) == [
        "logs:CreateLogDelivery has no resource type: arn:aws:logs:us-east-1:1:x",
        "iam:PassRole is not sent iam:PermissionsBoundary",
        "ec2:CreateFlowLogs: * is none of its resource types",
    ]
    assert (
        statement_problems(
            [
                {
                    "Action": "kms:Decrypt",
                    "Resource": "arn:aws:kms:us-east-1:123456789012:key/k",
                    "Condition": {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "x"}},
                }
            ]
        )
        == []
    )
    with pytest.raises(AssertionError, match="ec2:EnableFlowLogs is not in the service"):
        problems("ec2:EnableFlowLogs", ["*"], [])


def test_the_import_contract_refuses_every_import_of_a_test_module_and_only_those() -> None:
    graph = grimp.ImportGraph()
    graph.add_module("tests")
    imports = {
        "tests.unit.test_a": ["tests.unit.test_b", "tests.unit.helpers", "tests.unit.b_test"],
        "tests.unit.helpers": ["tests.unit.conftest", "tests.unit.testing"],
        "tests.unit.conftest": ["tests.unit.helpers"],
    }
    for importer, imported in imports.items():
        for module in (importer, *imported):
            graph.add_module(module)
        for index, module in enumerate(imported, start=1):
            graph.add_import(
                importer=importer, imported=module, line_number=index, line_contents="import"
            )
    contract = NoTestModuleImportsContract(
        name="no test imports", session_options={}, contract_options={"source_modules": ["tests"]}
    )

    check = contract.check(graph, verbose=False)

    assert not check.kept
    assert [(v["importer"], v["imported"], v["lines"]) for v in check.metadata["violations"]] == [
        ("tests.unit.helpers", "tests.unit.conftest", [1]),
        ("tests.unit.test_a", "tests.unit.b_test", [3]),
        ("tests.unit.test_a", "tests.unit.test_b", [1]),
    ]
