"""Hostile input: every case ends within the default limits with exit 2 or 3 (never 4), a
FILE:LINE:COL or command-line message, and no hang (issue 11, item 3).

Specs are written to tmp_path and run through the CLI: in process (`main`) where the run is
short, in a subprocess with a wall-clock timeout where a regression would hang.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.cli import main
from checker.syntax.parser import MAX_NESTING

HEAD = "protocol p\nvar x: 0..3 = 0\n"
POSITION = re.compile(r"^(?P<file>[^:\n]+\.storm):(?P<line>\d+):(?P<col>\d+): ")


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    spec = tmp_path / "hostile.storm"
    spec.write_text(text, encoding="utf-8")
    code = main(["check", str(spec), *args])
    out, err = capsys.readouterr()
    assert code != 4, err
    assert "Traceback" not in err and "internal error" not in err
    return code, out, err


def spec_error(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, int, str, list[str]]:
    """Run a spec that must be refused: exit 2, one FILE:LINE:COL line, the caret under COL."""
    code, _, err = check(tmp_path, text, capsys)
    assert code == 2, err
    lines = err.splitlines()
    m = POSITION.match(lines[0])
    assert m, lines[0]
    assert len(lines) == 3, lines  # the message, the source line, the caret: nothing cut
    line, col = int(m["line"]), int(m["col"])
    return line, col, lines[0], lines


def subprocess_check(tmp_path: Path, text: str, *args: str, wall: float = 60) -> tuple[int, str, str, float]:
    spec = tmp_path / "hostile.storm"
    spec.write_text(text, encoding="utf-8")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "checker", "check", str(spec), *args],
                          capture_output=True, text=True, timeout=wall, check=False)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


# ---- deep nesting: refused where the limit is crossed -------------------------------------


def _col_of_nth(text: str, line: int, word: str, n: int) -> int:
    """The column of the n-th (1-based) occurrence of `word` on `line` of `text`."""
    src = text.split("\n")[line - 1]
    pos = -1
    for _ in range(n):
        pos = src.index(word, pos + 1)
    return pos + 1


def test_500_nested_power_is_refused_at_the_crossing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "check invariant c: " + "2 ** " * 500 + "1 == 1\n"
    line, col, msg, _ = spec_error(tmp_path, text, capsys)
    assert "nested too deeply" in msg and str(MAX_NESTING) in msg
    # `==` is level 1 and `**` associates to the right: the n-th `**` is level n + 1
    assert (line, col) == (3, _col_of_nth(text, 3, "**", MAX_NESTING))


@pytest.mark.parametrize("parens", [True, False])
def test_500_nested_if_is_refused_at_the_crossing(parens: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opener, closer = ("(if true then ", " else false)") if parens else ("if true then ", " else false")
    text = HEAD + "check invariant c: " + opener * 500 + "true" + closer * 500 + "\n"
    line, col, msg, _ = spec_error(tmp_path, text, capsys)
    assert "nested too deeply" in msg
    assert (line, col) == (3, _col_of_nth(text, 3, "if", MAX_NESTING + 1))


def test_flat_500_term_sum_is_refused_with_a_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "check invariant c: " + " + ".join(["x"] * 500) + " >= 0\n"
    line, col, msg, _ = spec_error(tmp_path, text, capsys)
    assert "nested too deeply" in msg
    # `+` associates to the left: the root `>=` is level 1, the last `+` level 2, ...
    assert (line, col) == (3, _col_of_nth(text, 3, "+", 499 - (MAX_NESTING - 1)))


def test_1000_nested_not_is_refused_with_a_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "check invariant c: " + "not " * 1000 + "true\n"
    line, col, msg, _ = spec_error(tmp_path, text, capsys)
    assert "nested too deeply" in msg
    assert (line, col) == (3, _col_of_nth(text, 3, "not", MAX_NESTING + 1))


def test_parentheses_alone_do_not_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, HEAD + "check invariant c: " + "(" * 2000 + "x < 9" + ")" * 2000 + "\n", capsys)
    assert code == 0, err


@pytest.mark.parametrize("engine", ["explicit", "symbolic"])
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "html"])
def test_nesting_at_the_limit_runs_everywhere(engine: str, fmt: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    depth = MAX_NESTING  # levels of operators; the literals and names at the leaves do not count
    inv = "not " * (depth - 1) + "(x < 9)"
    within = "if x < 3 then " * (depth - 1) + "true" + " else false" * (depth - 1)
    tick = "if x < 2 then " * (depth - 1) + "x + 1" + " else 0" * (depth - 1)
    text = (HEAD + f"on tick {{ x = {tick} }}\n" + f"check invariant deep: {inv}\n"
            + f"check recovers r: {within} within 2 ticks\n" + "check invariant chain: "
            + " + ".join(["x"] * depth) + " >= 0\n")
    code, out, err = check(tmp_path, text, capsys, "--engine", engine, "--format", fmt, "--timeout", "60")
    assert code in (0, 1), err
    assert out


def test_500_nested_node_kinds_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "protocol p\n" + "".join(f"node k{i} count 1 {{ states s{i}\n" for i in range(500)) + "}" * 500
    line, col, msg, _ = spec_error(tmp_path, text + "\ncheck invariant c: true\n", capsys)
    assert (line, col) == (2 + MAX_NESTING, 6) and "nested more than" in msg
    # two levels: the elaborator's own message
    text = "protocol p\nnode a count 1 { states s\nnode b count 1 { states t }\n}\ncheck invariant c: true\n"
    _, _, msg, _ = spec_error(tmp_path, text, capsys)
    assert msg.endswith(":3:6: a node kind belongs at top level, not inside node kind 'a'")


# ---- huge numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["check invariant c: x < {n}\n", "const N = {n}\ncheck invariant c: x < N\n"])
def test_5000_digit_literal_is_a_spec_error_at_the_literal(where: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    n = "9" * 5000  # beyond Python's 4,300-digit int conversion limit
    text = HEAD + where.format(n=n)
    line, col, msg, lines = spec_error(tmp_path, text, capsys)
    assert "larger than the largest integer 2**63-1" in msg and "5,000 digits" in msg
    assert (line, col) == (3, text.split("\n")[2].index(n) + 1)
    assert len(lines[1]) < 200  # the long line is shown as a window around the literal


@pytest.mark.parametrize("literal", ["9223372036854775808", "0009223372036854775808", "18446744073709551616"])
def test_literal_above_int_max_is_refused(literal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, msg, _ = spec_error(tmp_path, HEAD + f"const N = {literal}\ncheck invariant c: x < N\n", capsys)
    assert ":3:11:" in msg and "larger than the largest integer" in msg


def test_int_max_literal_and_leading_zeros_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, HEAD + "const N = 0009223372036854775807\ncheck invariant c: x < N\n", capsys)
    assert code == 0, err


def test_const_arithmetic_above_int_max_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, msg, _ = spec_error(tmp_path, HEAD + "const N = 2**63\ncheck invariant c: x < N\n", capsys)
    assert "integer overflow" in msg


@pytest.mark.parametrize("value", ["10^29", "100000000000000000000000000000", "9223372036854775808",
                                   "-9223372036854775809", "9" * 5000])
def test_set_above_int_max_is_a_command_line_error(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, HEAD + "const N = 3\ncheck invariant c: x <= N\n", capsys, "--set", f"N={value}")
    assert code == 2
    assert err.startswith("stormproof: error: --set N=") and len(err.splitlines()) == 1


@pytest.mark.parametrize("option", ["--ticks", "--max-states", "--timeout"])
@pytest.mark.parametrize("value", ["9" * 5000, "9223372036854775808", "x" * 5000])
def test_huge_option_values_are_one_short_line(option: str, value: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, HEAD + "check invariant c: true\n", capsys, option, value)
    if option == "--timeout" and value == "9223372036854775808":
        assert code == 0, err  # a long, but finite, time budget
        return
    assert code == 2
    assert err.startswith(f"stormproof: error: argument {option}: ") and len(err.splitlines()) == 1
    assert len(err) < 200


def test_set_int_max_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, HEAD + "const N = 3\ncheck invariant c: x <= N\n", capsys,
                         "--set", "N=9223372036854775807")
    assert code == 0, err


@pytest.mark.parametrize("text", [
    "protocol p\nconst N = 2**62\nvar x: 0..N = 0\naction up when x < N { x = x + 1 }\ncheck invariant c: x >= 0\n",
    "protocol p\nnode k count 100000000 {\n  states a, b\n  rule go: a -> b\n}\ncheck invariant c: true\n",
])
def test_huge_spaces_end_unknown_within_the_budget(text: str, tmp_path: Path) -> None:
    code, out, err, _ = subprocess_check(tmp_path, text, "--timeout", "3")
    assert code == 3, err
    assert "unknown" in out and "timeout after 3 s" in out
    code, out, err, _ = subprocess_check(tmp_path, text, "--max-states", "2000")
    assert code == 3, err
    assert "state limit of 2,000 states" in out


# ---- many checks: cost linear in their number -------------------------------------------------


def _checks_spec(n: int) -> str:
    return HEAD + "action up when x < 3 { x += 1 }\n" + "".join(f"check invariant c{i}: x < 4\n" for i in range(n))


def test_cost_is_linear_in_the_number_of_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    times = []
    for n in (1000, 4000):
        start = time.perf_counter()
        code, _, err = check(tmp_path, _checks_spec(n), capsys, "--quiet")
        times.append(time.perf_counter() - start)
        assert code == 0, err
    # four times the checks: about four times the cost (quadratic would be sixteen)
    assert times[1] / times[0] < 9, times


@pytest.mark.slow
def test_150000_checks_end_within_the_default_limits(tmp_path: Path) -> None:
    code, _, err, seconds = subprocess_check(tmp_path, _checks_spec(150_000), "--quiet", wall=600)
    assert code == 0, err
    assert seconds < 300


# ---- within with a huge T -------------------------------------------------------------------

ONE_STATE = "protocol p\nvar x: 0..1 = 0\n"
INT_MAX = 2**63 - 1


@pytest.mark.parametrize("args", [[], ["--ticks", "3"]])
def test_within_int_max_on_a_one_state_model_returns_at_once(args: list[str], tmp_path: Path) -> None:
    code, out, err, seconds = subprocess_check(
        tmp_path, ONE_STATE + f"check recovers never: x == 1 within {INT_MAX} ticks\n", *args, wall=120)
    assert code == 1, err  # the one state loops fault-free with x == 0 forever
    assert "too long to build" in out
    assert seconds < 60
    code, out, err, seconds = subprocess_check(
        tmp_path, ONE_STATE + f"check recovers always: x == 0 within {INT_MAX} ticks\n", *args, wall=120)
    assert code == 0, err
    assert seconds < 60


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "html"])
def test_a_within_violation_without_trace_renders_in_every_format(fmt: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(tmp_path, ONE_STATE + f"check recovers never: x == 1 within {INT_MAX} ticks\n",
                           capsys, "--format", fmt)
    assert code == 1, err
    assert "never" in out


def test_within_int_max_under_a_hit_bound_is_not_searched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("protocol p\nvar x: 0..100 = 0\non tick { x = min(x + 1, 100) }\n"
            f"check recovers r: x == 200 - 100 + 1 within {INT_MAX} ticks\n")
    code, out, err = check(tmp_path, text, capsys, "--ticks", "3")
    assert code == 0 and "holds up to 3 ticks" in out, err


def test_within_int_max_honours_timeout_on_the_symbolic_engine(tmp_path: Path) -> None:
    code, _, err, seconds = subprocess_check(
        tmp_path, ONE_STATE + f"check recovers never: x == 1 within {INT_MAX} ticks\n",
        "--engine", "symbolic", "--timeout", "3", wall=120)
    assert code in (1, 3), err
    assert seconds < 60


CYCLE = "protocol p\nvar x: 0..2999 = 0\non tick {{ x = (x + 1) % 3000 }}\ncheck recovers r: x == 5000 within {T} ticks\n"


def test_within_with_a_large_table_is_decided_or_unknown_at_once(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # 3,000 tick states in one fault-free cycle, E never true
    start = time.perf_counter()
    code, out, err = check(tmp_path, CYCLE.format(T=5000), capsys)  # T >= 3,000: the loop decides it
    assert code == 1 and "too long to build" in out, err
    code, out, err = check(tmp_path, CYCLE.format(T=2000), capsys)  # 6,000,000 cells: refused
    assert code == 3 and "more than 4,000,000 cells" in out, err
    assert time.perf_counter() - start < 60


def test_long_within_is_still_decided_with_its_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # below the trace limit the run is built and replayed as before
    code, out, err = check(tmp_path, ONE_STATE + "check recovers never: x == 1 within 500 ticks\n", capsys)
    assert code == 1 and "too long" not in out, err


# ---- invisible and line-breaking characters, empty files ---------------------------------------


@pytest.mark.parametrize(("char", "name"), [("\u0085", "U+0085"), ("\u200b", "U+200B (zero width space)"),
                                            ("\ufeff", "U+FEFF"), ("\u2028", "U+2028 (line separator)"),
                                            ("\x0c", "U+000C")])
def test_invisible_character_is_escaped_and_the_line_is_not_cut(char: str, name: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if char == "\x0c":  # a form feed is whitespace in the language: put it where no space may be
        text = HEAD + "check invariant c: x <\x0c= 3 and true\n"
    else:
        text = HEAD + f"check invariant c: x{char} < 3 and true\n"
    line, col, msg, lines = spec_error(tmp_path, text, capsys)
    if char != "\x0c":
        assert f"unexpected character {name}" in msg, msg
        assert (line, col) == (3, 21)
        escaped = f"\\u{ord(char):04x}"
        assert lines[1] == f"    check invariant c: x{escaped} < 3 and true"
        assert lines[2] == "    " + " " * 20 + "^" * len(escaped)
    assert all(ch.isprintable() for ln in lines for ch in ln), lines


def test_leading_byte_order_mark_is_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, "\ufeff" + HEAD + "check invariant c: x < 4\n", capsys)
    assert code == 0, err


def test_line_numbers_count_newlines_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a U+2028 in a comment is not a line break: the error is on line 3, shown whole
    text = "protocol p # one\u2028two\nvar x: 0..3 = 0\ncheck invariant c: x @ 3\n"
    line, col, _, lines = spec_error(tmp_path, text, capsys)
    assert (line, col) == (3, 22)
    assert lines[1] == "    check invariant c: x @ 3"


@pytest.mark.parametrize("text", ["", "\n", "   \n\n\t\n"])
def test_empty_file_gets_a_message_and_a_caret(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, text, capsys)
    assert code == 2
    lines = err.splitlines()
    assert lines[0].endswith(":1:1: the file is empty: a spec starts with 'protocol NAME'")
    assert lines[2] == "    ^"


def test_error_at_end_of_file_shows_a_caret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(tmp_path, "protocol p\nvar x: 0..3 =\n\n", capsys)
    assert code == 2
    lines = err.splitlines()
    assert ":2:14: unexpected end of file" in lines[0]  # just after the last token, not at 1:1
    assert lines[1:] == ["    var x: 0..3 =", "    " + " " * 13 + "^"]
