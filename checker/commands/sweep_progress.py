"""Progress of a sweep on stderr: points done of the total, failures, and the time left.

On a terminal, one line rewritten in place as points finish. With `--progress`, plain lines
for CI logs instead: after the first point, at every tenth of the grid, at least every 30
seconds while points keep finishing, and at the end. The time left is the time per point so
far in this run (points reused from a results file excluded) times the points left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

LINE_EVERY = 30.0  # seconds between plain lines, at most (when points finish)


def duration(seconds: float) -> str:
    """Say a duration the way a person reads it: 45s, 3m 05s, 2h 10m."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


class SweepProgress:
    """Count finished points and show them: `live` rewrites one terminal line, `lines` logs plain lines."""

    def __init__(self, total: int, reused: int, stream: TextIO, live: bool, lines: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.reused = total, reused
        self.stream = stream
        self.lines = lines
        self.live = live and not lines
        self.clock = clock
        self.start = clock()
        self.done = reused
        self.failed = 0
        self.last_line: float | None = None
        self.last_tenth = reused * 10 // total if total else 0
        self.shown = False

    def begin(self) -> None:
        """Say what is to be done, before the first point finishes (plain lines only)."""
        self.start = self.clock()
        if self.lines:
            reused = f", {self.reused} already in the results file" if self.reused else ""
            self._emit(f"sweep: {self.total} point(s){reused}, {self.total - self.reused} to check")

    def status(self) -> str:
        text = f"sweep: {self.done}/{self.total} points done"
        if self.reused:
            text += f" ({self.reused} from the results file)"
        text += f", {self.failed} failed"
        elapsed = self.clock() - self.start
        checked = self.done - self.reused
        if self.done == self.total:
            return text + f", in {duration(elapsed)}"
        if checked == 0:
            return text + ", time left unknown yet"
        return text + f", about {duration(elapsed / checked * (self.total - self.done))} left"

    def point_done(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.live:
            self.stream.write("\r" + self.status() + "   ")
            self.stream.flush()
            self.shown = True
        elif self.lines:
            now = self.clock()
            tenth = self.done * 10 // self.total
            first = self.done - self.reused == 1
            if (first or self.done == self.total or tenth > self.last_tenth
                    or self.last_line is None or now - self.last_line >= LINE_EVERY):
                self.last_tenth = tenth
                self._emit(self.status())

    def _emit(self, text: str) -> None:
        self.last_line = self.clock()
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the terminal line (the report follows on stdout)."""
        if self.shown:
            self.stream.write("\r" + " " * (len(self.status()) + 3) + "\r")
            self.stream.flush()
            self.shown = False
