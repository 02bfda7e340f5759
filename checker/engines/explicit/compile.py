"""Compile IR expressions and blocks into Python closures over the engine's state layout.

No text is ever evaluated: every closure is built from the IR. A closure takes the globals
tuple `g`, the node's locals tuple `l` (or None) and the populations `p` (per kind, a sorted
tuple of (situation id, count) pairs); situations are looked up in the engine's tables.
Errors are the reference's: EvalError for arithmetic, ModelError for out-of-range stores.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from checker.errors import ModelError
from checker.model import ir
from checker.model.evaluate import INT_MAX, INT_MIN, EvalError, arith, negate

Fn = Callable[[Any, Any, Any], Any]
# situation tables, per kind: sit id -> (state, locals, acted)
SitTables = Sequence[list[tuple[int, tuple[Any, ...], bool]]]


def compile_expr(e: ir.Expr, sits: SitTables) -> Fn:
    """Return a closure computing `e`, with the reference evaluator's errors."""
    if isinstance(e, ir.Lit):
        v = e.value
        return lambda g, l, p: v
    if isinstance(e, ir.GlobalRef):
        i = e.index
        return lambda g, l, p: g[i]
    if isinstance(e, ir.LocalRef):
        i = e.index
        return lambda g, l, p: l[i]
    if isinstance(e, ir.Unary):
        f = compile_expr(e.operand, sits)
        if e.op == "not":
            return lambda g, l, p: not f(g, l, p)
        span = e.span
        return lambda g, l, p: negate(f(g, l, p), span)
    if isinstance(e, ir.Binary):
        return _binary(e, sits)
    if isinstance(e, ir.Ite):
        c, t, o = (compile_expr(x, sits) for x in (e.cond, e.then, e.orelse))
        return lambda g, l, p: t(g, l, p) if c(g, l, p) else o(g, l, p)
    if isinstance(e, ir.MinMax):
        fs = tuple(compile_expr(a, sits) for a in e.args)
        agg = min if e.fn == "min" else max
        if len(fs) == 1:
            return fs[0]
        if len(fs) == 2:
            f0, f1 = fs
            if e.fn == "min":
                def min2(g: Any, l: Any, p: Any) -> Any:
                    x, y = f0(g, l, p), f1(g, l, p)
                    return min(x, y)
                return min2

            def max2(g: Any, l: Any, p: Any) -> Any:
                x, y = f0(g, l, p), f1(g, l, p)
                return max(x, y)
            return max2
        return lambda g, l, p: agg([f(g, l, p) for f in fs])
    if isinstance(e, ir.CountOf):
        k, s = e.kind, e.state
        table = sits[k]
        if e.where is None:
            def count(g: Any, l: Any, p: Any) -> int:
                n = 0
                for sid, c in p[k]:
                    if table[sid][0] == s:
                        n += c
                return n
            return count
        w = compile_expr(e.where, sits)

        def count_where(g: Any, l: Any, p: Any) -> int:
            n = 0
            for sid, c in p[k]:
                sit = table[sid]
                if sit[0] == s and w(g, sit[1], p):
                    n += c
            return n
        return count_where
    raise TypeError(e)  # pragma: no cover


_COMPARE = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _leaf(e: ir.Expr) -> tuple[str, Any] | None:
    """A variable or literal operand, read without a closure call."""
    if isinstance(e, ir.Lit):
        return ("c", e.value)
    if isinstance(e, ir.GlobalRef):
        return ("g", e.index)
    if isinstance(e, ir.LocalRef):
        return ("l", e.index)
    return None


def _leaf_binary(e: ir.Binary) -> Fn | None:
    """One closure for `x OP y` where x and y are variables or literals (the common guard)."""
    la, lb = _leaf(e.left), _leaf(e.right)
    if la is None or lb is None or e.op not in _COMPARE and e.op not in ("+", "-"):
        return None
    (ka, a), (kb, b) = la, lb
    if e.op in _COMPARE:
        f = _COMPARE[e.op]
        if ka == "g" and kb == "c":
            return lambda g, l, p: f(g[a], b)
        if ka == "l" and kb == "c":
            return lambda g, l, p: f(l[a], b)
        if ka == "g" and kb == "g":
            return lambda g, l, p: f(g[a], g[b])
        if ka == "l" and kb == "l":
            return lambda g, l, p: f(l[a], l[b])
        if ka == "l" and kb == "g":
            return lambda g, l, p: f(l[a], g[b])
        if ka == "g" and kb == "l":
            return lambda g, l, p: f(g[a], l[b])
        return None
    if kb != "c" or ka == "c":
        return None
    sign = 1 if e.op == "+" else -1
    span, op = e.span, e.op

    def add_const(g: Any, l: Any, p: Any) -> int:
        x = g[a] if ka == "g" else l[a]
        r: int = x + sign * b
        if INT_MIN <= r <= INT_MAX:
            return r
        return arith(op, x, b, span)
    return add_const


