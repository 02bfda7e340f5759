"""`stormproof sweep SPEC --set NAME=LO..HI ...`: check every point of a grid of constants.

Answers the capacity question: from which value of a parameter (spare slots, backoff) does a
check hold, for every larger value in the range? Points are tasks run by an executor
(`checker.commands.executor`): in this process, in `--jobs` local processes, or on a Dask
cluster with `--cluster` (`checker.commands.cluster`). Outcomes are merged by grid point and
reported in grid order, so the output depends neither on J, nor on the workers, nor on the
order in which points finish. `--results FILE.jsonl` keeps every finished point, so a sweep
that was stopped resumes where it was (`checker.commands.sweep_results`). A point that cannot
be checked (the spec does not load there, or an internal error) is an `error` cell.

The threshold is taken along the last swept parameter, for each combination of the values of
the others (with two parameters: for each value of the first, the smallest value of the
second from which the check holds for every larger value). `holds up to B ticks` counts as
holding there, as it does for `check`'s exit code; the table shows it as `bounded`.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from checker.commands.cluster import cluster_address
from checker.commands.executor import INTERNAL_ERROR, SPEC_ERROR, Cell, Outcome, Task, make_executor, spec_hash
from checker.commands.options import (
    EXIT_INTERNAL,
    EXIT_USAGE,
    add_check_options,
    check_only,
    exit_code,
    parse_set,
    subparser,
    write_output,
)
from checker.commands.sweep_progress import SweepProgress
from checker.commands.sweep_results import ResultsFile
from checker.engines.base import Verdict
from checker.errors import UsageError, did_you_mean
from checker.model import ir, load_spec

NAME = "sweep"
RANGE = re.compile(r"^\s*(\S*?)\s*\.\.\s*(\S*)\s*$")
HELD = ("holds", "holds_bounded")
CELL = {"holds": "holds", "holds_bounded": "bounded", "violated": "VIOLATED", "unknown": "unknown",
        "error": "error"}


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "check a spec at every point of a grid of constants",
        "Check SPEC at every point of a grid of constants and tabulate the verdicts; for each check,\n"
        "say from which value of the last swept parameter on it holds (for each value of the others).\n"
        "Example: stormproof sweep models/ebs_2011.storm --set N=2..6 --set SPARE=0..6 --jobs 4\n"
        "On a Dask cluster, resumable: ... --cluster tcp://SCHEDULER:8786 --results sweep.jsonl --progress",
    )
    p.add_argument("spec", metavar="SPEC", help="the spec file (.storm)")
    add_check_options(p, specs=False)
    p._option_string_actions["--set"].help = (
        "sweep a constant over LO..HI (inclusive), or fix it with NAME=VALUE (repeatable)")
    p._option_string_actions["--set"].metavar = "NAME=LO..HI"
    p.add_argument("--jobs", type=_jobs, default=None, metavar="J",
                   help="check J grid points at a time in separate processes (0: one per CPU; default 1)")
    p.add_argument("--cluster", type=cluster_address, default=None, metavar="ADDRESS",
                   help="check the grid points as tasks on a Dask cluster: a scheduler tcp://HOST:PORT, or "
                        "local[:N] to start N worker processes here (needs: pip install 'stormproof[cluster]')")
    p.add_argument("--results", metavar="FILE.jsonl", default=None,
                   help="append each finished point to FILE as it finishes, and skip the points FILE "
                        "already holds for this spec and these options (resume a sweep that was stopped)")
    p.add_argument("--progress", action="store_true",
                   help="log progress as plain lines on stderr (for CI logs); on a terminal it is shown anyway")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 0, got {n}")
    return n or (os.cpu_count() or 1)


# ---- the grid ---------------------------------------------------------------------------------


def _int(item: str, text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"--set {item}: '{text}' is not an integer") from None


def parse_grid(items: Sequence[str]) -> tuple[list[tuple[str, list[int]]], list[str]]:
    """Split --set items into swept ranges (name, values) and fixed NAME=VALUE items."""
    ranges: list[tuple[str, list[int]]] = []
    fixed: list[str] = []
    seen: set[str] = set()
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set {item}: expected NAME=LO..HI or NAME=VALUE, for example --set SPARE=0..6")
        name, value = (x.strip() for x in item.split("=", 1))
        if not name.isidentifier():
            raise UsageError(f"--set {item}: '{name}' is not a constant name")
        if name in seen:
            raise UsageError(f"--set {item}: '{name}' is set twice")
        seen.add(name)
        m = RANGE.match(value)
        if m is None:
            if not value:
                raise UsageError(f"--set {item}: empty value; expected NAME=LO..HI or NAME=VALUE")
            fixed.append(item)
            continue
        lo_text, hi_text = m.groups()
        if not lo_text or not hi_text:
            raise UsageError(f"--set {item}: empty range bound; expected LO..HI, for example 0..6")
        lo, hi = _int(item, lo_text), _int(item, hi_text)
        if lo > hi:
            raise UsageError(f"--set {item}: empty range: {lo} > {hi} (write the smaller bound first)")
        ranges.append((name, list(range(lo, hi + 1))))
    if not ranges:
        raise UsageError("sweep needs at least one range, for example --set SPARE=0..6")
    return ranges, fixed


Point = tuple[int, ...]


# ---- thresholds --------------------------------------------------------------------------------


@dataclass
class Threshold:
    check: str
    others: dict[str, int]  # the values of the other swept parameters
    param: str
    start: int | None  # the smallest value from which it holds for every larger value
    monotone: bool
    statement: str


def _values_text(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values)


def threshold(check: str, others: dict[str, int], param: str, values: Sequence[int],
              statuses: Sequence[str]) -> Threshold:
    held = [s in HELD for s in statuses]
    where = "".join(f"{k} = {v}, " for k, v in others.items())
    head = f"{check}" + (f" at {where[:-2]}" if others else "")
    lo, hi = values[0], values[-1]
    start_i = len(values)
    while start_i > 0 and held[start_i - 1]:
        start_i -= 1
    early = [v for v, h in zip(values[:start_i], held[:start_i]) if h]
    if start_i == len(values):
        if early:
            fails = [v for v, h in zip(values, held) if not h]
            return Threshold(check, others, param, None, False,
                             f"{head}: not monotone in {param}: holds at {param} = {_values_text(early)} "
                             f"but not at {_values_text(fails)}, so from no value on in {lo}..{hi}")
        return Threshold(check, others, param, None, True, f"{head}: holds for no {param} in {lo}..{hi}")
    start = values[start_i]
    if early:
        return Threshold(check, others, param, start, False,
                         f"{head}: not monotone in {param}: holds for every {param} >= {start} up to {hi}, "
                         f"and also at {param} = {_values_text(early)}")
    if start_i == 0:
        return Threshold(check, others, param, start, True, f"{head}: holds for every {param} in {lo}..{hi}")
    return Threshold(check, others, param, start, True,
                     f"{head}: holds from {param} = {start} on (up to {hi}); fails below")


# ---- the command -----------------------------------------------------------------------------


@dataclass
class Sweep:
    spec: str
    params: list[tuple[str, list[int]]]
    fixed: dict[str, ir.Value]
    checks: list[str]
    points: list[Point]
    cells: dict[Point, dict[str, Cell]]
    thresholds: list[Threshold]


def run(args: argparse.Namespace) -> int:
    params, fixed_items = parse_grid(args.set)
    fixed = parse_set(fixed_items)
    if args.cluster is not None and args.jobs is not None:
        raise UsageError("--jobs and --cluster: choose one (on a cluster, its workers run the points)")
    base = load_spec(args.spec, fixed)
    consts = [name for name, _ in base.consts]
    for name, _values in params:
        if name not in consts:
            hint = did_you_mean(name, consts)
            raise UsageError(f"--set {name}=...: no constant '{name}' in {args.spec}" + (f"; {hint}" if hint else ""))
    check_only((c.name for c in base.checks), args.only)
    names = [p for p, _ in params]
    points: list[Point] = list(itertools.product(*(v for _, v in params)))
    tasks = _tasks(args, _spec_text(args.spec), fixed, names, points)
    outcomes = _run_tasks(args, points, tasks)
    checks = [c.name for c in base.checks if not args.only or c.name in args.only]
    cells = {p: _cells(outcomes[p], checks) for p in points}
    sweep = Sweep(args.spec, params, fixed, checks, points, cells, _thresholds(params, checks, cells))
    render = {"text": render_text, "json": render_json, "csv": render_csv}[args.format]
    write_output(render(sweep), args.output)
    failed = [(p, outcomes[p]) for p in points if outcomes[p].error is not None]
    for p, o in failed[:5]:
        where = "with " + ", ".join(f"{n}={v}" for n, v in zip(names, p))
        if o.kind == SPEC_ERROR:
            sys.stderr.write(f"{o.error}; {where}\n")
        else:
            sys.stderr.write(f"stormproof: internal error (a bug in stormproof, please report it) {where}: {o.error}\n")
    if len(failed) > 5:
        sys.stderr.write(f"... and {len(failed) - 5} more point(s) that could not be checked (see the report)\n")
    kinds = {o.kind for _, o in failed}
    if INTERNAL_ERROR in kinds:
        return EXIT_INTERNAL
    if SPEC_ERROR in kinds:
        return EXIT_USAGE
    return exit_code(Verdict(c.status) for cs in cells.values() for c in cs.values() if c.status != "error")


def _spec_text(path: str) -> str:
    """The spec's text, which travels with every task (it has loaded once already)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}") from None


