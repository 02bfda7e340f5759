"""The explicit engine's decisions: first events, lassos and `within` runs over a tick graph.

`Decider` watches a search (it is its `Observer`): invariants and reachability are decided
at the end of the depth of their first event, in (ticks, steps) order, a model error
counting as a violation of every invariant; loop checks collect the tick states meeting
their condition. After the search, `results` decides the rest: `no_storm` and `recovers` on
strongly connected components with the weak-fairness rule of language.md section 6
(graph.py), `within` by dynamic programming over walks of fault-free edges. With `early`
(`CheckOptions.stop_early`), loop checks are also decided at the end of each depth on the
graph explored so far, and the search ends once every check is decided.

Every check is evaluated once per state it is asked about: the work per state is linear in
the number of checks still open, and checks are partitioned once, by kind.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

from checker.engines.base import CheckOptions, CheckResult, Trace, Verdict
from checker.engines.diagnose import Budget, OutOfBudget, RetryFreeGraph, diagnose, futile_note
from checker.engines.explicit.encoding import CheckFn, Codec, XState
from checker.engines.explicit.graph import fair_sccs, find_fair_scc, scc_loop
from checker.engines.explicit.search import Event, Mode, TickGraph
from checker.engines.explicit.trace import Tracer
from checker.model import ir
from checker.model.evaluate import EvalError

ENGINE = "explicit"
MAX_WITHIN_TRACE = 10_000  # a `within` run longer than this, in ticks, is decided without a trace
MAX_WITHIN_CELLS = 4_000_000  # the largest (T x tick states) table searched for a shortest `within` run


@dataclass(eq=False)
class _Check:
    check: ir.Check
    fn: CheckFn | None
    assume: CheckFn | None
    found: Event | None = None  # a state check's first event: it is decided
    candidate: Event | None = None  # best event at the current depth
    good: set[int] = field(default_factory=set)  # tick states meeting the loop/run condition
    eval_error: Event | None = None  # first error in the check's own E or A
    assumed: bool = False  # some tick state satisfies the check's assumption
    falsified: bool = False  # some tick state has A true and E false
    settled: bool = False  # a loop check decided on the graph explored so far (stop_early)
    tried: int = 0  # len(good) when that was last tried


class Decider:
    """Decides `checks` of one model over the search it observes."""

    def __init__(self, codec: Codec, checks: list[ir.Check], early: bool = False) -> None:
        self.codec = codec
        self.early = early  # decide loop checks on the graph so far, and end the search once all are
        self._graph: TickGraph | None = None
        self.checks = [
            _Check(
                c,
                codec.compile_check(c.expr) if c.expr is not None else None,
                codec.compile_check(c.assuming) if c.assuming is not None else None,
            )
            for c in checks
        ]
        self.state_checks: list[_Check] = []
        self.tick_checks: list[_Check] = []
        for c in self.checks:
            if c.check.kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE):
                self.state_checks.append(c)
            else:
                self.tick_checks.append(c)
        self.pending = list(self.state_checks)  # state checks not decided yet
        self._tracer: Tracer | None = None
        self._started = time.monotonic()
        self._budget = Budget()
        self._bound: int | None = None

    # ---- the observer --------------------------------------------------------------------

    def bind(self, graph: TickGraph) -> None:
        """The search's tick graph, read at the end of each depth to decide loop checks early."""
        self._graph = graph

    def on_tick_state(self, tid: int, state: XState, depth: int, steps: int) -> None:
        for c in self.tick_checks:
            try:
                a = True if c.assume is None else c.assume(state)
                e = False if c.fn is None else c.fn(state)
            except EvalError as err:
                if c.eval_error is None:
                    c.eval_error = Event(depth, steps, tid, state, None, f"evaluating the check: {err.message}")
                continue
            if a:
                c.assumed = True
                if not e:
                    c.falsified = True
                    c.good.add(tid)

    def watching(self) -> list[ir.Expr]:
        return [c.check.expr for c in self.pending if c.check.expr is not None]

    def on_state(self, tid: int, state: XState, depth: int, steps: int) -> bool:
        """Keep the fewest-steps event of each open state check; True if `state` is one.

        The answer is given even when a cheaper event is kept already: a reduced region
        search can reach a state later than its fewest steps (search.py reruns the region).
        """
        kept = False
        for c in self.pending:
            assert c.fn is not None
            try:
                v = c.fn(state)
                err = None
            except EvalError as e:
                v, err = None, e.message
            reachable = c.check.kind is ir.CheckKind.REACHABLE
            if err is not None or bool(v) is reachable:
                kept = True
                cand = c.candidate
                if cand is None or steps < cand.steps:
                    c.candidate = Event(depth, steps, tid, state, None,
                                        None if err is None else f"evaluating the check: {err}")
        return kept

    def end_depth(self, depth: int, error: Event | None) -> bool:
        """Decide the state checks whose first event lies at this depth; True if all are.

        Their traces are rebuilt after the search (`results`): the parent chain of a tick
        state is final once its depth is reached.
        """
        for c in self.pending:
            cand = c.candidate
            if cand is not None and (error is None or cand.key <= error.key):
                c.found = cand
            elif error is not None:
                c.found = error
            c.candidate = None
        self.pending = [c for c in self.pending if c.found is None]
        if self.early and error is None and self._graph is not None:
            for c in self.tick_checks:
                if not c.settled:
                    c.settled = self._settled(c, self._graph, depth)
        return not self.pending and all(c.settled for c in self.tick_checks)

    def _settled(self, c: _Check, graph: TickGraph, depth: int) -> bool:
        """Whether the graph explored so far (every tick state of depth <= `depth`) decides `c`.

        A fair loop among explored tick states is a real lasso: its edges, event masks and
        fair-enabled sets are final once their source is explored (it need not be the one a
        complete search reports). A `within` run is only taken when it ends at a depth <=
        `depth`: every run ending there is visible, so it is the shortest one, as after a
        complete search. A sustained-storm check is never decided early (its diagnosis
        searches without retries).
        """
        if c.eval_error is not None:
            return True
        kind = c.check.kind
        if kind is ir.CheckKind.WITHIN:
            found = self._within_end(c, graph, depth)
            return found is not None and not (isinstance(found, CheckResult) and found.verdict is Verdict.UNKNOWN)
        if kind is ir.CheckKind.NO_STORM and c.check.sustained:
            return False
        if len(c.good) == c.tried:
            return False
        c.tried = len(c.good)
        storm = kind is ir.CheckKind.NO_STORM
        codec = self.codec
        return find_fair_scc(self._loop_edges(c, graph), required=codec.retry_mask if storm else None,
                             fair_mask=codec.fair_mask, fair_enabled=graph.fair_enabled,
                             order_key=graph.order_key) is not None

    def _trace(self, ev: Event) -> Trace:
        assert self._tracer is not None
        return self._tracer.to_event(ev)

    def _violation(self, c: _Check, ev: Event) -> CheckResult:
        trace = self._trace(ev)
        return CheckResult(c.check, Verdict.VIOLATED, ENGINE, trace, trace.ticks, model_error=ev.failing is not None)

    # ---- verdicts after the search ---------------------------------------------------------

    def results(self, graph: TickGraph, bound: int | None, opts: CheckOptions) -> list[CheckResult]:
        """Every check's result, in the order given, once the search of `graph` is over."""
        self._tracer = Tracer(self.codec, graph)
        deadline = None if opts.timeout is None else self._started + opts.timeout
        self._budget = Budget(opts.max_states, deadline)
        self._bound = bound
        return [self._vacuity(c, graph, self._result(c, graph, bound)) for c in self.checks]

    def _vacuity(self, c: _Check, graph: TickGraph, r: CheckResult) -> CheckResult:
        """Mark a holding check whose subject never happens in the explored space."""
        if r.verdict not in (Verdict.HOLDS, Verdict.HOLDS_BOUNDED):
            return r
        check = c.check
        why = None
        if check.assuming is not None and not c.assumed:
            why = f"the assumption `{_assumption_text(check)}` is false in every reachable tick state"
        elif check.kind in (ir.CheckKind.RECOVERS, ir.CheckKind.WITHIN) and not c.falsified:
            where = " where the assumption holds" if check.assuming is not None else ""
            why = f"its condition holds in every reachable tick state{where}"
        elif check.kind is ir.CheckKind.NO_STORM:
            ff = 0
            for out in graph.edges:
                for e in out.values():
                    if e.ff_mask is not None:
                        ff |= e.ff_mask
            retries = [rule.name for rule in self.codec.model.rules if rule.tag is ir.Tag.RETRY]
            if not retries:
                why = "the spec has no retry rule"
            elif not ff & self.codec.retry_mask:
                many = len(retries) > 1
                why = f"retry rule{'s' if many else ''} {', '.join(retries)} never fire{'' if many else 's'} in a fault-free tick"
        return dataclasses.replace(r, vacuous=why) if why else r

    def _result(self, c: _Check, graph: TickGraph, bound: int | None) -> CheckResult:
        kind = c.check.kind
        ev = c.found
        if ev is not None:
            if kind is ir.CheckKind.REACHABLE and ev.error is None and ev.failing is None:
                trace = self._trace(ev)
                return CheckResult(c.check, Verdict.HOLDS, ENGINE, trace, trace.ticks)
            return self._violation(c, ev)
        stop = graph.stop_reason
        if kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE):
            if stop:
                return CheckResult(c.check, Verdict.UNKNOWN, ENGINE, reason=stop)
            if kind is ir.CheckKind.REACHABLE:
                if graph.bound_hit:
                    return CheckResult(c.check, Verdict.UNKNOWN, ENGINE, bound=bound,
                                       reason=f"no witness within {bound} ticks")
                return CheckResult(c.check, Verdict.VIOLATED, ENGINE,
                                   reason="no reachable state satisfies it (exploration complete)")
            return _holds(c, graph, bound)
        firsts = [e for e in (graph.error, c.eval_error) if e is not None]
        first = min(firsts, key=lambda e: e.key) if firsts else None
        if kind is ir.CheckKind.WITHIN:
            run = self._within_run(c, graph, bound, first)
            if run is not None:
                return run
        elif first is None:
            lasso = self._lasso(c, graph)
            if lasso is not None:
                return lasso
        if first is not None:
            return self._violation(c, first)
        if stop:
            return CheckResult(c.check, Verdict.UNKNOWN, ENGINE, reason=stop)
        return _holds(c, graph, bound)

    def _loop_edges(self, c: _Check, graph: TickGraph) -> list[tuple[int, int, int]]:
        """Edges between explored tick states meeting the loop condition, with their events."""
        storm = c.check.kind is ir.CheckKind.NO_STORM
        edges = []
        for t in sorted(c.good):
            for t2, e in graph.edges[t].items():
                mask = e.np_mask if storm else e.ff_mask
                if mask is not None and t2 in c.good and graph.explored[t2]:
                    edges.append((t, t2, mask))
        return edges

    def _lasso(self, c: _Check, graph: TickGraph) -> CheckResult | None:
        storm = c.check.kind is ir.CheckKind.NO_STORM
        edges = self._loop_edges(c, graph)
        if storm and c.check.sustained:
            return self._sustained_lasso(c, graph, edges)
        return self._lasso_in(c, graph, edges)

    def _sustained_lasso(self, c: _Check, graph: TickGraph, edges: list[tuple[int, int, int]]) -> CheckResult | None:
        """`no_retry_storm`: a storm loop none of whose tick states is futile (diagnose.py)."""
        loops = fair_sccs(edges, self.codec.retry_mask, self.codec.fair_mask, graph.fair_enabled)
        if not loops:
            return None
        inside = sorted({t for scc in loops for t in scc.vertices})
        retry_free = RetryFreeGraph(self.codec.model, c.check, self._budget)
        try:
            ids = retry_free.explore([self.codec.to_state(graph.vertices[t]) for t in inside])
        except OutOfBudget as e:
            return CheckResult(c.check, Verdict.UNKNOWN, ENGINE, reason=f"storm loops found, but {e}")
        capable = retry_free.capable()
        keep = {t for t, v in zip(inside, ids) if v in capable}
        found = self._lasso_in(c, graph, [(a, b, m) for a, b, m in edges if a in keep and b in keep])
        if found is not None or graph.stop_reason:
            return found
        futile = self._lasso_in(c, graph, edges)
        assert futile is not None and futile.trace is not None
        try:
            note = futile_note(self.codec.model, diagnose(self.codec.model, c.check, futile.trace, self._budget),
                               futile.trace)
        except OutOfBudget:  # pragma: no cover - the same states were just explored
            note = "every storm loop is futile: from one of its tick states no progress rule can fire, even without retries"
        return _holds(c, graph, self._bound, note)

    def _lasso_in(self, c: _Check, graph: TickGraph, edges: list[tuple[int, int, int]]) -> CheckResult | None:
        storm = c.check.kind is ir.CheckKind.NO_STORM
        codec = self.codec
        required = codec.retry_mask if storm else None
        found = find_fair_scc(edges, required=required, fair_mask=codec.fair_mask,
                              fair_enabled=graph.fair_enabled, order_key=graph.order_key)
        if found is None:
            return None
        hops = scc_loop(found, codec.fair_mask, graph.fair_enabled, required, graph.order_key)
        assert self._tracer is not None
        trace = self._tracer.lasso(hops, Mode.STORM if storm else Mode.FAULT_FREE)
        return CheckResult(c.check, Verdict.VIOLATED, ENGINE, trace, None)

    def _within_run(self, c: _Check, graph: TickGraph, bound: int | None, first: Event | None) -> CheckResult | None:
        # With the whole graph explored, every run is real and any one is reported (as for
        # lassos); with the bound hit, runs must end within it (language.md section 7).
        complete = graph.complete and graph.error is None
        limit: float = math.inf if complete or bound is None else bound
        if graph.error is not None:
            limit = min(limit, graph.error.ticks)
        found = self._within_end(c, graph, limit, first)
        if found is None or isinstance(found, CheckResult):
            return found
        (end_ticks, end_steps, start), cost = found
        if first is not None and first.key < (end_ticks, end_steps):
            return None
        T = c.check.within
        assert T is not None
        edges = graph.edges
        tids = [start]
        t = start
        for k in range(T, 0, -1):
            t = min(
                t2 for t2, e in edges[t].items()
                if e.ff_mask is not None and t2 in cost[k - 1] and e.ff_cost + cost[k - 1][t2] == cost[k][t]
            )
            tids.append(t)
        assert self._tracer is not None
        trace = self._tracer.walk(tids, Mode.FAULT_FREE)
        return CheckResult(c.check, Verdict.VIOLATED, ENGINE, trace, trace.ticks)

    def _within_end(self, c: _Check, graph: TickGraph, limit: float, first: Event | None = None
                    ) -> tuple[tuple[int, int, int], list[dict[int, int]]] | CheckResult | None:
        """The first-ending run of T fault-free ticks in bad tick states, ending by `limit` ticks.

        Returns ((end ticks, end steps, start), cost): cost[k][t] is the fewest steps of a
        k-tick such walk from t. A run too long to trace, or a table or a search beyond the
        budget, gives its result directly (violated without a trace, or unknown); `first` is the
        model error that a run must come before.
        """
        T = c.check.within
        assert T is not None
        good = c.good
        edges = graph.edges
        if not any(graph.depth[t] + T <= limit for t in good):
            return None  # no run of T ticks fits (a huge T under a bound, say): nothing to search
        cells = T * len(good)  # the size of the DP's table below
        if T >= sum(1 for t in good if graph.explored[t]) and (T > MAX_WITHIN_TRACE or cells > MAX_WITHIN_CELLS):
            return self._long_within(c, graph, first, limit)
        if cells > MAX_WITHIN_CELLS:
            return CheckResult(c.check, Verdict.UNKNOWN, ENGINE,
                               reason=f"a run of {T:,} ticks among {len(good):,} tick states needs a table of "
                                      f"more than {MAX_WITHIN_CELLS:,} cells")
        cost: list[dict[int, int]] = [{t: 0 for t in good}]
        deadline = self._budget.deadline
        for _k in range(T):
            if deadline is not None and time.monotonic() > deadline:
                return CheckResult(c.check, Verdict.UNKNOWN, ENGINE,
                                   reason=f"ran out of time searching for a run of {T:,} ticks")
            prev = cost[-1]
            cur: dict[int, int] = {}
            for t in good:
                if not graph.explored[t]:
                    continue
                best = None
                for t2, e in edges[t].items():
                    if e.ff_mask is None or t2 not in prev:
                        continue
                    v = e.ff_cost + prev[t2]
                    if best is None or v < best:
                        best = v
                if best is not None:
                    cur[t] = best
            cost.append(cur)
            if not cur:
                return None  # no walk of this length, so none longer
        ends = [
            (graph.depth[t] + T, graph.steps[t] + v, t)
            for t, v in cost[T].items()
            if graph.depth[t] + T <= limit
        ]
        if not ends:
            return None
        return min(ends), cost


    def _long_within(self, c: _Check, graph: TickGraph, first: Event | None, limit: float) -> CheckResult | None:
        """A `within T` run whose trace is too long (or too costly) to build: decided without one.

        Only reached with T at least the number n of explored tick states of the condition
        (see `_within_run`). A run of T >= n
        ticks through n tick states revisits one, so it exists exactly when a tick state of
        the condition reaches a fault-free loop of such tick states: the greatest set W of
        explored good tick states each with a fault-free edge into W. Work linear in edges.
        """
        T = c.check.within
        assert T is not None
        good = {t for t in c.good if graph.explored[t]}
        succ = {t: [t2 for t2, e in graph.edges[t].items() if e.ff_mask is not None and t2 in good] for t in good}
        pred: dict[int, list[int]] = {t: [] for t in good}
        for t, out in succ.items():
            for t2 in out:
                pred[t2].append(t)
        alive = {t: len(out) for t, out in succ.items()}
        dead = [t for t, n in alive.items() if n == 0]
        while dead:
            t = dead.pop()
            for p in pred[t]:
                alive[p] -= 1
                if alive[p] == 0:
                    dead.append(p)
        loop = [t for t, n in alive.items() if n > 0 and graph.depth[t] + T <= limit]
        if not loop:
            return None
        start = min(loop, key=lambda t: (graph.depth[t], graph.steps[t]))
        ticks = graph.depth[start] + T
        if first is not None and first.ticks <= ticks:
            return None
        return CheckResult(
            c.check, Verdict.VIOLATED, ENGINE, None, ticks,
            reason=f"from tick {graph.depth[start]} a fault-free loop of tick states with the condition false "
                   f"can run for {T:,} ticks; its trace is too long to build",
        )


def _holds(c: _Check, graph: TickGraph, bound: int | None, note: str | None = None) -> CheckResult:
    if graph.bound_hit:
        return CheckResult(c.check, Verdict.HOLDS_BOUNDED, ENGINE, bound=bound, reason=note, bound_hit=True)
    return CheckResult(c.check, Verdict.HOLDS, ENGINE, reason=note or "exploration complete")


def _assumption_text(check: ir.Check) -> str:
    return check.source.split("assuming", 1)[1].strip() if "assuming" in check.source else "the assumption"


__all__ = ["Decider"]
