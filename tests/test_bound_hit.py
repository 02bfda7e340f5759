"""The bound is hit only when a tick state of depth B + 1 exists (language.md section 7).

On a spec whose tick states all have depth <= 4, `--ticks 6` does not hit the bound: the
explicit engine finds the space complete; the symbolic engine, which unrolls paths and
cannot exclude deeper tick states, must not say that the bound was hit, but what it did
establish.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_spec, verdicts

from checker.cli import main
from checker.report.explain import explain

SHALLOW = Path(__file__).parent / "specs" / "bound" / "shallow.storm"


def test_explicit_finds_the_shallow_space_complete_at_ticks_6() -> None:
    run = run_spec(SHALLOW, ["--ticks", "6"], ticks=None)  # type: ignore[arg-type]
    assert run.stats.complete and not run.stats.bound_hit and run.stats.max_depth == 4
    assert {v for v, _t in verdicts(run).values()} == {"holds"}


def test_symbolic_does_not_claim_the_bound_hit_at_ticks_6() -> None:
    run = run_spec(SHALLOW, ["--ticks", "6"], engine="symbolic", ticks=None)  # type: ignore[arg-type]
    assert not run.stats.bound_hit
    bounded = [r for r in run.results if r.verdict.value == "holds_bounded"]
    assert {r.check.name for r in bounded} == {"staged_up", "staged_soon"}
    for r in bounded:
        assert not r.bound_hit
        text = explain(run.model, r)
        assert "bound was hit" not in text
        assert text.startswith("No run of at most 6 ticks violates it, which is not a proof")
        assert "tick states beyond depth 6 were not excluded" in text


def test_symbolic_reports_say_what_was_established(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(SHALLOW), "--engine", "symbolic", "--ticks", "6", "--format", "json"])
    assert code == 0
    spec = json.loads(capsys.readouterr().out)["specs"][0]
    assert spec["stats"]["bound_hit"] is False
    assert "not excluded" in spec["run"]["scope"]
    by = {c["name"]: c for c in spec["checks"]}
    assert by["staged_up"]["status"] == "holds_bounded" and by["staged_up"]["bound_hit"] is False
    main(["check", str(SHALLOW), "--engine", "symbolic", "--ticks", "6"])
    out = capsys.readouterr().out
    assert "bound hit" not in out and "bound was hit" not in out
    assert "deeper tick states not excluded" in out


def test_explicit_bound_hit_is_marked_per_check() -> None:
    run = run_spec(SHALLOW, ["--ticks", "2"], ticks=None)  # type: ignore[arg-type]
    assert run.stats.bound_hit
    r = next(r for r in run.results if r.check.name == "staged_up")
    assert r.verdict.value == "holds_bounded" and r.bound_hit
    assert "the tick bound was hit" in explain(run.model, r)
