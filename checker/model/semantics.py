"""The reference step semantics of language.md section 5, kept plain on purpose.

A state holds, per node kind, the multiset of node situations (state, locals, acted): the
semantics never depends on node identities. Every trace an engine prints is replayed through
`initial_state` and `apply`; an engine's own fast successor function is checked against this.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from checker.errors import ModelError
from checker.model import ir
from checker.model.evaluate import EvalError, Population, arith, evaluate

Locals = tuple[ir.Value, ...]
Situation = tuple[int, Locals, bool]  # (state index, locals, acted this tick)


@dataclass(frozen=True, slots=True)
class State:
    """A full state: globals, remaining fault limits, fired actions, node situations."""

    globals: tuple[ir.Value, ...]
    limits: tuple[int, ...]  # remaining limit per limited fault, by Fault.slot
    fired: tuple[bool, ...]  # per action: fired in the current tick
    kinds: tuple[tuple[tuple[Situation, int], ...], ...]  # per kind: sorted (situation, count>0)

    def populations(self) -> list[Population]:
        return [[(s, loc, n) for (s, loc, _acted), n in kind] for kind in self.kinds]

    def count(self, kind: int, state: int) -> int:
        return sum(n for (s, _l, _a), n in self.kinds[kind] if s == state)

    @property
    def is_clear(self) -> bool:
        """No node has acted and no action has fired (true of every tick state)."""
        return not any(self.fired) and not any(a for kind in self.kinds for (_s, _l, a), _n in kind)


class StepKind(enum.Enum):
    RULE = "rule"
    ACTION = "action"
    FAULT = "fault"
    TICK = "tick"


@dataclass(frozen=True, slots=True)
class Step:
    """One step: which event fired, and for node events the situation of the node it moved."""

    kind: StepKind
    event: int  # index into Model.events; -1 for a tick
    name: str
    node: Situation | None = None


TICK = Step(StepKind.TICK, -1, "tick")


class NotEnabled(Exception):
    """A step that cannot be taken in the given state (raised by `apply`)."""


def canonical(kinds: Sequence[Counter[Situation]]) -> tuple[tuple[tuple[Situation, int], ...], ...]:
    return tuple(tuple(sorted((sit, n) for sit, n in c.items() if n > 0)) for c in kinds)


def initial_state(model: ir.Model) -> State:
    kinds = []
    for kind in model.kinds:
        loc = tuple(v.init for v in kind.locals)
        kinds.append(Counter({(s, loc, False): n for s, n in enumerate(kind.init_counts) if n > 0}))
    limits = tuple(f.limit for f in model.faults if f.limit is not None)
    return State(
        tuple(v.init for v in model.globals), limits, tuple(False for _ in model.actions), canonical(kinds)
    )


def _range_check(var: ir.Var, value: ir.Value, who: str) -> None:
    if var.type is ir.Type.INT and not var.lo <= int(value) <= var.hi:
        raise ModelError(f"{who} stores {value} in '{var.name}', outside its range {var.lo}..{var.hi}")


def _assign(
    updates: Sequence[ir.Assign],
    model: ir.Model,
    kind: ir.Kind | None,
    glob: tuple[ir.Value, ...],
    loc: Locals | None,
    pops: list[Population],
    who: str,
) -> tuple[tuple[ir.Value, ...], Locals | None]:
    """Apply a block simultaneously: every right-hand side reads the state before it."""
    new_g = list(glob)
    new_l = list(loc) if loc is not None else None
    for a in updates:
        value = evaluate(a.value, glob, loc, pops)
        if a.local:
            assert kind is not None and loc is not None and new_l is not None
            var, old = kind.locals[a.index], loc[a.index]
        else:
            var, old = model.globals[a.index], glob[a.index]
        if a.op == "+=":
            value = arith("+", int(old), int(value))
        elif a.op == "-=":
            value = arith("-", int(old), int(value))
        _range_check(var, value, who)
        if a.local:
            assert new_l is not None
            new_l[a.index] = value
        else:
            new_g[a.index] = value
    return tuple(new_g), (tuple(new_l) if new_l is not None else None)


def _holds(guard: ir.Expr | None, glob: tuple[ir.Value, ...], loc: Locals | None, pops: list[Population]) -> bool:
    return guard is None or bool(evaluate(guard, glob, loc, pops))


def _guard_error(err: EvalError, what: str) -> ModelError:
    return ModelError(f"in the guard of {what}: {err.message}")


def _require(
    guard: ir.Expr | None, glob: tuple[ir.Value, ...], loc: Locals | None, pops: list[Population], who: str
) -> None:
    """Raise NotEnabled if the guard of `who` is false, ModelError if evaluating it fails."""
    try:
        ok = _holds(guard, glob, loc, pops)
    except EvalError as e:
        raise _guard_error(e, who) from None
    if not ok:
        raise NotEnabled(f"the guard of {who} is false")


def tick_allowed(model: ir.Model, state: State) -> bool:
    """Maximal progress: a tick is allowed only when no node rule and no action can step."""
    pops = state.populations()
    for rule in model.rules:
        for (s, loc, acted), _n in state.kinds[rule.kind]:
            if s == rule.src and not acted:
                try:
                    if _holds(rule.guard, state.globals, loc, pops):
                        return False
                except EvalError as e:
                    raise _guard_error(e, f"rule '{rule.name}'") from None
    for i, action in enumerate(model.actions):
        if not state.fired[i]:
            try:
                if _holds(action.guard, state.globals, None, pops):
                    return False
            except EvalError as e:
                raise _guard_error(e, f"action '{action.name}'") from None
    return True


def apply(model: ir.Model, state: State, step: Step) -> State:
    """Take `step` from `state`. Raise NotEnabled if it cannot be taken, ModelError on a model error."""
    pops = state.populations()
    if step.kind is StepKind.TICK:
        return _tick(model, state, pops)
    event = model.events[step.event] if 0 <= step.event < len(model.events) else None
    if event is None or event.name != step.name:
        raise NotEnabled(f"no event {step.name!r} with index {step.event}")
    if step.kind is StepKind.ACTION:
        assert isinstance(event, ir.Action)
        i = step.event - len(model.rules)
        if state.fired[i]:
            raise NotEnabled(f"action '{event.name}' already fired this tick")
        who = f"action '{event.name}'"
        _require(event.guard, state.globals, None, pops, who)
        glob, _ = _assign(event.updates, model, None, state.globals, None, pops, who)
        fired = tuple(True if j == i else f for j, f in enumerate(state.fired))
        return State(glob, state.limits, fired, state.kinds)
    if step.kind is StepKind.FAULT:
        assert isinstance(event, ir.Fault)
        limits = list(state.limits)
        if event.slot is not None:
            if limits[event.slot] <= 0:
                raise NotEnabled(f"fault '{event.name}' has no limit left")
            limits[event.slot] -= 1
        who = f"fault '{event.name}'"
        if event.kind is None:
            _require(event.guard, state.globals, None, pops, who)
            glob, _ = _assign(event.updates, model, None, state.globals, None, pops, who)
            return State(glob, tuple(limits), state.fired, state.kinds)
        return _node_step(model, state, step, event, pops, tuple(limits), who, require_unacted=False)
    assert isinstance(event, ir.Rule) and step.kind is StepKind.RULE
    return _node_step(model, state, step, event, pops, state.limits, f"rule '{event.name}'", require_unacted=True)


def _node_step(
    model: ir.Model,
    state: State,
    step: Step,
    event: ir.Rule | ir.Fault,
    pops: list[Population],
    limits: tuple[int, ...],
    who: str,
    require_unacted: bool,
) -> State:
    assert event.kind is not None
    kind = model.kinds[event.kind]
    sit = step.node
    counts = Counter(dict(state.kinds[event.kind]))
    if sit is None or counts.get(sit, 0) <= 0:
        raise NotEnabled(f"no node in situation {sit} for {who}")
    s, loc, acted = sit
    if s != event.src:
        raise NotEnabled(f"{who} starts in '{kind.states[event.src]}', the node is in '{kind.states[s]}'")
    if require_unacted and acted:
        raise NotEnabled(f"the node already acted this tick ({who})")
    _require(event.guard, state.globals, loc, pops, who)
    glob, new_loc = _assign(event.updates, model, kind, state.globals, loc, pops, who)
    assert new_loc is not None
    counts[sit] -= 1
    counts[(event.dst, new_loc, True if require_unacted else acted)] += 1
    kinds = list(state.kinds)
    kinds[event.kind] = canonical([counts])[0]
    return State(glob, limits, state.fired, tuple(kinds))


def _tick(model: ir.Model, state: State, pops: list[Population]) -> State:
    if not tick_allowed(model, state):
        raise NotEnabled("a tick is not allowed while a node rule or an action can step")
    glob, _ = _assign(model.tick, model, None, state.globals, None, pops, "the top-level 'on tick'")
    assigned = {a.index for a in model.tick}
    glob = tuple(
        max(0, int(v) - 1) if var.is_timer and i not in assigned else v
        for i, (var, v) in enumerate(zip(model.globals, glob))
    )
    kinds = []
    for k, kind in enumerate(model.kinds):
        counts: Counter[Situation] = Counter()
        local_assigned = {a.index for a in kind.tick}
        for (s, loc, _acted), n in state.kinds[k]:
            _, new_loc = _assign(kind.tick, model, kind, state.globals, loc, pops, f"'on tick' of '{kind.name}'")
            assert new_loc is not None
            new_loc = tuple(
                max(0, int(v) - 1) if var.is_timer and i not in local_assigned else v
                for i, (var, v) in enumerate(zip(kind.locals, new_loc))
            )
            counts[(s, new_loc, False)] += n
        kinds.append(counts)
    return State(glob, state.limits, tuple(False for _ in model.actions), canonical(kinds))


def enabled(model: ir.Model, state: State) -> list[Step]:
    """Every step that can be taken from `state`, in declaration order (tick last).

    A step whose guard or block raises a model error counts as enabled: taking it is the error.
    """
    out = []
    for st in candidate_steps(model, state)[:-1]:
        try:
            apply(model, state, st)
        except NotEnabled:
            continue
        except ModelError:
            pass
        out.append(st)
    try:
        if tick_allowed(model, state):
            out.append(TICK)
    except ModelError:
        out.append(TICK)
    return out


def candidate_steps(model: ir.Model, state: State) -> list[Step]:
    """Every step whose node, limit and marks allow it, guards not yet evaluated; tick last."""
    steps: list[Step] = []
    for rule in model.rules:
        for sit, _n in state.kinds[rule.kind]:
            if sit[0] == rule.src and not sit[2]:
                steps.append(Step(StepKind.RULE, rule.event, rule.name, sit))
    for action in model.actions:
        steps.append(Step(StepKind.ACTION, action.event, action.name))
    for fault in model.faults:
        if fault.kind is None:
            steps.append(Step(StepKind.FAULT, fault.event, fault.name))
        else:
            for sit, _n in state.kinds[fault.kind]:
                if sit[0] == fault.src:
                    steps.append(Step(StepKind.FAULT, fault.event, fault.name, sit))
    steps.append(TICK)
    return steps


def check_value(model: ir.Model, expr: ir.Expr, state: State) -> ir.Value:
    """Evaluate a check's expression (top-level scope) in `state`; raise EvalError on error."""
    return evaluate(expr, state.globals, None, state.populations())


def fair_enabled(model: ir.Model, state: State) -> frozenset[int]:
    """Events of `fair` rules and actions enabled in `state` (judged at tick states)."""
    pops = state.populations()
    out = set()
    for rule in model.rules:
        if rule.fair:
            for (s, loc, acted), _n in state.kinds[rule.kind]:
                if s == rule.src and not acted:
                    try:
                        if _holds(rule.guard, state.globals, loc, pops):
                            out.add(rule.event)
                            break
                    except EvalError:
                        continue
    for i, action in enumerate(model.actions):
        if action.fair and not state.fired[i]:
            try:
                if _holds(action.guard, state.globals, None, pops):
                    out.add(action.event)
            except EvalError:
                continue
    return frozenset(out)
