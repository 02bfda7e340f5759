"""The explicit and symbolic engines agree on random specs (language.md section 7).

Verdicts must be compatible and every shortest trace both find must have the same length in
ticks; every trace either engine returns must replay through the reference semantics.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from checker.engines import get_engine
from checker.engines.base import CheckOptions, replay
from checker.engines.compare import compare
from checker.model import load_text
from tests.strategies import spec_texts

TICKS = 3


def _agree(text: str) -> None:
    model = load_text(text, "<random>")
    opts = CheckOptions(ticks=TICKS, timeout=60)
    a = get_engine("explicit").run(model, opts)
    b = get_engine("symbolic").run(model, opts)
    for run in (a, b):
        for r in run.results:
            replay(model, r)
    problems = compare(a, b)
    assert not problems, text + "\n" + "\n".join(problems)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec_texts())
def test_engines_agree_on_random_specs(text: str) -> None:
    _agree(text)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec_texts())
def test_engines_agree_on_many_random_specs(text: str) -> None:
    _agree(text)
