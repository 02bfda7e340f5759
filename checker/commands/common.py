"""What the commands share: a subparser in the CLI's style, and the CLI's helpers."""

from __future__ import annotations

import argparse
from typing import Any


def subparser(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    from checker.cli import EPILOG

    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=description, epilog=EPILOG, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return p


def write(text: str, path: str | None = None) -> None:
    """Write through the CLI, the one place that prints."""
    from checker.cli import write_output

    write_output(text, path)