def _tasks(args: argparse.Namespace, text: str, fixed: dict[str, ir.Value], names: list[str],
           points: list[Point]) -> list[Task]:
    digest = spec_hash(text)
    return [Task(text, args.spec, digest, tuple({**fixed, **dict(zip(names, p))}.items()), args.engine,
                 args.ticks, args.max_states, args.timeout, tuple(args.only)) for p in points]


def _run_tasks(args: argparse.Namespace, points: list[Point], tasks: list[Task]) -> dict[Point, Outcome]:
    """Reuse what the results file holds, run the rest, merge by point (never by arrival)."""
    store = ResultsFile(args.results) if args.results is not None else None
    outcomes: dict[Point, Outcome] = {}
    if store is not None:
        loaded = store.load()
        if loaded.unreadable:
            sys.stderr.write(f"sweep: --results {args.results}: {loaded.unreadable} unreadable line(s) ignored; "
                             "their points are checked again\n")
        for p, t in zip(points, tasks):
            if t.key in loaded.outcomes:
                outcomes[p] = loaded.outcomes[t.key]
    todo = [i for i, p in enumerate(points) if p not in outcomes]
    progress = SweepProgress(len(points), len(outcomes), sys.stderr, sys.stderr.isatty(), args.progress)
    try:
        # nothing left to check (all in the results file): no cluster to start
        with make_executor(args.jobs or 1, args.cluster if todo else None, len(todo)) as executor:
            progress.begin()  # the clock starts once the workers are up
            for j, outcome in executor.map([tasks[i] for i in todo]):
                i = todo[j]
                outcomes[points[i]] = outcome
                if store is not None:
                    store.append(tasks[i], outcome)
                progress.point_done(outcome.error is not None)
    finally:
        progress.finish()
        if store is not None:
            store.close()
    return outcomes


