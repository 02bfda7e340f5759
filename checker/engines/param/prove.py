"""The portfolio of `stormproof prove`: each property decided for every parameter value.

Properties (spec/prove.md): every `invariant` check; freedom from model errors; for every
`no_storm` check, freedom from stuck storms (a safety property over counts); `no_storm`
itself by a lasso search (a storm at concrete values) and otherwise unknown.

Engines, each with its own share of the time budget: BMC (counterexamples, with the smallest
parameter values found, replayed through the reference semantics), Houdini over linear
templates sampled from small concrete instances, k-induction, Spacer. A counterexample is
replayed concretely before it is reported; a proof is re-checked by a fresh solver.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, field

import z3

from checker.engines.base import Trace
from checker.engines.diagnose import show_expr
from checker.engines.param.encode import FALSE, TRUE, CounterSystem, Label, St, Unsupported
from checker.engines.param.params import ParamModel, mentions_param
from checker.errors import InternalError, ModelError
from checker.model import ir, load_spec
from checker.model.evaluate import EvalError, evaluate
from checker.model.semantics import NotEnabled, State, Step, StepKind, apply, enabled, initial_state


@dataclass
class Outcome:
    """The answer for one property."""

    name: str  # the property, in words
    check: str | None  # the spec check it belongs to
    verdict: str  # "proved", "violated", "unknown"
    engine: str = ""
    reason: str = ""
    values: dict[str, int] = field(default_factory=dict)  # a violation's parameter values
    trace: Trace | None = None  # a violation replayed at `values`
    model: ir.Model | None = None  # the concrete model of the trace
    certificate: list[str] = field(default_factory=list)
    recheck: str = ""
    tried: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Prop:
    name: str
    check: ir.Check | None
    kind: str  # "invariant", "errors", "stuck", "storm"
    bad: object  # callable St -> BoolRef


class Budget:
    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.perf_counter())


def _solver(seconds: float) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", max(1, int(seconds * 1000)))
    return s


# ---- the properties ----------------------------------------------------------------------


def properties(cs: CounterSystem) -> list[Prop]:
    m = cs.m
    out = []
    for c in m.checks:
        if c.kind is ir.CheckKind.INVARIANT:
            def bad(s: St, c: ir.Check = c) -> z3.BoolRef:
                assert c.expr is not None
                v, e = cs.check_value(c.expr, s)
                return z3.Or(z3.Not(v), e, cs.error(s))
            out.append(Prop(f"{c.name}: {c.source}", c, "invariant", bad))
    out.append(Prop("no model error", None, "errors", cs.error))
    for c in m.checks:
        if c.kind is ir.CheckKind.NO_STORM:
            out.append(Prop(f"{c.name}: no stuck storm", c, "stuck", lambda s, c=c: stuck(cs, c, s)))
    return out


def _assumption(cs: CounterSystem, c: ir.Check, s: St) -> z3.BoolRef:
    if c.assuming is None:
        return TRUE
    v, e = cs.check_value(c.assuming, s)
    return z3.And(v, z3.Not(e))


def stuck(cs: CounterSystem, c: ir.Check, s: St) -> z3.BoolRef:
    """A tick state, the assumption holds, a retry rule can fire, and no progress rule can
    fire now or after one fault-free step (the lookahead spec/prove.md states)."""
    labels = [lab for lab in cs.labels if lab.kind is not StepKind.FAULT]
    retry = [cs.compile(lab, s).ok for lab in labels
             if lab.kind is StepKind.RULE and lab.event.tag is ir.Tag.RETRY]  # type: ignore[union-attr]
    progress_labels = [lab for lab in labels if lab.kind is StepKind.RULE and lab.event.tag is ir.Tag.PROGRESS]  # type: ignore[union-attr]
    if not retry or not progress_labels:
        return FALSE if not retry else z3.And(cs.tick_state(s), _assumption(cs, c, s), z3.Or(*retry))
    now = [cs.compile(lab, s).ok for lab in progress_labels]
    later = []
    for lab in labels:
        if lab in progress_labels:
            continue
        comp = cs.compile(lab, s)
        nxt = [cs.compile(p, comp.post).ok for p in progress_labels]
        later.append(z3.And(comp.ok, z3.Or(*nxt)))
    return z3.And(cs.tick_state(s), _assumption(cs, c, s), z3.Or(*retry), z3.Not(z3.Or(*now, *later)))


# ---- BMC -----------------------------------------------------------------------------------


class Unrolling:
    """Init, then one selected label per step."""

    def __init__(self, cs: CounterSystem, solver: z3.Solver, faults: bool = True) -> None:
        self.cs, self.sol = cs, solver
        self.states = [cs.state("0")]
        self.sel: list[list[z3.BoolRef]] = []
        solver.add(cs.param_constraints())
        solver.add(cs.init(self.states[0]))

    def extend(self) -> None:
        cs = self.cs
        i = len(self.sel)
        s, t = self.states[-1], cs.state(str(i + 1))
        bs = [z3.Bool(f"step{i}={j}") for j in range(len(cs.labels))]
        self.sol.add(z3.PbEq([(b, 1) for b in bs], 1))
        for b, lab in zip(bs, cs.labels):
            comp = cs.compile(lab, s)
            self.sol.add(z3.Implies(b, z3.And(comp.ok, cs.equal(t, comp.post))))
        self.states.append(t)
        self.sel.append(bs)

    def labels_of(self, mdl: z3.ModelRef) -> list[Label]:
        out = []
        for bs in self.sel:
            for b, lab in zip(bs, self.cs.labels):
                if z3.is_true(mdl.eval(b, model_completion=True)):
                    out.append(lab)
                    break
        return out

    def params_of(self, mdl: z3.ModelRef) -> dict[str, int]:
        return {n: mdl.eval(p, model_completion=True).as_long() for n, p in self.cs.p.items()}


def smallest(sol: z3.Solver, cs: CounterSystem, budget: Budget) -> z3.ModelRef:
    """A model with the parameters' sum as small as the budget finds."""
    mdl = sol.model()
    if not cs.p:
        return mdl
    total = z3.Sum(list(cs.p.values()))
    while budget.left() > 0.5:
        cur = mdl.eval(total, model_completion=True).as_long()
        sol.push()
        sol.add(total < cur)
        sol.set("timeout", int(min(budget.left(), 20) * 1000))
        r = sol.check()
        if r == z3.sat:
            mdl = sol.model()
        sol.pop()
        if r != z3.sat:
            break
    return mdl


