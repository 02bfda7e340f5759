"""Turn a result into rows per tick and one sentence that says what goes wrong.

Shared by every renderer; it decides nothing, it only describes a trace.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from checker.engines.base import CheckResult, Diagnosis, Trace, Verdict
from checker.model import ir
from checker.model.semantics import State, StepKind


@dataclass(frozen=True)
class Row:
    label: str  # the number of ticks so far, or "N (mid-tick)"
    fired: tuple[tuple[str, int], ...]  # (event name, times) in first-fired order
    state: State
    loop_start: bool = False
    closes_loop: bool = False
    failing: str | None = None  # the step that raised the model error


def rows(trace: Trace) -> list[Row]:
    """One row per tick state, then a partial row if the trace ends mid-tick."""
    out = [Row("0", (), trace.states[0], loop_start=trace.loop_start == 0)]
    group: Counter[str] = Counter()
    order: list[str] = []
    ticks = 0
    n = len(trace.states)
    for i, step in enumerate(trace.steps):
        if step.kind is StepKind.TICK:
            ticks += 1
            if i + 1 < n:
                state, closes = trace.states[i + 1], False
            else:
                assert trace.loop_start is not None
                state, closes = trace.states[trace.loop_start], True
            out.append(Row(str(ticks), tuple((e, group[e]) for e in order), state,
                           loop_start=trace.loop_start == i + 1, closes_loop=closes))
            group, order = Counter(), []
            continue
        if step.name not in group:
            order.append(step.name)
        group[step.name] += 1
    if order or trace.failing_step is not None or (out[-1].state is not trace.states[-1] and not out[-1].closes_loop):
        failing = trace.failing_step.name if trace.failing_step is not None else None
        out.append(Row(f"{ticks} (mid-tick)", tuple((e, group[e]) for e in order), trace.states[-1], failing=failing))
    return out


def fired_text(fired: tuple[tuple[str, int], ...], failing: str | None = None) -> str:
    parts = [f"{name} x{n}" for name, n in fired]
    if failing is not None:
        parts.append(f"{failing} (fails)")
    return ", ".join(parts) if parts else "-"


def value_text(v: ir.Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def columns(model: ir.Model) -> list[str]:
    """Node states (their counts), then globals, in declaration order."""
    return [s for k in model.kinds for s in k.states] + [v.name for v in model.globals]


def cells(model: ir.Model, state: State) -> list[str]:
    out = [str(state.count(k, s)) for k, kind in enumerate(model.kinds) for s in range(len(kind.states))]
    out += [value_text(v) for v in state.globals]
    return out


def _names_in(e: ir.Expr | None, model: ir.Model, acc: dict[str, None]) -> None:
    if e is None:
        return
    if isinstance(e, ir.GlobalRef):
        acc[e.name] = None
    elif isinstance(e, ir.CountOf):
        acc[f"count({model.kinds[e.kind].states[e.state]})"] = None
    elif isinstance(e, ir.Unary):
        _names_in(e.operand, model, acc)
    elif isinstance(e, ir.Binary):
        _names_in(e.left, model, acc)
        _names_in(e.right, model, acc)
    elif isinstance(e, ir.Ite):
        for x in (e.cond, e.then, e.orelse):
            _names_in(x, model, acc)
    elif isinstance(e, ir.MinMax):
        for x in e.args:
            _names_in(x, model, acc)


def _values(model: ir.Model, e: ir.Expr | None, state: State) -> str:
    acc: dict[str, None] = {}
    _names_in(e, model, acc)
    parts = []
    for name in acc:
        if name.startswith("count("):
            hit = model.state_kind(name[6:-1])
            assert hit is not None
            parts.append(f"{name} = {state.count(*hit)}")
        else:
            i = [v.name for v in model.globals].index(name)
            parts.append(f"{name} = {value_text(state.globals[i])}")
    return ", ".join(parts)


def explain(model: ir.Model, r: CheckResult) -> str:
    """One sentence: what the result means for this check."""
    c = r.check
    t = r.trace
    if r.vacuous is not None and r.verdict in (Verdict.HOLDS, Verdict.HOLDS_BOUNDED):
        return f"Holds vacuously: {r.vacuous}, so the check says nothing about this spec."
    if r.verdict is Verdict.HOLDS:
        if c.kind is ir.CheckKind.REACHABLE:
            return f"A state with `{c.source}` is reached after {r.ticks} tick(s)."
        return r.reason or "Holds in every reachable state."
    if r.verdict is Verdict.HOLDS_BOUNDED:
        if not r.bound_hit:  # the engine could not tell whether tick states lie beyond the bound
            what = f": {r.reason}" if r.reason else ""
            return f"No run of at most {r.bound} ticks violates it, which is not a proof{what}."
        note = f" {r.reason}" if r.reason else ""
        return f"Nothing violates it within {r.bound} ticks; the tick bound was hit, so this is not a proof.{note}"
    if r.verdict is Verdict.UNKNOWN:
        return f"Unknown: {r.reason}."
    if t is None:
        return f"No reachable state satisfies `{c.source}`: the exploration was complete."
    if t.failing_step is not None:
        step = t.failing_step
        where = ""
        if step.node is not None and step.kind is not StepKind.TICK:
            ev = model.events[step.event]
            if not isinstance(ev, ir.Action) and ev.kind is not None:
                kind = model.kinds[ev.kind]
                where = f" on a {kind.name} in '{kind.states[step.node[0]]}'"
        what = "the tick" if step.kind is StepKind.TICK else f"{step.kind.value} '{step.name}'{where}"
        return f"Model error after {t.ticks} tick(s), when {what} is taken: {t.error}."
    if t.error is not None:
        return f"The check itself cannot be evaluated after {t.ticks} tick(s): {t.error}."
    last = t.states[-1]
    if c.kind is ir.CheckKind.INVARIANT:
        vals = _values(model, c.expr, last)
        return f"`{c.source}` is false after {t.ticks} tick(s)" + (f": {vals}." if vals else ".")
    if c.kind is ir.CheckKind.WITHIN:
        start = t.ticks - (c.within or 0)
        return (
            f"`{c.source.split(' within ')[0]}` stays false for {c.within} consecutive fault-free tick(s), "
            f"from tick {start} to tick {t.ticks}" + (f", assuming {_assumption(c)}" if c.assuming else "") + "."
        )
    assert t.loop_start is not None
    if r.diagnosis is not None:
        return r.diagnosis.sentence
    loop_steps = t.steps[t.loop_start :]
    loop_ticks = sum(1 for s in loop_steps if s.kind is StepKind.TICK)
    start_tick = sum(1 for s in t.steps[: t.loop_start] if s.kind is StepKind.TICK)
    fired = Counter(s.name for s in loop_steps if s.kind is not StepKind.TICK)
    steady = _steady_globals(model, t)
    while_text = f" while {steady}" if steady else ""
    span = "every tick" if loop_ticks == 1 else f"every {loop_ticks} ticks"
    if c.kind is ir.CheckKind.NO_STORM:
        retries = [r_.name for r_ in model.rules if r_.tag is ir.Tag.RETRY and r_.name in fired]
        retry_text = ", ".join(f"{name} x{fired[name]}" for name in retries)
        return (
            f"Retry storm: from tick {start_tick} the run repeats forever, {span} firing {retry_text}{while_text}; "
            f"no progress rule fires and no fault happens."
        )
    return (
        f"No recovery: from tick {start_tick} the run repeats forever ({span}) with no fault, "
        f"and `{c.source.split(' assuming ')[0]}` never holds{while_text}."
    )


def _assumption(c: ir.Check) -> str:
    return c.source.split(" assuming ", 1)[1] if " assuming " in c.source else "the assumption"


def _steady_globals(model: ir.Model, t: Trace) -> str:
    """Globals that keep one value at every tick state of the loop."""
    assert t.loop_start is not None
    idx = [t.loop_start] + [
        i + 1 for i, s in enumerate(t.steps[t.loop_start : len(t.states) - 1], start=t.loop_start)
        if s.kind is StepKind.TICK
    ]
    parts = []
    for g, var in enumerate(model.globals):
        vals = {t.states[i].globals[g] for i in idx}
        if len(vals) == 1:
            parts.append(f"{var.name} = {value_text(vals.pop())}")
    return ", ".join(parts)


def diagnosis_fields(d: Diagnosis) -> dict[str, Any]:
    """The diagnosis as plain fields, the same in every format (the witness is a trace apart)."""
    return {
        "cause": d.cause.value,
        "sentence": d.sentence,
        "period_ticks": d.period,
        "retries_per_tick": {name: rate for name, rate in d.retries_per_tick},
        "retrying_nodes": d.retrying_nodes,
        "recovery_ticks": d.recovery_ticks,
        "blocked": list(d.blocked),
    }


CAUSE_TEXT = {
    "sustained": "sustained by retries",
    "futile": "futile retries (a shortage)",
    "mixed": "mixed",
}
