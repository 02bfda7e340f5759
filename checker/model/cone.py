"""Cone of influence: the variables a model's behaviour and checks cannot depend on, sliced away.

A variable is *observed* when a guard (of any rule, action or fault) or a check (its
expression or assumption) reads it, or when the update of an observed variable reads it
(the closure). Node states, acted marks, fault limits and fired actions are always kept.
An unobserved variable can still matter through a model error: an update that leaves its
range stops the run. So a variable is *dropped* only when it is unobserved, every update
of it provably stays in its declared range, and no kept update reads it (a kept update
that might fail needs what it reads). The range proof is interval arithmetic over the
declared ranges of what the update reads (`+ - *`, `min`, `max`, `if then else`, `count`;
anything with `/`, `%` or `**` could fail and keeps the variable). Timers count down to 0
and never fail.

`slice_model` returns the model without the dropped variables (indices renumbered, their
updates removed) or the model itself when nothing can be dropped. Every step is enabled in
a sliced state exactly when it is in a full state that projects to it, and does the same to
the kept variables, so the sliced model has the same runs over the kept variables, the same
verdicts and the same trace lengths. `checker.engines.explicit.lift` turns a sliced trace
back into a trace of the full model by replaying its steps through the reference semantics
(a lasso is unrolled until the full state repeats), so reports still show the dropped
variables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from checker.model import ir
from checker.model.ranges import interval

# a variable: ("g", index) for a global, ("l", kind, index) for a node local
VarKey = tuple[str, int] | tuple[str, int, int]


@dataclass(frozen=True)
class Cone:
    """What `analyse` found: the variables kept and dropped (by name, for reports)."""

    dropped_globals: frozenset[int]
    dropped_locals: tuple[frozenset[int], ...]  # per kind

    @property
    def empty(self) -> bool:
        return not self.dropped_globals and not any(self.dropped_locals)

    def names(self, model: ir.Model) -> list[str]:
        out = [model.globals[i].name for i in sorted(self.dropped_globals)]
        for k, drop in enumerate(self.dropped_locals):
            out += [f"{model.kinds[k].name}.{model.kinds[k].locals[i].name}" for i in sorted(drop)]
        return out


def _reads(e: ir.Expr | None, kind: int | None, out: set[VarKey]) -> None:
    """Add the variables `e` reads; `kind` is the node kind whose locals LocalRef names."""
    if e is None:
        return
    if isinstance(e, ir.GlobalRef):
        out.add(("g", e.index))
    elif isinstance(e, ir.LocalRef):
        assert kind is not None
        out.add(("l", kind, e.index))
    elif isinstance(e, ir.CountOf):
        _reads(e.where, e.kind, out)  # inside `where`, the locals are the counted node's
    else:
        for x in ir.children(e):
            _reads(x, kind, out)


def _blocks(model: ir.Model) -> list[tuple[int | None, ir.Expr | None, tuple[ir.Assign, ...]]]:
    """(node kind in scope, guard, updates) of every rule, action, fault and tick block."""
    out: list[tuple[int | None, ir.Expr | None, tuple[ir.Assign, ...]]] = []
    out += [(r.kind, r.guard, r.updates) for r in model.rules]
    out += [(None, a.guard, a.updates) for a in model.actions]
    out += [(f.kind, f.guard, f.updates) for f in model.faults]
    out.append((None, None, model.tick))
    out += [(k, None, kind.tick) for k, kind in enumerate(model.kinds)]
    return out


def _target(a: ir.Assign, kind: int | None) -> VarKey:
    if a.local:
        assert kind is not None
        return ("l", kind, a.index)
    return ("g", a.index)


def _var(model: ir.Model, key: VarKey) -> ir.Var:
    if key[0] == "g":
        return model.globals[key[1]]
    return model.kinds[key[1]].locals[key[2]]  # type: ignore[misc]


def _safe(model: ir.Model, a: ir.Assign, kind: int | None) -> bool:
    """The update cannot raise a model error: its result always lies in the target's range."""
    var = _var(model, _target(a, kind))
    v = interval(model, a.value, kind)
    if v is None:
        return False
    if var.type is ir.Type.BOOL:
        return True
    if a.op == "+=":
        v = (var.lo + v[0], var.hi + v[1])
    elif a.op == "-=":
        v = (var.lo - v[1], var.hi - v[0])
    return var.lo <= v[0] and v[1] <= var.hi


def _close(blocks: list[tuple[int | None, ir.Expr | None, tuple[ir.Assign, ...]]], keep: set[VarKey]) -> None:
    """Add to `keep` everything that the updates of the variables in it read, transitively."""
    changed = True
    while changed:
        changed = False
        for kind, _guard, updates in blocks:
            for a in updates:
                if _target(a, kind) in keep:
                    before = len(keep)
                    _reads(a.value, kind, keep)
                    changed |= len(keep) != before


