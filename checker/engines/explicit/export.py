"""The tick graph of the explicit engine as a networkx graph, written as DOT or GraphML.

Vertices are tick states (node counts per state and the globals); an edge T -> T' says that
some run goes from T to T' in one tick, labelled with what fires on its fewest-steps path.
Storm loops are highlighted: the strongly connected parts of the graph restricted to
fault-free, progress-free edges in which some retry rule fires and no `fair` rule or action
stays enabled without firing (the loops `no_storm` looks for, whatever a check assumes).

The exploration is the engine's own search (`search.build`) with no observer, so no check
stops it early (a model error still ends it at its depth); it refuses, with UsageError,
beyond `max_vertices` tick states.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx

from checker.engines.explicit.encoding import Codec
from checker.engines.explicit.graph import fair_sccs
from checker.engines.explicit.search import Mode, TickGraph, VertexLimit, build
from checker.engines.explicit.trace import Tracer
from checker.errors import UsageError
from checker.model import ir


def _names(model: ir.Model, mask: int) -> list[str]:
    return [e.name for e in model.events if mask >> e.event & 1]


def tick_graph(model: ir.Model, ticks: int, max_states: int, max_vertices: int,
               timeout: float | None = None) -> nx.DiGraph:
    """Explore `model` up to `ticks` ticks and return its tick graph with storm loops marked."""
    codec = Codec(model)
    try:
        graph = build(codec, ticks=ticks, max_states=max_states, timeout=timeout, max_vertices=max_vertices)
    except VertexLimit:
        raise UsageError(
            f"the tick graph has more than {max_vertices:,} vertices, more than a graph viewer can open; "
            f"lower --ticks or the constants, or raise --max-vertices"
        ) from None
    if graph.stop_reason:
        raise UsageError(f"the tick graph could not be built: {graph.stop_reason}; raise --max-states")
    g = nx.DiGraph(protocol=model.name, spec=model.file,
                   bound_hit=graph.bound_hit, model_error=graph.error is not None)
    if ticks is not None:  # no tick bound: the graph is complete
        g.graph["ticks_bound"] = ticks
    storm_v, storm_e = _storm_loops(codec, graph)
    tracer = Tracer(codec, graph)
    kinds_cols = [(k, s, name) for k, kind in enumerate(model.kinds) for s, name in enumerate(kind.states)]
    for tid, st in enumerate(graph.vertices):
        state = codec.to_state(st)
        attrs: dict[str, Any] = {"depth": graph.depth[tid], "explored": graph.explored[tid], "storm": tid in storm_v,
                                 "initial": tid == 0}
        parts = []
        for k, s, name in kinds_cols:
            n = state.count(k, s)
            attrs[f"count_{name}"] = n
            parts.append(f"{name}={n}")
        for var, v in zip(model.globals, state.globals):
            attrs[f"var_{var.name}"] = v if isinstance(v, bool) else int(v)
            parts.append(f"{var.name}={'true' if v is True else 'false' if v is False else v}")
        attrs["label"] = f"t{tid} (tick {graph.depth[tid]})\n" + " ".join(parts)
        g.add_node(f"t{tid}", **attrs)
    for tid, out in enumerate(graph.edges):
        for t2, e in sorted(out.items()):
            fired = _fired(model, tracer, tid, t2)
            g.add_edge(
                f"t{tid}", f"t{t2}",
                fired=fired,
                steps=e.cost,
                fault_free=e.ff_mask is not None,
                may_fire_fault_free=", ".join(_names(model, e.ff_mask or 0)),
                storm=(tid, t2) in storm_e,
                label=fired or "-",
            )
    return g


def _fired(model: ir.Model, tracer: Tracer, a: int, b: int) -> str:
    """What fires on a fewest-steps path of one tick from a to b: `claim x2, no_space x1`."""
    vs = tracer.graph.vertices
    path = tracer.realize(vs[a], vs[b], tick=True, mode=Mode.ANY, need=None)
    counts: Counter[str] = Counter()
    order: list[str] = []
    for (event, _k, _s), _st in path:
        if event < 0:
            continue
        name = model.events[event].name
        if name not in counts:
            order.append(name)
        counts[name] += 1
    return ", ".join(f"{n} x{counts[n]}" for n in order)


def _storm_loops(codec: Codec, graph: TickGraph) -> tuple[set[int], set[tuple[int, int]]]:
    """Vertices and edges of the fair retry-without-progress cycles of the tick graph."""
    edges = [
        (t, t2, e.np_mask)
        for t, out in enumerate(graph.edges)
        for t2, e in out.items()
        if e.np_mask is not None and graph.explored[t2]
    ]
    verts: set[int] = set()
    inner: set[tuple[int, int]] = set()
    for scc in fair_sccs(edges, codec.retry_mask, codec.fair_mask, graph.fair_enabled):
        verts |= scc.vertices
        inner |= set(scc.edges)
    return verts, inner


# ---- writers -------------------------------------------------------------------------------


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: nx.DiGraph) -> str:
    """Graphviz DOT text; storm loops red and bold, the initial state double-bordered."""
    lines = [f"digraph {_dot_id(str(g.graph.get('protocol', 'tick_graph')))} {{",
             "  rankdir=TB;",
             '  node [shape=box, fontname="monospace", fontsize=10];',
             '  edge [fontname="monospace", fontsize=9];']
    for v, a in g.nodes(data=True):
        style = []
        if a.get("storm"):
            style.append('color=red, penwidth=2, fontcolor=red')
        if a.get("initial"):
            style.append("peripheries=2")
        if not a.get("explored"):
            style.append("style=dashed")
        extra = (", " + ", ".join(style)) if style else ""
        lines.append(f"  {_dot_id(v)} [label={_dot_id(a['label'])}{extra}];")
    for u, v, a in g.edges(data=True):
        edge_style = ", color=red, penwidth=2, fontcolor=red" if a.get("storm") else ""
        if not a.get("fault_free"):
            edge_style += ", style=dotted"
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [label={_dot_id(a['label'])}{edge_style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(g: nx.DiGraph) -> str:
    """GraphML text (yEd, Gephi, Cytoscape read it)."""
    return "\n".join(nx.generate_graphml(g, prettyprint=True)) + "\n"


__all__ = ["tick_graph", "to_dot", "to_graphml"]
