"""The explicit-state engine: counter abstraction, tick-by-tick exploration, tick graph.

The parts, each behind a narrow interface:

- `encoding.Codec`: the state layout (counter abstraction: node identities never appear),
  the initial state, successors, the tick step, fair-enabled events, check values, and the
  conversion to and from the reference semantics' states and steps;
- `search.build`: the tick graph, depth by depth in ticks, each tick state's region searched
  breadth-first, with per-edge event masks; it never looks inside a state, and reports to
  an observer;
- `decide.Decider`: that observer; it decides invariants and reachability at the depth of
  their first event, then lassos (`no_storm`, `recovers`) and `within` runs on the graph
  (with `stop_early`, also on the part explored so far, ending the search once all are);
- `trace.Tracer`: traces rebuilt by re-searching single regions;
- `lift.Lifter`: with the cone of influence (checker/model/cone.py) the search runs on the
  sliced model, and its traces are replayed on the full model so they show every variable.

Exploring in (ticks, steps) order makes the first violation found the shortest, in ticks
then steps.
"""

from __future__ import annotations

import time

from checker.engines.base import CheckOptions, RunResult, Stats
from checker.engines.explicit.decide import Decider
from checker.engines.explicit.encoding import Codec
from checker.engines.explicit.lift import Lifter
from checker.engines.explicit.search import TickGraph, build
from checker.model import ir
from checker.model.cone import analyse, slice_model


class ExplicitEngine:
    name = "explicit"

    def run(self, model: ir.Model, opts: CheckOptions) -> RunResult:
        """Check `model`'s checks (those in `opts.only`, if any) by explicit exploration.

        `opts.ticks` bounds the depth in ticks (None: no bound; the search then ends when it
        is complete, or at `opts.max_states` or `opts.timeout`).
        """
        # the cone only for complete explorations: under a tick bound, depths and "the bound is
        # hit" are those of the full model's tick states (spec/semantics.md, section 9)
        if opts.cone and opts.ticks is None:
            cone = analyse(model)
            if not cone.empty:
                sliced = self._run(slice_model(model, cone), opts)
                return Lifter(model, cone).run(sliced, cone.names(model))
        return self._run(model, opts)

    def _run(self, model: ir.Model, opts: CheckOptions) -> RunResult:
        start = time.perf_counter()
        codec = Codec(model)
        only = set(opts.only)
        decider = Decider(codec, [c for c in model.checks if not only or c.name in only], early=opts.stop_early)
        graph = build(codec, ticks=opts.ticks, max_states=opts.max_states, timeout=opts.timeout,
                      progress=opts.progress, observer=decider, reduce=opts.reduce)
        results = decider.results(graph, opts.ticks, opts)
        stats = graph_stats(graph)
        stats.seconds = time.perf_counter() - start
        never: tuple[str, ...] | None = tuple(e.name for e in model.events if not graph.fired >> e.event & 1)
        if graph.decided and not stats.complete:
            # coverage needs the whole space: an early stop leaves it unknown, not empty
            n = f"{stats.tick_states:,} tick state{'' if stats.tick_states == 1 else 's'}"
            why = "a model error decides every check" if graph.error is not None else "all selected checks decided"
            stats.stopped_early = f"stopped early: {why} after {n} (coverage not computed)"
            never = None
        return RunResult(model, self.name, results, stats, never_fired=never)


def graph_stats(graph: TickGraph) -> Stats:
    """The run statistics of a search: complete only if no model error cut it short."""
    beyond = sum(1 for t, d in enumerate(graph.depth) if d == graph.max_depth + 1 and not graph.explored[t])
    return Stats(
        engine="explicit",
        beyond_bound=beyond if graph.bound_hit else 0,
        states=graph.states,
        tick_states=sum(graph.explored),
        transitions=graph.transitions,
        max_depth=graph.max_depth,
        bound_hit=graph.bound_hit,
        complete=graph.complete and graph.error is None,
    )


__all__ = ["ExplicitEngine", "graph_stats"]