def analyse(model: ir.Model) -> Cone:
    """The variables that can be dropped from `model` (see the module docstring)."""
    observed: set[VarKey] = set()
    blocks = _blocks(model)
    for kind, guard, _updates in blocks:
        _reads(guard, kind, observed)
    for c in model.checks:
        _reads(c.expr, None, observed)
        _reads(c.assuming, None, observed)
    _close(blocks, observed)
    keep = set(observed)
    for kind, _guard, updates in blocks:
        for a in updates:
            key = _target(a, kind)
            if key not in observed and not _safe(model, a, kind):
                keep.add(key)
    _close(blocks, keep)  # what a kept update reads decides its value, and whether it fails
    drop_g = frozenset(i for i in range(len(model.globals)) if ("g", i) not in keep)
    drop_l = tuple(frozenset(i for i in range(len(kind.locals)) if ("l", k, i) not in keep)
                   for k, kind in enumerate(model.kinds))
    return Cone(drop_g, drop_l)


# ---- slicing -----------------------------------------------------------------------------


def _renumber(n: int, drop: Iterable[int]) -> dict[int, int]:
    gone = set(drop)
    out: dict[int, int] = {}
    for i in range(n):
        if i not in gone:
            out[i] = len(out)
    return out


class _Slicer:
    def __init__(self, model: ir.Model, cone: Cone) -> None:
        self.g = _renumber(len(model.globals), cone.dropped_globals)
        self.l = [_renumber(len(k.locals), d) for k, d in zip(model.kinds, cone.dropped_locals)]

    def opt(self, e: ir.Expr | None, kind: int | None) -> ir.Expr | None:
        return None if e is None else self.expr(e, kind)

    def expr(self, e: ir.Expr, kind: int | None) -> ir.Expr:
        r = self.expr
        if isinstance(e, ir.GlobalRef):
            return dataclasses.replace(e, index=self.g[e.index])
        if isinstance(e, ir.LocalRef):
            assert kind is not None
            return dataclasses.replace(e, index=self.l[kind][e.index])
        if isinstance(e, ir.Unary):
            return dataclasses.replace(e, operand=r(e.operand, kind))
        if isinstance(e, ir.Binary):
            return dataclasses.replace(e, left=r(e.left, kind), right=r(e.right, kind))
        if isinstance(e, ir.Ite):
            return dataclasses.replace(e, cond=r(e.cond, kind), then=r(e.then, kind), orelse=r(e.orelse, kind))
        if isinstance(e, ir.MinMax):
            return dataclasses.replace(e, args=tuple(r(x, kind) for x in e.args))
        if isinstance(e, ir.CountOf):
            return dataclasses.replace(e, where=self.opt(e.where, e.kind))
        return e

    def updates(self, ups: tuple[ir.Assign, ...], kind: int | None) -> tuple[ir.Assign, ...]:
        out = []
        for a in ups:
            table = self.l[kind] if a.local else self.g  # type: ignore[index]
            if a.index in table:
                out.append(dataclasses.replace(a, index=table[a.index], value=self.expr(a.value, kind)))
        return tuple(out)


def slice_model(model: ir.Model, cone: Cone | None = None) -> ir.Model:
    """`model` without the variables of `cone` (default: `analyse(model)`), or `model` itself."""
    cone = analyse(model) if cone is None else cone
    if cone.empty:
        return model
    s = _Slicer(model, cone)
    rep = dataclasses.replace
    return rep(
        model,
        globals=tuple(v for i, v in enumerate(model.globals) if i in s.g),
        kinds=tuple(rep(kind, locals=tuple(v for i, v in enumerate(kind.locals) if i in s.l[k]),
                        tick=s.updates(kind.tick, k))
                    for k, kind in enumerate(model.kinds)),
        rules=tuple(rep(r, guard=s.opt(r.guard, r.kind), updates=s.updates(r.updates, r.kind)) for r in model.rules),
        actions=tuple(rep(a, guard=s.opt(a.guard, None), updates=s.updates(a.updates, None)) for a in model.actions),
        faults=tuple(rep(f, guard=s.opt(f.guard, f.kind), updates=s.updates(f.updates, f.kind)) for f in model.faults),
        tick=s.updates(model.tick, None),
        checks=tuple(rep(c, expr=s.opt(c.expr, None), assuming=s.opt(c.assuming, None)) for c in model.checks),
    )


__all__ = ["Cone", "analyse", "slice_model"]
