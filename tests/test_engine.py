"""Explicit engine semantics on small specs whose answers are derived by hand in each test."""

from __future__ import annotations

from helpers import run_text, verdicts

from checker.engines import Verdict

FAIR = """
protocol fair_demo
node c count 1 {
  states a, b
  retry rule spin: a -> a
  MOD rule leave: a -> b
}
check no_storm
check recovers left: count(b) == 1
"""


def test_weak_fairness_rules_out_a_loop_that_starves_a_fair_rule() -> None:
    # Each tick the node takes spin or leave. Spinning forever keeps `leave` enabled at
    # every tick state and never fires it: unfair when `leave` is fair.
    assert verdicts(run_text(FAIR.replace("MOD", "fair"))) == {
        "no_storm": ("holds", None), "left": ("holds", None),
    }
    got = verdicts(run_text(FAIR.replace("MOD", "")))
    assert got == {"no_storm": ("violated", None), "left": ("violated", None)}


def test_fairness_is_met_by_a_state_where_the_fair_rule_is_disabled() -> None:
    # `go` is fair but only enabled when x == 0; the loop alternates x 0,1 via the
    # action, and at x == 1 `go` is disabled, so the loop is fair and the storm is real.
    text = """
protocol alt
var x: 0..1 = 0
node c count 1 {
  states a, b
  retry rule spin: a -> a
  fair rule go: a -> b when x == 0 and false
}
action flip { x = 1 - x }
check no_storm
"""
    assert verdicts(run_text(text)) == {"no_storm": ("violated", None)}


ORDER = """
protocol err_order
var x: 0..2 = 0
action inc { x += 1 }
check reachable one: x == 1
check reachable two: x == 2
check invariant small: x < 2
check reachable five: x + 3 == 5 + 3 and false
check invariant div: 10 / (2 - x) > 0
check recovers zero: x == 0 within 0 ticks
check no_storm
"""


def test_model_errors_decide_checks_by_what_comes_first() -> None:
    # inc must fire every tick: x = 1 in tick 0 (ticks 0), 2 in tick 1, and the store
    # of 3 in tick 2 is a model error (ticks 2).
    run = run_text(ORDER)
    got = verdicts(run)
    assert got["one"] == ("holds", 0)
    assert got["two"] == ("holds", 1)
    assert got["small"] == ("violated", 1)  # its bad state comes before the error
    assert got["five"] == ("violated", 2)  # no witness before the model error
    assert got["zero"] == ("violated", 1)  # tick state 1 has x != 0, before the error
    assert got["no_storm"] == ("violated", 2)  # any reachable model error violates it
    by = {r.check.name: r for r in run.results}
    assert by["five"].model_error and by["no_storm"].model_error
    err = by["five"].trace
    assert err is not None and err.failing_step is not None and err.failing_step.name == "inc"
    assert err.error == "action 'inc' stores 3 in 'x', outside its range 0..2"


def test_an_error_in_the_check_itself_concerns_that_check_only() -> None:
    # 10 / (2 - x) divides by zero when x == 2: mid-tick 1 (ticks 1).
    run = run_text(ORDER)
    div = next(r for r in run.results if r.check.name == "div")
    assert (div.verdict, div.ticks, div.model_error) == (Verdict.VIOLATED, 1, False)
    assert div.trace is not None and "division by zero" in (div.trace.error or "")


def test_recovers_lasso_and_within_runs() -> None:
    text = """
protocol flipflop
var x: 0..3 = 0
var started: bool = false
fault start when not started { started = true; x = 1 } limit 1
action flip when started { x = (if x == 1 then 2 else 1) }
check recovers back: x == 0
check recovers soon: x == 0 within 2 ticks
check recovers eventually_three: x == 3 within 0 ticks assuming started
"""
    # start may happen in tick 0; then flip fires every tick: x 1 -> 2 -> 1 ...
    # back: the loop x = 2, 1, 2, ... never has x == 0: violated (lasso).
    # soon: tick states 1, 2, 3 (x = 2, 1, 2 after start+flip in tick 0) all have x != 0, and
    #   no fault in ticks 2 and 3: the shortest run ends at tick 3.
    # eventually_three: the first tick state with started and x != 3 is tick state 1.
    run = run_text(text)
    got = verdicts(run)
    assert got == {"back": ("violated", None), "soon": ("violated", 3), "eventually_three": ("violated", 1)}
    back = next(r for r in run.results if r.check.name == "back")
    assert back.trace is not None and back.trace.loop_start is not None


def test_unlimited_faults_may_cycle_inside_a_tick() -> None:
    text = """
protocol flap
var up: bool = true
var flaps: 0..3 = 0
fault down when up { up = false }
fault back when not up { up = true; flaps = min(flaps + 1, 3) }
check reachable three_flaps: flaps == 3
check no_storm
"""
    # faults alone can flap three times inside tick 0; there is no retry rule, so no storm.
    assert verdicts(run_text(text)) == {"three_flaps": ("holds", 0), "no_storm": ("holds", None)}


