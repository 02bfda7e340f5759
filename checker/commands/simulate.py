"""`stormproof simulate SPEC [--ticks T] [--seed S] [--runs R]`: random runs under the semantics.

Each step is drawn uniformly among every step the reference semantics enables
(`semantics.enabled`: node rules per node situation, actions, faults, and the tick when
maximal progress allows it). Run k uses its own generator seeded with S + k, so `--seed S+k
--runs 1` replays run k alone. A run stops after T ticks, at its first violation, or after
a cap on the steps of one tick (a fault that can fire forever).

Invariants are evaluated in every state (mid-tick ones included), and a model error ends
the run; either is reported with its run and trace, and the exit code is 1. `reachable`
checks are reported as reached (with the run) or not; liveness checks (no_storm, recovers)
need the whole state space and are not decided by random runs: use `check`.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import Any

from checker.commands.options import (
    EXIT_OK,
    EXIT_VIOLATED,
    add_full_trace_option,
    check_only,
    parse_set,
    positive_int,
    subparser,
    write_output,
)
from checker.engines.base import CheckResult, Trace, Verdict, replay
from checker.errors import ModelError, Span, UsageError
from checker.model import ir, load_spec
from checker.model.evaluate import EvalError
from checker.model.semantics import State, Step, StepKind, apply, check_value, enabled, initial_state
from checker.report.explain import explain
from checker.report.junit import trace_text
from checker.report.text import render_trace

NAME = "simulate"
STEPS_PER_TICK = 10_000


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "random runs under the reference semantics, checking invariants on the way",
        "Run SPEC at random: every step is drawn uniformly among the enabled ones (faults and the\n"
        "tick included). Invariants are checked in every state; a violation or a model error is\n"
        "reported with its run (exit 1). Reproducible: run k uses seed S + k.",
    )
    p.add_argument("spec", metavar="SPEC", help="the spec file (.storm)")
    p.add_argument("--ticks", type=positive_int, default=20, metavar="T", help="ticks per run (default 20)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the first run (default 0)")
    p.add_argument("--runs", type=positive_int, default=1, metavar="R", help="number of runs (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a constant, e.g. --set N=12 (repeatable)")
    p.add_argument("--only", action="append", default=[], metavar="CHECK",
                   help="evaluate only this check (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print only violating runs and the summary")
    add_full_trace_option(p)


@dataclass
class Run:
    index: int
    seed: int
    trace: Trace
    violation: CheckResult | None
    reached: dict[str, int]  # reachable check -> tick at which it first held
    stopped: str | None = None  # why the run ended before T ticks, if it did


def _state_checks(model: ir.Model, only: list[str]) -> list[ir.Check]:
    return [c for c in model.checks
            if c.kind in (ir.CheckKind.INVARIANT, ir.CheckKind.REACHABLE) and (not only or c.name in only)]


def _evaluate(model: ir.Model, checks: list[ir.Check], state: State, states: list[State], steps: list[Step],
              ticks: int, reached: dict[str, int]) -> CheckResult | None:
    for c in checks:
        assert c.expr is not None
        try:
            v = check_value(model, c.expr, state)
        except EvalError as e:
            trace = Trace(tuple(states), tuple(steps), None, None, f"evaluating the check: {e.message}")
            return CheckResult(c, Verdict.VIOLATED, NAME, trace, trace.ticks)
        if c.kind is ir.CheckKind.INVARIANT and v is False:
            trace = Trace(tuple(states), tuple(steps))
            return CheckResult(c, Verdict.VIOLATED, NAME, trace, trace.ticks)
        if c.kind is ir.CheckKind.REACHABLE and v is True and c.name not in reached:
            reached[c.name] = ticks
    return None


def _model_error_check(model: ir.Model) -> ir.Check:
    """A stand-in check to carry a model error, which belongs to no check."""
    return ir.Check("model error", ir.CheckKind.INVARIANT, None, None, None, Span(model.file, 1, 1), "")


def simulate(model: ir.Model, index: int, seed: int, ticks: int, checks: list[ir.Check]) -> Run:
    """One random run of at most `ticks` ticks."""
    rng = random.Random(seed)
    state = initial_state(model)
    states: list[State] = [state]
    steps: list[Step] = []
    reached: dict[str, int] = {}
    done = 0
    in_tick = 0
    bad = _evaluate(model, checks, state, states, steps, done, reached)
    if bad is not None:
        return Run(index, seed, bad.trace, bad, reached)  # type: ignore[arg-type]
    while done < ticks:
        choices = enabled(model, state)
        if not choices:  # pragma: no cover - a tick is always enabled when nothing else is
            return Run(index, seed, Trace(tuple(states), tuple(steps)), None, reached, "no step is enabled")
        step = rng.choice(choices)
        try:
            state = apply(model, state, step)
        except ModelError as e:
            trace = Trace(tuple(states), tuple(steps), None, step, e.message)
            result = CheckResult(_model_error_check(model), Verdict.VIOLATED, NAME, trace, trace.ticks,
                                 model_error=True)
            return Run(index, seed, trace, result, reached)
        states.append(state)
        steps.append(step)
        if step.kind is StepKind.TICK:
            done += 1
            in_tick = 0
        else:
            in_tick += 1
            if in_tick > STEPS_PER_TICK:
                return Run(index, seed, Trace(tuple(states), tuple(steps)), None, reached,
                           f"stopped: more than {STEPS_PER_TICK:,} steps in tick {done} (a fault that fires forever?)")
        bad = _evaluate(model, checks, state, states, steps, done, reached)
        if bad is not None:
            return Run(index, seed, bad.trace, bad, reached)  # type: ignore[arg-type]
    return Run(index, seed, Trace(tuple(states), tuple(steps)), None, reached)


def render(model: ir.Model, runs: list[Run], ticks: int, checks: list[ir.Check], quiet: bool,
           full_trace: bool = False) -> str:
    out: list[str] = []
    reachables = [c.name for c in checks if c.kind is ir.CheckKind.REACHABLE]
    for r in runs:
        if quiet and r.violation is None:
            continue
        out.append(f"== run {r.index + 1} (seed {r.seed}), {r.trace.ticks} tick(s) ==")
        if r.violation is not None:
            v = r.violation
            if v.model_error:
                out.append(f"MODEL ERROR: {explain(model, v)}")
                out.append(trace_text(model, v, full_trace).rsplit("\n", 1)[0])
            else:
                out.append(f"VIOLATED: check '{v.check.name}' ({v.check.kind.value})")
                out.append(trace_text(model, v, full_trace))
        else:
            out.append(render_trace(model, r.trace, full=full_trace))
            out.append("* marks a value that changed since the row above.")
            if r.stopped:
                out.append(r.stopped)
        for name in reachables:
            if name in r.reached:
                out.append(f"reachable {name}: reached at tick {r.reached[name]}")
        out.append("")
    bad = [r for r in runs if r.violation is not None]
    head = f"{model.file}: {len(runs)} run(s) of up to {ticks} tick(s), seeds {runs[0].seed}..{runs[-1].seed}" \
        if runs else f"{model.file}: no runs"
    out.append(head)
    for r in bad:
        bad_result = r.violation
        assert bad_result is not None
        what = "model error" if bad_result.model_error else f"check '{bad_result.check.name}' violated"
        out.append(f"  run {r.index + 1} (seed {r.seed}): {what} after {bad_result.trace.ticks if bad_result.trace else 0} tick(s)")
    for name in reachables:
        hits = [r for r in runs if name in r.reached]
        out.append(f"  reachable {name}: reached in {len(hits)} of {len(runs)} run(s)")
    if not bad:
        out.append("  no invariant violated and no model error in these runs (random runs prove nothing)")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    model = load_spec(args.spec, parse_set(args.set))
    check_only((c.name for c in model.checks), args.only)
    if args.runs == 0:
        raise UsageError("--runs 0: nothing to simulate; ask for at least one run")
    checks = _state_checks(model, args.only)
    runs = []
    for k in range(args.runs):
        r = simulate(model, k, args.seed + k, args.ticks, checks)
        if r.violation is not None:
            replay(model, r.violation)  # a trace that does not replay is a bug: InternalError
        runs.append(r)
    write_output(render(model, runs, args.ticks, checks, args.quiet, args.full_trace))
    return EXIT_VIOLATED if any(r.violation is not None for r in runs) else EXIT_OK
