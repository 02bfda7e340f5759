"""`# expect:` headers, read by the pytest plugin's one parser, grouped per run of a spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from checker.pytest_plugin import Expect, header

ERROR = re.compile(r"^#\s*expect-error:\s*(\d+):(\d+)\s+(.*)$")


@dataclass
class Run:
    args: list[str]
    expect: dict[str, tuple[str, int | None | str]] = field(default_factory=dict)
    diagnosis: dict[str, str] = field(default_factory=dict)  # check -> expected cause


def runs(path: Path) -> list[Run]:
    """The runs a spec's header asks for (the plain run first, then one per `# run:` line)
    that have expectations; a malformed `# expect:` line fails the caller's test."""
    args, expects = header(path.read_text(encoding="utf-8"))
    out = [Run(a) for a in args]
    for e in expects:
        if isinstance(e, str):
            raise ValueError(f"{path}: {e}")  # noqa: TRY004 - a bad header line, not a bad type
        assert isinstance(e, Expect)
        out[e.run].expect[e.check] = (e.result, e.ticks)
        if e.diagnosis is not None:
            out[e.run].diagnosis[e.check] = e.diagnosis
    return [r for r in out if r.expect]


def expected_error(path: Path) -> tuple[int, int, str] | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        m = ERROR.match(line)
        if m:
            return int(m.group(1)), int(m.group(2)), m.group(3).strip()
    return None
