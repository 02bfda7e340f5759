"""The tick-graph builder: region searches, per-edge event masks, depth-by-depth exploration.

Exploration goes depth by depth in ticks from a set of root tick states (by default the
initial state). For each tick state T of depth d, its *region* (every state reachable from T
by the non-tick steps of one tick) is explored breadth-first; tick steps out of the region
give the tick states of depth d+1 and the edges of the tick graph. Exploring in (ticks,
steps) order makes the first event found the shortest, in ticks then steps.

Each edge T -> T' keeps, besides its cheapest cost in steps, the union of events fired on
its fault-free paths and on its fault-free, progress-free paths (from a pass over the region
in order of marks set, which is a topological order of its fault-free part).

The search never looks inside a state: it asks the `Codec` for successors, and reports what
it sees to an `Observer` (the deciders), which may end the search once everything is decided.
The first model error in (ticks, steps) order is recorded here, and ends the search at the end
of its depth.

With `reduce` (the default), each region is searched with the reduction of spec/semantics.md
("Reduction inside a tick"): from a state, one local rule step, or the enabled steps of one
closed group of events, stand for all its steps (the codec computes which, from the IR's
read/write sets and the expressions the observer still evaluates in every state). The tick
graph, its masks and every first event are the same; a region where the observer keeps an
event or a model error appears is searched again in full, so that its fewest steps are exact.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from checker.engines.base import Progress, Stats
from checker.engines.explicit.encoding import Codec, Desc, XState
from checker.model import ir


class Mode(enum.Flag):
    """Which steps a path may take: any, no faults, and (with both flags) no progress either."""

    ANY = 0
    FAULT_FREE = enum.auto()
    NO_PROGRESS = enum.auto()
    STORM = FAULT_FREE | NO_PROGRESS


@dataclass(frozen=True, slots=True)
class Event:
    """A point of the search in (ticks, steps) order, with what is needed to rebuild it."""

    ticks: int
    steps: int
    tick_state: int  # the tick state whose region holds it
    state: XState  # the state where it happens (a model error's source state)
    failing: Desc | None = None  # a model error: the step that fails from `state`
    error: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.ticks, self.steps)


@dataclass(slots=True)
class Edge:
    """A tick-graph edge: fewest steps, and the events of its fault-free (and progress-free) paths."""

    cost: int  # fewest steps over any path
    ff_mask: int | None = None  # union of events over fault-free paths; None: no such path
    ff_cost: int = 0  # fewest steps over fault-free paths
    np_mask: int | None = None  # union over fault-free, progress-free paths; None: no such path


@dataclass(eq=False)
class TickGraph:
    """The tick states found, their depth and cheapest steps from a root, and the edges."""

    vertices: list[XState] = field(default_factory=list)
    index: dict[XState, int] = field(default_factory=dict)
    depth: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # fewest steps from a root at that depth
    parent: list[int | None] = field(default_factory=list)  # on a cheapest path; None for a root
    edges: list[dict[int, Edge]] = field(default_factory=list)
    fair_enabled: list[int] = field(default_factory=list)  # per explored vertex
    explored: list[bool] = field(default_factory=list)  # its region was searched
    states: int = 0  # distinct states seen (tick states and mid-tick states)
    transitions: int = 0
    max_depth: int = 0
    bound_hit: bool = False  # a tick state lies beyond the tick bound
    stop_reason: str | None = None  # the state limit or the timeout ended the search
    error: Event | None = None  # the first model error, which ends the search at its depth
    decided: bool = False  # the observer ended the search: everything it watches is decided
    fired: int = 0  # events that fire on some explored step (coverage)

    @property
    def complete(self) -> bool:
        """Every tick state found was explored, and nothing cut the search short."""
        return self.stop_reason is None and not self.bound_hit and all(self.explored)

    def order_key(self, t: int) -> tuple[int, int, int]:
        """The order in which tick states are first reached: depth, steps, index."""
        return (self.depth[t], self.steps[t], t)


class Observer(Protocol):
    """What a search reports, in (ticks, steps) order within each depth."""

    def on_tick_state(self, tid: int, state: XState, depth: int, steps: int) -> None: ...

    def on_state(self, tid: int, state: XState, depth: int, steps: int) -> bool:
        """True if `state` is an event the observer keeps (a candidate first event)."""
        ...

    def watching(self) -> Sequence[ir.Expr]:
        """The expressions still evaluated in every state (open invariants and reachability)."""
        ...

    def end_depth(self, depth: int, error: Event | None) -> bool:
        """The depth is done (`error`: the first model error so far). True ends the search."""
        ...


class VertexLimit(Exception):
    """More tick states than the search's `max_vertices`."""


