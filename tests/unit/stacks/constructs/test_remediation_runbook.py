from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
import boto3
import botocore.session
import pytest
import yaml
from cfnlint.api import lint

from stacks.build.embedded_script import script_text
from stacks.build.runbook_document import PLACEHOLDER, build_document, document_yaml, script_files
from stacks.constructs.remediation_runbook import DOCUMENT_PATH, automation_statements
from stacks.settings.account import CLOUD_WATCH_LOGS, S3
from tests.support.policy_lint import parliament_findings
from tests.support.runbook import play
from tests.support.service_models import recording
from tests.unit.ssm_documents.payloads import REGION as REGION_NAME
from tests.unit.ssm_documents.payloads import runbook_input
from tests.unit.stacks.aws_calls import aws_actions
from tests.unit.stacks.iam_policies import resolve
from tests.unit.stacks.nag_findings import nag_report
from tests.unit.stacks.synthesis import KMS_KEY_ARN, ROOT, synthesize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tests.support.service_models import ApiRequest
    from tests.unit.stacks.synthesis import Synthesized

PARTITION = {"Ref": "AWS::Partition"}
REGION = {"Ref": "AWS::Region"}
ACCOUNT = {"Ref": "AWS::AccountId"}
SCRIPTS_DIR = ROOT / "ssm_documents" / "scripts"
SCRIPTS = sorted((SCRIPTS_DIR / "enable_vpc_flow_logs").glob("*.py"))

DELIVERY_ROLE_ARN = {
    "Fn::Join": ["", ["arn:", PARTITION, ":iam::", ACCOUNT, ":role/VpcFlowLogsDeliveryRole"]]
}
FLOW_LOG_GROUPS = {
    "Fn::Join": [
        "",
        ["arn:", PARTITION, ":logs:", REGION, ":", ACCOUNT, ":log-group:/aws/vpc-flow-logs/*"],
    ]
}
VPCS = {"Fn::Join": ["", ["arn:", PARTITION, ":ec2:", REGION, ":", ACCOUNT, ":vpc/*"]]}
FLOW_LOGS = {
    "Fn::Join": ["", ["arn:", PARTITION, ":ec2:", REGION, ":", ACCOUNT, ":vpc-flow-log/*"]]
}


def automation_role(synthesized: Synthesized) -> dict[str, Any]:
    roles = [
        role
        for role in synthesized.resources("AWS::IAM::Role").values()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "ssm.amazonaws.com"}
    ]
    assert len(roles) == 1
    return roles[0]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    policies = role["Properties"]["Policies"]
    assert [policy["PolicyName"] for policy in policies] == ["EnableVpcFlowLogs"]
    found: list[dict[str, Any]] = policies[0]["PolicyDocument"]["Statement"]
    return found


def actions_of(role: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in statements(role):
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


BOUNDARY_ARN = {"Ref": "RunbookDeliveryRoleBoundary7052ADE4"}
OUR_BOUNDARIES = {
    "Fn::Join": ["", ["arn:", PARTITION, ":iam::", ACCOUNT, ":policy/vpc-flow-logs-guard/*"]]
}
BASE_STATEMENTS: list[dict[str, Any]] = [
    {
        "Sid": "ReadDeliveryRole",
        "Effect": "Allow",
        "Action": ["iam:GetRole", "iam:GetRolePolicy"],
        "Resource": DELIVERY_ROLE_ARN,
    },
    {
        "Sid": "CreateDeliveryRoleWithBoundary",
        "Effect": "Allow",
        "Action": "iam:CreateRole",
        "Resource": DELIVERY_ROLE_ARN,
        "Condition": {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY_ARN}},
    },
    {
        "Sid": "TagDeliveryRoleAsOurs",
        "Effect": "Allow",
        "Action": "iam:TagRole",
        "Resource": DELIVERY_ROLE_ARN,
        "Condition": {
            "StringEquals": {"aws:RequestTag/ManagedBy": "vpc-flow-logs-guard"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["ManagedBy"]},
        },
    },
    {
        "Sid": "WriteDeliveryPolicyWithinBoundary",
        "Effect": "Allow",
        "Action": "iam:PutRolePolicy",
        "Resource": DELIVERY_ROLE_ARN,
        "Condition": {"ArnLike": {"iam:PermissionsBoundary": OUR_BOUNDARIES}},
    },
    {
        "Sid": "PassDeliveryRole",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": DELIVERY_ROLE_ARN,
    },
    {
        "Sid": "ManageFlowLogGroups",
        "Effect": "Allow",
        "Action": [
            "logs:CreateLogGroup",
            "logs:ListTagsForResource",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
        ],
        "Resource": FLOW_LOG_GROUPS,
    },
    {
        "Sid": "DescribeWithoutResourceLevelPermissions",
        "Effect": "Allow",
        "Action": ["ec2:DescribeFlowLogs", "ec2:DescribeVpcs", "logs:DescribeLogGroups"],
        "Resource": "*",
    },
    {
        "Sid": "CreateFlowLogs",
        "Effect": "Allow",
        "Action": "ec2:CreateFlowLogs",
        "Resource": [VPCS, FLOW_LOGS],
    },
    {
        "Sid": "TagFlowLogsOnCreate",
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": FLOW_LOGS,
        "Condition": {"StringEquals": {"ec2:CreateAction": "CreateFlowLogs"}},
    },
    {
        "Sid": "DeleteOwnFlowLogs",
        "Effect": "Allow",
        "Action": "ec2:DeleteFlowLogs",
        "Resource": FLOW_LOGS,
        "Condition": {"StringEquals": {"aws:ResourceTag/ManagedBy": "vpc-flow-logs-guard"}},
    },
]


