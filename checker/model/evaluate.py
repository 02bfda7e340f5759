"""Exact integer arithmetic with the language's errors, and a tree-walking evaluator.

The evaluator is the reference: slow and plain. Engines compile expressions their own way
and are checked against it by trace replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from checker.errors import ModelError, Span
from checker.model import ir

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# A population of one kind: (state index, locals) for every node, with a multiplicity.
Population = Iterable[tuple[int, tuple[ir.Value, ...], int]]


class EvalError(ModelError):
    """A model error raised while evaluating an expression, with the operator's span."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.span = span


def _overflow(text: str, span: Span | None) -> EvalError:
    return EvalError(f"integer overflow: {text} is outside -2**63..2**63-1", span)


def arith(op: str, a: int, b: int, span: Span | None = None) -> int:
    """Apply an integer operator exactly; raise EvalError on overflow, x/0, x%0, x**-n."""
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if b == 0:
            raise EvalError(f"division by zero: {a} / 0", span)
        r = a // b
    elif op == "%":
        if b == 0:
            raise EvalError(f"division by zero: {a} % 0", span)
        r = a % b
    elif op == "**":
        if b < 0:
            raise EvalError(f"negative exponent: {a} ** {b}", span)
        if a in (0, 1):
            r = 1 if b == 0 else a
        elif a == -1:
            r = 1 if b % 2 == 0 else -1
        elif b > 64:  # |a| >= 2, so the result is at least 2**65
            raise _overflow(f"{a} ** {b}", span)
        else:
            r = a**b
    else:  # pragma: no cover - the elaborator only builds the operators above
        raise ValueError(op)
    if r < INT_MIN or r > INT_MAX:
        raise _overflow(f"{a} {op} {b}", span)
    return r


def negate(a: int, span: Span | None = None) -> int:
    if a == INT_MIN:
        raise _overflow(f"-({a})", span)
    return -a


def compare(op: str, a: ir.Value, b: ir.Value) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def evaluate(
    expr: ir.Expr,
    glob: Sequence[ir.Value],
    loc: Sequence[ir.Value] | None,
    kinds: Sequence[Population] | None,
) -> ir.Value:
    """Evaluate `expr` with globals `glob`, the node's locals `loc` and the populations."""
    if isinstance(expr, ir.Lit):
        return expr.value
    if isinstance(expr, ir.GlobalRef):
        return glob[expr.index]
    if isinstance(expr, ir.LocalRef):
        assert loc is not None, "a local outside a node context"
        return loc[expr.index]
    if isinstance(expr, ir.Unary):
        v = evaluate(expr.operand, glob, loc, kinds)
        if expr.op == "not":
            return not v
        return negate(int(v), expr.span)
    if isinstance(expr, ir.Binary):
        if expr.op == "and":
            return bool(evaluate(expr.left, glob, loc, kinds)) and bool(evaluate(expr.right, glob, loc, kinds))
        if expr.op == "or":
            return bool(evaluate(expr.left, glob, loc, kinds)) or bool(evaluate(expr.right, glob, loc, kinds))
        a = evaluate(expr.left, glob, loc, kinds)
        b = evaluate(expr.right, glob, loc, kinds)
        if expr.op in ir.CMP_OPS:
            return compare(expr.op, a, b)
        return arith(expr.op, int(a), int(b), expr.span)
    if isinstance(expr, ir.Ite):
        if evaluate(expr.cond, glob, loc, kinds):
            return evaluate(expr.then, glob, loc, kinds)
        return evaluate(expr.orelse, glob, loc, kinds)
    if isinstance(expr, ir.MinMax):
        values = [int(evaluate(a, glob, loc, kinds)) for a in expr.args]
        return min(values) if expr.fn == "min" else max(values)
    if isinstance(expr, ir.CountOf):
        if kinds is None:
            raise EvalError("count() needs the node populations", expr.span)
        total = 0
        for state, node_locals, mult in kinds[expr.kind]:
            if state != expr.state or mult == 0:
                continue
            if expr.where is None or evaluate(expr.where, glob, node_locals, kinds):
                total += mult
        return total
    raise TypeError(f"unknown expression {expr!r}")  # pragma: no cover
