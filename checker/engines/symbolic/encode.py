"""Encode the step semantics of language.md section 5 into Z3 over per-node variables.

A frame is one symbolic state: every global, every remaining fault limit, every action's
fired mark, and for every node of every kind its state index, its locals and its acted
mark. Symbols carry their time index (`free@3.2`: tick 3, micro-step 2; `volume[1].state@3.0`).

Each micro-step frame picks one candidate (a rule on one node, an action, a fault, or on one
node for a node fault) or stutters; the tick frame is a separate transition. Expressions
compile to a pair (value, error), where the error is a Z3 boolean that holds exactly where
the reference evaluator would raise (short-circuit `and`/`or`/`if` included); integer
interval bounds let us drop checks that cannot fail (division by a range without 0, sums that
stay inside 64 bits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import z3

from checker.errors import ModelError
from checker.model import ir
from checker.model.evaluate import INT_MAX, INT_MIN, arith
from checker.model.semantics import StepKind

Bounds = tuple[int, int] | None


@dataclass
class Term:
    """A compiled expression: Z3 value, error condition (None: cannot fail), integer bounds."""

    v: z3.ExprRef
    e: z3.BoolRef | None = None
    b: Bounds = None


def _or(*xs: z3.BoolRef | None) -> z3.BoolRef | None:
    ys = [x for x in xs if x is not None]
    if not ys:
        return None
    return ys[0] if len(ys) == 1 else z3.Or(*ys)


def _and_err(cond: z3.BoolRef, err: z3.BoolRef | None) -> z3.BoolRef | None:
    return None if err is None else z3.And(cond, err)


def err_of(e: z3.BoolRef | None) -> z3.BoolRef:
    return z3.BoolVal(False) if e is None else e


@dataclass
class Frame:
    """One symbolic state."""

    tag: str
    g: list[z3.ExprRef]
    lim: list[z3.ArithRef]
    fired: list[z3.BoolRef]
    st: list[list[z3.ArithRef]]
    loc: list[list[list[z3.ExprRef]]]
    acted: list[list[z3.BoolRef]]
    cache: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Cand:
    """A micro-step candidate: a rule or fault on node (kind, node), an action, a top-level fault."""

    kind: StepKind
    event: ir.Rule | ir.Action | ir.Fault
    node: tuple[int, int] | None


@dataclass
class CandInfo:
    pre: z3.BoolRef
    guard: z3.BoolRef
    gerr: z3.BoolRef | None
    post: dict[tuple[object, ...], z3.ExprRef]  # ('g', i) or ('l', k, n, i) -> new value
    uerr: z3.BoolRef | None

    @property
    def ok(self) -> z3.BoolRef:
        parts = [self.pre, self.guard]
        if self.gerr is not None:
            parts.append(z3.Not(self.gerr))
        if self.uerr is not None:
            parts.append(z3.Not(self.uerr))
        return z3.And(*parts)

    @property
    def err(self) -> z3.BoolRef:
        e = _or(self.gerr, _and_err(self.guard, self.uerr))
        return z3.BoolVal(False) if e is None else z3.And(self.pre, e)

    @property
    def blocks_tick(self) -> z3.BoolRef:
        """The reference's tick_allowed stops here: the guard holds or raises."""
        g = self.guard if self.gerr is None else z3.Or(self.guard, self.gerr)
        return z3.And(self.pre, g)


class Sel:
    """Which candidate a micro-step takes: one boolean per candidate, exactly one true.

    One-hot booleans keep the choice in the SAT core; an integer selector made the solver
    reason about which candidate is chosen through arithmetic bounds.
    """

    def __init__(self, tag: str, n: int) -> None:
        self.bs = [z3.Bool(f"step@{tag}={c}") for c in range(n)]

    def is_(self, c: int) -> z3.BoolRef:
        return self.bs[c]

    def domain(self) -> list[z3.BoolRef]:
        return [z3.PbEq([(b, 1) for b in self.bs], 1)]

    def value(self, mdl: z3.ModelRef) -> int:
        for c, b in enumerate(self.bs):
            if z3.is_true(mdl.eval(b, model_completion=True)):
                return c
        raise AssertionError("no candidate chosen")  # pragma: no cover


