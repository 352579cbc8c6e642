"""Record every request the embedded AWS answers, with the IAM requests AWS would authorize.

A WSGI middleware around moto's server app. For each signed request it reads the caller's access
key, the service (the SigV4 credential scope), the operation (``X-Amz-Target`` or the ``Action``
form field) and the parameters (parsed with the operation's botocore model, as moto parses
them), then, *before* moto runs the call, maps a role's call to its IAM requests
(:mod:`local_aws.iam_requests`) with moto's state at that moment: the tags a DeleteFlowLogs is
authorized against are the flow log's tags before it is deleted. A call the table does not know
is recorded with its error, never dropped. The answer's HTTP status is added afterwards.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import determine_request_protocol
from moto.core.utils import get_service_model
from werkzeug.wrappers import Request

from local_aws.iam_requests import ApiCall, IamRequest, UnknownOperationError, iam_requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from local_aws.moto_state import MotoState

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the embedded AWS answered."""

    call: ApiCall
    by_role: bool
    """True when the caller is an assumed-role session (a role of the stack, in the run)."""
    iam_requests: tuple[IamRequest, ...] = ()
    """What AWS would authorize; mapped for role callers only."""
    error: str | None = None
    """Why the call could not be mapped (an operation the table does not know)."""
    status: int = 0
    """The HTTP status moto answered."""


@dataclass
class RequestLog:
    """The recorded requests, in the order the server received them (thread-safe)."""

    _items: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def items(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def by_roles(self) -> list[RecordedRequest]:
        return [item for item in self.items() if item.by_role]


def parse_call(
    headers: Any,
    body: bytes,
    form: Any,
    *,
    principal_of: Callable[[str], str | None],
    account_id: str,
    partition: str = "aws",
) -> tuple[str, ApiCall] | None:
    """The access key and the call of one signed request; None for an unsigned one."""
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    if match is None:
        return None
    access_key, region, service = match.groups()
    target = headers.get("X-Amz-Target", "")
    operation = target.rsplit(".", 1)[-1] if target else str(form.get("Action", ""))
    principal = principal_of(access_key) or f"unknown-access-key/{access_key}"
    call = ApiCall(
        principal_arn=principal,
        service=service,
        operation=operation,
        parameters=_parameters(service, operation, headers, body, form),
        account_id=account_id,
        region=region,
        partition=partition,
    )
    return access_key, call


def _parameters(service: str, operation: str, headers: Any, body: bytes, form: Any) -> Any:
    """The call's parameters by their API names, as botocore's model of the operation names them."""
    if not operation:
        return {}
    model = get_service_model(service)
    if operation not in model.operation_names:
        return {}
    protocol = determine_request_protocol(model, headers.get("Content-Type"))
    parser = PROTOCOL_PARSERS[protocol](model.operation_model(operation), map_type=dict)
    return parser.parse(
        {
            "method": "POST",
            "values": form,
            "headers": headers,
            "body": body,
            "url_path": "/",
            "url_params": {},
        }
    )


class RecordingMiddleware:
    """Wraps moto's WSGI app: records each signed request into ``log``."""

    def __init__(self, app: WSGIApplication, log: RequestLog, state: MotoState) -> None:
        self._app = app
        self._log = log
        self._state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = Request({**environ, "wsgi.input": io.BytesIO(body)})
        state = self._state
        parsed = parse_call(
            request.headers,
            body,
            request.form,
            principal_of=self._principal_of,
            account_id=state.account_id,
            partition=state.partition,
        )
        if parsed is None:
            return self._app(environ, start_response)
        access_key, call = parsed
        pending = self._map(access_key, call)
        status: list[int] = []

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(code.split(" ", 1)[0]))
            return start_response(code, headers, exc_info)

        try:
            return self._app(environ, recording_start_response)
        finally:
            self._log.append(
                RecordedRequest(
                    call=pending.call,
                    by_role=pending.by_role,
                    iam_requests=pending.iam_requests,
                    error=pending.error,
                    status=status[0] if status else 0,
                )
            )

    def _principal_of(self, access_key: str) -> str | None:
        return self._state.role_of_access_key(access_key) or self._state.user_of_access_key(
            access_key
        )

    def _map(self, access_key: str, call: ApiCall) -> RecordedRequest:
        if self._state.role_of_access_key(access_key) is None:
            return RecordedRequest(call=call, by_role=False)
        try:
            mapped = tuple(iam_requests(call, self._state))
        except (UnknownOperationError, KeyError, TypeError, ValueError) as error:
            detail = json.dumps(call.parameters, default=str)[:300]
            return RecordedRequest(
                call=call,
                by_role=True,
                error=f"{type(error).__name__}: {error} (parameters {detail})",
            )
        return RecordedRequest(call=call, by_role=True, iam_requests=mapped)
