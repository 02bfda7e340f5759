"""What every engine shares: verdicts, results, the one Trace type, options, and replay.

Every trace an engine returns is replayed here through the reference semantics
(`checker.model.semantics`) before anything is printed; a trace that does not replay, or
does not show what its check claims, raises InternalError.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from checker.errors import InternalError, ModelError
from checker.model import ir
from checker.model.evaluate import EvalError
from checker.model.semantics import (
    NotEnabled,
    State,
    Step,
    StepKind,
    apply,
    check_value,
    fair_enabled,
    initial_state,
)


class Verdict(enum.Enum):
    HOLDS = "holds"  # proved: state space exhausted, or induction closed
    HOLDS_BOUNDED = "holds_bounded"  # nothing found within the tick bound (CheckResult.bound_hit: was it hit)
    VIOLATED = "violated"  # with a trace
    UNKNOWN = "unknown"  # the engine gave up: say why


class Expectation(enum.Enum):
    """Whether finding a trace is a failure (always, eventually) or an example (reachable)."""

    ALWAYS = "always"
    EVENTUALLY = "eventually"
    REACHABLE = "reachable"

    @classmethod
    def of(cls, check: ir.Check) -> Expectation:
        if check.kind is ir.CheckKind.REACHABLE:
            return cls.REACHABLE
        if check.kind is ir.CheckKind.INVARIANT:
            return cls.ALWAYS
        return cls.EVENTUALLY


@dataclass(frozen=True, slots=True)
class Trace:
    """States and the steps between them; a lasso adds one step back to `loop_start`.

    `steps[i]` leads from `states[i]` to `states[i+1]`. For a lasso, `steps[-1]` (a tick)
    leads from `states[-1]` back to `states[loop_start]`, and the run repeats forever from
    there. A model error ends a trace with `failing_step`, taken from `states[-1]`, which
    raises `error`; an error in the check's own expression sets `error` alone.
    """

    states: tuple[State, ...]
    steps: tuple[Step, ...]
    loop_start: int | None = None
    failing_step: Step | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        expected = len(self.states) - 1 + (self.loop_start is not None)
        if len(self.steps) != expected:
            raise ValueError(f"trace has {len(self.steps)} steps, expected {expected}")

    @property
    def ticks(self) -> int:
        """The length in ticks: tick steps before the end (the lasso's closing tick included).

        A failing tick step counts too (language.md section 8): an error in the tick step that
        follows k tick steps has length k + 1.
        """
        failing = self.failing_step is not None and self.failing_step.kind is StepKind.TICK
        return sum(1 for s in self.steps if s.kind is StepKind.TICK) + failing


class StormCause(enum.Enum):
    """What keeps a storm loop alive, by the retry-free counterfactual (spec/semantics.md)."""

    SUSTAINED = "sustained"  # remove the retries and every fair run recovers
    FUTILE = "futile"  # from some loop state no progress can ever happen, retries or not
    MIXED = "mixed"  # neither: progress is possible without retries, but not guaranteed


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The diagnosis of a storm or no-recovery loop: its cause, its intensity, the evidence."""

    cause: StormCause
    sentence: str  # the one-line explanation, in plain words
    period: int  # the loop's length in ticks
    retries_per_tick: tuple[tuple[str, float], ...]  # (retry rule, mean firings per tick of the loop)
    retrying_nodes: int  # most nodes that fire a retry rule in one tick of the loop
    recovery_ticks: int | None  # SUSTAINED: without retries, progress within this many ticks
    witness: Trace | None  # a retry-free run from the loop's entry to the first progress (or E)
    blocked: tuple[str, ...]  # FUTILE/MIXED: why progress cannot (or need not) happen, in words


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: ir.Check
    verdict: Verdict
    engine: str
    trace: Trace | None = None
    ticks: int | None = None  # the length in ticks of the shortest trace, where defined
    bound: int | None = None  # the tick bound, for HOLDS_BOUNDED
    reason: str | None = None  # why UNKNOWN, or how HOLDS was proved
    model_error: bool = False  # the trace ends in a model error
    diagnosis: Diagnosis | None = None  # for a storm or no-recovery lasso: what keeps it alive
    vacuous: str | None = None  # why a check holds vacuously (its subject never happens)
    # HOLDS_BOUNDED: a tick state of depth B + 1 (or a failing tick step after tick B) is known
    # to exist; False where the engine could not tell (the symbolic engine unrolls paths)
    bound_hit: bool = False


@dataclass
class Stats:
    states: int = 0
    tick_states: int = 0
    transitions: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    bound_hit: bool = False
    complete: bool = False
    beyond_bound: int = 0  # tick states of depth B + 1 found when the bound was hit
    established: str = ""  # what a bounded search that is not complete did establish
    stopped_early: str = ""  # the search ended once every selected check was decided (says when)
    sliced: tuple[str, ...] = ()  # variables left out of the explored state (cone of influence)
    engine: str = ""  # for progress: which engine is running
    activity: str = ""  # for progress: the check (or proof) being worked on
    solver_seconds: float = 0.0  # for progress: time spent inside the solver so far


Progress = Callable[[Stats], None]

MAX_STATES = 2_000_000  # the default state limit
TIMEOUT = 300.0  # the default time budget per spec, in seconds, on the command line


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    """How one exploration is bounded: `ticks=None` explores completely (no tick bound)."""

    ticks: int | None = None
    max_states: int = MAX_STATES
    timeout: float | None = None
    only: tuple[str, ...] = ()
    progress: Progress | None = None
    # stop exploring once every selected check is decided, lassos and `within` runs included
    # (the search then is not complete: coverage is not computed); see spec/semantics.md
    stop_early: bool = False
    # explore only the cone of influence: leave out variables that no guard or check depends on
    # and that cannot raise a model error (checker/model/cone.py); traces still show them.
    # Explicit engine, complete explorations only (ticks=None)
    cone: bool = True
    # explicit engine: reduce the interleavings inside a tick (spec/semantics.md); the tick
    # graph and every verdict are the same either way, only `Stats.states` differs
    reduce: bool = True


@dataclass
class RunResult:
    model: ir.Model
    engine: str
    results: list[CheckResult]
    stats: Stats
    opts: CheckOptions = field(default_factory=CheckOptions)  # what the run was asked to do
    overrides: tuple[tuple[str, ir.Value], ...] = ()  # the --set values the model was loaded with
    parts: tuple[RunResult, ...] = ()  # for `--engine both`: each engine's own run
    # rules, actions and faults that fire nowhere in the explored space (None: not computed)
    never_fired: tuple[str, ...] | None = None


class Engine(Protocol):
    name: ClassVar[str]

    def run(self, model: ir.Model, opts: CheckOptions) -> RunResult: ...


# ---- replay ------------------------------------------------------------------------------


def replay(model: ir.Model, result: CheckResult) -> None:
    """Re-run `result.trace` through the reference semantics and check it shows its claim.

    Raise InternalError on any mismatch.
    """
    trace = result.trace
    if trace is None:
        return
    where = f"check '{result.check.name}' ({result.engine} engine)"
    if not trace.states or trace.states[0] != initial_state(model):
        raise InternalError(f"{where}: the trace does not start in the initial state")
    for i, step in enumerate(trace.steps[: len(trace.states) - 1]):
        got = _apply(model, trace.states[i], step, where, i)
        if got != trace.states[i + 1]:
            raise InternalError(f"{where}: step {i} ({step.name}) leads to a different state than the trace says")
    if trace.loop_start is not None:
        last = trace.steps[-1]
        if last.kind is not StepKind.TICK:
            raise InternalError(f"{where}: a lasso must close with a tick")
        if _apply(model, trace.states[-1], last, where, len(trace.steps) - 1) != trace.states[trace.loop_start]:
            raise InternalError(f"{where}: the loop does not return to its start state")
    if trace.failing_step is not None:
        try:
            apply(model, trace.states[-1], trace.failing_step)
        except ModelError as e:
            if trace.error is not None and e.message != trace.error:
                raise InternalError(f"{where}: the model error replays as {e.message!r}, not {trace.error!r}") from None
        except NotEnabled as e:
            raise InternalError(f"{where}: the failing step is not enabled: {e}") from None
        else:
            raise InternalError(f"{where}: the failing step does not raise a model error")
        return
    _check_claim(model, result, where)


def _apply(model: ir.Model, state: State, step: Step, where: str, i: int) -> State:
    try:
        return apply(model, state, step)
    except NotEnabled as e:
        raise InternalError(f"{where}: step {i} ({step.name}) cannot be taken: {e}") from None
    except ModelError as e:
        raise InternalError(f"{where}: step {i} ({step.name}) raises a model error: {e.message}") from None


def _value(model: ir.Model, expr: ir.Expr, state: State) -> ir.Value | EvalError:
    try:
        return check_value(model, expr, state)
    except EvalError as e:
        return e


def _tick_state_indices(trace: Trace) -> list[int]:
    return [0] + [i + 1 for i, s in enumerate(trace.steps[: len(trace.states) - 1]) if s.kind is StepKind.TICK]


def _check_claim(model: ir.Model, result: CheckResult, where: str) -> None:
    trace = result.trace
    assert trace is not None
    check = result.check
    last = trace.states[-1]
    if check.kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE):
        assert check.expr is not None
        v = _value(model, check.expr, last)
        if isinstance(v, EvalError):
            if trace.error is None:
                raise InternalError(f"{where}: evaluating the check raises {v.message!r} but the trace does not say so")
            return
        want = check.kind is ir.CheckKind.REACHABLE
        if bool(v) is not want:
            raise InternalError(f"{where}: the trace's last state does not {'satisfy' if want else 'violate'} the check")
        return
    ticks = _tick_state_indices(trace)
    if trace.error is not None:  # an error in the check's own E or A at the last tick state
        return
    if check.kind is ir.CheckKind.WITHIN:
        assert check.within is not None and check.expr is not None
        run = ticks[-(check.within + 1) :]
        if len(run) < check.within + 1:
            raise InternalError(f"{where}: the trace has fewer than {check.within + 1} tick states")
        for i in run:
            if not _bad(model, check, trace.states[i]):
                raise InternalError(f"{where}: tick state {i} of the run does not have the condition false")
        first = run[0]
        for s in trace.steps[first : len(trace.states) - 1]:
            if s.kind is StepKind.FAULT:
                raise InternalError(f"{where}: a fault fires inside the run")
        return
    # a lasso: the loop runs from states[loop_start] to the end and back
    if trace.loop_start is None:
        raise InternalError(f"{where}: a {check.kind.value} violation needs a lasso trace")
    loop_steps = trace.steps[trace.loop_start :]
    loop_ticks = [i for i in ticks if i >= trace.loop_start]
    if trace.loop_start not in ticks:
        raise InternalError(f"{where}: the loop does not start at a tick state")
    if any(s.kind is StepKind.FAULT for s in loop_steps):
        raise InternalError(f"{where}: a fault fires inside the loop")
    fired = {s.event for s in loop_steps if s.kind is not StepKind.TICK}
    if check.kind is ir.CheckKind.NO_STORM:
        tags = {model.rules[e].tag for e in fired if e < len(model.rules)}
        if ir.Tag.PROGRESS in tags:
            raise InternalError(f"{where}: a progress rule fires inside the storm loop")
        if ir.Tag.RETRY not in tags:
            raise InternalError(f"{where}: no retry rule fires inside the storm loop")
    for i in loop_ticks:
        if not _bad(model, check, trace.states[i]):
            raise InternalError(f"{where}: tick state {i} of the loop breaks the loop's condition")
    always_enabled = None
    for i in loop_ticks:
        en = fair_enabled(model, trace.states[i])
        always_enabled = en if always_enabled is None else always_enabled & en
    if always_enabled and not always_enabled <= fired:
        names = sorted(model.events[e].name for e in always_enabled - fired)
        raise InternalError(f"{where}: the loop is unfair to {', '.join(names)}")


def _bad(model: ir.Model, check: ir.Check, state: State) -> bool:
    """The condition every tick state of a lasso or `within` run must meet."""
    if check.assuming is not None and _value(model, check.assuming, state) is not True:
        return False
    if check.expr is not None and check.kind is not ir.CheckKind.NO_STORM:
        return _value(model, check.expr, state) is False
    return True
