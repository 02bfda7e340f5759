"""Parse spec text into the AST. Lark stays behind `parse_spec`; nothing else imports it."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from checker.errors import Span, SpecError, SpecSyntaxError, describe_char
from checker.syntax import ast

INT_MAX = 2**63 - 1
INT_DIGITS = len(str(INT_MAX))  # a literal with more significant digits is out of range, unconverted
# How deeply operators may nest in one expression (spec/language.md section 2, Limits): every
# layer of the checker walks expressions recursively, so the limit keeps them all far from
# Python's recursion limit. Parentheses alone do not count; a chain `a + b + c` is as deep as
# it is long, since `+` associates to the left.
MAX_NESTING = 200
_OPERATOR_RULES = frozenset(["if_expr", "binop", "unop", "minmax", "count"])  # the leaves do not count

KEYWORDS = frozenset(
    ["protocol", "const", "var", "timer", "node", "count", "states", "rule", "fault", "action", "retry", "progress", "fair", "when", "limit", "on", "tick", "ticks", "init", "check", "invariant", "reachable", "no_storm", "recovers", "within", "assuming", "bool", "and", "or", "not", "if", "then", "else", "true", "false", "min", "max", "where"]
)


class _Newlines:
    """Post-lexer: newlines and ';' separate statements only inside statement blocks.

    A `{` opens a kind body after `node`, an init body after `init`, and a statement block
    otherwise; `(` suspends newline sensitivity until its `)`. Runs of separators collapse
    into one SEP token, and separators right after `{` or right before `}` are dropped.
    """

    always_accept = ("NL", "SEMI")

    def __init__(self) -> None:
        self.open_braces: list[Token] = []  # the `{` tokens still open where lexing stopped
        self.brace_kinds: list[str] = []  # for each: "kind", "init" or "block"

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[str] = []
        self.open_braces = []
        self.brace_kinds = []
        pending_kind = False
        last = ""
        sep: Token | None = None
        for tok in stream:
            kind = tok.type
            top = stack[-1] if stack else ""
            if kind in ("NL", "SEMI"):
                if top == "block":
                    if sep is None and last != "LBRACE":
                        sep = Token.new_borrow_pos("SEP", str(tok), tok)
                    continue
                if kind == "NL":
                    continue
            if sep is not None and kind != "RBRACE":
                yield sep
            sep = None
            if kind == "NODE":
                pending_kind = True
            elif kind == "LBRACE":
                self.open_braces.append(tok)
                if pending_kind:
                    stack.append("kind")
                    pending_kind = False
                else:
                    stack.append("init" if last == "INIT" else "block")
                self.brace_kinds.append(stack[-1])
            elif kind == "RBRACE":
                if stack and stack[-1] != "paren":
                    stack.pop()
                if self.open_braces:
                    self.open_braces.pop()
                    self.brace_kinds.pop()
            elif kind == "LPAR":
                stack.append("paren")
            elif kind == "RPAR":
                if stack and stack[-1] == "paren":
                    stack.pop()
            elif kind == "NAME" and last == "CHECK" and tok == "no_retry_storm":
                # an extension of language.md: a keyword only here, so it stays a valid name
                tok = Token.new_borrow_pos("NO_RETRY_STORM", str(tok), tok)
                kind = tok.type
            last = kind
            yield tok


_POSTLEX = _Newlines()


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("checker.syntax").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        postlex=_POSTLEX,
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse_spec(text: str, filename: str = "<spec>") -> ast.Spec:
    """Parse spec text; raise SpecSyntaxError with a position and a friendly message."""
    if not text.strip():
        err = SpecSyntaxError("the file is empty: a spec starts with 'protocol NAME'", Span(filename, 1, 1))
        err.source_text = text
        raise err
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        err = _friendly(e, filename)
        err.source_text = text
        raise err from None
    too_deep = _too_deep(tree, filename)
    if too_deep is not None:
        too_deep.source_text = text
        raise too_deep
    try:
        spec: ast.Spec = _ToAst(filename).transform(tree)
    except VisitError as e:  # Lark wraps errors raised inside transformer callbacks
        if isinstance(e.orig_exc, SpecError):
            e.orig_exc.source_text = text
            raise e.orig_exc from None
        raise
    return spec


def _too_deep(tree: Tree[Token], filename: str) -> SpecSyntaxError | None:
    """The error for the first operator, in source order, nested deeper than MAX_NESTING.

    Depth counts operators (`+`, `not`, `if`, `min`, `count`, ...), not the literals and
    names at the leaves. Iterative, so that it is safe on any input the (iterative) LALR
    parser accepts; it runs before the recursive transformer and every later recursive walk.
    """
    stack: list[tuple[Tree[Token], int, int]] = [(tree, 0, 0)]
    while stack:
        node, depth, kinds = stack.pop()
        if node.data == "node_decl":  # kinds inside kinds: refused later, but must not recurse deep
            kinds += 1
            if kinds > MAX_NESTING:
                return SpecSyntaxError(
                    f"node kinds nested more than {MAX_NESTING} deep; a node kind belongs at top level",
                    _operator_span(node, filename),
                )
        elif node.data in _OPERATOR_RULES and any(isinstance(c, Tree) for c in node.children):
            depth += 1
            if depth > MAX_NESTING:
                return SpecSyntaxError(
                    f"expression nested too deeply: more than {MAX_NESTING} levels of operators "
                    "(split it, for example with constants)",
                    _operator_span(node, filename),
                )
        stack.extend((c, depth, kinds) for c in reversed(node.children) if isinstance(c, Tree))
    return None


def _operator_span(node: Tree[Token], filename: str) -> Span:
    """Where an operator node stands: its operator or keyword token (`+`, `not`, `if`, `min`)."""
    tokens = [c for c in node.children if isinstance(c, Token)]
    if tokens and tokens[0].line is not None:
        tok = tokens[0]
        return Span(filename, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)
    meta = node.meta
    return Span(filename, getattr(meta, "line", 1), getattr(meta, "column", 1))  # pragma: no cover


# ---- friendly syntax errors --------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "SEP": "a new line",
    "CMP_OP": "a comparison",
    "MUL_OP": "'*', '/' or '%'",
    "$END": "end of file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for term in _parser().terminals:
        if term.name == name:
            if term.pattern.type == "str":
                return f"'{term.pattern.value}'"
            break
    return name.lower()


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "SEP":
        return "end of line" if str(tok) != ";" else "';'"
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "INT":
        return f"number {tok}"
    if str(tok) in KEYWORDS:
        return f"keyword '{tok}'"
    return f"'{tok}'"


def _friendly(e: UnexpectedInput, filename: str) -> SpecSyntaxError:
    if isinstance(e, UnexpectedCharacters):
        ch = str(getattr(e, "char", "") or "?")
        span = Span(filename, e.line, e.column)
        return SpecSyntaxError(f"unexpected character {describe_char(ch)}", span)
    if isinstance(e, (UnexpectedToken, UnexpectedEOF)):
        tok: Token | None = getattr(e, "token", None)
        expected = sorted(set(getattr(e, "expected", None) or getattr(e, "accepts", None) or ()))
        expected = [x for x in expected if x not in ("NL", "SEMI")]
        words = sorted({_describe_terminal(x) for x in expected})
        if (tok is None or tok.type == "$END") and _POSTLEX.open_braces:
            brace = _POSTLEX.open_braces[-1]
            span = Span(filename, brace.line or 1, brace.column or 1)
            return SpecSyntaxError("unexpected end of file: this '{' is never closed", span)
        if tok is None or tok.type == "$END":
            line = getattr(e, "line", -1)
            col = getattr(e, "column", -1)
            if tok is not None and tok.end_line and tok.end_column:  # $END borrows the last token's place
                line, col = tok.end_line, tok.end_column  # so point just after that token
            span = Span(filename, max(line, 1), max(col, 1))
            return SpecSyntaxError("unexpected end of file" + _expected_text(words), span)
        span = Span(filename, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)
        unclosed = _unclosed_block(tok)
        if unclosed is not None:
            return SpecSyntaxError(
                f"this '{{' is never closed: {_describe_token(tok)} at line {tok.line} starts a new "
                "declaration inside it; add the missing '}'",
                Span(filename, unclosed.line or 1, unclosed.column or 1),
            )
        if tok.type == "EQUAL":
            if _declaring(e) == "TIMER":
                return SpecSyntaxError(
                    "a timer takes no initial value: every timer starts at 0 (remove the '= ...')", span
                )
            return SpecSyntaxError("unexpected '=' (an assignment) in an expression", span, "did you mean '=='?")
        hint = None
        if tok.type == "NAME":
            keywords = [x.strip("'") for x in words if x.startswith("'") and x.strip("'").isalpha()]
            close = difflib.get_close_matches(str(tok), keywords, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean '{close[0]}'?"
        if tok.type == "SEP" and str(tok) != ";":
            return SpecSyntaxError(
                "unexpected end of line" + _expected_text(words)
                + " (an expression continues onto the next line only inside parentheses)",
                span,
            )
        if tok.type == "CMP_OP" and "CMP_OP" not in expected and _after_comparison(e):
            return SpecSyntaxError(
                "comparisons cannot be chained: write 'a < b and b < c'", span
            )
        if tok.type in ("IF", "NOT"):
            msg = (
                f"'{tok}' cannot stand here without parentheses" + _expected_text(words)
                + f"; write '({tok} ...)'"
            )
            return SpecSyntaxError(msg, span)
        if str(tok) in KEYWORDS and expected == ["NAME"]:  # only a name could stand here
            return SpecSyntaxError(
                f"'{tok}' is a reserved word and cannot be used as a name (spec/language.md section 2)", span
            )
        return SpecSyntaxError(f"unexpected {_describe_token(tok)}" + _expected_text(words), span, hint)
    return SpecSyntaxError(str(e).splitlines()[0], Span(filename, getattr(e, "line", 1), getattr(e, "column", 1)))


# keywords that open a declaration: seen at the start of a line inside an open statement
# block or init block, they mean that block's '}' is missing
_DECL_STARTS = frozenset(
    ["PROTOCOL", "CONST", "VAR", "TIMER", "NODE", "STATES", "INIT", "RULE", "FAULT", "ACTION", "ON", "CHECK",
     "RETRY", "PROGRESS", "FAIR"]
)


def _unclosed_block(tok: Token) -> Token | None:
    """The `{` left open when `tok`, a declaration keyword on a later line, is unexpected."""
    if tok.type not in _DECL_STARTS or not _POSTLEX.open_braces:
        return None
    brace, kind = _POSTLEX.open_braces[-1], _POSTLEX.brace_kinds[-1]
    if kind == "kind" or (tok.line or 0) <= (brace.line or 0):
        return None
    return brace


def _declaring(e: UnexpectedInput) -> str | None:
    """The keyword of the declaration being parsed when `e` was raised (TIMER, VAR, ...)."""
    state = getattr(e, "interactive_parser", None)
    try:
        stack = state.parser_state.value_stack if state is not None else []
    except AttributeError:
        return None
    for v in reversed(stack):
        if isinstance(v, Token) and v.type in _DECL_STARTS:
            return v.type
    return None


def _after_comparison(e: UnexpectedInput) -> bool:
    state = getattr(e, "interactive_parser", None)
    if state is None:
        return False
    try:
        stack = state.parser_state.value_stack
    except AttributeError:
        return False
    return any(isinstance(v, Token) and v.type == "CMP_OP" for v in stack[-3:])


def _expected_text(words: list[str]) -> str:
    if not words:
        return ""
    if len(words) > 8:
        return ""
    if len(words) == 1:
        return f", expected {words[0]}"
    return ", expected one of " + ", ".join(words)


# ---- tree to AST -------------------------------------------------------------------------


class _ToAst(Transformer[Token, Any]):
    """One method per grammar rule; spans come from tokens and `meta`."""

    def __init__(self, filename: str) -> None:
        super().__init__(visit_tokens=False)
        self.file = filename

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.file, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)

    def _meta_span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(str(tok), self._tok_span(tok))

    # -- declarations
    @v_args(meta=True)
    def start(self, meta: Any, children: list[Any]) -> ast.Spec:
        return ast.Spec(self.file, children[0], tuple(children[1:]))

    @v_args(meta=True)
    def protocol_decl(self, meta: Any, children: list[Any]) -> ast.ProtocolDecl:
        return ast.ProtocolDecl(self._ident(children[0]), self._meta_span(meta))

    @v_args(meta=True)
    def const_decl(self, meta: Any, c: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(self._ident(c[0]), c[-1], self._tok_span(c[0]))

    @v_args(meta=True)
    def var_decl(self, meta: Any, c: list[Any]) -> ast.VarDecl:
        return ast.VarDecl(self._ident(c[0]), c[1], c[-1], False, self._tok_span(c[0]))

    @v_args(meta=True)
    def timer_decl(self, meta: Any, c: list[Any]) -> ast.VarDecl:
        rng = ast.RangeType(c[1], c[2], self._meta_span(meta))
        return ast.VarDecl(self._ident(c[0]), rng, None, True, self._tok_span(c[0]))

    @v_args(meta=True)
    def bool_type(self, meta: Any, c: list[Any]) -> ast.BoolType:
        return ast.BoolType(self._tok_span(c[0]))

    @v_args(meta=True)
    def range_type(self, meta: Any, c: list[Any]) -> ast.RangeType:
        return ast.RangeType(c[0], c[1], self._meta_span(meta))

    @v_args(meta=True)
    def node_decl(self, meta: Any, c: list[Any]) -> ast.NodeDecl:
        return ast.NodeDecl(self._ident(c[0]), c[1], tuple(c[2:]), self._tok_span(c[0]))

    @v_args(meta=True)
    def states_decl(self, meta: Any, c: list[Any]) -> ast.StatesDecl:
        return ast.StatesDecl(tuple(self._ident(t) for t in c), self._meta_span(meta))

    @v_args(meta=True)
    def init_decl(self, meta: Any, c: list[Any]) -> ast.InitDecl:
        items = tuple(x for x in c[1:] if x is not None)
        return ast.InitDecl(items, self._tok_span(c[0]))

    @v_args(meta=True)
    def init_item(self, meta: Any, c: list[Any]) -> ast.InitItem:
        return ast.InitItem(self._ident(c[0]), c[1], self._tok_span(c[0]))

    @v_args(meta=True)
    def modifier(self, meta: Any, c: list[Any]) -> ast.Ident:
        return self._ident(c[0])

    @v_args(meta=True)
    def rule_decl(self, meta: Any, c: list[Any]) -> ast.RuleDecl:
        *mods, name, src, dst, guard, block = c
        return ast.RuleDecl(
            self._ident(name), tuple(mods), self._ident(src), self._ident(dst), guard, block,
            self._tok_span(name),
        )

    @v_args(meta=True)
    def action_decl(self, meta: Any, c: list[Any]) -> ast.ActionDecl:
        fair, name, guard, block = c
        return ast.ActionDecl(self._ident(name), fair is not None, guard, block, self._tok_span(name))

    @v_args(meta=True)
    def fault_decl(self, meta: Any, c: list[Any]) -> ast.FaultDecl:
        name, trans, guard, block, limit = c
        return ast.FaultDecl(self._ident(name), trans, guard, block, limit, self._tok_span(name))

    @v_args(meta=True)
    def transition(self, meta: Any, c: list[Any]) -> tuple[ast.Ident, ast.Ident]:
        return (self._ident(c[0]), self._ident(c[1]))

    def when(self, c: list[Any]) -> Any:
        return c[0]

    def limit(self, c: list[Any]) -> Any:
        return c[0]

    def within(self, c: list[Any]) -> Any:
        return c[0]

    def assuming(self, c: list[Any]) -> Any:
        return c[0]

    @v_args(meta=True)
    def tick_decl(self, meta: Any, c: list[Any]) -> ast.TickDecl:
        return ast.TickDecl(c[1], self._tok_span(c[0]))

    @v_args(meta=True)
    def block(self, meta: Any, c: list[Any]) -> ast.Block:
        stmts = tuple(x for x in c if isinstance(x, ast.Assign))
        return ast.Block(stmts, self._meta_span(meta))

    @v_args(meta=True)
    def stmt(self, meta: Any, c: list[Any]) -> ast.Assign:
        return ast.Assign(self._ident(c[0]), str(c[1]), c[2], self._tok_span(c[0]))

    @v_args(meta=True)
    def invariant_check(self, meta: Any, c: list[Any]) -> ast.CheckDecl:
        return ast.CheckDecl("invariant", self._ident(c[0]), c[1], None, None, self._tok_span(c[0]))

    @v_args(meta=True)
    def reachable_check(self, meta: Any, c: list[Any]) -> ast.CheckDecl:
        return ast.CheckDecl("reachable", self._ident(c[0]), c[1], None, None, self._tok_span(c[0]))

    @v_args(meta=True)
    def no_storm_check(self, meta: Any, c: list[Any]) -> ast.CheckDecl:
        kw, name, assuming = c
        span = self._tok_span(name) if name is not None else self._tok_span(kw)
        ident = self._ident(name) if name is not None else None
        return ast.CheckDecl("no_storm", ident, None, None, assuming, span)

    @v_args(meta=True)
    def no_retry_storm_check(self, meta: Any, c: list[Any]) -> ast.CheckDecl:
        kw, name, assuming = c
        span = self._tok_span(name) if name is not None else self._tok_span(kw)
        ident = self._ident(name) if name is not None else None
        return ast.CheckDecl("no_storm", ident, None, None, assuming, span, sustained=True)

    @v_args(meta=True)
    def recovers_check(self, meta: Any, c: list[Any]) -> ast.CheckDecl:
        name, expr, within, assuming = c
        return ast.CheckDecl("recovers", self._ident(name), expr, within, assuming, self._tok_span(name))

    # -- expressions
    @v_args(meta=True)
    def if_expr(self, meta: Any, c: list[Any]) -> ast.IfExpr:
        return ast.IfExpr(c[1], c[2], c[3], self._meta_span(meta))

    @v_args(meta=True)
    def binop(self, meta: Any, c: list[Any]) -> ast.Binary:
        left, op, right = c
        return ast.Binary(str(op), left, right, self._tok_span(op))

    @v_args(meta=True)
    def unop(self, meta: Any, c: list[Any]) -> ast.Unary:
        op, operand = c
        return ast.Unary(str(op), operand, self._tok_span(op))

    @v_args(meta=True)
    def int_lit(self, meta: Any, c: list[Any]) -> ast.IntLit:
        tok = c[0]
        digits = str(tok).lstrip("0")
        # compare lengths before converting: Python refuses to convert over 4,300 digits
        if len(digits) > INT_DIGITS or int(digits or "0") > INT_MAX:
            shown = str(tok) if len(str(tok)) <= 30 else f"{str(tok)[:20]}... ({len(str(tok)):,} digits)"
            raise SpecSyntaxError(
                f"integer literal {shown} is larger than the largest integer 2**63-1", self._tok_span(tok)
            )
        value = int(digits or "0")
        return ast.IntLit(value, self._tok_span(tok))

    @v_args(meta=True)
    def true_lit(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(True, self._tok_span(c[0]))

    @v_args(meta=True)
    def false_lit(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(False, self._tok_span(c[0]))

    @v_args(meta=True)
    def name_ref(self, meta: Any, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), self._tok_span(c[0]))

    @v_args(meta=True)
    def minmax(self, meta: Any, c: list[Any]) -> ast.Call:
        return ast.Call(str(c[0]), tuple(c[1:]), self._tok_span(c[0]))

    @v_args(meta=True)
    def count(self, meta: Any, c: list[Any]) -> ast.Count:
        kw, state, _where_kw, where = c
        return ast.Count(self._ident(state), where, self._tok_span(kw))
