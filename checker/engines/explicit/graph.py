"""Fair cycles in the tick graph: strongly connected components and lasso loops (networkx).

A loop is fair unless some `fair` rule or action is enabled in every tick state of the loop
and fires on none of its edges (language.md section 6). Per strongly connected set S of the
restricted graph: S holds a fair loop through all its edges iff every fair event is fired on
some edge of S or disabled in some state of S (and, for no_storm, some edge fires a retry
rule). If S fails, no loop inside S is fair, so SCCs are never split further.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx


@dataclass(frozen=True)
class FairScc:
    vertices: frozenset[int]
    edges: dict[tuple[int, int], int]  # (a, b) -> union of events fired on that edge's paths


def _bits(mask: int) -> list[int]:
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def fair_sccs(
    edges: Iterable[tuple[int, int, int]],
    required: int | None,
    fair_mask: int,
    fair_enabled: Sequence[int],
) -> list[FairScc]:
    """Every SCC of the graph of `edges` (a, b, events fired) that holds a fair loop.

    `required`: events of which at least one must fire in the loop, or None when no event
    is required (an empty mask requires the impossible).
    """
    if required is not None and not required:
        return []
    g = nx.DiGraph()
    masks: dict[tuple[int, int], int] = {}
    for a, b, m in edges:
        masks[(a, b)] = masks.get((a, b), 0) | m
        g.add_edge(a, b)
    comps = [c for c in nx.strongly_connected_components(g) if len(c) > 1 or g.has_edge(*(2 * tuple(c)))]
    where = {v: i for i, c in enumerate(comps) for v in c}
    inner_of: list[dict[tuple[int, int], int]] = [{} for _ in comps]
    for (a, b), m in masks.items():
        i = where.get(a)
        if i is not None and where.get(b) == i:
            inner_of[i][(a, b)] = m
    out = []
    for comp, inner in zip(comps, inner_of):
        union = 0
        for m in inner.values():
            union |= m
        if required is not None and not union & required:
            continue
        always = fair_mask
        for v in comp:
            always &= fair_enabled[v]
        if always & ~union:
            continue
        out.append(FairScc(frozenset(comp), inner))
    return out


def find_fair_scc(
    edges: Iterable[tuple[int, int, int]],
    required: int | None,
    fair_mask: int,
    fair_enabled: Sequence[int],
    order_key: Callable[[int], tuple[int, ...]],
) -> FairScc | None:
    """The first (by its earliest vertex) SCC that holds a fair loop, or None (see `fair_sccs`)."""
    best: FairScc | None = None
    best_key = None
    for scc in fair_sccs(edges, required, fair_mask, fair_enabled):
        key = min(order_key(v) for v in scc.vertices)
        if best_key is None or key < best_key:
            best, best_key = scc, key
    return best


def scc_loop(
    scc: FairScc,
    fair_mask: int,
    fair_enabled: Sequence[int],
    required: int | None,
    order_key: Callable[[int], tuple[int, ...]],
) -> list[tuple[int, int, int | None]]:
    """A closed walk through `scc` from its earliest vertex that meets every loop condition.

    Returns hops (a, b, event that this hop must fire, or None).
    """
    g = nx.DiGraph()
    for a, b in sorted(scc.edges, key=lambda e: (order_key(e[0]), order_key(e[1]))):
        g.add_edge(a, b)
    v0 = min(scc.vertices, key=order_key)
    union = 0
    for m in scc.edges.values():
        union |= m
    always = fair_mask
    for v in scc.vertices:
        always &= fair_enabled[v]
    needs: list[tuple[str, int]] = []
    if required is not None:
        needs.append(("edge", _bits(union & required)[0]))
    for f in _bits(fair_mask):
        if always >> f & 1:
            needs.append(("edge", f))
        elif any(fair_enabled[v] >> f & 1 for v in scc.vertices):
            needs.append(("vertex", f))
    hops: list[tuple[int, int, int | None]] = []
    cur = v0

    def walk(to: int) -> None:
        nonlocal cur
        if to == cur:
            return
        path = nx.shortest_path(g, cur, to)
        hops.extend((a, b, None) for a, b in pairwise(path))
        cur = to

    for what, f in needs:
        dist = nx.single_source_shortest_path_length(g, cur)
        if what == "edge":
            a, b = min(
                ((a, b) for (a, b), m in scc.edges.items() if m >> f & 1),
                key=lambda e: (dist[e[0]], order_key(e[0]), order_key(e[1])),
            )
            walk(a)
            hops.append((a, b, f))
            cur = b
        else:
            w = min(
                (v for v in scc.vertices if not fair_enabled[v] >> f & 1),
                key=lambda v: (dist[v], order_key(v)),
            )
            walk(w)
    if not hops:
        b = min((b for (a, b) in scc.edges if a == v0), key=order_key)
        hops.append((v0, b, None))
        cur = b
    walk(v0)
    return hops


# ---- the quotient of a tick graph, for pictures of real models ----------------------------


def _view_key(attrs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What a vertex's picture shows: its node count per state and its globals."""
    return tuple((k, v) for k, v in attrs.items() if k.startswith(("count_", "var_")))


