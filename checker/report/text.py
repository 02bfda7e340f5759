"""The text report: a summary table, then a per-tick trace for every violated check."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from checker.engines.base import CheckResult, RunResult, Trace, Verdict
from checker.model import ir
from checker.report.explain import CAUSE_TEXT, explain, table
from checker.report.record import bounded, check_record, engines, how_to_complete, run_line, scope

VERDICT_TEXT = {
    Verdict.HOLDS: "holds",
    Verdict.HOLDS_BOUNDED: "holds (bounded)",
    Verdict.VIOLATED: "VIOLATED",
    Verdict.UNKNOWN: "unknown",
}


def kind_text(c: ir.Check) -> str:
    if c.kind is ir.CheckKind.WITHIN:
        return f"recovers within {c.within}"
    return c.keyword


def result_text(r: CheckResult) -> str:
    if r.vacuous is not None and r.verdict is Verdict.HOLDS:
        return "holds (vacuous)"
    if r.vacuous is not None and r.verdict is Verdict.HOLDS_BOUNDED:
        return f"holds up to {r.bound} ticks (vacuous)"
    if r.verdict is Verdict.HOLDS_BOUNDED:
        return f"holds up to {r.bound} ticks"
    if r.verdict is Verdict.VIOLATED and r.model_error:
        return "VIOLATED (model error)"
    return VERDICT_TEXT[r.verdict]


def _detail(r: CheckResult) -> str:
    if r.vacuous is not None and r.verdict in (Verdict.HOLDS, Verdict.HOLDS_BOUNDED):
        return f"vacuous: {r.vacuous}"
    if r.diagnosis is not None:
        return f"lasso: {CAUSE_TEXT[r.diagnosis.cause.value]}"
    if r.verdict is Verdict.UNKNOWN:
        return r.reason or ""
    if r.verdict is Verdict.HOLDS:
        if r.check.kind is ir.CheckKind.REACHABLE:
            return "witness found"
        return r.reason or ""
    if r.verdict is Verdict.HOLDS_BOUNDED:
        return "tick bound hit" if r.bound_hit else "deeper tick states not excluded"
    if r.trace is None:
        return r.reason or "no witness exists"
    if r.trace.loop_start is not None:
        return "lasso: loops forever"
    if r.model_error:
        return r.trace.error or "model error"
    if r.trace.error:
        return r.trace.error
    return "counterexample"


def _table(run: RunResult) -> str:
    if run.parts:  # --engine both: each engine's verdict side by side, and who decided
        per = [{x.check.name: x for x in p.results} for p in run.parts]
        rows_ = []
        for r in run.results:
            rec = check_record(run, r)
            mine = [d.get(r.check.name) for d in per]
            rows_.append([r.check.name, kind_text(r.check)]
                         + [result_text(x) if x is not None else "-" for x in mine]
                         + [rec["decided_by"], "-" if r.ticks is None else r.ticks, _detail(r)])
        heads = ["check", "kind"] + [p.engine for p in run.parts] + ["decided", "ticks", "detail"]
        return str(tabulate(rows_, headers=heads, tablefmt="simple"))
    table = [
        [r.check.name, kind_text(r.check), result_text(r), "-" if r.ticks is None else r.ticks,
         "yes" if check_record(run, r)["complete"] else "no", _detail(r)]
        for r in run.results
    ]
    return str(tabulate(table, headers=["check", "kind", "result", "ticks", "complete", "detail"],
                        tablefmt="simple"))


def _summary(run: RunResult) -> list[str]:
    s = run.stats
    names = " and ".join(engines(run))
    out = [f"{run.model.file}: protocol {run.model.name}, {names} engine{'s' if run.parts else ''}"]
    counted = run.parts[0].stats if run.parts else s
    if run.engine == "symbolic":
        out.append(f"unrolled to {s.max_depth} ticks, {s.seconds:.2f} s, {scope(run)}")
    else:
        secs = sum(p.stats.seconds for p in run.parts) if run.parts else s.seconds
        out.append(
            f"{counted.states:,} states, {counted.tick_states:,} tick states, depth {counted.max_depth} ticks, "
            f"{secs:.2f} s, {scope(run)}"
        )
    if counted.sliced:
        many = len(counted.sliced) > 1
        out.append(f"cone of influence: {', '.join(counted.sliced)} left out of the explored state (no guard or "
                   f"check depends on {'them' if many else 'it'}, and {'their' if many else 'its'} updates stay "
                   "in range); traces are replayed on the full model")
    out.append(f"run: {run_line(run)}")
    return out


def render_text(runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str:
    out: list[str] = []
    for run in runs:
        m = run.model
        out += _summary(run)
        out.append("")
        out.append(_table(run))
        if run.never_fired:
            out.append(f"never fired anywhere in the explored space: {', '.join(run.never_fired)}")
        if bounded(run):
            out.append("")
            out.append(f"The result is bounded: {scope(run)}. {how_to_complete(run)}")
        for r in run.results:
            if r.trace is None:
                continue
            if quiet and r.verdict is not Verdict.VIOLATED:
                continue
            out.append("")
            out.append(_trace_block(m, r, full_trace))
        out.append("")
    return "\n".join(out)


def _trace_block(model: ir.Model, r: CheckResult, full: bool = False) -> str:
    assert r.trace is not None
    what = "witness" if r.verdict is not Verdict.VIOLATED else "counterexample"
    head = f"== {r.check.name} ({kind_text(r.check)}): {result_text(r)}, {what} trace =="
    lines = [head, render_trace(model, r.trace, full=full)]
    if r.trace.loop_start is not None:
        lines.append("  ↻ marks the tick state where the loop starts; the last row returns to it, and the loop repeats forever.")
    lines.append("  * marks a value that changed since the row above.")
    lines.append(explain(model, r))
    d = r.diagnosis
    if d is not None and d.witness is not None:
        start = sum(1 for s in r.trace.steps[: r.trace.loop_start] if s.kind.value == "tick")
        goal = "the first progress step" if r.check.kind is ir.CheckKind.NO_STORM else "recovery"
        lines.append("")
        lines.append(f"Without the retries, from the loop's entry (tick {start}) to {goal}:")
        lines.append(render_trace(model, d.witness, offset=start, full=full))
    return "\n".join(lines)


def render_trace(model: ir.Model, trace: Trace, offset: int = 0, full: bool = False) -> str:
    """The per-tick table of `trace`, then a note per thing the table leaves out or folds.

    Ticks that repeat the row above exactly are folded into one line unless `full`.
    """
    lay, lines = table(model, trace, offset=offset, full=full)
    headers = ["tick", "fired in the tick", *lay.headers]
    body = [[("↻ " if ln.loop_start else "") + ln.label, ln.fired] + [v + ("*" if ch else "") for v, ch in zip(ln.cells, ln.changed)]
            for ln in lines]
    out = [str(tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True))]
    if lay.constant:
        out.append(f"  locals with one value throughout: {', '.join(lay.constant)}.")
    if lay.ticked_globals or lay.ticked_locals:
        out.append("  (before tick): the value at the end of the tick, before its `on tick` block ran.")
    if any(ln.folded > 1 for ln in lines):
        out.append("  a–b: ticks that repeat the row above exactly, folded (--full-trace shows each).")
    return "\n".join(out)
