"""The explicit-state engine: counter abstraction, tick-by-tick exploration, tick graph.

Algorithm. A state is (globals, remaining fault limits, fired-actions bitmask, per kind a
sorted tuple of (situation id, count)), where a situation (state, locals, acted) is interned
per kind: node identities never appear (counter abstraction). Exploration goes depth by
depth in ticks. For each tick state T of depth d, its *region* (every state reachable from T
by the non-tick steps of one tick) is explored breadth-first; tick steps out of the region
give the tick states of depth d+1 and the edges of the tick graph. Exploring in (ticks,
steps) order makes the first violation found the shortest, in ticks then steps.

Each tick-graph edge T -> T' keeps, besides its cheapest cost in steps, the union of events
fired on its fault-free paths and on its fault-free, progress-free paths (a bitmask, from a
pass over the region in order of marks set, which is a topological order of its fault-free
part). `no_storm` and `recovers` are then decided on strongly connected components with the
weak-fairness rule of language.md section 6 (graph.py); `within` by dynamic programming over
walks of fault-free edges. Traces are rebuilt by re-searching single regions.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from checker.engines.base import CheckOptions, CheckResult, RunResult, Stats, Trace, Verdict
from checker.engines.explicit.compile import compile_block, compile_expr, compile_guard
from checker.engines.explicit.graph import find_fair_scc, scc_loop
from checker.errors import ModelError
from checker.model import ir
from checker.model import semantics as sem
from checker.model.evaluate import EvalError

XState = tuple[Any, Any, int, Any]  # (globals, limits, fired mask, populations)
Desc = tuple[int, int, int]  # (event, kind, situation id); (-1, -1, -1) is the tick
TICK_DESC: Desc = (-1, -1, -1)

ANY, FAULT_FREE, STORM = "any", "ff", "np"


@dataclass
class _Event:
    """A candidate first event for a check: where in (ticks, steps) order, and how to rebuild it."""

    ticks: int
    steps: int
    tick_state: int  # the tick state whose region holds it
    state: XState  # the state where it happens (the error's source state)
    failing: Desc | None = None  # a model error: the step that fails from `state`
    error: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.ticks, self.steps)


@dataclass
class _Edge:
    cost: int  # fewest steps over any path
    ff_mask: int = -1  # union of events over fault-free paths; -1: none
    ff_cost: int = 0
    np_mask: int = -1  # union over fault-free, progress-free paths; -1: none


@dataclass
class _CheckState:
    check: ir.Check
    fn: Callable[..., Any] | None
    assume: Callable[..., Any] | None
    decided: CheckResult | None = None
    candidate: _Event | None = None  # best event at the current depth
    good: set[int] = field(default_factory=set)  # tick states meeting the loop/run condition
    eval_error: _Event | None = None  # first error in the check's own E or A


class ExplicitEngine:
    name = "explicit"

    def run(self, model: ir.Model, opts: CheckOptions) -> RunResult:
        return _Explorer(model, opts).run()


class _Explorer:
    def __init__(self, model: ir.Model, opts: CheckOptions) -> None:
        self.model = model
        self.opts = opts
        nk = len(model.kinds)
        self.sits: list[list[tuple[int, tuple[Any, ...], bool]]] = [[] for _ in range(nk)]
        self.sit_ids: list[dict[tuple[int, tuple[Any, ...], bool], int]] = [{} for _ in range(nk)]
        sits = self.sits
        # node rules by kind and source state
        self.rules: list[list[list[tuple[int, Any, Any, int]]]] = [
            [[] for _ in k.states] for k in model.kinds
        ]
        for r in model.rules:
            kind = model.kinds[r.kind]
            self.rules[r.kind][r.src].append(
                (r.event, compile_guard(r.guard, sits), compile_block(r.updates, model, kind, f"rule '{r.name}'", sits), r.dst)
            )
        self.actions = [
            (i, a.event, compile_guard(a.guard, sits), compile_block(a.updates, model, None, f"action '{a.name}'", sits))
            for i, a in enumerate(model.actions)
        ]
        self.node_faults: list[list[list[tuple[int, int | None, Any, Any, int]]]] = [
            [[] for _ in k.states] for k in model.kinds
        ]
        self.top_faults = []
        for f in model.faults:
            who = f"fault '{f.name}'"
            if f.kind is None:
                self.top_faults.append(
                    (f.event, f.slot, compile_guard(f.guard, sits), compile_block(f.updates, model, None, who, sits))
                )
            else:
                kind = model.kinds[f.kind]
                self.node_faults[f.kind][f.src].append(
                    (f.event, f.slot, compile_guard(f.guard, sits), compile_block(f.updates, model, kind, who, sits), f.dst)
                )
        g_assigned = {a.index for a in model.tick}
        self.tick_global = compile_block(
            model.tick, model, None, "the top-level 'on tick'", sits,
            timers_global=[i for i, v in enumerate(model.globals) if v.is_timer and i not in g_assigned],
        )
        self.tick_kinds = []
        for kind in model.kinds:
            assigned = {a.index for a in kind.tick}
            self.tick_kinds.append(
                compile_block(
                    kind.tick, model, kind, f"'on tick' of '{kind.name}'", sits,
                    timers_local=[i for i, v in enumerate(kind.locals) if v.is_timer and i not in assigned],
                )
            )
        self.fault_mask = sum(1 << f.event for f in model.faults)
        self.progress_mask = sum(1 << r.event for r in model.rules if r.tag is ir.Tag.PROGRESS)
        self.retry_mask = sum(1 << r.event for r in model.rules if r.tag is ir.Tag.RETRY)
        self.fair_rules = [(r.event, r.kind, r.src, compile_guard(r.guard, sits)) for r in model.rules if r.fair]
        self.fair_actions = [(i, a.event, compile_guard(a.guard, sits)) for i, a in enumerate(model.actions) if a.fair]
        self.fair_mask = sum(1 << e for e, *_ in self.fair_rules) + sum(1 << e for _, e, _ in self.fair_actions)
        only = set(opts.only)
        self.checks = [
            _CheckState(
                c,
                compile_expr(c.expr, sits) if c.expr is not None else None,
                compile_expr(c.assuming, sits) if c.assuming is not None else None,
            )
            for c in model.checks
            if not only or c.name in only
        ]
        self.state_checks = [c for c in self.checks if c.check.kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE)]
        self.tick_checks = [c for c in self.checks if c not in self.state_checks]
        # the tick graph
        self.tick_index: dict[XState, int] = {}
        self.tick_list: list[XState] = []
        self.depth: list[int] = []
        self.steps: list[int] = []
        self.parent: list[int] = []
        self.edges: list[dict[int, _Edge]] = []
        self.fair_enabled: list[int] = []
        self.explored: list[bool] = []
        self.seen: set[XState] = set()
        self.cache: dict[XState, Any] = {}
        self.old_cache: dict[XState, Any] = {}
        self.stats = Stats(engine="explicit")
        self.error: _Event | None = None  # the first model error (decided at its depth)
        self.error_candidate: _Event | None = None
        self.stop_reason: str | None = None

    # ---- states --------------------------------------------------------------------------

    def intern(self, k: int, sit: tuple[int, tuple[Any, ...], bool]) -> int:
        ids = self.sit_ids[k]
        sid = ids.get(sit)
        if sid is None:
            sid = ids[sit] = len(self.sits[k])
            self.sits[k].append(sit)
        return sid

    def initial(self) -> XState:
        pops = []
        for k, kind in enumerate(self.model.kinds):
            loc = tuple(v.init for v in kind.locals)
            pops.append(tuple(sorted((self.intern(k, (s, loc, False)), n) for s, n in enumerate(kind.init_counts) if n > 0)))
        limits = tuple(f.limit for f in self.model.faults if f.limit is not None)
        return (tuple(v.init for v in self.model.globals), limits, 0, tuple(pops))

    @staticmethod
    def _move(pop: tuple[tuple[int, int], ...], a: int, b: int) -> tuple[tuple[int, int], ...]:
        """Move one node from situation a to situation b, keeping the pairs sorted by id."""
        out = []
        placed = False
        for sid, n in pop:
            if sid == a:
                n -= 1
            if not placed and sid >= b:
                if sid == b:
                    n += 1
                else:
                    out.append((b, 1))
                placed = True
            if n:
                out.append((sid, n))
        if not placed:
            out.append((b, 1))
        return tuple(out)

    def successors(self, st: XState) -> tuple[list[tuple[Desc, XState]], list[tuple[Desc, str]]]:
        """Every step from `st`, memoised over the current and the previous depth.

        Regions of different tick states overlap (lazy faults make them converge), so the
        same mid-tick state is expanded many times; two generations bound the memory.
        """
        hit = self.cache.get(st)
        if hit is None:
            hit = self.old_cache.get(st)
            if hit is None:
                hit = self._successors(st)
            self.cache[st] = hit
        return hit

    def new_generation(self) -> None:
        self.old_cache, self.cache = self.cache, {}

    def _successors(self, st: XState) -> tuple[list[tuple[Desc, XState]], list[tuple[Desc, str]]]:
        """Every step from `st`: (desc, next state) pairs, and (desc, message) for model errors."""
        g, lim, fired, pops = st
        out: list[tuple[Desc, XState]] = []
        errs: list[tuple[Desc, str]] = []
        can_act = False
        sits = self.sits
        for k, pop in enumerate(pops):
            table = sits[k]
            by_src = self.rules[k]
            for sid, _c in pop:
                s, loc, acted = table[sid]
                if acted:
                    continue
                for event, guard, block, dst in by_src[s]:
                    try:
                        if guard is not None and not guard(g, loc, pops):
                            continue
                    except EvalError as e:
                        can_act = True
                        errs.append(((event, k, sid), f"in the guard of rule '{self.model.events[event].name}': {e.message}"))
                        continue
                    can_act = True
                    try:
                        ng, nl = block(g, loc, pops)
                    except ModelError as e:
                        errs.append(((event, k, sid), e.message))
                        continue
                    nsid = self.intern(k, (dst, nl, True))
                    npops = pops[:k] + (self._move(pop, sid, nsid),) + pops[k + 1 :]
                    out.append(((event, k, sid), (ng, lim, fired, npops)))
        for i, event, guard, block in self.actions:
            if fired >> i & 1:
                continue
            try:
                if guard is not None and not guard(g, None, pops):
                    continue
            except EvalError as e:
                can_act = True
                errs.append(((event, -1, -1), f"in the guard of action '{self.model.events[event].name}': {e.message}"))
                continue
            can_act = True
            try:
                ng, _ = block(g, None, pops)
            except ModelError as e:
                errs.append(((event, -1, -1), e.message))
                continue
            out.append(((event, -1, -1), (ng, lim, fired | 1 << i, pops)))
        for k, pop in enumerate(pops):
            faults_k = self.node_faults[k]
            table = sits[k]
            for sid, _c in pop:
                s, loc, acted = table[sid]
                for event, slot, guard, block, dst in faults_k[s]:
                    if slot is not None and lim[slot] <= 0:
                        continue
                    try:
                        if guard is not None and not guard(g, loc, pops):
                            continue
                        ng, nl = block(g, loc, pops)
                    except EvalError as e:
                        errs.append(((event, k, sid), self._guard_or_update_error(event, guard, g, loc, pops, e)))
                        continue
                    except ModelError as e:
                        errs.append(((event, k, sid), e.message))
                        continue
                    nlim = lim if slot is None else lim[:slot] + (lim[slot] - 1,) + lim[slot + 1 :]
                    nsid = self.intern(k, (dst, nl, acted))
                    npops = pops[:k] + (self._move(pop, sid, nsid),) + pops[k + 1 :]
                    out.append(((event, k, sid), (ng, nlim, fired, npops)))
        for event, slot, guard, block in self.top_faults:
            if slot is not None and lim[slot] <= 0:
                continue
            try:
                if guard is not None and not guard(g, None, pops):
                    continue
                ng, _ = block(g, None, pops)
            except EvalError as e:
                errs.append(((event, -1, -1), self._guard_or_update_error(event, guard, g, None, pops, e)))
                continue
            except ModelError as e:
                errs.append(((event, -1, -1), e.message))
                continue
            nlim = lim if slot is None else lim[:slot] + (lim[slot] - 1,) + lim[slot + 1 :]
            out.append(((event, -1, -1), (ng, nlim, fired, pops)))
        if not can_act:
            try:
                out.append((TICK_DESC, self._tick(st)))
            except ModelError as e:
                errs.append((TICK_DESC, e.message))
        return out, errs

    def _guard_or_update_error(self, event: int, guard: Any, g: Any, loc: Any, pops: Any, e: EvalError) -> str:
        try:
            if guard is not None:
                guard(g, loc, pops)
        except EvalError:
            return f"in the guard of fault '{self.model.events[event].name}': {e.message}"
        return e.message

    def _tick(self, st: XState) -> XState:
        g, lim, _fired, pops = st
        ng, _ = self.tick_global(g, None, pops)
        npops = []
        for k, pop in enumerate(pops):
            block = self.tick_kinds[k]
            table = self.sits[k]
            acc: dict[int, int] = {}
            for sid, c in pop:
                s, loc, _acted = table[sid]
                _, nl = block(g, loc, pops)
                nsid = self.intern(k, (s, nl, False))
                acc[nsid] = acc.get(nsid, 0) + c
            npops.append(tuple(sorted(acc.items())))
        return (ng, lim, 0, tuple(npops))

    def _fair_enabled(self, st: XState) -> int:
        g, _lim, _fired, pops = st
        mask = 0
        for event, k, src, guard in self.fair_rules:
            table = self.sits[k]
            for sid, _c in pops[k]:
                s, loc, _a = table[sid]
                if s == src:
                    try:
                        if guard is None or guard(g, loc, pops):
                            mask |= 1 << event
                            break
                    except EvalError:
                        continue
        for _i, event, guard in self.fair_actions:
            try:
                if guard is None or guard(g, None, pops):
                    mask |= 1 << event
            except EvalError:
                continue
        return mask

    # ---- exploration -----------------------------------------------------------------------

    def _add_tick_state(self, st: XState, depth: int, steps: int, parent: int) -> int:
        tid = len(self.tick_list)
        self.tick_index[st] = tid
        self.tick_list.append(st)
        self.depth.append(depth)
        self.steps.append(steps)
        self.parent.append(parent)
        self.edges.append({})
        self.fair_enabled.append(0)
        self.explored.append(False)
        return tid

    def run(self) -> RunResult:
        start = time.perf_counter()
        self._last_progress = start
        self._start = start
        init = self.initial()
        self._add_tick_state(init, 0, 0, -1)
        frontier = [0]
        bound = self.opts.ticks
        depth = 0
        while frontier:
            self.new_generation()
            self.stats.max_depth = depth
            for tid in frontier:
                self._explore_region(tid, depth)
                if self.stop_reason:
                    break
            if self.stop_reason:
                # what was found in the part of this depth that was explored is real, and no
                # shallower trace exists (every earlier depth was complete): report it
                self._finish_depth(depth)
                break
            self._finish_depth(depth)
            self.stats.max_depth = depth
            if self.error is not None or self._all_decided():
                break
            nxt = [t for t in range(len(self.tick_list)) if self.depth[t] == depth + 1]
            if bound is not None and depth >= bound:
                if nxt:
                    self.stats.bound_hit = True
                    self.stats.beyond_bound = len(nxt)
                break
            frontier = nxt
            depth += 1
        # complete: nothing stopped us early and every tick state found was explored
        complete = (
            not self.stop_reason and not self.stats.bound_hit and self.error is None and all(self.explored)
        )
        self.stats.complete = complete
        self.stats.states = len(self.seen)
        self.stats.tick_states = sum(self.explored)
        results = [self._result(c) for c in self.checks]
        self.stats.seconds = time.perf_counter() - start
        return RunResult(self.model, "explicit", results, self.stats)

    def _all_decided(self) -> bool:
        return not self.tick_checks and all(c.decided is not None for c in self.state_checks)

    def _explore_region(self, tid: int, depth: int) -> None:
        T = self.tick_list[tid]
        base = self.steps[tid]
        self.explored[tid] = True
        self.fair_enabled[tid] = self._fair_enabled(T) if self.fair_mask else 0
        for c in self.tick_checks:
            self._tick_check(c, tid, T, depth, base)
        # one dict from state to its index in the region; parallel lists for the rest
        pos = {T: 0}
        order = [T]
        dist = [0]
        mk = [0]  # marks set since T: +1 per rule or action step, +0 per fault
        adj: list[list[tuple[int, int]]] = []  # per region index: (successor index, event)
        ticks: list[tuple[int, XState]] = []
        seen = self.seen
        fault_mask = self.fault_mask
        head = 0
        pending = [c for c in self.state_checks if c.decided is None]
        while head < len(order):
            i = head
            S = order[i]
            d = dist[i]
            head += 1
            size = len(seen)
            seen.add(S)
            if len(seen) != size and len(seen) > self.opts.max_states:
                self.stop_reason = f"state limit of {self.opts.max_states:,} states reached"
                return
            for c in pending:
                self._state_check(c, S, depth, base + d, tid)
            out, errs = self.successors(S)
            self.stats.transitions += len(out)
            for desc, msg in errs:
                ev = _Event(depth, base + d + 1, tid, S, desc, msg)
                if self.error_candidate is None or ev.key < self.error_candidate.key:
                    self.error_candidate = ev
            row: list[tuple[int, int]] = []
            for desc, nxt in out:
                event = desc[0]
                if event < 0:
                    ticks.append((i, nxt))
                    continue
                j = pos.get(nxt)
                if j is None:
                    j = pos[nxt] = len(order)
                    order.append(nxt)
                    dist.append(d + 1)
                    mk.append(mk[i] + (0 if fault_mask >> event & 1 else 1))
                row.append((j, event))
            adj.append(row)
            if head % 256 == 0:
                self._tick_clock()
                if self.stop_reason:
                    return
        self._tick_clock()
        n = len(order)
        ff = [-1] * n
        ffd = [0] * n
        npm = [-1] * n
        ff[0] = 0
        npm[0] = 0
        progress_mask = self.progress_mask
        for i in sorted(range(n), key=mk.__getitem__):
            fi, ni = ff[i], npm[i]
            if fi < 0:
                continue
            for j, event in adj[i]:
                bit = 1 << event
                if bit & fault_mask:
                    continue
                if ff[j] < 0 or ffd[i] + 1 < ffd[j]:
                    ffd[j] = ffd[i] + 1
                ff[j] = (max(ff[j], 0)) | fi | bit
                if ni >= 0 and not bit & progress_mask:
                    npm[j] = (max(npm[j], 0)) | ni | bit
        for i, nxt in ticks:
            t2 = self.tick_index.get(nxt)
            cost = dist[i] + 1
            if t2 is None:
                t2 = self._add_tick_state(nxt, depth + 1, base + cost, tid)
            elif self.depth[t2] == depth + 1 and base + cost < self.steps[t2]:
                self.steps[t2] = base + cost
                self.parent[t2] = tid
            e = self.edges[tid].get(t2)
            if e is None:
                e = self.edges[tid][t2] = _Edge(cost)
            elif cost < e.cost:
                e.cost = cost
            if ff[i] >= 0:
                if e.ff_mask < 0 or ffd[i] + 1 < e.ff_cost:
                    e.ff_cost = ffd[i] + 1
                e.ff_mask = max(e.ff_mask, 0) | ff[i]
            if npm[i] >= 0:
                e.np_mask = max(e.np_mask, 0) | npm[i]

    def _tick_clock(self) -> None:
        now = time.perf_counter()
        if self.opts.timeout is not None and now - self._start > self.opts.timeout:
            self.stop_reason = f"timeout after {self.opts.timeout:g} s"
        if self.opts.progress is not None and now - self._last_progress > 0.5:
            self._last_progress = now
            self.stats.states = len(self.seen)
            self.stats.tick_states = len(self.tick_list)
            self.stats.seconds = now - self._start
            self.opts.progress(self.stats)

    def _state_check(self, c: _CheckState, S: XState, depth: int, steps: int, tid: int) -> None:
        if c.candidate is not None and c.candidate.steps <= steps:
            return
        assert c.fn is not None
        g, _l, _f, pops = S
        try:
            v = c.fn(g, None, pops)
            err = None
        except EvalError as e:
            v, err = None, e.message
        reachable = c.check.kind is ir.CheckKind.REACHABLE
        if err is not None or bool(v) is reachable:
            c.candidate = _Event(depth, steps, tid, S, None, None if err is None else f"evaluating the check: {err}")

    def _tick_check(self, c: _CheckState, tid: int, T: XState, depth: int, steps: int) -> None:
        g, _l, _f, pops = T
        try:
            a = True if c.assume is None else c.assume(g, None, pops)
            e = False if c.fn is None else c.fn(g, None, pops)
        except EvalError as err:
            if c.eval_error is None:
                c.eval_error = _Event(depth, steps, tid, T, None, f"evaluating the check: {err.message}")
            return
        if a and not e:
            c.good.add(tid)

    def _finish_depth(self, depth: int) -> None:
        err = self.error_candidate
        for c in self.state_checks:
            if c.decided is not None:
                continue
            cand = c.candidate
            if c.check.kind is ir.CheckKind.INVARIANT:
                if cand is not None and (err is None or cand.key <= err.key):
                    c.decided = self._violation(c, cand)
                elif err is not None:
                    c.decided = self._violation(c, err)
            else:
                if cand is not None and (err is None or cand.key <= err.key):
                    if cand.error is not None:
                        c.decided = self._violation(c, cand)
                    else:
                        trace = self._trace_to(cand)
                        c.decided = CheckResult(c.check, Verdict.HOLDS, "explicit", trace, trace.ticks)
                elif err is not None:
                    c.decided = self._violation(c, err)
            c.candidate = None
        if err is not None:
            self.error = err

    def _violation(self, c: _CheckState, ev: _Event) -> CheckResult:
        trace = self._trace_to(ev)
        return CheckResult(c.check, Verdict.VIOLATED, "explicit", trace, trace.ticks, model_error=ev.failing is not None)

    # ---- verdicts ---------------------------------------------------------------------------

    def _result(self, c: _CheckState) -> CheckResult:
        if c.decided is not None:
            return c.decided
        kind = c.check.kind
        bound = self.opts.ticks
        if kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE):
            if self.stop_reason:
                return CheckResult(c.check, Verdict.UNKNOWN, "explicit", reason=self.stop_reason)
            if kind is ir.CheckKind.REACHABLE:
                if self.stats.bound_hit:
                    return CheckResult(c.check, Verdict.UNKNOWN, "explicit", bound=bound,
                                       reason=f"no witness within {bound} ticks")
                return CheckResult(c.check, Verdict.VIOLATED, "explicit",
                                   reason="no reachable state satisfies it (exploration complete)")
            return self._holds(c)
        firsts = [e for e in (self.error, c.eval_error) if e is not None]
        first = min(firsts, key=lambda e: e.key) if firsts else None
        if kind is ir.CheckKind.WITHIN:
            run = self._within_run(c, first)
            if run is not None:
                return run
        elif first is None:
            lasso = self._lasso(c)
            if lasso is not None:
                return lasso
        if first is not None:
            trace = self._trace_to(first)
            return CheckResult(c.check, Verdict.VIOLATED, "explicit", trace, trace.ticks,
                               model_error=first.failing is not None)
        if self.stop_reason:
            return CheckResult(c.check, Verdict.UNKNOWN, "explicit", reason=self.stop_reason)
        return self._holds(c)

    def _holds(self, c: _CheckState) -> CheckResult:
        if self.stats.bound_hit:
            return CheckResult(c.check, Verdict.HOLDS_BOUNDED, "explicit", bound=self.opts.ticks)
        return CheckResult(c.check, Verdict.HOLDS, "explicit", reason="exploration complete")

    def _lasso(self, c: _CheckState) -> CheckResult | None:
        storm = c.check.kind is ir.CheckKind.NO_STORM
        edges = []
        for t in sorted(c.good):
            for t2, e in self.edges[t].items():
                mask = e.np_mask if storm else e.ff_mask
                if mask >= 0 and t2 in c.good and self.explored[t2]:
                    edges.append((t, t2, mask))
        found = find_fair_scc(
            edges,
            required=self.retry_mask if storm else None,
            fair_mask=self.fair_mask,
            fair_enabled=self.fair_enabled,
            order_key=lambda t: (self.depth[t], self.steps[t], t),
        )
        if found is None:
            return None
        hops = scc_loop(found, self.fair_mask, self.fair_enabled, self.retry_mask if storm else None,
                        lambda t: (self.depth[t], self.steps[t], t))
        mode = STORM if storm else FAULT_FREE
        start = hops[0][0]
        states, steps = self._prefix(start)
        loop_start = len(states) - 1
        for a, b, need in hops:
            for desc, st in self._realize(self.tick_list[a], ("tick", self.tick_list[b]), mode, need):
                steps.append(self._step(desc, states[-1]))
                states.append(self._convert(st))
        states.pop()
        trace = Trace(tuple(states), tuple(steps), loop_start)
        return CheckResult(c.check, Verdict.VIOLATED, "explicit", trace, None)

    def _within_run(self, c: _CheckState, first: _Event | None) -> CheckResult | None:
        T = c.check.within
        assert T is not None
        # With the whole graph explored, every run is real and any one is reported (as for
        # lassos); with the bound hit, runs must end within it (language.md section 7).
        limit: float = math.inf if self.stats.complete or self.opts.ticks is None else self.opts.ticks
        if self.error is not None:
            limit = min(limit, self.error.ticks)
        good = c.good
        cost: list[dict[int, int]] = [{t: 0 for t in good}]
        for _k in range(T):
            prev = cost[-1]
            cur: dict[int, int] = {}
            for t in good:
                if not self.explored[t]:
                    continue
                best = None
                for t2, e in self.edges[t].items():
                    if e.ff_mask < 0 or t2 not in prev:
                        continue
                    v = e.ff_cost + prev[t2]
                    if best is None or v < best:
                        best = v
                if best is not None:
                    cur[t] = best
            cost.append(cur)
        ends = [
            (self.depth[t] + T, self.steps[t] + v, t)
            for t, v in cost[T].items()
            if self.depth[t] + T <= limit
        ]
        if not ends:
            return None
        end_ticks, end_steps, start = min(ends)
        if first is not None and first.key < (end_ticks, end_steps):
            return None
        states, steps = self._prefix(start)
        t = start
        for k in range(T, 0, -1):
            nxt = min(
                t2 for t2, e in self.edges[t].items()
                if e.ff_mask >= 0 and t2 in cost[k - 1] and e.ff_cost + cost[k - 1][t2] == cost[k][t]
            )
            for desc, st in self._realize(self.tick_list[t], ("tick", self.tick_list[nxt]), FAULT_FREE, None):
                steps.append(self._step(desc, states[-1]))
                states.append(self._convert(st))
            t = nxt
        trace = Trace(tuple(states), tuple(steps))
        return CheckResult(c.check, Verdict.VIOLATED, "explicit", trace, trace.ticks)

    # ---- traces ----------------------------------------------------------------------------

    def _convert(self, st: XState) -> sem.State:
        g, lim, fired, pops = st
        kinds = []
        for k, pop in enumerate(pops):
            table = self.sits[k]
            kinds.append(tuple(sorted((table[sid], c) for sid, c in pop)))
        nact = len(self.model.actions)
        return sem.State(g, lim, tuple(bool(fired >> i & 1) for i in range(nact)), tuple(kinds))

    def _step(self, desc: Desc, before: sem.State) -> sem.Step:
        event, k, sid = desc
        if event < 0:
            return sem.TICK
        ev = self.model.events[event]
        node = self.sits[k][sid] if k >= 0 else None
        if isinstance(ev, ir.Rule):
            return sem.Step(sem.StepKind.RULE, event, ev.name, node)
        if isinstance(ev, ir.Action):
            return sem.Step(sem.StepKind.ACTION, event, ev.name)
        return sem.Step(sem.StepKind.FAULT, event, ev.name, node)

    def _prefix(self, tid: int) -> tuple[list[sem.State], list[sem.Step]]:
        chain = []
        t = tid
        while t >= 0:
            chain.append(t)
            t = self.parent[t]
        chain.reverse()
        states = [self._convert(self.tick_list[chain[0]])]
        steps: list[sem.Step] = []
        for a, b in pairwise(chain):
            for desc, st in self._realize(self.tick_list[a], ("tick", self.tick_list[b]), ANY, None):
                steps.append(self._step(desc, states[-1]))
                states.append(self._convert(st))
        return states, steps

    def _trace_to(self, ev: _Event) -> Trace:
        states, steps = self._prefix(ev.tick_state)
        T = self.tick_list[ev.tick_state]
        if ev.state != T:
            for desc, st in self._realize(T, ("state", ev.state), ANY, None):
                steps.append(self._step(desc, states[-1]))
                states.append(self._convert(st))
        if ev.failing is not None:
            step = self._step(ev.failing, states[-1])
            message = ev.error
            try:
                sem.apply(self.model, states[-1], step)
            except ModelError as e:
                message = e.message  # the reference's wording, which replay compares
            except sem.NotEnabled:
                pass
            return Trace(tuple(states), tuple(steps), None, step, message)
        return Trace(tuple(states), tuple(steps), None, None, ev.error)

    def _realize(self, src: XState, goal: tuple[str, XState], mode: str, need: int | None) -> list[tuple[Desc, XState]]:
        """The fewest steps from `src` to `goal` inside one tick, under `mode`, firing `need`."""
        kind, target = goal
        start = (src, need is None)
        if kind == "state" and src == target and need is None:
            return []
        parent: dict[tuple[XState, bool], tuple[tuple[XState, bool], Desc] | None] = {start: None}
        queue = deque([start])
        banned = 0
        if mode in (FAULT_FREE, STORM):
            banned |= self.fault_mask
        if mode == STORM:
            banned |= self.progress_mask
        while queue:
            node = queue.popleft()
            S, ok = node
            out, _errs = self.successors(S)
            for desc, nxt in out:
                if desc[0] < 0:
                    if kind == "tick" and nxt == target and ok:
                        return self._unwind(parent, node) + [(desc, nxt)]
                    continue
                if banned >> desc[0] & 1:
                    continue
                nok = ok or desc[0] == need
                nn = (nxt, nok)
                if nn in parent:
                    continue
                parent[nn] = (node, desc)
                if kind == "state" and nxt == target and nok:
                    return self._unwind(parent, nn)
                queue.append(nn)
        raise AssertionError("an edge of the tick graph could not be rebuilt")  # pragma: no cover

    @staticmethod
    def _unwind(parent: dict[Any, Any], node: Any) -> list[tuple[Desc, XState]]:
        path = []
        while parent[node] is not None:
            prev, desc = parent[node]
            path.append((desc, node[0]))
            node = prev
        path.reverse()
        return path