def test_bounds_limits_and_timeouts_never_claim_holds() -> None:
    text = """
protocol counter
var x: 0..50 = 0
action inc when x < 50 { x += 1 }
check invariant ok: x <= 50
check reachable far: x == 40
check no_storm
"""
    got = verdicts(run_text(text, ticks=10))
    assert got == {"ok": ("holds_bounded", None), "far": ("unknown", None), "no_storm": ("holds_bounded", None)}
    assert verdicts(run_text(text)) == {"ok": ("holds", None), "far": ("holds", 39), "no_storm": ("holds", None)}
    limited = run_text(text, max_states=5)
    assert {r.verdict for r in limited.results} == {Verdict.UNKNOWN}
    assert all("state limit" in (r.reason or "") for r in limited.results)


def test_a_lasso_found_beyond_the_bound_is_still_reported() -> None:
    # The storm starts only after tick 5, but a bound of 3 ticks explores only to tick 3:
    # no lasso can be seen, so it holds up to 3 ticks; with the default bound it is found.
    text = """
protocol late
timer warmup: 0..9
var armed: bool = false
action arm when not armed { armed = true; warmup = 5 }
node c count 1 {
  states idle
  retry rule hammer: idle -> idle when armed and warmup == 0
}
check no_storm
"""
    assert verdicts(run_text(text, ticks=3)) == {"no_storm": ("holds_bounded", None)}
    assert verdicts(run_text(text)) == {"no_storm": ("violated", None)}


def test_same_spec_same_trace() -> None:
    a = run_text(FAIR.replace("MOD", ""))
    b = run_text(FAIR.replace("MOD", ""))
    assert [r.trace for r in a.results] == [r.trace for r in b.results]


def test_within_runs_beyond_the_bound_count_once_the_graph_is_complete() -> None:
    # Two tick states (x = 0, 1), complete at depth 1, so the bound of 2 is never hit.
    # x == 5 never holds: a run of 4 bad ticks exists (ending at tick 4, beyond B = 2),
    # and with the whole graph explored it is real and reported.
    text = """
protocol flip
var x: 0..5 = 0
action flip { x = 1 - x }
check recovers five: x == 5 within 4 ticks
"""
    assert verdicts(run_text(text, ticks=2)) == {"five": ("violated", 4)}
    # with the bound hit (x keeps counting), only runs ending within the bound count
    counting = text.replace("x = 1 - x", "x = min(x + 1, 4)")
    assert verdicts(run_text(counting, ticks=2)) == {"five": ("holds_bounded", None)}


def test_what_is_found_before_a_limit_is_still_reported() -> None:
    # A billion nodes: tick 0 alone has more states than the limit, but a witness for
    # count(b) == 3 is met early in it, and it is real (no earlier tick exists).
    text = """
protocol big
node n count 1000000000 {
  states a, b
  retry rule r: a -> a
  rule s: a -> b
}
check reachable three: count(b) == 3
check no_storm
"""
    run = run_text(text, max_states=10_000)
    got = {r.check.name: (r.verdict, r.ticks) for r in run.results}
    assert got["three"] == (Verdict.HOLDS, 0)
    assert got["no_storm"][0] is Verdict.UNKNOWN


def test_symbolic_engine_refuses_what_it_cannot_encode_with_unknown() -> None:
    big = """
protocol big
node n count 1000
{
  states a
  retry rule r: a -> a
}
check no_storm
"""
    run = run_text(big, engine="symbolic", timeout=5)
    assert [r.verdict for r in run.results] == [Verdict.UNKNOWN]
    assert "at most 64 nodes" in (run.results[0].reason or "")
    limits = """
protocol limits
var x: 0..5 = 0
fault f when x < 5 { x += 1 } limit 100000
check invariant ok: x <= 5
"""
    run = run_text(limits, engine="symbolic", timeout=5)
    assert [r.verdict for r in run.results] == [Verdict.UNKNOWN]
    assert "at most 512 per tick" in (run.results[0].reason or "")


def test_both_engines_report_a_within_run_past_the_bound_once_the_space_is_exhausted() -> None:
    text = """
protocol flip
var x: 0..5 = 0
action flip { x = 1 - x }
check recovers five: x == 5 within 4 ticks
check recovers one_or_zero: x <= 1 within 4 ticks
"""
    for engine in ("explicit", "symbolic"):
        got = verdicts(run_text(text, engine=engine, ticks=2))
        assert got == {"five": ("violated", 4), "one_or_zero": ("holds", None)}, engine
