"""Run sweep tasks on a Dask distributed cluster (`sweep --cluster ADDRESS`).

The only module that imports Dask, and only when `--cluster` is used: `dask[distributed]` is
the optional extra `stormproof[cluster]`. ADDRESS is a scheduler (`tcp://host:8786`) or
`local[:N]`, a LocalCluster of N worker processes on this machine, listening on loopback only.
Each task is submitted with a key made from its content and with `retries`, so a task whose
run raised is retried on another worker; a task on a worker that dies is rescheduled by the
scheduler (up to `distributed.scheduler.allowed-failures` times). A task that still fails is
yielded as an internal-error outcome, never dropped.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

from checker import __version__
from checker.commands.executor import Outcome, Task, check_point, crashed
from checker.errors import UsageError

RETRIES = 2
INSTALL = "pip install 'stormproof[cluster]'"
_LOCAL = re.compile(r"^local(?::(\d+))?$")
_SCHEDULER = re.compile(r"^(tcp|tls)://\S+:\d+$")


def cluster_address(text: str) -> str:
    """Check the form of --cluster (argparse type); Dask is not imported here."""
    m = _LOCAL.match(text)
    if m is not None:
        if m.group(1) is not None and int(m.group(1)) < 1:
            raise argparse.ArgumentTypeError(f"local:{m.group(1)}: expected at least 1 worker")
        return text
    if _SCHEDULER.match(text):
        return text
    raise argparse.ArgumentTypeError(
        f"expected a scheduler address tcp://HOST:PORT, or local or local:N (N worker processes), got {text!r}")


def _worker_version() -> str:
    return __version__


class DaskExecutor:
    """Submit every task to a Dask cluster; yield outcomes as they complete."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> Self:
        try:
            import distributed
        except ImportError:
            raise UsageError(f"--cluster needs Dask, which is not installed; install it with: {INSTALL}") from None
        m = _LOCAL.match(self.address)
        try:
            if m is not None:
                workers = int(m.group(1)) if m.group(1) else (os.cpu_count() or 1)
                self.cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster, set_as_default=False)  # type: ignore[no-untyped-call]
            else:
                self.client = distributed.Client(self.address, set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as e:
            self.__exit__(None, None, None)
            raise UsageError(f"--cluster {self.address}: cannot reach a Dask scheduler: {e}") from None
        self._check_workers()
        return self

    def _check_workers(self) -> None:
        """Every worker must run this stormproof: the task function travels by name, not by code."""
        try:
            versions: dict[str, str] = self.client.run(_worker_version)
        except Exception as e:  # noqa: BLE001 - a worker that cannot import checker fails here
            self.__exit__(None, None, None)
            raise UsageError(f"--cluster {self.address}: the workers cannot run stormproof ({type(e).__name__}: "
                             f"{e}); install it on every worker with: {INSTALL}") from None
        for worker, version in sorted(versions.items()):
            if version != __version__:
                self.__exit__(None, None, None)
                raise UsageError(f"--cluster {self.address}: worker {worker} runs stormproof {version}, "
                                 f"this is {__version__}; install the same version on every worker")

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]:
        from distributed import as_completed

        index: dict[str, int] = {}
        futures = []
        for i, task in enumerate(tasks):
            key = f"stormproof-point-{task.key}"
            index[key] = i
            futures.append(self.client.submit(check_point, task, key=key, retries=RETRIES, pure=False))
        for future in as_completed(futures, loop=self.client.loop):  # type: ignore[no-untyped-call]
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - failed after its retries: reported, not lost
                outcome = crashed(e)
            i = index[future.key]
            future.release()
            yield i, outcome

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
