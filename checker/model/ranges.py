"""Bounds of an expression's value from the declared ranges (interval arithmetic).

One analysis serves every place that must prove an update cannot raise a model error: the
cone of influence (`cone.py`) and the generated successor function (`engines/explicit/codegen.py`).
`interval` returns None when the evaluation might fail, and every intermediate result counts:
language.md's arithmetic is 64-bit, so `min(a + a, 1)` can overflow although its value, if it
had one, would lie in 0..1.
"""

from __future__ import annotations

from checker.model import ir
from checker.model.evaluate import INT_MAX, INT_MIN

Interval = tuple[int, int] | None  # None: unknown, or the evaluation might fail


def _fits(lo: int, hi: int) -> Interval:
    return (lo, hi) if INT_MIN <= lo and hi <= INT_MAX else None


def interval(model: ir.Model, e: ir.Expr, kind: int | None) -> Interval:
    """Bounds of `e`'s value (a bool as 0..1) in a node of kind `kind` (None: top level)."""
    if isinstance(e, ir.Lit):
        return (int(e.value), int(e.value)) if e.type is ir.Type.INT else (0, 1)
    if isinstance(e, (ir.GlobalRef, ir.LocalRef)):
        if isinstance(e, ir.LocalRef) and kind is None:
            return None
        var = model.globals[e.index] if isinstance(e, ir.GlobalRef) else model.kinds[kind].locals[e.index]  # type: ignore[index]
        return (var.lo, var.hi) if var.type is ir.Type.INT else (0, 1)
    if isinstance(e, ir.CountOf):
        if e.where is not None and interval(model, e.where, e.kind) is None:
            return None
        return (0, model.kinds[e.kind].count)
    if isinstance(e, ir.Unary):
        x = interval(model, e.operand, kind)
        if x is None:
            return None
        return _fits(-x[1], -x[0]) if e.op == "-" else (0, 1)
    if isinstance(e, ir.Ite):
        c, a, b = (interval(model, x, kind) for x in (e.cond, e.then, e.orelse))
        if c is None or a is None or b is None:
            return None
        return (min(a[0], b[0]), max(a[1], b[1]))
    if isinstance(e, ir.MinMax):
        xs = [interval(model, x, kind) for x in e.args]
        if any(x is None for x in xs):
            return None
        los = [x[0] for x in xs if x is not None]
        his = [x[1] for x in xs if x is not None]
        return (min(los), min(his)) if e.fn == "min" else (max(los), max(his))
    if isinstance(e, ir.Binary):
        a, b = interval(model, e.left, kind), interval(model, e.right, kind)
        if a is None or b is None:
            return None
        if e.op in ir.CMP_OPS or e.op in ir.BOOL_OPS:
            return (0, 1)
        if e.op == "+":
            return _fits(a[0] + b[0], a[1] + b[1])
        if e.op == "-":
            return _fits(a[0] - b[1], a[1] - b[0])
        if e.op == "*":
            ps = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
            return _fits(min(ps), max(ps))
        return None  # / % **: might divide by zero or leave any range
    return None
