"""A model error raised by a tick step has length k + 1 in ticks, in both engines (language.md 8).

The failing tick step counts as a tick: an error in the tick step that follows k tick steps
has length k + 1, lies within `--ticks B` only when k + 1 <= B, and competes with the events
of tick k + 1 in (ticks, steps) order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_spec, verdicts

from checker.engines.base import CheckOptions
from checker.engines.compare import run_both
from checker.model import load_spec

SPECS = Path(__file__).parent / "specs" / "tick_error"
ENGINES = ["explicit", "symbolic"]


def _run(name: str, engine: str, ticks: int | None) -> dict[str, tuple[str, int | None]]:
    args = [] if ticks is None else ["--ticks", str(ticks)]
    run = run_spec(SPECS / f"{name}.storm", args, engine=engine, ticks=None)  # type: ignore[arg-type]
    return verdicts(run)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ticks", [None, 3, 5])
def test_failing_top_level_tick_step_counts_as_a_tick(engine: str, ticks: int | None) -> None:
    got = _run("counter", engine, ticks)
    assert got == {"nonneg": ("violated", 3), "two": ("holds", 2), "no_storm": ("violated", 3)}


@pytest.mark.parametrize("engine", ENGINES)
def test_failing_tick_step_after_the_bound_lies_beyond_it(engine: str) -> None:
    run = run_spec(SPECS / "counter.storm", ["--ticks", "2"], engine=engine, ticks=None)  # type: ignore[arg-type]
    assert verdicts(run) == {"nonneg": ("holds_bounded", None), "two": ("holds", 2),
                             "no_storm": ("holds_bounded", None)}
    assert run.stats.bound_hit and not run.stats.complete
    assert not any(r.model_error for r in run.results)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ticks", [None, 2, 3])
def test_failing_kind_tick_step_counts_as_a_tick(engine: str, ticks: int | None) -> None:
    assert _run("node_tick", engine, ticks) == {"young": ("violated", 2)}


@pytest.mark.parametrize("engine", ENGINES)
def test_kind_tick_error_beyond_the_bound(engine: str) -> None:
    assert _run("node_tick", engine, 1) == {"young": ("holds_bounded", None)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ticks", [None, 1, 2])
def test_event_of_the_next_tick_with_fewer_steps_comes_before_a_failing_tick_step(
        engine: str, ticks: int | None) -> None:
    # c_low's own violation is at (1 tick, 1 step), the failing tick step at (1 tick, 2 steps)
    run = run_spec(SPECS / "race.storm", [] if ticks is None else ["--ticks", str(ticks)],
                   engine=engine, ticks=None)  # type: ignore[arg-type]
    assert verdicts(run) == {"c_low": ("violated", 1), "quiet": ("violated", 1), "one": ("holds", 1)}
    by = {r.check.name: r for r in run.results}
    assert not by["c_low"].model_error and by["quiet"].model_error
    trace = by["quiet"].trace
    assert trace is not None and trace.failing_step is not None and trace.failing_step.name == "tick"
    assert [s.name for s in trace.steps] == ["arm"]


@pytest.mark.parametrize("engine", ENGINES)
def test_race_at_bound_zero_is_bounded(engine: str) -> None:
    assert _run("race", engine, 0) == {"c_low": ("holds_bounded", None), "quiet": ("holds_bounded", None),
                                       "one": ("unknown", None)}


@pytest.mark.parametrize("name", ["counter", "race", "node_tick"])
@pytest.mark.parametrize("ticks", [None, 0, 1, 2, 3])
def test_engines_agree_on_tick_errors(name: str, ticks: int | None) -> None:
    model = load_spec(SPECS / f"{name}.storm")
    _a, _b, problems = run_both(model, CheckOptions(ticks=ticks, timeout=60))
    assert not problems


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_error_in_tick_0_comes_before_the_failing_tick_step(engine: str) -> None:
    run = run_spec(SPECS / "rule_first.storm", [], engine=engine, ticks=None)  # type: ignore[arg-type]
    (r,) = run.results
    assert r.verdict.value == "violated" and r.model_error and r.ticks == 0
    assert r.trace is not None and r.trace.failing_step is not None
    assert r.trace.failing_step.name == "back" and [s.name for s in r.trace.steps] == ["slip"]


def test_a_model_error_says_why_the_search_stopped() -> None:
    run = run_spec(SPECS / "rule_first.storm", [], engine="explicit", ticks=None)  # type: ignore[arg-type]
    assert run.stats.stopped_early == ("stopped early: a model error decides every check after 1 tick state "
                                       "(coverage not computed)")
