"""The frozen intermediate representation that every engine reads.

Names are resolved to indices, constants are folded, types are checked. Everything is a
frozen, slotted dataclass over tuples, so the IR is hashable and carries its spans.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from checker.errors import Span


class Type(enum.Enum):
    INT = "int"
    BOOL = "bool"


Value = int | bool


@dataclass(frozen=True, slots=True)
class Var:
    """A global or a per-node local: bool, or an inclusive integer range."""

    name: str
    type: Type
    lo: int
    hi: int
    init: Value
    is_timer: bool
    span: Span

    def range_text(self) -> str:
        return "bool" if self.type is Type.BOOL else f"{self.lo}..{self.hi}"


# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    value: Value
    type: Type


@dataclass(frozen=True, slots=True)
class GlobalRef:
    index: int
    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class LocalRef:
    """A local of the node in scope: the rule's node, or the counted node inside `where`."""

    index: int
    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (+ - * / % **), comparison (== != < <= > >=) or boolean (and, or)."""

    op: str
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    orelse: Expr
    type: Type


@dataclass(frozen=True, slots=True)
class MinMax:
    fn: str  # "min" or "max"
    args: tuple[Expr, ...]
    type: Type


@dataclass(frozen=True, slots=True)
class CountOf:
    """Number of nodes of `kind` in `state` (that satisfy `where`, over their own locals)."""

    kind: int
    state: int
    where: Expr | None
    type: Type
    span: Span


Expr = Lit | GlobalRef | LocalRef | Unary | Binary | Ite | MinMax | CountOf


def children(e: object) -> tuple[Expr, ...]:
    """The direct subexpressions of an expression (none for a leaf, or for None)."""
    if isinstance(e, Unary):
        return (e.operand,)
    if isinstance(e, Binary):
        return (e.left, e.right)
    if isinstance(e, Ite):
        return (e.cond, e.then, e.orelse)
    if isinstance(e, MinMax):
        return e.args
    if isinstance(e, CountOf):
        return () if e.where is None else (e.where,)
    return ()

ARITH_OPS = frozenset({"+", "-", "*", "/", "%", "**"})
CMP_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})
BOOL_OPS = frozenset({"and", "or"})


# ---- updates and steps -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    """`target op value`; op is "=", "+=" or "-=". `local` says which store `index` names."""

    local: bool
    index: int
    name: str
    op: str
    value: Expr
    span: Span


class Tag(enum.Enum):
    NONE = "none"
    RETRY = "retry"
    PROGRESS = "progress"


@dataclass(frozen=True, slots=True)
class Rule:
    """A node rule of kind `kind`: FROM -> TO when guard { updates }."""

    name: str
    event: int  # index among all events (rules, actions, faults)
    kind: int
    src: int
    dst: int
    guard: Expr | None
    updates: tuple[Assign, ...]
    tag: Tag
    fair: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    event: int
    guard: Expr | None
    updates: tuple[Assign, ...]
    fair: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault; `kind` is None for a top-level fault. `slot` indexes the limit counters."""

    name: str
    event: int
    kind: int | None
    src: int
    dst: int
    guard: Expr | None
    updates: tuple[Assign, ...]
    limit: int | None
    slot: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    count: int
    states: tuple[str, ...]
    locals: tuple[Var, ...]
    init_counts: tuple[int, ...]  # nodes per state at the start
    tick: tuple[Assign, ...]  # the merged `on tick` block for every node of the kind
    span: Span


class CheckKind(enum.Enum):
    INVARIANT = "invariant"
    REACHABLE = "reachable"
    NO_STORM = "no_storm"
    RECOVERS = "recovers"
    WITHIN = "within"  # recovers ... within T ticks


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    kind: CheckKind
    expr: Expr | None  # None for no_storm
    assuming: Expr | None
    within: int | None
    span: Span
    source: str  # the check's expression as written, for reports
    # no_storm only: written `no_retry_storm`, violated only by storms the retries sustain
    sustained: bool = False

    @property
    def keyword(self) -> str:
        """The check's kind as written in a spec."""
        if self.kind is CheckKind.NO_STORM:
            return "no_retry_storm" if self.sustained else "no_storm"
        if self.kind is CheckKind.WITHIN:
            return "recovers"
        return str(self.kind.value)


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    file: str
    consts: tuple[tuple[str, Value], ...]
    globals: tuple[Var, ...]
    kinds: tuple[Kind, ...]
    rules: tuple[Rule, ...]
    actions: tuple[Action, ...]
    faults: tuple[Fault, ...]
    tick: tuple[Assign, ...]
    checks: tuple[Check, ...]

    @property
    def events(self) -> tuple[Rule | Action | Fault, ...]:
        """Every rule, action and fault, ordered by their `event` index."""
        return (*self.rules, *self.actions, *self.faults)

    def state_kind(self, name: str) -> tuple[int, int] | None:
        for k, kind in enumerate(self.kinds):
            if name in kind.states:
                return k, kind.states.index(name)
        return None

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)
