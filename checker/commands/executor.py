"""Sweep tasks, their outcomes, and the executors that run them (in this process or local ones).

One task is one grid point: the spec text itself (so a worker needs no shared file system),
its content hash, the constant overrides of the point, the engine and the check options. A
task's outcome is plain data: the cells of its checks, or the one-line error that stopped it.
An executor maps tasks and yields `(index, outcome)` as each finishes, in any order; the
sweep merges them by grid point, so its output never depends on the order of arrival. The
Dask executor lives in `checker.commands.cluster`, the only module that imports Dask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from checker import __version__
from checker.engines.base import CheckOptions
from checker.engines.run import run_checks
from checker.errors import CheckerError, SpecError, UsageError
from checker.model import ir, load_text

SPEC_ERROR, INTERNAL_ERROR = "spec", "internal"


@dataclass(frozen=True)
class Cell:
    status: str
    ticks: int | None
    bound: int | None
    reason: str | None


@dataclass(frozen=True)
class Task:
    """One grid point to check, self-contained: it carries the spec's text, not its path."""

    spec_text: str
    filename: str  # as given on the command line: it appears in error messages
    spec_sha256: str
    overrides: tuple[tuple[str, ir.Value], ...]  # fixed and swept constants, in --set order
    engine: str
    ticks: int
    max_states: int
    timeout: float | None
    only: tuple[str, ...]

    @property
    def key(self) -> str:
        """The task's identity: a hash of everything that decides its outcome."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()

    def identity(self) -> dict[str, object]:
        """What the results file matches a finished point by (the spec by its hash, not its text)."""
        return {
            "stormproof": __version__,
            "spec_sha256": self.spec_sha256,
            "filename": self.filename,
            # by name: a point is the same whatever order the --set options were given in
            "values": [[name, value] for name, value in sorted(self.overrides)],
            "engine": self.engine,
            "ticks": self.ticks,
            "max_states": self.max_states,
            "timeout": self.timeout,
            "only": list(self.only),
        }


def spec_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What checking one point gave: cells in check order, or an error (`kind` spec or internal)."""

    cells: tuple[tuple[str, Cell], ...] = ()
    error: str | None = None
    kind: str | None = None

    @classmethod
    def failed(cls, kind: str, message: str) -> Outcome:
        return cls((), message, kind)


def check_point(task: Task) -> Outcome:
    """Check one grid point (in whatever process or machine runs it): plain data back.

    A spec that does not load at this point, or a known internal error, is an outcome; any
    other exception propagates, so that a cluster scheduler can retry the task elsewhere.
    """
    try:
        model = load_text(task.spec_text, task.filename, dict(task.overrides))
        opts = CheckOptions(ticks=task.ticks, max_states=task.max_states, timeout=task.timeout, only=task.only)
        result = run_checks(model, task.engine, opts)
    except (SpecError, UsageError) as e:
        return Outcome.failed(SPEC_ERROR, str(e))
    except CheckerError as e:
        return Outcome.failed(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    cells = tuple((r.check.name, Cell(r.verdict.value, r.ticks, r.bound, r.reason)) for r in result.results)
    return Outcome(cells)


def crashed(e: BaseException) -> Outcome:
    """The outcome of a task whose run raised (after any retries): an internal error."""
    return Outcome.failed(INTERNAL_ERROR, f"{type(e).__name__}: {e}")


class Executor(Protocol):
    """Runs tasks; `map` yields (index into tasks, outcome) as each finishes, in any order."""

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class InProcess:
    """Check each task in turn in this process (`--jobs 1`)."""

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]:
        for i, task in enumerate(tasks):
            try:
                outcome = check_point(task)
            except Exception as e:  # noqa: BLE001 - reported in the point's cell, not lost
                outcome = crashed(e)
            yield i, outcome

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class LocalProcesses:
    """Check tasks in J local worker processes (`--jobs J`)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=max(1, min(self.jobs, len(tasks))))
        futures: dict[Future[Outcome], int] = {self.pool.submit(check_point, t): i for i, t in enumerate(tasks)}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - a worker that died or raised: reported, not lost
                outcome = crashed(e)
            yield futures[future], outcome

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=kind is None, cancel_futures=True)


def make_executor(jobs: int, cluster: str | None, tasks: int) -> Executor:
    """The executor for --jobs J or --cluster ADDRESS (the cluster module imports Dask only then)."""
    if cluster is not None:
        from checker.commands.cluster import DaskExecutor

        return DaskExecutor(cluster)
    if min(jobs, tasks) <= 1:
        return InProcess()
    return LocalProcesses(jobs)