def build(
    codec: Codec,
    *,
    ticks: int | None,
    max_states: int,
    timeout: float | None = None,
    progress: Progress | None = None,
    observer: Observer | None = None,
    roots: Sequence[XState] | None = None,
    max_vertices: int | None = None,
    reduce: bool = True,
) -> TickGraph:
    """Build the tick graph reachable from `roots` (default: the initial state).

    Explores up to `ticks` ticks (None: no bound), stopping at `max_states` states or after
    `timeout` seconds (then `stop_reason` says which), at the end of the depth of the first
    model error, or when `observer.end_depth` says so. Raises VertexLimit beyond
    `max_vertices` tick states. `reduce`: search each region with the reduction of
    spec/semantics.md ("Reduction inside a tick"), which gives the same tick graph.
    """
    return _Search(codec, ticks, max_states, timeout, progress, observer, max_vertices, reduce).run(
        [codec.initial()] if roots is None else list(roots)
    )


class _Search:
    def __init__(self, codec: Codec, ticks: int | None, max_states: int, timeout: float | None,
                 progress: Progress | None, observer: Observer | None, max_vertices: int | None,
                 reduce: bool = True) -> None:
        self.codec = codec
        self.ticks = ticks
        self.max_states = max_states
        self.timeout = timeout
        self.progress = progress
        self.observer = observer
        self.max_vertices = max_vertices
        self.reduce = reduce
        self.local_mask = 0  # events a reduced region search may take alone (recomputed per depth)
        self.groups: tuple[int, ...] = ()  # closed groups of events it may follow alone
        self.rerun = 0  # regions searched again in full: an event in them needs its exact steps
        self.graph = TickGraph()
        self.seen: set[int] = set()  # fingerprints (hashes) of the states seen, for their count
        self.error_candidate: Event | None = None
        self.start = self.last_progress = time.perf_counter()
        # hook for deciding early (decide.py): an observer that wants to read the tick graph
        # explored so far (at the end of each depth) is handed it here
        bind = getattr(observer, "bind", None)
        if bind is not None:
            bind(self.graph)

    def add(self, st: XState, depth: int, steps: int, parent: int | None) -> int:
        g = self.graph
        if self.max_vertices is not None and len(g.vertices) >= self.max_vertices:
            raise VertexLimit
        tid = len(g.vertices)
        g.index[st] = tid
        g.vertices.append(st)
        g.depth.append(depth)
        g.steps.append(steps)
        g.parent.append(parent)
        g.edges.append({})
        g.fair_enabled.append(0)
        g.explored.append(False)
        return tid

    def run(self, roots: list[XState]) -> TickGraph:
        g = self.graph
        for st in roots:
            if st not in g.index:
                self.add(st, 0, 0, None)
        frontier = list(range(len(g.vertices)))
        depth = 0
        while True:
            if frontier:
                g.max_depth = depth
            first = len(g.vertices)  # the tick states found from here on are of depth + 1
            if self.reduce:
                watched = self.observer.watching() if self.observer is not None else ()
                self.local_mask, self.groups = self.codec.reduction(watched)
            for tid in frontier:
                self.region(tid, depth)
                if g.stop_reason:
                    break
            # what was found in the explored part of a depth cut short is real, and no
            # shallower trace exists (every earlier depth was complete): report it. A failing
            # tick step belongs to the next depth (language.md section 8): it waits for the
            # events of that depth, which may come first in (ticks, steps) order.
            cand = self.error_candidate
            g.error = cand if cand is not None and cand.ticks <= depth else None
            if self.observer is not None and self.observer.end_depth(depth, g.error):
                g.decided = True
            if g.stop_reason or g.decided or g.error is not None:
                break
            nxt = [t for t in range(first, len(g.vertices)) if g.depth[t] == depth + 1]
            if self.ticks is not None and depth >= self.ticks:
                if nxt or cand is not None:  # a failing tick step also leads beyond the bound
                    g.bound_hit = True
                break
            if not nxt and cand is None:
                break
            frontier = nxt
            depth += 1
        g.states = len(self.seen)
        return g

    def clock(self) -> None:
        now = time.perf_counter()
        if self.timeout is not None and now - self.start > self.timeout:
            self.graph.stop_reason = f"timeout after {self.timeout:g} s"
        if self.progress is not None and now - self.last_progress > 0.5:
            self.last_progress = now
            g = self.graph
            self.progress(Stats(states=len(self.seen), tick_states=len(g.vertices), transitions=g.transitions,
                                max_depth=g.max_depth, seconds=now - self.start))

    def region(self, tid: int, depth: int) -> None:
        graph = self.graph
        codec = self.codec
        observer = self.observer
        T = graph.vertices[tid]
        base = graph.steps[tid]
        graph.explored[tid] = True
        graph.fair_enabled[tid] = codec.fair_enabled(T) if codec.fair_mask else 0
        if observer is not None:
            observer.on_tick_state(tid, T, depth, base)
        found = self.explore(tid, depth, self.reduce and (self.local_mask != 0 or bool(self.groups)))
        if found is not None and found[-1]:
            # the reduced search saw a model error or a candidate event: search the region
            # again in full, so that its fewest steps are exact (the tick graph is the same)
            self.rerun += 1
            found = self.explore(tid, depth, False)
        if found is None:
            return
        order, dist, adj, mk, ticks, _ = found
        self.clock()
        fault_mask = codec.fault_mask
        n = len(order)
        ff: list[int | None] = [None] * n  # union of events on fault-free paths from T
        ffd = [0] * n  # fewest steps on such a path
        npm: list[int | None] = [None] * n  # union on fault-free, progress-free paths
        ff[0] = 0
        npm[0] = 0
        progress_mask = codec.progress_mask
        for i in sorted(range(n), key=mk.__getitem__):
            fi, ni = ff[i], npm[i]
            if fi is None:
                continue
            for j, event in adj[i]:
                bit = 1 << event
                if bit & fault_mask:
                    continue
                fj = ff[j]
                if fj is None or ffd[i] + 1 < ffd[j]:
                    ffd[j] = ffd[i] + 1
                ff[j] = (fj or 0) | fi | bit
                if ni is not None and not bit & progress_mask:
                    npm[j] = (npm[j] or 0) | ni | bit
        index = graph.index
        for i, nxt in ticks:
            t2 = index.get(nxt)
            cost = dist[i] + 1
            if t2 is None:
                t2 = self.add(nxt, depth + 1, base + cost, tid)
            elif graph.depth[t2] == depth + 1 and base + cost < graph.steps[t2]:
                graph.steps[t2] = base + cost
                graph.parent[t2] = tid
            e = graph.edges[tid].get(t2)
            if e is None:
                e = graph.edges[tid][t2] = Edge(cost)
            elif cost < e.cost:
                e.cost = cost
            fm = ff[i]
            if fm is not None:
                if e.ff_mask is None or ffd[i] + 1 < e.ff_cost:
                    e.ff_cost = ffd[i] + 1
                e.ff_mask = (e.ff_mask or 0) | fm
            nm = npm[i]
            if nm is not None:
                e.np_mask = (e.np_mask or 0) | nm

    def explore(self, tid: int, depth: int, reduce: bool) -> tuple[
            list[XState], list[int], list[list[tuple[int, int]]], list[int], list[tuple[int, XState]], bool] | None:
        """Breadth-first search of the region of tick state `tid` (None: the search was stopped).

        Returns its states, their distance from the tick state, their successors (region index,
        event), marks set, the tick steps out of the region, and whether an error or an
        observer's event was seen. `reduce`: follow only the steps `_reduced` keeps.
        """
        graph = self.graph
        codec = self.codec
        observer = self.observer
        T = graph.vertices[tid]
        base = graph.steps[tid]
        # one dict from state to its index in the region; parallel lists for the rest
        pos = {T: 0}
        order = [T]
        dist = [0]
        mk = [0]  # marks set since T: +1 per rule or action step, +0 per fault
        adj: list[list[tuple[int, int]]] = []  # per region index: (successor index, event)
        ticks: list[tuple[int, XState]] = []
        seen = self.seen
        fault_mask = codec.fault_mask
        local_mask = self.local_mask if reduce else 0
        groups = self.groups if reduce else ()
        blockers = codec.blocker_mask
        successors = codec.successors
        noticed = False
        head = 0
        while head < len(order):
            i = head
            S = order[i]
            d = dist[i]
            head += 1
            size = len(seen)
            seen.add(hash(S))  # a fingerprint: the region's states are not kept after it
            if len(seen) != size and len(seen) > self.max_states:
                graph.stop_reason = f"state limit of {self.max_states:,} states reached"
                return None
            if observer is not None and observer.on_state(tid, S, depth, base + d):
                noticed = True
            out, errs = successors(S)
            if errs:
                noticed = True
            for desc, msg in errs:
                # a failing tick step ends a tick: it counts in ticks (language.md section 8)
                ev = Event(depth + (desc[0] < 0), base + d + 1, tid, S, desc, msg)
                if self.error_candidate is None or ev.key < self.error_candidate.key:
                    self.error_candidate = ev
            if reduce and len(out) > 1:
                out = _reduced(out, local_mask, groups, blockers)
            graph.transitions += len(out)
            row: list[tuple[int, int]] = []
            for desc, nxt in out:
                event = desc[0]
                if event < 0:
                    ticks.append((i, nxt))
                    continue
                graph.fired |= 1 << event
                j = pos.get(nxt)
                if j is None:
                    j = pos[nxt] = len(order)
                    order.append(nxt)
                    dist.append(d + 1)
                    mk.append(mk[i] + (0 if fault_mask >> event & 1 else 1))
                row.append((j, event))
            adj.append(row)
            if head % 256 == 0:
                self.clock()
                if graph.stop_reason:
                    return None
        return order, dist, adj, mk, ticks, noticed


def _reduced(out: list[tuple[Desc, XState]], local_mask: int, groups: tuple[int, ...],
             blockers: int) -> list[tuple[Desc, XState]]:
    """The steps a reduced search follows from a state with successors `out`."""
    mask = 0
    for desc, _ in out:
        if desc[0] >= 0:
            mask |= 1 << desc[0]
    if mask & local_mask:
        for step in out:
            e = step[0][0]
            if e >= 0 and local_mask >> e & 1:
                return [step]
    for g in groups:
        if mask & g & blockers and mask & ~g:
            return [step for step in out if step[0][0] >= 0 and g >> step[0][0] & 1]
    return out


__all__ = ["Edge", "Event", "Mode", "Observer", "TickGraph", "VertexLimit", "build"]
