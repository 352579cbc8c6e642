"""Synthesize the CDK app with the project's pinned CLI (``npx cdk synth``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

PROJECT_DIR = Path(__file__).resolve().parent.parent
SYNTH_TIMEOUT_SECONDS = 600


class SynthError(Exception):
    """``cdk synth`` failed; the message carries the end of its output."""


def synthesize(
    output: Path, context: Mapping[str, str] | None = None, app_dir: Path = PROJECT_DIR
) -> Path:
    """Run ``npx cdk synth`` into ``output`` with ``-c key=value`` overrides; return ``output``."""
    npx = shutil.which("npx")
    if npx is None:
        raise SynthError("npx is not on PATH: install Node.js 20+ (see the README's Quick start)")
    command = [npx, "--no-install", "cdk", "synth", "--quiet", "--output", str(output)]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    try:
        completed = subprocess.run(  # noqa: S603 - the project's pinned CDK CLI
            command,
            cwd=app_dir,
            env=environment,
            capture_output=True,
            text=True,
            timeout=SYNTH_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SynthError(f"cdk synth did not finish in {SYNTH_TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0 or not (output / "manifest.json").is_file():
        tail = (completed.stdout + completed.stderr)[-4000:]
        raise SynthError(f"`{' '.join(command[1:])}` failed ({completed.returncode}):\n{tail}")
    return output
