"""What keeps a storm alive: the retry-free counterfactual on a loop's tick states.

A storm loop (or a loop that never recovers) is diagnosed by asking what the same model does
from each tick state of the loop with every `retry` rule disabled and no fault
(`checker.model.counterfactual.without_retries`), under the check's `assuming`:

- *sustained by retries* (a metastable storm): from every tick state of the loop, every fair
  run of the retry-free model fires a progress rule (for `recovers`: reaches a tick state
  where E holds). Remove the retries and the system recovers: fix the retry policy.
- *futile*: from some tick state of the loop, no progress rule can ever fire in the
  retry-free model either (for `recovers`: E is never reached). The retries are a symptom of
  a shortage or a deadlock: no retry policy ends it.
- *mixed*: neither. Without retries progress is possible from every state of the loop, but a
  fair schedule can still avoid it from some.

A run of the retry-free model is considered while A holds (and, for `recovers`, while E is
false) at its tick states; a run that leaves A has left the storm's assumption and is not a
counterexample to recovery. A reachable model error counts as not recovering.

The analysis is shared by both engines: it needs only the loop's tick states, and explores
the retry-free model with the reference semantics (`checker.model.semantics`), so both
engines give the same diagnosis for the same loop. Its cost is bounded by a state budget.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from checker.engines.base import CheckOptions, Diagnosis, RunResult, StormCause, Trace, Verdict
from checker.errors import ModelError
from checker.model import ir
from checker.model import semantics as sem
from checker.model.counterfactual import without_retries
from checker.model.evaluate import EvalError, evaluate

_Want = Callable[[sem.Step, sem.State], bool]


class OutOfBudget(Exception):
    """The retry-free exploration needed more states or time than it was given."""


@dataclass(frozen=True)
class Budget:
    max_states: int = 200_000
    deadline: float | None = None  # time.monotonic() value after which to give up

    def check(self, states: int) -> None:
        if states > self.max_states:
            raise OutOfBudget(f"the retry-free exploration needs more than {self.max_states:,} states")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfBudget("the retry-free exploration ran out of time")


@dataclass
class _Edge:
    np_ok: bool = False  # some path through the tick fires no progress rule
    np_mask: int = 0  # union of events over those paths
    any_mask: int = 0  # union of events over every path


@dataclass
class _Vertex:
    state: sem.State
    good: bool  # A holds (and, for recovers, E is false): the run is still in the loop's condition
    reached_e: bool = False  # recovers: E holds here
    progress_here: bool = False  # a progress rule can fire in this tick
    error: str | None = None  # a model error is reachable in this tick
    fair: int = 0  # fair events enabled here
    edges: dict[int, _Edge] = field(default_factory=dict)


class RetryFreeGraph:
    """The tick graph of the retry-free model from given tick states, within the loop's condition."""

    def __init__(self, model: ir.Model, check: ir.Check, budget: Budget) -> None:
        self.model = model
        self.cf = without_retries(model)
        self.check = check
        self.budget = budget
        self.recovers = check.kind is not ir.CheckKind.NO_STORM
        self.progress = 0
        for r in model.rules:
            if r.tag is ir.Tag.PROGRESS:
                self.progress |= 1 << r.event
        self.fair_mask = 0
        for r in model.rules:
            if r.fair and r.tag is not ir.Tag.RETRY:
                self.fair_mask |= 1 << r.event
        for a in model.actions:
            if a.fair:
                self.fair_mask |= 1 << a.event
        self.vertices: list[_Vertex] = []
        self.index: dict[sem.State, int] = {}
        self.expanded: set[int] = set()
        self.states_seen = 0

    # ---- exploration -----------------------------------------------------------------

    def _holds(self, expr: ir.Expr | None, state: sem.State, default: bool) -> bool | None:
        if expr is None:
            return default
        try:
            return bool(sem.check_value(self.cf, expr, state))
        except EvalError:
            return None

    def vertex(self, state: sem.State) -> int:
        v = self.index.get(state)
        if v is not None:
            return v
        a = self._holds(self.check.assuming, state, True)
        e = self._holds(self.check.expr, state, False) if self.recovers else False
        good = a is True and e is False
        v = len(self.vertices)
        self.vertices.append(_Vertex(state, good, reached_e=bool(self.recovers and a is True and e is True)))
        self.index[state] = v
        return v

    def explore(self, roots: Sequence[sem.State]) -> list[int]:
        """Add the tick states reachable from `roots` (through good ones); return the roots' ids."""
        ids = [self.vertex(s) for s in roots]
        queue = deque(v for v in ids if self.vertices[v].good)
        while queue:
            v = queue.popleft()
            if v in self.expanded:
                continue
            self.expanded.add(v)
            for w in self._expand(v):
                if w not in self.expanded and self.vertices[w].good:
                    queue.append(w)
        return ids

    def _expand(self, v: int) -> list[int]:
        """Explore the tick of vertex v: every path of non-tick steps, then its tick steps."""
        vert = self.vertices[v]
        cf = self.cf
        vert.fair = _mask(sem.fair_enabled(cf, vert.state)) & self.fair_mask
        # every non-tick step sets an acted or fired mark (faults are off), so the paths of
        # one tick form layers by the number of marks set: a topological order for the masks
        layer: dict[sem.State, _Edge] = {vert.state: _Edge(True, 0, 0)}
        out: dict[int, _Edge] = {}
        while layer:
            self.states_seen += len(layer)
            self.budget.check(self.states_seen)
            nxt: dict[sem.State, _Edge] = {}
            for s, how in layer.items():
                blocked = False
                for step in sem.candidate_steps(cf, s)[:-1]:
                    try:
                        s2 = sem.apply(cf, s, step)
                    except sem.NotEnabled:
                        continue
                    except ModelError as e:
                        blocked = True
                        vert.error = vert.error or e.message
                        continue
                    blocked = True
                    bit = 1 << step.event
                    if bit & self.progress:
                        vert.progress_here = True
                    into = nxt.setdefault(s2, _Edge())
                    into.any_mask |= how.any_mask | bit
                    if how.np_ok and not bit & self.progress:
                        into.np_ok = True
                        into.np_mask |= how.np_mask | bit
                if blocked:
                    continue
                try:
                    t2 = sem.apply(cf, s, sem.TICK)
                except sem.NotEnabled:
                    continue
                except ModelError as e:
                    vert.error = vert.error or e.message
                    continue
                w = self.vertex(t2)
                edge = out.setdefault(w, _Edge())
                edge.any_mask |= how.any_mask
                if how.np_ok:
                    edge.np_ok = True
                    edge.np_mask |= how.np_mask
            layer = nxt
        vert.edges = out
        return sorted(out)

    # ---- analysis --------------------------------------------------------------------

    def _goal(self, v: int) -> bool:
        vert = self.vertices[v]
        return vert.reached_e if self.recovers else (vert.good and vert.progress_here)

    def capable(self) -> set[int]:
        """Vertices from which some retry-free run reaches the goal (progress, or E)."""
        edges = [(u, w) for u, vert in enumerate(self.vertices) if vert.good for w in vert.edges]
        return _backward({v for v in range(len(self.vertices)) if self._goal(v)}, edges)

    def _bad_edges(self, u: int) -> list[tuple[int, int]]:
        """Edges a run can take from u without reaching the goal: (target, events on them)."""
        vert = self.vertices[u]
        out = []
        for w, e in sorted(vert.edges.items()):
            if not self.vertices[w].good:
                continue
            if self.recovers:
                out.append((w, e.any_mask))
            elif e.np_ok:
                out.append((w, e.np_mask))
        return out

    def avoiders(self) -> set[int]:
        """Good vertices from which a fair run never reaches the goal (or a model error is reachable)."""
        # imported here: the explicit engine's deciders import this module
        from checker.engines.explicit.graph import fair_sccs

        edges = [(u, w, m) for u, vert in enumerate(self.vertices) if vert.good for w, m in self._bad_edges(u)]
        fair = [vert.fair for vert in self.vertices]
        bad = {v for scc in fair_sccs(edges, None, self.fair_mask, fair) for v in scc.vertices}
        bad |= {v for v, vert in enumerate(self.vertices) if vert.good and vert.error is not None}
        return _backward(bad, [(u, w) for u, w, _m in edges])

    def longest_bad_run(self, v: int) -> int | None:
        """The most ticks a retry-free run from v can take before the goal; None if unbounded."""
        memo: dict[int, int] = {}
        on_path: set[int] = set()
        succ_of: dict[int, list[tuple[int, int]]] = {}
        # iterative DFS computing the longest path in the goal-avoiding subgraph
        stack: list[tuple[int, int]] = [(v, 0)]
        while stack:
            u, i = stack.pop()
            succ = succ_of.get(u)
            if succ is None:
                succ = succ_of[u] = self._bad_edges(u)
            if i == 0:
                if u in memo:
                    continue
                on_path.add(u)
            if i < len(succ):
                stack.append((u, i + 1))
                w = succ[i][0]
                if w in on_path:
                    return None
                if w not in memo:
                    stack.append((w, 0))
                continue
            on_path.discard(u)
            memo[u] = max((memo[w] + 1 for w, _m in succ), default=0)
        return memo[v]

    # ---- witnesses ---------------------------------------------------------------------

    def witness(self, start: sem.State) -> Trace | None:
        """The shortest retry-free run from `start` to the first progress step (or to E)."""
        v0 = self.index[start]
        parent: dict[int, int | None] = {v0: None}
        queue = deque([v0])
        goal = None
        while queue:
            u = queue.popleft()
            if self._goal(u):
                goal = u
                break
            if not self.vertices[u].good:
                continue
            for w in sorted(self.vertices[u].edges):
                if w not in parent:
                    parent[w] = u
                    queue.append(w)
        if goal is None:
            return None
        chain = []
        at: int | None = goal
        while at is not None:
            chain.append(at)
            at = parent[at]
        chain.reverse()
        states = [self.vertices[chain[0]].state]
        steps: list[sem.Step] = []
        for a, b in pairwise(chain):
            target = self.vertices[b].state
            for step, s2 in self._region_path(self.vertices[a].state, _tick_into(target)):
                steps.append(step)
                states.append(s2)
        if not self.recovers:
            progress = self.progress
            for step, s2 in self._region_path(states[-1], lambda st, _s2: st.kind is sem.StepKind.RULE
                                              and bool(1 << st.event & progress)):
                steps.append(step)
                states.append(s2)
        return Trace(tuple(states), tuple(steps))

    def _region_path(self, src: sem.State, want: _Want) -> list[tuple[sem.Step, sem.State]]:
        """The fewest steps inside one tick from `src` to a step that `want` accepts."""
        parent: dict[sem.State, tuple[sem.State, sem.Step] | None] = {src: None}
        queue = deque([src])
        while queue:
            s = queue.popleft()
            for step in sem.enabled(self.cf, s):
                try:
                    s2 = sem.apply(self.cf, s, step)
                except (sem.NotEnabled, ModelError):
                    continue
                if want(step, s2):
                    path = [(step, s2)]
                    cur = s
                    while parent[cur] is not None:
                        prev, st = parent[cur]  # type: ignore[misc]
                        path.append((st, cur))
                        cur = prev
                    path.reverse()
                    return path
                if step.kind is not sem.StepKind.TICK and s2 not in parent:
                    parent[s2] = (s, step)
                    queue.append(s2)
        raise AssertionError("a retry-free tick could not be rebuilt")  # pragma: no cover


