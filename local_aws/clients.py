"""boto3 clients for the embedded AWS, as one identity (the admin, or a role the stack defines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient


@dataclass(frozen=True)
class Credentials:
    """AWS credentials: an IAM user's access key, or a role session's temporary credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """The credentials as the environment variables the SDKs read."""
        variables = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            variables["AWS_SESSION_TOKEN"] = self.session_token
        return variables


@dataclass(frozen=True)
class Aws:
    """Clients of every service the run uses, for one identity, pointed at the embedded AWS."""

    endpoint_url: str
    region: str
    credentials: Credentials

    def as_identity(self, credentials: Credentials) -> Aws:
        return Aws(self.endpoint_url, self.region, credentials)

    def client(self, service: str) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            aws_session_token=self.credentials.session_token,
            region_name=self.region,
        )
        return session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def ec2(self) -> EC2Client:
        client: EC2Client = self.client("ec2")
        return client

    def iam(self) -> IAMClient:
        client: IAMClient = self.client("iam")
        return client

    def logs(self) -> CloudWatchLogsClient:
        client: CloudWatchLogsClient = self.client("logs")
        return client

    def config(self) -> ConfigServiceClient:
        client: ConfigServiceClient = self.client("config")
        return client

    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    def ssm(self) -> SSMClient:
        client: SSMClient = self.client("ssm")
        return client

    def sts(self) -> STSClient:
        client: STSClient = self.client("sts")
        return client
