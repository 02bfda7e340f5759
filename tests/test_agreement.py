"""The explicit and symbolic engines agree on random specs (language.md section 7).

Verdicts must be compatible and every shortest trace both find must have the same length in
ticks; every trace either engine returns must replay through the reference semantics.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from checker.engines.base import CheckOptions
from checker.engines.compare import run_both
from checker.model import load_text
from tests.strategies import spec_texts

TICKS = 3


def _agree(text: str) -> None:
    model = load_text(text, "<random>")
    opts = CheckOptions(ticks=TICKS, timeout=60)
    _a, _b, problems = run_both(model, opts)
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