def bmc(cs: CounterSystem, prop: Prop, budget: Budget, max_steps: int = 60) -> tuple[dict[str, int], list[Label]] | str:
    sol = z3.Solver()
    un = Unrolling(cs, sol)
    for depth in range(max_steps + 1):
        if depth:
            un.extend()
        if budget.left() <= 0:
            return f"no violation within {depth - 1} steps (time budget spent)"
        sol.push()
        sol.add(prop.bad(un.states[-1]))  # type: ignore[operator]
        sol.set("timeout", int(budget.left() * 1000) + 1)
        r = sol.check()
        if r == z3.sat:
            mdl = smallest(sol, cs, budget)
            return un.params_of(mdl), un.labels_of(mdl)
        sol.pop()
        if r == z3.unknown:
            return f"no violation within {depth - 1} steps (solver gave up: {sol.reason_unknown()})"
    return f"no violation within {max_steps} steps"


def lasso(cs: CounterSystem, c: ir.Check, budget: Budget, max_steps: int = 40
          ) -> tuple[dict[str, int], list[Label], int] | str:
    """A storm: a reachable loop of whole ticks with a retry, no progress, no fault, A at
    its tick states (fairness: refused when the model has fair rules or actions)."""
    sol = z3.Solver()
    un = Unrolling(cs, sol)
    for k in range(1, max_steps + 1):
        un.extend()
        if budget.left() <= 0:
            return f"no storm loop within {k - 1} steps (time budget spent)"
        sol.push()
        starts = [z3.Bool(f"loop@{j}") for j in range(k)]
        sol.add(z3.PbEq([(b, 1) for b in starts], 1))
        is_tick = [lab_is(un, i, lambda lab: lab.kind is StepKind.TICK) for i in range(k)]
        sol.add(is_tick[k - 1])
        any_retry = []
        for j in range(k):
            inloop = z3.Or(*starts[: j + 1])
            tick_state_j = TRUE if j == 0 else is_tick[j - 1]
            sol.add(z3.Implies(starts[j], z3.And(tick_state_j, cs.equal(un.states[j], un.states[k]))))
            bad_label = lab_is(un, j, lambda lab: lab.kind is StepKind.FAULT or (
                lab.kind is StepKind.RULE and lab.event.tag is ir.Tag.PROGRESS))
            sol.add(z3.Implies(inloop, z3.Not(bad_label)))
            any_retry.append(z3.And(inloop, lab_is(un, j, lambda lab: lab.kind is StepKind.RULE
                                                     and lab.event.tag is ir.Tag.RETRY)))
            sol.add(z3.Implies(z3.And(inloop, tick_state_j), _assumption(cs, c, un.states[j])))
        sol.add(z3.Or(*any_retry))
        sol.set("timeout", int(budget.left() * 1000) + 1)
        r = sol.check()
        if r == z3.sat:
            mdl = smallest(sol, cs, budget)
            j = next(j for j, b in enumerate(starts) if z3.is_true(mdl.eval(b, model_completion=True)))
            return un.params_of(mdl), un.labels_of(mdl), j
        sol.pop()
        if r == z3.unknown:
            return f"no storm loop within {k - 1} steps (solver gave up)"
    return f"no storm loop within {max_steps} steps"


