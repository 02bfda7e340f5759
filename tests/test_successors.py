"""The explicit engine's codec agrees with the reference semantics.

For every state the codec reaches (on the conformance specs and the valid specs), its
successors, converted, equal the reference's `enabled` + `apply` exactly, and `from_state`
inverts `to_state`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from checker.engines.explicit.encoding import Codec
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
    codec = Codec(model)
    frontier = [codec.initial()]
    assert codec.to_state(frontier[0]) == sem.initial_state(model)
    seen = set(frontier)
    checked = 0
    while frontier and checked < 400:
        st = frontier.pop(0)
        out, errs = codec.successors(st)  # the generated successor function (codegen.py)
        assert (out, errs) == codec._successors(st)  # its twin over the compiled closures, in order
        conv = codec.to_state(st)
        assert codec.from_state(conv) == st
        mine = Counter((codec.to_step(d), codec.to_state(n)) for d, n in out)
        ref, ref_errors = _reference(model, conv)
        assert set(mine) == set(ref), path.name
        assert len(errs) == ref_errors
        checked += 1
        for _d, n in out:
            if n not in seen:
                seen.add(n)
                frontier.append(n)
