"""Read and write sets on the IR: what each step, block and check can look at or change.

A step is one firing of a rule, action or fault (for node events: by one node, in one
situation). Its *reads* are the globals, the moving node's own locals, and the node counts
`count(k, s)` (with or without `where`) that its guard or its updates evaluate; its *writes*
are the globals and own locals it assigns, the fault limit it consumes, and the node move
(kind, src -> dst) it makes, which changes `count(k, src)` and `count(k, dst)`.

The explicit engine's reduction inside a tick (spec/semantics.md, "Reduction inside a tick")
is justified from these sets alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from checker.model import ir


@dataclass(frozen=True, slots=True)
class Reads:
    globals: frozenset[int] = frozenset()
    locals: frozenset[int] = frozenset()  # of the node evaluating the expression
    counts: frozenset[tuple[int, int]] = frozenset()  # (kind, state) of every count() read

    def __or__(self, other: Reads) -> Reads:
        return Reads(self.globals | other.globals, self.locals | other.locals, self.counts | other.counts)


@dataclass(frozen=True, slots=True)
class Access:
    """What one event reads and writes when it fires."""

    reads: Reads
    writes_globals: frozenset[int]
    writes_locals: frozenset[int]
    slot: int | None  # the fault limit it reads and consumes
    move: tuple[int, int, int] | None  # node events: (kind, src, dst)


def expr_reads(e: ir.Expr | None) -> Reads:
    """Everything evaluating `e` can read (a `where` reads the counted nodes' locals: a count)."""
    g: set[int] = set()
    loc: set[int] = set()
    counts: set[tuple[int, int]] = set()

    def walk(x: ir.Expr, inside_count: bool) -> None:
        if isinstance(x, ir.GlobalRef):
            g.add(x.index)
        elif isinstance(x, ir.LocalRef):
            if not inside_count:
                loc.add(x.index)
        elif isinstance(x, ir.CountOf):
            counts.add((x.kind, x.state))
            if x.where is not None:
                walk(x.where, True)
        else:
            for y in ir.children(x):
                walk(y, inside_count)

    if e is not None:
        walk(e, False)
    return Reads(frozenset(g), frozenset(loc), frozenset(counts))


def block_reads(updates: Sequence[ir.Assign]) -> Reads:
    """A block reads every right-hand side, and the old value of every `+=` / `-=` target."""
    out = Reads()
    for a in updates:
        out = out | expr_reads(a.value)
        if a.op != "=":
            out = out | (Reads(locals=frozenset({a.index})) if a.local else Reads(globals=frozenset({a.index})))
    return out


def event_access(event: ir.Rule | ir.Action | ir.Fault) -> Access:
    reads = expr_reads(event.guard) | block_reads(event.updates)
    wg = frozenset(a.index for a in event.updates if not a.local)
    wl = frozenset(a.index for a in event.updates if a.local)
    slot = event.slot if isinstance(event, ir.Fault) else None
    kind = None if isinstance(event, ir.Action) else event.kind
    move = None if kind is None or isinstance(event, ir.Action) else (kind, event.src, event.dst)
    return Access(reads, wg, wl, slot, move)


def all_reads(model: ir.Model) -> Reads:
    """Everything any event's guard or updates can read (the tick's blocks are left out)."""
    out = Reads()
    for ev in model.events:
        out = out | event_access(ev).reads
    return out


def local_rules(model: ir.Model, watched: Iterable[ir.Expr]) -> frozenset[int]:
    """The rules whose firing commutes with every other step of a tick and that nobody sees.

    A rule r of kind k from src to dst qualifies when
      - it is the only event (rule or node fault) of kind k leaving `src`, so a node in `src`
        can do nothing else before it fires r;
      - its guard and updates read no global and no count, and it writes no global and
        consumes no limit: only the moving node's own situation is involved;
      - no guard or update of any event, and no expression in `watched`, reads
        `count(k, src)` or `count(k, dst)`: moving the node is invisible to everyone else.
    Returns their event numbers.
    """
    watched_reads = Reads()
    for e in watched:
        watched_reads = watched_reads | expr_reads(e)
    seen = all_reads(model).counts | watched_reads.counts
    leaving: dict[tuple[int, int], int] = {}
    node_events: list[ir.Rule | ir.Fault] = [*model.rules, *model.faults]
    for ev in node_events:
        if ev.kind is not None:
            leaving[(ev.kind, ev.src)] = leaving.get((ev.kind, ev.src), 0) + 1
    out = set()
    for r in model.rules:
        acc = event_access(r)
        if leaving[(r.kind, r.src)] != 1:
            continue
        if acc.reads.globals or acc.reads.counts or acc.writes_globals:
            continue
        if (r.kind, r.src) in seen or (r.kind, r.dst) in seen:
            continue
        out.add(r.event)
    return frozenset(out)


def _writes_counts(acc: Access) -> frozenset[tuple[int, int]]:
    if acc.move is None:
        return frozenset()
    k, src, dst = acc.move
    return frozenset({(k, src), (k, dst)})


def dependent(a: Access, b: Access) -> bool:
    """Whether two events, fired by different nodes (or top-level), may fail to commute.

    They conflict on a global one writes and the other reads or writes, on a count one
    moves a node in or out of and the other reads, or on a shared fault limit. Two moves
    changing the same count commute (counts add up).
    """
    if a.writes_globals & (b.reads.globals | b.writes_globals) or b.writes_globals & a.reads.globals:
        return True
    if _writes_counts(a) & b.reads.counts or _writes_counts(b) & a.reads.counts:
        return True
    return a.slot is not None and a.slot == b.slot


def writers(model: ir.Model, watched: Iterable[ir.Expr]) -> frozenset[int]:
    """The events that can change the value (or the error) of an expression in `watched`."""
    reads = Reads()
    for e in watched:
        reads = reads | expr_reads(e)
    out = set()
    for ev in model.events:
        acc = event_access(ev)
        if acc.writes_globals & reads.globals or _writes_counts(acc) & reads.counts:
            out.add(ev.event)
    return frozenset(out)


def closed_groups(model: ir.Model, watched: Iterable[ir.Expr]) -> list[frozenset[int]]:
    """Groups G of events whose enabled steps may be followed alone (spec/semantics.md).

    Each G contains every event that can change a watched expression, and is closed:
      (a) every event outside G is independent of every event in G (`dependent`);
      (b) every node event leaving a state that an event of G leaves is in G;
      (c) an event outside G that moves a node into such a state is a rule (the node has
          then acted and can take no rule of G this tick), and G has no node fault from it.
    One group per rule or action, the smallest closed one containing it; groups equal to
    every event are left out, smallest first.
    """
    events = model.events
    acc = [event_access(ev) for ev in events]
    base = writers(model, watched)
    groups: set[frozenset[int]] = set()
    seeds: list[ir.Rule | ir.Action] = [*model.rules, *model.actions]
    for seed in seeds:
        g = set(base) | {seed.event}
        changed = True
        while changed:
            changed = False
            srcs = {(ev.kind, ev.src) for ev in events if ev.event in g and not isinstance(ev, ir.Action)
                    and ev.kind is not None}
            fault_srcs = {(ev.kind, ev.src) for ev in model.faults if ev.event in g and ev.kind is not None}
            for ev in events:
                if ev.event in g:
                    continue
                node = not isinstance(ev, ir.Action) and ev.kind is not None
                join = any(dependent(acc[ev.event], acc[x]) for x in g)
                if not join and node:
                    assert not isinstance(ev, ir.Action) and ev.kind is not None
                    into = (ev.kind, ev.dst) in srcs and (isinstance(ev, ir.Fault) or (ev.kind, ev.dst) in fault_srcs)
                    join = (ev.kind, ev.src) in srcs or into
                if join:
                    g.add(ev.event)
                    changed = True
        if len(g) < len(events):
            groups.add(frozenset(g))
    return sorted(groups, key=lambda x: (len(x), sorted(x)))


__all__ = ["Access", "Reads", "all_reads", "block_reads", "closed_groups", "dependent", "event_access", "expr_reads",
           "local_rules", "writers"]
