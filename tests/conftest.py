from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# The fast suite gates CI, so its property tests draw the same examples on every run
# (derandomized): a red build then means the change broke something, not that a new random
# example turned up. STORMPROOF_EXPLORE=1 draws fresh random examples (and so do the tests
# under -m slow that ask for derandomize=False); run it when changing an engine.
settings.register_profile("gate", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("STORMPROOF_EXPLORE") else "gate")

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
