"""The embedded AWS listens on loopback, enforces IAM when told, and leaves moto as it found it."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin

from local_aws.clients import Credentials
from local_aws.server import EmbeddedAws
from tests.unit.local_aws.roles import allow, assumed_role


def test_a_role_may_do_what_its_policy_allows_and_nothing_else() -> None:
    with EmbeddedAws() as aws:
        # Given, on loopback, a role allowed ec2:DescribeVpcs only (plus an AWS managed policy
        # that grants no EC2 action), assumed before enforcement is on
        assert urlparse(aws.endpoint_url).hostname == "127.0.0.1"
        _, credentials = assumed_role(
            aws, "probe", "lambda.amazonaws.com", allow("ec2:DescribeVpcs")
        )
        aws.admin.iam().attach_role_policy(
            RoleName="probe",
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSConfigRulesExecutionRole",
        )

        # When
        aws.enforce_iam()
        as_role = aws.admin.as_identity(credentials)

        # Then
        assert as_role.ec2().describe_vpcs()["Vpcs"]  # the default VPC
        assert as_role.config().describe_config_rules()["ConfigRules"] == []  # managed policy
        with pytest.raises(ClientError) as denied:
            as_role.ec2().describe_flow_logs()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert "ec2:DescribeFlowLogs" in denied.value.response["Error"]["Message"]
        assert "assumed-role/probe/probe-session" in denied.value.response["Error"]["Message"]
        # the admin, enforced too, may do anything; unknown credentials nothing
        aws.admin.ec2().describe_flow_logs()
        stranger = aws.admin.as_identity(Credentials("AKIAUNKNOWN", "secret"))
        with pytest.raises(ClientError, match="AuthFailure"):
            stranger.ec2().describe_vpcs()


def test_leaves_moto_enforcement_and_environment_as_found() -> None:
    # Given
    before_count = settings.INITIAL_NO_AUTH_ACTION_COUNT
    before_env = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")

    # When
    with EmbeddedAws() as aws:
        aws.enforce_iam()
        assert settings.INITIAL_NO_AUTH_ACTION_COUNT == 0

    # Then
    assert before_count == settings.INITIAL_NO_AUTH_ACTION_COUNT
    assert os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES") == before_env
    assert ActionAuthenticatorMixin.request_count == 0


def test_an_admin_of_another_account_acts_in_that_account_only() -> None:
    with EmbeddedAws() as aws:
        # Given an admin of a second account
        other = aws.admin_in("111122223333")
        aws.enforce_iam()

        # When each creates a bucket
        other.s3().create_bucket(Bucket="in-the-other-account")
        aws.admin.s3().create_bucket(Bucket="in-the-first-account")

        # Then each identity and each account's resources are its own
        assert other.sts().get_caller_identity()["Account"] == "111122223333"
        assert aws.admin.sts().get_caller_identity()["Account"] == aws.account_id
        assert [b["Name"] for b in other.s3().list_buckets()["Buckets"]] == ["in-the-other-account"]
        assert [b["Name"] for b in aws.admin.s3().list_buckets()["Buckets"]] == [
            "in-the-first-account"
        ]
        assert aws.admin_in(aws.account_id) is aws.admin
