"""What every command shares: the parser class, option helpers, `--set`, exit codes, output.

Exit codes (all commands): 0 every check holds, 1 some check violated, 2 bad spec or command
line, 3 some check unknown and none violated, 4 internal error (a bug in stormproof).
`exit_code` is the one mapping from verdicts to them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from checker.engines.base import MAX_STATES, TIMEOUT, CheckOptions, Progress, Verdict
from checker.errors import UsageError, did_you_mean
from checker.model import ir

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # the range of every integer in a spec (language.md section 8)

EPILOG = """\
exit codes: 0 every check holds, 1 some check is violated, 2 the spec or the command
line is wrong, 3 some check is unknown and none is violated, 4 internal error.
Language reference: spec/ in the source repository."""

_COMMAND: list[str] = []  # the subcommand being parsed, for error messages


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (with a 'did you mean') instead of exiting."""

    def error(self, message: str) -> NoReturn:
        hint = None
        if "unrecognized arguments:" in message:
            words = message.split("unrecognized arguments:", 1)[1].split()
            flags = _all_flags(self)
            for word in words:
                if word.startswith("-"):
                    flag = word.split("=")[0]
                    if flag in flags:  # an option of another command
                        hint = f"'{flag}' is not an option of 'stormproof {_COMMAND[0]}'" if _COMMAND else None
                    else:
                        hint = did_you_mean(flag, flags)
                    if hint:
                        break
        elif "invalid choice:" in message:
            choice = message.split("invalid choice:", 1)[1].split("'")[1]
            choices = [str(c) for a in self._actions if a.choices for c in a.choices]
            hint = did_you_mean(choice, choices)
        raise UsageError(message + (f"; {hint}" if hint else ""))


def set_command(name: str) -> None:
    """Remember which subcommand is being parsed (for 'not an option of' hints)."""
    _COMMAND[:] = [name]


def _all_flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of `parser` and of its subcommands."""
    flags: list[str] = []
    for a in parser._actions:
        flags += a.option_strings
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                flags += _all_flags(sub)
    return flags


def subparser(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    """A subcommand's parser in the house style (raw description, the exit-code epilog)."""
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=description, epilog=EPILOG, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return p


# ---- option types ------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    digits = text.replace("_", "").replace(",", "").strip().lstrip("+").lstrip("0")
    if digits.isascii() and digits.isdigit() and len(digits) > len(str(INT_MAX)):
        # before int(): Python refuses to convert more than 4,300 digits
        raise argparse.ArgumentTypeError(f"expected a number at most 2**63-1, got {_short(text)}")
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_short(text)!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {_short(str(n))}")
    if n > INT_MAX:
        raise argparse.ArgumentTypeError(f"expected a number at most 2**63-1, got {_short(text)}")
    return n


def _short(text: str) -> str:
    """A command-line value as quoted in a message: at most 40 characters."""
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text):,} characters)"


