"""The function runs as Lambda runs it: its asset, its handler string, its environment, its role."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from local_aws.app_model import FunctionSpec
from local_aws.clients import Credentials
from local_aws.intrinsics import TemplateError
from local_aws.lambda_runner import SDK_NOT_IN_ASSET, LambdaInvocationError, LambdaRunner
from local_aws.sandbox import Sandbox, find_interpreter, runtime_packages
from local_aws.server import EmbeddedAws
from tests.unit.local_aws.roles import assumed_role

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = """\
import json
import os
import sys


def handler(event, context):
    if event.get("raise"):
        raise KeyError(event["raise"])
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    return {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "environ": {key: os.environ.get(key) for key in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "LAMBDA_TASK_ROOT", "_HANDLER",
            "SETTING", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN",
        )},
        "cwd": os.getcwd(),
        "version": "%d.%d" % sys.version_info[:2],
    }
"""
CURRENT = f"python{sys.version_info.major}.{sys.version_info.minor}"


def function_in(code_dir: Path, **changes: object) -> FunctionSpec:
    (code_dir / "app").mkdir(parents=True, exist_ok=True)
    (code_dir / "app" / "__init__.py").write_text("")
    (code_dir / "app" / "main.py").write_text(HANDLER)
    spec = FunctionSpec(
        logical_id="Fn",
        name="Stack-Fn-ABC",
        arn="arn:aws:lambda:us-east-1:123456789012:function:Stack-Fn-ABC",
        handler="app.main.handler",
        runtime=CURRENT,
        architectures=("arm64",),
        timeout_seconds=30,
        memory_mb=256,
        environment={"SETTING": "from-template"},
        role_arn="arn:aws:iam::123456789012:role/fn",
        code_dir=code_dir,
        layer_dirs=(),
        log_group_name="/aws/lambda/Stack-Fn-ABC",
        log_format="Text",
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox.create(tmp_path / "sandbox")


def runner_for(function: FunctionSpec, sandbox: Sandbox, **kwargs: object) -> LambdaRunner:
    return LambdaRunner(
        function,
        credentials=Credentials("AKIDEXAMPLE", "secret", "token"),
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        sandbox=sandbox,
        interpreter=find_interpreter(CURRENT),
        **kwargs,  # type: ignore[arg-type]
    )


def test_invokes_the_handler_with_the_event_and_a_lambda_context(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # Given
    code = tmp_path / "asset"
    runner = runner_for(function_in(code), sandbox)

    # When
    invocation = runner.invoke({"hello": "world"})

    # Then
    result = invocation.result
    assert result["event"] == {"hello": "world"}
    assert result["context"]["function_name"] == "Stack-Fn-ABC"
    assert result["context"]["invoked_function_arn"].endswith(":function:Stack-Fn-ABC")
    assert result["context"]["memory_limit_in_mb"] == "256"
    assert result["context"]["aws_request_id"] == invocation.request_id
    assert 0 < result["context"]["remaining_ms"] <= 30_000
    assert result["cwd"] == str(code)
    assert runner.invocations == [invocation]
    assert f"START RequestId: {invocation.request_id}" in invocation.output


def test_the_environment_is_lambdas_plus_the_templates_plus_the_role(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    runner = runner_for(function_in(tmp_path / "asset"), sandbox)

    environ = runner.invoke({}).result["environ"]

    assert environ == {
        "AWS_LAMBDA_FUNCTION_NAME": "Stack-Fn-ABC",
        "AWS_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(tmp_path / "asset"),
        "_HANDLER": "app.main.handler",
        "SETTING": "from-template",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SESSION_TOKEN": "token",
    }


def test_a_handler_error_is_reported_as_lambda_reports_it(tmp_path: Path, sandbox: Sandbox) -> None:
    runner = runner_for(function_in(tmp_path / "asset"), sandbox)

    with pytest.raises(LambdaInvocationError) as failed:
        runner.invoke({"raise": "TrafficType"})

    assert failed.value.error_type == "KeyError"
    assert failed.value.error_message == "'TrafficType'"
    assert any("raise KeyError" in line for line in failed.value.stack_trace)
    assert runner.invocations == []


def test_a_wrong_handler_path_fails_like_lambda(tmp_path: Path, sandbox: Sandbox) -> None:
    runner = runner_for(function_in(tmp_path / "asset", handler="app.missing.handler"), sandbox)
    with pytest.raises(LambdaInvocationError, match=r"Runtime\.ImportModuleError"):
        runner.invoke({})

    runner = runner_for(function_in(tmp_path / "asset", handler="app.main.nothing"), sandbox)
    with pytest.raises(LambdaInvocationError, match=r"Runtime\.HandlerNotFound"):
        runner.invoke({})


def test_a_function_over_its_timeout_is_stopped(tmp_path: Path, sandbox: Sandbox) -> None:
    runner = runner_for(function_in(tmp_path / "asset", timeout_seconds=1), sandbox, init_seconds=1)
    with pytest.raises(LambdaInvocationError, match="Task timed out after 1 seconds"):
        runner.invoke({"sleep": 30})


def test_a_result_json_cannot_carry_is_a_marshal_error(tmp_path: Path, sandbox: Sandbox) -> None:
    code = tmp_path / "asset"
    function = function_in(code)
    (code / "app" / "main.py").write_text("def handler(event, context):\n    return {1, 2}\n")
    with pytest.raises(LambdaInvocationError, match=r"Runtime\.MarshalError"):
        runner_for(function, sandbox).invoke({})


def test_reserved_environment_variables_are_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    function = function_in(tmp_path / "asset", environment={"AWS_REGION": "eu-west-1"})
    with pytest.raises(TemplateError, match="reserved environment variables: AWS_REGION"):
        runner_for(function, sandbox)


def test_calls_reach_the_embedded_aws_as_the_functions_role(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    code = tmp_path / "asset"
    function = function_in(code)
    runtime_packages(code)  # the asset ships its SDK
    (code / "app" / "main.py").write_text(
        "import boto3\n"
        "def handler(event, context):\n"
        "    return boto3.client('sts').get_caller_identity()['Arn']\n"
    )
    with EmbeddedAws() as aws:
        _, credentials = assumed_role(aws, "fn", "lambda.amazonaws.com")
        aws.enforce_iam()
        runner = LambdaRunner(
            function,
            credentials=credentials,
            endpoint_url=aws.endpoint_url,
            region="us-east-1",
            sandbox=sandbox,
        )

        arn = runner.invoke({}).result

    assert arn == "arn:aws:sts::123456789012:assumed-role/fn/fn-session"


SDK_HANDLER = """\
import boto3


