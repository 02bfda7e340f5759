"""Front end: the grammar, the parser and the AST."""

from __future__ import annotations

from checker.syntax.parser import KEYWORDS, parse_spec

__all__ = ["KEYWORDS", "parse_spec"]
