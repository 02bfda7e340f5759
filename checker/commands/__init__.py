"""The commands: check, gate, sweep, simulate, graph, prove (the command-line layer, under `cli.py`).

Each module has `NAME`, `add_parser(subparsers)` and `run(args) -> exit code`. They compute
and render; they write through `options.write_output`. Their shared option helpers, `--set`
parsing and exit codes live in `options`; the orchestration they share (`run_checks`) lives
below them in `checker.engines.run`. Nothing here imports `checker.cli`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from checker.commands import check, gate, graph, prove, simulate, sweep

_MODULES = (check, gate, sweep, simulate, graph, prove)

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {m.NAME: m.run for m in _MODULES}


def add_parsers(sub: Any) -> None:
    """Register every command's subparser on `sub` (argparse subparsers of the CLI)."""
    for m in _MODULES:
        m.add_parser(sub)


__all__ = ["COMMANDS", "add_parsers"]
