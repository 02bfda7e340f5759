"""Results of a sliced model (checker/model/cone.py) turned back into results of the full model.

A sliced trace is replayed step by step through the reference semantics on the full model:
each node step moves the first node (in the state's sorted order) whose situation projects
to the sliced step's node, so the dropped variables evolve as the full semantics says and
every step is enabled (no guard reads a dropped variable). A lasso is unrolled until the full
state at its loop start repeats: the dropped variables evolve deterministically along the
loop over a finite range, so they cycle.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from checker.engines.base import CheckResult, RunResult, Trace
from checker.errors import InternalError
from checker.model import ir
from checker.model import semantics as sem
from checker.model.cone import Cone

MAX_UNROLL = 100_000  # loop iterations before the full state must repeat (finite ranges)


class Lifter:
    def __init__(self, full: ir.Model, cone: Cone) -> None:
        self.full = full
        self.keep_g = [i for i in range(len(full.globals)) if i not in cone.dropped_globals]
        self.keep_l = [[i for i in range(len(k.locals)) if i not in d] for k, d in zip(full.kinds, cone.dropped_locals)]

    def situation(self, kind: int, sit: sem.Situation) -> sem.Situation:
        s, loc, acted = sit
        return (s, tuple(loc[i] for i in self.keep_l[kind]), acted)

    def project(self, st: sem.State) -> sem.State:
        """The sliced state that a full state stands for."""
        kinds = []
        for k, pop in enumerate(st.kinds):
            c: Counter[sem.Situation] = Counter()
            for sit, n in pop:
                c[self.situation(k, sit)] += n
            kinds.append(c)
        return sem.State(tuple(st.globals[i] for i in self.keep_g), st.limits, st.fired, sem.canonical(kinds))

    def step(self, st: sem.State, step: sem.Step) -> sem.Step:
        if step.node is None:
            return step
        event = self.full.events[step.event]
        kind = None if isinstance(event, ir.Action) else event.kind
        assert kind is not None
        for sit, _n in st.kinds[kind]:
            if self.situation(kind, sit) == step.node:
                return dataclasses.replace(step, node=sit)
        raise InternalError(f"lifting a trace: no node in situation {step.node} for step {step.name}")

    def trace(self, t: Trace) -> Trace:
        full = self.full
        states = [sem.initial_state(full)]
        steps: list[sem.Step] = []
        prefix = t.steps if t.loop_start is None else t.steps[: t.loop_start]
        for s in prefix[: len(t.states) - 1]:
            fs = self.step(states[-1], s)
            steps.append(fs)
            states.append(sem.apply(full, states[-1], fs))
        if t.loop_start is None:
            failing = None if t.failing_step is None else self.step(states[-1], t.failing_step)
            return Trace(tuple(states), tuple(steps), None, failing, t.error)
        loop = t.steps[t.loop_start:]
        starts = {states[-1]: len(states) - 1}
        for _ in range(MAX_UNROLL):
            for i, s in enumerate(loop):
                fs = self.step(states[-1], s)
                steps.append(fs)
                nxt = sem.apply(full, states[-1], fs)
                if i < len(loop) - 1:
                    states.append(nxt)
                elif nxt in starts:
                    return Trace(tuple(states), tuple(steps), starts[nxt], None, t.error)
                else:
                    starts[nxt] = len(states)
                    states.append(nxt)
        raise InternalError(f"lifting a lasso: the full state did not repeat within {MAX_UNROLL} loops")

    def result(self, r: CheckResult) -> CheckResult:
        check = self.full.check(r.check.name)
        trace = None if r.trace is None else self.trace(r.trace)
        return dataclasses.replace(r, check=check, trace=trace)

    def run(self, run: RunResult, names: list[str]) -> RunResult:
        run.stats.sliced = tuple(names)
        return dataclasses.replace(run, model=self.full, results=[self.result(r) for r in run.results])


__all__ = ["Lifter"]
