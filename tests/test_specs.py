"""Folders of valid and invalid specs: the valid elaborate and check, the invalid give exact errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_spec

from checker.cli import main
from checker.model import load_spec

HERE = Path(__file__).parent / "specs"
VALID = sorted((HERE / "valid").glob("*.storm"))
INVALID = sorted((HERE / "invalid").glob("*.storm"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_spec_checks_and_every_trace_replays(path: Path) -> None:
    load_spec(path)
    run = run_spec(path)  # replays every trace
    assert run.results


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_gives_its_exact_error(path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    code = main(["check", path.name])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == path.with_suffix(".expected").read_text(encoding="utf-8").strip()
    if ":1:1:" not in lines[0]:  # a source line and a caret under the column
        col = int(lines[0].split(":")[2])
        assert lines[2].index("^") - 4 == col - 1


def test_every_construct_results() -> None:
    run = run_spec(HERE / "valid" / "every_construct.storm")
    got = {r.check.name: (r.verdict.value, r.ticks) for r in run.results}
    assert got == {
        "free_ok": ("holds", None),
        "load_range": ("holds", None),
        "all_busy": ("holds", 0),
        "broke": ("holds", 0),
        "no_storm": ("holds", None),
        "healed_storm": ("holds", None),
        "calm": ("violated", None),
        "back": ("violated", 4),
    }
    assert (run.stats.states, run.stats.tick_states) == (4332, 269)
