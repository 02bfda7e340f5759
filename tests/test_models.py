"""Every model under models/ gives the results its header promises, and its state counts are pinned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from expectations import runs
from helpers import ROOT, run_spec

from checker.engines.base import CheckOptions
from checker.engines.run import run_checks
from checker.model.cone import analyse

MODELS = sorted((ROOT / "models").rglob("*.storm"))

# Per model, its plain run's (tick states, states), the events that never fire, the diagnosis of each
# storm and which checks hold vacuously; the states are those of the unreduced search (every
# interleaving inside a tick: the semantics' own count), and the reduced run must agree on the rest.
# A change in the semantics must fail loudly.
# Regenerate with `python3 -m pytest tests/test_models.py --update-golden` after a reviewed change.
COUNTS = ROOT / "tests" / "model_counts.json"


def _id(p: Path) -> str:
    return p.relative_to(ROOT / "models").with_suffix("").as_posix()


@pytest.mark.parametrize("path", MODELS, ids=_id)
def test_model_results_match_its_header(path: Path) -> None:
    plan = runs(path)
    assert plan, f"{path} has no '# expect:' lines"
    for run in plan:
        got = {r.check.name: r for r in run_spec(path, run.args).results}
        assert set(run.expect) <= set(got), set(run.expect) - set(got)
        for name, (status, ticks) in run.expect.items():
            assert got[name].verdict.value == status, (name, run.args, got[name].verdict.value)
            if ticks != "any":
                assert got[name].ticks == ticks, (name, run.args, got[name].ticks)
        # every storm or no-recovery lasso has its diagnosis stated in the header, and gets it
        for name, r in got.items():
            if name not in run.expect:
                continue
            cause = r.diagnosis.cause.value if r.diagnosis is not None else None
            assert run.diagnosis.get(name) == cause, (
                f"{name} {run.args}: header says diagnosis {run.diagnosis.get(name)}, the checker says {cause}"
                + (f": {r.diagnosis.sentence}" if r.diagnosis else ""))


def test_pinned_state_counts(update_golden: bool) -> None:
    got = {}
    for path in MODELS:
        run = run_spec(path, reduce=False)
        reduced = run_spec(path)
        assert reduced.stats.tick_states == run.stats.tick_states and reduced.stats.states <= run.stats.states
        diagnoses = {r.check.name: r.diagnosis.cause.value for r in run.results if r.diagnosis is not None}
        vacuous = sorted(r.check.name for r in run.results if r.vacuous is not None)
        got[path.relative_to(ROOT / "models").as_posix()] = {
            "counts": [run.stats.tick_states, run.stats.states],
            "never_fired": list(run.never_fired or ()),
            "diagnosis": diagnoses,
            "vacuous": vacuous,
        }
        # `counts` are the full model's (a tick bound keeps the cone off); where the cone of
        # influence leaves variables out of a complete exploration, its stored states are pinned apart
        model = run.model
        cone = analyse(model)
        if not cone.empty:
            sliced = run_checks(model, "explicit", CheckOptions(reduce=False))
            assert [(r.check.name, r.verdict, r.ticks) for r in sliced.results] == \
                [(r.check.name, r.verdict, r.ticks) for r in run.results]
            got[path.relative_to(ROOT / "models").as_posix()]["cone"] = {
                "dropped": cone.names(model), "counts": [sliced.stats.tick_states, sliced.stats.states]}
    if update_golden:
        COUNTS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(COUNTS.read_text(encoding="utf-8"))


def test_ebs_2011_storm_loop_runs_after_the_network_heals() -> None:
    run = run_spec(ROOT / "models" / "ebs_2011.storm")
    storm = next(r for r in run.results if r.check.name == "no_storm")
    trace = storm.trace
    assert trace is not None and trace.loop_start is not None
    names = [s.name for s in trace.steps]
    heal = names.index("heal")
    loop_first = trace.loop_start  # index of the state where the loop starts
    assert heal < loop_first, "the loop must start after the network healed"
    loop = names[loop_first:]
    assert "no_space" in loop
    assert not {"claim", "copied", "heal", "netsplit", "lose_mirror"} & set(loop)
    net_ok = [v.name for v in run.model.globals].index("net_ok")
    assert all(s.globals[net_ok] is True for s in trace.states[loop_first:])
    # the retries starve a copy that would free space: sustained, not a shortage (issue 8)
    assert storm.diagnosis is not None and storm.diagnosis.cause.value == "sustained"
    k, copying = run.model.state_kind("copying")  # type: ignore[misc]
    assert all(s.count(k, copying) > 0 for s in trace.states[loop_first:])
