"""Turn a result into rows per tick and one sentence that says what goes wrong.

Shared by every renderer; it decides nothing, it only describes a trace.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from checker.engines.base import CheckResult, Diagnosis, Trace, Verdict
from checker.engines.diagnose import steady_globals
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
    before: State | None = None  # the state just before the tick step that led here


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
                           loop_start=trace.loop_start == i + 1, closes_loop=closes, before=trace.states[i]))
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


def ticked(model: ir.Model) -> tuple[list[int], list[tuple[int, int]]]:
    """Globals a tick block assigns, and (kind, local) pairs a kind's tick block assigns."""
    glob = sorted({a.index for a in model.tick})
    loc = [(k, i) for k, kind in enumerate(model.kinds) for i in sorted({a.index for a in kind.tick})]
    return glob, loc


def _spread(values: Counter[ir.Value]) -> str:
    """`v` when every node has v, else `v:n` per value, in value order."""
    if len(values) == 1:
        return value_text(next(iter(values)))
    return " ".join(f"{value_text(v)}:{n}" for v, n in sorted(values.items(), key=lambda x: int(x[0])))


def _local_values(state: State, k: int, i: int, st: int | None = None) -> Counter[ir.Value]:
    c: Counter[ir.Value] = Counter()
    for (s, loc, _a), n in state.kinds[k]:
        if st is None or s == st:
            c[loc[i]] += n
    return c


@dataclass(frozen=True)
class Layout:
    """The columns of one trace table.

    Node states show their count and, for each local that takes more than one value in the
    trace, how many of those nodes have each value (`3 (wait 0:1 2:2)`); locals that keep one
    value throughout are named once under the table. A variable a tick block assigns also gets
    a column with its value at the end of the tick, before the tick block ran.
    """

    headers: tuple[str, ...]
    shown: tuple[tuple[int, ...], ...]  # per kind: the locals shown in its state cells
    constant: tuple[str, ...]  # "wait = 0 (every volume)" for the locals not shown
    ticked_globals: tuple[int, ...]
    ticked_locals: tuple[tuple[int, int], ...]


def layout(model: ir.Model, trace_rows: list[Row]) -> Layout:
    glob, loc = ticked(model)
    shown: list[tuple[int, ...]] = []
    constant: list[str] = []
    for k, kind in enumerate(model.kinds):
        mine = []
        for i, var in enumerate(kind.locals):
            seen: set[ir.Value] = set()
            for row in trace_rows:
                for st in (row.state, row.before):
                    if st is not None:
                        seen |= set(_local_values(st, k, i))
            if len(seen) > 1:
                mine.append(i)
            elif seen:
                constant.append(f"{var.name} = {value_text(seen.pop())} (every {kind.name})")
        shown.append(tuple(mine))
    heads: list[str] = []
    for k, kind in enumerate(model.kinds):
        heads += list(kind.states)
        heads += [f"{kind.locals[i].name} (before tick)" for kk, i in loc if kk == k]
    for g, var in enumerate(model.globals):
        heads.append(var.name)
        if g in glob:
            heads.append(f"{var.name} (before tick)")
    return Layout(tuple(heads), tuple(shown), tuple(constant), tuple(glob), tuple(loc))


def row_cells(model: ir.Model, lay: Layout, row: Row) -> list[str]:
    """The cells of one row under `lay` ("-" for a before-tick value where no tick led here)."""
    state, before = row.state, row.before
    out: list[str] = []
    for k, kind in enumerate(model.kinds):
        for s in range(len(kind.states)):
            n = state.count(k, s)
            parts = []
            for i in lay.shown[k] if n else ():
                values = _local_values(state, k, i, s)
                sep = "=" if len(values) == 1 else " "
                parts.append(f"{kind.locals[i].name}{sep}{_spread(values)}")
            out.append(f"{n} ({', '.join(parts)})" if parts else str(n))
        for kk, i in lay.ticked_locals:
            if kk == k:
                out.append(_spread(_local_values(before, k, i)) if before is not None and kind.count else "-")
    for g, v in enumerate(state.globals):
        out.append(value_text(v))
        if g in lay.ticked_globals:
            out.append(value_text(before.globals[g]) if before is not None else "-")
    return out


@dataclass(frozen=True)
class Line:
    """One line of a printed trace table: a row, or several identical rows folded into one."""

    label: str
    fired: str
    cells: tuple[str, ...]
    changed: tuple[bool, ...]  # per cell: changed since the line above
    loop_start: bool = False
    closes_loop: bool = False
    folded: int = 1  # rows this line stands for


def table(model: ir.Model, trace: Trace, *, offset: int = 0, full: bool = False) -> tuple[Layout, list[Line]]:
    """The trace as table lines, tick labels shifted by `offset` (a lasso's closing row says
    which row it returns to: `3 (= 2)`; marking the loop's start is the renderer's).

    Unless `full`, a run of two or more rows that each repeat the row above exactly (the same
    steps fired, the same values) is folded into one line, `4–21: unchanged, no_space x2 each
    tick`; a lasso's start and closing rows and a partial row are never folded.
    """
    trows = rows(trace)
    lay = layout(model, trows)
    start = next((r for r in trows if r.loop_start), None)
    lines: list[Line] = []
    prev: list[str] | None = None
    prev_row: Row | None = None
    pending: list[tuple[str, list[str]]] = []  # repeats not yet written: (tick label, cells)

    def flush() -> None:
        if not pending:
            return
        if len(pending) == 1 or full:
            for label, cs in pending:
                lines.append(Line(label, fired_text(prev_row.fired) if prev_row else "-", tuple(cs),
                                  tuple(False for _ in cs)))
        else:
            fired = fired_text(prev_row.fired) if prev_row is not None else "-"
            what = "nothing fires" if fired == "-" else f"{fired} each tick"
            lines.append(Line(f"{pending[0][0]}–{pending[-1][0]}", f"unchanged, {what}", tuple(pending[0][1]),
                              tuple(False for _ in pending[0][1]), folded=len(pending)))
        pending.clear()

    for r in trows:
        now = row_cells(model, lay, r)
        head, _, rest = r.label.partition(" ")
        label = str(int(head) + offset) + (f" {rest}" if rest else "")
        mid = bool(rest)
        plain = not (r.loop_start or r.closes_loop or mid or r.failing is not None)
        if plain and prev_row is not None and prev == now and r.fired == prev_row.fired:
            pending.append((label, now))
            continue
        flush()
        if r.closes_loop and start is not None:
            label = f"{label} (= {int(start.label) + offset})"
        changed = tuple(prev is not None and v != p and "-" not in (v, p) for v, p in zip(now, prev or now))
        lines.append(Line(label, fired_text(r.fired, r.failing), tuple(now), changed, r.loop_start, r.closes_loop))
        prev, prev_row = now, r
    flush()
    return lay, lines


def _names_in(e: ir.Expr | None, model: ir.Model, acc: dict[str, None]) -> None:
    if e is None:
        return
    if isinstance(e, ir.GlobalRef):
        acc[e.name] = None
    elif isinstance(e, ir.CountOf):
        acc[f"count({model.kinds[e.kind].states[e.state]})"] = None  # its `where` is not a name shown
    else:
        for x in ir.children(e):
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
        if step.kind is StepKind.TICK:  # the failing tick step counts as a tick (language.md 8)
            return f"Model error after {t.ticks} tick(s), the last of them the tick step that fails: {t.error}."
        what = f"{step.kind.value} '{step.name}'{where}"
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
    steady = ", ".join(steady_globals(model, t))
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
