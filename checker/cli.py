"""The command line: `main` and the parser; the only place that exits.

The commands (and what they share: option helpers, `--set`, exit codes) live in
`checker.commands`; this module builds the parser from them, runs one, and turns every
error into its exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from checker import __version__
from checker.commands import COMMANDS, add_parsers
from checker.commands.options import EPILOG, EXIT_INTERNAL, EXIT_USAGE, Parser, set_command
from checker.errors import CheckerError, InternalError, SpecError, UsageError, did_you_mean

DESCRIPTION = """\
stormproof: a model checker for retry and re-mirroring protocols.

Write a protocol as a .storm spec (node states, shared resources, retry rules, faults,
the clock) and ask: can the retries run away into a storm that outlives the fault?"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="stormproof", description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"stormproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    add_parsers(sub)
    return parser


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
        set_command(argv[0])
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
