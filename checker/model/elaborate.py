"""Elaborate the AST into the frozen IR: names, types, constants, and every spec error.

Errors are raised at the first problem, in source order, as SpecError with a span.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import Span, SpecError, SpecSyntaxError, SpecTypeError, UsageError, did_you_mean
from checker.model import ir
from checker.model.evaluate import EvalError, evaluate
from checker.syntax import ast, parse_spec

_CATEGORY_WORD = {
    "const": "a constant",
    "global": "a global variable",
    "kind": "a node kind",
    "state": "a state",
    "rule": "a rule",
    "action": "an action",
    "fault": "a fault",
    "check": "a check",
}


def load_spec(path: str | Path, overrides: Mapping[str, ir.Value] | None = None) -> ir.Model:
    """Read, parse and elaborate a spec file; raise SpecError or UsageError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = None
        if p.parent.is_dir():
            hint = did_you_mean(p.name, [q.name for q in p.parent.glob("*.storm")])
        raise UsageError(f"{path}: no such file" + (f"; {hint}" if hint else "")) from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a spec file") from None
    except UnicodeDecodeError as e:
        raw = p.read_bytes()[: e.start]
        line = raw.count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n") + 1) + 1
        err = SpecSyntaxError(
            f"not a UTF-8 text file: byte 0x{e.object[e.start]:02x} cannot be decoded", Span(str(path), line, col)
        )
        err.source_text = p.read_bytes().decode("utf-8", "replace")
        raise err from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    return load_text(text, str(path), overrides)


def load_text(text: str, filename: str = "<spec>", overrides: Mapping[str, ir.Value] | None = None) -> ir.Model:
    """Parse and elaborate spec text (a byte-order mark at its start is ignored)."""
    text = text.removeprefix("\ufeff")
    spec = parse_spec(text, filename)
    try:
        return _Elaborator(spec, text, dict(overrides or {})).run()
    except SpecError as e:
        e.source_text = text
        raise


@dataclass
class _Scope:
    """Which names an expression may use."""

    kind: int | None = None  # the node whose locals bare names reach first
    const_only: bool = False
    what: str = "expression"


@dataclass
class _KindBuild:
    decl: ast.NodeDecl
    index: int
    count: int = 0
    states: list[str] = field(default_factory=list)
    locals: list[ir.Var] = field(default_factory=list)
    local_index: dict[str, int] = field(default_factory=dict)