def test_document_is_the_built_runbook_in_yaml(default: Synthesized) -> None:
    _, document = default.only("AWS::SSM::Document")

    # SSM supports an inline aws:executeScript Script in YAML documents only
    assert document["Properties"] == {
        "Content": build_document(DOCUMENT_PATH),
        "DocumentFormat": "YAML",
        "DocumentType": "Automation",
    }
    assert "Name" not in document["Properties"]  # CloudFormation names it; see the output


def test_each_step_embeds_the_one_program_its_modules_make(default: Synthesized) -> None:
    _, document = default.only("AWS::SSM::Document")
    source = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))

    steps = document["Properties"]["Content"]["mainSteps"]
    for step, written in zip(steps, source["mainSteps"], strict=True):
        if step["action"] != "aws:executeScript":
            continue
        match = PLACEHOLDER.fullmatch(written["inputs"]["Script"])
        assert match, step["name"]
        names = script_files(match[1])
        # common first, the step's own module last, the program cut to its handler
        assert names[0] == "enable_vpc_flow_logs/common.py"
        assert step["inputs"]["Script"] == script_text(
            names, SCRIPTS_DIR, step["inputs"]["Handler"]
        )
        assert "enable_vpc_flow_logs" not in step["inputs"]["Script"]  # no import between them


DOCUMENT_QUOTA = re.compile(r"The content of the document must not exceed (\d+)\s*KB")
DOCUMENT_BUDGET = 0.8
"""Share of SSM's document quota the runbook may use: the quota also counts the parameter
values given at run time, and features are coming."""


def ssm_document_quota_bytes() -> int:
    """SSM's document size quota, as botocore's SSM service model documents CreateDocument."""
    model = botocore.session.get_session().get_service_model("ssm")
    shape = model.operation_model("CreateDocument").input_shape
    assert shape is not None
    found = DOCUMENT_QUOTA.search(shape.members["Content"].documentation)
    assert found, "CreateDocument no longer documents the document quota"
    return int(found[1]) * 1024


def test_document_stays_within_its_share_of_the_ssm_quota(default: Synthesized) -> None:
    _, document = default.only("AWS::SSM::Document")

    # CloudFormation hands SSM the content serialized as YAML; either rendering must fit
    content = document["Properties"]["Content"]
    size = max(len(document_yaml(content).encode()), len(json.dumps(content).encode()))
    quota = ssm_document_quota_bytes()

    assert quota == 64 * 1024
    assert size <= DOCUMENT_BUDGET * quota, f"{size} bytes of {quota}"


