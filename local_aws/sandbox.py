"""Run code the way a managed Python runtime does: a clean interpreter, stdlib + boto3 only.

Both AWS Lambda's Python runtime and SSM Automation's ``aws:executeScript`` give code the
standard library and boto3 (with botocore and their dependencies), nothing else. A sandbox is a
temporary folder holding links to exactly those packages of this virtualenv; code runs in a
subprocess started with ``-I -S`` (no site-packages, no ``PYTHON*`` variables), whose
``sys.path`` is set by ``local_aws/sandbox_bootstrap.py`` to the code's folders, then the
runtime's packages, then the standard library.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacks.build.python_runtime import python_for

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RUNTIME_DISTRIBUTIONS = ("boto3",)
BOOTSTRAP = Path(__file__).with_name("sandbox_bootstrap.py")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PYTHON_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")


class SandboxError(Exception):
    """The sandbox cannot be built or the code could not be started."""


@dataclass(frozen=True)
class Interpreter:
    """The Python that plays a runtime, and whether it is the runtime's exact version."""

    path: str
    version: str
    runtime: str

    @property
    def exact(self) -> bool:
        return f"python{self.version}" == self.runtime


def find_interpreter(runtime: str) -> Interpreter:
    """A ``pythonX.Y`` for the runtime ``pythonX.Y``, else this interpreter (``exact`` is False)."""
    match = _PYTHON_RUNTIME.match(runtime)
    if match is None:
        raise SandboxError(f"runtime {runtime} is not a Python runtime")
    wanted = f"{match.group(1)}.{match.group(2)}"
    found = python_for(wanted)
    if found is not None:
        return Interpreter(path=found, version=wanted, runtime=runtime)
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Interpreter(path=sys.executable, version=current, runtime=runtime)


def runtime_packages(
    destination: Path, distributions: Sequence[str] = RUNTIME_DISTRIBUTIONS
) -> Path:
    """Link the top-level packages of ``distributions`` and their dependencies into a folder."""
    destination.mkdir(parents=True, exist_ok=True)
    for distribution in _with_dependencies(distributions):
        for top_level in _top_levels(distribution):
            package = Path(str(distribution.locate_file(top_level)))
            source = package if package.exists() else package.with_name(f"{top_level}.py")
            if not source.exists():
                raise SandboxError(f"{distribution.metadata['Name']}: {package} is missing")
            target = destination / source.name
            if not target.exists():
                target.symlink_to(source, target_is_directory=source.is_dir())
    return destination


def _with_dependencies(names: Sequence[str]) -> list[importlib.metadata.Distribution]:
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as error:
            raise SandboxError(f"{name} is not installed in this environment") from error
        found[key] = distribution
        for requirement in distribution.requires or []:
            _, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            match = _REQUIREMENT_NAME.match(requirement)
            if match:
                pending.append(match.group(1))
    return list(found.values())


def _top_levels(distribution: importlib.metadata.Distribution) -> list[str]:
    listed = distribution.read_text("top_level.txt")
    if listed:
        return [line.strip() for line in listed.splitlines() if line.strip()]
    tops = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in {"..", "__pycache__", "bin"}:
            continue
        tops.add(first)
    return sorted(top.removesuffix(".py") for top in tops if top.endswith(".py") or "." not in top)


def bytecode_cache(work: Path) -> Path:
    """Where sandboxed interpreters write byte code: never beside the code (an asset in
    ``cdk.out`` stays as synthesized). Inside the virtualenv when there is one, so runs share
    it (compiling botocore costs a second per interpreter) and ``make clean`` removes it."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "var" / "cache" / "local-aws-pycache"
    return work / "pycache"


@dataclass(frozen=True)
class SandboxRun:
    """What a sandboxed call returned: its result (or error) and its output."""

    result: Any
    error: dict[str, Any] | None
    output: str
    duration_seconds: float
    timed_out: bool
    modules: dict[str, str | None] = field(default_factory=dict)
    """The files the request's ``report_modules`` were imported from (None: not imported)."""


@dataclass(frozen=True)
class Sandbox:
    """A folder of runtime packages and a work folder, shared by every run of one session."""

    packages: Path
    work: Path

    @classmethod
    def create(cls, root: Path) -> Sandbox:
        return cls(packages=runtime_packages(root / "runtime"), work=_mkdir(root / "work"))

    def run(
        self,
        *,
        interpreter: Interpreter,
        mode: str,
        request: Mapping[str, Any],
        code_paths: Sequence[Path],
        environment: Mapping[str, str],
        cwd: Path,
        timeout_seconds: float,
        name: str,
    ) -> SandboxRun:
        """Run ``sandbox_bootstrap.py`` in ``mode`` with ``request`` (JSON) and read its answer."""
        call_dir = _mkdir(self.work / name)
        request_file = call_dir / "request.json"
        answer_file = call_dir / "answer.json"
        answer_file.unlink(missing_ok=True)
        request_file.write_text(json.dumps(request), encoding="utf-8")
        search_path = [str(path) for path in code_paths] + [str(self.packages)]
        command = [
            interpreter.path,
            "-I",
            "-S",
            "-X",
            f"pycache_prefix={bytecode_cache(self.work)}",
            str(BOOTSTRAP),
            mode,
            str(request_file),
            str(answer_file),
            os.pathsep.join(search_path),
        ]
        env = {
            **environment,
            # The SDK must not read this machine's ~/.aws: a runtime has no such files.
            "AWS_CONFIG_FILE": str(call_dir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(call_dir / "no-aws-credentials"),
            "HOME": str(call_dir),
        }
        started = _now()
        try:
            completed = subprocess.run(  # noqa: S603 - our bootstrap, our interpreter
                command,
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=timeout_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            return SandboxRun(
                result=None,
                error={
                    "errorType": "TimeoutError",
                    "errorMessage": f"timed out after {timeout_seconds:.0f} seconds",
                },
                output=_text(expired.stdout) + _text(expired.stderr),
                duration_seconds=_now() - started,
                timed_out=True,
            )
        duration = _now() - started
        output = completed.stdout + completed.stderr
        if not answer_file.is_file():
            raise SandboxError(
                f"{name}: the sandboxed {mode} exited with {completed.returncode} without an "
                f"answer:\n{output[-4000:]}"
            )
        answer = json.loads(answer_file.read_text(encoding="utf-8"))
        return SandboxRun(
            result=answer.get("result"),
            error=answer.get("error"),
            output=output,
            duration_seconds=duration,
            timed_out=False,
            modules=answer.get("modules", {}),
        )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _now() -> float:
    return time.monotonic()