def handler(event, context):
    return boto3.__file__
"""


def test_the_sdk_the_asset_ships_is_the_one_imported(tmp_path: Path, sandbox: Sandbox) -> None:
    # Given an asset with its own boto3 and botocore, and the runtime's behind it on the path
    code = tmp_path / "asset"
    function = function_in(code)
    (code / "app" / "main.py").write_text(SDK_HANDLER)
    runtime_packages(code)

    # When
    invocation = runner_for(function, sandbox).invoke({})

    # Then the asset's copies were imported, not the runtime's
    assert invocation.result == str(code / "boto3" / "__init__.py")
    assert invocation.sdk == {
        "boto3": str(code / "boto3" / "__init__.py"),
        "botocore": str(code / "botocore" / "__init__.py"),
    }


def test_a_function_that_imports_the_runtimes_sdk_fails(tmp_path: Path, sandbox: Sandbox) -> None:
    # Given an asset without an SDK: boto3 resolves to the runtime's, as on Lambda
    code = tmp_path / "asset"
    function = function_in(code)
    (code / "app" / "main.py").write_text(SDK_HANDLER)

    with pytest.raises(LambdaInvocationError) as failed:
        runner_for(function, sandbox).invoke({})

    assert failed.value.error_type == SDK_NOT_IN_ASSET
    assert "imported boto3, botocore from the runtime" in failed.value.error_message
    assert str(sandbox.packages / "botocore") in failed.value.error_message


def test_an_asset_without_botocore_is_caught_too(tmp_path: Path, sandbox: Sandbox) -> None:
    # Given an asset that ships boto3 but not botocore
    code = tmp_path / "asset"
    function = function_in(code)
    (code / "app" / "main.py").write_text(SDK_HANDLER)
    runtime_packages(tmp_path / "sdk")
    (code / "boto3").symlink_to(tmp_path / "sdk" / "boto3", target_is_directory=True)

    with pytest.raises(LambdaInvocationError, match=r"imported botocore from the runtime"):
        runner_for(function, sandbox).invoke({})
