"""The abstract syntax tree: one class per grammar construct, every node with its span."""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.errors import Span


@dataclass(frozen=True, slots=True)
class Ident:
    text: str
    span: Span


# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntLit:
    value: int
    span: Span


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span  # the operator


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    span: Span  # the operator


@dataclass(frozen=True, slots=True)
class IfExpr:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    fn: str  # "min" or "max"
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Count:
    state: Ident
    where: Expr | None
    span: Span


Expr = IntLit | BoolLit | Name | Unary | Binary | IfExpr | Call | Count


# ---- statements and declarations ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    target: Ident
    op: str  # "=", "+=", "-="
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Block:
    stmts: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class BoolType:
    span: Span


@dataclass(frozen=True, slots=True)
class RangeType:
    lo: Expr
    hi: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class ProtocolDecl:
    name: Ident
    span: Span


@dataclass(frozen=True, slots=True)
class ConstDecl:
    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class VarDecl:
    name: Ident
    type: BoolType | RangeType
    init: Expr | None  # None for timers
    is_timer: bool
    span: Span


@dataclass(frozen=True, slots=True)
class StatesDecl:
    names: tuple[Ident, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class InitItem:
    state: Ident
    count: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class InitDecl:
    items: tuple[InitItem, ...]
    span: Span  # the `init` keyword


@dataclass(frozen=True, slots=True)
class RuleDecl:
    name: Ident
    modifiers: tuple[Ident, ...]
    src: Ident
    dst: Ident
    guard: Expr | None
    block: Block | None
    span: Span


@dataclass(frozen=True, slots=True)
class ActionDecl:
    name: Ident
    fair: bool
    guard: Expr | None
    block: Block
    span: Span


@dataclass(frozen=True, slots=True)
class FaultDecl:
    name: Ident
    transition: tuple[Ident, Ident] | None
    guard: Expr | None
    block: Block | None
    limit: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class TickDecl:
    block: Block
    span: Span


@dataclass(frozen=True, slots=True)
class CheckDecl:
    kind: str  # "invariant", "reachable", "no_storm", "recovers"
    name: Ident | None
    expr: Expr | None
    within: Expr | None
    assuming: Expr | None
    span: Span
    sustained: bool = False  # `no_retry_storm`: only storms the retries sustain violate it


@dataclass(frozen=True, slots=True)
class NodeDecl:
    name: Ident
    count: Expr
    items: tuple[Decl, ...]
    span: Span


Decl = (
    ConstDecl | VarDecl | StatesDecl | InitDecl | RuleDecl | ActionDecl | FaultDecl
    | TickDecl | CheckDecl | NodeDecl
)


@dataclass(frozen=True, slots=True)
class Spec:
    file: str
    protocol: ProtocolDecl
    decls: tuple[Decl, ...] = field(default_factory=tuple)
