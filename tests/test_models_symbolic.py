"""Every model on the symbolic engine: what it decides matches the header, and it never
contradicts the explicit engine.

The symbolic engine is slow on interleavings inside a tick (see bench/README.md), so the
models it decides within seconds run in the fast suite with no time limit (their outcome is
deterministic); the others run under `-m slow` with a budget, where an undecided check is
fine but a decided one must be right.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import runs
from helpers import ROOT

from checker.engines import CheckOptions, Verdict, get_engine, replay
from checker.engines.compare import compare
from checker.model import load_spec

FAST = {
    "incidents/ebs_control_plane_2011",
    "incidents/ebs_control_plane_2011_fixed",
    "patterns/admission_control",
}
MODELS = sorted((ROOT / "models").rglob("*.storm"))


def _id(p: Path) -> str:
    return p.relative_to(ROOT / "models").with_suffix("").as_posix()


def _check(path: Path, timeout: float | None, complete: bool) -> None:
    model = load_spec(path)
    expect = runs(path)[0].expect
    explicit = get_engine("explicit").run(model, CheckOptions())
    symbolic = get_engine("symbolic").run(model, CheckOptions(timeout=timeout))
    for r in symbolic.results:
        replay(model, r)
    assert compare(explicit, symbolic) == []
    for r in symbolic.results:
        status, ticks = expect[r.check.name]
        if r.verdict in (Verdict.HOLDS, Verdict.VIOLATED):
            assert r.verdict.value == status, r.check.name
            if ticks != "any" and r.trace is not None:
                assert r.ticks == ticks, r.check.name
        elif complete:
            pytest.fail(f"{r.check.name}: {r.verdict.value} ({r.reason})")


@pytest.mark.parametrize("path", [p for p in MODELS if _id(p) in FAST], ids=_id)
def test_fast_models_are_decided_as_their_header_says(path: Path) -> None:
    _check(path, timeout=None, complete=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in MODELS if _id(p) not in FAST], ids=_id)
def test_other_models_never_contradict_within_a_budget(path: Path) -> None:
    _check(path, timeout=60, complete=False)


VALID = sorted((ROOT / "tests" / "specs" / "valid").glob("*.storm"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_specs_agree_on_both_engines_within_a_small_bound(path: Path) -> None:
    model = load_spec(path)
    opts = CheckOptions(ticks=3, timeout=20)
    explicit = get_engine("explicit").run(model, opts)
    symbolic = get_engine("symbolic").run(model, opts)
    for r in (*explicit.results, *symbolic.results):
        replay(model, r)
    assert compare(explicit, symbolic) == []