def lab_is(un: Unrolling, i: int, pred: object) -> z3.BoolRef:
    xs = [b for b, lab in zip(un.sel[i], un.cs.labels) if pred(lab)]  # type: ignore[operator]
    return z3.Or(*xs) if xs else FALSE


# ---- concrete replay -----------------------------------------------------------------------


def concrete_model(pm: ParamModel, values: dict[str, int], overrides: dict[str, ir.Value]) -> ir.Model:
    return load_spec(pm.model.file, {**overrides, **values})


def to_step(cs: CounterSystem, lab: Label, state: State) -> Step:
    if lab.kind is StepKind.TICK:
        return Step(StepKind.TICK, -1, "tick")
    ev = lab.event
    assert ev is not None
    node = None
    if lab.sit is not None:
        st, loc = cs.sits[ev.kind][lab.sit]  # type: ignore[union-attr,index]
        node = (st, loc, bool(lab.acted) if lab.kind is StepKind.FAULT else False)
    return Step(lab.kind, ev.event, ev.name, node)


def replay(cs: CounterSystem, model: ir.Model, labels: list[Label]) -> tuple[list[State], list[Step], str | None]:
    """Run the labels through the reference semantics; a raising last step is the error."""
    states = [initial_state(model)]
    steps: list[Step] = []
    for i, lab in enumerate(labels):
        st = to_step(cs, lab, states[-1])
        try:
            nxt = apply(model, states[-1], st)
        except NotEnabled as e:
            raise InternalError(f"prove: step {i} ({st.name}) of a counterexample does not replay: {e}") from None
        except ModelError as e:
            raise InternalError(f"prove: step {i} ({st.name}) raised during replay: {e}") from None
        steps.append(st)
        states.append(nxt)
    return states, steps, None


def error_step(model: ir.Model, state: State) -> tuple[Step, str] | None:
    for st in enabled(model, state):
        try:
            apply(model, state, st)
        except ModelError as e:
            return st, str(e)
    return None


def stuck_witness(model: ir.Model, state: State, assuming: ir.Expr | None, cap: int = 200_000
                  ) -> tuple[list[Step], list[State]] | bool | None:
    """From `state`, explore every fault-free run. True: some run fires a progress rule.
    None: too many states. Otherwise the steps and states of a run to a tick state (reached
    by a tick step) where the assumption holds and a retry rule can fire: a stuck storm."""
    parent: dict[State, tuple[State, Step] | None] = {state: None}
    todo = deque([state])
    goal: tuple[State, Step, State] | None = None
    while todo:
        s = todo.popleft()
        for st in enabled(model, s):
            if st.kind is StepKind.FAULT:
                continue
            if st.kind is StepKind.RULE and model.events[st.event].tag is ir.Tag.PROGRESS:  # type: ignore[union-attr]
                return True
            try:
                t = apply(model, s, st)
            except ModelError:
                continue
            if goal is None and st.kind is StepKind.TICK and _stuck_here(model, t, assuming):
                goal = (s, st, t)
            if t in parent:
                continue
            if len(parent) >= cap:
                return None
            parent[t] = (s, st)
            todo.append(t)
    if goal is None:
        return False
    before, last_step, end = goal
    steps: list[Step] = [last_step]
    states: list[State] = [end]
    x = before
    while parent[x] is not None:
        prev, st = parent[x]  # type: ignore[misc]
        steps.append(st)
        states.append(x)
        x = prev
    return steps[::-1], states[::-1]


def _stuck_here(model: ir.Model, x: State, assuming: ir.Expr | None) -> bool:
    if assuming is not None:
        try:
            if not evaluate(assuming, x.globals, None, x.populations()):
                return False
        except EvalError:
            return False
    return any(st.kind is StepKind.RULE and model.events[st.event].tag is ir.Tag.RETRY  # type: ignore[union-attr]
               for st in enabled(model, x))


# ---- templates and Houdini -------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    text: str
    sym: object  # St -> ArithRef
    conc: object  # (State, params) -> int


def atoms(cs: CounterSystem) -> list[Atom]:
    m = cs.m
    out: list[Atom] = []
    for k, kind in enumerate(m.kinds):
        for st, name in enumerate(kind.states):
            idx = [i for i, (s, _l) in enumerate(cs.sits[k]) if s == st]
            out.append(Atom(f"count({name})", lambda s, k=k, idx=idx: z3.Sum([s.c[k][i][a] for i in idx for a in (0, 1)]),
                            lambda x, p, k=k, st=st: sum(n for (s, _l, _a), n in x.kinds[k] if s == st)))
        out.append(Atom(f"acted({kind.name})", lambda s, k=k: z3.Sum([pair[1] for pair in s.c[k]]),
                        lambda x, p, k=k: sum(n for (_s, _l, a), n in x.kinds[k] if a)))
    for i, v in enumerate(m.globals):
        if v.type is ir.Type.INT:
            out.append(Atom(v.name, lambda s, i=i: s.g[i], lambda x, p, i=i: int(x.globals[i])))
    for f in cs.slots:
        out.append(Atom(f"remaining({f.name})", lambda s, j=f.slot: s.lim[j], lambda x, p, j=f.slot: x.limits[j]))
    for name in cs.p:
        out.append(Atom(name, lambda s, name=name: cs.p[name], lambda x, p, name=name: p[name]))
    for text, e in spec_counts(m):  # the spec's count(S where E) terms, for each state S
        out.append(Atom(text, lambda s, e=e: cs.expr(e, s, None)[0],
                        lambda x, p, e=e: int(evaluate(e, x.globals, None, x.populations()))))
    return out


