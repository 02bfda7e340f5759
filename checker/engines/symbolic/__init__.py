"""The Z3 engine: bounded model checking, lasso search and k-induction (issue 3).

Encoding: one set of variables per node (state index, locals, acted mark), not counts per
situation. Per-node variables keep every guard and update a small linear term over a few
integers, where counts per situation would need one counter per (state, locals) valuation
(exponential in the locals) and a case split over which situation moves; SMT solvers handle
the former far better. The price is symmetry: states that differ only by which node is which
are different assignments. We pay it back where it matters, at tick states: loop closing,
simple-path and exhaustion constraints compare a sorted copy of each kind's nodes, so
permuted tick states count as equal (as they are in the reference's multisets).

Only this package imports z3. See `engine.py` for the algorithms and `encode.py` for the
encoding; symbols carry their time index (`x@k.j`: tick k, micro-step j).
"""

from __future__ import annotations

from checker.engines.symbolic.engine import SymbolicEngine

__all__ = ["SymbolicEngine"]
