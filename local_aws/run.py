"""The synthesized stack, deployed into an embedded AWS, with AWS Config and SSM Automation played.

``with LocalDeployment(assembly_dir) as local:`` reads the cloud assembly, starts moto (with the
moto behaviour fixes), deploys the stack's roles, log groups, function, rule and documents, obtains
each service role's credentials, turns IAM enforcement on, and hands out:

* ``local.admin``: clients as an administrator (to build an account, read results);
* ``local.config``: AWS Config for the stack's rule (notifications, evaluations, remediation);
* ``local.automation``: SSM Automation for the stack's documents;
* ``local.requests``: every request the embedded AWS answered, with the IAM requests AWS would
  authorize for the roles' calls (``local_aws.request_log``).

With ``log_archive=LogArchiveAccount(stack_name, account_id)`` the assembly's log-archive stack is
deployed first, into that account of the same embedded AWS (its buckets, Firehose streams,
CloudWatch Logs destination and roles), so the per-account stack's account-level subscription
filter policy forwards there, or its remediation delivers to the stream with its roles:
``local.log_archive`` is that stack, ``local.log_archive_admin`` its account's admin.

Everything lives on ``127.0.0.1`` and in a temporary folder removed on exit.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

from local_aws.app_model import read_guard_stack, read_log_archive_stack
from local_aws.assembly import CloudAssembly, StackTemplate
from local_aws.automation import AutomationError, AutomationService
from local_aws.config_service import ConfigService
from local_aws.deploy import deploy, deploy_log_archive
from local_aws.intrinsics import TemplateError
from local_aws.lambda_runner import LambdaRunner
from local_aws.moto_patches import configuration_items, firehose, issue_result_token, patch_moto
from local_aws.sandbox import Sandbox
from local_aws.server import ACCOUNT_ID, EmbeddedAws

if TYPE_CHECKING:
    from types import TracebackType

    from local_aws.app_model import ArchiveStack, GuardStack
    from local_aws.clients import Aws, Credentials
    from local_aws.deploy import Deployment
    from local_aws.request_log import RequestLog

_T = TypeVar("_T")

LAMBDA_SERVICE = "lambda.amazonaws.com"
SSM_SERVICE = "ssm.amazonaws.com"


def read_stack(
    assembly_dir: Path, *, stack_name: str | None = None, region: str = "us-east-1"
) -> GuardStack:
    """The stack as it will be deployed; fails fast (before any server starts) on a bad one."""
    artifact = CloudAssembly.load(assembly_dir).stack(stack_name)
    stack = read_guard_stack(StackTemplate(artifact, account_id=ACCOUNT_ID, region=region))
    function_role = stack.role_by_arn(stack.function.role_arn)
    if not function_role.trusts_service(LAMBDA_SERVICE):
        raise TemplateError(
            f"Lambda cannot assume the function's role {function_role.name}: its trust "
            f"policy does not allow {LAMBDA_SERVICE}"
        )
    return stack


@dataclass(frozen=True)
class LogArchiveAccount:
    """The assembly's log-archive stack and the account it is deployed to."""

    stack_name: str
    account_id: str


def read_log_archive(
    assembly_dir: Path, account: LogArchiveAccount, *, region: str = "us-east-1"
) -> ArchiveStack:
    """The log-archive stack as deployed in its account; fails fast on what cannot run here."""
    artifact = CloudAssembly.load(assembly_dir).stack(account.stack_name)
    archive = read_log_archive_stack(
        StackTemplate(artifact, account_id=account.account_id, region=region)
    )
    if not archive.destinations and not archive.streams:
        raise TemplateError(
            f"the log-archive stack {account.stack_name} has no CloudWatch Logs destination "
            "and no Firehose stream (synthesize with -c centralLogDestination=true or -c "
            "firehoseDelivery=true)"
        )
    for stream in archive.streams.values():
        processing = stream.extended_s3.get("ProcessingConfiguration", {})
        if any(p.get("Type") == "MetadataExtraction" for p in processing.get("Processors", [])):
            firehose.jq_path()  # a clear JqMissingError now, not a server error later
    return archive


FIREHOSE_PARAMETERS: Final = {
    "FirehoseArn": "CentralFirehoseArn",
    "DeliverCrossAccountRole": "CentralFirehoseRoleArn",
}
"""The remediation's Firehose parameters and the log-archive outputs they are set from."""


def check_firehose_delivery(stack: GuardStack, archive: ArchiveStack) -> None:
    """The stream and the destination role the remediation names are the log-archive stack's."""
    remediation = stack.remediation
    given = remediation.parameters if remediation is not None else {}
    created = {"FirehoseArn": set(archive.streams), "DeliverCrossAccountRole": set(archive.roles)}
    for name, output in FIREHOSE_PARAMETERS.items():
        parameter = given.get(name)
        if parameter is None:
            continue
        (value,) = parameter.static_values
        if value not in created[name]:
            raise TemplateError(
                f"the remediation of {stack.template.stack_name} delivers with {name} {value}, "
                f"which the log-archive stack {archive.template.stack_name} does not create: "
                f"synthesize with its output {output}, the Region as {{region}}"
            )


def check_forwarding(stack: GuardStack, archive: ArchiveStack) -> None:
    """Every account policy of ``stack`` forwards to a destination of ``archive``."""
    for policy in stack.account_policies:
        target = policy.destination_arn
        if target not in archive.destinations:
            outputs = ", ".join(f"{k}={v}" for k, v in sorted(archive.outputs.items()))
            raise TemplateError(
                f"the account policy {policy.name} of {stack.template.stack_name} forwards to "
                f"{target}, which the log-archive stack {archive.template.stack_name} does not "
                f"create (its outputs: {outputs}): synthesize with -c centralLogDestinationArn "
                "set to its CentralLogDestinationArn, the Region as {region}"
            )


