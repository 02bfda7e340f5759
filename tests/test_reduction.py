"""The reduction inside a tick (spec/semantics.md) changes nothing but the states searched.

Reduced and unreduced searches are compared on every model under models/ and on random
specs: the same tick states with the same depth and fewest steps, the same tick-graph edges
with the same costs and event masks (all fired, fault-free, progress-free), the same first
model error, the same events fired, and the same verdicts, tick counts and trace lengths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT
from hypothesis import HealthCheck, given, settings

from checker.engines import CheckOptions, get_engine, replay
from checker.engines.explicit.decide import Decider
from checker.engines.explicit.encoding import Codec
from checker.engines.explicit.search import build
from checker.model import access, ir, load_spec, load_text
from tests.strategies import reducible_spec_texts, spec_texts

MODELS = sorted((ROOT / "models").rglob("*.storm"))
SLOW = {"ebs_2011_fixed.storm"}  # the largest state space: the full comparison runs under -m slow


def _graph(model: ir.Model, reduce: bool, ticks: int | None) -> tuple[dict[Any, Any], int]:
    codec = Codec(model)
    decider = Decider(codec, list(model.checks))
    g = build(codec, ticks=ticks, max_states=2_000_000, observer=decider, reduce=reduce)
    name = [codec.to_state(v) for v in g.vertices]
    out = {
        "vertices": {name[t]: (g.depth[t], g.steps[t], g.explored[t], g.fair_enabled[t]) for t in range(len(name))},
        "edges": {(name[a], name[b]): (e.cost, e.ff_mask, e.ff_cost, e.np_mask)
                  for a, es in enumerate(g.edges) for b, e in es.items()},
        "error": None if g.error is None else (g.error.key, g.error.error),
        "fired": g.fired,
        "flags": (g.bound_hit, g.stop_reason, g.max_depth, g.complete),
    }
    return out, g.states


def _results(model: ir.Model, reduce: bool, ticks: int | None) -> list[Any]:
    run = get_engine("explicit").run(model, CheckOptions(ticks=ticks, reduce=reduce))
    out = []
    for r in run.results:
        replay(model, r)  # every trace is checked against the reference semantics
        t = r.trace
        out.append((r.check.name, r.verdict, r.ticks, r.model_error, r.vacuous,
                    None if t is None else (len(t.steps), t.loop_start)))
    return out + [run.never_fired]


def _same(model: ir.Model, ticks: int | None) -> tuple[int, int]:
    full, n_full = _graph(model, False, ticks)
    red, n_red = _graph(model, True, ticks)
    assert red == full
    assert n_red <= n_full
    assert _results(model, True, ticks) == _results(model, False, ticks)
    return n_red, n_full


@pytest.mark.parametrize("path", [p for p in MODELS if p.name not in SLOW],
                         ids=lambda p: p.relative_to(ROOT / "models").as_posix())
def test_reduced_search_gives_the_same_tick_graph_and_results(path: Path) -> None:
    _same(load_spec(path), 100)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in MODELS if p.name in SLOW], ids=lambda p: p.name)
def test_reduced_search_on_the_largest_models(path: Path) -> None:
    _same(load_spec(path), 100)


def test_the_flagship_is_reduced_and_keeps_its_tick_graph() -> None:
    model = load_spec(ROOT / "bench" / "models" / "ebs_2011_langmd.storm", {"N": 5, "SPARE": 1})
    n_red, n_full = _same(model, None)
    assert n_red < n_full * 0.8, (n_red, n_full)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_texts())
def test_reduction_on_random_specs(text: str) -> None:
    _same(load_text(text, "random.storm"), 6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reducible_spec_texts())
def test_reduction_on_random_reducible_specs(text: str) -> None:
    _same(load_text(text, "reducible.storm"), 6)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reducible_spec_texts())
def test_reduction_on_many_random_reducible_specs(text: str) -> None:
    _same(load_text(text, "reducible.storm"), 8)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_texts())
def test_reduction_on_many_random_specs(text: str) -> None:
    _same(load_text(text, "random.storm"), 8)


LOCAL = """protocol local
var busy: 0..3 = 0
node worker count 3 {
  states idle, ready, working, done
  var n: 0..2 = 0
  fault wake: idle -> ready limit 3
  rule prepare: ready -> working { n = 1 }
  rule take: working -> done when busy < 2 { busy += 1 }
  rule wait: working -> working when busy >= 2
}
fault reset { busy = 0 } limit 1
check invariant bounded: busy <= 3
check reachable two_done: count(done) == 2
check recovers all_done: count(done) == 3
"""


def test_read_write_sets_and_groups() -> None:
    model = load_text(LOCAL, "local.storm")
    ev = {e.name: e.event for e in model.events}
    take = access.event_access(model.events[ev["take"]])
    assert take.reads.globals == {0} and take.writes_globals == {0} and take.move == (0, 2, 3)
    # prepare reads and writes only its own node, and nothing counts `ready` or `working`
    watched = [model.checks[0].expr]
    assert access.local_rules(model, watched) == {ev["prepare"]}
    # watching count(done) makes take visible, but not prepare
    assert access.writers(model, [model.checks[1].expr]) == {ev["take"]}
    assert access.dependent(take, access.event_access(model.events[ev["reset"]]))
    groups = access.closed_groups(model, watched)
    # take and wait leave `working` together, and reset writes busy: one group with all three
    assert frozenset({ev["take"], ev["wait"], ev["reset"]}) in groups
    assert all(ev["wake"] not in g for g in groups)
    _same(model, None)
