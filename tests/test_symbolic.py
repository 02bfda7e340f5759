"""The symbolic engine on the conformance corpus: verdicts, ticks, and replay of every trace.

HOLDS_BOUNDED is accepted where the corpus says `holds` for an invariant only in the cases
listed in BOUNDED_OK (the engine cannot prove them within its budget). 10_fault_limits is run
with a small bound: its faults interleave freely inside a tick, and unsat proofs over those
interleavings grow quickly (see .notes/symbolic.md); its proofs are left to the explicit engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.engines.base import CheckOptions, Verdict, replay
from checker.engines.symbolic import SymbolicEngine
from checker.model import load_spec, load_text
from tests.expectations import runs

CORPUS = Path("/work/shared/conformance")
if not CORPUS.is_dir():  # pragma: no cover - the repository's copy
    CORPUS = Path(__file__).parent / "conformance"
SPECS = sorted(p for p in CORPUS.glob("[0-9]*.storm"))
SMALL_BOUND = {"10_fault_limits.storm": 1}
# (spec, check) -> verdicts accepted instead of the expected one, and why
BOUNDED_OK = {
    ("10_fault_limits.storm", "at_most_two_out"): {"holds_bounded"},
    ("10_fault_limits.storm", "outage_cap"): {"holds_bounded"},
    ("10_fault_limits.storm", "crash_count"): {"holds_bounded"},
    ("10_fault_limits.storm", "three_down"): {"unknown"},  # unreachability needs a proof
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_conformance_expectations(spec: Path) -> None:
    run = runs(spec)[0]
    model = load_spec(spec)
    bound = SMALL_BOUND.get(spec.name, 12)
    result = SymbolicEngine().run(model, CheckOptions(ticks=bound))
    for r in result.results:
        replay(model, r)
        want, ticks = run.expect[r.check.name]
        got = r.verdict.value
        allowed = {want} | BOUNDED_OK.get((spec.name, r.check.name), set())
        assert got in allowed, (r.check.name, got, want, r.reason)
        if got == want and ticks != "any":
            assert r.ticks == ticks, (r.check.name, r.ticks, ticks)


def _run(text: str, ticks: int = 6) -> dict[str, object]:
    model = load_text(text)
    out = SymbolicEngine().run(model, CheckOptions(ticks=ticks))
    for r in out.results:
        replay(model, r)
    return {r.check.name: r for r in out.results}


def test_model_error_is_reported_with_the_failing_step_and_message() -> None:
    res = _run("protocol p\nvar x: 0..2 = 0\naction inc { x += 1 }\ncheck invariant ok: x >= 0\n")
    r = res["ok"]
    assert r.verdict is Verdict.VIOLATED and r.model_error and r.ticks == 2  # type: ignore[attr-defined]
    assert r.trace.failing_step is not None and "outside its range" in r.trace.error  # type: ignore[attr-defined]


def test_bad_state_wins_a_tie_with_a_model_error() -> None:
    # inc stores 2 (bad state) in tick 1; the error (3) comes one tick later
    res = _run("protocol p\nvar x: 0..2 = 0\naction inc { x += 1 }\ncheck invariant small: x < 2\n")
    r = res["small"]
    assert r.verdict is Verdict.VIOLATED and not r.model_error and r.ticks == 1  # type: ignore[attr-defined]


def test_reachable_after_the_first_model_error_is_violated_by_it() -> None:
    res = _run("protocol p\nvar x: 0..1 = 0\nvar y: 0..9 = 0\naction inc { x += 1; y += 1 }\n"
               "check reachable late: y == 3\n")
    r = res["late"]
    assert r.verdict is Verdict.VIOLATED and r.model_error  # type: ignore[attr-defined]


def test_storm_lasso_and_fairness() -> None:
    storm = ("protocol p\nvar free: 0..1 = 0\nnode n count 2 {\n states s, done\n"
             " retry rule again: s -> s when free == 0\n progress rule go: s -> done when free > 0 { free -= 1 }\n}\n"
             "fault give { free = 1 } limit 1\n"
             "check no_storm\ncheck recovers all_done: count(done) == 2\n")
    res = _run(storm)
    assert res["no_storm"].verdict is Verdict.VIOLATED  # type: ignore[attr-defined]
    assert res["no_storm"].trace.loop_start is not None  # type: ignore[attr-defined]
    assert res["all_done"].verdict is Verdict.VIOLATED  # type: ignore[attr-defined]
    fair = storm.replace("fault give { free = 1 } limit 1", "fair action give when free == 0 { free = 1 }")
    res = _run(fair)
    # the fair action is enabled at every tick state of the loop and must fire: it ends the storm
    assert res["no_storm"].verdict in (Verdict.HOLDS, Verdict.HOLDS_BOUNDED)  # type: ignore[attr-defined]


def test_within_violation_has_the_run_length() -> None:
    res = _run("protocol p\nvar x: 0..5 = 0\naction inc when x < 5 { x += 1 }\n"
               "check recovers big: x >= 4 within 2 ticks\n", ticks=8)
    r = res["big"]
    assert r.verdict is Verdict.VIOLATED and r.ticks == 2  # type: ignore[attr-defined]


def test_k_induction_proves_a_counter_bound_beyond_the_tick_bound() -> None:
    res = _run("protocol p\nvar x: 0..100 = 0\nvar y: 0..100 = 0\naction step when x < 100 { x += 1; y += 1 }\n"
               "check invariant same: x == y\n", ticks=3)
    r = res["same"]
    assert r.verdict is Verdict.HOLDS and "k-induction" in (r.reason or "")  # type: ignore[attr-defined]


def test_reachable_without_witness_in_bound_is_unknown() -> None:
    res = _run("protocol p\nvar x: 0..50 = 0\naction inc when x < 50 { x += 1 }\n"
               "check reachable far: x == 40\n", ticks=3)
    r = res["far"]
    assert r.verdict is Verdict.UNKNOWN and r.reason == "no witness within 3 ticks"  # type: ignore[attr-defined]