class LocalDeployment(AbstractContextManager["LocalDeployment"]):
    """One deployment of the synthesized stack into a fresh embedded AWS."""

    def __init__(
        self,
        assembly_dir: Path,
        *,
        stack_name: str | None = None,
        region: str = "us-east-1",
        log_archive: LogArchiveAccount | None = None,
    ) -> None:
        self._assembly_dir = assembly_dir
        self._stack_name = stack_name
        self._region = region
        self._log_archive_account = log_archive
        self._log_archive: ArchiveStack | None = None
        self._log_archive_admin: Aws | None = None
        self._exit = ExitStack()
        self.timings: dict[str, float] = {}
        self._stack: GuardStack | None = None
        self._deployment: Deployment | None = None
        self._config: ConfigService | None = None
        self._automation: AutomationService | None = None
        self._runner: LambdaRunner | None = None
        self._embedded: EmbeddedAws | None = None
        self._work_dir: Path | None = None

    def __enter__(self) -> LocalDeployment:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._exit.close()

    def _start(self) -> None:
        started = time.monotonic()
        stack = read_stack(self._assembly_dir, stack_name=self._stack_name, region=self._region)
        template = stack.template
        self._stack = stack
        account = self._log_archive_account
        archive = None
        if account is not None:
            archive = read_log_archive(self._assembly_dir, account, region=self._region)
            check_forwarding(stack, archive)
            check_firehose_delivery(stack, archive)
        embedded = self._exit.enter_context(EmbeddedAws(self._region, fixes=patch_moto()))
        self._embedded = embedded
        if account is not None and archive is not None:
            # First: the member's account policy needs the destination to exist.
            self._log_archive = archive
            self._log_archive_admin = embedded.admin_in(account.account_id)
            deploy_log_archive(archive, self._log_archive_admin)
        self._deployment = deploy(stack, embedded.admin)
        service_credentials = self._assume_service_roles(stack, embedded)
        embedded.enforce_iam()

        work = Path(self._exit.enter_context(tempfile.TemporaryDirectory(prefix="local-aws-")))
        self._work_dir = work
        sandbox = Sandbox.create(work)
        function = stack.function
        self._runner = LambdaRunner(
            function,
            credentials=service_credentials[LAMBDA_SERVICE][function.role_arn],
            endpoint_url=embedded.endpoint_url,
            region=self._region,
            sandbox=sandbox,
        )
        automation_credentials = service_credentials[SSM_SERVICE]

        def credentials_for(role_arn: str) -> Credentials:
            if role_arn not in automation_credentials:
                raise AutomationError(
                    f"The defined assume role {role_arn} is unable to be assumed: it is not a "
                    f"role of the stack that trusts {SSM_SERVICE}"
                )
            return automation_credentials[role_arn]

        self._automation = AutomationService(
            stack.documents,
            credentials_for=credentials_for,
            endpoint_url=embedded.endpoint_url,
            region=self._region,
            account_id=embedded.account_id,
            partition=template.pseudo.partition,
            sandbox=sandbox,
        )
        self._config = ConfigService(
            stack,
            self._deployment,
            runner=self._runner,
            automation=self._automation,
            admin=embedded.admin,
            account_id=embedded.account_id,
            partition=template.pseudo.partition,
            issue_result_token=issue_result_token,
            recorded_items=lambda: configuration_items(embedded.account_id, self._region),
        )
        self.timings["deploy"] = time.monotonic() - started

    @staticmethod
    def _assume_service_roles(
        stack: GuardStack, embedded: EmbeddedAws
    ) -> dict[str, dict[str, Credentials]]:
        """Credentials of every role Lambda or SSM may assume, by service then role ARN."""
        credentials: dict[str, dict[str, Credentials]] = {LAMBDA_SERVICE: {}, SSM_SERVICE: {}}
        for role in stack.roles.values():
            for service, by_role in credentials.items():
                if role.trusts_service(service):
                    session = service.split(".")[0] + "-local"
                    by_role[role.arn] = embedded.assume_role(role.arn, session)
        return credentials

    # -- accessors ----------------------------------------------------------------------------

    @property
    def stack(self) -> GuardStack:
        return _started(self._stack)

    @property
    def deployment(self) -> Deployment:
        return _started(self._deployment)

    @property
    def config(self) -> ConfigService:
        return _started(self._config)

    @property
    def automation(self) -> AutomationService:
        return _started(self._automation)

    @property
    def runner(self) -> LambdaRunner:
        return _started(self._runner)

    @property
    def work_dir(self) -> Path:
        """The temporary folder of the run (sandboxes, scripts); removed on exit."""
        return _started(self._work_dir)

    @property
    def admin(self) -> Aws:
        return _started(self._embedded).admin

    @property
    def log_archive(self) -> ArchiveStack:
        """The log-archive stack (a deployment made with ``log_archive``)."""
        self._require_log_archive()
        return _started(self._log_archive)

    @property
    def log_archive_admin(self) -> Aws:
        """Clients as the admin of the log-archive account."""
        self._require_log_archive()
        return _started(self._log_archive_admin)

    def _require_log_archive(self) -> None:
        if self._log_archive_account is None:
            raise RuntimeError("deployed without a log-archive account (log_archive=...)")

    @property
    def requests(self) -> RequestLog:
        """Every request the embedded AWS answered, with the IAM requests of the roles' calls."""
        return _started(self._embedded).requests


def _started(value: _T | None) -> _T:
    if value is None:
        raise RuntimeError("the local stack is not started (use it in a with block)")
    return value
