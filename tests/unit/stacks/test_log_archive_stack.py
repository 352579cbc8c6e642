"""The log-archive stack: bucket, policy (evaluated, not string-matched), lifecycle, KMS key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from cfnlint.api import lint

from tests.support.policy_lint import parliament_findings
from tests.unit.stacks.central_stream import STREAM_NAME
from tests.unit.stacks.iam_policies import ACCOUNT, resolve, role_arn
from tests.unit.stacks.log_archive import (
    ADMIN_POLICY,
    DELIVERY,
    FLOW_LOG_KEY,
    MEMBER_ACCOUNT,
    OTHER_ORG,
    bucket_policy,
    delivery,
    flow_logs_bucket,
    simulate,
    stream_role,
)
from tests.unit.stacks.synthesis import ORG
from tests.unit.stacks.synthesis import synth_log_archive as synth


@pytest.fixture(scope="module")
def default() -> Any:
    return synth()[0]


@pytest.fixture(scope="module")
def with_key() -> Any:
    return synth({"logArchiveKmsKey": "true"})[0]


def test_flow_logs_bucket_is_private_versioned_retained_and_logged(default: Any) -> None:
    logical_id, bucket = flow_logs_bucket(default)

    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    access_logs = properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert access_logs != logical_id
    assert properties["LoggingConfiguration"]["LogFilePrefix"] == "flow-logs-bucket/"
    assert default["Resources"][access_logs]["DeletionPolicy"] == "Retain"


def test_lifecycle_archives_every_object_then_expires_after_the_retention(default: Any) -> None:
    _, bucket = flow_logs_bucket(default)

    assert bucket["Properties"]["LifecycleConfiguration"] == {
        "Rules": [
            {
                "Id": "ExpireAfterRetention",
                "Status": "Enabled",
                "ExpirationInDays": 400,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 400},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {
                "Id": "Archive",
                "Status": "Enabled",
                # a string, as CloudFormation's schema has it (aws-cdk-lib writes a number)
                "ObjectSizeGreaterThan": "1",
                "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
            },
        ]
    }


def test_lifecycle_follows_the_settings() -> None:
    template, _ = synth(
        {
            "logArchiveStorageClass": "deep_archive",
            "logArchiveTransitionDays": "30",
            "logArchiveExpirationDays": "3650",
        }
    )
    _, bucket = flow_logs_bucket(template)

    expire, archive = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert archive["Transitions"] == [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 30}]
    assert expire["ExpirationInDays"] == 3650


KB = 1024


def archived_to(lifecycle: dict[str, Any], size: int) -> set[str]:
    """Storage classes an object of ``size`` bytes transitions to, as S3 documents the filters.

    A rule's size filter decides for its own transitions ("Custom filters always take precedence
    over the default transition behavior"); without one, TransitionDefaultMinimumObjectSize does:
    ``all_storage_classes_128K`` (the default since September 2024) moves nothing under 128 KB,
    ``varies_by_storage_class`` lets smaller objects into GLACIER and DEEP_ARCHIVE only.
    """
    default = lifecycle.get("TransitionDefaultMinimumObjectSize", "all_storage_classes_128K")
    classes = set()
    for rule in lifecycle["Rules"]:
        above = rule.get("ObjectSizeGreaterThan")
        below = rule.get("ObjectSizeLessThan")
        for transition in rule.get("Transitions", []):
            storage_class = transition["StorageClass"]
            if above is not None or below is not None:
                applies = (above is None or size > int(above)) and (
                    below is None or size < int(below)
                )
            elif size >= 128 * KB:
                applies = True
            else:
                applies = default == "varies_by_storage_class" and storage_class in {
                    "GLACIER",
                    "DEEP_ARCHIVE",
                }
            if applies and rule["Status"] == "Enabled":
                classes.add(storage_class)
    return classes


@pytest.mark.parametrize(
    ("storage_class", "expected"),
    [
        ("GLACIER_INSTANT_RETRIEVAL", "GLACIER_IR"),
        ("GLACIER", "GLACIER"),
        ("DEEP_ARCHIVE", "DEEP_ARCHIVE"),
    ],
)
def test_small_flow_log_files_are_archived_too(storage_class: str, expected: str) -> None:
    # Most flow-log files are a few KB: under S3's 128 KB default they would stay in Standard.
    template, _ = synth(
        {"logArchiveStorageClass": storage_class, "logArchiveExpirationDays": "3650"}
    )
    lifecycle = flow_logs_bucket(template)[1]["Properties"]["LifecycleConfiguration"]

    assert {size: archived_to(lifecycle, size) for size in (2 * KB, 127 * KB, 5 * KB * KB)} == {
        2 * KB: {expected},
        127 * KB: {expected},
        5 * KB * KB: {expected},
    }


def test_small_object_transitions_can_be_turned_off() -> None:
    # S3's own default: only objects of 128 KB and more transition.
    template, _ = synth({"logArchiveTransitionSmallObjects": "false"})
    lifecycle = flow_logs_bucket(template)[1]["Properties"]["LifecycleConfiguration"]

    assert "ObjectSizeGreaterThan" not in lifecycle["Rules"][1]
    assert archived_to(lifecycle, 2 * KB) == set()
    assert archived_to(lifecycle, 128 * KB) == {"GLACIER_IR"}


def test_archived_to_reads_the_filters_as_s3_documents() -> None:
    # The helper above, on configurations whose outcome S3's documentation states.
    def lifecycle(**rule: Any) -> dict[str, Any]:
        transitions = [{"StorageClass": "GLACIER", "TransitionInDays": 1}]
        return {"Rules": [{"Status": "Enabled", "Transitions": transitions, **rule}]}

    varies = {**lifecycle(), "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"}
    assert archived_to(lifecycle(), 100 * KB) == set()
    assert archived_to(varies, 100 * KB) == {"GLACIER"}
    assert archived_to(lifecycle(ObjectSizeGreaterThan="500"), 400) == set()
    assert archived_to(lifecycle(ObjectSizeGreaterThan="500"), 501) == {"GLACIER"}
    assert archived_to(lifecycle(ObjectSizeLessThan="64000"), 200 * KB) == set()


def test_bucket_policy_has_exactly_the_delivery_and_tls_statements(default: Any) -> None:
    logical_id, _ = flow_logs_bucket(default)
    arn = f"arn:aws:s3:::{logical_id.lower()}"

    statements = bucket_policy(default, logical_id)["Statement"]

    assert statements == [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "AWSLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": DELIVERY},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceOrgID": ORG,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
        {
            "Sid": "AWSLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": DELIVERY},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceOrgID": ORG}},
        },
        {
            "Sid": "DenyWritesByAnyoneButLogDelivery",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": DELIVERY}},
        },
    ]


ARCHIVE_STREAM = (
    "TheArchiveStream",
    "CloudWatchLogs/",
    "VpcFlowLogsGuardLogArchive-CentralArchive",
)
FLOW_LOG_STREAM = ("TheFlowLogStream", "VpcFlowLogs/", STREAM_NAME)
STREAM_WRITERS = {
    "central archive": ({"centralLogDestination": "true"}, [ARCHIVE_STREAM]),
    "direct delivery": ({"firehoseDelivery": "true"}, [FLOW_LOG_STREAM]),
    "both": (
        {"centralLogDestination": "true", "firehoseDelivery": "true"},
        [ARCHIVE_STREAM, FLOW_LOG_STREAM],
    ),
}
"""Settings, and the Firehose streams they add as writers: (statement-id name, prefix, stream)."""


@pytest.mark.parametrize(("settings", "writers"), STREAM_WRITERS.values(), ids=STREAM_WRITERS)
def test_bucket_policy_excepts_each_stream_and_keeps_it_under_its_prefix(
    settings: dict[str, str], writers: list[tuple[str, str, str]]
) -> None:
    template = synth(settings)[0]
    logical_id, _ = flow_logs_bucket(template)
    arn = f"arn:aws:s3:::{logical_id.lower()}"
    roles = {name: role_arn(template, stream_role(template, s)[0]) for name, _, s in writers}
    arns = list(roles.values())

    denies = bucket_policy(template, logical_id)["Statement"][3:]

    assert denies == [
        {
            "Sid": "DenyWritesByAnyoneButLogDeliveryAnd" + "And".join(roles),
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {
                "StringNotEquals": {"aws:PrincipalServiceName": DELIVERY},
                "ArnNotEquals": {"aws:PrincipalArn": arns[0] if len(arns) == 1 else arns},
            },
        },
        *(
            {
                "Sid": f"Deny{name}OutsideItsPrefix",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "NotResource": f"{arn}/{prefix}*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": roles[name]}},
            }
            for name, prefix, _ in writers
        ),
    ]


def test_access_log_bucket_admits_only_s3_server_access_logging(default: Any) -> None:
    logical_id, bucket = flow_logs_bucket(default)
    access_logs = bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]

    statements = bucket_policy(default, access_logs)["Statement"]

    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{access_logs.lower()}/flow-logs-bucket/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{logical_id.lower()}"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
        }
    ]
    assert "AccessControl" not in default["Resources"][access_logs]["Properties"]


def test_no_kms_key_by_default(default: Any) -> None:
    assert Template.from_json(default).find_resources("AWS::KMS::Key") == {}
    assert set(default["Outputs"]) == {"BucketArn"}


def test_kms_key_lets_log_delivery_encrypt_for_the_organization_only(with_key: Any) -> None:
    template = Template.from_json(with_key)
    ((key_id, key),) = template.find_resources("AWS::KMS::Key").items()
    _, bucket = flow_logs_bucket(with_key)

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert bucket["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }
    delivery = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": DELIVERY}
    ]
    assert delivery == [
        {
            "Sid": "AllowLogDeliveryToEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": DELIVERY},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceOrgID": ORG}},
        }
    ]
    template.has_output("KeyArn", {"Value": {"Fn::GetAtt": [key_id, "Arn"]}})


def test_output_is_the_bucket_arn_for_the_per_account_settings(default: Any) -> None:
    logical_id, _ = flow_logs_bucket(default)

    Template.from_json(default).has_output(
        "BucketArn",
        {
            "Value": {"Fn::GetAtt": [logical_id, "Arn"]},
            "Description": Match.string_like_regexp("centralBucketArn"),
        },
    )


@pytest.mark.parametrize("overrides", [{}, {"logArchiveKmsKey": "true"}], ids=["sse-s3", "kms"])
def test_cdk_nag_finds_nothing_and_nothing_is_acknowledged(overrides: dict[str, str]) -> None:
    # cdk-nag accepts the access-log bucket without access logs of its own (it is a log target)
    _, assembly_dir = synth(overrides, nag=True)

    report = json.loads((assembly_dir / "validation-report.json").read_text())
    assert report["pluginReports"] == []  # cdk-nag writes a report only for stacks with findings


def test_cdk_nag_fails_the_synth_on_a_new_finding() -> None:
    # Negative control: cdk-nag does run on this stack.
    with pytest.raises(RuntimeError, match=r"AwsSolutions-S1"):
        synth(nag=True, change=lambda stack: s3.Bucket(stack, "Unlogged", enforce_ssl=True))


@pytest.mark.parametrize("overrides", [{}, {"logArchiveKmsKey": "true"}], ids=["sse-s3", "kms"])
def test_template_passes_cfn_lint(overrides: dict[str, str]) -> None:
    template, _ = synth(overrides)

    assert [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])] == []


def test_bucket_policies_pass_parliament(default: Any) -> None:
    policies = [
        resolve(r["Properties"]["PolicyDocument"], default["Resources"])
        for r in default["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    ]

    findings = [finding for policy in policies for finding in parliament_findings(policy)]

    assert len(policies) == 2
    # parliament 1.6.4's catalogue predates the global key aws:SourceOrgID (IAM documents it for
    # every service-principal request); everything else is clean.
    assert findings == [
        ("UNKNOWN_CONDITION_FOR_ACTION", f"Unknown condition aws:SourceOrgID for action {action}")
        for action in ("s3:PutObject", "s3:GetBucketAcl", "s3:ListBucket")
    ]


# The bucket policy, evaluated by an IAM policy simulator (tests/support/iam_simulator.py). Each
# request states the context AWS would send: aws:SourceOrgID and aws:PrincipalServiceName for the
# delivery service, s3:x-amz-acl as the service sets it, aws:SecureTransport true (TLS).


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "delivery service for an organization account under AWSLogs/": (
        delivery(ORG, FLOW_LOG_KEY),
        "Allowed",
    ),
    "delivery service for an account of another organization": (
        delivery(OTHER_ORG, FLOW_LOG_KEY),
        "ImplicitlyDenied",
    ),
    "delivery service outside AWSLogs/": (delivery(ORG, "elsewhere/log.gz"), "ImplicitlyDenied"),
    "delivery service without the bucket-owner ACL": (
        delivery(ORG, FLOW_LOG_KEY, **{"s3:x-amz-acl": "private"}),
        "ImplicitlyDenied",
    ),
    "delivery service over plain HTTP": (
        delivery(ORG, FLOW_LOG_KEY, **{"aws:SecureTransport": "false"}),
        "ExplicitlyDenied",
    ),
    "another service principal claiming our organization": (
        {
            **delivery(ORG, FLOW_LOG_KEY),
            "principal": "cloudtrail.amazonaws.com",
            "context": {
                **delivery(ORG, FLOW_LOG_KEY)["context"],
                "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
            },
        },
        "ExplicitlyDenied",
    ),
    "a role of a member account": (
        {
            "principal": f"arn:aws:iam::{MEMBER_ACCOUNT}:role/Admin",
            "action": "s3:PutObject",
            "key": FLOW_LOG_KEY,
            "context": {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": "true"},
            "identity": [ADMIN_POLICY],
        },
        "ExplicitlyDenied",
    ),
    "an administrator of the log-archive account": (
        {
            "principal": f"arn:aws:iam::{ACCOUNT}:role/Admin",
            "action": "s3:PutObject",
            "key": FLOW_LOG_KEY,
            "context": {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": "true"},
            "identity": [ADMIN_POLICY],
        },
        "ExplicitlyDenied",
    ),
}


def test_bucket_policy_admits_only_the_delivery_service_of_the_organization(default: Any) -> None:
    logical_id, _ = flow_logs_bucket(default)
    arn = f"arn:aws:s3:::{logical_id.lower()}"
    policy = bucket_policy(default, logical_id)
    requests = [{**request, "resource": f"{arn}/{request['key']}"} for request, _ in CASES.values()]

    decisions = simulate(policy, requests)

    assert dict(zip(CASES, decisions, strict=True)) == {
        case: expected for case, (_, expected) in CASES.items()
    }


@pytest.mark.parametrize(("org", "expected"), [(ORG, "Allowed"), (OTHER_ORG, "ImplicitlyDenied")])
def test_delivery_service_checks_the_bucket_acl_for_the_organization_only(
    default: Any, org: str, expected: str
) -> None:
    logical_id, _ = flow_logs_bucket(default)
    request = {**delivery(org, ""), "action": "s3:GetBucketAcl"}
    request["resource"] = f"arn:aws:s3:::{logical_id.lower()}"

    assert simulate(bucket_policy(default, logical_id), [request]) == [expected]


def test_simulator_is_not_a_rubber_stamp() -> None:
    # Negative control: without our statements the delivery service is not allowed.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": DELIVERY},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::other-bucket/*",
            }
        ],
    }
    request = {**delivery(ORG, FLOW_LOG_KEY), "resource": f"arn:aws:s3:::b/{FLOW_LOG_KEY}"}

    assert simulate(policy, [request]) == ["ImplicitlyDenied"]
