"""Expressions: precedence, floor division, powers, overflow, short-circuit, and their errors."""

from __future__ import annotations

import pytest

from checker.errors import SpecError
from checker.model import ir, load_text
from checker.model.evaluate import EvalError, arith, evaluate


def const(expr: str) -> ir.Value:
    m = load_text(f"protocol p\nconst K = {expr}\ncheck invariant ok: true\n")
    return dict(m.consts)["K"]


@pytest.mark.parametrize("expr, value", [
    ("-2 ** 2", -4),
    ("2 ** 3 ** 2", 512),
    ("2 ** -1 + 1 < 0 or true", None),  # the left operand fails first
    ("7 / 2", 3), ("-7 / 2", -4), ("7 / -2", -4), ("-7 % 2", 1), ("7 % -2", -1),
    ("0 ** 0", 1), ("(0 - 1) ** 3", -1), ("1 ** 99999999", 1),
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 - 3 - 2", 5), ("2 * 3 % 4", 2),
    ("not true or true", True), ("not (true or true)", False),
    ("true or false and false", True),
    ("if 1 < 2 then 3 else 4", 3),
    ("if false then 1 else if true then 2 else 3", 2),
    ("if true then 1 else 2 + 10", 1),
    ("min(3, 1, 2) + max(4)", 5),
    ("1 == 1 == true", None),
    ("false and 1 / 0 > 1", False),
    ("true or 1 / 0 > 1", True),
    ("(if true then 1 else 1 / 0)", 1),
    ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775807 - 1", -(2**63)),
])
def test_constant_values(expr: str, value: ir.Value | None) -> None:
    if value is None:
        with pytest.raises(SpecError):
            const(expr)
    else:
        assert const(expr) == value


@pytest.mark.parametrize("expr, word", [
    ("1 / 0", "division by zero"),
    ("1 % 0", "division by zero"),
    ("2 ** -1", "negative exponent"),
    ("2 ** 64", "overflow"),
    ("2 ** 999999999999", "overflow"),
    ("9223372036854775807 + 1", "overflow"),
    ("-9223372036854775807 - 2", "overflow"),
    ("-(-9223372036854775807 - 1)", "overflow"),
    ("4611686018427387904 * 2", "overflow"),
])
def test_constant_errors_are_spec_errors_at_the_operator(expr: str, word: str) -> None:
    with pytest.raises(SpecError) as e:
        const(expr)
    assert word in e.value.message
    assert e.value.span is not None and e.value.span.line == 2


def test_runtime_errors_are_deferred_when_the_branch_may_not_run() -> None:
    m = load_text("protocol p\nvar x: 0..3 = 0\ncheck invariant ok: x == 0 or 1 / 0 == 0\n")
    c = m.checks[0]
    assert c.expr is not None
    assert evaluate(c.expr, (0,), None, []) is True
    with pytest.raises(EvalError):
        evaluate(c.expr, (1,), None, [])


def test_arith_matches_python_floor_semantics() -> None:
    for a in range(-9, 10):
        for b in [-3, -2, -1, 1, 2, 3]:
            assert arith("/", a, b) == a // b
            assert arith("%", a, b) == a % b
