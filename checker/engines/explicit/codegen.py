"""The successor function of one model, generated as Python source from the typed IR.

The only module of `checker` that runs generated code. The source is made of integers,
generated identifiers and this module's own fixed operator tokens; nothing from the spec's
text goes into it (names and messages stay in the namespace, as values). Guards made of
variables, literals, comparisons, `and`, `or` and `not` are inlined; every other expression
and every update block is a call to the closure `compile.py` built for it, so arithmetic
errors and range checks are exactly the closures'. The generated function returns what
`Codec.successors` documents, in the same order; `tests/test_successors.py` checks it
against the reference semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checker.errors import ModelError
from checker.model import access, ir
from checker.model.evaluate import INT_MAX, INT_MIN, EvalError
from checker.model.ranges import interval

_CMP = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_BOOL = {"and": "and", "or": "or"}


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {}
        self.fns: list[Any] = []

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def const(self, value: Any) -> str:
        """A value kept in the namespace, named by a generated identifier."""
        self.fns.append(value)
        return f"F[{len(self.fns) - 1}]"

    def expr(self, e: ir.Expr, closure: Callable[[Any, Any, Any], Any]) -> str:
        """Python source for `e`, or a call of `closure` where it cannot be inlined."""
        inline = _inline(e)
        if inline is not None:
            return inline
        return f"{self.const(closure)}(st, loc, pops)"


def _inline(e: ir.Expr) -> str | None:
    if isinstance(e, ir.Lit):
        if isinstance(e.value, bool):
            return "True" if e.value else "False"
        return str(int(e.value))
    if isinstance(e, ir.GlobalRef):
        return f"st[{int(e.index)}]"
    if isinstance(e, ir.LocalRef):
        return f"loc[{int(e.index)}]"
    if isinstance(e, ir.Unary) and e.op == "not":
        a = _inline(e.operand)
        return None if a is None else f"(not {a})"
    if isinstance(e, ir.Binary) and (e.op in _CMP or e.op in _BOOL):
        a, b = _inline(e.left), _inline(e.right)
        if a is None or b is None:
            return None
        op = _CMP.get(e.op) or _BOOL[e.op]
        return f"({a} {op} {b})"
    return None


def _int_shape(e: ir.Expr, model: ir.Model, kind: ir.Kind | None) -> bool:
    """`e` is built of integer literals and variables, +, -, min and max: `_int_source` can
    write it without a check of its own once `interval` has bounded it."""
    if isinstance(e, ir.Lit):
        return not isinstance(e.value, bool)
    if isinstance(e, ir.GlobalRef | ir.LocalRef):
        if isinstance(e, ir.LocalRef) and kind is None:
            return False
        var = model.globals[e.index] if isinstance(e, ir.GlobalRef) else kind.locals[e.index]  # type: ignore[union-attr]
        return var.type is ir.Type.INT
    if isinstance(e, ir.Binary):
        return e.op in ("+", "-") and _int_shape(e.left, model, kind) and _int_shape(e.right, model, kind)
    if isinstance(e, ir.MinMax):
        return all(_int_shape(x, model, kind) for x in e.args)
    return False


def _int_source(e: ir.Expr) -> str:
    """Source of an expression of `_int_shape` that `interval` bounded (it cannot overflow)."""
    if isinstance(e, ir.Binary):
        return f"({_int_source(e.left)} {'+' if e.op == '+' else '-'} {_int_source(e.right)})"
    if isinstance(e, ir.MinMax):
        fn = "min" if e.fn == "min" else "max"
        args = [_int_source(x) for x in e.args]
        return args[0] if len(args) == 1 else f"{fn}({', '.join(args)})"
    out = _inline(e)
    assert out is not None
    return out


def _out_of_range(who: str, var: ir.Var) -> Callable[[int], None]:
    def fail(v: int) -> None:
        raise ModelError(f"{who} stores {v} in '{var.name}', outside its range {var.lo}..{var.hi}")
    return fail


def _block_lines(src: _Source, ev: ir.Rule | ir.Action | ir.Fault, model: ir.Model, node: bool) -> list[str] | None:
    """Lines setting `ng` and `nl` for `ev`'s updates, or None if a closure must run them.

    Every right-hand side reads the old state and is range-checked as soon as it is
    computed, in order, as compile.py's block does.
    """
    kind_index = ev.kind if node and not isinstance(ev, ir.Action) else None
    kind = model.kinds[kind_index] if kind_index is not None else None
    if isinstance(ev, ir.Rule):
        who = f"rule '{ev.name}'"
    elif isinstance(ev, ir.Action):
        who = f"action '{ev.name}'"
    else:
        who = f"fault '{ev.name}'"
    lines: list[str] = []
    g_set: list[tuple[int, str]] = []
    l_set: list[tuple[int, str]] = []
    for n, a in enumerate(ev.updates):
        if a.local and kind is None:
            return None
        var = kind.locals[a.index] if a.local else model.globals[a.index]  # type: ignore[union-attr]
        target = f"loc[{int(a.index)}]" if a.local else f"st[{int(a.index)}]"
        value = f"v{n}"
        if var.type is not ir.Type.INT:
            if a.op != "=":
                return None
            rhs = _inline(a.value)
            if rhs is None:
                return None
            lines.append(f"{value} = {rhs}")
        else:
            bounds = interval(model, a.value, kind_index) \
                if _int_shape(a.value, model, kind) else None
            if bounds is None:
                return None
            if a.op != "=":
                lo, hi = (var.lo + bounds[0], var.hi + bounds[1]) if a.op == "+=" else (var.lo - bounds[1], var.hi - bounds[0])
                if lo < INT_MIN or hi > INT_MAX:
                    return None
                lines.append(f"{value} = {target} {'+' if a.op == '+=' else '-'} {_int_source(a.value)}")
            else:
                lines.append(f"{value} = {_int_source(a.value)}")
            lines.append(f"if not {int(var.lo)} <= {value} <= {int(var.hi)}:")
            lines.append(f"    {src.const(_out_of_range(who, var))}({value})")
        (l_set if a.local else g_set).append((int(a.index), value))
    for name, sets, base in (("ng", g_set, "st"), ("nl", l_set, "loc" if node else "None")):
        if not sets:
            lines.append(f"{name} = {base}")
            continue
        lines.append(f"t = list({base})")
        for i, value in sets:
            lines.append(f"t[{i}] = {value}")
        lines.append(f"{name} = tuple(t)")
    return lines


def generate(codec: Any, phases: Any, helpers: dict[str, Any]) -> Callable[[Any], Any]:
    """Build `successors(st)` for `codec` from its compiled `phases` (encoding._Phase, in
    the reference's order of step kinds); `helpers`: the layout functions it calls."""
    text, fns = source(codec, phases)
    ns: dict[str, Any] = {"F": fns, "EvalError": EvalError, "ModelError": ModelError, **helpers}
    exec(compile(text, "<stormproof successors>", "exec"), ns)  # noqa: S102 - generated from the IR only
    fn: Callable[[Any], Any] = ns["successors"]
    return fn


def source(codec: Any, phases: Any) -> tuple[str, tuple[Any, ...]]:
    """The source of `successors(st)`, and the values its `F[i]` name."""
    events = codec.model.events
    src = _Source()
    ng, fa, pa = codec._ng, codec._fired_at, codec._pop_at
    emit = src.emit
    emit(0, "def successors(st):")
    emit(1, f"fired = st[{fa}]")
    # where each kind's population starts (its m), and the populations as pairs only if
    # some guard or block reads a count
    nk = len(codec.model.kinds)
    emit(1, f"lo0 = {pa}")
    for k in range(1, nk):
        emit(1, f"lo{k} = lo{k - 1} + 1 + 2 * st[lo{k - 1}]")
    emit(1, "pops = layout(st)" if access.all_reads(codec.model).counts else "pops = None")
    emit(1, "out = []")
    emit(1, "errs = []")
    emit(1, "append = out.append")
    emit(1, "can_act = False")

    def step_code(depth: int, step: Any, guard: ir.Expr | None, k: int, node: bool) -> None:
        desc = f"({int(step.event)}, {k}, sid)" if node else f"({int(step.event)}, -1, -1)"
        d = depth
        if step.slot is not None:
            emit(d, f"if st[{ng + int(step.slot)}] > 0:")
            d += 1
        if step.action_bit is not None:
            emit(d, f"if not fired >> {int(step.action_bit)} & 1:")
            d += 1
        inline = None if guard is None else _inline(guard)
        if inline is not None:
            # variables, literals, comparisons and connectives of a type-checked guard: no error
            emit(d, f"if {inline}:")
            d += 1
        elif guard is not None:
            emit(d, "try:")
            emit(d + 1, f"ok = {src.expr(guard, step.guard)}")
            emit(d, "except EvalError as x:")
            if step.can_act:
                emit(d + 1, "can_act = True")
            emit(d + 1, f"errs.append(({desc}, {src.const(step.guard_error)} + ': ' + x.message))")
            emit(d, "else:")
            emit(d + 1, "if ok:")
            d += 2
        if step.can_act:
            emit(d, "can_act = True")
        ev = events[step.event]
        inline_block = _block_lines(src, ev, codec.model, node)
        if not ev.updates:
            emit(d, f"ng, nl = st, {'loc' if node else 'None'}")
        else:
            emit(d, "try:")
            if inline_block is None:
                emit(d + 1, f"ng, nl = {src.const(step.block)}(st, {'loc' if node else 'None'}, pops)")
            else:
                for line in inline_block:
                    emit(d + 1, line)
            emit(d, "except ModelError as x:")
            emit(d + 1, f"errs.append(({desc}, x.message))")
            emit(d, "else:")
            d += 1
        if step.slot is not None:
            i = ng + int(step.slot)
            emit(d, f"ng = ng[:{i}] + (ng[{i}] - 1,) + ng[{i + 1}:]")
        if not node:
            if step.action_bit is not None:
                emit(d, f"ng = ng[:{fa}] + (fired | {1 << int(step.action_bit)},) + ng[{pa}:]")
            emit(d, f"append(({desc}, ng))")
            return
        acted = "True" if step.marks else "acted"
        emit(d, f"nsid = intern({k}, ({int(step.dst)}, nl, {acted}))")
        emit(d, f"append(({desc}, ng[:lo{k}] + moved(st, lo{k}, sid, nsid) + st[lo{k} + 1 + 2 * st[lo{k}]:]))")

    for phase in phases:
        if not phase.node:
            for *_unit, top_steps in phase.top:
                for step in top_steps:
                    step_code(1, step, events[step.event].guard, -1, False)
            continue
        for k, by_src in enumerate(phase.by_state):
            if not any(by_src):
                continue
            emit(1, f"table = SITS[{k}]")
            emit(1, f"for i in range(lo{k} + 1, lo{k} + 1 + 2 * st[lo{k}], 2):")
            emit(2, "sid = st[i]")
            emit(2, "s, loc, acted = table[sid]")
            rules = all(step.marks for cands in by_src for step in cands)
            if rules:
                emit(2, "if acted:")
                emit(3, "continue")
            first = True
            for s_, cands in enumerate(by_src):
                if not cands:
                    continue
                emit(2, f"{'if' if first else 'elif'} s == {s_}:")
                first = False
                for step in cands:
                    if step.marks and not rules:
                        raise AssertionError("a phase mixing rules and faults")  # pragma: no cover
                    step_code(3, step, events[step.event].guard, k, True)
    emit(1, "if not can_act:")
    emit(2, "try:")
    emit(3, "append((TICK, tick(st)))")
    emit(2, "except ModelError as x:")
    emit(3, "errs.append((TICK, x.message))")
    emit(1, "return out, errs")
    return "\n".join(src.lines) + "\n", tuple(src.fns)


__all__ = ["generate", "source"]
