"""Build an SSM Automation document from its YAML source and the scripts it embeds.

A runbook is data (``ssm_documents/<name>.yaml``); each ``aws:executeScript`` step names its
script with the placeholder ``%%SCRIPT=<file>%%``. The script is an ordinary module in
``ssm_documents/scripts/`` so it is linted, typed and unit-tested like any other code; this
module puts its text into the document when the stack is synthesized, without comments and
docstrings (they are for the reader of the source, and SSM counts every byte of a document), and
renders the document as the YAML SSM stores.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path

PLACEHOLDER = re.compile(r"%%SCRIPT=([^%\s]*)%%")
"""``%%SCRIPT=<file>%%``: replaced by the text of ``<file>`` from the scripts folder."""

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
        return {key: _substitute(value, scripts_dir, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, scripts_dir, document) for item in node]
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda match: _script_text(match[1], scripts_dir, document), node)
    return node


def _script_text(name: str, scripts_dir: Path, document: Path) -> str:
    if not SCRIPT_NAME.fullmatch(name) or ".." in name.split("/"):
        raise RunbookBuildError(
            f"document {document} names script {name!r}: expected a relative .py path "
            f"inside {scripts_dir}"
        )
    script = scripts_dir / name
    if not script.is_file():
        raise RunbookBuildError(f"document {document} names script {name!r}: {script} not found")
    source = script.read_text(encoding="utf-8")
    try:
        return compact_script(source)
    except SyntaxError as error:
        raise RunbookBuildError(f"document {document} names script {name!r}: {error}") from error


def compact_script(source: str) -> str:
    """``source`` as the same program without comments and docstrings.

    The result is ``ast.unparse`` of the module with every docstring removed (a body left empty
    gets ``pass``), so its syntax tree equals the original's minus the docstrings.
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            node.body = _without_docstrings(node.body) or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def _without_docstrings(body: list[ast.stmt]) -> list[ast.stmt]:
    """Drop every statement that is only a string: docstrings, and attribute docstrings."""
    return [
        statement
        for statement in body
        if not (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
    ]


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