def _mk(var: ir.Var, name: str) -> z3.ExprRef:
    return z3.Bool(name) if var.type is ir.Type.BOOL else z3.Int(name)


def _pyval(var_type: ir.Type, v: z3.ExprRef) -> ir.Value:
    if var_type is ir.Type.BOOL:
        return bool(z3.is_true(v))
    return int(v.as_long())


class Encoder:
    """Builds frames, expressions and transitions for one model."""

    def __init__(self, model: ir.Model) -> None:
        self.m = model
        self.slots = [f for f in model.faults if f.slot is not None]
        self.cands: list[Cand] = []
        for r in model.rules:
            for n in range(model.kinds[r.kind].count):
                self.cands.append(Cand(StepKind.RULE, r, (r.kind, n)))
        for a in model.actions:
            self.cands.append(Cand(StepKind.ACTION, a, None))
        for f in model.faults:
            if f.kind is None:
                self.cands.append(Cand(StepKind.FAULT, f, None))
            else:
                for n in range(model.kinds[f.kind].count):
                    self.cands.append(Cand(StepKind.FAULT, f, (f.kind, n)))
        self.stutter = len(self.cands)
        self.limit_of = {f.slot: f.limit for f in model.faults if f.slot is not None}

    # ---- frames ---------------------------------------------------------------------------

    def frame(self, tag: str) -> tuple[Frame, list[z3.BoolRef]]:
        """A fresh frame and its domain constraints (every value in its declared range)."""
        m = self.m
        dom: list[z3.BoolRef] = []
        g = [_mk(v, f"{v.name}@{tag}") for v in m.globals]
        for v, x in zip(m.globals, g):
            if v.type is ir.Type.INT:
                dom.append(z3.And(x >= v.lo, x <= v.hi))
        lim: list[z3.ArithRef] = [z3.IntVal(0)] * len(self.slots)
        for f in self.slots:
            assert f.slot is not None
            x = z3.Int(f"limit.{f.name}@{tag}")
            dom.append(z3.And(x >= 0, x <= (f.limit or 0)))
            lim[f.slot] = x
        fired = [z3.Bool(f"fired.{a.name}@{tag}") for a in m.actions]
        st, loc, acted = [], [], []
        for kind in m.kinds:
            ks, kl, ka = [], [], []
            for n in range(kind.count):
                s = z3.Int(f"{kind.name}[{n}].state@{tag}")
                dom.append(z3.And(s >= 0, s < len(kind.states)))
                ls = []
                for v in kind.locals:
                    x = _mk(v, f"{kind.name}[{n}].{v.name}@{tag}")
                    if v.type is ir.Type.INT:
                        dom.append(z3.And(x >= v.lo, x <= v.hi))
                    ls.append(x)
                ks.append(s)
                kl.append(ls)
                ka.append(z3.Bool(f"{kind.name}[{n}].acted@{tag}"))
            st.append(ks)
            loc.append(kl)
            acted.append(ka)
        return Frame(tag, g, lim, fired, st, loc, acted), dom

    def init(self, X: Frame) -> z3.BoolRef:
        m = self.m
        cs: list[z3.BoolRef] = [x == _lit(v.init) for v, x in zip(m.globals, X.g)]
        for slot, x in enumerate(X.lim):
            cs.append(x == self.limit_of[slot])
        cs += [z3.Not(f) for f in X.fired]
        for k, kind in enumerate(m.kinds):
            n = 0
            for s, cnt in enumerate(kind.init_counts):
                for _ in range(cnt):
                    cs.append(X.st[k][n] == s)
                    cs += [x == _lit(v.init) for v, x in zip(kind.locals, X.loc[k][n])]
                    n += 1
            cs += [z3.Not(a) for a in X.acted[k]]
        return z3.And(*cs) if cs else z3.BoolVal(True)

    def clear(self, X: Frame) -> z3.BoolRef:
        """No acted or fired mark: what every tick state satisfies."""
        cs = [z3.Not(f) for f in X.fired] + [z3.Not(a) for ka in X.acted for a in ka]
        return z3.And(*cs) if cs else z3.BoolVal(True)

    # ---- expressions ----------------------------------------------------------------------

    def expr(self, e: ir.Expr, X: Frame, node: tuple[int, int] | None) -> Term:
        key = ("expr", id(e), node)
        hit = X.cache.get(key)
        if hit is None:
            hit = self._expr(e, X, node)
            X.cache[key] = (hit, e)  # keep e alive so id() stays unique
            return hit
        return hit[0]  # type: ignore[index, no-any-return]

    def _expr(self, e: ir.Expr, X: Frame, node: tuple[int, int] | None) -> Term:
        m = self.m
        if isinstance(e, ir.Lit):
            if e.type is ir.Type.BOOL:
                return Term(z3.BoolVal(bool(e.value)))
            return Term(z3.IntVal(int(e.value)), None, (int(e.value), int(e.value)))
        if isinstance(e, ir.GlobalRef):
            v = m.globals[e.index]
            return Term(X.g[e.index], None, None if v.type is ir.Type.BOOL else (v.lo, v.hi))
        if isinstance(e, ir.LocalRef):
            assert node is not None
            k, n = node
            v = m.kinds[k].locals[e.index]
            return Term(X.loc[k][n][e.index], None, None if v.type is ir.Type.BOOL else (v.lo, v.hi))
        if isinstance(e, ir.Unary):
            a = self.expr(e.operand, X, node)
            if e.op == "not":
                return Term(z3.Not(a.v), a.e)
            neg: Bounds = None if a.b is None else (-a.b[1], -a.b[0])
            err = a.e
            if a.b is None or a.b[0] <= INT_MIN:
                err = _or(err, a.v == INT_MIN)
            return Term(-a.v, err, neg)
        if isinstance(e, ir.Ite):
            c = self.expr(e.cond, X, node)
            t = self.expr(e.then, X, node)
            f = self.expr(e.orelse, X, node)
            err = _or(c.e, _and_err(c.v, t.e), _and_err(z3.Not(c.v), f.e))
            bounds: Bounds = None
            if t.b is not None and f.b is not None:
                bounds = (min(t.b[0], f.b[0]), max(t.b[1], f.b[1]))
            return Term(z3.If(c.v, t.v, f.v), err, bounds)
        if isinstance(e, ir.MinMax):
            args = [self.expr(a, X, node) for a in e.args]
            v = args[0].v
            for a in args[1:]:
                v = z3.If(a.v < v, a.v, v) if e.fn == "min" else z3.If(a.v > v, a.v, v)
            bounds = None
            if all(a.b is not None for a in args):
                los = [a.b[0] for a in args]  # type: ignore[index]
                his = [a.b[1] for a in args]  # type: ignore[index]
                bounds = (min(los), min(his)) if e.fn == "min" else (max(los), max(his))
            return Term(v, _or(*[a.e for a in args]), bounds)
        if isinstance(e, ir.CountOf):
            kind = m.kinds[e.kind]
            terms, errs = [], []
            for n in range(kind.count):
                here = X.st[e.kind][n] == e.state
                if e.where is None:
                    terms.append(z3.If(here, 1, 0))
                    continue
                w = self.expr(e.where, X, (e.kind, n))
                terms.append(z3.If(z3.And(here, w.v), 1, 0))
                if w.e is not None:
                    errs.append(z3.And(here, w.e))
            v = z3.Sum(*terms) if terms else z3.IntVal(0)
            return Term(v, _or(*errs), (0, kind.count))
        assert isinstance(e, ir.Binary)
        a = self.expr(e.left, X, node)
        if e.op in ("and", "or"):
            b = self.expr(e.right, X, node)
            if e.op == "and":
                return Term(z3.And(a.v, b.v), _or(a.e, _and_err(a.v, b.e)))
            return Term(z3.Or(a.v, b.v), _or(a.e, _and_err(z3.Not(a.v), b.e)))
        b = self.expr(e.right, X, node)
        err = _or(a.e, b.e)
        if e.op in ir.CMP_OPS:
            ops = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
                   "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}
            return Term(ops[e.op](a.v, b.v), err)
        return self._arith(e.op, a, b, err)

    def _arith(self, op: str, a: Term, b: Term, err: z3.BoolRef | None) -> Term:
        bounds: Bounds = None
        if op == "**":
            return self._pow(a, b, err)
        if op in ("+", "-", "*"):
            v = a.v + b.v if op == "+" else a.v - b.v if op == "-" else a.v * b.v
            if a.b is not None and b.b is not None:
                cs = [_py(op, x, y) for x in a.b for y in b.b]
                bounds = (min(cs), max(cs))
        else:
            if b.b is None or b.b[0] <= 0 <= b.b[1]:
                err = _or(err, b.v == 0)
            q = a.v / b.v
            r = a.v % b.v
            # Z3 keeps the remainder non-negative; Python floors (remainder takes b's sign)
            adj = z3.And(b.v < 0, r != 0)
            if op == "/":
                v = z3.If(adj, q - 1, q)
                if a.b is not None and b.b is not None:
                    ds = [d for d in (b.b[0], b.b[1], -1, 1) if b.b[0] <= d <= b.b[1] and d != 0]
                    if ds:
                        cs = [x // d for x in a.b for d in ds]
                        bounds = (min(cs), max(cs))
            else:
                v = z3.If(adj, r + b.v, r)
                if b.b is not None:
                    bounds = (min(0, b.b[0] + 1), max(0, b.b[1] - 1))
        if bounds is None or bounds[0] < INT_MIN or bounds[1] > INT_MAX:
            err = _or(err, z3.Or(v < INT_MIN, v > INT_MAX))
            if bounds is not None:
                bounds = (max(bounds[0], INT_MIN), min(bounds[1], INT_MAX))
        return Term(v, err, bounds)

    def _pow(self, a: Term, b: Term, err: z3.BoolRef | None) -> Term:
        if a.b is not None and b.b is not None and (a.b[1] - a.b[0] + 1) * (b.b[1] - b.b[0] + 1) <= 512:
            # tabulate: exact values and errors straight from the reference arithmetic
            v: z3.ExprRef = z3.IntVal(0)
            errs = []
            vals = []
            for x in range(a.b[0], a.b[1] + 1):
                for y in range(b.b[0], b.b[1] + 1):
                    here = z3.And(a.v == x, b.v == y)
                    try:
                        r = arith("**", x, y)
                    except ModelError:
                        errs.append(here)
                        continue
                    vals.append(r)
                    v = z3.If(here, r, v)
            bounds = (min(vals), max(vals)) if vals else (0, 0)
            return Term(v, _or(err, *errs), bounds)
        lo = 0 if b.b is None else max(0, b.b[0])
        hi = 64 if b.b is None else min(64, b.b[1])
        big = z3.If(a.v == 0, 0, z3.If(a.v == 1, 1, z3.If(a.v == -1, z3.If(b.v % 2 == 0, 1, -1), 0)))
        v = big
        for y in range(hi, lo - 1, -1):
            p: z3.ExprRef = z3.IntVal(1)
            for _ in range(y):
                p = p * a.v
            v = z3.If(b.v == y, p, v)
        errs = [b.v < 0, z3.And(b.v > 64, z3.Or(a.v > 1, a.v < -1)),
                z3.And(b.v >= 0, b.v <= 64, z3.Or(v < INT_MIN, v > INT_MAX))]
        return Term(v, _or(err, *errs), None)

    # ---- steps ----------------------------------------------------------------------------

    def _block(
        self, updates: Sequence[ir.Assign], X: Frame, node: tuple[int, int] | None, kind: int | None
    ) -> tuple[dict[tuple[object, ...], z3.ExprRef], z3.BoolRef | None]:
        """Values a block stores (simultaneous: all read X) and when it fails."""
        post: dict[tuple[object, ...], z3.ExprRef] = {}
        errs: list[z3.BoolRef | None] = []
        for a in updates:
            t = self.expr(a.value, X, node)
            errs.append(t.e)
            if a.local:
                assert node is not None and kind is not None
                var = self.m.kinds[kind].locals[a.index]
                old = X.loc[node[0]][node[1]][a.index]
                key: tuple[object, ...] = ("l", node[0], node[1], a.index)
            else:
                var = self.m.globals[a.index]
                old = X.g[a.index]
                key = ("g", a.index)
            if a.op in ("+=", "-="):
                t = self._arith(a.op[0], Term(old, None, (var.lo, var.hi)), t, None)
                errs.append(t.e)
            if var.type is ir.Type.INT:
                if t.b is None or t.b[0] < var.lo or t.b[1] > var.hi:
                    errs.append(z3.Or(t.v < var.lo, t.v > var.hi))
            post[key] = t.v
        return post, _or(*errs)

    def info(self, X: Frame, c: int) -> CandInfo:
        key = ("cand", c)
        hit = X.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[return-value]
        cand = self.cands[c]
        ev = cand.event
        if cand.kind is StepKind.ACTION:
            i = ev.event - len(self.m.rules)
            pre = z3.Not(X.fired[i])
        elif cand.kind is StepKind.FAULT:
            assert isinstance(ev, ir.Fault)
            parts = []
            if ev.slot is not None:
                parts.append(X.lim[ev.slot] > 0)
            if cand.node is not None:
                parts.append(X.st[cand.node[0]][cand.node[1]] == ev.src)
            pre = z3.And(*parts) if parts else z3.BoolVal(True)
        else:
            assert cand.node is not None and isinstance(ev, ir.Rule)
            k, n = cand.node
            pre = z3.And(X.st[k][n] == ev.src, z3.Not(X.acted[k][n]))
        if ev.guard is None:
            g, ge = z3.BoolVal(True), None
        else:
            t = self.expr(ev.guard, X, cand.node)
            g, ge = t.v, t.e
        kind = cand.node[0] if cand.node is not None else None
        post, ue = self._block(ev.updates, X, cand.node, kind)
        info = CandInfo(pre, g, ge, post, ue)
        X.cache[key] = info
        return info

    def tick_allowed(self, X: Frame) -> z3.BoolRef:
        cs = [z3.Not(self.info(X, c).blocks_tick) for c, cand in enumerate(self.cands)
              if cand.kind is not StepKind.FAULT]
        return z3.And(*cs) if cs else z3.BoolVal(True)

    def tick_block(self, X: Frame) -> tuple[dict[tuple[object, ...], z3.ExprRef], z3.BoolRef | None]:
        key = ("tick",)
        hit = X.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[return-value]
        post, err = self._block(self.m.tick, X, None, None)
        errs = [err]
        for k, kind in enumerate(self.m.kinds):
            for n in range(kind.count):
                p, e = self._block(kind.tick, X, (k, n), k)
                post.update(p)
                errs.append(e)
        out = (post, _or(*errs))
        X.cache[key] = out
        return out

    def error(self, X: Frame) -> z3.BoolRef:
        """Some step from X raises a model error (the tick included)."""
        hit = X.cache.get(("error",))
        if hit is not None:
            return hit
        out = z3.simplify(z3.Or(self.step_error(X), self.tick_error(X)))
        X.cache[("error",)] = out
        return out

    def step_error(self, X: Frame) -> z3.BoolRef:
        """Some rule, action or fault step from X raises a model error."""
        hit = X.cache.get(("step_error",))
        if hit is not None:
            return hit
        errs = [self.info(X, c).err for c in range(len(self.cands))]
        out = z3.simplify(z3.Or(*errs)) if errs else z3.BoolVal(False)
        X.cache[("step_error",)] = out
        return out

    def tick_error(self, X: Frame) -> z3.BoolRef:
        """The tick step from X is allowed and raises a model error."""
        _, te = self.tick_block(X)
        return z3.simplify(z3.And(self.tick_allowed(X), te)) if te is not None else z3.BoolVal(False)

    def sel(self, tag: str) -> Sel:
        return Sel(tag, self.stutter + 1)

    def micro(self, X: Frame, Y: Frame, sel: Sel) -> list[z3.BoolRef]:
        """X -> Y by the candidate `sel` picks, or a stutter (the stutter candidate)."""
        m = self.m
        cs: list[z3.BoolRef] = sel.domain()
        infos = [self.info(X, c) for c in range(len(self.cands))]
        for c, inf in enumerate(infos):
            cs.append(z3.Implies(sel.is_(c), z3.And(inf.ok, *self._first_of_equals(X, self.cands[c]))))
        writes: dict[tuple[object, ...], list[tuple[int, z3.ExprRef]]] = {}
        for c, (cand, inf) in enumerate(zip(self.cands, infos)):
            for key, val in inf.post.items():
                writes.setdefault(key, []).append((c, val))
            ev = cand.event
            if cand.node is not None:
                k, n = cand.node
                writes.setdefault(("st", k, n), []).append((c, z3.IntVal(ev.dst)))  # type: ignore[union-attr]
            if isinstance(ev, ir.Fault) and ev.slot is not None:
                writes.setdefault(("lim", ev.slot), []).append((c, X.lim[ev.slot] - 1))

        def chain(key: tuple[object, ...], old: z3.ExprRef) -> z3.ExprRef:
            v = old
            for c, val in reversed(writes.get(key, [])):
                v = z3.If(sel.is_(c), val, v)
            return v

        for i, x in enumerate(X.g):
            cs.append(Y.g[i] == chain(("g", i), x))
        for s, x in enumerate(X.lim):
            cs.append(Y.lim[s] == chain(("lim", s), x))
        for i, a in enumerate(m.actions):
            c = self.cands.index(Cand(StepKind.ACTION, a, None))
            cs.append(Y.fired[i] == z3.Or(X.fired[i], sel.is_(c)))
        rule_cands: dict[tuple[int, int], list[int]] = {}
        for c, cand in enumerate(self.cands):
            if cand.kind is StepKind.RULE and cand.node is not None:
                rule_cands.setdefault(cand.node, []).append(c)
        for k, kind in enumerate(m.kinds):
            for n in range(kind.count):
                cs.append(Y.st[k][n] == chain(("st", k, n), X.st[k][n]))
                for i in range(len(kind.locals)):
                    cs.append(Y.loc[k][n][i] == chain(("l", k, n, i), X.loc[k][n][i]))
                acts = [sel.is_(c) for c in rule_cands.get((k, n), [])]
                cs.append(Y.acted[k][n] == z3.Or(X.acted[k][n], *acts))
        return cs

    def _first_of_equals(self, X: Frame, cand: Cand) -> list[z3.BoolRef]:
        """Symmetry reduction: of nodes in equal situations, only the first may move.

        Moving another one leads to a permutation of the same state, and nodes are
        interchangeable, so every multiset-state stays reachable.
        """
        if cand.node is None:
            return []
        k, n = cand.node
        out = []
        for m in range(n):
            same = [X.st[k][m] == X.st[k][n], X.acted[k][m] == X.acted[k][n]]
            same += [a == b for a, b in zip(X.loc[k][m], X.loc[k][n])]
            out.append(z3.Not(z3.And(*same)))
        return out

    def tick(self, X: Frame, Y: Frame) -> list[z3.BoolRef]:
        """X -> Y by a tick: maximal progress, tick blocks, timers, marks cleared."""
        m = self.m
        post, err = self.tick_block(X)
        cs = [self.tick_allowed(X)]
        if err is not None:
            cs.append(z3.Not(err))
        for i, (v, x) in enumerate(zip(m.globals, X.g)):
            if ("g", i) in post:
                cs.append(Y.g[i] == post[("g", i)])
            elif v.is_timer:
                cs.append(Y.g[i] == z3.If(x > 0, x - 1, 0))
            else:
                cs.append(Y.g[i] == x)
        cs += [Y.lim[s] == X.lim[s] for s in range(len(X.lim))]
        cs += [z3.Not(f) for f in Y.fired]
        for k, kind in enumerate(m.kinds):
            for n in range(kind.count):
                cs.append(Y.st[k][n] == X.st[k][n])
                cs.append(z3.Not(Y.acted[k][n]))
                for i, v in enumerate(kind.locals):
                    x = X.loc[k][n][i]
                    if ("l", k, n, i) in post:
                        cs.append(Y.loc[k][n][i] == post[("l", k, n, i)])
                    elif v.is_timer:
                        cs.append(Y.loc[k][n][i] == z3.If(x > 0, x - 1, 0))
                    else:
                        cs.append(Y.loc[k][n][i] == x)
        return cs

    # ---- checks ---------------------------------------------------------------------------

    def check_term(self, e: ir.Expr, X: Frame) -> tuple[z3.BoolRef, z3.BoolRef]:
        """A check expression's value and its error condition."""
        t = self.expr(e, X, None)
        return t.v, err_of(t.e)

    def fair_enabled(self, X: Frame, event: ir.Rule | ir.Action) -> z3.BoolRef:
        """The reference's fair_enabled for one event (a guard that raises counts as disabled)."""
        parts = []
        for c, cand in enumerate(self.cands):
            if cand.event is event:
                inf = self.info(X, c)
                parts.append(z3.And(inf.pre, inf.guard, z3.Not(err_of(inf.gerr))))
        return z3.Or(*parts) if parts else z3.BoolVal(False)

    def canon(self, X: Frame, tag: str) -> tuple[list[z3.ExprRef], list[z3.BoolRef]]:
        """A node-order-free key of a tick state: every kind's node situations, sorted.

        Each kind's nodes are put through a permutation whose image is lexicographically
        sorted, so two tick states that differ only by which node is which get equal keys.
        """
        key: list[z3.ExprRef] = list(X.g) + list(X.lim)
        cs: list[z3.BoolRef] = []
        for k, kind in enumerate(self.m.kinds):
            rows = []
            for n in range(kind.count):
                row = [X.st[k][n]] + [z3.If(x, 1, 0) if v.type is ir.Type.BOOL else x
                                      for v, x in zip(kind.locals, X.loc[k][n])]
                rows.append(row)
            if kind.count <= 1:
                key += [x for row in rows for x in row]
                continue
            perm = [z3.Int(f"{kind.name}.perm[{i}]@{tag}") for i in range(kind.count)]
            cs += [z3.And(p >= 0, p < kind.count) for p in perm]
            cs.append(z3.Distinct(*perm))
            srt = []
            for i, p in enumerate(perm):
                srow = []
                for f in range(len(rows[0])):
                    v = rows[0][f]
                    for n in range(1, kind.count):
                        v = z3.If(p == n, rows[n][f], v)
                    srow.append(v)
                srt.append(srow)
            for i in range(kind.count - 1):
                cs.append(_lex_le(srt[i], srt[i + 1]))
            key += [x for row in srt for x in row]
        return key, cs

    # ---- back to reference values ---------------------------------------------------------

    def value(self, mdl: z3.ModelRef, x: z3.ExprRef, t: ir.Type) -> ir.Value:
        return _pyval(t, mdl.eval(x, model_completion=True))


def _lex_le(a: list[z3.ExprRef], b: list[z3.ExprRef]) -> z3.BoolRef:
    out: z3.BoolRef = z3.BoolVal(True)
    for x, y in reversed(list(zip(a, b))):
        out = z3.Or(x < y, z3.And(x == y, out))
    return out


def _lit(v: ir.Value) -> z3.ExprRef:
    return z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v)


def _py(op: str, x: int, y: int) -> int:
    return x + y if op == "+" else x - y if op == "-" else x * y
