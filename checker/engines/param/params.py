"""Load a spec with some integer constants left free: the parameters of `stormproof prove`.

The elaborator folds every constant into a literal. Here a subclass keeps each `--for-all`
constant as a `ParamRef` in guards, updates and checks (and every constant defined from one
as its expression), and rebuilds each constant expression of a declaration (ranges, initial
values, counts, init counts, limits) over the parameters. The IR itself is elaborated at the
spec's own values, so every spec error is found exactly as `check` finds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from checker.errors import SpecError, UsageError, did_you_mean
from checker.model import elaborate as elab
from checker.model import ir
from checker.syntax import ast, parse_spec


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A free integer constant (`--for-all NAME`) inside an IR expression."""

    name: str
    type: ir.Type = ir.Type.INT


@dataclass(frozen=True)
class VarSym:
    lo: object  # an IR expression over the parameters (ir.Lit when it does not depend on them)
    hi: object
    init: object


@dataclass(frozen=True)
class ParamModel:
    """The IR at the spec's values, and the parts that depend on the parameters."""

    model: ir.Model
    params: tuple[str, ...]
    defaults: tuple[tuple[str, int], ...]  # each parameter's value in the spec (or --set)
    globals: tuple[VarSym, ...]
    counts: tuple[object, ...]  # per kind
    init_counts: tuple[tuple[object, ...], ...]  # per kind, per state
    limits: tuple[object | None, ...]  # per fault (model.faults order)
    assume: tuple[tuple[str, object], ...]  # (as written, IR expression over the parameters)


def params_in(x: object) -> set[str]:
    """The parameters an expression uses."""
    own = {x.name} if isinstance(x, ParamRef) else set()
    return own.union(*(params_in(y) for y in ir.children(x)))


def mentions_param(x: object) -> bool:
    return bool(params_in(x))


class _ParamElaborator(elab._Elaborator):
    def __init__(self, spec: ast.Spec, text: str, overrides: dict[str, ir.Value], params: Sequence[str]) -> None:
        super().__init__(spec, text, overrides)
        self.params = set(params)
        self.symbolic = False
        self.derived: dict[str, object] = {}

    def _const(self, d: ast.ConstDecl) -> None:
        super()._const(d)
        name = d.name.text
        if name in self.params:
            if self.consts[name][1] is not ir.Type.INT:
                raise UsageError(f"--for-all {name}: '{name}' is a boolean constant; prove takes integer constants")
            return
        self.symbolic = True
        try:
            x = self._build(d.value, elab._Scope(const_only=True, what=f"constant '{name}'"))
        finally:
            self.symbolic = False
        if mentions_param(x) and name not in self.overrides:
            self.derived[name] = x

    def _name(self, e: ast.Name, scope: elab._Scope) -> ir.Expr:
        if (self.symbolic or not scope.const_only) and e.id in self.consts:
            if e.id in self.params:
                return ParamRef(e.id)  # type: ignore[return-value]
            if e.id in self.derived:
                return self.derived[e.id]  # type: ignore[return-value]
        return super()._name(e, scope)

    def sym(self, e: ast.Expr | None, what: str = "a constant expression") -> object:
        if e is None:
            return None
        self.symbolic = True
        try:
            return self._build(e, elab._Scope(const_only=True, what=what))
        finally:
            self.symbolic = False


def parse_assume(text: str, source: str) -> ast.Expr:
    """Parse an `--assume` condition with the spec language's own expression grammar."""
    if "\n" in text or "#" in text:
        raise UsageError(f"--assume '{text}': one expression on one line, without comments")
    try:
        spec = parse_spec(f"protocol assume\nconst assumption = {text}\n", "--assume")
    except SpecError as e:
        raise UsageError(f"--assume '{text}': {e.message}") from None
    decls = spec.decls
    if len(decls) != 1 or not isinstance(decls[0], ast.ConstDecl):
        raise UsageError(f"--assume '{text}': not a single expression")
    return decls[0].value


