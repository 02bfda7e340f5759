"""The commands beyond `check`: gate, sweep, simulate, graph (part of the CLI layer).

Each module has `add_parser(subparsers)` and `run(args) -> exit code`. They compute and
render; the text is written by `checker.cli.write_output`. They never import `checker.cli` at
module level (cli imports this package), only inside functions.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from checker.commands import gate, graph, simulate, sweep

_MODULES = (gate, sweep, simulate, graph)

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {m.NAME: m.run for m in _MODULES}


def add_parsers(sub: Any) -> None:
    """Register every command's subparser on `sub` (argparse subparsers of the CLI)."""
    for m in _MODULES:
        m.add_parser(sub)


__all__ = ["COMMANDS", "add_parsers"]