def spec_counts(m: ir.Model) -> list[tuple[str, ir.CountOf]]:
    """Every condition E of a `count(S where E)` in an invariant check, as `count(S' where E)`
    for every state S' of the kind (what an invariant says of the nodes in one state often
    needs the same of those that enter it), once each, in the spec's words. Only the
    invariants' terms: every atom multiplies the candidates."""
    found: dict[str, ir.CountOf] = {}

    def walk(e: object) -> None:
        if isinstance(e, ir.CountOf) and e.where is not None and not mentions_param(e.where):
            cond = show_expr(m, m.kinds[e.kind], e.where)
            for st, name in enumerate(m.kinds[e.kind].states):
                found.setdefault(f"count({name} where {cond})", dataclasses.replace(e, state=st))
        for child in ir.children(e):
            walk(child)

    for c in m.checks:
        if c.kind is ir.CheckKind.INVARIANT:
            walk(c.expr)
    return list(found.items())


def antecedents(cs: CounterSystem) -> list[tuple[str, object, object]]:
    """Conditions templates may be guarded by: boolean globals, a fault used up or not."""
    out: list[tuple[str, object, object]] = [("", lambda s: TRUE, lambda x, p: True)]
    for i, v in enumerate(cs.m.globals):
        if v.type is ir.Type.BOOL:
            out.append((v.name, lambda s, i=i: s.g[i], lambda x, p, i=i: bool(x.globals[i])))
            out.append((f"not {v.name}", lambda s, i=i: z3.Not(s.g[i]), lambda x, p, i=i: not x.globals[i]))
    for f in cs.slots:
        out.append((f"after {f.name}" if f.limit == 1 else f"remaining({f.name}) == 0",
                    lambda s, j=f.slot: s.lim[j] == 0, lambda x, p, j=f.slot: x.limits[j] == 0))
        out.append((f"before {f.name}" if f.limit == 1 else f"remaining({f.name}) > 0",
                    lambda s, j=f.slot: s.lim[j] > 0, lambda x, p, j=f.slot: x.limits[j] > 0))
    return out


def sample_values(cs: CounterSystem, budget_values: int = 10, top: int = 4) -> list[dict[str, int]]:
    """Small parameter values that satisfy every constraint, smallest first."""
    names = list(cs.p)
    out = []
    for combo in sorted(itertools.product(range(top + 1), repeat=len(names)), key=lambda c: (sum(c), c)):
        vals = dict(zip(names, combo))
        sol = z3.Solver()
        sol.add(cs.param_constraints())
        sol.add([cs.p[n] == v for n, v in vals.items()])
        if sol.check() == z3.sat:
            out.append(vals)
        if len(out) >= budget_values:
            break
    return out


def reachable(model: ir.Model, cap: int, partial: bool = False) -> list[State] | None:
    """Every reachable state of a small concrete model (None: more than `cap`); with
    `partial`, the first `cap` states found breadth first."""
    s0 = initial_state(model)
    seen = {s0}
    todo = deque([s0])
    while todo:
        s = todo.popleft()
        for st in enabled(model, s):
            try:
                t = apply(model, s, st)
            except ModelError:
                continue
            if t not in seen:
                if len(seen) >= cap:
                    return list(seen) if partial else None
                seen.add(t)
                todo.append(t)
    return list(seen)


def walks(model: ir.Model, runs: int, length: int, seed: int = 0) -> list[State]:
    """The states of `runs` random runs of `length` steps (a fixed seed: the same states on
    every machine). Deep states of instances too large to explore."""
    rng = random.Random(seed)
    seen: set[State] = set()
    for _ in range(runs):
        s = initial_state(model)
        seen.add(s)
        for _ in range(length):
            steps = enabled(model, s)
            if not steps:
                break
            try:
                s = apply(model, s, rng.choice(steps))
            except ModelError:
                break
            seen.add(s)
    return sorted(seen, key=repr)


def probe_values(cs: CounterSystem, defaults: dict[str, int], samples: list[dict[str, int]], count: int = 3
                 ) -> list[dict[str, int]]:
    """Larger parameter values to test candidates on: the spec's own, then those doubled and
    plus one, and so on (each satisfying the constraints, none a sample)."""
    out: list[dict[str, int]] = []
    vals = dict(defaults)
    for _ in range(8):
        if vals not in samples and vals not in out:
            sol = z3.Solver()
            sol.add(cs.param_constraints())
            sol.add([cs.p[n] == v for n, v in vals.items()])
            if sol.check() == z3.sat:
                out.append(dict(vals))
        if len(out) >= count:
            break
        vals = {n: 2 * v + 1 for n, v in vals.items()}
    return out