def _tid(v: str) -> int:
    return int(v[1:])


def quotient(g: nx.DiGraph) -> nx.DiGraph:
    """The condensation of `g` after merging tick states that look the same, storm parts marked.

    `g` is a tick graph (`export.tick_graph`). First, tick states with the same node count per
    state and the same globals are merged into one view (node locals and the remaining fault
    limits are forgotten: an edge between views says that some tick state of one reaches some
    tick state of the other in one tick). Then each strongly connected component of the merged
    graph becomes one vertex `c0, c1, ...`, numbered by their earliest tick state. Without the
    merge, the condensation of a model whose locals or limits only grow (ebs_2011: 1,595 tick
    states, all their own component) would be the graph itself. A component is a storm component
    when one of its tick states lies on a storm loop of `g` (exact, not merged): `storm_states`
    counts them, `size` counts all its tick states.
    """
    order = sorted(g.nodes, key=_tid)
    view_of: dict[str, int] = {}
    first: dict[tuple[tuple[str, Any], ...], int] = {}
    for v in order:
        view_of[v] = first.setdefault(_view_key(g.nodes[v]), len(first))
    merged = nx.DiGraph()
    merged.add_nodes_from(range(len(first)))
    for u, v in g.edges:
        merged.add_edge(view_of[u], view_of[v])
    comps = sorted((sorted(c) for c in nx.strongly_connected_components(merged)), key=lambda c: c[0])
    comp_of = {view: i for i, c in enumerate(comps) for view in c}
    members: list[list[str]] = [[] for _ in comps]
    for v in order:
        members[comp_of[view_of[v]]].append(v)
    q = nx.DiGraph(**g.graph, quotient=True, tick_states=g.number_of_nodes(), views=len(first))
    for i, (views, ms) in enumerate(zip(comps, members)):
        attrs = [g.nodes[v] for v in ms]
        storm = sum(1 for a in attrs if a.get("storm"))
        depths = sorted({a["depth"] for a in attrs})
        rep = attrs[0]["label"].split("\n", 1)[-1]
        ticks = f"tick {depths[0]}" if len(depths) == 1 else f"ticks {depths[0]}-{depths[-1]}"
        cyclic = len(views) > 1 or merged.has_edge(views[0], views[0])
        head = f"c{i}: {len(ms):,} tick state{'s' if len(ms) != 1 else ''} ({ticks})"
        if len(views) > 1:
            head += f", {len(views)} views"
        lines = [head, rep + (f"\n+ {len(views) - 1} more" if len(views) > 1 else "")]
        if storm:
            lines.append(f"STORM: {storm:,} in storm loops")
        q.add_node(f"c{i}", label="\n".join(lines), size=len(ms), views=len(views), storm=storm > 0,
                   storm_states=storm, cyclic=cyclic, initial=any(a.get("initial") for a in attrs),
                   explored=all(a.get("explored") for a in attrs), members=" ".join(ms))
    across: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for u, v in sorted(g.edges, key=lambda e: (_tid(e[0]), _tid(e[1]))):
        a, b = comp_of[view_of[u]], comp_of[view_of[v]]
        if a != b:
            across.setdefault((a, b), []).append((u, v))
    for (a, b), edges in sorted(across.items()):
        first_fired = g.edges[edges[0]].get("fired") or "-"
        label = first_fired if len(edges) == 1 else f"{first_fired} (+{len(edges) - 1} more)"
        q.add_edge(f"c{a}", f"c{b}", label=label, ticks=len(edges), storm=False,
                   fault_free=any(g.edges[e].get("fault_free") for e in edges))
    return q
