"""The command line: exit codes, error lines, formats, and golden reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from checker.cli import main

EBS = ROOT / "models" / "ebs_2011.storm"
FIXED = ROOT / "models" / "ebs_2011_fixed.storm"
GOLDEN = ROOT / "tests" / "golden"
LANGMD = ROOT / "tests" / "conformance" / "13_ebs_2011_langmd.storm"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_violated_spec_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", str(EBS)], capsys)
    assert code == 1
    assert "Retry storm sustained by the retries" in out


def test_fixed_spec_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", str(FIXED), "--quiet"], capsys)
    assert code == 0
    assert "VIOLATED" not in out


def test_bounded_holds_exit_0_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", str(FIXED), "--ticks", "2", "--only", "load_bounded"], capsys)
    assert code == 0 and "holds up to 2 ticks" in out
    code, _, _ = run_cli(["check", str(FIXED), "--ticks", "2", "--only", "load_bounded", "--strict"], capsys)
    assert code == 3


def test_state_limit_gives_unknown_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", str(FIXED), "--max-states", "50", "--only", "load_bounded"], capsys)
    assert code == 3
    assert "state limit" in out


def test_reachable_not_found_within_bound_is_unknown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "slow.storm"
    spec.write_text("protocol slow\nvar x: 0..9 = 0\naction up when x < 9 { x += 1 }\ncheck reachable nine: x == 9\n")
    code, out, _ = run_cli(["check", str(spec), "--ticks", "3"], capsys)
    assert code == 3 and "no witness within 3 ticks" in out
    code, _, _ = run_cli(["check", str(spec)], capsys)
    assert code == 0


def test_set_override_changes_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_cli(["check", str(EBS), "--set", "SPARE=6", "--only", "no_storm"], capsys)
    assert code == 0


@pytest.mark.parametrize("args, needle", [
    (["check", "models/nope.storm"], "no such file"),
    (["check", str(EBS), "--only", "no_strom"], "did you mean 'no_storm'?"),
    (["check", str(EBS), "--set", "SPARES=3"], "did you mean 'SPARE'?"),
    (["check", str(EBS), "--set", "N"], "expected NAME=VALUE"),
    (["check", str(EBS), "--set", "N=lots"], "is not an integer"),
    (["check", str(EBS), "--set", "N=true"], "integer constant"),
    (["check", str(EBS), "--set", "SPARE=-1"], "empty"),
    (["check", str(EBS), "--tick", "3"], "did you mean '--ticks'?"),
    (["gate", str(EBS), "--base", "HEAD", "--quiet"], "'--quiet' is not an option of 'stormproof gate'"),
    (["check", str(EBS), "--ticks", "many"], "whole number"),
    (["check", str(EBS), "--timeout", "-1"], "positive"),
    (["check", str(EBS), "--set", "N=10^29"], "is not an integer"),
    (["check", str(EBS), "--set", "N=" + str(10**29)], "outside -2**63..2**63-1"),
    (["check", str(EBS), "--set", "N=" + str(2**63)], "outside -2**63..2**63-1"),
    (["check", str(EBS), "--set", "N=" + "9" * 5000], "outside -2**63..2**63-1"),
    (["check", str(EBS), "--set", "N=1__0"], "is not an integer"),
    (["check", str(EBS), "--ticks", str(2**63)], "at most 2**63-1"),
    (["check", str(EBS), "--engine", "bdd"], "invalid choice"),
    (["chek", str(EBS)], "did you mean 'check'?"),
    (["check", str(ROOT / "models")], "directory"),
])
def test_bad_command_lines_exit_2_with_one_line(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(args, capsys)
    assert code == 2, err
    assert needle in err
    assert "Traceback" not in err
    assert out == ""


def test_no_arguments_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([], capsys)
    assert code == 2 and "usage" in out


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "r.json"
    code, out, _ = run_cli(["check", str(EBS), "--format", "json", "-o", str(target)], capsys)
    assert code == 1 and out == ""
    data = json.loads(target.read_text())
    assert data["specs"][0]["protocol"] == "ebs_2011"


def test_json_report_is_itf_shaped_and_stable(capsys: pytest.CaptureFixture[str]) -> None:
    _, out1, _ = run_cli(["check", str(EBS), "--format", "json"], capsys)
    _, out2, _ = run_cli(["check", str(EBS), "--format", "json"], capsys)
    assert out1 == out2
    data = json.loads(out1)
    storm = next(c for c in data["specs"][0]["checks"] if c["name"] == "no_storm")
    trace = storm["trace"]
    assert storm["status"] == "violated"
    assert set(trace) >= {"#meta", "vars", "states", "loop"}
    assert 0 <= trace["loop"] < len(trace["states"])
    assert trace["states"][0]["free"] == {"#bigint": "1"}
    assert trace["states"][0]["net_ok"] is True


def _normalise(text: str) -> str:
    return re.sub(r"\d+\.\d\d s,", "X s,", text.replace(str(ROOT) + "/", ""))


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("json", "json")])
def test_golden_reports(fmt: str, suffix: str, capsys: pytest.CaptureFixture[str], update_golden: bool,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run_cli(["check", "models/ebs_2011.storm", "--format", fmt], capsys)
    out = _normalise(out)
    path = GOLDEN / f"ebs_2011.{suffix}"
    if update_golden:
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_python_dash_m_and_console_script_agree() -> None:
    a = subprocess.run([sys.executable, "-m", "checker", "check", str(FIXED), "--quiet", "--only", "load_bounded"],
                       capture_output=True, text=True)
    assert a.returncode == 0 and "load_bounded" in a.stdout
    b = subprocess.run([sys.executable, "-m", "checker", "check", str(ROOT / "tests/specs/invalid/unknown_name.storm")],
                       capture_output=True, text=True)
    assert b.returncode == 2 and b.stderr.count("\n") == 3 and "Traceback" not in b.stderr


def test_timeout_gives_unknown_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    # the language.md flagship at N = 8 takes seconds: far beyond the limit (models/ebs_2011 at
    # N = 8 is now searched in about 0.03 s, which raced the 0.01 s limit)
    flagship = ROOT / "bench" / "models" / "ebs_2011_langmd.storm"
    code, out, _ = run_cli(["check", str(flagship), "--set", "N=8", "--timeout", "0.01", "--only", "cp_bounded"], capsys)
    assert code == 3
    assert "timeout after 0.01 s" in out


def test_progress_line_only_when_enabled_and_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from checker.commands import check
    from checker.engines import Stats

    clock = [100.0]
    monkeypatch.setattr(check.time, "perf_counter", lambda: clock[0])
    buf = io.StringIO()
    line = check.ProgressLine(True, stream=buf)
    line(Stats(states=10, tick_states=2, max_depth=1, seconds=0.5))
    line.tick()
    assert buf.getvalue() == ""  # not within the first second
    clock[0] += 2
    line(Stats(engine="explicit", states=5000, tick_states=40, max_depth=3, seconds=2.0))
    line.tick()
    assert "explicit engine, depth 3, 5,000 states, 40 tick states, 2 s" in buf.getvalue()
    line.clear()
    off = io.StringIO()
    silent = check.ProgressLine(False, stream=off)
    silent(Stats(states=5000, seconds=2.0))
    silent.tick()
    assert off.getvalue() == ""


def test_progress_log_lines_name_engine_check_depth_and_solver_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from checker.commands import check
    from checker.engines import Stats

    clock = [0.0]
    monkeypatch.setattr(check.time, "perf_counter", lambda: clock[0])
    buf = io.StringIO()
    log = check.ProgressLine(False, log=True, stream=buf)
    log.spec = "a.storm"
    log.tick()
    assert buf.getvalue() == ""  # nothing to say before the engine reports
    clock[0] = 7.0
    log(Stats(states=12, tick_states=5, max_depth=4, engine="symbolic", activity="check cp_bounded",
              solver_seconds=3.25))
    log.tick()
    log.tick()
    lines = buf.getvalue().splitlines()
    assert lines == ["stormproof: a.storm: symbolic engine, check cp_bounded, depth 4, 12 states, 5 tick states, "
                     "solver 3.2 s, 7 s, " + lines[0].rsplit(", ", 1)[1]] * 2


def test_progress_flag_writes_lines_while_the_symbolic_engine_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.commands import check

    monkeypatch.setattr(check, "LOG_INTERVAL", 0.02)
    spec = ROOT / "tests" / "conformance" / "07_timers.storm"
    code, _, err = run_cli(["check", str(spec), "--engine", "symbolic", "--progress", "--quiet"], capsys)
    assert code in (0, 1)
    lines = [ln for ln in err.splitlines() if ln.startswith("stormproof: ")]
    assert lines, err
    assert all("symbolic engine" in ln and "depth" in ln and "07_timers.storm" in ln for ln in lines)
    assert any("check " in ln or "exhaustion" in ln or "model errors" in ln for ln in lines)


def test_engine_both_shows_each_verdict_and_who_decided(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ROOT / "tests" / "conformance" / "01_simultaneous.storm"
    code, out, _ = run_cli(["check", str(spec), "--engine", "both", "--quiet"], capsys)
    assert code == 1  # both_two is violated, on both engines
    assert "explicit and symbolic engines" in out
    head = next(ln for ln in out.splitlines() if ln.startswith("check"))
    assert "explicit" in head and "symbolic" in head and "decided" in head
    assert "agree" in out and "(agree)" not in out


def test_check_is_complete_by_default_and_says_when_a_tick_bound_makes_it_bounded(
    capsys: pytest.CaptureFixture[str]
) -> None:
    # language.md's example: its storm lies beyond 8 ticks (the flagship's own lies within them)
    code, out, _ = run_cli(["check", str(LANGMD), "--quiet"], capsys)
    assert code == 1 and "exploration complete" in out and "no tick bound" in out
    code, out, _ = run_cli(["check", str(LANGMD), "--ticks", "8", "--quiet"], capsys)
    assert code == 0  # the storm lies beyond 8 ticks: bounded holds count as holds...
    assert "holds up to 8 ticks" in out and "tick bound 8" in out
    assert "The result is bounded: only runs of at most 8 ticks were explored" in out
    assert re.search(r"[1-9][\d,]* tick state\(s\) of depth 9 lie beyond the bound", out)
    assert "Drop --ticks to explore completely" in out
    code, _, _ = run_cli(["check", str(LANGMD), "--ticks", "8", "--quiet", "--strict"], capsys)
    assert code == 3  # ...unless --strict asks for complete results


def test_a_tick_bound_that_is_not_reached_gives_a_complete_result(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", str(FIXED), "--ticks", "50", "--quiet", "--strict"], capsys)
    assert code == 0 and "no tick state lies beyond the bound of 50 ticks" in out
    assert "The result is bounded" not in out


@pytest.mark.parametrize("engine", ["explicit", "symbolic"])
@pytest.mark.parametrize("spec", [
    "protocol big\nconst N = 2**62\nvar x: 0..N = 0\naction up when x < N { x += 1 }\ncheck invariant ok: x >= 0\n",
    "protocol big\nnode k count 100000000 {\n  states a, b\n  rule go: a -> b\n}\ncheck invariant ok: count(b) >= 0\n",
])
def test_huge_constants_and_node_counts_end_unknown_with_a_reason(
    spec: str, engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.storm"
    path.write_text(spec)
    code, out, _ = run_cli(["check", str(path), "--engine", engine, "--timeout", "1"], capsys)
    if code == 0:  # the symbolic engine proves x >= 0 for every N by k-induction
        assert engine == "symbolic" and "proved by k-induction" in out
        return
    assert code == 3
    assert re.search(r"ok +invariant +unknown .*(timeout after 1 s|at most 64 nodes|state limit)", out), out
