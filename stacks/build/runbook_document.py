"""Build an SSM Automation document from its YAML source and the scripts it embeds.

A runbook is data (``ssm_documents/<name>.yaml``); each ``aws:executeScript`` step names its
script with the placeholder ``%%SCRIPT=<file>[,<file>...]%%``: the shared modules it needs, then
its own. They are ordinary modules in ``ssm_documents/scripts/``, so they are linted, typed and
unit-tested like any other code; when the stack is synthesized this module puts into each step
the one program they make together, cut to what the step's ``Handler`` needs
(``stacks.build.embedded_script``), and renders the document as the YAML SSM stores.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from stacks.build.embedded_script import ScriptJoinError, script_text

if TYPE_CHECKING:
    from pathlib import Path

PLACEHOLDER = re.compile(r"%%SCRIPT=([^%\s]*)%%")
"""``%%SCRIPT=<file>[,<file>...]%%``: replaced by the program the files of the scripts folder
make together (``embedded_script.script_text``)."""

LEFTOVER = re.compile(r"%%SCRIPT")
SCRIPT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.py$")


class RunbookBuildError(ValueError):
    """The document cannot be built: bad YAML, a missing script, or a placeholder left over."""


def build_document(path: Path, *, scripts_dir: Path | None = None) -> dict[str, Any]:
    """Load the document at ``path`` and embed every script it names.

    ``scripts_dir`` defaults to ``scripts/`` beside the document. Raises ``RunbookBuildError``
    if the file is not a YAML mapping, a named script does not exist, or any ``%%SCRIPT``
    placeholder remains after substitution.
    """
    source = scripts_dir if scripts_dir is not None else path.parent / "scripts"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RunbookBuildError(f"cannot read document {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise RunbookBuildError(f"document {path} is not a YAML mapping")
    document: dict[str, Any] = _substitute(loaded, source, path)
    leftover = _find_leftover(document)
    if leftover is not None:
        raise RunbookBuildError(f"document {path} still contains a placeholder at {leftover}")
    return document


def _substitute(node: Any, scripts_dir: Path, document: Path) -> Any:
    if isinstance(node, dict):
        handler = node.get("Handler") if isinstance(node.get("Script"), str) else None
        return {
            key: _script_value(value, scripts_dir, document, handler)
            if key == "Script" and isinstance(value, str)
            else _substitute(value, scripts_dir, document)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_substitute(item, scripts_dir, document) for item in node]
    return node


def _script_value(value: str, scripts_dir: Path, document: Path, handler: object) -> str:
    """A step's ``Script`` with its placeholder replaced; its ``Handler`` is the entry point."""
    entry = handler if isinstance(handler, str) else None
    return PLACEHOLDER.sub(
        lambda match: _script_text(match[1], scripts_dir, document, entry), value
    )


def _script_text(value: str, scripts_dir: Path, document: Path, entry: str | None) -> str:
    names = script_files(value)
    for name in names:
        if not SCRIPT_NAME.fullmatch(name) or ".." in name.split("/"):
            raise RunbookBuildError(
                f"document {document} names script {name!r}: expected a relative .py path "
                f"inside {scripts_dir}"
            )
        if not (scripts_dir / name).is_file():
            raise RunbookBuildError(
                f"document {document} names script {name!r}: {scripts_dir / name} not found"
            )
    try:
        return script_text(names, scripts_dir, entry)
    except (SyntaxError, ScriptJoinError) as error:
        raise RunbookBuildError(f"document {document} names script {value!r}: {error}") from error


def script_files(value: str) -> list[str]:
    """The files a placeholder's value names, in order: ``a.py,b.py`` names two."""
    return value.split(",")


def document_yaml(document: dict[str, Any]) -> str:
    """The document as YAML, multi-line strings (the script, the description) as literal blocks.

    Raises ``RunbookBuildError`` if the YAML does not load back to the same document.
    """
    text = yaml.dump(
        document, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=10_000
    )
    if yaml.safe_load(text) != document:
        raise RunbookBuildError("the document does not survive its YAML rendering")
    return text


class _LiteralDumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line strings as ``|`` blocks."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDumper.add_representer(str, _represent_text)


def _find_leftover(node: Any, where: str = "$") -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            found = _find_leftover(value, f"{where}.{key}")
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found = _find_leftover(item, f"{where}[{index}]")
            if found is not None:
                return found
    elif isinstance(node, str) and LEFTOVER.search(node):
        return where
    return None
