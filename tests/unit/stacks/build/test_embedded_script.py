"""Joining a step's modules into the one program its aws:executeScript step embeds."""

from __future__ import annotations

import ast
import io
import json
import tokenize
from typing import TYPE_CHECKING, Any

import pytest

from stacks.build.embedded_script import (
    INDENT,
    ScriptJoinError,
    compact_script,
    reindented,
    script_text,
)

if TYPE_CHECKING:
    from pathlib import Path


def run(program: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "joined"}
    exec(compile(program, "joined", "exec"), namespace)  # noqa: S102 - our own test source
    return namespace


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """A package ``pkg`` with a shared module and a step module importing from it."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text('"""The package."""\n')
    (tmp_path / "pkg" / "shared.py").write_text(
        '''"""Shared."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Final, TypedDict

if TYPE_CHECKING:
    from collections.abc import Mapping

PATTERN: Final = re.compile(r"^[a-z]+$")
UNUSED: Final = "only another step uses this"


class Payload(TypedDict):
    """Fields are annotations: they stay."""

    name: str


def check(name: str) -> str:
    """Checked."""
    if not PATTERN.fullmatch(name):
        raise ValueError(name)
    return name


def encode(value: Mapping[str, object]) -> str:
    return json.dumps(value, sort_keys=True)


def for_another_step(value: int) -> int:
    return value + len(UNUSED)
'''
    )
    (tmp_path / "pkg" / "step.py").write_text(
        '''"""The step."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pkg.shared import Payload, check, encode

if TYPE_CHECKING:
    from pkg.shared import UNUSED


def handler(events: dict[str, str], context: object) -> str:
    """The entry point."""
    checked: str = check(events["name"])
    payload: Payload = {"name": checked}
    return encode({"payload": payload, "again": json.loads(json.dumps(checked))})
'''
    )
    return tmp_path


FILES = ["pkg/shared.py", "pkg/step.py"]


def test_the_joined_program_runs_as_the_modules_do(scripts: Path) -> None:
    program = script_text(FILES, scripts, entry="handler")

    assert run(program)["handler"]({"name": "abc"}, None) == json.dumps(
        {"again": "abc", "payload": {"name": "abc"}}, sort_keys=True
    )
    with pytest.raises(ValueError, match="A1"):
        run(program)["handler"]({"name": "A1"}, None)


def test_imports_come_first_once_and_those_between_the_files_go(scripts: Path) -> None:
    program = script_text(FILES, scripts, entry="handler")
    statements = ast.parse(program).body

    imports = [ast.unparse(s) for s in statements if isinstance(s, ast.Import | ast.ImportFrom)]
    assert imports == ["from __future__ import annotations", "import json", "import re"]
    assert all(not isinstance(s, ast.Import | ast.ImportFrom) for s in statements[len(imports) :])
    assert "pkg" not in program
    assert "TYPE_CHECKING" not in program
    assert '"""' not in program


def test_annotations_go_except_a_class_bodys_fields(scripts: Path) -> None:
    program = script_text(FILES, scripts)

    assert "class Payload(TypedDict):\n  name: str" in program
    assert "from typing import TypedDict" in program
    assert "def handler(events, context):" in program
    assert "checked = check(events['name'])" in program
    assert "PATTERN = re.compile" in program
    assert "Final" not in program
    assert "Mapping" not in program


def test_without_postponed_annotations_they_are_kept(tmp_path: Path) -> None:
    # Evaluated when the function is defined: dropping them would hide a NameError
    (tmp_path / "step.py").write_text(
        "def handler(events: dict, context: object) -> int:\n    x: int = 1\n    return x\n"
    )

    assert script_text(["step.py"], tmp_path, entry="handler") == (
        "def handler(events: dict, context: object) -> int:\n  x: int = 1\n  return x\n"
    )


def test_what_the_handler_never_reaches_goes(scripts: Path) -> None:
    reached = script_text(FILES, scripts, entry="handler")
    everything = script_text(FILES, scripts)

    assert "for_another_step" not in reached
    assert "UNUSED" not in reached
    assert "Payload" not in reached  # a type the handler only annotates with
    assert "TypedDict" not in reached
    assert "for_another_step" in everything
    assert "UNUSED = 'only another step uses this'" in everything