@dataclass
class Cand:
    text: str
    sym: object  # St -> BoolRef
    size: int = 0  # atoms in the linear part (0: a property)
    op: str = ""  # "==", ">=" or "<="
    conc: object = None  # (State, parameter values) -> bool, for a template


Rows = list[tuple[dict[str, int], list[State]]]


def _rows(ats: list[Atom], ants: list[tuple[str, object, object]], sets: Rows
          ) -> tuple[list[list[int]], list[list[bool]]]:
    """The distinct (atom values, antecedent truth) of the states, as columns."""
    seen: set[tuple[tuple[int, ...], tuple[bool, ...]]] = set()
    for vals, states in sets:
        for x in states:
            seen.add((tuple(a.conc(x, vals) for a in ats),  # type: ignore[operator]
                      tuple(bool(f(x, vals)) for _t, _s, f in ants)))  # type: ignore[operator]
    rows = sorted(seen)
    return [[r[0][i] for r in rows] for i in range(len(ats))], [[r[1][a] for r in rows] for a in range(len(ants))]


def templates(cs: CounterSystem, samples: Rows, probes: Rows | None = None, max_atoms: int = 4) -> list[Cand]:
    """Candidates true in every state of `samples` (every reachable state of small instances,
    which fix the constants of the templates) and in every state of `probes` (states reachable
    in larger instances, which need not be all: a candidate false in one is not invariant).
    Equalities of up to `max_atoms` atoms, inequalities of up to three, guarded ones of up
    to two; the simplest first."""
    ats = atoms(cs)
    ants = antecedents(cs)
    cands: list[Cand] = []
    cols, masks = _rows(ats, ants, samples)
    if not cols or not cols[0]:
        return []
    pcols, pmasks = _rows(ats, ants, probes or [])
    prow = list(zip(*pcols)) if pcols and pcols[0] else []
    pants = list(zip(*pmasks)) if prow else []
    n = len(ats)
    for size in range(1, max_atoms + 1):
        for idx in itertools.combinations(range(n), size):
            for signs in itertools.product((1, -1), repeat=size):
                if signs[0] != 1:
                    continue  # t and -t give the same facts
                sums = _sums(cols, idx, signs)
                text = _lin_text([ats[i].text for i in idx], signs)
                terms = [(ats[i], sg) for i, sg in zip(idx, signs)]
                for a, (atext, asym, aconc) in enumerate(ants):
                    if size > 2 and a > 0:
                        continue  # guarded templates: at most two atoms
                    sel = [v for v, m in zip(sums, masks[a]) if m]
                    if not sel:
                        continue
                    lo, hi = min(sel), max(sel)
                    if lo != hi and size > 3:
                        continue  # an inequality of four atoms: too many to try
                    # the probes, lazily: most candidates they refute fail on an early row
                    probe = ((sum(row[i] * sg for i, sg in zip(idx, signs)))
                             for row, am in zip(prow, pants) if am[a])
                    below = above = False  # a probe state under lo, over hi
                    for v in probe:
                        below = below or v < lo
                        above = above or v > hi
                        if below and above:
                            break
                    if lo == hi and not below and not above:
                        cands.append(_cand(atext, asym, aconc, text, terms, "==", lo))
                    elif size <= 3:
                        if not below:
                            cands.append(_cand(atext, asym, aconc, text, terms, ">=", lo))
                        if not above:
                            cands.append(_cand(atext, asym, aconc, text, terms, "<=", hi))
    return cands


def _sums(cols: list[list[int]], idx: tuple[int, ...], signs: tuple[int, ...]) -> list[int]:
    parts = [cols[i] if sg > 0 else [-v for v in cols[i]] for i, sg in zip(idx, signs)]
    return [sum(t) for t in zip(*parts)]


def _lin_text(names: list[str], signs: tuple[int, ...]) -> str:
    pos = [nm for nm, sg in zip(names, signs) if sg > 0]
    neg = [nm for nm, sg in zip(names, signs) if sg < 0]
    return " + ".join(pos) + ("" if not neg else " - " + " - ".join(neg))


