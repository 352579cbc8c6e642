"""Find the Python interpreter of a Lambda or SSM runtime's version on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def python_for(version: str) -> str | None:
    """An interpreter of exactly ``version`` (``3.13``): ``python3.13`` on PATH, or pyenv's."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(path) for path in sorted(pyenv_root.glob(f"versions/{version}*/bin/python{version}"))
    ]
    for candidate in candidates:
        if candidate and _python_version(candidate) == version:
            return candidate
    return None


def _python_version(executable: str) -> str | None:
    try:
        completed = subprocess.run(  # noqa: S603 - a python found on PATH or in pyenv
            [executable, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None
