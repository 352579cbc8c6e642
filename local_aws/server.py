"""An embedded AWS: moto's server on a loopback port, in this process, with IAM enforcement.

In-process so that the moto behaviour fixes (``local_aws.moto_patches``) apply to what the server
answers. Lifecycle:

1. :meth:`EmbeddedAws.__enter__` starts the server on ``127.0.0.1`` (a free port), resets moto
   (so IAM loads the AWS managed policies a template may attach) and creates an admin user whose
   access key plays the deployer and the AWS services themselves;
2. the caller deploys the stack's roles and calls :meth:`assume_role` for each role a service
   will use (moto cannot evaluate a trust policy whose principal is a service: its authorizer
   fails on it, so roles are assumed while enforcement is still off, as the service would);
3. :meth:`enforce_iam` turns enforcement on: from then on every call is authorized against the
   caller's policies, and a missing action fails with AccessDenied naming it;
4. :meth:`__exit__` turns enforcement back off, resets moto, stops the server.

All along, :attr:`EmbeddedAws.requests` records every signed request, and for a role's request
the IAM requests AWS would authorize (``local_aws.request_log``): resources and conditions,
which moto, judging actions only, does not check.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from local_aws.clients import Aws, Credentials
from local_aws.moto_state import MotoState
from local_aws.request_log import RecordingMiddleware, RequestLog

if TYPE_CHECKING:
    from types import TracebackType

ACCOUNT_ID = "123456789012"  # moto's default account
ADMIN_USER = "local-aws-admin"
LOOPBACK = "127.0.0.1"
_ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_LOAD_MANAGED_POLICIES = "MOTO_IAM_LOAD_MANAGED_POLICIES"


class RecordingMotoServer(ThreadedMotoServer):
    """moto's threaded server whose app records every request into ``log`` first."""

    def __init__(self, log: RequestLog, state: MotoState, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.log = log
        self._state = state

    def _server_entry(self) -> None:
        # ThreadedMotoServer._server_entry, with the app wrapped. Should moto stop calling this
        # method, nothing is recorded and tests/unit/local_aws/test_request_log.py fails.
        app = RecordingMiddleware(
            DomainDispatcherApplication(create_backend_app), self.log, self._state
        )
        self._server = make_server(self._ip_address, self._port, app, True)
        self._server_ready_event.set()
        self._server.serve_forever()


class EmbeddedAws(AbstractContextManager["EmbeddedAws"]):
    """moto's server on a loopback port, with an admin identity and switchable IAM enforcement."""

    def __init__(
        self,
        region: str = "us-east-1",
        fixes: AbstractContextManager[object] | None = None,
    ) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self._fixes = fixes if fixes is not None else nullcontext()
        self._server: ThreadedMotoServer | None = None
        self._exit = ExitStack()
        self._admin: Aws | None = None
        self._auth_before = "inf"
        self.requests = RequestLog()
        """Every signed request the server answered, with the IAM requests of role callers."""

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedAws:
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
        # The werkzeug request log would drown the run's own output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._exit.enter_context(self._fixes)
        state = MotoState(self.account_id, self.region)
        server = RecordingMotoServer(self.requests, state, ip_address=LOOPBACK, port=0)
        server.start()
        self._server = server
        self._exit.callback(server.stop)
        # Reset on exit too, so nothing of this run stays in moto's (process-wide) backends.
        self._exit.callback(self._post, "/moto-api/reset", b"")
        previous = os.environ.get(_LOAD_MANAGED_POLICIES)
        os.environ[_LOAD_MANAGED_POLICIES] = "true"
        self._exit.callback(_restore_environment, _LOAD_MANAGED_POLICIES, previous)
        self._post("/moto-api/reset", b"")  # IAM is rebuilt with the AWS managed policies
        self._auth_before = self._set_auth("inf")
        self._exit.callback(self._set_auth, self._auth_before)
        self._admin = self._create_admin()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded AWS is not started")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def admin(self) -> Aws:
        """Clients as the admin user (the deployer, and the AWS services the run plays)."""
        if self._admin is None:
            raise RuntimeError("the embedded AWS is not started")
        return self._admin

    # -- identities ---------------------------------------------------------------------------

    def assume_role(self, role_arn: str, session_name: str) -> Credentials:
        """Temporary credentials of ``role_arn``, as the service that role trusts would get."""
        response = self.admin.sts().assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        credentials = response["Credentials"]
        return Credentials(
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretAccessKey"],
            session_token=credentials["SessionToken"],
        )

    def enforce_iam(self) -> None:
        """From now on, every call is authorized against its caller's IAM policies."""
        self._set_auth("0")

    def admin_in(self, account_id: str) -> Aws:
        """Clients as an admin user of another account (the log-archive account, say).

        moto keeps one set of backends per account and picks the account of a request by its
        access key; this user's key belongs to ``account_id``. Call before :meth:`enforce_iam`.
        """
        if account_id == self.account_id:
            return self.admin
        return self._create_admin(account_id)

    def _create_admin(self, account_id: str | None = None) -> Aws:
        iam = Aws(self.endpoint_url, self.region, Credentials("bootstrap", "bootstrap")).iam()
        if account_id is not None:
            # moto's way to address an account before any key of it exists (moto's
            # "Multi-Account support": the x-moto-account-id request header).
            def to_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account_id

            iam.meta.events.register("before-sign.iam.*", to_account)
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER,
            PolicyName="AdministratorAccess",
            PolicyDocument=json.dumps(_ADMIN_POLICY),
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        return Aws(
            self.endpoint_url,
            self.region,
            Credentials(key["AccessKeyId"], key["SecretAccessKey"]),
        )

    # -- moto's management API ----------------------------------------------------------------

    def _set_auth(self, initial_no_auth_action_count: str) -> str:
        """Set how many calls moto lets through unauthorized; return the previous setting."""
        answer = self._post("/moto-api/reset-auth", initial_no_auth_action_count.encode())
        return str(json.loads(answer)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])

    def _post(self, path: str, body: bytes) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the URL is our own loopback server
            self.endpoint_url + path,
            data=body,
            method="POST",
            # Not form-encoded: moto reads the raw body.
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer: bytes = response.read()
        return answer


def _restore_environment(name: str, previous: str | None) -> None:
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous
