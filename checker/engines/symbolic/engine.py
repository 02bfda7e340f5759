"""BMC, lasso search and k-induction over the encoding of `encode.py`, on one solver.

The unrolling is tick by tick: tick k is a block of M micro-step frames (each a step or a
stutter, stutters only at the end of the block) and a tick frame. M bounds the steps of one
tick: every node acts at most once, every action fires at most once, limited faults fire at
most their limit in the whole run, and between two of these, runs of unlimited faults are
replaced by loop-free runs, whose length U the solver bounds first (see `_unlimited_bound`).
So M = R + (R + 1) * U covers every state reachable inside a tick (R: nodes that have a
rule, actions, and the sum of limits); if U cannot be bounded within a cap, the engine still
reports real traces but claims no proof and no completeness (HOLDS_BOUNDED / UNKNOWN).

Queries are asked under assumption literals on the one incremental solver, tick by tick, so
the first answer found is the shortest in ticks; ties inside a tick between a check's own
event and a model error are settled by minimising the number of steps (binary search on a
step counter). Completeness comes from two proofs: the reachable tick-state space is
exhausted at depth D when no loop-free path of D+1 ticks exists (tick states compared up to
node permutation), and k-induction with simple-path constraints (Sheeran, Singh, Stalmarck,
FMCAD 2000) proves an invariant (together with freedom from model errors) for every depth.
Lassos (Biere et al., TACAS 1999, loop-back to an equal tick state) are searched up to B
ticks; once the space is exhausted the search goes on to a length that covers every fair
loop (see `_lasso_cover`), which lets `no_storm` and `recovers` hold.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import z3

from checker.engines.base import CheckOptions, CheckResult, RunResult, Stats, Trace, Verdict
from checker.engines.symbolic.encode import Encoder, Frame, Sel
from checker.errors import ModelError
from checker.model import ir
from checker.model.evaluate import EvalError
from checker.model.semantics import (
    TICK,
    NotEnabled,
    State,
    Step,
    StepKind,
    apply,
    candidate_steps,
    canonical,
    check_value,
)

U_CAP = 6


def lasso_search_cap(bound: int | None) -> float:
    """How far past the tick bound lassos and `within` runs are searched once the space is
    exhausted: 4 B ticks (at least 50), since every such run is real; none without a bound
    (the lasso cover and D + T are finite, and the time budget applies)."""
    return float("inf") if bound is None else max(4 * bound, 50)


def _solver() -> z3.Solver:
    s = z3.Solver()
    # the older arithmetic solver proves the micro-step interleavings unsat 2-3x faster here
    s.set("smt.arith.solver", 2)
    return s
CK = ir.CheckKind
LASSO = (CK.NO_STORM, CK.RECOVERS)


MAX_NODES = 64  # nodes over all kinds: the per-node encoding grows with each
MAX_MICRO = 512  # micro-steps unrolled per tick (nodes with rules + actions + fault limits)


class _TooLarge(Exception):
    """The spec needs more unrolling per tick than the engine will build; the reason says why."""


class _Timeout(Exception):
    pass


@dataclass
class _Pending:
    check: ir.Check
    induction: _Induction | None = None
    lasso: CheckResult | None = None  # a lasso found; a model error may still replace it
    restricted_len: int | None = None  # restricted loop-free paths are shorter than this
    done: bool = False


@dataclass(frozen=True, slots=True)
class _Error:
    """A model error found: fewest steps to it (the failing step included), a model, its block,
    and whether the failing step is the tick step at the end of the block."""

    steps: int
    model: z3.ModelRef
    block: int
    tick: bool = False


class _Run:
    def __init__(self, model: ir.Model, checks: list[ir.Check], opts: CheckOptions) -> None:
        self.m = model
        self.opts = opts
        self.B = opts.ticks
        self.start = time.monotonic()
        self.deadline = None if opts.timeout is None else self.start + opts.timeout
        self.enc = Encoder(model)
        self.results: dict[str, CheckResult] = {}
        self.pending = {c.name: _Pending(c) for c in checks}
        self.order = [c.name for c in checks]
        self.s = _solver()
        self.T: list[Frame] = []
        self.blocks: list[list[Frame]] = []
        self.sels: list[list[Sel]] = []
        self.keys: list[list[z3.ExprRef]] = []
        self.neq: dict[tuple[int, int], z3.BoolRef] = {}
        self.named: dict[tuple[object, ...], z3.BoolRef] = {}
        self.lits = 0
        self.exhausted: int | None = None
        self.complete_ok = True  # False when M could not be bounded soundly
        self.error_found = False
        self.tick_error: _Error | None = None  # a failing tick step ending the last block
        self.beyond_error = False  # the tick step after tick B fails (the bound is hit)
        self.stats = Stats(engine="symbolic")

    # ---- solver plumbing ------------------------------------------------------------------

    def _remaining_ms(self) -> int | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Timeout()
        return max(1, int(left * 1000))

    def ask(self, f: z3.BoolRef, solver: z3.Solver | None = None) -> z3.ModelRef | None:
        """Is f satisfiable with what the solver holds? Return a model or None."""
        s = solver or self.s
        ms = self._remaining_ms()
        if ms is not None:
            s.set("timeout", ms)
        self.lits += 1
        lit = z3.Bool(f"q!{self.lits}")
        s.add(z3.Implies(lit, f))
        self._progress()
        t0 = time.monotonic()
        r = s.check(lit)
        self.stats.solver_seconds += time.monotonic() - t0
        if r == z3.sat:
            return s.model()
        if r == z3.unknown:
            raise _Timeout()
        return None

    def _progress(self) -> None:
        if self.opts.progress is None:
            return
        self.stats.max_depth = max(0, len(self.T) - 1)
        self.stats.tick_states = len(self.T)
        self.stats.states = len(self.T) + sum(len(b) - 1 for b in self.blocks)
        self.stats.seconds = time.monotonic() - self.start
        self.opts.progress(self.stats)

    def doing(self, what: str) -> None:
        """Say what the solver is working on (for progress lines)."""
        self.stats.activity = what

    def name(self, key: tuple[object, ...], f: z3.BoolRef) -> z3.BoolRef:
        """A named boolean equal to f (keeps repeated lasso formulas small)."""
        hit = self.named.get(key)
        if hit is None:
            hit = z3.Bool("def!" + ".".join(map(str, key)))
            self.s.add(hit == f)
            self.named[key] = hit
        return hit

    # ---- unrolling ------------------------------------------------------------------------

    def micro_bound(self) -> int:
        m = self.m
        r = sum(kind.count for i, kind in enumerate(m.kinds) if any(ru.kind == i for ru in m.rules))
        r += len(m.actions)
        r += sum(f.limit or 0 for f in m.faults if f.slot is not None)
        u = _unlimited_bound(self.enc, self)
        if u is None:
            self.complete_ok = False
            u = U_CAP
        self.U = u
        micro = r + (r + 1) * u
        if micro > MAX_MICRO:
            raise _TooLarge(
                f"one tick may take up to {micro:,} steps (nodes with rules, actions, fault limits); "
                f"the symbolic engine unrolls at most {MAX_MICRO} per tick (the explicit engine has no such limit)"
            )
        return micro

    def add_block(self, k: int) -> None:
        X = self.T[k]
        frames: list[Frame] = [X]
        sels: list[Sel] = []
        for j in range(1, self.M + 1):
            self._remaining_ms()  # building a large block takes time too: honour --timeout
            Y, dom = self.enc.frame(f"{k}.{j}")
            sel = self.enc.sel(f"{k}.{j}")
            self.s.add(*dom)
            self.s.add(*self.enc.micro(frames[-1], Y, sel))
            if sels:
                self.s.add(z3.Implies(sels[-1].is_(self.enc.stutter), sel.is_(self.enc.stutter)))
            frames.append(Y)
            sels.append(sel)
        self.blocks.append(frames)
        self.sels.append(sels)

    def add_tick_state(self, tag: str) -> Frame:
        Y, dom = self.enc.frame(tag)
        self.s.add(*dom)
        key, cs = self.enc.canon(Y, tag)
        self.s.add(*cs)
        j = len(self.T)
        self.T.append(Y)
        self.keys.append(key)
        for i in range(j):
            d = z3.Bool(f"neq!{i}.{j}")
            self.s.add(d == z3.Not(z3.And(*[a == b for a, b in zip(self.keys[i], key)])))
            self.neq[(i, j)] = d
        return Y

    def add_tick(self, k: int) -> None:
        Y = self.add_tick_state(f"{k + 1}.0")
        self.s.add(*self.enc.tick(self.blocks[k][-1], Y))

    # ---- block facts ----------------------------------------------------------------------

    def fired(self, k: int, pred: Callable[[int], bool], key: str) -> z3.BoolRef:
        cs = [c for c in range(len(self.enc.cands)) if pred(c)]
        f = z3.Or(*[sel.is_(c) for sel in self.sels[k] for c in cs]) if cs else z3.BoolVal(False)
        return self.name(("fired", key, k), f)

    def faulted(self, k: int) -> z3.BoolRef:
        return self.fired(k, lambda c: self.enc.cands[c].kind is StepKind.FAULT, "fault")

    def tagged(self, k: int, tag: ir.Tag) -> z3.BoolRef:
        def p(c: int) -> bool:
            ev = self.enc.cands[c].event
            return isinstance(ev, ir.Rule) and ev.tag is tag
        return self.fired(k, p, tag.value)

    def event_fired(self, k: int, ev: ir.Rule | ir.Action) -> z3.BoolRef:
        return self.fired(k, lambda c: self.enc.cands[c].event is ev, f"ev{ev.event}")

    def steps_before(self, k: int) -> z3.ArithRef:
        terms: list[z3.ArithRef] = [z3.IntVal(k)]
        for i in range(k):
            terms += [z3.If(sel.is_(self.enc.stutter), 0, 1) for sel in self.sels[i]]
        return z3.Sum(*terms)

    def tick_cond(self, c: ir.Check, i: int) -> z3.BoolRef:
        """The loop or run condition at tick state i (E false where E applies, A true, no error)."""
        X = self.T[i]
        parts = []
        if c.assuming is not None:
            v, e = self.enc.check_term(c.assuming, X)
            parts += [v, z3.Not(e)]
        if c.kind is not CK.NO_STORM and c.expr is not None:
            v, e = self.enc.check_term(c.expr, X)
            parts += [z3.Not(v), z3.Not(e)]
        return self.name(("cond", c.name, i), z3.And(*parts) if parts else z3.BoolVal(True))

    def ea_error(self, c: ir.Check, i: int) -> z3.BoolRef:
        X = self.T[i]
        errs = []
        if c.assuming is not None:
            errs.append(self.enc.check_term(c.assuming, X)[1])
        if c.kind is not CK.NO_STORM and c.expr is not None:
            errs.append(self.enc.check_term(c.expr, X)[1])
        return z3.Or(*errs) if errs else z3.BoolVal(False)

    # ---- traces ---------------------------------------------------------------------------

    def state_of(self, mdl: z3.ModelRef, X: Frame) -> State:
        m, enc = self.m, self.enc
        glob = tuple(enc.value(mdl, x, v.type) for v, x in zip(m.globals, X.g))
        lim = tuple(int(enc.value(mdl, x, ir.Type.INT)) for x in X.lim)
        fired = tuple(bool(enc.value(mdl, x, ir.Type.BOOL)) for x in X.fired)
        kinds = []
        for k, kind in enumerate(m.kinds):
            c: Counter[tuple[int, tuple[ir.Value, ...], bool]] = Counter()
            for n in range(kind.count):
                s = int(enc.value(mdl, X.st[k][n], ir.Type.INT))
                loc = tuple(enc.value(mdl, x, v.type) for v, x in zip(kind.locals, X.loc[k][n]))
                a = bool(enc.value(mdl, X.acted[k][n], ir.Type.BOOL))
                c[(s, loc, a)] += 1
            kinds.append(c)
        return State(glob, lim, fired, canonical(kinds))

    def path(self, mdl: z3.ModelRef, last_block: int, with_block: bool) -> tuple[list[State], list[Step], list[int]]:
        """States and steps through tick state `last_block` (and its block if with_block).

        Also return the indices of the tick states in the state list.
        """
        states = [self.state_of(mdl, self.T[0])]
        steps: list[Step] = []
        ticks = [0]
        for k in range(last_block + 1):
            if k == last_block and not with_block:
                break
            frames = self.blocks[k]
            for j, sel in enumerate(self.sels[k]):
                c = sel.value(mdl)
                if c == self.enc.stutter:
                    break
                cand = self.enc.cands[c]
                node = None
                if cand.node is not None:
                    kk, n = cand.node
                    X = frames[j]
                    loc = tuple(self.enc.value(mdl, x, v.type)
                                for v, x in zip(self.m.kinds[kk].locals, X.loc[kk][n]))
                    node = (int(self.enc.value(mdl, X.st[kk][n], ir.Type.INT)), loc,
                            bool(self.enc.value(mdl, X.acted[kk][n], ir.Type.BOOL)))
                steps.append(Step(cand.kind, cand.event.event, cand.event.name, node))
                states.append(self.state_of(mdl, frames[j + 1]))
            if k < last_block:
                steps.append(TICK)
                states.append(self.state_of(mdl, self.T[k + 1]))
                ticks.append(len(states) - 1)
        return states, steps, ticks

    def result(self, c: ir.Check, verdict: Verdict, trace: Trace | None = None, *, reason: str | None = None,
               model_error: bool = False, ticks: int | None = None, bound: int | None = None,
               bound_hit: bool = False) -> None:
        if trace is not None and ticks is None and c.kind not in LASSO:
            ticks = trace.ticks
        self.results[c.name] = CheckResult(c, verdict, "symbolic", trace, ticks, bound, reason, model_error,
                                           bound_hit=bound_hit)
        self.pending[c.name].done = True

    def cut_at(self, states: list[State], steps: list[Step], pred: Callable[[State], object]) -> tuple[int, object]:
        for i, st in enumerate(states):
            r = pred(st)
            if r:
                return i, r
        raise AssertionError("the solver's path does not show the event")  # pragma: no cover

    def error_trace(self, mdl: z3.ModelRef, k: int, tick: bool) -> Trace:
        # the solver's path may also pass states where a step of the other sort fails (a tick
        # step that would fail before the rule error it was asked for): look for its own sort
        states, steps, _ = self.path(mdl, k, True)
        i, hit = self.cut_at(states, steps, lambda s: _failing(self.m, s, tick))
        step, msg = cast(tuple[Step, str], hit)
        return Trace(tuple(states[: i + 1]), tuple(steps[:i]), None, step, msg)

    def state_trace(self, mdl: z3.ModelRef, k: int, pred: Callable[[State], object]) -> tuple[Trace, object]:
        states, steps, _ = self.path(mdl, k, True)
        i, r = self.cut_at(states, steps, pred)
        return Trace(tuple(states[: i + 1]), tuple(steps[:i])), r

    # ---- the main loop --------------------------------------------------------------------

    def go(self) -> list[CheckResult]:
        try:
            self._go()
        except _TooLarge as e:
            for p in self.pending.values():
                if not p.done:
                    self.result(p.check, Verdict.UNKNOWN, reason=str(e))
        except _Timeout:
            secs = self.opts.timeout
            for p in self.pending.values():
                if not p.done:
                    if p.lasso is not None:
                        self.results[p.check.name] = p.lasso
                        continue
                    self.result(p.check, Verdict.UNKNOWN,
                                reason=f"solver timeout after {secs} s (BMC reached {max(0, len(self.T) - 2)} ticks)")
        self.stats.seconds = time.monotonic() - self.start
        self.stats.max_depth = max(0, len(self.T) - 1)
        self.stats.tick_states = len(self.T)
        self.stats.complete = self.exhausted is not None
        # The bound is hit only when a tick state of depth B + 1 exists (language.md section 7);
        # unrolling shows paths, not depths, so this engine claims it only for a failing tick
        # step after tick B, which it sees. Say instead what was established: how deep BMC
        # searched, and that longer loop-free paths exist.
        self.stats.bound_hit = self.beyond_error
        self._establish()
        return [self.results[n] for n in self.order]

    def _establish(self) -> None:
        if self.beyond_error:
            self.stats.established = (
                f"every run of at most {self.B} ticks searched; the tick step after tick {self.B} "
                f"raises a model error, beyond the bound")
        elif self.exhausted is None and self.B is not None and len(self.T) > self.B + 1:
            self.stats.established = (
                f"every run of at most {self.B} ticks searched; loop-free paths longer than {self.B} ticks "
                f"exist, so tick states beyond depth {self.B} were not excluded")

    def open(self, *kinds: ir.CheckKind) -> list[_Pending]:
        return [p for p in self.pending.values() if not p.done and p.check.kind in kinds]

    def _go(self) -> None:
        self.M = self.micro_bound()
        T0 = self.add_tick_state("0.0")
        self.s.add(self.enc.init(T0))
        for p in self.open(CK.INVARIANT, CK.REACHABLE):
            p.induction = _Induction(self, p.check) if self.complete_ok else None
        k = 0
        while True:
            if all(p.done for p in self.pending.values()):
                break
            if not self._continue(k):
                break
            self.add_block(k)
            if self.exhausted is None or k <= self.exhausted:
                self._tick_state_events(k)
                self._block_events(k)
            else:
                self._tick_state_events(k)
            if all(p.done or p.lasso is not None for p in self.pending.values()) and \
                    (self.error_found or self.exhausted is not None):
                break
            self.add_tick(k)
            self._lassos(k)
            if self.exhausted is None and self.complete_ok:
                self._exhaustion(k)
            if self.exhausted is None:
                self._induction(k)
            k += 1
        self._finish(k)

    def _continue(self, k: int) -> bool:
        if self.exhausted is None:
            return self.B is None or k <= self.B
        D = self.exhausted
        cap = lasso_search_cap(self.B)
        # after exhaustion every run is real: within runs up to D + T (past the bound too, as the
        # explicit engine does with a complete graph, up to the same cap as lassos), lassos up
        # to their cover
        for p in self.open(CK.WITHIN):
            if k <= D + (p.check.within or 0) and k <= cap:
                return True
        for p in self.open(*LASSO):
            if p.lasso is not None:
                continue
            if p.restricted_len is None or k + 1 <= _lasso_cover(self, p):
                if k <= cap:
                    return True
        return False

    def _tick_state_events(self, k: int) -> None:
        for p in self.open(CK.WITHIN, *LASSO):
            c = p.check
            if p.lasso is not None:
                continue
            self.doing(f"check {c.name}")
            mdl = self.ask(self.ea_error(c, k))
            if mdl is not None:
                states, steps, _ = self.path(mdl, k, False)
                msg = _ea_message(self.m, c, states[-1])
                self.result(c, Verdict.VIOLATED, Trace(tuple(states), tuple(steps), None, None, msg), ticks=k)
                continue
            if c.kind is CK.WITHIN and c.within is not None and k >= c.within:
                lo = k - c.within
                f = z3.And(*[self.tick_cond(c, i) for i in range(lo, k + 1)],
                           *[z3.Not(self.faulted(i)) for i in range(lo, k)])
                mdl = self.ask(f)
                if mdl is not None:
                    states, steps, _ = self.path(mdl, k, False)
                    self.result(c, Verdict.VIOLATED, Trace(tuple(states), tuple(steps)), ticks=k)

    def _block_events(self, k: int) -> None:
        """Invariant and reachable events of block k, against the first model error of tick k.

        A model error of tick k is a failing step of block k or a failing tick step at the end
        of block k - 1 (language.md section 8: the failing tick step counts as a tick); the
        latter is found before tick k is unrolled, which excludes it, and waits in
        `tick_error`. Errors compare by steps, the failing step included; on a tie the check's
        own event comes first.
        """
        frames = self.blocks[k]
        err: _Error | None = None
        if not self.error_found:
            self.doing("model errors")
            step_errs = [self.enc.step_error(X) for X in frames]
            if self.ask(z3.Or(*step_errs)) is not None:
                n, mdl = self.min_steps(k, step_errs)
                err = _Error(n + 1, mdl, k)
            pending, self.tick_error = self.tick_error, None
            if pending is not None and (err is None or pending.steps <= err.steps):
                err = pending
        for p in self.open(CK.INVARIANT, CK.REACHABLE):
            c = p.check
            self.doing(f"check {c.name}")
            assert c.expr is not None
            terms = [self.enc.check_term(c.expr, X) for X in frames]
            if c.kind is CK.INVARIANT:
                evs = [z3.Or(z3.Not(v), e) for v, e in terms]
            else:
                evs = [z3.Or(v, e) for v, e in terms]
            mdl = self.ask(z3.Or(*evs))
            if mdl is None:
                continue
            if err is not None:
                own, own_mdl = self.min_steps(k, evs)
                if err.steps < own:
                    self._by_error(c, err)
                    continue
                mdl = own_mdl
            self._own_event(c, mdl, k)
        if err is not None:
            self.error_found = True
            for p in self.pending.values():
                if not p.done:
                    self._by_error(p.check, err)
        elif not self.error_found:
            # a failing tick step at the end of block k has length k + 1: within the bound only
            # when k + 1 <= B; beyond it, it still makes the result bounded (`_exhaustion`)
            te = self.enc.tick_error(frames[-1])
            if self.ask(te) is not None:
                if self.B is not None and k + 1 > self.B:
                    # the tick step after tick B fails: it reaches past the bound (spec/semantics.md)
                    self.beyond_error = True
                else:
                    n, mdl = self.min_steps(k, [te], before=self.steps_before(k + 1))
                    self.tick_error = _Error(n, mdl, k, tick=True)

    def _own_event(self, c: ir.Check, mdl: z3.ModelRef, k: int) -> None:
        assert c.expr is not None
        expr = c.expr
        inv = c.kind is CK.INVARIANT

        def pred(st: State) -> object:
            try:
                v = check_value(self.m, expr, st)
            except EvalError as e:
                return ("error", e.message)
            return ("value", v) if bool(v) != inv else None

        trace, r = self.state_trace(mdl, k, pred)
        what, val = cast(tuple[str, object], r)
        if what == "error":
            trace = Trace(trace.states, trace.steps, None, None, str(val))
            self.result(c, Verdict.VIOLATED, trace)
        else:
            self.result(c, Verdict.VIOLATED if inv else Verdict.HOLDS, trace)

    def _by_error(self, c: ir.Check, err: _Error) -> None:
        trace = self.error_trace(err.model, err.block, err.tick)
        self.result(c, Verdict.VIOLATED, trace, model_error=True, ticks=trace.ticks)

    def min_steps(self, k: int, evs: list[z3.BoolRef], before: z3.ArithRef | None = None) -> tuple[int, z3.ModelRef]:
        """The least number of steps that reaches an event of block k, and a model for it.

        `evs[j]` happens at frame j of the block, after `before` steps (default: the steps
        that reach tick state k).
        """
        counter = z3.Int(f"steps!{self.lits}")
        self.s.add(counter == (self.steps_before(k) if before is None else before))
        lo, hi = k, (k + 1) * (self.M + 1) + self.M
        best = None
        while lo <= hi:
            mid = (lo + hi) // 2
            mdl = self.ask(z3.Or(*[z3.And(e, counter + j <= mid) for j, e in enumerate(evs)]))
            if mdl is None:
                lo = mid + 1
            else:
                best = (mid, mdl)
                hi = mid - 1
        assert best is not None
        return best

    def _lassos(self, k: int) -> None:
        """Loops of ticks l..k closing with T[k+1] == T[l]."""
        for p in self.open(*LASSO):
            if p.lasso is not None:
                continue
            c = p.check
            self.doing(f"check {c.name} (lassos)")
            storm = c.kind is CK.NO_STORM
            per_l = []
            fair: list[ir.Rule | ir.Action] = [r for r in self.m.rules if r.fair] + [a for a in self.m.actions if a.fair]
            for l in range(k + 1):
                cs = [z3.Not(self.neq[(l, k + 1)])]
                for i in range(l, k + 1):
                    cs += [self.tick_cond(c, i), z3.Not(self.faulted(i))]
                    if storm:
                        cs.append(z3.Not(self.tagged(i, ir.Tag.PROGRESS)))
                if storm:
                    cs.append(z3.Or(*[self.tagged(i, ir.Tag.RETRY) for i in range(l, k + 1)]))
                for e in fair:
                    cs.append(z3.Or(*[self.name(("fairok", e.event, i), z3.Or(
                        self.event_fired(i, e), z3.Not(self.enc.fair_enabled(self.T[i], e))))
                        for i in range(l, k + 1)]))
                per_l.append(z3.And(*cs))
            mdl = self.ask(z3.Or(*per_l))
            if mdl is None:
                if self.exhausted is not None and p.restricted_len is None:
                    self._restricted(p, k)
                continue
            # find which l closes the loop
            loop = next(l for l in range(k + 1) if z3.is_true(mdl.eval(per_l[l], model_completion=True)))
            states, steps, ticks = self.path(mdl, k, True)
            steps.append(TICK)
            trace = Trace(tuple(states), tuple(steps), ticks[loop])
            p.lasso = CheckResult(c, Verdict.VIOLATED, "symbolic", trace, None, None, None, False)
            self.results[c.name] = p.lasso

    def _restricted(self, p: _Pending, k: int) -> None:
        """After exhaustion at D: is there a loop-free path of loop-condition ticks from depth <= D
        that ends at tick k+1? If not, such paths are shorter than k+1 ticks."""
        c = p.check
        D = self.exhausted
        assert D is not None
        storm = c.kind is CK.NO_STORM
        per_l = []
        for l in range(min(D, k) + 1):
            cs = []
            for i in range(l, k + 1):
                cs += [self.tick_cond(c, i), z3.Not(self.faulted(i))]
                if storm:
                    cs.append(z3.Not(self.tagged(i, ir.Tag.PROGRESS)))
            cs += [self.neq[(i, j)] for i in range(l, k + 2) for j in range(i + 1, k + 2)]
            per_l.append(z3.And(*cs))
        if self.ask(z3.Or(*per_l)) is None:
            p.restricted_len = k + 1

    def _exhaustion(self, k: int) -> None:
        self.doing("exhaustion proof")
        n = k + 2
        f = z3.And(*[self.neq[(i, j)] for i in range(n) for j in range(i + 1, n)]) if n > 1 else z3.BoolVal(True)
        if self.ask(f) is not None:
            return
        if self.beyond_error:  # the space goes on past the bound, through the failing tick step
            return
        self.exhausted = k
        self.stats.complete = True
        if self.tick_error is not None:
            # every event of a later tick lies in a region already searched at fewer ticks:
            # the failing tick step is the first event left
            err, self.tick_error = self.tick_error, None
            self.error_found = True
            for p in self.pending.values():
                if not p.done:
                    self._by_error(p.check, err)
        reason = f"state space exhausted: every tick state has depth <= {k}"
        for p in self.open(CK.INVARIANT):
            self.result(p.check, Verdict.HOLDS, reason=reason)
        for p in self.open(CK.REACHABLE):
            self.result(p.check, Verdict.VIOLATED, reason=reason)

    def _induction(self, k: int) -> None:
        for p in self.open(CK.INVARIANT, CK.REACHABLE):
            if p.induction is None:
                continue
            self.doing(f"check {p.check.name} (k-induction)")
            try:
                K = p.induction.step(k)
            except _Timeout:
                p.induction = None
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    raise
                continue
            if K is not None:
                if p.check.kind is CK.INVARIANT:
                    self.result(p.check, Verdict.HOLDS, reason=f"proved by k-induction at k={K}")
                else:
                    self.result(p.check, Verdict.VIOLATED, reason=f"unreachable: proved by k-induction at k={K}")

    def _finish(self, k: int) -> None:
        self._establish()
        B = self.B
        D = self.exhausted
        for p in self.pending.values():
            if p.done:
                continue
            c = p.check
            if p.lasso is not None:
                self.results[c.name] = p.lasso
                p.done = True
                continue
            if c.kind is CK.WITHIN and D is not None and D + (c.within or 0) <= k - 1:
                self.result(c, Verdict.HOLDS, reason=f"state space exhausted at depth {D}")
            elif c.kind in LASSO and D is not None and p.restricted_len is not None and k >= _lasso_cover(self, p):
                self.result(c, Verdict.HOLDS, reason=f"state space exhausted at depth {D}; no fair loop")
            elif B is None:  # an unbounded search that ends undecided: say how far it got
                self.result(c, Verdict.UNKNOWN, reason=f"stopped after {max(0, k - 1)} ticks without a proof")
            elif c.kind is CK.REACHABLE:
                self.result(c, Verdict.UNKNOWN, reason=f"no witness within {B} ticks", bound=B)
            else:
                self.result(c, Verdict.HOLDS_BOUNDED, bound=B, reason=self.stats.established or None,
                            bound_hit=self.beyond_error)


def _lasso_cover(run: _Run, p: _Pending) -> int:
    """Every fair loop has a lasso of at most this many ticks.

    With the tick states all at depth <= D and loop-condition paths loop-free shorter than L,
    a fair loop through a strongly connected set can be walked visiting a retry edge and, for
    each fair event, an edge that fires it or a state that disables it: at most
    (fair events + 2) legs of at most L ticks, after a prefix of at most D ticks.
    """
    assert run.exhausted is not None and p.restricted_len is not None
    fair = sum(1 for r in run.m.rules if r.fair) + sum(1 for a in run.m.actions if a.fair)
    return run.exhausted + (fair + 2) * (p.restricted_len + 1)


class _Induction:
    """k-induction with simple paths for one check: P = E (or not E) and no model error."""

    def __init__(self, run: _Run, check: ir.Check) -> None:
        self.run = run
        self.c = check
        self.s = _solver()
        self.enc = run.enc
        self.S: list[Frame] = []
        self.keys: list[list[z3.ExprRef]] = []
        self._state("0")
        self.s.add(self.enc.clear(self.S[0]))

    def _state(self, tag: str) -> Frame:
        X, dom = self.enc.frame(f"ind.{self.c.name}.{tag}.0")
        self.s.add(*dom)
        key, cs = self.enc.canon(X, f"ind.{self.c.name}.{tag}")
        self.s.add(*cs)
        for old in self.keys:
            self.s.add(z3.Not(z3.And(*[a == b for a, b in zip(old, key)])))
        self.S.append(X)
        self.keys.append(key)
        return X

    def good(self, X: Frame) -> z3.BoolRef:
        assert self.c.expr is not None
        v, e = self.enc.check_term(self.c.expr, X)
        own = v if self.c.kind is CK.INVARIANT else z3.Not(v)
        return z3.And(own, z3.Not(e), z3.Not(self.enc.error(X)))

    def step(self, K: int) -> int | None:
        """Try to close the induction at K; return K if it closes."""
        while len(self.S) <= K:
            self._extend(len(self.S) - 1)
        frames = [self.S[K]]
        for j in range(1, self.run.M + 1):
            Y, dom = self.enc.frame(f"ind.{self.c.name}.{K}.{j}")
            sel = self.enc.sel(f"ind.{self.c.name}.{K}.{j}")
            self.s.add(*dom)
            self.s.add(*self.enc.micro(frames[-1], Y, sel))
            frames.append(Y)
        self.last = frames
        bad = z3.Or(*[z3.Not(self.good(X)) for X in frames])
        if self.run.ask(bad, self.s) is None:
            return K
        self.s.add(*[self.good(X) for X in frames])
        Y = self._state(str(K + 1))
        self.s.add(*self.enc.tick(frames[-1], Y))
        return None

    def _extend(self, K: int) -> None:  # pragma: no cover - steps are taken in order
        raise AssertionError(K)


def _unlimited_bound(enc: Encoder, run: _Run) -> int | None:
    """The longest loop-free run of unlimited faults from any state, or None above U_CAP."""
    unl = [c for c, cand in enumerate(enc.cands)
           if cand.kind is StepKind.FAULT and cand.event.slot is None]  # type: ignore[union-attr]
    if not unl:
        return 0
    s = _solver()
    X, dom = enc.frame("unl.0")
    s.add(*dom)
    frames = [X]
    for u in range(1, U_CAP + 2):
        Y, dom = enc.frame(f"unl.{u}")
        sel = enc.sel(f"unl.{u}")
        s.add(*dom)
        s.add(*enc.micro(frames[-1], Y, sel))
        s.add(z3.Or(*[sel.is_(c) for c in unl]))
        for F in frames:
            s.add(z3.Not(z3.And(*_eqs(F, Y))))
        frames.append(Y)
        if run.ask(z3.BoolVal(True), s) is None:
            return u - 1
    return None


def _eqs(a: Frame, b: Frame) -> list[z3.BoolRef]:
    out = [x == y for x, y in zip(a.g, b.g)] + [x == y for x, y in zip(a.lim, b.lim)]
    for ks, kl, ks2, kl2 in zip(a.st, a.loc, b.st, b.loc):
        out += [x == y for x, y in zip(ks, ks2)]
        out += [x == y for l1, l2 in zip(kl, kl2) for x, y in zip(l1, l2)]
    return out or [z3.BoolVal(True)]


def _failing(model: ir.Model, state: State, tick: bool) -> tuple[Step, str] | None:
    """The first step that raises a model error: a rule, action or fault step (in declaration
    order), or with `tick` the tick step."""
    steps = [st for st in candidate_steps(model, state) if (st.kind is StepKind.TICK) == tick]
    for st in steps:
        try:
            apply(model, state, st)
        except ModelError as e:
            return st, e.message
        except NotEnabled:
            continue
    return None


def _ea_message(model: ir.Model, c: ir.Check, st: State) -> str:
    for e in (c.assuming, c.expr if c.kind is not CK.NO_STORM else None):
        if e is None:
            continue
        try:
            check_value(model, e, st)
        except EvalError as err:
            return err.message
    raise AssertionError("no error in E or A")  # pragma: no cover


class SymbolicEngine:
    """Decide every check with Z3: BMC, lasso search, k-induction."""

    name = "symbolic"

    def run(self, model: ir.Model, opts: CheckOptions) -> RunResult:
        checks = [c for c in model.checks if not opts.only or c.name in opts.only]
        nodes = sum(k.count for k in model.kinds)
        if nodes > MAX_NODES:
            # every node is encoded on its own: refuse before building anything
            reason = (f"the symbolic engine encodes each node separately and takes at most {MAX_NODES} "
                      f"nodes; this spec has {nodes:,} (the explicit engine does not depend on the count)")
            results = [CheckResult(c, Verdict.UNKNOWN, "symbolic", reason=reason) for c in checks]
            return RunResult(model, "symbolic", results, Stats())
        run = _Run(model, checks, opts)
        results = run.go()
        return RunResult(model, "symbolic", results, run.stats)
