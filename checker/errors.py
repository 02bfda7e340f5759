"""Source spans and the one exception hierarchy every layer raises from.

Only the CLI turns these into output and exit codes; library code raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of spec text stands: 1-based line and column."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class CheckerError(Exception):
    """Root of all errors raised by stormproof."""


class SpecError(CheckerError):
    """A spec that cannot be loaded: reported as FILE:LINE:COL: message, exit 2."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.source_text: str | None = None

    def __str__(self) -> str:
        text = f"{self.span}: {self.message}" if self.span else self.message
        if self.hint:
            text += f"; {self.hint}"
        return text

    def render(self) -> str:
        """Return the one-line message, then the source line and a caret under the column."""
        head = str(self)
        if self.span is None or self.source_text is None:
            return head
        lines = self.source_text.splitlines()
        if not 1 <= self.span.line <= len(lines):
            return head
        src = lines[self.span.line - 1].expandtabs(1)
        width = 1
        if self.span.end_line == self.span.line and self.span.end_col > self.span.col:
            width = self.span.end_col - self.span.col
        caret = " " * (self.span.col - 1) + "^" * max(1, min(width, len(src) - self.span.col + 1))
        return f"{head}\n    {src}\n    {caret}"


class SpecSyntaxError(SpecError):
    """Spec text that does not match the grammar."""


class SpecTypeError(SpecError):
    """Well-formed spec text that fails name, type or constant checks."""


class UsageError(CheckerError):
    """A bad command line: unknown check, bad --set, missing file. Exit 2."""


class ModelError(CheckerError):
    """A runtime error of the modelled protocol: out-of-range store, overflow, division by zero.

    Raised by the semantics while exploring; engines turn it into a violation with a trace.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EngineError(CheckerError):
    """An engine could not run (solver failure, unsupported feature)."""


class InternalError(CheckerError):
    """A bug in stormproof, such as a trace that does not replay. Exit 4."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return 'did you mean X?' for the closest candidate, or None."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
