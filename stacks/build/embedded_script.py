"""Join a runbook step's modules into the one program its ``aws:executeScript`` step embeds.

A step's script is the shared modules it needs, then its own module, all ordinary files of
``ssm_documents/scripts/`` that import from each other. ``aws:executeScript`` runs a single
inline script on the standard library and boto3, so :func:`script_text` puts them together
as one program and keeps it small, since SSM counts every byte of a document against its quota
and the shared code is in it once per step:

- the imports between the files go (each must name what an earlier file defines);
- comments, docstrings and ``if TYPE_CHECKING:`` blocks go (they never run);
- under ``from __future__ import annotations``, annotations Python never evaluates go: those
  of functions and variables, not a class body's (its fields: ``TypedDict``, ``NamedTuple``);
- given the step's handler, top-level definitions it never reaches go (what a shared module
  has for other steps), then imports nothing uses.

The result is ``ast.unparse`` of the program: the same code, one statement a line, indented by
``INDENT`` spaces a level instead of four. YAML indents every line of the step's ``Script`` too,
so indentation is a tenth of the document: two spaces a level save about 1.5 KB of it and
read as easily.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path


INDENT: Final = 2
"""Spaces per indentation level of the joined program."""


class ScriptJoinError(ValueError):
    """The files cannot be joined into one program: the message says which and why."""


def script_text(names: Sequence[str], scripts_dir: Path, entry: str | None = None) -> str:
    """The one program made of the files ``names`` (relative paths in ``scripts_dir``).

    The files' imports come first, each once (``__future__`` at the very top), then their code
    in the order given. With ``entry`` (the handler's name), only what it reaches is kept.

    Raises ``ScriptJoinError`` for an import from another file of ``scripts_dir`` that is not
    listed before, that names what that file does not define, or that has another form
    (``import <module>``, ``as``, relative, or not at the top level); for a name two files
    define; for an ``entry`` no file defines. A file that does not parse raises SyntaxError.
    """
    defined: dict[str, set[str]] = {}
    """The top-level names of each file joined so far, by module name."""
    owner: dict[str, str] = {}
    future: dict[str, ast.stmt] = {}
    imports: list[ast.Import | ast.ImportFrom] = []
    code: list[ast.stmt] = []
    for name in names:
        tree = ast.parse((scripts_dir / name).read_text(encoding="utf-8"))
        _drop_docstrings(tree)
        body = [statement for statement in tree.body if not _is_type_checking_block(statement)]
        _refuse_nested_local_imports(body, name, scripts_dir)
        for statement in body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                future.setdefault(ast.unparse(statement), statement)
            elif isinstance(statement, ast.Import | ast.ImportFrom):
                if not _imports_an_earlier_file(statement, name, scripts_dir, defined):
                    imports.append(statement)
            else:
                code.append(statement)
        here = {defined_name for statement in body for defined_name in _defines(statement)}
        for defined_name in sorted(here):
            if defined_name in owner:
                raise ScriptJoinError(
                    f"{owner[defined_name]} and {name} both define {defined_name}"
                )
            owner[defined_name] = name
        defined[name.removesuffix(".py").replace("/", ".")] = here
    if future:
        code = [_without_annotations(statement) for statement in code]
    if entry is not None:
        if entry not in owner:
            raise ScriptJoinError(f"no file of {', '.join(names)} defines {entry}")
        code = _reachable(code, entry)
    used = _names_in(code)
    program = ast.Module(body=[*future.values(), *_merged(imports, used), *code], type_ignores=[])
    return reindented(ast.unparse(ast.fix_missing_locations(program))) + "\n"


def reindented(text: str, width: int = INDENT) -> str:
    """``ast.unparse``'s text indented by ``width`` spaces a level instead of four.

    Every line of it starts a statement (it writes no line breaks inside a string or between
    brackets), so only leading spaces change; the syntax tree is checked to be the same.
    """
    lines = []
    for line in text.split("\n"):
        code = line.lstrip(" ")
        lines.append(" " * ((len(line) - len(code)) // 4 * width) + code)
    result = "\n".join(lines)
    if ast.dump(ast.parse(result)) != ast.dump(ast.parse(text)):
        raise ScriptJoinError("re-indenting the joined program changed it")
    return result


def compact_script(source: str) -> str:
    """``source`` as the same program without comments and docstrings.

    The result is ``ast.unparse`` of the module with every docstring removed (a body left empty
    gets ``pass``), so its syntax tree equals the original's minus the docstrings.
    """
    tree = ast.parse(source)
    _drop_docstrings(tree)
    return ast.unparse(tree) + "\n"


# --- the imports between the files ----------------------------------------------------------


def _imports_an_earlier_file(
    statement: ast.Import | ast.ImportFrom,
    name: str,
    scripts_dir: Path,
    defined: dict[str, set[str]],
) -> bool:
    """Whether ``statement`` imports from the scripts folder, checked against ``defined``."""
    if isinstance(statement, ast.Import):
        local = [alias.name for alias in statement.names if _is_local(alias.name, scripts_dir)]
        if local:
            raise ScriptJoinError(
                f"{name}: import {', '.join(local)}: import its names instead (from <module> "
                "import <name>), so that the joined program needs no module"
            )
        return False
    if statement.level:
        raise ScriptJoinError(f"{name}: a relative import cannot be joined")
    module = statement.module or ""
    if not _is_local(module, scripts_dir):
        return False
    if module not in defined:
        raise ScriptJoinError(f"{name} imports from {module}, which is not listed before it")
    for alias in statement.names:
        if alias.asname not in (None, alias.name):
            raise ScriptJoinError(f"{name}: from {module} import {alias.name} as {alias.asname}")
        if alias.name not in defined[module]:
            raise ScriptJoinError(f"{name} imports {alias.name}, which {module} does not define")
    return True


def _refuse_nested_local_imports(body: list[ast.stmt], name: str, scripts_dir: Path) -> None:
    """Only top-level imports from the scripts folder can be dropped: refuse any other."""
    top_level = {id(statement) for statement in body}
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in top_level:
            continue
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = [alias.name for alias in node.names]
        local = [module for module in modules if _is_local(module, scripts_dir)]
        if local:
            raise ScriptJoinError(f"{name}: the import from {local[0]} must be at the top level")


def _is_local(module: str, scripts_dir: Path) -> bool:
    """Whether ``module`` is a file (or a package) of the scripts folder."""
    path = scripts_dir.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _merged(
    imports: Iterable[ast.Import | ast.ImportFrom], used: set[str]
) -> list[ast.Import | ast.ImportFrom]:
    """The imports of the names ``used``, each once, one ``from`` statement per module."""
    merged: dict[str, ast.Import | ast.ImportFrom] = {}
    for statement in imports:
        for alias in statement.names:
            if (alias.asname or alias.name).split(".")[0] not in used:
                continue
            if isinstance(statement, ast.Import):
                merged.setdefault(ast.unparse(ast.Import(names=[alias])), ast.Import(names=[alias]))
                continue
            key = f"from {statement.module}"
            target = merged.setdefault(
                key, ast.ImportFrom(module=statement.module, names=[], level=0)
            )
            if ast.dump(alias) not in {ast.dump(seen) for seen in target.names}:
                target.names.append(alias)
    return list(merged.values())


# --- what never runs ------------------------------------------------------------------------


def _drop_docstrings(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            node.body = _without_docstrings(node.body) or [ast.Pass()]


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


def _is_type_checking_block(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.If)
        and isinstance(statement.test, ast.Name)
        and statement.test.id == "TYPE_CHECKING"
        and not statement.orelse
    )


def _without_annotations(statement: ast.stmt) -> ast.stmt:
    """``statement`` without the annotations ``from __future__ import annotations`` leaves
    unevaluated: ``x: T = v`` becomes ``x = v``, ``x: T`` goes; a class body's stay."""
    stripped = _AnnotationStripper().visit(statement)
    return stripped if isinstance(stripped, ast.stmt) else ast.Pass()


class _AnnotationStripper(ast.NodeTransformer):
    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        node.body = [  # the class's own annotations are its fields; its methods' go
            statement if isinstance(statement, ast.AnnAssign) else self.visit(statement)
            for statement in node.body
        ]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        arguments = node.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            argument.annotation = None
        for variadic in (arguments.vararg, arguments.kwarg):
            if variadic is not None:
                variadic.annotation = None
        self.generic_visit(node)
        node.body = node.body or [ast.Pass()]
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.Assign | None:
        if node.value is None:
            return None
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)


# --- what the handler never reaches ---------------------------------------------------------


def _reachable(code: list[ast.stmt], entry: str) -> list[ast.stmt]:
    """The statements ``entry`` needs: the definitions it reaches, and any statement that is
    not a definition (it runs when the script loads)."""
    definitions: dict[str, ast.stmt] = {}
    kept: set[int] = set()
    for statement in code:
        names = _defines(statement)
        for name in names:
            definitions[name] = statement
        if not names:
            kept.add(id(statement))
    wanted = [entry, *_names_in(s for s in code if id(s) in kept)]
    while wanted:
        found = definitions.get(wanted.pop())
        if found is not None and id(found) not in kept:
            kept.add(id(found))
            wanted.extend(_names_in([found]))
    return [statement for statement in code if id(statement) in kept]


def _defines(statement: ast.stmt) -> set[str]:
    """The names a top-level statement defines (an import defines none here)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return {
            node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
        }
    return set()


def _names_in(statements: Iterable[ast.stmt]) -> set[str]:
    return {
        node.id
        for statement in statements
        for node in ast.walk(statement)
        if isinstance(node, ast.Name)
    }
