"""The explicit engine's fast successor function agrees with the reference semantics.

For every state the engine reaches (on the conformance specs, the valid specs and the
models), its successors, converted, equal the reference's `enabled` + `apply` exactly.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from checker.engines import CheckOptions
from checker.engines.explicit.engine import _Explorer
from checker.errors import ModelError
from checker.model import load_spec
from checker.model import semantics as sem

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "tests" / "conformance").glob("[0-9]*.storm")) + sorted((ROOT / "tests" / "specs" / "valid").glob("*.storm"))


def _reference(model, state):  # type: ignore[no-untyped-def]
    good, bad = Counter(), 0
    for step in sem.enabled(model, state):
        try:
            good[(step, sem.apply(model, state, step))] += 1
        except ModelError:
            bad += 1
    return good, bad


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_engine_successors_equal_the_reference(path: Path) -> None:
    model = load_spec(path)
    ex = _Explorer(model, CheckOptions(ticks=6))
    frontier = [ex.initial()]
    seen = set(frontier)
    checked = 0
    while frontier and checked < 400:
        st = frontier.pop(0)
        out, errs = ex.successors(st)
        conv = ex._convert(st)
        mine = Counter((ex._step(d, conv), ex._convert(n)) for d, n in out)
        ref, ref_errors = _reference(model, conv)
        assert set(mine) == set(ref), path.name
        assert len(errs) == ref_errors
        checked += 1
        for _d, n in out:
            if n not in seen:
                seen.add(n)
                frontier.append(n)
