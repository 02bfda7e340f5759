"""The counter-abstracted step relation of language.md section 5, over Z3 integers.

A symbolic state holds every global, every remaining fault limit, every action's fired mark
and, per node kind, one counter per situation (state x local values) and acted mark: how many
nodes are there. The parameters (`--for-all` constants) are Z3 integers shared by every state,
so the formula has the same size for every N. A step is one *label*: a rule taken by one node
of a situation, an action, a fault (on one node of a situation), or the tick. Every label
compiles to (ok, err, post): ok says the step can be taken without error, err that taking it
is a model error (the reference raises), post the state after it. Expressions compile to
(value, error) as the reference evaluator computes them, short-circuits included.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import z3

from checker.engines.param.params import ParamModel, ParamRef
from checker.model import ir
from checker.model.evaluate import INT_MAX, INT_MIN
from checker.model.semantics import StepKind

MAX_SITUATIONS = 4096  # per kind: states x local values


class Unsupported(Exception):
    """A construct `prove` does not encode; the message names it."""


Locals = tuple[ir.Value, ...]
FALSE = z3.BoolVal(False)
TRUE = z3.BoolVal(True)


def _or(*xs: z3.BoolRef | None) -> z3.BoolRef | None:
    ys = [x for x in xs if x is not None and not z3.is_false(x)]
    if not ys:
        return None
    return ys[0] if len(ys) == 1 else z3.Or(*ys)


def _and(c: z3.BoolRef, e: z3.BoolRef | None) -> z3.BoolRef | None:
    return None if e is None else z3.And(c, e)


def _lit(v: ir.Value) -> z3.ExprRef:
    return z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v)


@dataclass
class St:
    """One symbolic state."""

    g: list[z3.ExprRef]
    lim: list[z3.ArithRef]
    fired: list[z3.BoolRef]
    c: list[list[list[z3.ArithRef]]]  # [kind][situation][acted 0/1]

    def flat(self) -> list[z3.ExprRef]:
        out = [*self.g, *self.lim, *self.fired]
        for kind in self.c:
            for pair in kind:
                out.extend(pair)
        return out


@dataclass(frozen=True)
class Label:
    """One kind of step: which event, and for a node event which situation (and acted mark)."""

    kind: StepKind
    event: ir.Rule | ir.Action | ir.Fault | None
    sit: int | None = None
    acted: int = 0

    @property
    def name(self) -> str:
        return "tick" if self.event is None else self.event.name


@dataclass
class Compiled:
    ok: z3.BoolRef
    err: z3.BoolRef
    post: St
    blocks_tick: z3.BoolRef = field(default_factory=lambda: FALSE)


class CounterSystem:
    """The encoding of one model with free parameters."""

    def __init__(self, pm: ParamModel) -> None:
        self.pm = pm
        self.m = m = pm.model
        self.p = {name: z3.Int(name) for name in pm.params}
        self.slots = [f for f in m.faults if f.slot is not None]
        self.sits: list[list[tuple[int, Locals]]] = []
        for kind in m.kinds:
            domains = [[False, True] if v.type is ir.Type.BOOL else list(range(v.lo, v.hi + 1)) for v in kind.locals]
            size = len(kind.states)
            for d in domains:
                size *= len(d)
            if size > MAX_SITUATIONS:
                raise Unsupported(
                    f"node kind '{kind.name}' has {size} situations (states x local values), more than {MAX_SITUATIONS}"
                )
            self.sits.append([(s, tuple(loc)) for s in range(len(kind.states)) for loc in itertools.product(*domains)])
        self.sit_index = [{sit: i for i, sit in enumerate(ks)} for ks in self.sits]
        self.glo = [self.const(v.lo) for v in pm.globals]
        self.ghi = [self.const(v.hi) for v in pm.globals]
        self.ginit = [self.const(v.init) for v in pm.globals]
        self.counts = [self.const(c) for c in pm.counts]
        self.limit_of = {f.slot: self.const(pm.limits[i]) for i, f in enumerate(m.faults) if f.slot is not None}
        self.labels: list[Label] = []
        for r in m.rules:
            for i, (s, _loc) in enumerate(self.sits[r.kind]):
                if s == r.src:
                    self.labels.append(Label(StepKind.RULE, r, i, 0))
        for a in m.actions:
            self.labels.append(Label(StepKind.ACTION, a))
        for f in m.faults:
            if f.kind is None:
                self.labels.append(Label(StepKind.FAULT, f))
            else:
                for i, (s, _loc) in enumerate(self.sits[f.kind]):
                    if s == f.src:
                        self.labels.append(Label(StepKind.FAULT, f, i, 0))
                        self.labels.append(Label(StepKind.FAULT, f, i, 1))
        self.labels.append(Label(StepKind.TICK, None))

    # ---- constants and parameters ----------------------------------------------------------

    def const(self, x: object) -> z3.ExprRef:
        """A constant expression over the parameters; one that can fail is refused."""
        if x is None:
            return z3.IntVal(0)
        s = self._dummy_state()
        v, e = self.expr(x, s, None)  # type: ignore[arg-type]
        if e is not None and not z3.is_false(z3.simplify(e)):
            sol = z3.Solver()
            sol.add(*[z3.And(x >= 0, x <= INT_MAX) for x in self.p.values()], e)
            if sol.check() != z3.unsat:
                raise Unsupported("a constant expression over the parameters that can fail (division, overflow)")
        return z3.simplify(v)

    def _dummy_state(self) -> St:
        return St([], [], [], [])

    def param_constraints(self) -> list[z3.BoolRef]:
        """Each parameter in 0..2**63-1, every --assume, and the values that keep the spec well formed."""
        cs: list[z3.BoolRef] = []
        for x in self.p.values():
            cs += [x >= 0, x <= INT_MAX]
        for _text, a in self.pm.assume:
            cs.append(self.const(a) == TRUE)
        cs += self.well_formed()
        return cs

    def well_formed(self) -> list[z3.BoolRef]:
        cs: list[z3.BoolRef] = []
        for v, lo, hi, init in zip(self.m.globals, self.glo, self.ghi, self.ginit):
            if v.type is ir.Type.INT:
                cs.append(lo <= hi)
                if not v.is_timer:
                    cs += [lo <= init, init <= hi]
        for k, kind in enumerate(self.m.kinds):
            cs.append(self.counts[k] >= 0)
            per = [self.const(x) for x in self.pm.init_counts[k]]
            cs += [x >= 0 for x in per]
            cs.append(z3.Sum(per) == self.counts[k] if per else self.counts[k] == 0)
        for lim in self.limit_of.values():
            cs.append(lim >= 0)
        return [c for c in (z3.simplify(c) for c in cs) if not z3.is_true(c)]

    # ---- states ----------------------------------------------------------------------------

    def state(self, tag: str) -> St:
        m = self.m
        g = [z3.Bool(f"{v.name}@{tag}") if v.type is ir.Type.BOOL else z3.Int(f"{v.name}@{tag}") for v in m.globals]
        lim = [z3.Int(f"limit.{f.name}@{tag}") for f in self.slots]
        fired = [z3.Bool(f"fired.{a.name}@{tag}") for a in m.actions]
        c = []
        for k, kind in enumerate(m.kinds):
            c.append([[z3.Int(f"#{self.sit_name(k, i)}{'.acted' if a else ''}@{tag}") for a in (0, 1)]
                      for i in range(len(self.sits[k]))])
        return St(g, lim, fired, c)

    def sit_name(self, k: int, i: int) -> str:
        kind = self.m.kinds[k]
        s, loc = self.sits[k][i]
        parts = [f"{v.name}={str(x).lower()}" for v, x in zip(kind.locals, loc)]
        return kind.states[s] + (f"[{','.join(parts)}]" if parts else "")

    def domain(self, s: St) -> z3.BoolRef:
        """What every reachable state satisfies by construction (ranges, counts, limits)."""
        cs: list[z3.BoolRef] = []
        for v, x, lo, hi in zip(self.m.globals, s.g, self.glo, self.ghi):
            if v.type is ir.Type.INT:
                cs += [x >= lo, x <= hi]
        for f, x in zip(self.slots, s.lim):
            cs += [x >= 0, x <= self.limit_of[f.slot]]  # type: ignore[index]
        for k in range(len(self.m.kinds)):
            xs = [x for pair in s.c[k] for x in pair]
            cs += [x >= 0 for x in xs]
            cs.append(z3.Sum(xs) == self.counts[k] if xs else self.counts[k] == 0)
        return z3.And(*cs) if cs else TRUE

    def init(self, s: St) -> z3.BoolRef:
        cs: list[z3.BoolRef] = [x == v for x, v in zip(s.g, self.ginit)]
        cs += [x == self.limit_of[f.slot] for f, x in zip(self.slots, s.lim)]  # type: ignore[index]
        cs += [z3.Not(x) for x in s.fired]
        for k, kind in enumerate(self.m.kinds):
            start = tuple(v.init for v in kind.locals)
            per = [self.const(x) for x in self.pm.init_counts[k]]
            for i, (st, loc) in enumerate(self.sits[k]):
                cs.append(s.c[k][i][1] == 0)
                cs.append(s.c[k][i][0] == (per[st] if loc == start else 0))
        return z3.And(*cs)

    def init_state(self) -> St:
        """The initial state as expressions over the parameters."""
        g = list(self.ginit)
        for i, v in enumerate(self.m.globals):
            if v.type is ir.Type.BOOL:
                g[i] = z3.BoolVal(bool(v.init))
        lim = [self.limit_of[f.slot] for f in self.slots]  # type: ignore[index]
        c = []
        for k, kind in enumerate(self.m.kinds):
            start = tuple(v.init for v in kind.locals)
            per = [self.const(x) for x in self.pm.init_counts[k]]
            c.append([[per[st] if loc == start else z3.IntVal(0), z3.IntVal(0)] for st, loc in self.sits[k]])
        return St(g, lim, [FALSE for _ in self.m.actions], c)

    def tick_state(self, s: St) -> z3.BoolRef:
        cs = [z3.Not(x) for x in s.fired] + [pair[1] == 0 for kind in s.c for pair in kind]
        return z3.And(*cs) if cs else TRUE

    def equal(self, a: St, b: St) -> z3.BoolRef:
        return z3.And(*[x == y for x, y in zip(a.flat(), b.flat())])

    # ---- expressions -----------------------------------------------------------------------

    def expr(self, e: ir.Expr, s: St, loc: Locals | None) -> tuple[z3.ExprRef, z3.BoolRef | None]:
        if isinstance(e, ir.Lit):
            return _lit(e.value), None
        if isinstance(e, ParamRef):
            return self.p[e.name], None
        if isinstance(e, ir.GlobalRef):
            return s.g[e.index], None
        if isinstance(e, ir.LocalRef):
            assert loc is not None
            return _lit(loc[e.index]), None
        if isinstance(e, ir.Unary):
            v, err = self.expr(e.operand, s, loc)
            if e.op == "not":
                return z3.Not(v), err
            return -v, self._range_err(-v, err)
        if isinstance(e, ir.Binary):
            a, ea = self.expr(e.left, s, loc)
            b, eb = self.expr(e.right, s, loc)
            if e.op == "and":
                return z3.And(a, b), _or(ea, _and(a, eb))
            if e.op == "or":
                return z3.Or(a, b), _or(ea, _and(z3.Not(a), eb))
            err = _or(ea, eb)
            if e.op in ir.CMP_OPS:
                return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[e.op], err
            return self._arith(e.op, a, b, err)
        if isinstance(e, ir.Ite):
            c, ec = self.expr(e.cond, s, loc)
            t, et = self.expr(e.then, s, loc)
            f, ef = self.expr(e.orelse, s, loc)
            return z3.If(c, t, f), _or(ec, _and(c, et), _and(z3.Not(c), ef))
        if isinstance(e, ir.MinMax):
            vals = [self.expr(a, s, loc) for a in e.args]
            v = vals[0][0]
            for x, _ in vals[1:]:
                v = z3.If(x < v, x, v) if e.fn == "min" else z3.If(x > v, x, v)
            return v, _or(*[er for _, er in vals])
        if isinstance(e, ir.CountOf):
            terms: list[z3.ArithRef] = []
            errs: list[z3.BoolRef | None] = []
            for i, (st, sloc) in enumerate(self.sits[e.kind]):
                if st != e.state:
                    continue
                n = s.c[e.kind][i][0] + s.c[e.kind][i][1]
                if e.where is None:
                    terms.append(n)
                    continue
                w, we = self.expr(e.where, s, sloc)
                w = z3.simplify(w)
                if we is not None:
                    errs.append(z3.And(n > 0, we))
                if z3.is_false(w):
                    continue
                terms.append(n if z3.is_true(w) else z3.If(w, n, 0))
            return (z3.Sum(terms) if terms else z3.IntVal(0)), _or(*errs)
        raise Unsupported(f"expression {type(e).__name__}")

    def _range_err(self, v: z3.ArithRef, err: z3.BoolRef | None) -> z3.BoolRef | None:
        v = z3.simplify(v)
        if z3.is_int_value(v):
            return _or(err, z3.BoolVal(not INT_MIN <= v.as_long() <= INT_MAX))
        return _or(err, z3.Or(v < INT_MIN, v > INT_MAX))

    def _arith(self, op: str, a: z3.ArithRef, b: z3.ArithRef, err: z3.BoolRef | None
               ) -> tuple[z3.ExprRef, z3.BoolRef | None]:
        if op == "+":
            return a + b, self._range_err(a + b, err)
        if op == "-":
            return a - b, self._range_err(a - b, err)
        if op == "*":
            return a * b, self._range_err(a * b, err)
        if op in ("/", "%"):
            q = z3.If(b > 0, a / b, (-a) / (-b))  # floor division, as in Python
            zero = _or(err, b == 0)
            if op == "/":
                return q, self._range_err(q, zero)
            return a - b * q, zero
        if op == "**":
            bs = z3.simplify(b)
            if not z3.is_int_value(bs):
                raise Unsupported("'**' with an exponent that depends on the state or a parameter")
            n = bs.as_long()
            if n < 0:
                return z3.IntVal(0), _or(err, TRUE)
            r: z3.ArithRef = z3.IntVal(1)
            e2 = err
            for _ in range(min(n, 64)):
                r = r * a
                e2 = self._range_err(r, e2)
            if n > 64:
                e2 = _or(e2, z3.And(a != 0, a != 1, a != -1))
                r = z3.If(a == -1, z3.IntVal(1 if n % 2 == 0 else -1), a)
            return r, e2
        raise Unsupported(f"operator {op}")  # pragma: no cover

    # ---- steps -----------------------------------------------------------------------------

    def _assign(self, updates: tuple[ir.Assign, ...], s: St, loc: Locals | None, kind: ir.Kind | None
                ) -> tuple[list[z3.ExprRef], list[z3.ExprRef] | None, z3.BoolRef | None]:
        g = list(s.g)
        new_l: list[z3.ExprRef] | None = [_lit(x) for x in loc] if loc is not None else None
        err: z3.BoolRef | None = None
        for a in updates:
            v, e = self.expr(a.value, s, loc)
            err = _or(err, e)
            if a.local:
                assert kind is not None and loc is not None and new_l is not None
                var = kind.locals[a.index]
                old: z3.ExprRef = _lit(loc[a.index])
                lo, hi = z3.IntVal(var.lo), z3.IntVal(var.hi)
            else:
                var = self.m.globals[a.index]
                old = s.g[a.index]
                lo, hi = self.glo[a.index], self.ghi[a.index]
            if a.op == "+=":
                v = old + v
                err = self._range_err(v, err)
            elif a.op == "-=":
                v = old - v
                err = self._range_err(v, err)
            if var.type is ir.Type.INT:
                v = z3.simplify(v)
                out = z3.Or(v < lo, v > hi)
                err = _or(err, z3.simplify(out))
            if a.local:
                assert new_l is not None
                new_l[a.index] = v
            else:
                g[a.index] = v
        return g, new_l, err

    def _moved(self, k: int, dst: int, new_l: list[z3.ExprRef]) -> list[tuple[int, z3.BoolRef]]:
        """Which situations of kind k a node moved to `dst` with locals `new_l` may land in."""
        vals = [z3.simplify(x) for x in new_l]
        if all(z3.is_int_value(x) or z3.is_true(x) or z3.is_false(x) for x in vals):
            conc = tuple(bool(z3.is_true(x)) if z3.is_bool(x) else x.as_long() for x in vals)
            i = self.sit_index[k].get((dst, conc))
            return [] if i is None else [(i, TRUE)]
        out = []
        for i, (st, sloc) in enumerate(self.sits[k]):
            if st == dst:
                out.append((i, z3.And(*[x == _lit(y) for x, y in zip(vals, sloc)]) if vals else TRUE))
        return out

    def compile(self, lab: Label, s: St) -> Compiled:
        m = self.m
        if lab.kind is StepKind.TICK:
            return self._tick(s)
        ev = lab.event
        assert ev is not None
        pre: list[z3.BoolRef] = []
        lim = list(s.lim)
        fired = list(s.fired)
        c = [[list(pair) for pair in kind] for kind in s.c]
        loc = None
        kind = None
        if isinstance(ev, ir.Action):
            i = m.actions.index(ev)
            pre.append(z3.Not(s.fired[i]))
            fired[i] = TRUE
        if isinstance(ev, ir.Fault) and ev.slot is not None:
            pre.append(s.lim[ev.slot] > 0)
            lim[ev.slot] = s.lim[ev.slot] - 1
        if lab.sit is not None:
            assert isinstance(ev, (ir.Rule, ir.Fault)) and ev.kind is not None
            kind = m.kinds[ev.kind]
            loc = self.sits[ev.kind][lab.sit][1]
            pre.append(s.c[ev.kind][lab.sit][lab.acted] >= 1)
        guard, gerr = (TRUE, None) if ev.guard is None else self.expr(ev.guard, s, loc)
        g, new_l, uerr = self._assign(ev.updates, s, loc, kind)
        if lab.sit is not None:
            assert new_l is not None and ev.kind is not None  # type: ignore[union-attr]
            k = ev.kind  # type: ignore[union-attr]
            to_acted = 1 if lab.kind is StepKind.RULE else lab.acted
            c[k][lab.sit][lab.acted] = c[k][lab.sit][lab.acted] - 1
            dests = self._moved(k, ev.dst, new_l)  # type: ignore[union-attr]
            for i, cond in dests:
                c[k][i][to_acted] = c[k][i][to_acted] + (1 if z3.is_true(cond) else z3.If(cond, 1, 0))
            if not dests:  # the locals are out of range: the range check is the error
                uerr = _or(uerr, TRUE)
        pre_b = z3.And(*pre) if pre else TRUE
        ok = z3.And(pre_b, guard, *([z3.Not(gerr)] if gerr is not None else []),
                    *([z3.Not(uerr)] if uerr is not None else []))
        err_parts = _or(gerr, _and(guard, uerr))
        err = FALSE if err_parts is None else z3.And(pre_b, err_parts)
        blocks = FALSE
        if lab.kind in (StepKind.RULE, StepKind.ACTION):
            blocks = z3.And(pre_b, guard if gerr is None else z3.Or(guard, gerr))
        return Compiled(ok, err, St(g, lim, fired, c), blocks)

    def blocks_tick(self, s: St) -> z3.BoolRef:
        parts = [self.compile(lab, s).blocks_tick for lab in self.labels
                 if lab.kind in (StepKind.RULE, StepKind.ACTION)]
        return z3.Or(*parts) if parts else FALSE

    def _tick(self, s: St) -> Compiled:
        m = self.m
        allowed = z3.Not(self.blocks_tick(s))
        g, _, err = self._assign(m.tick, s, None, None)
        assigned = {a.index for a in m.tick}
        for i, v in enumerate(m.globals):
            if v.is_timer and i not in assigned:
                g[i] = z3.If(s.g[i] > 0, s.g[i] - 1, 0)
        c = []
        for k, kind in enumerate(m.kinds):
            new = [[z3.IntVal(0), z3.IntVal(0)] for _ in self.sits[k]]
            local_assigned = {a.index for a in kind.tick}
            for i, (st, loc) in enumerate(self.sits[k]):
                n = s.c[k][i][0] + s.c[k][i][1]
                _, new_l, e = self._assign(kind.tick, s, loc, kind)
                assert new_l is not None
                new_l = [
                    (z3.If(x > 0, x - 1, 0) if var.is_timer and j not in local_assigned else x)
                    for j, (var, x) in enumerate(zip(kind.locals, new_l))
                ]
                dests = self._moved(k, st, new_l)
                if not dests:
                    e = _or(e, TRUE)
                if e is not None:
                    err = _or(err, z3.And(n > 0, e))
                for j, cond in dests:
                    new[j][0] = new[j][0] + (n if z3.is_true(cond) else z3.If(cond, n, 0))
            c.append(new)
        ok = z3.And(allowed, *([z3.Not(err)] if err is not None else []))
        return Compiled(ok, FALSE if err is None else z3.And(allowed, err),
                        St(g, list(s.lim), [FALSE for _ in s.fired], c))

    def error(self, s: St) -> z3.BoolRef:
        """Some step from `s` is a model error."""
        parts = [self.compile(lab, s).err for lab in self.labels]
        return z3.Or(*parts) if parts else FALSE

    def check_value(self, e: ir.Expr, s: St) -> tuple[z3.BoolRef, z3.BoolRef]:
        v, err = self.expr(e, s, None)
        return v, FALSE if err is None else err