def load_param_spec(path: str | Path, params: Sequence[str], assume: Sequence[str] = (),
                    overrides: Mapping[str, ir.Value] | None = None) -> ParamModel:
    """Load `path` with `params` free; raise SpecError or UsageError (one line) on bad input."""
    p = Path(path)
    model = elab.load_spec(p, overrides)  # every spec error first, as `check` reports it
    text = p.read_text(encoding="utf-8")
    spec = parse_spec(text, str(path))
    names = [n for n, _ in model.consts]
    seen: set[str] = set()
    for name in params:
        if name not in names:
            hint = did_you_mean(name, names)
            raise UsageError(f"--for-all {name}: '{name}' is not a constant of {path}" + (f"; {hint}" if hint else ""))
        if name in seen:
            raise UsageError(f"--for-all {name} is given twice")
        if overrides and name in overrides:
            raise UsageError(f"--for-all {name} and --set {name}: a constant is either free or set, not both")
        seen.add(name)
    el = _ParamElaborator(spec, text, dict(overrides or {}), params)
    try:
        built = el.run()
    except SpecError as e:
        e.source_text = text
        raise
    gl: list[VarSym] = []
    counts: list[object] = []
    inits: list[tuple[object, ...]] = []
    limits: list[object | None] = []

    def no_param(x: object, what: str) -> None:
        free = sorted(params_in(x))
        if free:
            raise UsageError(
                f"--for-all {', '.join(free)}: {what} depends on it; prove needs it fixed "
                f"(give it a value with --set, or leave it out of --for-all)"
            )

    kind_i = 0
    for d in spec.decls:
        if isinstance(d, ast.VarDecl):
            lo = el.sym(d.type.lo) if isinstance(d.type, ast.RangeType) else ir.Lit(0, ir.Type.INT)
            hi = el.sym(d.type.hi) if isinstance(d.type, ast.RangeType) else ir.Lit(1, ir.Type.INT)
            init = el.sym(d.init) if d.init is not None else ir.Lit(0, ir.Type.INT)
            gl.append(VarSym(lo, hi, init))
        elif isinstance(d, ast.NodeDecl):
            kind = model.kinds[kind_i]
            kind_i += 1
            counts.append(el.sym(d.count))
            per_state: list[object] = [ir.Lit(0, ir.Type.INT)] * len(kind.states)
            init_decls = [i for i in d.items if isinstance(i, ast.InitDecl)]
            if init_decls:
                for it in init_decls[0].items:
                    per_state[kind.states.index(it.state.text)] = el.sym(it.count)
            else:
                per_state[0] = counts[-1]
            inits.append(tuple(per_state))
            for item in d.items:
                if isinstance(item, ast.VarDecl):
                    if isinstance(item.type, ast.RangeType):
                        no_param(el.sym(item.type.lo), f"the range of local '{item.name.text}'")
                        no_param(el.sym(item.type.hi), f"the range of local '{item.name.text}'")
                    if item.init is not None:
                        no_param(el.sym(item.init), f"the initial value of local '{item.name.text}'")
                elif isinstance(item, ast.FaultDecl):
                    limits.append(el.sym(item.limit))
        elif isinstance(d, ast.FaultDecl):
            limits.append(el.sym(d.limit))
        elif isinstance(d, ast.CheckDecl) and d.within is not None:
            no_param(el.sym(d.within), "the 'within' bound of a check")
    pmodel = _param_ir(built, model)
    assumed = []
    for a in assume:
        parsed = parse_assume(a, str(path))
        try:
            x = el.sym(parsed, "the assumption")
        except SpecError as err:
            raise UsageError(f"--assume '{a}': {err.message}") from None
        if getattr(x, "type", None) is not ir.Type.BOOL:
            raise UsageError(f"--assume '{a}': must be a condition (true or false), not an integer")
        assumed.append((a, x))
    defaults = tuple((n, int(v)) for n, v in model.consts if n in params)
    return ParamModel(pmodel, tuple(params), defaults, tuple(gl), tuple(counts), tuple(inits),
                      tuple(limits), tuple(assumed))


def _param_ir(spec_model: ir.Model, concrete: ir.Model) -> ir.Model:
    """The IR with the parameters left symbolic in guards, updates and checks, and the
    spec's structure (ranges, counts, limits at the spec's values) from the concrete model."""
    return ir.Model(
        name=concrete.name, file=concrete.file, consts=concrete.consts, globals=concrete.globals,
        kinds=concrete.kinds, rules=spec_model.rules, actions=spec_model.actions,
        faults=spec_model.faults, tick=spec_model.tick, checks=spec_model.checks,
    )
