"""`sweep` through executors: a Dask cluster, local processes, any completion order; resumable runs.

The cluster tests run a real Dask scheduler on loopback (127.0.0.1) that the test starts
itself; nothing else is contacted. Tests that start worker processes are marked slow.
"""

from __future__ import annotations

import ast
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
from helpers import ROOT, tiny

import checker.commands.sweep as sweep_module
from checker.cli import main
from checker.commands.executor import InProcess, Outcome, Task, check_point, spec_hash
from checker.commands.sweep_progress import SweepProgress, duration
from checker.errors import InternalError

FORMATS = ("text", "json", "csv")
GRID = ["--set", "N=0..2", "--set", "CAP=0..2"]  # 2-D, with violated and holding points
BAD_GRID = ["--set", "N=-1..1", "--set", "CAP=0..1"]  # N=-1 does not load


@pytest.fixture
def spec(tmp_path: Path) -> str:
    p = tmp_path / "tiny.storm"
    p.write_text(tiny())
    return str(p)


def sweep(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler with two in-process workers, on loopback only: its tcp:// address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster.scheduler_address


class Shuffled:
    """An executor that checks every task here but yields the outcomes in a random order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tasks: list[Task] = []

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]:
        self.tasks += tasks
        done = list(InProcess().map(tasks))
        self.rng.shuffle(done)
        yield from done

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


def use_executor(monkeypatch: pytest.MonkeyPatch, executor: Any) -> None:
    monkeypatch.setattr(sweep_module, "make_executor", lambda jobs, cluster, tasks: executor)


# ---- the same output whatever runs the points -------------------------------------------------


def test_a_cluster_gives_the_output_of_jobs_1_in_every_format(
        spec: str, scheduler: str, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in FORMATS:
        code1, one, _ = sweep([spec, *GRID, "--format", fmt, "--jobs", "1"], capsys)
        code2, cluster, err = sweep([spec, *GRID, "--format", fmt, "--cluster", scheduler], capsys)
        assert (code1, code2) == (1, 1) and err == ""
        assert cluster == one, fmt
        if fmt == "text":
            assert "no_storm at N = 2: holds from CAP = 2 on (up to 2); fails below" in one


def test_local_processes_and_any_completion_order_give_the_same_output(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {fmt: sweep([spec, *GRID, "--format", fmt], capsys)[1] for fmt in FORMATS}
    assert sweep([spec, *GRID, "--format", "csv", "--jobs", "2"], capsys)[1] == expected["csv"]
    for seed in range(2):
        executor = Shuffled(seed)
        use_executor(monkeypatch, executor)
        for fmt in FORMATS:
            assert sweep([spec, *GRID, "--format", fmt], capsys)[1] == expected[fmt], (seed, fmt)
        assert len(executor.tasks) == 9 * len(FORMATS)


def test_a_point_that_fails_to_load_is_an_error_cell_on_every_executor(
        spec: str, scheduler: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = sweep([spec, *BAD_GRID], capsys)
    assert code == 2
    lines = out.splitlines()
    assert lines[lines.index("no_storm: rows N, columns CAP") + 3].split() == ["N=-1", "error", "error"]
    assert "error: the point could not be checked; counted as not holding below:" in out
    assert f"  N=-1, CAP=0: {spec}:5:19: node kind 'client' has a negative count -1" in out
    assert "no_storm at N = -1: holds for no CAP in 0..1" in out
    assert err.splitlines() == [f"{spec}:5:19: node kind 'client' has a negative count -1; with N=-1, CAP={c}"
                                for c in (0, 1)]
    doc = json.loads(sweep([spec, *BAD_GRID, "--format", "json"], capsys)[1])
    assert doc["points"][0]["checks"]["nonneg"]["status"] == "error"
    for fmt in FORMATS:
        local = sweep([spec, *BAD_GRID, "--format", fmt], capsys)
        assert sweep([spec, *BAD_GRID, "--format", fmt, "--cluster", scheduler], capsys) == local


def test_an_internal_error_at_a_point_is_reported_and_exits_4(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checker.commands import executor as point_runner

    real = point_runner.run_checks

    def broken(model: Any, engine: str, opts: Any) -> Any:
        if dict(model.consts) == {"N": 1, "CAP": 2}:
            raise InternalError("a trace does not replay")
        return real(model, engine, opts)

    monkeypatch.setattr(point_runner, "run_checks", broken)
    results = tmp_path / "r.jsonl"
    code, out, err = sweep([spec, *GRID, "--results", str(results)], capsys)
    assert code == 4
    assert "  N=1, CAP=2: InternalError: a trace does not replay" in out
    assert err == ("stormproof: internal error (a bug in stormproof, please report it) with N=1, CAP=2: "
                   "InternalError: a trace does not replay\n")
    assert len(results.read_text().splitlines()) == 8  # not stored: a rerun checks that point again
    monkeypatch.setattr(point_runner, "run_checks", real)
    executor = Shuffled(0)
    use_executor(monkeypatch, executor)
    code, _, _ = sweep([spec, *GRID, "--results", str(results)], capsys)
    assert code == 1 and [dict(t.overrides) for t in executor.tasks] == [{"N": 1, "CAP": 2}]


def test_an_exception_in_a_task_becomes_an_internal_error_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    import checker.commands.executor as ex

    def boom(task: Task) -> Outcome:
        raise MemoryError("out of memory")

    monkeypatch.setattr(ex, "check_point", boom)
    text = tiny()
    task = Task(text, "t.storm", spec_hash(text), (("N", 1),), "explicit", 10, 1000, None, ())
    assert list(InProcess().map([task])) == [(0, Outcome((), "MemoryError: out of memory", "internal"))]


def test_a_task_carries_the_spec_text_not_its_path(tmp_path: Path) -> None:
    text = tiny()
    task = Task(text, str(tmp_path / "gone.storm"), spec_hash(text), (("N", 1), ("CAP", 1)), "explicit", 100,
                10_000, None, ("no_storm",))
    assert check_point(task).cells[0][1].status == "holds"
    other = Task(text, task.filename, task.spec_sha256, task.overrides, "explicit", 99, 10_000, None, ("no_storm",))
    assert other.key != task.key


# ---- the extra, the address, and where Dask may be imported -------------------------------------


def test_without_the_extra_cluster_says_how_to_install_it(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    code, out, err = sweep([spec, *GRID, "--cluster", "local:2"], capsys)
    assert code == 2 and out == ""
    assert err == ("stormproof: error: --cluster needs Dask, which is not installed; "
                   "install it with: pip install 'stormproof[cluster]'\n")


@pytest.mark.parametrize("address", ["localhost", "local:0", "local:x", "http://127.0.0.1:8786", "tcp://127.0.0.1"])
def test_a_bad_cluster_address_is_one_line(spec: str, capsys: pytest.CaptureFixture[str], address: str) -> None:
    code, out, err = sweep([spec, *GRID, "--cluster", address], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "--cluster" in err


def test_jobs_and_cluster_do_not_go_together(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, *GRID, "--cluster", "local:2", "--jobs", "2"], capsys)
    assert code == 2 and "--jobs and --cluster: choose one" in err


def test_no_scheduler_at_the_address_is_one_line(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    dask = pytest.importorskip("dask")
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, out, err = sweep([spec, *GRID, "--cluster", f"tcp://127.0.0.1:{port}"], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"stormproof: error: --cluster tcp://127.0.0.1:{port}: cannot reach a Dask scheduler")
    assert len(err.splitlines()) == 1


def test_dask_is_imported_only_inside_the_cluster_executor() -> None:
    """No module-level import of Dask anywhere, so `sweep` without --cluster never loads it."""
    for path in sorted((ROOT / "checker").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        inside = {id(m) for f in functions for m in ast.walk(f)}
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("dask", "distributed") for n in names):
                assert path.name == "cluster.py" and id(node) in inside, (path, node.lineno)


# ---- resuming ------------------------------------------------------------------------------------


def test_a_rerun_skips_the_points_in_the_results_file(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    fresh = sweep([spec, *GRID, "--format", "json"], capsys)
    assert sweep([spec, *GRID, "--format", "json", "--results", str(results)], capsys) == fresh
    lines = results.read_text().splitlines()
    assert len(lines) == 9 and all(json.loads(line)["task"]["engine"] == "explicit" for line in lines)
    executor = Shuffled(1)
    use_executor(monkeypatch, executor)
    assert sweep([spec, *GRID, "--format", "json", "--results", str(results)], capsys) == fresh
    assert executor.tasks == []  # everything came from the file
    # other options are another sweep: nothing reused, its points appended beside
    sweep([spec, *GRID, "--format", "json", "--results", str(results), "--ticks", "50"], capsys)
    assert len(executor.tasks) == 9 and len(results.read_text().splitlines()) == 18
    # so is another spec text (same path)
    Path(spec).write_text(tiny(cap=2))
    sweep([spec, *GRID, "--results", str(results)], capsys)
    assert len(executor.tasks) == 18


def test_a_point_is_reused_whatever_the_order_of_the_set_options(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    sweep([spec, *GRID, "--results", str(results)], capsys)
    executor = Shuffled(2)
    use_executor(monkeypatch, executor)
    swapped = [*GRID[2:], *GRID[:2]]  # --set CAP=... before --set N=...
    code, out, _ = sweep([spec, *swapped, "--results", str(results)], capsys)
    assert executor.tasks == []  # all nine points came from the file
    assert (code, out) == sweep([spec, *swapped], capsys)[:2]
    assert len(results.read_text().splitlines()) == 9


def test_a_truncated_or_corrupt_line_is_redone(
        spec: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    fresh = {fmt: sweep([spec, *GRID, "--format", fmt], capsys)[1] for fmt in FORMATS}
    sweep([spec, *GRID, "--results", str(results)], capsys)
    lines = results.read_text().splitlines(keepends=True)
    # as if killed while writing the 5th line, with a garbled 2nd line
    results.write_text(lines[0] + "{not json\n" + "".join(lines[2:4]) + lines[4][:25])
    executor = Shuffled(2)
    use_executor(monkeypatch, executor)
    code, out, err = sweep([spec, *GRID, "--format", "text", "--results", str(results)], capsys)
    assert out == fresh["text"] and code == 1
    assert err == f"sweep: --results {results}: 2 unreadable line(s) ignored; their points are checked again\n"
    assert len(executor.tasks) == 6  # the garbled, the truncated and the 4 never written
    kept = results.read_text().splitlines()
    assert kept[1] == "{not json" and len(kept) == 10
    assert all(json.loads(line) for i, line in enumerate(kept) if i != 1)  # appended after a cut, not onto it
    for fmt in FORMATS:
        assert sweep([spec, *GRID, "--format", fmt, "--results", str(results)], capsys)[1] == fresh[fmt]
    assert len(executor.tasks) == 6


def test_a_sweep_killed_midway_resumes_to_the_same_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(ROOT / "models" / "token_bucket.storm")  # points of a few tenths of a second
    grid = [spec, "--set", "N=5..6", "--set", "MAX_TOKENS=1..3", "--ticks", "30"]
    results = tmp_path / "r.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "checker", "sweep", *grid, "--results", str(results)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 2:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    done = results.read_bytes().count(b"\n")
    assert 2 <= done < 6
    resumed = sweep([*grid, "--results", str(results), "--progress"], capsys)
    assert f"sweep: 6 point(s), {done} already in the results file, {6 - done} to check" in resumed[2]
    fresh = sweep(grid, capsys)
    assert resumed[:2] == fresh[:2]
    assert len(results.read_text().splitlines()) == 6


# ---- progress ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_count_points_failures_and_time_left() -> None:
    import io

    clock, out = Clock(), io.StringIO()
    p = SweepProgress(20, 4, out, live=False, lines=True, clock=clock)
    p.begin()
    for i in range(16):
        clock.now += 2.0
        p.point_done(failed=i == 3)
    lines = out.getvalue().splitlines()
    assert lines[0] == "sweep: 20 point(s), 4 already in the results file, 16 to check"
    assert lines[1] == "sweep: 5/20 points done (4 from the results file), 0 failed, about 30s left"
    assert "sweep: 6/20 points done (4 from the results file), 0 failed, about 28s left" in lines
    assert "sweep: 8/20 points done (4 from the results file), 1 failed, about 24s left" in lines
    assert lines[-1] == "sweep: 20/20 points done (4 from the results file), 1 failed, in 32s"
    assert len(lines) == 3 + 7  # begin, the first point, each tenth of the grid (30% .. 90%), the end


def test_progress_line_on_a_terminal_is_rewritten_and_cleared() -> None:
    import io

    clock, out = Clock(), io.StringIO()
    p = SweepProgress(3, 0, out, live=True, lines=False, clock=clock)
    p.begin()
    clock.now += 70
    p.point_done(failed=False)
    assert out.getvalue() == "\rsweep: 1/3 points done, 0 failed, about 2m 20s left   "
    p.finish()
    width = len("sweep: 1/3 points done, 0 failed, about 2m 20s left   ")
    assert out.getvalue().endswith("\r" + " " * width + "\r")
    assert [duration(s) for s in (0.4, 59, 61, 3600 * 2 + 61)] == ["0s", "59s", "1m 01s", "2h 01m"]


def test_progress_flag_logs_plain_lines(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = sweep([spec, *GRID, "--progress"], capsys)
    lines = err.splitlines()
    assert lines[0] == "sweep: 9 point(s), 9 to check"
    assert lines[1].startswith("sweep: 1/9 points done, 0 failed, about ")
    assert lines[-1].startswith("sweep: 9/9 points done, 0 failed, in ")
    assert "\r" not in err


# ---- slow: worker processes ----------------------------------------------------------------------


@pytest.mark.slow
def test_local_cluster_of_two_processes_matches_jobs_1(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    for fmt in FORMATS:
        one = sweep([spec, *GRID, "--format", fmt, "--jobs", "1"], capsys)
        two = sweep([spec, *GRID, "--format", fmt, "--cluster", "local:2"], capsys)
        assert two == one, fmt


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced_and_its_point_rerun() -> None:
    distributed = pytest.importorskip("distributed")
    from checker.commands.cluster import DaskExecutor

    text = (ROOT / "models" / "token_bucket.storm").read_text()
    tasks = [Task(text, "token_bucket.storm", spec_hash(text), (("N", n), ("MAX_TOKENS", m)), "explicit", 30,
                  2_000_000, None, ()) for n in (5, 6) for m in (1, 2, 3)]
    expected = dict(InProcess().map(tasks))
    got: dict[int, Outcome] = {}
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0") as cluster,
          DaskExecutor(cluster.scheduler_address) as executor):
        pids = executor.client.run(os.getpid)
        for i, outcome in executor.map(tasks):
            if not got:  # kill a worker while the other points are in flight
                os.kill(min(pids.values()), signal.SIGKILL)
            got[i] = outcome
    assert got == expected