def _binary(e: ir.Binary, sits: SitTables) -> Fn:
    fast = _leaf_binary(e)
    if fast is not None:
        return fast
    a = compile_expr(e.left, sits)
    b = compile_expr(e.right, sits)
    op, span = e.op, e.span
    if op == "and":
        return lambda g, l, p: a(g, l, p) and b(g, l, p)
    if op == "or":
        return lambda g, l, p: a(g, l, p) or b(g, l, p)
    if op == "==":
        return lambda g, l, p: a(g, l, p) == b(g, l, p)
    if op == "!=":
        return lambda g, l, p: a(g, l, p) != b(g, l, p)
    if op == "<":
        return lambda g, l, p: a(g, l, p) < b(g, l, p)
    if op == "<=":
        return lambda g, l, p: a(g, l, p) <= b(g, l, p)
    if op == ">":
        return lambda g, l, p: a(g, l, p) > b(g, l, p)
    if op == ">=":
        return lambda g, l, p: a(g, l, p) >= b(g, l, p)
    if op == "+":
        def add(g: Any, l: Any, p: Any) -> int:
            x, y = a(g, l, p), b(g, l, p)
            r: int = x + y
            if r > INT_MAX or r < INT_MIN:
                return arith("+", x, y, span)
            return r
        return add
    if op == "-":
        def sub(g: Any, l: Any, p: Any) -> int:
            x, y = a(g, l, p), b(g, l, p)
            r: int = x - y
            if r > INT_MAX or r < INT_MIN:
                return arith("-", x, y, span)
            return r
        return sub
    if op == "*":
        def mul(g: Any, l: Any, p: Any) -> int:
            x, y = a(g, l, p), b(g, l, p)
            r: int = x * y
            if r > INT_MAX or r < INT_MIN:
                return arith("*", x, y, span)
            return r
        return mul
    return lambda g, l, p: arith(op, a(g, l, p), b(g, l, p), span)


def compile_guard(e: ir.Expr | None, sits: SitTables) -> Fn | None:
    return None if e is None else compile_expr(e, sits)


def compile_block(
    updates: Sequence[ir.Assign],
    model: ir.Model,
    kind: ir.Kind | None,
    who: str,
    sits: SitTables,
    timers_local: Sequence[int] = (),
    timers_global: Sequence[int] = (),
) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """Return f(g, l, p) -> (new globals, new locals), every right side reading the old state.

    `timers_*` list the timers to decrement (never below 0) after the block: used for ticks.
    """
    items = []
    g_slots: list[tuple[int, int]] = []  # (position in block, global index)
    l_slots: list[tuple[int, int]] = []
    for pos, a in enumerate(updates):
        if a.local:
            assert kind is not None, "a local assignment outside a node kind"
            var = kind.locals[a.index]
        else:
            var = model.globals[a.index]
        items.append(_assignment(a, var, who, compile_expr(a.value, sits)))
        (l_slots if a.local else g_slots).append((pos, a.index))
    t_loc = tuple(timers_local)
    t_glob = tuple(timers_global)
    if not items and not t_loc and not t_glob:
        return lambda g, l, p: (g, l)
    has_local = bool(l_slots) or bool(t_loc)
    has_global = bool(g_slots) or bool(t_glob)
    fns = tuple(items)

    def run(g: Any, l: Any, p: Any) -> tuple[Any, Any]:
        values = [f(g, l, p) for f in fns]  # every right side reads the old state
        if has_global:
            ng = list(g)
            for pos, i in g_slots:
                ng[i] = values[pos]
            for i in t_glob:
                if ng[i] > 0:
                    ng[i] -= 1
            g = tuple(ng)
        if has_local and l is not None:
            nl = list(l)
            for pos, i in l_slots:
                nl[i] = values[pos]
            for i in t_loc:
                if nl[i] > 0:
                    nl[i] -= 1
            l = tuple(nl)
        return g, l

    return run


def _assignment(a: ir.Assign, var: ir.Var, who: str, f: Fn) -> Fn:
    """A closure giving the value `a` stores, range-checked like the reference."""
    lo, hi, name, idx = var.lo, var.hi, var.name, a.index
    check = var.type is ir.Type.INT

    def out_of_range(v: int) -> ModelError:
        return ModelError(f"{who} stores {v} in '{name}', outside its range {lo}..{hi}")

    if a.op == "=":
        if not check:
            return f

        def store(g: Any, l: Any, p: Any) -> Any:
            v = f(g, l, p)
            if lo <= v <= hi:
                return v
            raise out_of_range(v)
        return store
    sign = 1 if a.op == "+=" else -1
    local = a.local

    def update(g: Any, l: Any, p: Any) -> Any:
        old = l[idx] if local else g[idx]
        rhs = f(g, l, p)
        v = old + rhs if sign > 0 else old - rhs
        if lo <= v <= hi:
            return v
        if v > INT_MAX or v < INT_MIN:
            arith("+" if sign > 0 else "-", old, rhs)
        raise out_of_range(v)
    return update


__all__ = ["EvalError", "compile_block", "compile_expr", "compile_guard"]
