"""The retry-free counterfactual of a model: the question behind every storm diagnosis.

`without_retries(model)` is the same model in which no `retry` rule and no fault can fire: a
node that would have retried simply does not act, and the environment stays as it is. Only
guards change (to `false`), so states, events and their indices are those of the original
model, and a state of one is a state of the other.
"""

from __future__ import annotations

import dataclasses

from checker.model import ir

_FALSE = ir.Lit(False, ir.Type.BOOL)


def without_retries(model: ir.Model) -> ir.Model:
    """Return `model` with every retry rule and every fault disabled (guard `false`)."""
    rules = tuple(
        dataclasses.replace(r, guard=_FALSE) if r.tag is ir.Tag.RETRY else r for r in model.rules
    )
    faults = tuple(dataclasses.replace(f, guard=_FALSE) for f in model.faults)
    return dataclasses.replace(model, rules=rules, faults=faults)