def test_automation_role_is_assumable_by_ssm_automation_of_this_account_only(
    default: Synthesized,
) -> None:
    role = automation_role(default)

    assert role["Properties"]["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {
                        "aws:SourceArn": {
                            "Fn::Join": [
                                "",
                                [
                                    "arn:",
                                    PARTITION,
                                    ":ssm:",
                                    REGION,
                                    ":",
                                    ACCOUNT,
                                    ":automation-execution/*",
                                ],
                            ]
                        }
                    },
                },
            }
        ],
    }
    assert "ManagedPolicyArns" not in role["Properties"]


def test_automation_role_statements_without_kms_key(default: Synthesized) -> None:
    assert statements(automation_role(default)) == BASE_STATEMENTS


def test_automation_role_may_use_the_kms_key_only_through_cloudwatch_logs(
    everything: Synthesized,
) -> None:
    found = statements(automation_role(everything))

    log_groups = dict(BASE_STATEMENTS[5])
    log_groups["Action"] = [*log_groups["Action"], "logs:AssociateKmsKey"]
    via_logs = {"kms:ViaService": {"Fn::Join": ["", ["logs.", REGION, ".amazonaws.com"]]}}
    assert found == [
        *BASE_STATEMENTS[:5],
        log_groups,
        *BASE_STATEMENTS[6:],
        {
            "Sid": "DescribeKeyViaLogs",
            "Effect": "Allow",
            "Action": "kms:DescribeKey",
            "Resource": KMS_KEY_ARN,
            "Condition": {"StringEquals": via_logs},
        },
        {
            "Sid": "UseKeyViaLogsForFlowLogGroups",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": KMS_KEY_ARN,
            "Condition": {
                "StringEquals": via_logs,
                "StringLike": {"kms:EncryptionContext:aws:logs:arn": FLOW_LOG_GROUPS},
            },
        },
    ]


IMPLIED_BY_PARAMETER: Final = {
    # CreateRole with Tags (IAM user guide, "Permissions required to tag IAM entities")
    ("iam", "CreateRole", "Tags"): "iam:TagRole",
    # CreateLogGroup with tags (CloudWatch Logs API reference, CreateLogGroup)
    ("logs", "CreateLogGroup", "tags"): "logs:TagResource",
    # CreateFlowLogs with TagSpecifications (EC2 user guide, "Grant permission to tag resources
    # during creation")
    ("ec2", "CreateFlowLogs", "TagSpecifications"): "ec2:CreateTags",
    # CreateFlowLogs with a role to deliver as (VPC user guide, "IAM role for publishing flow
    # logs to CloudWatch Logs": the caller needs iam:PassRole on it)
    ("ec2", "CreateFlowLogs", "DeliverLogsPermissionArn"): "iam:PassRole",
}
"""Permissions a request needs besides its own action when it carries that parameter."""


def implied_permissions(requests: Iterable[ApiRequest]) -> set[str]:
    return {
        permission
        for request in requests
        for (service, operation, parameter), permission in IMPLIED_BY_PARAMETER.items()
        if (request.service, request.operation) == (service, operation)
        and parameter in request.params
    }


@pytest.mark.usefixtures("aws")
def test_automation_role_allows_exactly_the_calls_the_script_makes(
    everything: Synthesized,
) -> None:
    # Given the AWS operations the runbook's scripts call (read from their syntax trees) ...
    called = set().union(*(aws_actions(path, ["ec2", "iam", "logs"]) for path in SCRIPTS))
    # ... and the permissions their requests need besides their own action, as the document
    # sends them when it remediates a fresh VPC (role, log group and flow log all created)
    vpc_id = boto3.client("ec2", region_name=REGION_NAME).create_vpc(CidrBlock="10.0.0.0/16")
    with recording() as requests:
        play(runbook_input(vpc_id["Vpc"]["VpcId"]), boto3.session.Session())
    implied = implied_permissions(requests)
    assert implied == set(IMPLIED_BY_PARAMETER.values())
    kms_via_logs = {"kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"}

    assert actions_of(automation_role(everything)) == called | implied | kms_via_logs


def test_without_kms_key_the_role_cannot_associate_one(default: Synthesized) -> None:
    actions = actions_of(automation_role(default))

    assert "logs:AssociateKmsKey" not in actions
    assert not {action for action in actions if action.startswith("kms:")}


# --- the central bucket (destination s3) ----------------------------------------------------

