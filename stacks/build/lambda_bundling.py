"""Bundle a Python Lambda package without Docker: copy the package, pip-install its requirements.

The asset is laid out as Lambda runs it: ``<asset>/<package>/`` plus the package's pinned
requirements installed at ``<asset>/`` for the Lambda's architecture and Python version
(wheels only, so nothing is compiled for the build machine). The requirements include boto3 and
botocore: the asset ships its own SDK, as AWS recommends, because the runtime's depends on the
runtime version and the Region, and Lambda imports from the asset (``/var/task``) first
(https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-searchpath).

Lambda's code folder is read-only, so byte code missing from the asset is compiled again on
every cold start (about 100 ms for Powertools). The asset therefore ships byte code compiled by
the runtime's own Python version, found on this machine; where it is not installed, the asset
works without it and the synth says so.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from stacks.build.python_runtime import python_for

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

IGNORED = ("__pycache__", "*.pyc", "requirements.txt")
"""Not copied into the asset: byte code of the build machine, and the pin list pip reads."""

LAMBDA_TASK_ROOT = "/var/task"
"""Where Lambda unpacks the asset: the file names compiled into the byte code point there."""

# Lambda's quotas for a .zip deployment package, where "MB" means 1,024 KB
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
UNZIPPED_QUOTA_BYTES = 250 * 1024 * 1024
"""The unzipped package with its layers: binding however the package is uploaded."""
ZIPPED_DIRECT_UPLOAD_QUOTA_BYTES = 50 * 1024 * 1024
"""The zipped package uploaded through the Lambda API (CDK uploads through S3 instead)."""


class BundlingError(RuntimeError):
    """The asset could not be built (pip, compileall), or Lambda would refuse it."""


@dataclass(frozen=True)
class PythonPackage:
    """A Lambda package folder and how its dependencies must be fetched."""

    source: Path
    """The package folder, e.g. ``lambdas/vpc_flow_logs_rule``; copied as ``<asset>/<name>/``."""
    runtime: lambda_.Runtime
    architecture: lambda_.Architecture

    @property
    def requirements(self) -> Path:
        return self.source / "requirements.txt"

    @property
    def python_version(self) -> str:
        """``3.13`` for ``python3.13``."""
        return self.runtime.name.removeprefix("python")

    @property
    def pip_platform(self) -> str:
        arm = self.architecture.name == lambda_.Architecture.ARM_64.name
        return "manylinux2014_aarch64" if arm else "manylinux2014_x86_64"

    def pip_arguments(self, target: str, requirements: str | None = None) -> list[str]:
        """``pip install`` arguments that fetch wheels for the Lambda, not for this machine
        (nor for a bundling container's, which may run another architecture)."""
        return [
            "install",
            "--requirement",
            requirements or str(self.requirements),
            "--target",
            target,
            "--platform",
            self.pip_platform,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--no-compile",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ]


@jsii.implements(cdk.ILocalBundling)
class LocalPipBundling:
    """``ILocalBundling`` that builds the asset with this interpreter's pip (no Docker)."""

    def __init__(self, package: PythonPackage) -> None:
        self._package = package

    def try_bundle(
        self,
        output_dir: str,
        *,
        image: cdk.DockerImage,
        bundling_file_access: cdk.BundlingFileAccess | None = None,
        command: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
        local: cdk.ILocalBundling | None = None,
        network: str | None = None,
        output_type: cdk.BundlingOutput | None = None,
        platform: str | None = None,
        security_opt: str | None = None,
        user: str | None = None,
        volumes: Sequence[cdk.DockerVolume | dict[str, object]] | None = None,
        volumes_from: Sequence[str] | None = None,
        working_directory: str | None = None,
    ) -> bool:
        """Build into ``output_dir``; ``False`` (Docker fallback) only when pip is missing."""
        if importlib.util.find_spec("pip") is None:
            return False
        bundle(self._package, Path(output_dir))
        return True


def bundle(package: PythonPackage, output: Path) -> None:
    """Copy the package to ``output/<name>/``, install its requirements into ``output``, compile
    it for the runtime, and refuse an asset that Lambda would refuse for its size."""
    shutil.copytree(
        package.source,
        output / package.source.name,
        ignore=shutil.ignore_patterns(*IGNORED),
        dirs_exist_ok=True,
    )
    command = [sys.executable, "-m", "pip", *package.pip_arguments(str(output))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BundlingError(
            f"pip could not install {package.requirements} for {package.runtime.name} "
            f"({package.pip_platform}):\n{result.stderr.strip() or result.stdout.strip()}"
        )
    _compile(package, output)
    size = unzipped_bytes(output)
    if size > UNZIPPED_QUOTA_BYTES:
        raise BundlingError(
            f"the Lambda asset of {package.source.name} is {size:,} bytes unzipped, over "
            f"Lambda's deployment package quota of {UNZIPPED_QUOTA_BYTES:,} bytes (250 MB)"
        )


def _compile(package: PythonPackage, output: Path) -> None:
    python = python_for(package.python_version)
    if python is None:
        print(
            f"warning: python{package.python_version} not found: the Lambda asset ships without "
            "byte code, so every cold start compiles it",
            file=sys.stderr,
        )
        return
    compiled = subprocess.run(  # noqa: S603 - the runtime's interpreter, found by python_for
        [python, "-m", "compileall", "-q", *compile_arguments(str(output))],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        raise BundlingError(
            f"python{package.python_version} could not compile the asset:\n"
            f"{compiled.stderr.strip() or compiled.stdout.strip()}"
        )


def unzipped_bytes(folder: Path) -> int:
    """The size of the files under ``folder``, as Lambda counts a package unzipped."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def zipped_bytes(folder: Path) -> int:
    """The size of ``folder`` zipped with deflate, as CDK zips an asset."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def compile_arguments(output: str) -> list[str]:
    """``compileall`` arguments: byte code valid whatever dates the zip gives the files."""
    return [
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        output,
        "-p",
        LAMBDA_TASK_ROOT,
        output,
    ]


def docker_command(package: PythonPackage) -> list[str]:
    """The same build inside the Lambda build image, used only if local bundling declines."""
    copy = f"/asset-output/{package.source.name}"
    pip = package.pip_arguments("/asset-output", requirements="/asset-input/requirements.txt")
    return [
        "bash",
        "-c",
        f"mkdir -p {copy}"
        f" && cp -R /asset-input/. {copy}/"
        f" && rm -rf {copy}/__pycache__ {copy}/requirements.txt"
        f" && python -m pip {' '.join(pip)}"
        f" && python -m compileall -q {' '.join(compile_arguments('/asset-output'))}",
    ]


def package_code(package: PythonPackage) -> lambda_.Code:
    """``Code`` for the package, hashed on its source (so the same source gives the same asset)."""
    return lambda_.Code.from_asset(
        str(package.source),
        exclude=list(IGNORED[:2]),
        asset_hash_type=cdk.AssetHashType.SOURCE,
        bundling=cdk.BundlingOptions(
            image=package.runtime.bundling_image,
            command=docker_command(package),
            local=LocalPipBundling(package),
        ),
    )
