"""The builder that embeds scripts into runbooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

from stacks.build.runbook_document import RunbookBuildError, build_document, document_yaml

if TYPE_CHECKING:
    from pathlib import Path


def write_document(folder: Path, body: str) -> Path:
    document = folder / "runbook.yaml"
    document.write_text(body, encoding="utf-8")
    return document


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "scripts"
    (folder / "common").mkdir(parents=True)
    (folder / "one.py").write_text("def handler(events, context):\n    return {}\n")
    (folder / "common" / "two.py").write_text("X = 1\n")
    return folder


def test_embeds_every_script_where_its_placeholder_was(tmp_path: Path, scripts: Path) -> None:
    # Given a document naming two scripts, one in a subfolder
    document = write_document(
        tmp_path,
        "schemaVersion: '0.3'\n"
        "mainSteps:\n"
        "  - inputs:\n"
        "      Script: '%%SCRIPT=one.py%%'\n"
        "  - inputs:\n"
        "      Script: |-\n"
        "        %%SCRIPT=common/two.py%%\n",
    )

    # When it is built
    built = build_document(document)

    # Then each placeholder holds the script's program, and nothing else changed
    assert built["schemaVersion"] == "0.3"
    # (the joined program of the one file: two spaces a level, see embedded_script)
    assert built["mainSteps"][0]["inputs"]["Script"] == (
        "def handler(events, context):\n  return {}\n"
    )
    assert built["mainSteps"][1]["inputs"]["Script"] == "X = 1\n"


def test_a_step_names_its_modules_and_gets_the_one_program_cut_to_its_handler(
    tmp_path: Path, scripts: Path
) -> None:
    # Given a step whose script is a shared module and its own, which imports from it
    (scripts / "common" / "shared.py").write_text(
        "def greet(name):\n    return 'hello ' + name\n\n\ndef unused():\n    return 0\n"
    )
    (scripts / "step.py").write_text(
        "from common.shared import greet\n\n\ndef handler(events, context):\n"
        "    return greet(events['name'])\n"
    )
    document = write_document(
        tmp_path,
        "mainSteps:\n"
        "  - inputs:\n"
        "      Handler: handler\n"
        "      Script: '%%SCRIPT=common/shared.py,step.py%%'\n",
    )

    # When it is built
    script = build_document(document)["mainSteps"][0]["inputs"]["Script"]

    # Then the script is both files in one, without the import between them or what the
    # handler never reaches, and it runs
    assert script == (
        "def greet(name):\n  return 'hello ' + name\n\n"
        "def handler(events, context):\n  return greet(events['name'])\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(script, "step", "exec"), namespace)  # noqa: S102 - our own test source
    assert namespace["handler"]({"name": "you"}, None) == "hello you"


def test_modules_that_cannot_be_joined_are_a_build_error(tmp_path: Path, scripts: Path) -> None:
    (scripts / "step.py").write_text("from common.two import Y\n")
    document = write_document(tmp_path, "Script: '%%SCRIPT=common/two.py,step.py%%'\n")

    with pytest.raises(RunbookBuildError, match=r"imports Y, which common\.two does not define"):
        build_document(document)


def test_a_script_that_does_not_parse_is_a_build_error(tmp_path: Path, scripts: Path) -> None:
    (scripts / "broken.py").write_text("def handler(:\n")
    document = write_document(tmp_path, "Script: '%%SCRIPT=broken.py%%'\n")

    with pytest.raises(RunbookBuildError, match=r"names script 'broken\.py'"):
        build_document(document)


SOURCE = """import json

# a comment
def handler(events, context):
    return json.dumps(events)
"""


def test_yaml_rendering_keeps_the_document_and_writes_scripts_as_blocks() -> None:
    document = {"schemaVersion": "0.3", "mainSteps": [{"inputs": {"Script": SOURCE}}]}

    text = document_yaml(document)

    assert yaml.safe_load(text) == document
    assert "Script: |" in text
    assert "    # a comment\n" in text  # the script's own lines, as written, in a literal block


def test_scripts_folder_can_be_given(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "one.py").write_text("Y = 2\n")
    document = write_document(tmp_path, "Script: '%%SCRIPT=one.py%%'\n")

    assert build_document(document, scripts_dir=other) == {"Script": "Y = 2\n"}


def test_missing_script_is_an_error_naming_it(tmp_path: Path, scripts: Path) -> None:
    document = write_document(tmp_path, "Script: '%%SCRIPT=absent.py%%'\n")

    with pytest.raises(RunbookBuildError, match=r"absent\.py"):
        build_document(document)


@pytest.mark.parametrize(
    "placeholder",
    [
        "%%SCRIPT=one.py",  # not closed
        "%%SCRIPT=%%",  # no name
        "%%SCRIPT=one py%%",  # a space: not a file name
    ],
)
def test_leftover_placeholder_is_an_error(tmp_path: Path, scripts: Path, placeholder: str) -> None:
    document = write_document(tmp_path, f"Steps:\n  - Script: '{placeholder}'\n")

    with pytest.raises(RunbookBuildError):
        build_document(document)


@pytest.mark.parametrize("name", ["../secret.py", "common/../../x.py", "/etc/x.py", "one.txt"])
def test_script_names_stay_inside_the_scripts_folder(
    tmp_path: Path, scripts: Path, name: str
) -> None:
    (tmp_path / "secret.py").write_text("SECRET = 1\n")
    document = write_document(tmp_path, f"Script: '%%SCRIPT={name}%%'\n")

    with pytest.raises(RunbookBuildError, match=r"relative \.py path"):
        build_document(document)


def test_a_document_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    document = write_document(tmp_path, "- just\n- a list\n")

    with pytest.raises(RunbookBuildError, match="not a YAML mapping"):
        build_document(document)


def test_unreadable_yaml_is_an_error(tmp_path: Path) -> None:
    document = write_document(tmp_path, "key: [unclosed\n")

    with pytest.raises(RunbookBuildError, match="cannot read document"):
        build_document(document)