def _backward(seeds: set[int], edges: Sequence[tuple[int, int]]) -> set[int]:
    """`seeds` and every vertex from which `edges` lead to one of them."""
    preds: dict[int, list[int]] = {}
    for u, w in edges:
        preds.setdefault(w, []).append(u)
    seen = set(seeds)
    stack = list(seen)
    while stack:
        w = stack.pop()
        for u in preds.get(w, ()):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def _tick_into(target: sem.State) -> _Want:
    """Accept the tick step that leads to `target`."""
    return lambda step, state: step.kind is sem.StepKind.TICK and state == target


def _mask(events: frozenset[int]) -> int:
    m = 0
    for e in events:
        m |= 1 << e
    return m


# ---- the diagnosis -------------------------------------------------------------------------


def _tick_states(trace: Trace) -> list[int]:
    """Indices of the loop's tick states in `trace.states`."""
    assert trace.loop_start is not None
    out = [trace.loop_start]
    for i in range(trace.loop_start, len(trace.states) - 1):
        if trace.steps[i].kind is sem.StepKind.TICK:
            out.append(i + 1)
    return out


def _value(v: ir.Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _steady(model: ir.Model, states: Sequence[sem.State], before: Sequence[sem.State]) -> list[str]:
    """Globals with one value at every tick state of the loop; a global a tick block assigns is
    judged instead at the end of each tick of the loop, before the tick block ran (`before`),
    so a per-tick counter shows what the tick did, not its reset value."""
    ticked = {a.index for a in model.tick}
    parts = []
    for g, var in enumerate(model.globals):
        if g in ticked:
            vals = {s.globals[g] for s in before}
            if len(vals) == 1:
                parts.append(f"{var.name} = {_value(next(iter(vals)))} (before tick reset)")
            continue
        vals = {s.globals[g] for s in states}
        if len(vals) == 1:
            parts.append(f"{var.name} = {_value(next(iter(vals)))}")
    return parts


def steady_globals(model: ir.Model, trace: Trace) -> list[str]:
    """`name = value` for each global steady around a lasso's loop (see `_steady`)."""
    assert trace.loop_start is not None
    idx = [trace.loop_start] + [i + 1 for i in range(trace.loop_start, len(trace.states) - 1)
                                if trace.steps[i].kind is sem.StepKind.TICK]
    return _steady(model, [trace.states[i] for i in idx], loop_pre_tick_states(trace))


def loop_pre_tick_states(trace: Trace) -> list[sem.State]:
    """The states just before each tick step of a lasso's loop (the closing tick included)."""
    assert trace.loop_start is not None
    return [trace.states[i] for i in range(trace.loop_start, len(trace.steps))
            if trace.steps[i].kind is sem.StepKind.TICK]


@dataclass(frozen=True)
class Intensity:
    start_tick: int
    period: int
    per_rule: tuple[tuple[str, int], ...]  # retry rule -> firings over one period
    nodes: int  # most retry firings in one tick (each node acts at most once a tick)
    kinds: tuple[str, ...]  # the kinds whose nodes retry

    def rate_text(self) -> str:
        return ", ".join(f"{name} {_rate(n, self.period)}" for name, n in self.per_rule)


def _rate(n: int, period: int) -> str:
    if period == 1:
        return f"x{n} per tick"
    return f"x{n} every {period} ticks"


def intensity(model: ir.Model, trace: Trace) -> Intensity:
    assert trace.loop_start is not None
    loop = trace.steps[trace.loop_start :]
    start_tick = sum(1 for s in trace.steps[: trace.loop_start] if s.kind is sem.StepKind.TICK)
    period = sum(1 for s in loop if s.kind is sem.StepKind.TICK)
    retry = {r.event: r for r in model.rules if r.tag is ir.Tag.RETRY}
    per_rule: Counter[str] = Counter()
    order: list[str] = []
    kinds: dict[str, None] = {}
    most = 0
    in_tick = 0
    for s in loop:
        if s.kind is sem.StepKind.TICK:
            most = max(most, in_tick)
            in_tick = 0
            continue
        r = retry.get(s.event)
        if s.kind is sem.StepKind.RULE and r is not None:
            in_tick += 1
            if r.name not in per_rule:
                order.append(r.name)
            per_rule[r.name] += 1
            kinds[model.kinds[r.kind].name] = None
    return Intensity(start_tick, period, tuple((n, per_rule[n]) for n in order), most, tuple(kinds))


def _blocked_words(g: RetryFreeGraph, v: int) -> list[str]:
    """Why no progress rule can fire (or E is never reached) in the retry-free runs from v."""
    model = g.model
    reach = _reachable_good(g, v)
    states = [g.vertices[u].state for u in reach]
    if g.recovers:
        return [f"`{g.check.source.split(' assuming ')[0].split(' within ')[0]}` is never reached without the retries"]
    words = []
    if not any(r.tag is ir.Tag.PROGRESS for r in model.rules):
        words.append("the spec has no progress rule")
    for r in model.rules:
        if r.tag is not ir.Tag.PROGRESS:
            continue
        kind = model.kinds[r.kind]
        src = kind.states[r.src]
        if all(s.count(r.kind, r.src) == 0 for s in states):
            words.append(f"`{r.name}` needs a {kind.name} in `{src}`, and none is there")
            continue
        if r.guard is None:  # pragma: no cover - an unguarded progress rule fires at once
            continue
        false_terms = [c for c in _conjuncts(r.guard) if _never(g, r, c, states)]
        if not false_terms:
            words.append(f"`{r.name}` needs `{show_expr(model, kind, r.guard)}`, which never holds without the retries")
            continue
        for c in false_terms:
            text = f"`{r.name}` needs `{show_expr(model, kind, c)}`"
            fixed = _fixed_globals(model, c, states)
            if fixed:
                text += "; " + " and ".join(f"`{name}` is {val}" for name, val in fixed)
                text += " at every tick without the retries, and nothing changes it"
            words.append(text)
    for u in reach:
        if g.vertices[u].error is not None:
            words.append(f"without the retries a model error is reachable: {g.vertices[u].error}")
            break
    return words


def _reachable_good(g: RetryFreeGraph, v: int) -> list[int]:
    seen = {v}
    stack = [v]
    while stack:
        u = stack.pop()
        if not g.vertices[u].good:
            continue
        for w in g.vertices[u].edges:
            if w not in seen and g.vertices[w].good:
                seen.add(w)
                stack.append(w)
    return sorted(seen)


def _conjuncts(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "and":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _never(g: RetryFreeGraph, rule: ir.Rule, term: ir.Expr, states: Sequence[sem.State]) -> bool:
    """`term` is false for every node of the rule's source state in every state given."""
    for s in states:
        pops = s.populations()
        for (st, loc, _acted), _n in s.kinds[rule.kind]:
            if st != rule.src:
                continue
            try:
                if evaluate(term, s.globals, loc, pops):
                    return False
            except EvalError:
                continue
    return True


def _fixed_globals(model: ir.Model, e: ir.Expr, states: Sequence[sem.State]) -> list[tuple[str, str]]:
    out = []
    for i in sorted(_globals_in(e)):
        vals = {s.globals[i] for s in states}
        if len(vals) == 1:
            out.append((model.globals[i].name, _value(next(iter(vals)))))
    return out


def _globals_in(e: ir.Expr | None) -> set[int]:
    if e is None:
        return set()
    if isinstance(e, ir.GlobalRef):
        return {e.index}
    return set().union(*(_globals_in(x) for x in ir.children(e)))


_PREC = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "**": 8}


def show_expr(model: ir.Model, kind: ir.Kind | None, e: ir.Expr, outer: int = 0) -> str:
    """An expression in the spec's own syntax (constants appear folded)."""
    if isinstance(e, ir.Lit):
        return _value(e.value)
    if isinstance(e, ir.GlobalRef | ir.LocalRef):
        return e.name
    if isinstance(e, ir.CountOf):
        st = model.kinds[e.kind].states[e.state]
        if e.where is None:
            return f"count({st})"
        return f"count({st} where {show_expr(model, model.kinds[e.kind], e.where)})"
    if isinstance(e, ir.MinMax):
        return f"{e.fn}({', '.join(show_expr(model, kind, a) for a in e.args)})"
    if isinstance(e, ir.Ite):
        text = f"if {show_expr(model, kind, e.cond)} then {show_expr(model, kind, e.then)} else {show_expr(model, kind, e.orelse)}"
        return f"({text})" if outer else text
    if isinstance(e, ir.Unary):
        if e.op == "not":
            text = f"not {show_expr(model, kind, e.operand, 3)}"
            return f"({text})" if outer > 3 else text
        return f"-{show_expr(model, kind, e.operand, 7)}"
    p = _PREC[e.op]
    text = f"{show_expr(model, kind, e.left, p)} {e.op} {show_expr(model, kind, e.right, p + 1)}"
    return f"({text})" if outer > p else text


def diagnose(model: ir.Model, check: ir.Check, trace: Trace, budget: Budget) -> Diagnosis:
    """Diagnose the lasso `trace` that violates the storm or recovery check `check`.

    Raises OutOfBudget when the retry-free exploration does not fit the budget.
    """
    loop_idx = _tick_states(trace)
    loop_states = list(dict.fromkeys(trace.states[i] for i in loop_idx))
    g = RetryFreeGraph(model, check, budget)
    ids = g.explore(loop_states)
    capable = g.capable()
    avoid = g.avoiders()
    futile = [v for v in ids if v not in capable]
    open_ = [v for v in ids if v in avoid and v in capable]
    inten = intensity(model, trace)
    recovery: int | None = None
    blocked: tuple[str, ...]
    witness = None
    if futile:
        cause = StormCause.FUTILE
        blocked = tuple(_blocked_words(g, futile[0]))
    elif open_:
        cause = StormCause.MIXED
        blocked = (("without the retries progress can still happen from every tick state of the loop, "
                    "but a fair schedule can also avoid it forever from some of them"),)
    else:
        cause = StormCause.SUSTAINED
        blocked = ()
        lengths = [g.longest_bad_run(v) for v in ids]
        recovery = None if any(n is None for n in lengths) else max(n for n in lengths if n is not None) + 1
    if cause is not StormCause.FUTILE:
        witness = g.witness(trace.states[trace.loop_start or 0])
    sentence = _sentence(model, check, trace, cause, inten, recovery, blocked, loop_states, g)
    return Diagnosis(
        cause=cause,
        sentence=sentence,
        period=inten.period,
        retries_per_tick=tuple((name, n / inten.period) for name, n in inten.per_rule),
        retrying_nodes=inten.nodes,
        recovery_ticks=recovery,
        witness=witness,
        blocked=blocked,
    )


def _goal_words(model: ir.Model, check: ir.Check, certain: bool) -> str:
    names = ", ".join(r.name for r in model.rules if r.tag is ir.Tag.PROGRESS)
    if check.kind is ir.CheckKind.NO_STORM:
        return f"a progress rule ({names}) fires" if certain else f"progress ({names})"
    e = f"`{check.source.split(' assuming ')[0].split(' within ')[0]}`"
    return f"{e} holds" if certain else f"reaching {e}"


def _sentence(
    model: ir.Model,
    check: ir.Check,
    trace: Trace,
    cause: StormCause,
    inten: Intensity,
    recovery: int | None,
    blocked: tuple[str, ...],
    loop_states: Sequence[sem.State],
    g: RetryFreeGraph,
) -> str:
    steady = _steady(model, loop_states, loop_pre_tick_states(trace))
    while_text = f" while {', '.join(steady)}" if steady else ""
    period = "every tick" if inten.period == 1 else f"every {inten.period} ticks"
    who = _plural(inten.nodes, inten.kinds[0]) if len(inten.kinds) == 1 else f"{inten.nodes} nodes"
    if inten.per_rule:
        loop = (f"from tick {inten.start_tick} the loop repeats {period} forever, {who} retrying "
                f"({inten.rate_text()}){while_text}")
    else:
        loop = f"from tick {inten.start_tick} the loop repeats {period} forever with no retry{while_text}"
    storm = check.kind is ir.CheckKind.NO_STORM
    what = "no progress rule fires and no fault happens" if storm else "no fault happens and the check's condition never holds"
    if cause is StormCause.SUSTAINED:
        within = f"within {_plural(recovery, 'tick')}" if recovery is not None else "eventually (fair runs)"
        head = "Retry storm sustained by the retries" if storm else "No recovery, sustained by the retries"
        return (f"{head}: {loop}; {what}. Without the retries, {_goal_words(model, check, True)} {within} "
                f"from every tick state of the loop: fix the retry policy.")
    if cause is StormCause.FUTILE:
        head = "Futile retries, a shortage rather than a retry storm" if storm else "No recovery, and not for the retries"
        if storm and not inten.per_rule:  # pragma: no cover - a storm loop always retries
            head = "Futile loop"
        return (f"{head}: {loop}; {what}. Even without the retries it would not recover: "
                f"{'; '.join(blocked)}. Backing off will not end it: add capacity or remove what blocks progress.")
    head = "Retry storm, partly sustained by the retries" if storm else "No recovery, partly for the retries"
    return (f"{head}: {loop}; {what}. Without the retries, {_goal_words(model, check, False)} is possible "
            f"from every tick state of the loop but not certain: a fair schedule can still avoid it forever.")


def diagnose_run(run: RunResult, opts: CheckOptions) -> None:
    """Attach a diagnosis to every storm or no-recovery lasso of `run` (in place).

    A `no_retry_storm` violation whose loop turns out futile is no violation: an engine that
    cannot search for another loop (the symbolic engine) answers unknown instead.
    """
    deadline = None if opts.timeout is None else time.monotonic() + opts.timeout
    budget = Budget(opts.max_states, deadline)
    for i, r in enumerate(run.results):
        t = r.trace
        if r.verdict is not Verdict.VIOLATED or t is None or t.loop_start is None or r.model_error:
            continue
        if r.check.kind not in (ir.CheckKind.NO_STORM, ir.CheckKind.RECOVERS) or t.error is not None:
            continue
        try:
            d = diagnose(run.model, r.check, t, budget)
        except OutOfBudget as e:
            run.results[i] = dataclasses.replace(r, reason=f"not diagnosed: {e}")
            continue
        if r.check.sustained and d.cause is StormCause.FUTILE:
            run.results[i] = dataclasses.replace(
                r, verdict=Verdict.UNKNOWN, trace=None, ticks=None,
                reason=f"the {r.engine} engine cannot look past a futile loop for one the retries sustain "
                       f"(use --engine explicit): {futile_note(run.model, d, t)}",
            )
            continue
        run.results[i] = dataclasses.replace(r, diagnosis=d)


def futile_note(model: ir.Model, d: Diagnosis, trace: Trace) -> str:
    """A short note naming a futile loop, for a `no_retry_storm` check that holds."""
    inten = intensity(model, trace)
    why = d.blocked[0] if d.blocked else "no progress rule can fire, even without the retries"
    return (f"every storm loop is futile, a shortage rather than a retry storm: e.g. from tick {inten.start_tick}, "
            f"{inten.rate_text()}, while {why}")
