from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from aws_cdk import aws_lambda as lambda_

import stacks.build.lambda_bundling
from local_aws.sandbox import runtime_packages
from stacks.build.lambda_bundling import (
    UNZIPPED_QUOTA_BYTES,
    ZIPPED_DIRECT_UPLOAD_QUOTA_BYTES,
    BundlingError,
    PythonPackage,
    bundle,
    docker_command,
    unzipped_bytes,
    zipped_bytes,
)
from stacks.build.python_runtime import python_for
from stacks.constructs.config_rule import HANDLER, RULE_PACKAGE
from tests.unit.stacks.synthesis import ROOT, asset_distributions, canonical_name, rule_asset

if TYPE_CHECKING:
    from pathlib import Path

    from tests.unit.stacks.synthesis import Synthesized

SDK = ("boto3", "botocore")


def pins(requirements: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file and the files it includes (``-r``), as
    pip reads them; a package pinned twice, or a line that is not a pin, fails the test."""
    found: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        text = line.partition("#")[0].strip()
        if not text:
            continue
        if text.startswith("-r "):
            included = pins(requirements.parent / text.removeprefix("-r ").strip())
        else:
            name, pinned, version = text.partition("==")
            assert pinned, f"{requirements}: {text!r} is not pinned with =="
            included = {canonical_name(name.partition("[")[0]): version.strip()}
        twice = sorted(found.keys() & included.keys())
        assert not twice, f"{requirements}: pinned more than once: {twice}"
        found.update(included)
    return found


def test_asset_holds_the_package_and_its_requirements(default: Synthesized) -> None:
    asset = rule_asset(default)

    assert (asset / "vpc_flow_logs_rule" / "handler.py").is_file()
    assert (asset / "aws_lambda_powertools" / "__init__.py").is_file()
    assert (asset / "aws_lambda_powertools-3.37.0.dist-info").is_dir()


def test_asset_ships_exactly_the_pinned_distributions(default: Synthesized) -> None:
    # Every package in the asset, the SDK included, is the version its requirements pin:
    # nothing is taken from the runtime, nothing floats with PyPI.
    shipped = asset_distributions(rule_asset(default))

    assert shipped == pins(RULE_PACKAGE / "requirements.txt")
    assert set(SDK) <= shipped.keys()


def test_the_app_tests_and_the_rule_use_one_sdk(default: Synthesized) -> None:
    # requirements-dev.txt -> requirements.txt -> the rule's requirements: one pin each
    everything = pins(ROOT / "requirements-dev.txt")
    shipped = asset_distributions(rule_asset(default))

    for name in SDK:
        assert everything[name] == shipped[name]
        # the tests here run with the SDK the rule ships (a stale virtualenv fails this)
        assert importlib.metadata.version(name) == shipped[name], f"{name}: run make install"


def test_pins_refuses_a_package_pinned_twice(tmp_path: Path) -> None:
    (tmp_path / "inner.txt").write_text("boto3==1.43.11\n")
    (tmp_path / "outer.txt").write_text("-r inner.txt\nboto3==1.38.0  # an older copy\n")

    with pytest.raises(AssertionError, match=r"pinned more than once: \['boto3'\]"):
        pins(tmp_path / "outer.txt")


def test_asset_is_within_lambdas_deployment_package_quota(default: Synthesized) -> None:
    asset = rule_asset(default)

    assert unzipped_bytes(asset) <= UNZIPPED_QUOTA_BYTES
    # CDK uploads the zip through S3, but staying under the direct-upload quota keeps
    # `aws lambda update-function-code --zip-file` open
    assert zipped_bytes(asset) <= ZIPPED_DIRECT_UPLOAD_QUOTA_BYTES


def test_an_asset_over_the_quota_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big_package"
    source.mkdir()
    (source / "__init__.py").write_text("DATA = '" + "x" * 4096 + "'\n")
    (source / "requirements.txt").write_text("# nothing to install\n")
    package = PythonPackage(source, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)
    monkeypatch.setattr(stacks.build.lambda_bundling, "UNZIPPED_QUOTA_BYTES", 4096)

    with pytest.raises(BundlingError, match=r"big_package is [\d,]+ bytes unzipped, over Lambda"):
        bundle(package, tmp_path / "out")


def test_asset_leaves_out_build_leftovers(default: Synthesized) -> None:
    asset = rule_asset(default)

    assert not list(asset.rglob("*.cpython-311.pyc")), "byte code of the build machine"
    assert not (asset / "vpc_flow_logs_rule" / "requirements.txt").exists()


def test_asset_ships_byte_code_of_the_lambda_runtime(default: Synthesized) -> None:
    if python_for("3.13") is None:
        pytest.skip("python3.13 is not installed here, so the asset has no byte code")
    asset = rule_asset(default)

    sources = [
        *asset.glob("vpc_flow_logs_rule/*.py"),
        *asset.glob("aws_lambda_powertools/**/*.py"),
        *asset.glob("boto3/**/*.py"),
        *asset.glob("botocore/**/*.py"),
    ]
    missing = [
        path
        for path in sources
        if not (path.parent / "__pycache__" / f"{path.stem}.cpython-313.pyc").is_file()
    ]

    assert sources
    assert not missing
    handler = (
        asset / "vpc_flow_logs_rule" / "__pycache__" / "handler.cpython-313.pyc"
    ).read_bytes()
    # PEP 552 flags: hash-based byte code that is not checked against the source's date
    assert int.from_bytes(handler[4:8], "little") == 0b01
    # Tracebacks name the file where Lambda unpacks it, not the build folder
    assert b"/var/task/vpc_flow_logs_rule/handler.py" in handler
    assert str(asset).encode() not in handler


def test_without_the_runtime_python_the_asset_has_no_byte_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tiny_package"
    source.mkdir()
    (source / "__init__.py").write_text("VALUE = 1\n")
    (source / "requirements.txt").write_text("# nothing to install\n")
    package = PythonPackage(source, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)
    monkeypatch.setattr("stacks.build.lambda_bundling.python_for", lambda version: None)

    bundle(package, tmp_path / "out")

    assert (tmp_path / "out" / "tiny_package" / "__init__.py").is_file()
    assert not list((tmp_path / "out").rglob("*.pyc"))
    assert "python3.13 not found" in capsys.readouterr().err


def test_asset_package_is_the_source_package(default: Synthesized) -> None:
    packaged = rule_asset(default) / "vpc_flow_logs_rule"

    source = {path.name for path in RULE_PACKAGE.glob("*.py")}

    assert {path.name for path in packaged.glob("*.py")} == source


def test_handler_imports_from_the_asset_as_lambda_runs_it(
    default: Synthesized, tmp_path: Path
) -> None:
    # Given only what the Lambda runtime provides: the asset, and the SDK
    asset = rule_asset(default)
    sdk = runtime_packages(tmp_path / "runtime")  # links to this venv's boto3 and its deps
    module, function = HANDLER.rsplit(".", 1)
    code = (
        "import importlib, json, sys\n"
        f"handler = getattr(importlib.import_module({module!r}), {function!r})\n"
        "import aws_lambda_powertools, boto3, botocore\n"
        "print(json.dumps({'callable': callable(handler),"
        " 'powertools': aws_lambda_powertools.__file__,"
        " 'boto3': boto3.__file__, 'botocore': botocore.__file__}))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(asset), str(sdk)]),
        "PYTHONNOUSERSITE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "vpc-flow-logs-rule",
    }

    # When the handler is imported without site-packages (-S), as Lambda imports it
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-S", "-c", code],
        env=environment,
        cwd=asset,
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it imports, with the Powertools and the SDK from the asset, not the runtime's SDK
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["callable"] is True
    for name in ("powertools", *SDK):
        assert loaded[name].startswith(str(asset)), loaded[name]


def test_pip_fetches_wheels_for_the_lambda_platform() -> None:
    package = PythonPackage(RULE_PACKAGE, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)

    arguments = package.pip_arguments("/out")

    assert arguments[:5] == [
        "install",
        "--requirement",
        str(RULE_PACKAGE / "requirements.txt"),
        "--target",
        "/out",
    ]
    for pair in (
        ("--platform", "manylinux2014_aarch64"),
        ("--implementation", "cp"),
        ("--python-version", "3.13"),
    ):
        index = arguments.index(pair[0])
        assert arguments[index + 1] == pair[1]
    assert "--only-binary=:all:" in arguments


def test_x86_64_gets_x86_64_wheels() -> None:
    package = PythonPackage(RULE_PACKAGE, lambda_.Runtime.PYTHON_3_12, lambda_.Architecture.X86_64)

    assert package.pip_platform == "manylinux2014_x86_64"
    assert package.python_version == "3.12"


def test_a_pip_failure_names_the_requirements_file(tmp_path: Path) -> None:
    source = tmp_path / "broken_package"
    source.mkdir()
    (source / "__init__.py").write_text("")
    (source / "requirements.txt").write_text("this is not a requirement !!!\n")
    package = PythonPackage(source, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)

    with pytest.raises(BundlingError, match=r"pip could not install .*broken_package/requirements"):
        bundle(package, tmp_path / "out")


def test_docker_fallback_builds_the_same_layout() -> None:
    package = PythonPackage(RULE_PACKAGE, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)
    local = package.pip_arguments("/asset-output")

    command = docker_command(package)[-1]

    assert "/asset-output/vpc_flow_logs_rule" in command
    assert "rm -rf /asset-output/vpc_flow_logs_rule/__pycache__" in command
    assert "/asset-output/vpc_flow_logs_rule/requirements.txt" in command
    # the same pip arguments as local bundling (the Lambda's platform, wheels only), but the
    # requirements as the container sees them
    in_docker = " ".join(local).replace(str(package.requirements), "/asset-input/requirements.txt")
    assert f"python -m pip {in_docker} &&" in command
    assert (
        "compileall -q --invalidation-mode unchecked-hash -s /asset-output -p /var/task" in command
    )
