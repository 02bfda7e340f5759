"""The shared conformance specs (hand-derived, independently confirmed) on the explicit engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import expected_error, runs
from helpers import run_spec

from checker.errors import SpecError
from checker.model import load_spec

HERE = Path(__file__).parent / "conformance"
GOOD = sorted(p for p in HERE.glob("*.storm") if not p.name.startswith("b"))
BROKEN = sorted(p for p in HERE.glob("b*.storm"))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_conformance_results(path: Path) -> None:
    for run in runs(path):
        got = {r.check.name: r for r in run_spec(path, run.args).results}
        for name, (status, ticks) in run.expect.items():
            r = got[name]
            assert r.verdict.value == status, (name, run.args)
            if ticks != "any":
                assert r.ticks == ticks, (name, run.args)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_conformance_errors(path: Path) -> None:
    line, col, word = expected_error(path) or (0, 0, "")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert e.value.span is not None
    assert (e.value.span.line, e.value.span.col) == (line, col)
    assert word in e.value.message
