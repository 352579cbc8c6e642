"""The sandbox gives code the standard library and boto3, nothing else of this virtualenv."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from local_aws.sandbox import Sandbox, SandboxError, find_interpreter, runtime_packages

if TYPE_CHECKING:
    from pathlib import Path


def test_runtime_packages_are_boto3_and_its_dependencies_only(tmp_path: Path) -> None:
    # When
    folder = runtime_packages(tmp_path / "runtime")

    # Then
    names = {path.name for path in folder.iterdir()}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"} <= names
    assert not names & {"moto", "yaml", "aws_lambda_powertools", "aws_cdk", "pytest"}
    assert all((folder / name).is_symlink() for name in names)


def test_an_unknown_distribution_is_named(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="no-such-dist is not installed"):
        runtime_packages(tmp_path, ["no-such-dist"])


def test_the_current_python_plays_its_own_runtime() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    interpreter = find_interpreter(f"python{version}")
    assert interpreter.exact
    assert interpreter.version == version


def test_a_runtime_without_interpreter_falls_back_and_says_so() -> None:
    interpreter = find_interpreter("python3.2")
    assert not interpreter.exact
    assert interpreter.path == sys.executable


def test_a_non_python_runtime_is_refused() -> None:
    with pytest.raises(SandboxError, match=r"nodejs20\.x is not a Python runtime"):
        find_interpreter("nodejs20.x")


def run_script(sandbox: Sandbox, tmp_path: Path, script: str) -> tuple[object, object]:
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    run = sandbox.run(
        interpreter=find_interpreter(f"python{sys.version_info.major}.{sys.version_info.minor}"),
        mode="ssm-script",
        request={"script_path": str(path), "handler": "handler", "events": {}, "context": {}},
        code_paths=[],
        environment={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout_seconds=60,
        name="probe",
    )
    return run.result, run.error


def test_code_in_the_sandbox_imports_boto3_but_not_the_venv(tmp_path: Path) -> None:
    # Given a sandbox and a script that probes what it can import
    sandbox = Sandbox.create(tmp_path / "sandbox")
    script = (
        "import importlib.util, sys\n"
        "def handler(events, context):\n"
        "    return {name: importlib.util.find_spec(name) is not None\n"
        "            for name in ('boto3', 'json', 'yaml', 'moto', 'local_aws')}\n"
    )

    # When
    result, error = run_script(sandbox, tmp_path, script)

    # Then
    assert error is None
    assert result == {
        "boto3": True,
        "json": True,
        "yaml": False,
        "moto": False,
        "local_aws": False,
    }


def test_an_exception_comes_back_with_its_type_message_and_trace(tmp_path: Path) -> None:
    sandbox = Sandbox.create(tmp_path / "sandbox")
    result, error = run_script(
        sandbox, tmp_path, "def handler(events, context):\n    raise ValueError('no such VPC')\n"
    )
    assert result is None
    assert isinstance(error, dict)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no such VPC"
    assert "raise ValueError" in "".join(error["stackTrace"])
