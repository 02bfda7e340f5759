"""The JSON report: the run record, per check status, bound, engine and whether it is complete,
statistics; traces in Apalache's ITF.

ITF (Informal Trace Format): `vars`, `states` (each with `#meta`), and `loop` for a lasso,
the index of the state where the loop starts; the trace's last step leads back to it.
Integers are written as {"#bigint": "N"}. Keys are sorted, so output is byte-stable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from checker import __version__
from checker.engines.base import CheckResult, Diagnosis, RunResult, Trace
from checker.model import ir
from checker.model.semantics import State
from checker.report.explain import diagnosis_fields, explain, ticked, value_text
from checker.report.record import check_record, run_record


def _int(n: int) -> dict[str, str]:
    return {"#bigint": str(n)}


def _value(v: ir.Value) -> Any:
    return v if isinstance(v, bool) else _int(v)


def itf_state(model: ir.Model, state: State) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var, v in zip(model.globals, state.globals):
        out[var.name] = _value(v)
    for k, kind in enumerate(model.kinds):
        out[kind.name] = {s: _int(state.count(k, i)) for i, s in enumerate(kind.states)}
        nodes = []
        for (s, loc, acted), n in state.kinds[k]:
            nodes.append({
                "state": kind.states[s],
                "locals": {v.name: _value(x) for v, x in zip(kind.locals, loc)},
                "acted": acted,
                "count": _int(n),
            })
        out[f"{kind.name}#nodes"] = nodes
    return out


def before_tick(model: ir.Model, state: State) -> dict[str, Any]:
    """The values the tick blocks assign, as they were just before the tick step from `state`."""
    glob, loc = ticked(model)
    out: dict[str, Any] = {model.globals[g].name: _value(state.globals[g]) for g in glob}
    for k, i in loc:
        values: dict[str, int] = {}
        for (_s, lv, _a), n in state.kinds[k]:
            values[value_text(lv[i])] = values.get(value_text(lv[i]), 0) + n
        out[f"{model.kinds[k].name}.{model.kinds[k].locals[i].name}"] = values
    return out


def itf_trace(model: ir.Model, trace: Trace) -> dict[str, Any]:
    """The trace in ITF. Node locals are in `KIND#nodes` (per situation: state, locals, acted,
    count). A state reached by a tick step also has `before_tick` in its `#meta`: the values
    the tick blocks assign, as they were at the end of the tick, before the blocks ran (a
    kind's local as a count of nodes per value)."""
    states = []
    ticks = 0
    for i, st in enumerate(trace.states):
        meta: dict[str, Any] = {"index": i, "tick": ticks}
        if i > 0 and trace.steps[i - 1].kind.value == "tick" and (model.tick or any(k.tick for k in model.kinds)):
            meta["before_tick"] = before_tick(model, trace.states[i - 1])
        if i < len(trace.steps) and (i < len(trace.states) - 1 or trace.loop_start is not None):
            step = trace.steps[i]
            meta["next"] = {"kind": step.kind.value, "name": step.name}
            if step.kind.value == "tick":
                ticks += 1
        states.append({"#meta": meta, **itf_state(model, st)})
    vars_ = [v.name for v in model.globals]
    for kind in model.kinds:
        vars_ += [kind.name, f"{kind.name}#nodes"]
    out: dict[str, Any] = {
        "#meta": {"format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
                  "source": model.file},
        "vars": vars_,
        "states": states,
    }
    if trace.loop_start is not None:
        out["loop"] = trace.loop_start
    if trace.failing_step is not None:
        out["#meta"]["failing_step"] = {"kind": trace.failing_step.kind.value, "name": trace.failing_step.name}
    if trace.error is not None:
        out["#meta"]["error"] = trace.error
    return out


def check_json(run: RunResult, r: CheckResult) -> dict[str, Any]:
    """The JSON object of one check (the one place its fields are built)."""
    m = run.model
    return {
        "name": r.check.name,
        "kind": r.check.kind.value,
        "within": r.check.within,
        "line": r.check.span.line,
        "status": r.verdict.value,
        "ticks": r.ticks,
        "bound": r.bound,
        "reason": r.reason,
        "model_error": r.model_error,
        "explanation": explain(m, r),
        "trace": itf_trace(m, r.trace) if r.trace is not None else None,
        "vacuous": r.vacuous,
        "diagnosis": _diagnosis(m, r.diagnosis),
        **check_record(run, r),
    }


def _diagnosis(model: ir.Model, d: Diagnosis | None) -> dict[str, Any] | None:
    if d is None:
        return None
    out = diagnosis_fields(d)
    out["witness"] = itf_trace(model, d.witness) if d.witness is not None else None
    return out


def render_json(runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str:
    specs = []
    for run in runs:
        m = run.model
        s = run.stats
        specs.append({
            "spec": m.file,
            "protocol": m.name,
            "engine": run.engine,
            "run": run_record(run),
            "checks": [check_json(run, r) for r in run.results],
            "never_fired": list(run.never_fired) if run.never_fired is not None else None,
            "stats": {
                "states": s.states, "tick_states": s.tick_states, "transitions": s.transitions,
                "max_depth": s.max_depth, "complete": s.complete, "bound_hit": s.bound_hit,
                "beyond_bound": s.beyond_bound,
                # the cone of influence: variables left out of the explored state (key only when some are)
                **({"sliced": list(s.sliced)} if s.sliced else {}),
            },
        })
    return json.dumps({"stormproof": __version__, "specs": specs}, indent=2, sort_keys=True) + "\n"
