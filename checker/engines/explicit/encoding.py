"""The explicit engine's state codec: the one module that knows the state layout.

A state (`XState`) is one flat tuple of small values: the globals, the remaining fault
limits, the fired-actions bitmask, then per kind its population: the number m of distinct
situations followed by m (situation id, count) pairs, flattened, sorted by id. A situation
(state, locals, acted) is interned per kind: node identities never appear (counter
abstraction), and a state is one short tuple of small ints that nothing else keeps alive.
Compiled closures read the globals straight from the state tuple (they come first), and the
populations as per-kind tuples of (situation id, count) pairs (`populations`). Every other part of the
engine treats a state as an opaque hashable value and asks the `Codec` for its successors,
its tick step, its fair-enabled events, check values, and its reference-semantics form.

A step is described by a `Desc` (event, kind, situation id) with (-1, -1, -1) for the tick;
`Desc[0]` is the event number (negative for the tick), which is all the search reads.
`compile.py` builds the closures this module runs and serves no other module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from checker.engines.explicit import codegen
from checker.engines.explicit.compile import Fn, compile_block, compile_expr, compile_guard
from checker.errors import ModelError
from checker.model import access, ir
from checker.model import semantics as sem
from checker.model.evaluate import EvalError

XState = tuple[Any, ...]  # (*globals, *limits, fired mask, per kind: m, *m (situation, count) pairs)
Pop = tuple[tuple[int, int], ...]  # one kind's population: sorted (situation id, count) pairs
Desc = tuple[int, int, int]  # (event, kind, situation id); TICK_DESC is the tick
TICK_DESC: Desc = (-1, -1, -1)
Successors = tuple[list[tuple[Desc, XState]], list[tuple[Desc, str]]]
CheckFn = Callable[[XState], Any]


class _Step(NamedTuple):
    """One compiled event, as the successor loop runs it (rule, action or fault)."""

    event: int
    guard: Fn | None
    block: Callable[[Any, Any, Any], tuple[Any, Any]]
    guard_error: str  # prefix of a model error raised by the guard
    dst: int = -1  # node events: the state the node moves to
    slot: int | None = None  # limited faults: the limit consumed
    action_bit: int | None = None  # actions: the fired bit, which it sets and requires clear
    marks: bool = False  # rules: the node must not have acted, and is marked acted
    can_act: bool = False  # rules and actions: enabled (or failing) means no tick yet


@dataclass(frozen=True, slots=True)
class _Phase:
    """A group of compiled events, visited in the reference's order of step kinds."""

    node: bool
    by_state: tuple[tuple[tuple[_Step, ...], ...], ...] = ()  # node: per kind, per source state
    top: tuple[tuple[int, int, Any, bool, tuple[_Step, ...]], ...] = ()  # top-level: its one unit