TO_CENTRAL_BUCKET = {"destination": "s3", "centralBucketArn": "arn:aws:s3:::org-vpc-flow-logs"}
S3_STATEMENTS: list[dict[str, Any]] = [
    {
        "Sid": "DescribeWithoutResourceLevelPermissions",
        "Effect": "Allow",
        "Action": ["ec2:DescribeFlowLogs", "ec2:DescribeVpcs"],
        "Resource": "*",
    },
    *BASE_STATEMENTS[7:],
    {
        "Sid": "DeliverFlowLogsToS3",
        "Effect": "Allow",
        "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery"],
        "Resource": "*",
    },
]


@pytest.fixture(scope="module")
def to_s3() -> Synthesized:
    return synthesize(TO_CENTRAL_BUCKET)


def test_with_the_central_bucket_the_role_can_only_create_flow_logs_to_s3(
    to_s3: Synthesized,
) -> None:
    # No delivery role to manage or pass, no log group, no bucket policy: the bucket is the
    # log-archive account's, its stack owns the policy.
    assert statements(automation_role(to_s3)) == S3_STATEMENTS


def test_with_the_central_bucket_the_role_allows_exactly_what_the_s3_path_needs(
    to_s3: Synthesized,
) -> None:
    # The scripts' calls on the S3 path (the moto tests show they make no IAM or Logs call),
    # plus tag-on-create, plus the log delivery that CreateFlowLogs / DeleteFlowLogs set up.
    s3_path_calls = {
        "ec2:DescribeVpcs",
        "ec2:DescribeFlowLogs",
        "ec2:CreateFlowLogs",
        "ec2:DeleteFlowLogs",
    }
    assert s3_path_calls <= set().union(*(aws_actions(path, ["ec2"]) for path in SCRIPTS))
    implied = {"ec2:CreateTags", "logs:CreateLogDelivery", "logs:DeleteLogDelivery"}

    actions = actions_of(automation_role(to_s3))

    assert actions == s3_path_calls | implied
    assert not {action for action in actions if action.startswith(("iam:", "s3:", "kms:"))}


def test_log_delivery_is_granted_only_with_the_central_bucket(default: Synthesized) -> None:
    assert not {"logs:CreateLogDelivery", "logs:DeleteLogDelivery"} & actions_of(
        automation_role(default)
    )


def test_the_s3_role_passes_parliament(to_s3: Synthesized) -> None:
    role = automation_role(to_s3)
    document = resolve(role["Properties"]["Policies"][0]["PolicyDocument"], to_s3.json["Resources"])

    assert parliament_findings(document) == []


def test_the_s3_role_has_no_unacknowledged_cdk_nag_finding() -> None:
    report = nag_report(TO_CENTRAL_BUCKET)

    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    on_automation_role = {
        finding["ruleName"]: finding["reason"]
        for finding in nag["suppressedViolations"]
        if "AutomationRole" in finding["acknowledgedAt"]
    }
    ec2 = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
    # no log group finding any more: the role has no log group permission
    assert set(on_automation_role) == {
        "AwsSolutions-IAM5[Resource::*]",
        f"{ec2}vpc/*]",
        f"{ec2}vpc-flow-log/*]",
    }
    assert "logs:CreateLogDelivery" in on_automation_role["AwsSolutions-IAM5[Resource::*]"]


def test_unknown_destination_or_a_key_with_s3_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Test")

    with pytest.raises(ValueError, match="unknown destination 'splunk'"):
        automation_statements(stack, "", "splunk")
    with pytest.raises(ValueError, match="needs the source role"):
        automation_statements(stack, "", "kinesis-data-firehose")
    with pytest.raises(ValueError, match="the Firehose destination creates none"):
        automation_statements(
            stack, KMS_KEY_ARN, "kinesis-data-firehose", firehose_source_role_arn="arn:x"
        )
    with pytest.raises(ValueError, match="the S3 destination creates none"):
        automation_statements(stack, KMS_KEY_ARN, S3)
    with pytest.raises(ValueError, match="needs the delivery role's boundary"):
        automation_statements(stack, "", CLOUD_WATCH_LOGS)
    assert automation_statements(stack, "", CLOUD_WATCH_LOGS, boundary_arn="arn:x")


def test_the_s3_template_passes_cfn_lint(to_s3: Synthesized) -> None:
    assert [str(match) for match in lint(json.dumps(to_s3.json), regions=["us-east-1"])] == []
