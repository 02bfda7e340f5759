"""Parse `# expect:` headers: the expected result of each check, per run of a spec."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

EXPECT = re.compile(r"^#\s*expect:\s*(\S+)\s+(\S+)(?:\s+(\S+))?")
RUN = re.compile(r"^#\s*run:\s*(.*)$")
ERROR = re.compile(r"^#\s*expect-error:\s*(\d+):(\d+)\s+(.*)$")


@dataclass
class Run:
    args: list[str]
    expect: dict[str, tuple[str, int | None | str]] = field(default_factory=dict)


def runs(path: Path) -> list[Run]:
    """The runs a spec's header asks for: the plain run first, then one per `# run:` line."""
    out = [Run([])]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = RUN.match(line)
        if m:
            out.append(Run(shlex.split(m.group(1))))
            continue
        m = EXPECT.match(line)
        if m:
            ticks: int | None | str = "any"
            if m.group(3) is not None:
                ticks = None if m.group(3) == "null" else int(m.group(3))
            out[-1].expect[m.group(1)] = (m.group(2), ticks)
    return [r for r in out if r.expect]


def expected_error(path: Path) -> tuple[int, int, str] | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        m = ERROR.match(line)
        if m:
            return int(m.group(1)), int(m.group(2)), m.group(3).strip()
    return None
