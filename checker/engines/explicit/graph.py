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
