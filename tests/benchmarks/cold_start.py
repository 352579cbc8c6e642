"""The Lambda's cold start (import time in a fresh interpreter) and the size of its asset.

The asset is the one ``npx cdk synth`` writes (the stack bundles it with
``stacks/build/lambda_bundling.py``); if the synth fails, the same bundling code is called directly.

Imports are timed as Lambda's Python runtime runs them: the runtime's interpreter (found by
``local_aws.sandbox.find_interpreter``), started with ``-S`` (standard library only) and ``-B``,
with ``sys.path`` = the asset, then boto3 installed for that interpreter (the runtime's own SDK;
pip compiles it, as the runtime's comes compiled). The asset ships its own boto3 and botocore,
which must be the ones the handler imports (the run fails otherwise); the bare ``import boto3``
baseline imports the runtime's. ``-B`` because Lambda's code folder is read-only: byte code the
asset does not ship is compiled again on every cold start. When that interpreter is not installed
(or pip cannot install boto3 for it), this interpreter and its site-packages stand in.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from local_aws.sandbox import find_interpreter
from stacks.build.lambda_bundling import unzipped_bytes, zipped_bytes

ROOT: Final = Path(__file__).resolve().parents[2]
HANDLER_MODULE: Final = "vpc_flow_logs_rule.handler"
HANDLER: Final = f"{HANDLER_MODULE}.lambda_handler"
BUNDLED_PACKAGES: Final = ("aws_lambda_powertools", "boto3", "botocore", "vpc_flow_logs_rule")
"""Must come from the asset when the handler is imported (not from the runtime's folder)."""
SUBPROCESS_TIMEOUT_SECONDS: Final = 300
_TIMER: Final = """
import json, sys, time
sys.path[:0] = sys.argv[1].split(sys.argv[3])
start = time.perf_counter()
__import__(sys.argv[2])
elapsed = time.perf_counter() - start
origins = {name: sys.modules[name].__file__ for name in sys.argv[4:] if name in sys.modules}
print(json.dumps([elapsed, origins]))
"""


class ColdStartError(RuntimeError):
    """The asset could not be synthesized nor bundled, or an import did not run as intended."""


@dataclass(frozen=True)
class Asset:
    path: Path
    runtime: str
    how: str
    files: int
    bytes: int
    zipped_bytes: int


def _sized(path: Path, runtime: str, how: str) -> Asset:
    files = sum(1 for p in path.rglob("*") if p.is_file())
    return Asset(path, runtime, how, files, unzipped_bytes(path), zipped_bytes(path))


def _run(
    command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed commands: the pinned CDK CLI, python, pip
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )


def _synthesized_asset(out: Path) -> Asset:
    """``npx cdk synth -o out``; the asset folder and runtime of the function that is ours."""
    completed = _run(["npx", "cdk", "synth", "--quiet", "--output", str(out)], cwd=ROOT)
    if completed.returncode != 0:
        raise ColdStartError((completed.stderr or completed.stdout).strip()[-2000:])
    for template in out.glob("*.template.json"):
        resources = json.loads(template.read_text(encoding="utf-8")).get("Resources", {})
        for resource in resources.values():
            properties = resource.get("Properties", {})
            if resource.get("Type") == "AWS::Lambda::Function" and properties.get("Handler") == (
                HANDLER
            ):
                path = out / str(resource["Metadata"]["aws:asset:path"])
                return _sized(path, str(properties["Runtime"]), f"npx cdk synth -o {out}")
    raise ColdStartError(f"no function with handler {HANDLER} in {out}")


def _bundled_asset(out: Path) -> Asset:
    """The stack's bundling code, called directly (when the synth fails)."""
    from stacks.build.lambda_bundling import PythonPackage, bundle
    from stacks.constructs.config_rule import ARCHITECTURE, RULE_PACKAGE, RUNTIME

    shutil.rmtree(out, ignore_errors=True)
    bundle(PythonPackage(RULE_PACKAGE, RUNTIME, ARCHITECTURE), out)
    return _sized(out, RUNTIME.name, "stacks.build.lambda_bundling.bundle, the synth failed")


def lambda_asset(cdk_out: Path, fallback: Path) -> Asset:
    try:
        return _synthesized_asset(cdk_out)
    except (ColdStartError, OSError, subprocess.TimeoutExpired, KeyError) as error:
        print(
            f"synth failed, bundling with stacks/build/lambda_bundling.py: {error}", file=sys.stderr
        )
        return _bundled_asset(fallback)


@dataclass(frozen=True)
class Runtime:
    """An interpreter, and a folder with boto3 compiled for it (the runtime's own packages)."""

    python: str
    packages: Path
    how: str


def lambda_runtime(runtime: str, cache: Path) -> Runtime:
    """Lambda's ``runtime`` (``python3.13``) if installed here, else this interpreter."""
    interpreter = find_interpreter(runtime)
    if interpreter.exact:
        pins = [f"{name}=={importlib.metadata.version(name)}" for name in ("boto3", "botocore")]
        packages = cache / f"{runtime}-{'-'.join(pins)}"
        if not packages.is_dir():
            pip = [interpreter.path, "-m", "pip", "install", "--quiet"]
            completed = _run(
                [*pip, "--disable-pip-version-check", "--target", str(packages), *pins]
            )
            if completed.returncode != 0:
                shutil.rmtree(packages, ignore_errors=True)
                print(f"pip failed for {runtime}: {completed.stderr[-500:]}", file=sys.stderr)
        if packages.is_dir():
            return Runtime(interpreter.path, packages, f"{runtime} + {', '.join(pins)}")
    current = f"python{sys.version_info.major}.{sys.version_info.minor}"
    purelib = Path(sysconfig.get_paths()["purelib"])
    return Runtime(sys.executable, purelib, f"{current} (no {runtime} here) + its site-packages")


@dataclass(frozen=True)
class ImportTimes:
    label: str
    seconds: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _import_once(runtime: Runtime, module: str, code: Path | None) -> float:
    """Seconds to import ``module`` in a fresh interpreter, ``code`` first on ``sys.path``."""
    search = [str(code)] if code is not None else []
    search.append(str(runtime.packages))
    arguments = [os.pathsep.join(search), module, os.pathsep, *BUNDLED_PACKAGES]
    completed = _run(
        [runtime.python, "-S", "-B", "-c", _TIMER, *arguments],
        env={
            "PATH": os.environ.get("PATH", ""),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "vpc-flow-logs-rule",
        },
    )
    if completed.returncode != 0:
        raise ColdStartError(f"importing {module} failed:\n{completed.stderr[-2000:]}")
    elapsed, origins = json.loads(completed.stdout)
    if code is not None:
        outside = {k: v for k, v in origins.items() if not str(v).startswith(str(code))}
        if outside:
            raise ColdStartError(f"{module} imported bundled packages from elsewhere: {outside}")
    return float(elapsed)


def with_bytecode(asset: Asset, runtime: Runtime, work: Path) -> Asset:
    """A copy of the asset with byte code compiled by the runtime's interpreter.

    ``unchecked-hash`` byte code stays valid whatever the files' times in the deployed zip (CDK
    zips assets with one fixed date, which would invalidate timestamp-checked byte code).
    """
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(asset.path, work)
    command = [runtime.python, "-m", "compileall", "-q", "-j", "0"]
    completed = _run([*command, "--invalidation-mode", "unchecked-hash", str(work)])
    if completed.returncode != 0:
        raise ColdStartError(f"compileall failed:\n{completed.stderr[-2000:]}")
    return _sized(work, asset.runtime, "compileall, unchecked-hash")


def import_times(
    runtime: Runtime, cases: dict[str, tuple[str, Path | None]], runs: int
) -> dict[str, ImportTimes]:
    """Import times per case (label -> module, code folder); the runs interleave the cases so
    that any drift of the machine hits them all alike."""
    seconds: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, (module, code) in cases.items():
            seconds[label].append(_import_once(runtime, module, code))
    return {label: ImportTimes(label, tuple(values)) for label, values in seconds.items()}
