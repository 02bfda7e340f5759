"""Compare two engines' results check by check (language.md section 7).

Two results contradict when both are decided and differ: when both are complete (holds or
violated) they must be equal, and a bounded result never contradicts a complete one, except
that a trace found within the other engine's bound shows that engine missed it. Every
shortest trace both engines find (invariant, reachable, `within`, model error) must have the
same length in ticks.
"""

from __future__ import annotations

from dataclasses import replace

from checker.engines.base import CheckOptions, CheckResult, RunResult, Verdict, replay
from checker.model import ir

_COMPLETE = (Verdict.HOLDS, Verdict.VIOLATED)
_SHORTEST = (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE, ir.CheckKind.WITHIN)


def _describe(r: CheckResult) -> str:
    text = f"{r.engine}: {r.verdict.value}"
    if r.ticks is not None:
        text += f" in {r.ticks} ticks"
    if r.model_error:
        text += " (model error)"
    if r.reason:
        text += f" ({r.reason})"
    return text


def _found(r: CheckResult) -> bool:
    """A trace that shows the check's event: a violation, or a reachable's witness."""
    if r.trace is None or r.ticks is None:
        return False
    return r.verdict is Verdict.VIOLATED or (r.check.kind is ir.CheckKind.REACHABLE and r.verdict is Verdict.HOLDS)


def _missed(found: CheckResult, other: CheckResult) -> bool:
    """`other` searched the bound and reports nothing where `found` has a trace inside it."""
    if not _found(found) or found.ticks is None:
        return False
    if found.check.kind not in _SHORTEST and not found.model_error:
        return False
    if other.verdict is Verdict.HOLDS_BOUNDED:
        return other.bound is not None and found.ticks <= other.bound
    if other.verdict is Verdict.UNKNOWN and found.check.kind is ir.CheckKind.REACHABLE:
        return (other.reason or "").startswith("no witness within")
    return False


def compare(a: RunResult, b: RunResult) -> list[str]:
    """Return one line per disagreement between two runs over the same model."""
    out: list[str] = []
    theirs = {r.check.name: r for r in b.results}
    for ra in a.results:
        rb = theirs.get(ra.check.name)
        if rb is None:
            continue
        name = ra.check.name
        both = f"{_describe(ra)}; {_describe(rb)}"
        if ra.verdict in _COMPLETE and rb.verdict in _COMPLETE and ra.verdict is not rb.verdict:
            out.append(f"{name}: contradictory verdicts: {both}")
            continue
        if _missed(ra, rb) or _missed(rb, ra):
            out.append(f"{name}: a trace within the bound was missed: {both}")
            continue
        if _found(ra) and _found(rb) and ra.verdict is rb.verdict:
            comparable = ra.check.kind in _SHORTEST or (ra.model_error and rb.model_error)
            if comparable and ra.ticks != rb.ticks:
                out.append(f"{name}: shortest traces differ in length: {both}")
    return out


def run_both(model: ir.Model, opts: CheckOptions) -> tuple[RunResult, RunResult, list[str]]:
    """Run the explicit and the symbolic engine, replay every trace, and compare them.

    Returns both runs and the disagreements (empty when they agree). A trace that does not
    replay raises InternalError, as for a single engine.
    """
    from checker.engines import get_engine

    a = get_engine("explicit").run(model, opts)
    b = get_engine("symbolic").run(model, opts)
    for run in (a, b):
        for r in run.results:
            replay(model, r)
    return a, b, compare(a, b)


_RANK = {Verdict.HOLDS: 0, Verdict.VIOLATED: 0, Verdict.HOLDS_BOUNDED: 1, Verdict.UNKNOWN: 2}


def decided(r: CheckResult) -> bool:
    """A complete result: holds (proved or exhausted) or violated."""
    return r.verdict in _COMPLETE


def agreement(a: CheckResult, b: CheckResult | None) -> str:
    """Who decided a check under `--engine both`: 'agree' only where both engines decided."""
    if b is None:
        return f"{a.engine} only"
    if decided(a) and decided(b):
        return "agree"
    if decided(a):
        return f"{a.engine} decided"
    if decided(b):
        return f"{b.engine} decided"
    return "neither decided"


def merge(a: RunResult, b: RunResult) -> RunResult:
    """One run of `--engine both`: per check the decided result (the first engine's on a tie).

    The merged results keep the `engine` of the engine that decided them; `parts` holds both
    engines' own runs, for reports that show the verdicts side by side.
    """
    theirs = {r.check.name: r for r in b.results}
    results = []
    for ra in a.results:
        rb = theirs.get(ra.check.name)
        results.append(rb if rb is not None and _RANK[rb.verdict] < _RANK[ra.verdict] else ra)
    return replace(a, engine="both", results=results, parts=(a, b))