def _cand(atext: str, asym: object, aconc: object, text: str, terms: list[tuple[Atom, int]], op: str, c: int) -> Cand:
    # move negative terms to the right: "a - b >= 0" reads "a >= b"
    left = text.split(" - ")[0]
    right = text.split(" - ")[1:]
    if right:
        rtext = " + ".join(right) + (f" + {c}" if c > 0 else f" - {-c}" if c < 0 else "")
        body = f"{left} {op} {rtext}"
    else:
        body = f"{left} {op} {c}"
    full = body if not atext else f"{atext} => {body}"

    def sym(s: St) -> z3.BoolRef:
        t = z3.Sum([a.sym(s) * sg for a, sg in terms])  # type: ignore[operator]
        rel = t == c if op == "==" else t >= c if op == ">=" else t <= c
        return z3.Implies(asym(s), rel)  # type: ignore[operator]

    def conc(x: State, vals: dict[str, int]) -> bool:
        if not aconc(x, vals):  # type: ignore[operator]
            return True
        t = sum(a.conc(x, vals) * sg for a, sg in terms)  # type: ignore[operator]
        return t == c if op == "==" else t >= c if op == ">=" else t <= c

    return Cand(full, sym, len(terms), op, conc)


def step_relation(cs: CounterSystem, s: St, t: St) -> z3.BoolRef:
    parts = []
    for lab in cs.labels:
        comp = cs.compile(lab, s)
        parts.append(z3.And(comp.ok, cs.equal(t, comp.post)))
    return z3.Or(*parts)


def goal_of(prop: Prop) -> Cand:
    return Cand(prop.name, lambda x: z3.Not(prop.bad(x)))  # type: ignore[operator]


class Consecution:
    """Consecution checked one label at a time (small queries instead of one disjunction),
    with every candidate's pre- and post-state formula built once."""

    def __init__(self, cs: CounterSystem, budget: Budget) -> None:
        self.cs, self.budget = cs, budget
        self.s, self.t = cs.state("s"), cs.state("t")
        self.steps = [z3.And(comp.ok, cs.equal(self.t, comp.post)) for comp in (cs.compile(lab, self.s) for lab in cs.labels)]
        self._pre: dict[int, z3.BoolRef] = {}
        self._post: dict[int, z3.BoolRef] = {}

    def pre(self, c: Cand) -> z3.BoolRef:
        if id(c) not in self._pre:
            self._pre[id(c)] = c.sym(self.s)  # type: ignore[operator]
        return self._pre[id(c)]

    def post(self, c: Cand) -> z3.BoolRef:
        if id(c) not in self._post:
            self._post[id(c)] = c.sym(self.t)  # type: ignore[operator]
        return self._post[id(c)]

    def solver(self) -> z3.Solver:
        sol = _solver(max(self.budget.left(), 0.001))
        sol.add(*self.cs.param_constraints(), self.cs.domain(self.s))
        return sol

    def cti(self, ks: list[Cand], targets: list[Cand] | None = None) -> z3.ModelRef | None | str:
        """A step from a state where every k holds to one where some target (default: every
        k) fails: a counterexample to induction; None when there is none."""
        sol = self.solver()
        sol.add([self.pre(c) for c in ks])
        goal = z3.Or(*[z3.Not(self.post(c)) for c in (ks if targets is None else targets)])
        for step in self.steps:
            if self.budget.left() <= 0:
                return "time budget spent"
            sol.push()
            sol.add(step, goal)
            sol.set("timeout", int(self.budget.left() * 1000) + 1)
            r = sol.check()
            if r == z3.sat:
                return sol.model()
            sol.pop()
            if r == z3.unknown:
                return f"solver gave up ({sol.reason_unknown()})"
        return None

    def core(self, c: Cand, ks: list[Cand]) -> list[Cand] | None:
        """Which of `ks` the consecution of `c` needs, over every label (unsat cores)."""
        marks = [z3.Bool(f"use{i}") for i in range(len(ks))]
        by_id = {m.get_id(): k for m, k in zip(marks, ks)}
        sol = self.solver()
        sol.add([z3.Implies(m, self.pre(k)) for m, k in zip(marks, ks)])
        out: list[Cand] = []
        for step in self.steps:
            sol.push()
            sol.add(step, z3.Not(self.post(c)))
            sol.set("timeout", int(max(self.budget.left(), 0.001) * 1000) + 1)
            if sol.check(*marks) != z3.unsat:
                return None
            for m in sol.unsat_core():
                k = by_id[m.get_id()]
                if k not in out:
                    out.append(k)
            sol.pop()
        return out