def _cells(outcome: Outcome, checks: list[str]) -> dict[str, Cell]:
    if outcome.error is not None:
        return {c: Cell("error", None, None, outcome.error) for c in checks}
    return dict(outcome.cells)


def _thresholds(params: list[tuple[str, list[int]]], checks: list[str],
                cells: dict[Point, dict[str, Cell]]) -> list[Threshold]:
    *outer, (last, values) = params
    out = []
    for check in checks:
        for head in itertools.product(*(v for _, v in outer)):
            statuses = [cells[(*head, v)][check].status for v in values]
            out.append(threshold(check, dict(zip((n for n, _ in outer), head)), last, values, statuses))
    return out


# ---- rendering ---------------------------------------------------------------------------------


def _cell_text(c: Cell) -> str:
    return CELL[c.status]


def render_text(s: Sweep) -> str:
    out: list[str] = []
    names = [n for n, _ in s.params]
    fixed = ", ".join(f"{k}={v}" for k, v in s.fixed.items())
    out.append(f"{s.spec}: {len(s.points)} grid point(s) over " + ", ".join(
        f"{n} = {v[0]}..{v[-1]}" for n, v in s.params) + (f" (fixed: {fixed})" if fixed else ""))
    out.append("")
    if len(s.params) == 1:
        rows = [[p[0]] + [_cell_text(s.cells[p][c]) for c in s.checks] for p in s.points]
        out.append(tabulate(rows, headers=[names[0]] + s.checks, tablefmt="simple", disable_numparse=True))
        out.append("")
    elif len(s.params) == 2:
        (a, avals), (b, bvals) = s.params
        for c in s.checks:
            out.append(f"{c}: rows {a}, columns {b}")
            grid = [[f"{a}={x}"] + [_cell_text(s.cells[(x, y)][c]) for y in bvals] for x in avals]
            out.append(tabulate(grid, headers=[""] + [f"{b}={y}" for y in bvals], tablefmt="simple",
                                disable_numparse=True))
            out.append("")
    else:
        rows = [list(p) + [_cell_text(s.cells[p][c]) for c in s.checks] for p in s.points]
        out.append(tabulate(rows, headers=names + s.checks, tablefmt="simple", disable_numparse=True))
        out.append("")
    if any(c.status == "holds_bounded" for cs in s.cells.values() for c in cs.values()):
        out.append("bounded: holds up to the tick bound only (nothing found within it, not a proof); "
                   "counted as holding below.")
    if any(c.status == "unknown" for cs in s.cells.values() for c in cs.values()):
        out.append("unknown: the engine gave up (state limit or timeout); counted as not holding below.")
    errors = [(p, cell.reason) for p in s.points for cell in list(s.cells[p].values())[:1] if cell.status == "error"]
    if errors:
        out.append("error: the point could not be checked; counted as not holding below:")
        for p, reason in errors:
            out.append("  " + ", ".join(f"{n}={v}" for n, v in zip(names, p)) + f": {reason}")
    last = names[-1]
    out.append(f"From which {last} on does each check hold?")
    for t in s.thresholds:
        out.append(f"  {t.statement}")
    return "\n".join(out) + "\n"


def render_json(s: Sweep) -> str:
    names = [n for n, _ in s.params]
    doc = {
        "spec": s.spec,
        "parameters": [{"name": n, "values": v} for n, v in s.params],
        "fixed": dict(s.fixed),
        "checks": s.checks,
        "points": [
            {
                "values": dict(zip(names, p)),
                "checks": {c: {"status": s.cells[p][c].status, "ticks": s.cells[p][c].ticks,
                               "bound": s.cells[p][c].bound, "reason": s.cells[p][c].reason} for c in s.checks},
            }
            for p in s.points
        ],
        "thresholds": [
            {"check": t.check, "others": t.others, "parameter": t.param, "holds_from": t.start,
             "monotone": t.monotone, "statement": t.statement}
            for t in s.thresholds
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_csv(s: Sweep) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([n for n, _ in s.params] + ["check", "status", "ticks", "bound"])
    for p in s.points:
        for c in s.checks:
            cell = s.cells[p][c]
            w.writerow(list(p) + [c, cell.status, "" if cell.ticks is None else cell.ticks,
                                  "" if cell.bound is None else cell.bound])
    return buf.getvalue()