def test_a_statement_that_runs_on_load_is_kept_with_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "shared.py").write_text(
        "TABLE = {}\n\n\ndef register(name):\n    TABLE[name] = 1\n"
    )
    (tmp_path / "step.py").write_text(
        "from shared import TABLE, register\n\nregister('x')\n\n\ndef handler(events, context):\n"
        "    return TABLE\n"
    )

    program = script_text(["shared.py", "step.py"], tmp_path, entry="handler")

    assert run(program)["handler"]({}, None) == {"x": 1}


def test_the_program_is_indented_two_spaces_a_level_and_is_the_same_program(
    scripts: Path,
) -> None:
    program = script_text(FILES, scripts)
    four_spaces = ast.unparse(ast.parse(program))

    assert INDENT == 2
    assert "\n  if not PATTERN.fullmatch(name):\n    raise ValueError(name)\n" in program
    assert ast.dump(ast.parse(program)) == ast.dump(ast.parse(four_spaces))
    assert len(program) < len(four_spaces)


def test_reindenting_refuses_what_would_change_the_program() -> None:
    # A line break inside a string (ast.unparse writes none): its spaces are the string's
    assert reindented("def f():\n    return 1") == "def f():\n  return 1"
    with pytest.raises(ScriptJoinError, match="changed it"):
        reindented('def f():\n    return """a\n        b"""')


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("from pkg.shared import missing\n", r"imports missing, which pkg\.shared does not define"),
        ("from pkg.other import x\n", r"imports from pkg\.other, which is not listed before it"),
        ("import pkg.shared\n", r"import pkg\.shared: import its names instead"),
        ("from pkg.shared import check as verify\n", r"import check as verify"),
        ("from .shared import check\n", "a relative import cannot be joined"),
        ("def f():\n    from pkg.shared import check\n", "must be at the top level"),
        (
            "def check(name):\n    return name\n",
            r"pkg/shared\.py and pkg/step\.py both define check",
        ),
    ],
)
def test_files_that_cannot_be_joined_are_refused(scripts: Path, step: str, message: str) -> None:
    (scripts / "pkg" / "other.py").write_text("x = 1\n")
    (scripts / "pkg" / "step.py").write_text(step)

    with pytest.raises(ScriptJoinError, match=message):
        script_text(FILES, scripts)


def test_an_entry_no_file_defines_is_refused(scripts: Path) -> None:
    with pytest.raises(ScriptJoinError, match="defines main"):
        script_text(FILES, scripts, entry="main")


SOURCE = '''"""Module docstring."""

# a comment
from __future__ import annotations

import json  # trailing comment

LIMIT = 3
"""An attribute docstring."""


class Only:
    """Only a docstring: the body needs a pass."""


class Point:
    """Has fields."""

    x: int
    label: str = "a # not a comment"


def handler(events: dict[str, object], context: object) -> str:
    """Say hello."""
    text = f"""{events!r}
    keeps # this line"""
    return json.dumps([text, LIMIT, Point.label])
'''


def test_compact_script_drops_comments_and_docstrings_and_keeps_the_program() -> None:
    compact = compact_script(SOURCE)

    # No comment and no docstring is left, strings that look like them are
    assert all(token.type != tokenize.COMMENT for token in tokens(compact))
    assert "docstring" not in compact
    assert "# not a comment" in compact
    assert "keeps # this line" in compact
    # The syntax tree is the original's, minus its docstrings
    assert ast.dump(ast.parse(compact)) == ast.dump(ast.parse(SOURCE_WITHOUT_DOCSTRINGS))
    # And it runs the same
    namespace: dict[str, Any] = {"__name__": "compact"}
    exec(compile(compact, "compact", "exec"), namespace)  # noqa: S102 - our own test source
    assert namespace["handler"]({"a": 1}, None) == json.dumps(
        ["{'a': 1}\n    keeps # this line", 3, "a # not a comment"]
    )


SOURCE_WITHOUT_DOCSTRINGS = '''from __future__ import annotations
import json
LIMIT = 3
class Only:
    pass
class Point:
    x: int
    label: str = "a # not a comment"
def handler(events: dict[str, object], context: object) -> str:
    text = f"""{events!r}
    keeps # this line"""
    return json.dumps([text, LIMIT, Point.label])
'''


def tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))
