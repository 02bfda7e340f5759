"""Mutation fuzz of the valid specs (issue 11, item 3): no mutant gives an internal error
(exit 4) or hangs, and every spec error names FILE:LINE:COL.

Mutants come from the valid specs in models/, tests/specs/valid/ and tests/conformance/, by
token and byte edits: delete, duplicate, swap, and insert a keyword, an operator, a huge
number, deep nesting or an invisible character; deepen an expression where one starts; swap a
literal for one at or beyond 2**63-1. Each runs through the CLI in process with a
small state limit and time budget; a wall-clock alarm turns a hang into a test failure.
A few hundred mutants run in the fast suite, thousands under `-m slow`.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli import main
from checker.errors import CheckerError
from checker.model import load_spec
from checker.syntax.parser import KEYWORDS, MAX_NESTING


def _seeds() -> list[Path]:
    paths = sorted((ROOT / "models").rglob("*.storm")) + sorted((ROOT / "tests" / "specs" / "valid").glob("*.storm"))
    paths += sorted((ROOT / "tests" / "conformance").glob("*.storm"))
    good = []
    for p in paths:
        try:
            load_spec(p)
        except CheckerError:  # an invalid conformance case is not a seed
            continue
        good.append(p)
    return good


SEEDS = _seeds()
TEXTS = {p: p.read_text(encoding="utf-8") for p in SEEDS}
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|\*\*|==|!=|<=|>=|->|\+=|-=|\.\.|\s+|#[^\n]*|.", re.DOTALL)
INSERTS = sorted(KEYWORDS) + [
    "+", "-", "*", "/", "%", "**", "==", "!=", "<", ">=", "=", "+=", "->", "..", ":", ",", ";", "(", ")",
    "{", "}", "\n", " ", "0", "1", "-1", "9223372036854775807", "9223372036854775808", "2**63", "2**62",
    "9" * 5000, "100000000", "\u0085", "\u200b", "\ufeff", "\u2028", "\t", "\r", "\x00", "@", "é",
    "no_retry_storm", "(" * 300, ")" * 300, "not " * (MAX_NESTING + 5), "1 + " * (MAX_NESTING + 5),
    "2 ** " * (MAX_NESTING + 5), "if true then " * 50, " else 1" * 50, "x", "N", "count(", "min(",
    "check no_storm\n", "check recovers r: true within 9223372036854775807 ticks\n",
]
POSITION = re.compile(r"^[^\n]+\.storm:\d+:\d+: ")


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that main's last line of defence lets it through."""


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, str]:
    seed = draw(st.sampled_from(SEEDS))
    tokens = TOKEN.findall(TEXTS[seed])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "bytes", "nest", "number"]))
        if not tokens:
            tokens = [""]
        i = draw(st.integers(0, len(tokens) - 1))
        if op == "nest":  # deepen an expression where one starts: near, at and far beyond the limit
            spots = [k for k, t in enumerate(tokens) if t in (":", "when", "=", "limit", "count")]
            if spots:
                k = draw(st.sampled_from(spots))
                n = draw(st.sampled_from([MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, 500, 1000]))
                boolean = tokens[k] in (":", "when")
                tokens.insert(k + 1, " " + ("not " if boolean else "- ") * n)
        elif op == "number":  # a literal at, above or far above 2**63-1
            spots = [k for k, t in enumerate(tokens) if t.isdigit()]
            if spots:
                tokens[draw(st.sampled_from(spots))] = draw(st.sampled_from(
                    ["9223372036854775807", "9223372036854775808", "4611686018427387904", "9" * 5000, "0" * 30 + "7"]))
        elif op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(INSERTS)))
        else:  # a byte-level edit inside one token: drop or insert one character
            tok = tokens[i]
            k = draw(st.integers(0, len(tok)))
            if draw(st.booleans()) and tok:
                tokens[i] = tok[:k] + tok[k + 1 :]
            else:
                tokens[i] = tok[:k] + draw(st.characters(codec="utf-8", exclude_categories=["Cs"])) + tok[k:]
    return seed.name, "".join(tokens)


def run_mutant(tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    with alarm(30):
        code = main(["check", str(spec), "--max-states", "300", "--timeout", "2", "--quiet"])
    _, err = capsys.readouterr()
    assert code in (0, 1, 2, 3), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:  # the command line is fixed, so this is a spec error: its position, its line
        first = err.splitlines()[0] if err else ""
        assert POSITION.match(first), first
        assert all(ch.isprintable() for line in err.splitlines() for ch in line), err


FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def test_there_are_seeds() -> None:
    assert len(SEEDS) >= 40


@settings(FUZZ, max_examples=300)
@given(mutants())
def test_mutants_never_crash_or_hang(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutant: tuple[str, str]) -> None:
    run_mutant(tmp_path, *mutant, capsys)


@pytest.mark.slow
@settings(FUZZ, max_examples=4000, derandomize=False)
@given(mutants())
def test_many_mutants_never_crash_or_hang(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          mutant: tuple[str, str]) -> None:
    run_mutant(tmp_path, *mutant, capsys)
