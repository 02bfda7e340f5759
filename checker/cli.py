"""The command line: arguments, exit codes, and the only place that prints or exits.

Exit codes: 0 every check holds, 1 some check violated, 2 bad spec or command line,
3 some check unknown and none violated, 4 internal error (a bug in stormproof).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from checker import __version__
from checker.commands import COMMANDS as MORE_COMMANDS
from checker.commands import add_parsers
from checker.engines import CheckOptions, RunResult, Stats, Verdict, get_engine, replay
from checker.engines.diagnose import diagnose_run
from checker.errors import CheckerError, InternalError, SpecError, UsageError, did_you_mean
from checker.model import ir, load_spec
from checker.report import REPORTERS

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4

DESCRIPTION = """\
stormproof: a model checker for retry and re-mirroring protocols.

Write a protocol as a .storm spec (node states, shared resources, retry rules, faults,
the clock) and ask: can the retries run away into a storm that outlives the fault?"""

EPILOG = """\
exit codes: 0 every check holds, 1 some check is violated, 2 the spec or the command
line is wrong, 3 some check is unknown and none is violated, 4 internal error.
Language reference: spec/ in the source repository."""


_COMMAND: list[str] = []  # the subcommand being parsed, for error messages


class _Parser(argparse.ArgumentParser):
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


def _all_flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of `parser` and of its subcommands."""
    flags: list[str] = []
    for a in parser._actions:
        flags += a.option_strings
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                flags += _all_flags(sub)
    return flags


def _positive_int(text: str) -> int:
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return x


def parse_set(items: Sequence[str]) -> dict[str, ir.Value]:
    """Parse --set NAME=VALUE items (VALUE an integer, true or false)."""
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
        try:
            out[name] = int(value)
        except ValueError:
            raise UsageError(f"--set {item}: '{value}' is not an integer, true or false") from None
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stormproof", description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"stormproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser(
        "check", help="check every spec and print the results", allow_abbrev=False,
        description="Check specs: decide every check, print a summary and a trace per violation.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_check_options(check)
    check.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default text)")
    check.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--strict", action="store_true",
                       help="count 'holds up to B ticks' as unknown (exit 3): ask for complete results")
    check.add_argument("--quiet", action="store_true",
                       help="no progress line and no witness traces; violations are always printed")
    add_parsers(sub)
    return parser


def add_check_options(p: argparse.ArgumentParser, specs: bool = True) -> None:
    """The options shared by every command that checks a spec."""
    if specs:
        p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.storm)")
    p.add_argument("--engine", choices=["explicit", "symbolic", "both"], default="explicit",
                   help="explicit-state enumeration, Z3 (BMC, lassos, k-induction), or both compared")
    add_bound_options(p)
    p.add_argument("--only", action="append", default=[], metavar="CHECK",
                   help="decide only this check (repeatable)")


def add_bound_options(p: argparse.ArgumentParser) -> None:
    """--ticks, --max-states, --timeout and --set: what bounds and shapes one exploration."""
    p.add_argument("--ticks", type=_positive_int, default=100, metavar="B",
                   help="explore runs of at most B ticks (default 100)")
    p.add_argument("--max-states", type=_positive_int, default=2_000_000, metavar="M",
                   help="give up (unknown) beyond M states (default 2,000,000)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                   help="give up (unknown) after this many seconds per spec")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a constant, e.g. --set N=12 (repeatable)")


class _ProgressLine:
    """States, tick depth and speed on stderr, only on a terminal and after one second."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, stats: Stats) -> None:
        if not self.enabled or time.perf_counter() - self.start < 1.0:
            return
        rate = stats.states / stats.seconds if stats.seconds > 0 else 0.0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        self.stream.write(
            f"\r  {stats.states:,} states, {stats.tick_states:,} tick states, depth {stats.max_depth}, "
            f"{rate:,.0f} states/s, {rss:,.0f} MB   "
        )
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def load_models(paths: Sequence[str], overrides: dict[str, ir.Value]) -> list[ir.Model]:
    models = []
    for path in paths:
        models.append(load_spec(path, overrides))
    return models


def check_only(models: Sequence[ir.Model], only: Sequence[str]) -> None:
    names = {c.name for m in models for c in m.checks}
    for name in only:
        if name not in names:
            hint = did_you_mean(name, names)
            raise UsageError(f"--only {name}: no check of that name" + (f"; {hint}" if hint else ""))


def run_checks(model: ir.Model, engine: str, opts: CheckOptions) -> RunResult:
    """Run one engine (or both, compared) and replay every trace it returns."""
    only = tuple(n for n in opts.only if any(c.name == n for c in model.checks))
    if opts.only and not only:
        return RunResult(model, engine, [], Stats(complete=True))
    opts = CheckOptions(opts.ticks, opts.max_states, opts.timeout, only, opts.progress)
    if engine == "both":
        from checker.engines.compare import run_both

        a, _b, problems = run_both(model, opts)
        if problems:
            raise InternalError(
                "the explicit and symbolic engines disagree on " + model.file + ":\n  " + "\n  ".join(problems)
            )
        a.engine = "explicit+symbolic (agree)"
        diagnose_run(a, opts)
        return a
    run = get_engine(engine).run(model, opts)
    for r in run.results:
        replay(model, r)
    diagnose_run(run, opts)
    return run


def exit_code(runs: Sequence[RunResult], strict: bool) -> int:
    verdicts = [r.verdict for run in runs for r in run.results]
    if Verdict.VIOLATED in verdicts:
        return EXIT_VIOLATED
    if Verdict.UNKNOWN in verdicts or (strict and Verdict.HOLDS_BOUNDED in verdicts):
        return EXIT_UNKNOWN
    if strict and any(r.vacuous is not None for run in runs for r in run.results):
        return EXIT_UNKNOWN  # a vacuous result proves nothing about the spec
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    models = load_models(args.specs, overrides)
    check_only(models, args.only)
    progress = _ProgressLine(sys.stderr.isatty() and not args.quiet)
    opts = CheckOptions(args.ticks, args.max_states, args.timeout, tuple(args.only), progress)
    runs = []
    try:
        for m in models:
            runs.append(run_checks(m, args.engine, opts))
    finally:
        progress.clear()
    text = REPORTERS[args.format](runs, args.quiet)
    write_output(text, args.output)
    return exit_code(runs, args.strict)


def write_output(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"-o {path}: cannot write: {e.strerror or e}") from None


COMMANDS = {"check": cmd_check, **MORE_COMMANDS}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return EXIT_USAGE
        if argv[0] not in COMMANDS and not argv[0].startswith("-"):
            hint = did_you_mean(argv[0], COMMANDS)
            raise UsageError(f"unknown command '{argv[0]}'" + (f"; {hint}" if hint else "; try 'stormproof check SPEC'"))
        _COMMAND[:] = [argv[0]]
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except SpecError as e:
        print(e.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"stormproof: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except InternalError as e:
        print(f"stormproof: internal error (a bug in stormproof, please report it): {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("stormproof: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("stormproof: error: the spec nests expressions too deeply", file=sys.stderr)
        return EXIT_USAGE
    except (CheckerError, Exception) as e:  # noqa: BLE001 - the last line of defence
        print(f"stormproof: internal error (a bug in stormproof, please report it): {type(e).__name__}: {e}",
              file=sys.stderr)
        if os.environ.get("STORMPROOF_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
