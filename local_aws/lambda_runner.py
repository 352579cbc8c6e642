"""Run the stack's Lambda function the way Lambda runs it, from its asset folder.

The subprocess gets what the Python runtime gives a function: the standard library, the code
asset (``LAMBDA_TASK_ROOT``) and its layers, then the runtime's boto3 (this machine's), the
reserved environment variables, the template's ``Environment`` variables and the temporary
credentials of the function's role. ``AWS_ENDPOINT_URL`` sends every SDK call to the embedded AWS.

A function must ship its own SDK: the runtime's boto3 varies with the runtime version and the
Region, and the asset comes first on Lambda's search path (``/var/task``, then layers, then the
runtime's packages: https://docs.aws.amazon.com/lambda/latest/dg/python-package.html, "Dependency
search path and runtime-included libraries").
An invocation that imported boto3 or botocore from anywhere but the asset or its layers fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_aws.intrinsics import TemplateError
from local_aws.sandbox import Interpreter, find_interpreter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from local_aws.app_model import FunctionSpec
    from local_aws.clients import Credentials
    from local_aws.sandbox import Sandbox

# Lambda refuses these names in a function's Environment (CloudFormation fails the deploy).
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
# Lambda gives a function up to 10 s to start (imports) on top of its timeout.
INIT_SECONDS = 10
SDK_MODULES = ("boto3", "botocore")
"""Must come from the function's asset (or its layers) whenever the function imports them."""
SDK_NOT_IN_ASSET = "LocalAws.SdkNotInAsset"
"""The error type of an invocation that used the runtime's SDK (ours, not a Lambda error)."""


class LambdaInvocationError(Exception):
    """The function failed: its error as Lambda reports it, and its log output."""

    def __init__(self, function_name: str, error: dict[str, Any], output: str) -> None:
        self.function_name = function_name
        self.error_type = str(error.get("errorType", "Unknown"))
        self.error_message = str(error.get("errorMessage", ""))
        self.stack_trace = [str(line) for line in error.get("stackTrace", [])]
        self.output = output
        super().__init__(f"{function_name} failed: {self.error_type}: {self.error_message}")


@dataclass(frozen=True)
class Invocation:
    """One successful invocation."""

    request_id: str
    event: dict[str, Any]
    result: Any
    output: str
    duration_seconds: float
    sdk: dict[str, str] = field(default_factory=dict)
    """The file each of :data:`SDK_MODULES` the function imported was loaded from."""


class LambdaRunner:
    """Invokes one function, as its role, against the embedded AWS."""

    def __init__(
        self,
        function: FunctionSpec,
        *,
        credentials: Credentials,
        endpoint_url: str,
        region: str,
        sandbox: Sandbox,
        interpreter: Interpreter | None = None,
        init_seconds: int = INIT_SECONDS,
    ) -> None:
        reserved = sorted(RESERVED_VARIABLES & function.environment.keys())
        if reserved:
            raise TemplateError(
                f"function {function.logical_id} sets reserved environment variables: "
                + ", ".join(reserved)
            )
        self.function = function
        self.interpreter = interpreter or find_interpreter(function.runtime)
        self._credentials = credentials
        self._endpoint_url = endpoint_url
        self._region = region
        self._sandbox = sandbox
        self._init_seconds = init_seconds
        self.invocations: list[Invocation] = []

    def environment(self, log_stream_name: str) -> dict[str, str]:
        """The process environment Lambda gives the function."""
        function = self.function
        variables = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": function.handler,
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "LAMBDA_RUNTIME_DIR": str(self._sandbox.packages),
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **self._credentials.environment(),
            **function.environment,
        }
        if function.log_format.upper() == "JSON":
            variables["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        return variables

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        """Invoke the function with ``event``; raise :class:`LambdaInvocationError` if it fails."""
        function = self.function
        request_id = str(uuid.uuid4())
        log_stream = f"2026/01/01/[$LATEST]{request_id.replace('-', '')}"
        request = {
            "handler": function.handler,
            "event": dict(event),
            "timeout_seconds": function.timeout_seconds,
            "context": {
                "function_name": function.name,
                "function_version": "$LATEST",
                "invoked_function_arn": function.arn,
                "memory_limit_in_mb": str(function.memory_mb),
                "aws_request_id": request_id,
                "log_group_name": function.log_group_name,
                "log_stream_name": log_stream,
            },
            "report_modules": list(SDK_MODULES),
        }
        run = self._sandbox.run(
            interpreter=self.interpreter,
            mode="lambda",
            request=request,
            code_paths=[function.code_dir, *self._layer_paths()],
            environment=self.environment(log_stream),
            cwd=function.code_dir,
            timeout_seconds=function.timeout_seconds + self._init_seconds,
            name=f"lambda-{len(self.invocations) + 1:03d}",
        )
        output = (
            f"START RequestId: {request_id} Version: $LATEST\n{run.output}"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {run.duration_seconds * 1000:.2f} ms\n"
        )
        sdk = {name: file for name, file in run.modules.items() if file is not None}
        outside = self._outside_the_package(sdk)
        if outside:
            error = {
                "errorType": SDK_NOT_IN_ASSET,
                "errorMessage": (
                    f"{function.name} imported {', '.join(outside)} from the runtime "
                    f"({', '.join(sdk[name] for name in outside)}), not from its asset: the "
                    "asset must ship its SDK (pin boto3 and botocore in its requirements)"
                ),
            }
            raise LambdaInvocationError(function.name, error, output)
        if run.error is not None:
            if run.timed_out:
                run.error["errorMessage"] = (
                    f"Task timed out after {function.timeout_seconds} seconds"
                    f" (+{self._init_seconds} s init)"
                )
            raise LambdaInvocationError(function.name, run.error, output)
        invocation = Invocation(
            request_id=request_id,
            event=dict(event),
            result=run.result,
            output=output,
            duration_seconds=run.duration_seconds,
            sdk=sdk,
        )
        self.invocations.append(invocation)
        return invocation

    def _outside_the_package(self, files: Mapping[str, str]) -> list[str]:
        """The modules of ``files`` loaded from neither the asset nor a layer."""
        roots = [self.function.code_dir, *self.function.layer_dirs]
        return [
            name
            for name, file in files.items()
            if not any(Path(file).is_relative_to(root) for root in roots)
        ]

    def _layer_paths(self) -> list[Any]:
        # A layer is extracted into /opt; Python finds /opt/python and its site-packages.
        paths = []
        for layer in self.function.layer_dirs:
            paths += [layer / "python", *sorted(layer.glob("python/lib/python3.*/site-packages"))]
        return paths
