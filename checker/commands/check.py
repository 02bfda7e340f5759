"""`stormproof check SPEC...`: decide every check of every spec and report the results.

By default the exploration is complete (no tick bound), and bounded in what it spends:
`--max-states` (2,000,000) and `--timeout` (300 s per spec and engine). Reaching a limit
gives "unknown" with the reason. `--ticks B` bounds the runs explored; the summary then says
that the result is bounded, how many tick states lay beyond the bound, and how to make it
complete.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from checker.commands.options import (
    add_check_options,
    add_cone_option,
    add_full_trace_option,
    add_progress_option,
    check_only,
    check_options,
    exit_code,
    parse_set,
    subparser,
    write_output,
)
from checker.engines.base import RunResult, Stats
from checker.engines.run import run_checks
from checker.errors import SpecError
from checker.model import ir, load_spec
from checker.report import REPORTERS
from checker.report.sarif import render_sarif_error

NAME = "check"
LOG_INTERVAL = 5.0  # seconds between two --progress lines


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "check every spec and print the results",
        "Check specs: decide every check, print a summary and a trace per violation.\n"
        "Exploration is complete by default; --ticks B bounds it (then 'holds up to B ticks'\n"
        "is the best answer). Every run is limited by --max-states and --timeout (default\n"
        "300 s per spec and engine): a limit reached gives 'unknown' with the reason.",
    )
    add_check_options(p)
    add_cone_option(p)
    p.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--strict", action="store_true",
                   help="count 'holds up to B ticks' as unknown (exit 3): ask for complete results")
    p.add_argument("--quiet", action="store_true",
                   help="no progress line and no witness traces; violations are always printed")
    add_full_trace_option(p)
    add_progress_option(p)


class ProgressLine:
    """What the engine is doing, on stderr: never silent for long.

    On a terminal (`live`) a line redrawn in place after the first second; with `log` (the
    `--progress` option, for CI logs) one line every `interval` seconds. A background thread
    writes the lines, so a long solver call does not silence them; the engines only hand
    their latest Stats to `__call__`.
    """

    def __init__(self, live: bool, log: bool = False, stream: TextIO | None = None,
                 interval: float | None = None) -> None:
        self.live, self.log = live, log
        self.stream = stream if stream is not None else sys.stderr
        self.interval = LOG_INTERVAL if interval is None else interval
        self.start = time.perf_counter()
        self.latest: Stats | None = None
        self.spec = ""
        self.shown = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, stats: Stats) -> None:
        self.latest = stats

    def text(self, stats: Stats) -> str:
        elapsed = time.perf_counter() - self.start
        parts = [f"{stats.engine} engine"]
        if stats.activity:
            parts.append(stats.activity)
        parts.append(f"depth {stats.max_depth}")
        parts.append(f"{stats.states:,} states")
        if stats.tick_states:
            parts.append(f"{stats.tick_states:,} tick states")
        if stats.solver_seconds:
            parts.append(f"solver {stats.solver_seconds:.1f} s")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        parts.append(f"{elapsed:.0f} s, {rss:,.0f} MB")
        return (f"{self.spec}: " if self.spec else "") + ", ".join(parts)

    def tick(self) -> None:
        """Write the line for the latest stats (the thread calls this; so can a test)."""
        stats = self.latest
        if stats is None or not (self.live or self.log):
            return
        if self.live and not self.log and time.perf_counter() - self.start < 1.0:
            return  # a live line only for runs that take a while
        with self._lock:
            if self.log:
                self.stream.write("stormproof: " + self.text(stats) + "\n")
            else:
                self.stream.write("\r  " + self.text(stats)[:110].ljust(110))
                self.shown = True
            self.stream.flush()

    def begin(self, spec: str, engine: str) -> None:
        self.spec = spec
        self.latest = Stats(engine="explicit" if engine == "both" else engine)
        if (self.live or self.log) and self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="stormproof-progress")
            self._thread.start()

    def _run(self) -> None:
        wait = self.interval if self.log else 0.5
        while not self._stop.wait(wait):
            self.tick()

    def clear(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            self.stream.write("\r" + " " * 114 + "\r")
            self.stream.flush()


def load_models(paths: Sequence[str], overrides: dict[str, ir.Value]) -> list[ir.Model]:
    return [load_spec(path, overrides) for path in paths]


def run(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    try:
        models = load_models(args.specs, overrides)
    except SpecError as e:
        if args.format == "sarif":  # code review shows the error at its line; stderr has it too
            write_output(render_sarif_error(e, e.span.file if e.span else args.specs[0]), args.output)
        raise
    check_only((c.name for m in models for c in m.checks), args.only)
    progress = ProgressLine(sys.stderr.isatty() and not args.quiet, args.progress)
    opts = check_options(args, progress)
    runs: list[RunResult] = []
    try:
        for m in models:
            progress.begin(m.file, args.engine)
            runs.append(run_checks(m, args.engine, opts, overrides))
    finally:
        progress.clear()
    write_output(REPORTERS[args.format](runs, args.quiet, full_trace=args.full_trace), args.output)
    vacuous = any(r.vacuous is not None for run in runs for r in run.results)
    return exit_code((r.verdict for run in runs for r in run.results), args.strict, vacuous)