def strongest(cs: CounterSystem, goals: list[Cand], cands: list[Cand], budget: Budget) -> list[Cand] | str:
    """Houdini: the largest subset of `goals` + `cands` that holds initially and is inductive (the
    strongest invariant the templates can say), or why it could not be computed in time.
    A candidate is dropped only when a state satisfying every candidate still live reaches
    one where it fails, so no candidate of an inductive subset is ever dropped: the answer
    does not depend on the order of the candidates, nor on the solver's models."""
    cands = goals + _not_implied_by_domain(cs, cands, budget)
    s0 = cs.init_state()
    at_init = [(c, z3.simplify(c.sym(s0))) for c in cands]  # type: ignore[operator]
    live = [c for c, v in at_init if not z3.is_false(v)]
    open_ = [(c, v) for c, v in at_init if not z3.is_false(v) and not z3.is_true(v)]
    base = _solver(max(budget.left(), 0.001))
    base.add(cs.param_constraints())
    while open_:  # initiation over the parameters, a model at a time
        if budget.left() <= 0:
            return "time budget spent checking initiation"
        base.push()
        base.add(z3.Or(*[z3.Not(v) for _c, v in open_]))
        base.set("timeout", int(budget.left() * 1000) + 1)
        r = base.check()
        if r == z3.unsat:
            base.pop()
            break
        if r == z3.unknown:
            return f"solver gave up checking initiation ({base.reason_unknown()})"
        mdl = base.model()
        base.pop()
        out = {id(c) for c, v in open_ if not z3.is_true(mdl.eval(v, model_completion=True))}
        live = [c for c in live if id(c) not in out]
        open_ = [(c, v) for c, v in open_ if id(c) not in out]
    con = Consecution(cs, budget)
    sol = con.solver()
    marks = {id(c): z3.Bool(f"h{i}") for i, c in enumerate(live)}
    sol.add([z3.Implies(marks[id(c)], con.pre(c)) for c in live])
    while True:
        dropped = False
        for step in con.steps:
            while live:
                if budget.left() <= 0:
                    return "time budget spent"
                sol.push()
                sol.add(step, z3.Or(*[z3.Not(con.post(c)) for c in live]))
                sol.set("timeout", int(budget.left() * 1000) + 1)
                r = sol.check(*[marks[id(c)] for c in live])
                if r == z3.unsat:
                    sol.pop()
                    break
                if r == z3.unknown:
                    why = sol.reason_unknown()
                    sol.pop()
                    return f"solver gave up ({why})"
                mdl = sol.model()
                sol.pop()
                live = [c for c in live if z3.is_true(mdl.eval(con.post(c), model_completion=True))]
                dropped = True
        if not dropped:
            return live


def _not_implied_by_domain(cs: CounterSystem, cands: list[Cand], budget: Budget) -> list[Cand]:
    """The candidates the ranges and node counts do not already imply (about half of them:
    the invariant includes the domain anyway, and every candidate costs in each query)."""
    s = cs.state("d")
    sol = _solver(1.0)
    sol.add(*cs.param_constraints(), cs.domain(s))
    out: list[Cand] = []
    for i, c in enumerate(cands):
        if budget.left() <= 0:
            return out + cands[i:]
        sol.push()
        sol.add(z3.Not(c.sym(s)))  # type: ignore[operator]
        if sol.check() != z3.unsat:
            out.append(c)
        sol.pop()
    return out


def certificate(cs: CounterSystem, goal: Cand, inductive: list[Cand], budget: Budget) -> list[Cand] | str:
    """A short part of an inductive set that `goal` (one of its members) needs. From the goal
    alone: while a step leads from a state where the part holds to one where it fails, add
    the simplest member false in that state (there is one, the whole set being inductive);
    then drop, one at a time, what the rest does not need."""
    con = Consecution(cs, budget)
    pool = sorted((c for c in inductive if c is not goal), key=lambda c: (c.op != "==", c.size, " => " in c.text))
    need = [goal]
    while True:
        found = con.cti(need)
        if isinstance(found, str):
            return found
        if found is None:
            break
        have = {id(c) for c in need}
        blocker = next((c for c in pool if id(c) not in have
                        and not z3.is_true(found.eval(con.pre(c), model_completion=True))), None)
        if blocker is None:
            raise InternalError("prove: a counterexample to induction that the inductive set does not exclude")
        need.append(blocker)
    for c in [c for c in need if c is not goal][::-1]:
        trial = [d for d in need if d is not c]
        if con.cti(trial) is None:
            need = trial
    # printed unguarded first (the conservation laws), then by the condition that guards them
    return sorted((c for c in need if c is not goal), key=lambda c: (" => " in c.text, c.text.split(" => ")[0], c.size))


def kinduction(cs: CounterSystem, prop: Prop, budget: Budget, kmax: int = 4) -> str | None:
    """k-induction in steps: None when proved, else why not."""
    for k in range(1, kmax + 1):
        if budget.left() <= 0:
            return "time budget spent"
        sts = [cs.state(f"k{i}") for i in range(k + 1)]
        sol = _solver(budget.left())
        sol.add(cs.param_constraints())
        for i in range(k):
            sol.add(cs.domain(sts[i]), z3.Not(prop.bad(sts[i])), step_relation(cs, sts[i], sts[i + 1]))  # type: ignore[operator]
        sol.add(prop.bad(sts[k]))  # type: ignore[operator]
        r = sol.check()
        if r == z3.unsat:
            return None
        if r == z3.unknown:
            return f"solver gave up at k = {k}"
    return f"not {kmax}-inductive"


