"""Engines and what they share; `get_engine` picks one by name."""

from __future__ import annotations

import importlib

from checker.engines.base import CheckOptions, CheckResult, Engine, RunResult, Stats, Trace, Verdict, replay

ENGINES = {
    "explicit": ("checker.engines.explicit", "ExplicitEngine"),
    "symbolic": ("checker.engines.symbolic", "SymbolicEngine"),
}


def get_engine(name: str) -> Engine:
    """Return an engine instance by name (imported lazily: z3 loads only when asked for)."""
    module, cls = ENGINES[name]
    engine: Engine = getattr(importlib.import_module(module), cls)()
    return engine


__all__ = [
    "ENGINES", "CheckOptions", "CheckResult", "Engine", "RunResult", "Stats", "Trace", "Verdict",
    "get_engine", "replay",
]