def timeout_seconds(text: str) -> float | None:
    """A positive number of seconds, or 0 for no time limit."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {_short(text)!r}") from None
    if x == 0:
        return None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds (or 0 for no limit), got {_short(text)}")
    return x


def parse_set(items: Sequence[str]) -> dict[str, ir.Value]:
    """Parse --set NAME=VALUE items (VALUE an integer in -2**63..2**63-1, true or false)."""
    out: dict[str, ir.Value] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set {item}: expected NAME=VALUE, for example --set N=12")
        name, value = (x.strip() for x in item.split("=", 1))
        if not name.isidentifier():
            raise UsageError(f"--set {item}: '{name}' is not a constant name")
        if value in ("true", "false"):
            out[name] = value == "true"
            continue
        digits = value.lstrip("+-").replace("_", "")
        if digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) > 20:
            raise UsageError(f"--set {_short(item)}: outside -2**63..2**63-1, the range of spec integers")
        try:
            n = int(value) if digits.isascii() else None
        except ValueError:
            n = None
        if n is None:
            raise UsageError(f"--set {_short(item)}: '{_short(value)}' is not an integer, true or false")
        if not INT_MIN <= n <= INT_MAX:
            raise UsageError(f"--set {item}: {value} is outside -2**63..2**63-1, the range of spec integers")
        out[name] = n
    return out


# ---- shared options ----------------------------------------------------------------------------


def add_check_options(p: argparse.ArgumentParser, specs: bool = True) -> None:
    """The options shared by every command that checks a spec."""
    if specs:
        p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.storm)")
    p.add_argument("--engine", choices=["explicit", "symbolic", "both"], default="explicit",
                   help="explicit-state enumeration, Z3 (BMC, lassos, k-induction), or both compared")
    add_bound_options(p)
    p.add_argument("--only", action="append", default=[], metavar="CHECK",
                   help="decide only this check (repeatable); the explicit engine stops exploring once "
                        "the selected checks are decided")


def add_cone_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cone", action="store_true",
                   help="explore every variable (explicit engine): no cone-of-influence slicing of "
                        "variables that no guard or check reads")


def add_bound_options(p: argparse.ArgumentParser) -> None:
    """--ticks, --max-states, --timeout and --set: what bounds and shapes one exploration."""
    p.add_argument("--ticks", type=positive_int, default=None, metavar="B",
                   help="explore only runs of at most B ticks; the result is then 'holds up to B ticks' "
                        "at best (default: no tick bound, explore completely)")
    p.add_argument("--max-states", type=positive_int, default=MAX_STATES, metavar="M",
                   help=f"give up (unknown) beyond M states (default {MAX_STATES:,})")
    p.add_argument("--timeout", type=timeout_seconds, default=TIMEOUT, metavar="SECONDS",
                   help=f"give up (unknown) after this many seconds per spec and engine "
                        f"(default {TIMEOUT:g}; 0: no time limit)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a constant, e.g. --set N=12 (repeatable)")


def add_full_trace_option(p: argparse.ArgumentParser) -> None:
    """--full-trace: print every tick of a trace table (text and junit)."""
    p.add_argument("--full-trace", action="store_true",
                   help="print every tick of each trace; by default ticks that repeat the row above "
                        "exactly are folded into one line ('4-21: unchanged, no_space x2 each tick')")


def add_progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action="store_true",
                   help="write a progress line to stderr every few seconds (for CI logs); "
                        "on a terminal a live line is shown anyway")


def check_options(args: argparse.Namespace, progress: Progress | None = None) -> CheckOptions:
    """The CheckOptions that the parsed shared options ask for."""
    return CheckOptions(ticks=args.ticks, max_states=args.max_states, timeout=args.timeout,
                        only=tuple(args.only), progress=progress, stop_early=bool(args.only),
                        cone=not getattr(args, "no_cone", False))


def check_only(names: Iterable[str], only: Sequence[str]) -> None:
    """Raise UsageError (with a 'did you mean') for an --only name that names no check."""
    known = sorted(set(names))
    for name in only:
        if name not in known:
            hint = did_you_mean(name, known)
            raise UsageError(f"--only {name}: no check of that name" + (f"; {hint}" if hint else ""))


# ---- results ---------------------------------------------------------------------------------


def exit_code(verdicts: Iterable[Verdict], strict: bool = False, vacuous: bool = False) -> int:
    """The one mapping from verdicts to an exit code (language.md section 7).

    `vacuous`: some check holds only vacuously, which `strict` treats as incomplete.
    """
    seen = set(verdicts)
    if Verdict.VIOLATED in seen:
        return EXIT_VIOLATED
    if Verdict.UNKNOWN in seen or (strict and (Verdict.HOLDS_BOUNDED in seen or vacuous)):
        return EXIT_UNKNOWN
    return EXIT_OK


def write_output(text: str, path: str | None = None) -> None:
    """Write a report to stdout or to `path` (the commands' one way out)."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"-o {path}: cannot write: {e.strerror or e}") from None