def spacer(cs: CounterSystem, prop: Prop, budget: Budget) -> str | None:
    """Z3's Spacer over the counter system (constrained Horn clauses): None when proved."""
    if budget.left() < 1:
        return "no time left"
    s, t = cs.state("s"), cs.state("t")
    vs = list(cs.p.values()) + s.flat()
    vt = list(cs.p.values()) + t.flat()
    inv = z3.Function("Inv", *[v.sort() for v in vs], z3.BoolSort())
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    fp.set("timeout", int(budget.left() * 1000))
    fp.register_relation(inv)
    fp.declare_var(*vs, *t.flat())
    params = cs.param_constraints()
    fp.rule(inv(*vs), [*params, cs.init(s), cs.domain(s)])
    fp.rule(inv(*vt), [inv(*vs), cs.domain(s), step_relation(cs, s, t)])
    try:
        r = fp.query(z3.And(inv(*vs), prop.bad(s)))  # type: ignore[operator]
    except z3.Z3Exception as e:
        return f"spacer failed: {e}"
    if r == z3.unsat:
        return None
    if r == z3.sat:
        return "spacer found a counterexample that BMC did not reach within its depth"
    return f"spacer gave up ({fp.reason_unknown()})"


def recheck(cs: CounterSystem, prop: Prop, cert: list[Cand], models: list[tuple[dict[str, int], ir.Model, list[State]]]
            ) -> str:
    """Initiation and consecution by a fresh solver; then every conjunct in every reachable
    state of small concrete instances."""
    s, t = cs.state("r"), cs.state("r2")
    goal = z3.Not(prop.bad(s))  # type: ignore[operator]
    inv_s = z3.And(goal, *[c.sym(s) for c in cert])  # type: ignore[operator]
    inv_t = z3.And(z3.Not(prop.bad(t)), *[c.sym(t) for c in cert])  # type: ignore[operator]
    a = z3.Solver()
    a.add(*cs.param_constraints(), cs.init(s), cs.domain(s), z3.Not(inv_s))
    if a.check() != z3.unsat:
        raise InternalError(f"prove: the certificate for '{prop.name}' fails initiation on re-check")
    for lab in cs.labels:  # consecution: a fresh solver per kind of step
        comp = cs.compile(lab, s)
        b = z3.Solver()
        b.add(*cs.param_constraints(), cs.domain(s), inv_s, comp.ok, cs.equal(t, comp.post), z3.Not(inv_t))
        if b.check() != z3.unsat:
            raise InternalError(f"prove: the certificate for '{prop.name}' fails consecution on re-check ({lab.name})")
    total = 0
    where = []
    for vals, _model, states in models:
        for x in states:
            if not _holds_concrete(cs, cert, x, vals):
                raise InternalError(f"prove: the certificate for '{prop.name}' is false in a reachable state at {vals}")
        total += len(states)
        where.append(", ".join(f"{k}={v}" for k, v in vals.items()) or "the spec's values")
    return (f"initiation and consecution re-checked by a fresh solver; holds in all {total} reachable states "
            f"at {'; '.join(where)}")


def _holds_concrete(cs: CounterSystem, cert: list[Cand], x: State, vals: dict[str, int]) -> bool:
    """The certificate on a concrete state: each template evaluated on it directly; another
    property (a conjunct proved with this one) by pinning a symbolic state to it."""
    if not all(c.conc(x, vals) for c in cert if c.conc is not None):  # type: ignore[operator]
        return False
    rest = [c for c in cert if c.conc is None]
    if not rest:
        return True
    s = cs.state("c")
    sol = z3.Solver()
    sol.add([cs.p[n] == v for n, v in vals.items()])
    sol.add(pin(cs, s, x))
    sol.add(z3.Not(z3.And(*[c.sym(s) for c in rest])))  # type: ignore[operator]
    return bool(sol.check() == z3.unsat)


def pin(cs: CounterSystem, s: St, x: State) -> list[z3.BoolRef]:
    out: list[z3.BoolRef] = []
    for v, sym, val in zip(cs.m.globals, s.g, x.globals):
        out.append(sym == (z3.BoolVal(bool(val)) if v.type is ir.Type.BOOL else z3.IntVal(int(val))))
    out += [sym == val for sym, val in zip(s.lim, x.limits)]
    out += [sym == z3.BoolVal(val) for sym, val in zip(s.fired, x.fired)]
    for k in range(len(cs.m.kinds)):
        have = dict(x.kinds[k])
        for i, (st, loc) in enumerate(cs.sits[k]):
            for a in (0, 1):
                out.append(s.c[k][i][a] == have.get((st, loc, bool(a)), 0))
    return out


def eval_check(model: ir.Model, e: ir.Expr, x: State) -> ir.Value:
    return evaluate(e, x.globals, None, x.populations())


__all__ = [
    "Budget",
    "EvalError",
    "Outcome",
    "Prop",
    "Unsupported",
    "bmc",
    "certificate",
    "kinduction",
    "lasso",
    "properties",
    "recheck",
    "spacer",
    "strongest",
]
