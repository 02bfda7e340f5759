"""stormproof: a model checker for retry and re-mirroring protocols."""

from __future__ import annotations

__version__ = "0.1.0"