class _Elaborator:
    def __init__(self, spec: ast.Spec, text: str, overrides: dict[str, ir.Value]) -> None:
        self.spec = spec
        self.text = text
        self.file = spec.file
        self.overrides = overrides
        self.names: dict[str, tuple[str, Span]] = {}
        self.consts: dict[str, tuple[ir.Value, ir.Type]] = {}
        self.const_order: list[str] = []
        self.globals: list[ir.Var] = []
        self.global_index: dict[str, int] = {}
        self.kinds: list[_KindBuild] = []
        self.state_owner: dict[str, tuple[int, int]] = {}
        self.local_owner: dict[str, int] = {}  # a local name -> first kind that has it
        self.first_local: dict[str, tuple[str, Span]] = {}  # a local name -> its first kind and place
        self.lines = text.split("\n")  # for check sources: split once, as the lexer counts lines

    # ---- driver --------------------------------------------------------------------------

    def run(self) -> ir.Model:
        self._check_placement()
        self._collect_names()
        self._check_overrides()
        # every constant first: a const may use only earlier ones, but any other constant
        # expression (bounds, initial values, counts, limits) may use any constant
        for d in self.spec.decls:
            if isinstance(d, ast.ConstDecl):
                self._const(d)
        for d in self.spec.decls:
            if isinstance(d, ast.VarDecl):
                self._global(d)
            elif isinstance(d, ast.NodeDecl):
                self._kind_header(d)
        kinds = [self._kind_body(kb) for kb in self.kinds]
        kind_of = {id(kb.decl): kb for kb in self.kinds}
        rules: list[ir.Rule] = []
        faults: list[ir.Fault] = []
        actions: list[ir.Action] = []
        ticks: list[ast.TickDecl] = []
        checks: list[ir.Check] = []
        for d in self.spec.decls:
            if isinstance(d, ast.NodeDecl):
                kb = kind_of[id(d)]
                for item in d.items:
                    if isinstance(item, ast.RuleDecl):
                        rules.append(self._rule(item, kb))
                    elif isinstance(item, ast.FaultDecl):
                        faults.append(self._fault(item, kb))
            elif isinstance(d, ast.ActionDecl):
                actions.append(self._action(d))
            elif isinstance(d, ast.FaultDecl):
                faults.append(self._fault(d, None))
            elif isinstance(d, ast.TickDecl):
                ticks.append(d)
            elif isinstance(d, ast.CheckDecl):
                checks.append(self._check(d))
        tick = self._merged_ticks(ticks, None)
        if not checks:
            raise SpecTypeError(
                "the spec has no check: add a line such as 'check no_storm'", Span(self.file, 1, 1)
            )
        n_rules, n_actions = len(rules), len(actions)
        rules = [dataclasses.replace(r, event=i) for i, r in enumerate(rules)]
        actions = [dataclasses.replace(a, event=n_rules + i) for i, a in enumerate(actions)]
        slot = 0
        numbered: list[ir.Fault] = []
        for i, f in enumerate(faults):
            s = None
            if f.limit is not None:
                s, slot = slot, slot + 1
            numbered.append(dataclasses.replace(f, event=n_rules + n_actions + i, slot=s))
        return ir.Model(
            name=self.spec.protocol.name.text,
            file=self.file,
            consts=tuple((n, self.consts[n][0]) for n in self.const_order),
            globals=tuple(self.globals),
            kinds=tuple(kinds),
            rules=tuple(rules),
            actions=tuple(actions),
            faults=tuple(numbered),
            tick=tick,
            checks=tuple(checks),
        )

    # ---- names ---------------------------------------------------------------------------

    def _check_placement(self) -> None:
        for d in self.spec.decls:
            if isinstance(d, (ast.StatesDecl, ast.InitDecl, ast.RuleDecl)):
                word = {ast.StatesDecl: "'states'", ast.InitDecl: "'init'", ast.RuleDecl: "a rule"}[type(d)]
                raise SpecTypeError(f"{word} belongs inside a node kind: node KIND count N {{ ... }}", d.span)
            if isinstance(d, ast.NodeDecl):
                for item in d.items:
                    if isinstance(item, (ast.ConstDecl, ast.NodeDecl, ast.ActionDecl, ast.CheckDecl)):
                        word = {
                            ast.ConstDecl: "a constant", ast.NodeDecl: "a node kind",
                            ast.ActionDecl: "an action", ast.CheckDecl: "a check",
                        }[type(item)]
                        raise SpecTypeError(f"{word} belongs at top level, not inside node kind '{d.name.text}'", item.span)

    def _local_name(self, name: ast.Ident, kind: ast.NodeDecl) -> None:
        if name.text in self.names:
            cat, first = self.names[name.text]
            raise SpecTypeError(
                f"local '{name.text}' reuses the name of {_CATEGORY_WORD[cat]} declared at line {first.line}",
                name.span,
            )
        self.first_local.setdefault(name.text, (kind.name.text, name.span))

    def _declare(self, name: ast.Ident, category: str) -> None:
        if name.text in self.first_local:
            kind, first = self.first_local[name.text]
            raise SpecTypeError(
                f"duplicate name '{name.text}': already declared as a local of node kind '{kind}' at line {first.line}",
                name.span,
            )
        if name.text in self.names:
            cat, first = self.names[name.text]
            raise SpecTypeError(
                f"duplicate name '{name.text}': already declared as {_CATEGORY_WORD[cat]} at line {first.line}",
                name.span,
            )
        self.names[name.text] = (category, name.span)

    def _collect_names(self) -> None:
        """Declare every spec-wide name, and check locals against them, in source order.

        A duplicate is reported at its second occurrence (language.md): a local before a
        global of the same name is reported at the global.
        """
        for d in self.spec.decls:
            if isinstance(d, ast.ConstDecl):
                self._declare(d.name, "const")
            elif isinstance(d, ast.VarDecl):
                self._declare(d.name, "global")
            elif isinstance(d, ast.NodeDecl):
                self._declare(d.name, "kind")
                for item in d.items:
                    if isinstance(item, ast.VarDecl):
                        self._local_name(item.name, d)
                    elif isinstance(item, ast.StatesDecl):
                        for s in item.names:
                            self._declare(s, "state")
                    elif isinstance(item, ast.RuleDecl):
                        self._declare(item.name, "rule")
                    elif isinstance(item, ast.FaultDecl):
                        self._declare(item.name, "fault")
            elif isinstance(d, ast.ActionDecl):
                self._declare(d.name, "action")
            elif isinstance(d, ast.FaultDecl):
                self._declare(d.name, "fault")
            elif isinstance(d, ast.CheckDecl):
                name = d.name or ast.Ident(_default_name(d), d.span)
                self._declare(name, "check")

    def _check_overrides(self) -> None:
        declared = [n for n, (cat, _) in self.names.items() if cat == "const"]
        for name in self.overrides:
            if name not in declared:
                hint = did_you_mean(name, declared)
                what = f"'{name}' is not a constant of {self.file}"
                if name in self.names:
                    what = f"'{name}' is {_CATEGORY_WORD[self.names[name][0]]}, not a constant; only constants can be set"
                raise UsageError(f"--set {name}: {what}" + (f"; {hint}" if hint else ""))

    # ---- constants and globals -------------------------------------------------------------

    def _const_value(self, e: ast.Expr, what: str, want: ir.Type | None = ir.Type.INT) -> ir.Value:
        x = self._expr(e, _Scope(const_only=True, what=what))
        if want is not None and x.type is not want:
            raise SpecTypeError(f"{what} must be {'an integer' if want is ir.Type.INT else 'a boolean'}", _span_of(e))
        assert isinstance(x, ir.Lit)
        return x.value

    def _const(self, d: ast.ConstDecl) -> None:
        x = self._expr(d.value, _Scope(const_only=True, what=f"constant '{d.name.text}'"))
        assert isinstance(x, ir.Lit)
        value, typ = x.value, x.type
        if d.name.text in self.overrides:
            new = self.overrides[d.name.text]
            new_type = ir.Type.BOOL if isinstance(new, bool) else ir.Type.INT
            if new_type is not typ:
                raise UsageError(
                    f"--set {d.name.text}={str(new).lower()}: '{d.name.text}' is {'a boolean' if typ is ir.Type.BOOL else 'an integer'} constant"
                )
            value = new
        self.consts[d.name.text] = (value, typ)
        self.const_order.append(d.name.text)

    def _var(self, d: ast.VarDecl, where: str) -> ir.Var:
        if isinstance(d.type, ast.BoolType):
            if d.is_timer:  # pragma: no cover - the grammar gives timers a range
                raise SpecTypeError("a timer must have an integer range 0..HI", d.span)
            assert d.init is not None
            init = self._const_value(d.init, f"the initial value of '{d.name.text}'", ir.Type.BOOL)
            return ir.Var(d.name.text, ir.Type.BOOL, 0, 1, bool(init), False, d.span)
        lo = int(self._const_value(d.type.lo, f"the lower bound of '{d.name.text}'"))
        hi = int(self._const_value(d.type.hi, f"the upper bound of '{d.name.text}'"))
        if lo > hi:
            raise SpecTypeError(f"the range {lo}..{hi} of '{d.name.text}' is empty", _span_of(d.type.lo))
        if d.is_timer:
            if lo != 0:
                raise SpecTypeError(f"a timer's range must start at 0, not {lo}", _span_of(d.type.lo))
            init = 0
        else:
            assert d.init is not None
            init = int(self._const_value(d.init, f"the initial value of '{d.name.text}'"))
            if not lo <= init <= hi:
                raise SpecTypeError(
                    f"the initial value {init} of '{d.name.text}' is outside its range {lo}..{hi}", _span_of(d.init)
                )
        return ir.Var(d.name.text, ir.Type.INT, lo, hi, init, d.is_timer, d.span)

    def _global(self, d: ast.VarDecl) -> None:
        self.global_index[d.name.text] = len(self.globals)
        self.globals.append(self._var(d, "global"))

    # ---- kinds -----------------------------------------------------------------------------

    def _kind_header(self, d: ast.NodeDecl) -> None:
        kb = _KindBuild(d, len(self.kinds))
        count = int(self._const_value(d.count, f"the count of node kind '{d.name.text}'"))
        if count < 0:
            raise SpecTypeError(f"node kind '{d.name.text}' has a negative count {count}", _span_of(d.count))
        kb.count = count
        states_decls = [i for i in d.items if isinstance(i, ast.StatesDecl)]
        if not states_decls:
            raise SpecTypeError(f"node kind '{d.name.text}' has no 'states' line", d.name.span)
        if len(states_decls) > 1:
            raise SpecTypeError(f"node kind '{d.name.text}' has a second 'states' line", states_decls[1].span)
        for i, s in enumerate(states_decls[0].names):
            kb.states.append(s.text)
            self.state_owner[s.text] = (kb.index, i)
        self.kinds.append(kb)
        for item in d.items:
            if isinstance(item, ast.VarDecl):
                name = item.name.text
                if name in kb.local_index:
                    raise SpecTypeError(f"duplicate local '{name}' in node kind '{d.name.text}'", item.name.span)
                if name in self.names:
                    cat, first = self.names[name]
                    raise SpecTypeError(
                        f"local '{name}' reuses the name of {_CATEGORY_WORD[cat]} declared at line {first.line}",
                        item.name.span,
                    )
                kb.local_index[name] = len(kb.locals)
                kb.locals.append(self._var(item, "local"))
                self.local_owner.setdefault(name, kb.index)

    def _kind_body(self, kb: _KindBuild) -> ir.Kind:
        d = kb.decl
        inits = [i for i in d.items if isinstance(i, ast.InitDecl)]
        counts = [0] * len(kb.states)
        if len(inits) > 1:
            raise SpecTypeError(f"node kind '{d.name.text}' has a second 'init' block", inits[1].span)
        if inits:
            seen: set[str] = set()
            for item in inits[0].items:
                s = item.state.text
                if s not in kb.states:
                    raise self._unknown_state(item.state, kb)
                if s in seen:
                    raise SpecTypeError(f"state '{s}' is listed twice in init", item.state.span)
                seen.add(s)
                n = int(self._const_value(item.count, f"the init count of '{s}'"))
                if n < 0:
                    raise SpecTypeError(f"the init count of '{s}' is negative ({n})", _span_of(item.count))
                counts[kb.states.index(s)] = n
            if sum(counts) != kb.count:
                raise SpecTypeError(
                    f"init counts add up to {sum(counts)}, but node kind '{d.name.text}' has count {kb.count}",
                    inits[0].span,
                )
        else:
            counts[0] = kb.count
        ticks = [i for i in d.items if isinstance(i, ast.TickDecl)]
        tick = self._merged_ticks(ticks, kb)
        return ir.Kind(d.name.text, kb.count, tuple(kb.states), tuple(kb.locals), tuple(counts), tick, d.span)

    def _unknown_state(self, ident: ast.Ident, kb: _KindBuild) -> SpecError:
        if ident.text in self.state_owner:
            other = self.kinds[self.state_owner[ident.text][0]].decl.name.text
            return SpecTypeError(
                f"state '{ident.text}' belongs to node kind '{other}', not '{kb.decl.name.text}'", ident.span
            )
        return SpecTypeError(
            f"unknown state '{ident.text}' in node kind '{kb.decl.name.text}'", ident.span,
            did_you_mean(ident.text, kb.states),
        )

    def _state(self, ident: ast.Ident, kb: _KindBuild) -> int:
        if ident.text not in kb.states:
            raise self._unknown_state(ident, kb)
        return kb.states.index(ident.text)

    def _rule(self, d: ast.RuleDecl, kb: _KindBuild) -> ir.Rule:
        seen: set[str] = set()
        for m in d.modifiers:
            if m.text in seen:
                raise SpecTypeError(f"modifier '{m.text}' is given twice", m.span)
            seen.add(m.text)
            if {"retry", "progress"} <= seen:
                raise SpecTypeError("a rule cannot be both 'retry' and 'progress'", m.span)
        tag = ir.Tag.RETRY if "retry" in seen else ir.Tag.PROGRESS if "progress" in seen else ir.Tag.NONE
        src, dst = self._state(d.src, kb), self._state(d.dst, kb)
        scope = _Scope(kind=kb.index, what=f"the guard of rule '{d.name.text}'")
        guard = self._guard(d.guard, scope)
        updates = self._block(d.block, "node", kb, f"rule '{d.name.text}'")
        return ir.Rule(d.name.text, -1, kb.index, src, dst, guard, updates, tag, "fair" in seen, d.name.span)

    def _fault(self, d: ast.FaultDecl, kb: _KindBuild | None) -> ir.Fault:
        limit = None
        if d.limit is not None:
            limit = int(self._const_value(d.limit, f"the limit of fault '{d.name.text}'"))
            if limit < 0:
                raise SpecTypeError(f"the limit of fault '{d.name.text}' is negative ({limit})", _span_of(d.limit))
        if kb is None:
            if d.transition is not None:
                raise SpecTypeError(
                    f"fault '{d.name.text}' moves a node from state to state, so it belongs inside a node kind",
                    d.transition[0].span,
                )
            if d.block is None:
                raise SpecTypeError(f"top-level fault '{d.name.text}' needs a block {{ ... }} saying what it changes", d.name.span)
            guard = self._guard(d.guard, _Scope(what=f"the guard of fault '{d.name.text}'"))
            updates = self._block(d.block, "global", None, f"fault '{d.name.text}'")
            return ir.Fault(d.name.text, -1, None, 0, 0, guard, updates, limit, None, d.name.span)
        if d.transition is None:
            raise SpecTypeError(
                f"fault '{d.name.text}' inside node kind '{kb.decl.name.text}' needs ': FROM -> TO'", d.name.span
            )
        src, dst = self._state(d.transition[0], kb), self._state(d.transition[1], kb)
        guard = self._guard(d.guard, _Scope(kind=kb.index, what=f"the guard of fault '{d.name.text}'"))
        updates = self._block(d.block, "node", kb, f"fault '{d.name.text}'")
        return ir.Fault(d.name.text, -1, kb.index, src, dst, guard, updates, limit, None, d.name.span)

    def _action(self, d: ast.ActionDecl) -> ir.Action:
        guard = self._guard(d.guard, _Scope(what=f"the guard of action '{d.name.text}'"))
        updates = self._block(d.block, "global", None, f"action '{d.name.text}'")
        return ir.Action(d.name.text, -1, guard, updates, d.fair, d.name.span)

    def _merged_ticks(self, ticks: list[ast.TickDecl], kb: _KindBuild | None) -> tuple[ir.Assign, ...]:
        merged: list[ir.Assign] = []
        seen: set[str] = set()
        where = "on tick" if kb is None else f"on tick of node kind '{kb.decl.name.text}'"
        for t in ticks:
            for a in self._block(t.block, "global" if kb is None else "kind_tick", kb, where):
                if a.name in seen:
                    raise SpecTypeError(f"'{a.name}' is assigned in two 'on tick' blocks of the same scope", a.span)
                seen.add(a.name)
                merged.append(a)
        return tuple(merged)

    def _guard(self, e: ast.Expr | None, scope: _Scope) -> ir.Expr | None:
        if e is None:
            return None
        g = self._expr(e, scope)
        if g.type is not ir.Type.BOOL:
            raise SpecTypeError(f"{scope.what} must be a boolean condition", _span_of(e))
        if isinstance(g, ir.Lit) and g.value is True:
            return None
        return g

    def _block(self, b: ast.Block | None, mode: str, kb: _KindBuild | None, where: str) -> tuple[ir.Assign, ...]:
        if b is None:
            return ()
        out: list[ir.Assign] = []
        seen: set[str] = set()
        for st in b.stmts:
            name = st.target.text
            if name in seen:
                raise SpecTypeError(f"'{name}' is assigned twice in one block of {where}", st.target.span)
            seen.add(name)
            var: ir.Var | None = None
            local = False
            index = -1
            if kb is not None and name in kb.local_index:
                if mode in ("node", "kind_tick"):
                    var, local, index = kb.locals[kb.local_index[name]], True, kb.local_index[name]
            elif name in self.global_index and mode in ("node", "global"):
                var, index = self.globals[self.global_index[name]], self.global_index[name]
            if var is None:
                raise self._bad_target(st.target, mode, kb, where)
            scope = _Scope(kind=kb.index if kb is not None else None, what=f"the value assigned to '{name}'")
            value = self._expr(st.value, scope)
            if st.op in ("+=", "-=") and var.type is not ir.Type.INT:
                raise SpecTypeError(f"'{st.op}' needs an integer variable, and '{name}' is a boolean", st.target.span)
            if value.type is not var.type:
                raise SpecTypeError(
                    f"type mismatch: '{name}' is {_type_word(var.type)}, the value is {_type_word(value.type)}",
                    _span_of(st.value),
                )
            out.append(ir.Assign(local, index, name, st.op, value, st.target.span))
        return tuple(out)

    def _bad_target(self, ident: ast.Ident, mode: str, kb: _KindBuild | None, where: str) -> SpecError:
        name = ident.text
        if name in self.consts or (name in self.names and self.names[name][0] == "const"):
            return SpecTypeError(f"cannot assign to constant '{name}'", ident.span)
        if mode == "kind_tick" and name in self.global_index:
            return SpecTypeError(
                f"{where} may assign only the kind's locals; '{name}' is a global (assign it in a top-level 'on tick')",
                ident.span,
            )
        if mode == "global" and name in self.local_owner:
            owner = self.kinds[self.local_owner[name]].decl.name.text
            return SpecTypeError(
                f"'{name}' is a local of node kind '{owner}'; {where} may assign only globals", ident.span
            )
        if name in self.names:
            return SpecTypeError(f"cannot assign to '{name}': it is {_CATEGORY_WORD[self.names[name][0]]}", ident.span)
        candidates = list(self.global_index) if mode != "kind_tick" else []
        if kb is not None and mode != "global":
            candidates += list(kb.local_index)
        return SpecTypeError(f"unknown variable '{name}' in {where}", ident.span, did_you_mean(name, candidates))

    def _check(self, d: ast.CheckDecl) -> ir.Check:
        name = d.name.text if d.name is not None else _default_name(d)
        scope = _Scope(what=f"check '{name}'")
        source = self._check_source(d)
        assuming = None
        if d.assuming is not None:
            assuming = self._expr(d.assuming, _Scope(what=f"the assumption of check '{name}'"))
            if assuming.type is not ir.Type.BOOL:
                raise SpecTypeError(f"the assumption of check '{name}' must be a boolean condition", _span_of(d.assuming))
        expr = None
        if d.expr is not None:
            expr = self._expr(d.expr, scope)
            if expr.type is not ir.Type.BOOL:
                raise SpecTypeError(f"check '{name}' must be a boolean condition", _span_of(d.expr))
        if d.kind == "invariant":
            kind = ir.CheckKind.INVARIANT
        elif d.kind == "reachable":
            kind = ir.CheckKind.REACHABLE
        elif d.kind == "no_storm":
            kind = ir.CheckKind.NO_STORM
        elif d.within is not None:
            kind = ir.CheckKind.WITHIN
        else:
            kind = ir.CheckKind.RECOVERS
        within = None
        if d.within is not None:
            within = int(self._const_value(d.within, f"the 'within' bound of check '{name}'"))
            if within < 0:
                raise SpecTypeError(f"the 'within' bound of check '{name}' is negative ({within})", _span_of(d.within))
        return ir.Check(name, kind, expr, assuming, within, d.span, source, sustained=d.sustained)

    def _check_source(self, d: ast.CheckDecl) -> str:
        lines = self.lines
        if not 1 <= d.span.line <= len(lines):
            return ""
        line = lines[d.span.line - 1]
        rest = line[d.span.col - 1 :]
        if d.kind in ("invariant", "reachable", "recovers") and ":" in rest:
            rest = rest.split(":", 1)[1]
        elif d.name is not None:
            rest = rest[len(d.name.text) :]
        else:
            rest = rest[len(_default_name(d)) :]
        return rest.split("#", 1)[0].strip()

    # ---- expressions -------------------------------------------------------------------------

    def _expr(self, e: ast.Expr, scope: _Scope) -> ir.Expr:
        x = self._build(e, scope)
        if scope.const_only and not isinstance(x, ir.Lit):
            # folding left an operator that fails; evaluate in order, short-circuits included
            try:
                return ir.Lit(evaluate(x, (), None, None), x.type)
            except EvalError as err:
                raise SpecTypeError(f"{scope.what}: {err.message}", err.span or _span_of(e)) from None
        return x

    def _build(self, e: ast.Expr, scope: _Scope) -> ir.Expr:
        if isinstance(e, ast.IntLit):
            return ir.Lit(e.value, ir.Type.INT)
        if isinstance(e, ast.BoolLit):
            return ir.Lit(e.value, ir.Type.BOOL)
        if isinstance(e, ast.Name):
            return self._name(e, scope)
        if isinstance(e, ast.Unary):
            x = self._build(e.operand, scope)
            if e.op == "not":
                self._want(x, ir.Type.BOOL, "'not'", e.operand)
                return self._fold(ir.Unary("not", x, ir.Type.BOOL, e.span), scope)
            self._want(x, ir.Type.INT, "unary '-'", e.operand)
            return self._fold(ir.Unary("-", x, ir.Type.INT, e.span), scope)
        if isinstance(e, ast.Binary):
            a = self._build(e.left, scope)
            b = self._build(e.right, scope)
            if e.op in ("and", "or"):
                self._want(a, ir.Type.BOOL, f"'{e.op}'", e.left)
                self._want(b, ir.Type.BOOL, f"'{e.op}'", e.right)
                return self._fold(ir.Binary(e.op, a, b, ir.Type.BOOL, e.span), scope)
            if e.op in ("==", "!="):
                if a.type is not b.type:
                    raise SpecTypeError(
                        f"type mismatch: '{e.op}' compares {_type_word(a.type)} with {_type_word(b.type)}", e.span
                    )
                return self._fold(ir.Binary(e.op, a, b, ir.Type.BOOL, e.span), scope)
            self._want(a, ir.Type.INT, f"'{e.op}'", e.left)
            self._want(b, ir.Type.INT, f"'{e.op}'", e.right)
            typ = ir.Type.BOOL if e.op in ir.CMP_OPS else ir.Type.INT
            return self._fold(ir.Binary(e.op, a, b, typ, e.span), scope)
        if isinstance(e, ast.IfExpr):
            c = self._build(e.cond, scope)
            self._want(c, ir.Type.BOOL, "the condition of 'if'", e.cond)
            if isinstance(c, ir.Lit):  # fold without looking at the branch not taken
                t = self._build(e.then, scope)
                f = self._build(e.orelse, scope)
                if t.type is not f.type:
                    raise SpecTypeError(
                        f"type mismatch: 'then' gives {_type_word(t.type)}, 'else' gives {_type_word(f.type)}", _span_of(e.orelse)
                    )
                return t if c.value else f
            t = self._build(e.then, scope)
            f = self._build(e.orelse, scope)
            if t.type is not f.type:
                raise SpecTypeError(
                    f"type mismatch: 'then' gives {_type_word(t.type)}, 'else' gives {_type_word(f.type)}", _span_of(e.orelse)
                )
            return ir.Ite(c, t, f, t.type)
        if isinstance(e, ast.Call):
            args = tuple(self._build(a, scope) for a in e.args)
            for a, src in zip(args, e.args):
                self._want(a, ir.Type.INT, f"'{e.fn}'", src)
            return self._fold(ir.MinMax(e.fn, args, ir.Type.INT), scope, e.span)
        if isinstance(e, ast.Count):
            if scope.const_only:
                raise SpecTypeError(f"{scope.what} must be a constant expression; count() depends on the state", e.span)
            if e.state.text not in self.state_owner:
                if e.state.text in self.names:
                    raise SpecTypeError(
                        f"count() takes a state, and '{e.state.text}' is {_CATEGORY_WORD[self.names[e.state.text][0]]}",
                        e.state.span,
                    )
                raise SpecTypeError(
                    f"unknown state '{e.state.text}'", e.state.span, did_you_mean(e.state.text, list(self.state_owner))
                )
            k, s = self.state_owner[e.state.text]
            where = None
            if e.where is not None:
                inner = _Scope(kind=k, what=f"the 'where' of count({e.state.text})")
                where = self._build(e.where, inner)
                self._want(where, ir.Type.BOOL, "'where'", e.where)
            return ir.CountOf(k, s, where, ir.Type.INT, e.span)
        raise TypeError(e)  # pragma: no cover

    def _want(self, x: ir.Expr, typ: ir.Type, op: str, src: ast.Expr) -> None:
        if x.type is not typ:
            raise SpecTypeError(f"type mismatch: {op} needs {_type_word(typ)}, got {_type_word(x.type)}", _span_of(src))

    def _name(self, e: ast.Name, scope: _Scope) -> ir.Expr:
        name = e.id
        if not scope.const_only:
            if scope.kind is not None:
                kb = self.kinds[scope.kind]
                if name in kb.local_index:
                    v = kb.locals[kb.local_index[name]]
                    return ir.LocalRef(kb.local_index[name], name, v.type)
            if name in self.global_index:
                v = self.globals[self.global_index[name]]
                return ir.GlobalRef(self.global_index[name], name, v.type)
        if name in self.consts:
            value, typ = self.consts[name]
            return ir.Lit(value, typ)
        # not visible here: say why
        if name in self.names:
            cat = self.names[name][0]
            if cat == "const":
                raise SpecTypeError(f"constant '{name}' is used before its definition", e.span)
            if cat == "global" and scope.const_only:
                raise SpecTypeError(
                    f"{scope.what} must be a constant expression, and '{name}' is a variable", e.span
                )
            if cat == "state":
                raise SpecTypeError(f"'{name}' is a state, not a value; did you mean 'count({name})'?", e.span)
            raise SpecTypeError(f"'{name}' is {_CATEGORY_WORD[cat]}, not a value", e.span)
        if name in self.local_owner:
            owner = self.kinds[self.local_owner[name]].decl.name.text
            if scope.const_only:
                raise SpecTypeError(f"{scope.what} must be a constant expression, and '{name}' is a variable", e.span)
            if scope.kind is None:
                raise SpecTypeError(
                    f"'{name}' is a local of node kind '{owner}'; here only globals and constants are visible "
                    f"(use count(STATE where {name} ...))",
                    e.span,
                )
            here = self.kinds[scope.kind].decl.name.text
            raise SpecTypeError(f"'{name}' is a local of node kind '{owner}', not of '{here}'", e.span)
        visible = list(self.consts)
        if not scope.const_only:
            visible += list(self.global_index)
            if scope.kind is not None:
                visible += list(self.kinds[scope.kind].local_index)
        return self._raise_unknown(e, visible)

    def _raise_unknown(self, e: ast.Name, visible: list[str]) -> ir.Expr:
        raise SpecTypeError(f"unknown name '{e.id}'", e.span, did_you_mean(e.id, visible))

    def _fold(self, x: ir.Expr, scope: _Scope, span: Span | None = None) -> ir.Expr:
        """Replace an expression over literals by its value.

        `and`/`or` fold on a literal left operand without evaluating the right. An error
        while folding is a spec error where a constant is required, and is otherwise left
        for run time (the operand may sit in a branch that is never taken).
        """
        if isinstance(x, ir.Binary) and x.op in ("and", "or") and isinstance(x.left, ir.Lit):
            if x.op == "and":
                return x.right if x.left.value else ir.Lit(False, ir.Type.BOOL)
            return ir.Lit(True, ir.Type.BOOL) if x.left.value else x.right
        children: tuple[ir.Expr, ...]
        if isinstance(x, ir.Unary):
            children = (x.operand,)
        elif isinstance(x, ir.Binary):
            children = (x.left, x.right)
        elif isinstance(x, ir.MinMax):
            children = x.args
        else:
            return x
        if not all(isinstance(c, ir.Lit) for c in children):
            return x
        try:
            value = evaluate(x, (), None, None)
        except EvalError:
            return x  # a constant expression reports it once whole (see _expr); else at run time
        return ir.Lit(value, x.type)


def _type_word(t: ir.Type) -> str:
    return "an integer" if t is ir.Type.INT else "a boolean"


def _span_of(e: ast.Expr) -> Span:
    if isinstance(e, ast.Count):
        return e.span
    if isinstance(e, ast.Binary):
        return _span_of(e.left)
    return e.span


def _default_name(d: ast.CheckDecl) -> str:
    """The name of an unnamed storm check: its keyword."""
    return "no_retry_storm" if d.sustained else "no_storm"
