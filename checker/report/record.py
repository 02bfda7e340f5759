"""What every report records about a run, built in one place so every format says the same.

A run record: the stormproof version, the engine(s), the constants after overrides, the
`--set` values, the tick bound, the limits, and what the exploration established. Per check:
whether its result is complete (holds or violated: true for every depth) and, for
`--engine both`, each engine's verdict and who decided. Renderers add their own fields to
what `run_record` and `check_record` return (one place per format builds per-check
properties; add new fields here to reach every format).
"""

from __future__ import annotations

from typing import Any

from checker import __version__
from checker.engines.base import CheckResult, RunResult, Verdict
from checker.engines.compare import agreement, decided
from checker.model import ir


def value_text(v: ir.Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def engines(run: RunResult) -> list[str]:
    return [p.engine for p in run.parts] if run.parts else [run.engine]


def scope(run: RunResult) -> str:
    """What the exploration established, in words (the summary line of every format)."""
    s, B = run.stats, run.opts.ticks
    if run.parts:
        return "; ".join(f"{p.engine}: {scope(p)}" for p in run.parts)
    if s.stopped_early:
        return s.stopped_early
    if s.complete:
        if B is None:
            return "exploration complete"
        return f"exploration complete (no tick state lies beyond the bound of {B} ticks)"
    if s.bound_hit and s.beyond_bound == 0:  # no tick state beyond: a failing tick step (section 8)
        return (f"only runs of at most {B} ticks were explored; the tick step after tick {B} raises "
                f"a model error, beyond the bound")
    if s.bound_hit:
        return (f"only runs of at most {B} ticks were explored; {s.beyond_bound:,} tick state(s) "
                f"of depth {B + 1 if B is not None else '?'} lie beyond the bound")
    if s.established and not all(decided(r) for r in run.results):
        return s.established
    if all(decided(r) for r in run.results):
        return "every check decided"
    if any(r.verdict is Verdict.UNKNOWN for r in run.results):
        return "exploration stopped early by a limit"
    if B is not None:
        return f"searched to the bound of {B} ticks"
    return "exploration stopped early"


def bounded(run: RunResult) -> bool:
    """Some result holds only up to the tick bound, or found nothing within it."""
    return any(r.verdict is Verdict.HOLDS_BOUNDED or r.bound is not None for r in run.results)


def how_to_complete(run: RunResult) -> str:
    return ("Drop --ticks to explore completely (or raise it): the default limits are "
            "--max-states and --timeout, and a limit reached gives 'unknown' with the reason.")


def run_record(run: RunResult) -> dict[str, Any]:
    o, m = run.opts, run.model
    return {
        "stormproof": __version__,
        "engine": run.engine,
        "engines": engines(run),
        "constants": {name: v for name, v in m.consts},
        "set": {name: v for name, v in run.overrides},
        "tick_bound": o.ticks,
        "limits": {"max_states": o.max_states, "timeout_seconds": o.timeout},
        "only": list(o.only),
        "complete": run.stats.complete,
        "scope": scope(run),
    }


def check_record(run: RunResult, r: CheckResult) -> dict[str, Any]:
    """Per-check facts shared by every format (a renderer adds its own)."""
    out: dict[str, Any] = {
        "complete": decided(r),
        "engine": r.engine,
        "bound_hit": r.bound_hit,
    }
    if run.parts:
        per = {p.engine: next((x for x in p.results if x.check.name == r.check.name), None) for p in run.parts}
        out["verdicts"] = {e: (x.verdict.value if x is not None else None) for e, x in per.items()}
        a, b = (per[p.engine] for p in run.parts[:2])
        out["decided_by"] = agreement(a, b) if a is not None else "-"
    return out


def run_line(run: RunResult) -> str:
    """The run record in one line of text."""
    rec = run_record(run)
    bound = "no tick bound" if rec["tick_bound"] is None else f"tick bound {rec['tick_bound']}"
    timeout = rec["limits"]["timeout_seconds"]
    limits = f"{rec['limits']['max_states']:,} states, " + ("no time limit" if timeout is None else f"{timeout:g} s")
    consts = ", ".join(f"{k} = {value_text(v)}" for k, v in rec["constants"].items()) or "none"
    sets = " ".join(f"--set {k}={value_text(v)}" for k, v in rec["set"].items())
    return (f"stormproof {rec['stormproof']}, {' and '.join(rec['engines'])} engine"
            f"{'s' if len(rec['engines']) > 1 else ''}, {bound}, limits {limits}; constants {consts}"
            + (f" ({sets})" if sets else ""))
