"""The demo's command line: clear failures and exit codes (the full run is the e2e test)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from local_aws import demo
from local_aws.synth import SynthError, synthesize

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_a_folder_that_is_no_assembly_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--assembly", str(tmp_path)]) == demo.EXIT_ERROR
    assert "manifest.json is missing" in capsys.readouterr().err


def test_an_assembly_without_the_demo_settings_exits_2_naming_them(
    mini_assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The mini assembly has no ExemptTag: the demo's exempt VPC could not be exempt
    assert demo.main(["--assembly", str(mini_assembly)]) == demo.EXIT_ERROR
    assert "-c exemptTag=FlowLogsExempt=true" in capsys.readouterr().err


def test_a_failing_function_exits_2_and_prints_its_output(
    assembly_writer: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.unit.local_aws.mini_assembly import mini_template

    template = mini_template()
    template["Resources"]["Rule4C995B7F"]["Properties"]["InputParameters"] = {
        "Marker": "yes",
        "ExemptTag": "FlowLogsExempt=true",
    }
    assembly = assembly_writer(template, {"index.py": "def handler(event, context):\n    1 / 0\n"})

    assert demo.main(["--assembly", str(assembly)]) == demo.EXIT_ERROR
    err = capsys.readouterr().err
    assert "The rule's Lambda failed" in err
    assert "ZeroDivisionError" in err


def test_synth_without_npx_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SynthError, match="npx is not on PATH"):
        synthesize(tmp_path / "out")