class Codec:
    """The state layout of one model: initial state, successors, tick, conversion, checks."""

    def __init__(self, model: ir.Model) -> None:
        self.model = model
        nk = len(model.kinds)
        self._sits: list[list[tuple[int, tuple[Any, ...], bool]]] = [[] for _ in range(nk)]
        self._sit_ids: list[dict[tuple[int, tuple[Any, ...], bool], int]] = [{} for _ in range(nk)]
        sits = self._sits
        names = [e.name for e in model.events]
        rules: list[list[list[_Step]]] = [[[] for _ in k.states] for k in model.kinds]
        for r in model.rules:
            kind = model.kinds[r.kind]
            rules[r.kind][r.src].append(_Step(
                r.event, compile_guard(r.guard, sits),
                compile_block(r.updates, model, kind, f"rule '{r.name}'", sits),
                f"in the guard of rule '{names[r.event]}'", dst=r.dst, marks=True, can_act=True))
        actions = tuple(
            _Step(a.event, compile_guard(a.guard, sits),
                  compile_block(a.updates, model, None, f"action '{a.name}'", sits),
                  f"in the guard of action '{names[a.event]}'", action_bit=i, can_act=True)
            for i, a in enumerate(model.actions)
        )
        node_faults: list[list[list[_Step]]] = [[[] for _ in k.states] for k in model.kinds]
        top_faults: list[_Step] = []
        for f in model.faults:
            who = f"fault '{f.name}'"
            kind_ir = None if f.kind is None else model.kinds[f.kind]
            step = _Step(f.event, compile_guard(f.guard, sits), compile_block(f.updates, model, kind_ir, who, sits),
                         f"in the guard of fault '{names[f.event]}'", dst=f.dst if f.kind is not None else -1,
                         slot=f.slot)
            if f.kind is None:
                top_faults.append(step)
            else:
                node_faults[f.kind][f.src].append(step)

        def per_state(table: list[list[list[_Step]]]) -> tuple[tuple[tuple[_Step, ...], ...], ...]:
            return tuple(tuple(tuple(s) for s in by_src) for by_src in table)

        # the reference's order: rules, actions, node faults, top-level faults
        self._phases = (
            _Phase(True, by_state=per_state(rules)),
            _Phase(False, top=((-1, -1, None, False, actions),)),
            _Phase(True, by_state=per_state(node_faults)),
            _Phase(False, top=((-1, -1, None, False, tuple(top_faults)),)),
        )
        g_assigned = {a.index for a in model.tick}
        self._tick_global = compile_block(
            model.tick, model, None, "the top-level 'on tick'", sits,
            timers_global=[i for i, v in enumerate(model.globals) if v.is_timer and i not in g_assigned],
        )
        self._tick_kinds = []
        for kind in model.kinds:
            assigned = {a.index for a in kind.tick}
            self._tick_kinds.append(
                compile_block(
                    kind.tick, model, kind, f"'on tick' of '{kind.name}'", sits,
                    timers_local=[i for i, v in enumerate(kind.locals) if v.is_timer and i not in assigned],
                )
            )
        # a kind's `on tick` that reads only the node's own locals maps each situation to one
        # situation: memoised per situation id (None: it reads globals or counts)
        self._tick_memo: list[dict[int, int] | None] = []
        for kind in model.kinds:
            reads = access.block_reads(kind.tick)
            self._tick_memo.append(None if reads.globals or reads.counts else {})
        self._tick_pops = bool(access.block_reads(model.tick).counts) or any(
            access.block_reads(kind.tick).counts for kind in model.kinds)
        self.fault_mask = sum(1 << f.event for f in model.faults)
        self.progress_mask = sum(1 << r.event for r in model.rules if r.tag is ir.Tag.PROGRESS)
        self.retry_mask = sum(1 << r.event for r in model.rules if r.tag is ir.Tag.RETRY)
        self._fair_rules = [(r.event, r.kind, r.src, compile_guard(r.guard, sits)) for r in model.rules if r.fair]
        self._fair_actions = [(a.event, compile_guard(a.guard, sits)) for a in model.actions if a.fair]
        self.fair_mask = sum(1 << e for e, *_ in self._fair_rules) + sum(1 << e for e, _ in self._fair_actions)
        ng, nl = len(model.globals), sum(1 for f in model.faults if f.limit is not None)
        self._ng, self._fired_at, self._pop_at = ng, ng + nl, ng + nl + 1
        self._nk = nk
        self._last: tuple[XState | None, list[Pop], list[int]] = (None, [], [])
        self._generated = codegen.generate(self, self._phases, {
            "layout": self.populations, "intern": self._intern, "SITS": self._sits, "moved": _moved,
            "tick": self.tick, "TICK": TICK_DESC})
        self._reductions: dict[tuple[ir.Expr, ...], tuple[int, tuple[int, ...]]] = {}
        blockers: list[ir.Rule | ir.Action] = [*model.rules, *model.actions]
        self.blocker_mask = sum(1 << e.event for e in blockers)  # they delay the tick

    # ---- layout ------------------------------------------------------------------------------

    def _intern(self, k: int, sit: tuple[int, tuple[Any, ...], bool]) -> int:
        ids = self._sit_ids[k]
        sid = ids.get(sit)
        if sid is None:
            sid = ids[sit] = len(self._sits[k])
            self._sits[k].append(sit)
        return sid

    def _layout(self, st: XState) -> tuple[list[Pop], list[int]]:
        """Per kind, the population of `st` and the index where it starts (its m)."""
        last = self._last
        if last[0] is st:
            return last[1], last[2]
        at = self._pop_at
        pops: list[Pop] = []
        starts: list[int] = []
        for _k in range(self._nk):
            m = st[at]
            seg = st[at + 1 : at + 1 + 2 * m]
            pops.append(tuple(zip(seg[::2], seg[1::2])))
            starts.append(at)
            at += 1 + 2 * m
        self._last = (st, pops, starts)
        return pops, starts

    def populations(self, st: XState) -> list[Pop]:
        """Per kind, the sorted (situation id, count) pairs of `st` (what closures read)."""
        return self._layout(st)[0]

    def _pack(self, g: Sequence[Any], lim: Sequence[int], fired: int, pops: Sequence[Pop]) -> XState:
        return (*g, *lim, fired, *(x for pop in pops for x in _flat(pop)))

    def initial(self) -> XState:
        """The initial state (language.md section 5)."""
        pops = []
        for k, kind in enumerate(self.model.kinds):
            loc = tuple(v.init for v in kind.locals)
            pops.append(tuple(sorted((self._intern(k, (s, loc, False)), n) for s, n in enumerate(kind.init_counts) if n > 0)))
        limits = tuple(f.limit for f in self.model.faults if f.limit is not None)
        return self._pack([v.init for v in self.model.globals], limits, 0, pops)

    def to_state(self, st: XState) -> sem.State:
        """The reference-semantics form of `st`."""
        ng, fa = self._ng, self._fired_at
        g, lim, fired = st[:ng], st[ng:fa], st[fa]
        kinds = []
        for k, pop in enumerate(self.populations(st)):
            table = self._sits[k]
            kinds.append(tuple(sorted((table[sid], c) for sid, c in pop)))
        nact = len(self.model.actions)
        return sem.State(tuple(g), tuple(lim), tuple(bool(fired >> i & 1) for i in range(nact)), tuple(kinds))

    def from_state(self, state: sem.State) -> XState:
        """The encoding of a reference-semantics state: `to_state(from_state(s)) == s`."""
        pops = []
        for k, kind in enumerate(state.kinds):
            pops.append(tuple(sorted((self._intern(k, sit), n) for sit, n in kind)))
        fired = sum(1 << i for i, f in enumerate(state.fired) if f)
        return self._pack(state.globals, state.limits, fired, pops)

    def to_step(self, desc: Desc) -> sem.Step:
        """The reference-semantics step that `desc` describes."""
        event, k, sid = desc
        if event < 0:
            return sem.TICK
        ev = self.model.events[event]
        node = self._sits[k][sid] if k >= 0 else None
        if isinstance(ev, ir.Rule):
            return sem.Step(sem.StepKind.RULE, event, ev.name, node)
        if isinstance(ev, ir.Action):
            return sem.Step(sem.StepKind.ACTION, event, ev.name)
        return sem.Step(sem.StepKind.FAULT, event, ev.name, node)

    # ---- steps -------------------------------------------------------------------------------

    def successors(self, st: XState) -> Successors:
        """Every step from `st`: (desc, next state) pairs, and (desc, message) for model errors.

        Runs the function codegen.py generated for this model (`_successors` is the same
        loop over the compiled closures, kept as its readable twin and for tests). Not
        memoised: a memo of two depths' successors cost twice the memory for no
        measurable time (bench/README.md).
        """
        out: Successors = self._generated(st)
        return out

    def _successors(self, st: XState) -> Successors:
        ng_, fa, pa = self._ng, self._fired_at, self._pop_at
        fired = st[fa]
        pops, starts = self._layout(st)
        out: list[tuple[Desc, XState]] = []
        errs: list[tuple[Desc, str]] = []
        can_act = False
        sits = self._sits
        intern = self._intern
        for phase in self._phases:
            # the units of this phase: (kind, situation id, locals, acted, candidate events)
            units: Sequence[tuple[int, int, Any, bool, tuple[_Step, ...]]]
            if phase.node:
                units = []
                for k, pop in enumerate(pops):
                    table = sits[k]
                    by_state = phase.by_state[k]
                    for sid, _c in pop:
                        s, loc, acted = table[sid]
                        cands = by_state[s]
                        if cands:
                            units.append((k, sid, loc, acted, cands))
            else:
                units = phase.top
            for k, sid, loc, acted, cands in units:
                for event, guard, block, guard_error, dst, slot, bit, marks, acts in cands:
                    if acted and marks:
                        continue
                    if bit is not None and fired >> bit & 1:
                        continue
                    if slot is not None and st[ng_ + slot] <= 0:
                        continue
                    if guard is not None:
                        try:
                            if not guard(st, loc, pops):
                                continue
                        except EvalError as e:
                            can_act = can_act or acts
                            errs.append(((event, k, sid), f"{guard_error}: {e.message}"))
                            continue
                    can_act = can_act or acts
                    try:
                        ng, nl = block(st, loc, pops)
                    except ModelError as e:
                        errs.append(((event, k, sid), e.message))
                        continue
                    # ng is `st` with the block's globals: set the limit, fired mask, population
                    if slot is not None:
                        ng = ng[: ng_ + slot] + (ng[ng_ + slot] - 1,) + ng[ng_ + slot + 1 :]
                    if k < 0:
                        if bit is not None:
                            ng = ng[:fa] + (fired | 1 << bit,) + ng[pa:]
                        out.append(((event, -1, -1), ng))
                    else:
                        nsid = intern(k, (dst, nl, acted or marks))
                        lo = starts[k]
                        hi = lo + 1 + 2 * st[lo]
                        out.append(((event, k, sid), ng[:lo] + _flat(_move(pops[k], sid, nsid)) + st[hi:]))
        if not can_act:
            try:
                out.append((TICK_DESC, self.tick(st)))
            except ModelError as e:
                errs.append((TICK_DESC, e.message))
        return out, errs

    def tick(self, st: XState) -> XState:
        """The tick step from `st` (raises ModelError from an `on tick` block)."""
        pops = self.populations(st) if self._tick_pops else None
        ng, _ = self._tick_global(st, None, pops)
        fa = self._fired_at
        out = list(ng[:fa])
        out.append(0)
        at = self._pop_at
        for k in range(self._nk):
            block = self._tick_kinds[k]
            table = self._sits[k]
            memo = self._tick_memo[k]
            acc: dict[int, int] = {}
            end = at + 1 + 2 * st[at]
            for i in range(at + 1, end, 2):
                sid, c = st[i], st[i + 1]
                nsid = None if memo is None else memo.get(sid)
                if nsid is None:
                    s, loc, _acted = table[sid]
                    _, nl = block(st, loc, pops)
                    nsid = self._intern(k, (s, nl, False))
                    if memo is not None:
                        memo[sid] = nsid
                acc[nsid] = acc.get(nsid, 0) + c
            out.append(len(acc))
            for nsid in sorted(acc):
                out.append(nsid)
                out.append(acc[nsid])
            at = end
        return tuple(out)

    def fair_enabled(self, st: XState) -> int:
        """The bitmask of `fair` events enabled in `st` (a guard that fails counts as disabled)."""
        g = st
        pops = self.populations(st)
        mask = 0
        for event, k, src, guard in self._fair_rules:
            table = self._sits[k]
            for sid, _c in pops[k]:
                s, loc, _a = table[sid]
                if s == src:
                    try:
                        if guard is None or guard(g, loc, pops):
                            mask |= 1 << event
                            break
                    except EvalError:
                        continue
        for event, guard in self._fair_actions:
            try:
                if guard is None or guard(g, None, pops):
                    mask |= 1 << event
            except EvalError:
                continue
        return mask

    def reduction(self, watched: Sequence[ir.Expr]) -> tuple[int, tuple[int, ...]]:
        """What a reduced region search may follow alone, when `watched` is evaluated in every
        state (spec/semantics.md, "Reduction inside a tick"): the mask of events whose one
        step suffices (access.local_rules), and the masks of closed groups of events whose
        enabled steps suffice when one of them is a rule or action (access.closed_groups)."""
        key = tuple(watched)
        hit = self._reductions.get(key)
        if hit is None:
            local = sum(1 << e for e in access.local_rules(self.model, watched))
            groups = tuple(sum(1 << e for e in g) for g in access.closed_groups(self.model, watched))
            hit = self._reductions[key] = (local, groups)
        return hit

    # ---- checks ------------------------------------------------------------------------------

    def compile_check(self, expr: ir.Expr) -> CheckFn:
        """A function giving the value of a check's expression in a state (raises EvalError)."""
        f = compile_expr(expr, self._sits)
        populations = self.populations

        def value(st: XState) -> Any:
            return f(st, None, populations(st))
        return value


def _moved(st: XState, lo: int, a: int, b: int) -> tuple[int, ...]:
    """The population starting at st[lo] with one node moved from situation a to b, flat."""
    seg = list(st[lo + 1 : lo + 1 + 2 * st[lo]])
    i = 0
    while seg[i] != a:
        i += 2
    if seg[i + 1] == 1:
        del seg[i : i + 2]
    else:
        seg[i + 1] -= 1
    j, n = 0, len(seg)
    while j < n and seg[j] < b:
        j += 2
    if j < n and seg[j] == b:
        seg[j + 1] += 1
    else:
        seg[j:j] = (b, 1)
    return (len(seg) // 2, *seg)


def _flat(pop: Pop) -> tuple[int, ...]:
    """A population as stored in a state: m, then the m pairs flattened."""
    out = [len(pop)]
    for sid, n in pop:
        out.append(sid)
        out.append(n)
    return tuple(out)


def _move(pop: Pop, a: int, b: int) -> Pop:
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


__all__ = ["TICK_DESC", "CheckFn", "Codec", "Desc", "Successors", "XState"]
