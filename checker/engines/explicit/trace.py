"""Rebuilding traces from a tick graph by re-searching single regions.

The tick graph keeps, per tick state, only its cheapest parent; a trace is rebuilt by a
breadth-first search of one region at a time (fewest steps from a tick state to a given
state or through a given tick step, under a `Mode`, optionally firing a given event), with
the codec's full successors.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise
from typing import Any

from checker.engines.base import Trace
from checker.engines.explicit.encoding import Codec, Desc, XState
from checker.engines.explicit.search import Event, Mode, TickGraph
from checker.errors import ModelError
from checker.model import semantics as sem

Path = list[tuple[Desc, XState]]
Hop = tuple[int, int, int | None]  # (tick state, next tick state, event the hop must fire)


class Tracer:
    """Traces over one tick graph, as reference-semantics states and steps."""

    def __init__(self, codec: Codec, graph: TickGraph) -> None:
        self.codec = codec
        self.graph = graph

    def _extend(self, states: list[sem.State], steps: list[sem.Step], path: Path) -> None:
        for desc, st in path:
            steps.append(self.codec.to_step(desc))
            states.append(self.codec.to_state(st))

    def _hop(self, states: list[sem.State], steps: list[sem.Step], a: int, b: int, mode: Mode,
             need: int | None) -> None:
        g = self.graph
        self._extend(states, steps, self.realize(g.vertices[a], g.vertices[b], tick=True, mode=mode, need=need))

    def prefix(self, tid: int) -> tuple[list[sem.State], list[sem.Step]]:
        """A fewest-steps run from a root to tick state `tid`, along the parent chain."""
        chain = []
        t: int | None = tid
        while t is not None:
            chain.append(t)
            t = self.graph.parent[t]
        chain.reverse()
        states = [self.codec.to_state(self.graph.vertices[chain[0]])]
        steps: list[sem.Step] = []
        for a, b in pairwise(chain):
            self._hop(states, steps, a, b, Mode.ANY, None)
        return states, steps

    def to_event(self, ev: Event) -> Trace:
        """A fewest-steps run to `ev`, ending in its failing step if it is a model error."""
        states, steps = self.prefix(ev.tick_state)
        T = self.graph.vertices[ev.tick_state]
        if ev.state != T:
            self._extend(states, steps, self.realize(T, ev.state, tick=False, mode=Mode.ANY, need=None))
        if ev.failing is not None:
            step = self.codec.to_step(ev.failing)
            message = ev.error
            try:
                sem.apply(self.codec.model, states[-1], step)
            except ModelError as e:
                message = e.message  # the reference's wording, which replay compares
            except sem.NotEnabled:
                pass
            return Trace(tuple(states), tuple(steps), None, step, message)
        return Trace(tuple(states), tuple(steps), None, None, ev.error)

    def lasso(self, hops: list[Hop], mode: Mode) -> Trace:
        """A run to the first hop's tick state, then around the closed walk `hops`, forever."""
        states, steps = self.prefix(hops[0][0])
        loop_start = len(states) - 1
        for a, b, need in hops:
            self._hop(states, steps, a, b, mode, need)
        states.pop()
        return Trace(tuple(states), tuple(steps), loop_start)

    def walk(self, tids: list[int], mode: Mode) -> Trace:
        """A run to `tids[0]`, then through the tick states `tids` in order."""
        states, steps = self.prefix(tids[0])
        for a, b in pairwise(tids):
            self._hop(states, steps, a, b, mode, None)
        return Trace(tuple(states), tuple(steps))

    def realize(self, src: XState, target: XState, *, tick: bool, mode: Mode, need: int | None) -> Path:
        """The fewest steps from `src` to `target` inside one tick, under `mode`, firing `need`.

        `tick`: `target` is reached by a tick step (a next tick state), not a state of the region.
        """
        codec = self.codec
        start = (src, need is None)
        if not tick and src == target and need is None:
            return []
        parent: dict[tuple[XState, bool], tuple[tuple[XState, bool], Desc] | None] = {start: None}
        queue = deque([start])
        banned = 0
        if Mode.FAULT_FREE in mode:
            banned |= codec.fault_mask
        if Mode.NO_PROGRESS in mode:
            banned |= codec.progress_mask
        while queue:
            node = queue.popleft()
            S, ok = node
            out, _errs = codec.successors(S)
            for desc, nxt in out:
                if desc[0] < 0:
                    if tick and nxt == target and ok:
                        return _unwind(parent, node) + [(desc, nxt)]
                    continue
                if banned >> desc[0] & 1:
                    continue
                nok = ok or desc[0] == need
                nn = (nxt, nok)
                if nn in parent:
                    continue
                parent[nn] = (node, desc)
                if not tick and nxt == target and nok:
                    return _unwind(parent, nn)
                queue.append(nn)
        raise AssertionError("an edge of the tick graph could not be rebuilt")  # pragma: no cover


def _unwind(parent: dict[Any, Any], node: Any) -> Path:
    path = []
    while parent[node] is not None:
        prev, desc = parent[node]
        path.append((desc, node[0]))
        node = prev
    path.reverse()
    return path


__all__ = ["Hop", "Path", "Tracer"]
