"""`stormproof simulate`: random runs under the reference semantics, reproducible by seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import tiny

from checker.cli import main
from checker.commands.simulate import simulate
from checker.engines.base import replay
from checker.model import load_text
from checker.model.semantics import StepKind, apply, initial_state

TINY = tiny('check reachable one_done: count(done) >= 1')

BUMPY = """\
protocol bumpy
var x: 0..3 = 0
node n count 1 {
  states a, b
  rule go: a -> b { x += 1 }
  rule back: b -> a
}
fault bump { x += 1 }
check invariant small: x <= 2
"""

OVERFLOW = """\
protocol overflow
var x: 0..2 = 0
node n count 1 {
  states a
  rule up: a -> a { x += 1 }
}
check invariant any: x >= 0
"""


def write(tmp_path: Path, text: str, name: str = "s.storm") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def sim(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_runs_are_traces_and_exit_0_without_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sim([write(tmp_path, TINY), "--ticks", "3", "--runs", "2"], capsys)
    assert code == 0
    assert "== run 1 (seed 0), 3 tick(s) ==" in out and "== run 2 (seed 1), 3 tick(s) ==" in out
    assert "fired in the tick" in out and "ask x" in out
    assert "reachable one_done: reached in 2 of 2 run(s)" in out
    assert "random runs prove nothing" in out


def test_same_seed_same_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, BUMPY)
    outs = [sim([spec, "--ticks", "8", "--runs", "4", "--seed", "11"], capsys)[1] for _ in range(2)]
    assert outs[0] == outs[1]


def test_run_k_is_replayed_alone_by_seed_plus_k(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, BUMPY)
    _, many, _ = sim([spec, "--ticks", "8", "--runs", "3", "--seed", "5"], capsys)
    _, one, _ = sim([spec, "--ticks", "8", "--runs", "1", "--seed", "7"], capsys)
    third = many.split("== run 3 (seed 7)")[1].split("\n\n")[0]
    assert one.split("== run 1 (seed 7)")[1].split("\n\n")[0] == third


def test_an_invariant_violation_is_reported_with_its_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sim([write(tmp_path, BUMPY), "--ticks", "10", "--runs", "3"], capsys)
    assert code == 1
    assert "VIOLATED: check 'small' (invariant)" in out
    assert "`x <= 2` is false after" in out
    assert "(seed 0): check 'small' violated after" in out


def test_a_model_error_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sim([write(tmp_path, OVERFLOW), "--ticks", "10"], capsys)
    assert code == 1
    assert "MODEL ERROR" in out and "outside its range 0..2" in out
    assert "run 1 (seed 0): model error after 2 tick(s)" in out


def test_quiet_prints_only_violating_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sim([write(tmp_path, TINY), "--ticks", "3", "--runs", "3", "--quiet"], capsys)
    assert code == 0 and "== run" not in out


def test_every_step_is_enabled_and_the_trace_replays(tmp_path: Path) -> None:
    model = load_text(BUMPY, "bumpy.storm")
    for seed in range(20):
        r = simulate(model, 0, seed, 6, [c for c in model.checks])
        state = initial_state(model)
        for st, step in zip(r.trace.states[1:], r.trace.steps):
            state = apply(model, state, step)  # raises NotEnabled if the step was not enabled
            assert state == st
        assert r.trace.ticks <= 6
        if r.violation is not None:
            replay(model, r.violation)
        else:
            assert sum(s.kind is StepKind.TICK for s in r.trace.steps) == 6


def test_faults_are_drawn_too(tmp_path: Path) -> None:
    model = load_text(BUMPY, "bumpy.storm")
    names = set()
    for seed in range(10):
        r = simulate(model, 0, seed, 3, [])
        names |= {s.name for s in r.trace.steps}
    assert {"bump", "go", "tick"} <= names


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, TINY)
    for args, message in [
        (["--ticks", "-1"], "expected a number >= 0"),
        (["--seed", "x"], "--seed"),
        (["--only", "nonnge"], "did you mean 'nonneg'?"),
        (["--runs", "0"], "--runs 0"),
        (["--set", "CAP=x"], "'x' is not an integer"),
    ]:
        code, _out, err = sim([spec, *args], capsys)
        assert code == 2 and message in err, (args, err)
        assert "Traceback" not in err
    code, _, err = sim([str(tmp_path / "missing.storm")], capsys)
    assert code == 2 and "no such file" in err
