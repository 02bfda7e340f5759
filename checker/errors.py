"""Source spans and the one exception hierarchy every layer raises from.

Only the CLI turns these into output and exit codes; library code raises.
"""

from __future__ import annotations

import difflib
import unicodedata
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
        """Return the one-line message, then the source line and a caret under the column.

        Lines are split at '\n' only, as the lexer counts them, so a U+0085 or U+2028 inside
        a line neither cuts it nor shifts the line number; invisible characters are shown
        escaped (`visible`). An empty file, or an error just past the last line, shows an
        empty line with the caret at its start.
        """
        head = str(self)
        if self.span is None or self.source_text is None:
            return head
        lines = [x.removesuffix("\r") for x in self.source_text.split("\n")]
        if not 1 <= self.span.line <= len(lines):
            return head
        src = lines[self.span.line - 1]
        col = max(1, min(self.span.col, len(src) + 1))
        width = 1
        if self.span.end_line == self.span.line and self.span.end_col > col:
            width = self.span.end_col - col
        before = visible(src[: col - 1])
        under = visible(src[col - 1 : col - 1 + width]) or " "
        after = visible(src[col - 1 + width :])
        # a very long line is shown as a window around the column, marked '...' where cut
        if len(before) > _SHOW_BEFORE:
            before = "..." + before[-_SHOW_BEFORE + 3 :]
        if len(under) > _SHOW_UNDER:
            under, after = under[:_SHOW_UNDER], "..."
        if len(after) > _SHOW_AFTER:
            after = after[: _SHOW_AFTER - 3] + "..."
        caret = " " * len(before) + "^" * len(under)
        line = (before + under + after).rstrip()
        return f"{head}\n    {line}\n    {caret}"


_SHOW_BEFORE, _SHOW_UNDER, _SHOW_AFTER = 60, 40, 40  # the window shown of a long source line


def visible(text: str) -> str:
    """`text` with a tab shown as one space and every other invisible character escaped.

    What `str.isprintable` rejects (controls such as U+0085, format characters such as
    U+200B and U+FEFF, line and paragraph separators) becomes `\\u0085`, so that a quoted
    source line stays one line on the terminal and the caret stays under its column.
    """
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def describe_char(ch: str) -> str:
    """A character quoted for a message: 'x', or U+200B (zero width space) when invisible."""
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else " (an invisible control character)")


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
