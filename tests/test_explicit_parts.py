"""The explicit engine's parts through their public interfaces: codec, search, decider.

- the search builds the tick graph reachable from any given tick states (`roots`), which
  `Codec.from_state` encodes from reference-semantics states;
- `ticks=None` means no tick bound;
- the cost of many checks is linear in their number.
"""

from __future__ import annotations

from helpers import ROOT, run_text, tiny

from checker.engines import CheckOptions, Verdict, get_engine
from checker.engines.explicit.encoding import Codec
from checker.engines.explicit.search import build
from checker.model import ir, load_spec, load_text


def _reachable(edges: list[dict[int, object]], start: int) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        t = todo.pop()
        for t2 in edges[t]:
            if t2 not in seen:
                seen.add(t2)
                todo.append(t2)
    return seen


def test_search_from_given_tick_states_builds_the_graph_reachable_from_them() -> None:
    model = load_spec(ROOT / "models" / "ebs_2011.storm", {"N": 4, "SPARE": 1})
    codec = Codec(model)
    full = build(codec, ticks=None, max_states=10**6)
    assert full.complete and full.error is None
    depth2 = [t for t in range(len(full.vertices)) if full.depth[t] == 2][:2]
    assert len(depth2) == 2
    # a fresh codec: the roots come in as reference-semantics states
    other = Codec(model)
    roots = [other.from_state(codec.to_state(full.vertices[t])) for t in depth2]
    sub = build(other, ticks=None, max_states=10**6, roots=roots)
    assert sub.complete
    assert [sub.depth[i] for i in range(2)] == [0, 0] and sub.parent[:2] == [None, None]
    want = set().union(*(_reachable(full.edges, t) for t in depth2))  # type: ignore[arg-type]
    got = {codec.from_state(other.to_state(v)) for v in sub.vertices}
    assert got == {full.vertices[t] for t in want}
    # the same edges, with the same masks
    for i, out in enumerate(sub.edges):
        a = full.index[codec.from_state(other.to_state(sub.vertices[i]))]
        for j, e in out.items():
            b = full.index[codec.from_state(other.to_state(sub.vertices[j]))]
            assert full.edges[a][b] == e


def test_no_tick_bound_explores_until_complete() -> None:
    text = tiny(cap=1)
    bounded = run_text(text, ticks=1)
    assert bounded.stats.bound_hit and not bounded.stats.complete
    assert {r.verdict for r in bounded.results} == {Verdict.HOLDS_BOUNDED}
    unbounded = run_text(text, ticks=None)  # type: ignore[arg-type]
    assert unbounded.stats.complete and not unbounded.stats.bound_hit
    assert unbounded.stats.tick_states == run_text(text, ticks=100).stats.tick_states
    assert {r.check.name: r.verdict for r in unbounded.results} == {
        "nonneg": Verdict.HOLDS, "no_storm": Verdict.VIOLATED}


def test_many_checks_cost_linear_in_their_number(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    n = 2000  # half invariants, half loop checks
    checks = [f"check invariant c{i}: free <= {i % 7 + 1}" if i % 2 else f"check recovers c{i}: free >= 0 within 2 ticks"
              for i in range(n)]
    text = tiny(*checks, cap=1)
    model = load_text(text, "many.storm")
    assert len(model.checks) == n + 2
    compared = 0
    eq = ir.Check.__eq__

    def counting_eq(self: ir.Check, other: object) -> bool:
        nonlocal compared
        compared += 1
        return eq(self, other)  # type: ignore[no-any-return]

    monkeypatch.setattr(ir.Check, "__eq__", counting_eq)
    run = get_engine("explicit").run(model, CheckOptions(ticks=3))
    assert compared <= n  # no check is looked up among the others
    assert len(run.results) == n + 2
    assert all(r.verdict is Verdict.HOLDS for r in run.results if r.check.name.startswith("c"))
