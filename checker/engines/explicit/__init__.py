"""The explicit-state engine (counter abstraction, tick graph, SCC lassos)."""

from __future__ import annotations

from checker.engines.explicit.engine import ExplicitEngine

__all__ = ["ExplicitEngine"]
