"""The IR, its elaboration from the AST, and the reference step semantics."""

from __future__ import annotations

from checker.model.elaborate import load_spec, load_text

__all__ = ["load_spec", "load_text"]
