"""`stormproof gate`: regressions against a git revision, in temporary repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import tiny

from checker.cli import main


def spec(cap: int, extra: str = "") -> str:
    return tiny(cap=cap, extra=extra)


def git(repo: Path, *args: str) -> str:
    p = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
                       cwd=repo, capture_output=True, text=True, check=True)
    return p.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    r = tmp_path / "repo"
    (r / "specs").mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    (r / "specs" / "a.storm").write_text(spec(2))
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "base")
    monkeypatch.chdir(r)
    return r


def gate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["gate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _row(out: str, check: str) -> list[str]:
    """The row's words, a "(vacuous)" mark joined to the result it qualifies."""
    for line in out.splitlines():
        if line.split()[:1] == [check]:
            return line.replace(" (vacuous)", "(vacuous)").split()
    raise AssertionError(f"no row for {check} in:\n{out}")


def test_unchanged_spec_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 0
    # with two slots for two clients the retry rule can never fire: the storm check is vacuous
    assert _row(out, "no_storm")[:4] == ["no_storm", "holds(vacuous)", "holds(vacuous)", "no"]
    assert "no regressions" in out


def test_a_check_that_held_and_is_now_violated_regresses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(1))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert _row(out, "no_storm")[:4] == ["no_storm", "holds(vacuous)", "VIOLATED", "yes"]
    assert _row(out, "nonneg")[3] == "no"
    assert "Futile retries" in out  # the explanation of the regression


def test_a_check_violated_at_the_base_too_does_not_fail_the_gate(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(1))
    git(repo, "commit", "-q", "-am", "break it")
    code, out, _ = gate(["specs/a.storm", "--base", "HEAD"], capsys)
    assert code == 0
    assert "violated at the base too" in out


def test_a_fixed_check_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(1))
    git(repo, "commit", "-q", "-am", "break it")
    (repo / "specs" / "a.storm").write_text(spec(2))
    code, out, _ = gate(["specs/a.storm", "--base", "HEAD"], capsys)
    assert code == 0
    assert _row(out, "no_storm")[-1] == "fixed"


def test_unknown_now_regresses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the same options for both versions: a state limit only the new version hits
    (repo / "specs" / "a.storm").write_text(spec(2).replace("const N = 2", "const N = 6"))
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--max-states", "12"], capsys)
    assert code == 1
    assert _row(out, "nonneg")[:4] == ["nonneg", "holds", "unknown", "yes"]


def test_a_deleted_check_regresses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(2).replace("check no_storm\n", ""))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert _row(out, "no_storm")[:4] == ["no_storm", "holds(vacuous)", "-", "yes"]
    assert "check deleted" in out


def test_a_new_check_counts_only_if_violated(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(2, "check invariant roomy: free >= 1\n"))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert _row(out, "roomy")[:4] == ["roomy", "-", "VIOLATED", "yes"]
    (repo / "specs" / "a.storm").write_text(spec(2, "check invariant sane: free <= CAP\n"))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 0
    assert _row(out, "sane")[-2:] == ["new", "check"]


def test_a_new_spec_is_checked_as_is(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "b.storm").write_text(spec(1))
    code, out, _ = gate(["specs/a.storm", "specs/b.storm", "--base", "main"], capsys)
    assert code == 1
    assert "new spec" in out
    (repo / "specs" / "b.storm").write_text(spec(3))
    code, _, _ = gate(["specs/a.storm", "specs/b.storm", "--base", "main"], capsys)
    assert code == 0


def test_same_options_apply_to_both_versions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--set", "CAP=1"], capsys)
    assert code == 0  # violated before and after: not a regression
    assert _row(out, "no_storm")[:3] == ["no_storm", "VIOLATED", "VIOLATED"]


def test_paths_are_taken_relative_to_the_repository_root(repo: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "specs" / "a.storm").write_text(spec(1))
    monkeypatch.chdir(repo / "specs")
    code, _, _ = gate(["a.storm", "--base", "main"], capsys)
    assert code == 1


def test_a_deleted_spec_regresses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").unlink()
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert "spec deleted" in out


# ---- bad input -----------------------------------------------------------------------------


def test_a_ref_that_does_not_exist(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = gate(["specs/a.storm", "--base", "mian"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("stormproof: error: --base mian: no such git revision")
    assert "did you mean 'main'?" in err
    assert "Traceback" not in err


def test_a_path_in_neither_version(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = gate(["specs/nope.storm", "--base", "main"], capsys)
    assert code == 2
    assert "no such file, neither in the working tree nor at main" in err


def test_not_in_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "plain"
    d.mkdir()
    (d / "a.storm").write_text(spec(2))
    monkeypatch.chdir(d)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _, err = gate(["a.storm", "--base", "main"], capsys)
    assert code == 2
    assert "not in a git repository" in err


def test_a_spec_that_fails_to_load_at_the_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(2).replace("check no_storm", "check no_storm assuming nope"))
    git(repo, "commit", "-q", "-am", "broken")
    (repo / "specs" / "a.storm").write_text(spec(2))
    code, out, err = gate(["specs/a.storm", "--base", "HEAD"], capsys)
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith("HEAD:specs/a.storm:12:")
    assert "as it was at --base HEAD" in first


def test_a_spec_that_fails_to_load_now(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(2).replace("check no_storm", "check no_storm assuming nope"))
    code, _, err = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 2
    assert err.startswith("specs/a.storm:12:") and "--base" not in err.splitlines()[0]


def test_an_unknown_check_in_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = gate(["specs/a.storm", "--base", "main", "--only", "no_strom"], capsys)
    assert code == 2
    assert "--only no_strom: no check of that name; did you mean 'no_storm'?" in err


def test_base_is_required(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = gate(["specs/a.storm"], capsys)
    assert code == 2 and "--base" in err


_RELEASING = """\
protocol releasing
var free: 0..1 = {free}
node client count 2 {{
  states waiting, holding
  retry rule again: waiting -> waiting when free == 0
  progress rule get: waiting -> holding when free > 0 {{ free -= 1 }}
  progress rule put: holding -> waiting {{ free += 1 }}
}}
check no_storm
"""


def test_a_check_that_becomes_vacuous_regresses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # at the base the retries fire (two clients share one slot) and never storm: a real "holds"
    (repo / "specs" / "a.storm").write_text(_RELEASING.format(free=1))
    git(repo, "commit", "-q", "-am", "releasing")
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 0 and _row(out, "no_storm")[:4] == ["no_storm", "holds", "holds", "no"]
    # a change that makes the retry rule dead keeps "holds", but only vacuously: a regression
    (repo / "specs" / "a.storm").write_text(_RELEASING.format(free=1).replace("when free == 0", "when free == 2"))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert "now vacuous: retry rule again never fires in a fault-free tick" in out


def test_a_regression_prints_its_trace(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "specs" / "a.storm").write_text(spec(1))
    code, out, _ = gate(["specs/a.storm", "--base", "main"], capsys)
    assert code == 1
    assert "fired in the tick" in out and "again x1" in out and "Futile retries" in out
    assert "run: stormproof" in out


def test_undecided_at_both_ends_is_reported_and_fails_only_with_strict(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--max-states", "2"], capsys)
    assert code == 0
    assert _row(out, "nonneg")[-4:] == ["undecided", "at", "both", "ends"]
    assert "undecided at both ends (unknown at main, unknown now: state limit" in out
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--max-states", "2", "--strict"], capsys)
    assert code == 3 and "which --strict counts" in out


def test_strict_counts_bounded_as_not_holding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = gate(["specs/a.storm", "--base", "main", "--ticks", "0"], capsys)
    assert code == 0
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--ticks", "0", "--strict"], capsys)
    assert code == 3 and "undecided at both ends" in out


def test_gate_json_junit_and_sarif(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import xml.etree.ElementTree as ET

    from test_formats import _validate_junit, _validate_schema

    (repo / "specs" / "a.storm").write_text(spec(1))
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["base"] == "main" and doc["regressions"] == 1
    (row,) = [r for r in doc["specs"][0]["rows"] if r["regressed"]]
    assert row["check"] == "no_storm" and row["before"]["status"] == "holds" and row["trace"]["loop"] >= 0
    assert doc["specs"][0]["run"]["tick_bound"] is None
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--format", "junit"], capsys)
    root = ET.fromstring(out.encode())
    _validate_junit(root)
    fails = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert code == 1 and fails == ["no_storm"] and root.get("failures") == "1"
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--format", "sarif"], capsys)
    log = json.loads(out)
    _validate_schema(log)
    levels = {r["properties"]["check"]: (r["kind"], r["level"]) for r in log["runs"][0]["results"]}
    assert code == 1 and levels["no_storm"] == ("fail", "error") and levels["nonneg"] == ("pass", "none")
    assert log["runs"][0]["results"][-1]["codeFlows"]


def test_gate_sarif_reports_a_deleted_check(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from test_formats import _validate_schema

    (repo / "specs" / "a.storm").write_text(spec(2).replace("check no_storm\n", ""))
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--format", "sarif"], capsys)
    log = json.loads(out)
    _validate_schema(log)
    deleted = [r for r in log["runs"][0]["results"] if r["ruleId"] == "stormproof/deleted-check"]
    assert code == 1 and len(deleted) == 1 and "no_storm" in deleted[0]["message"]["text"]


FIXED_FLAGSHIP = Path(__file__).resolve().parent.parent / "models" / "ebs_2011_fixed.storm"


@pytest.mark.parametrize("change", [("const BACKOFF = 2", "const BACKOFF = 0"), ("const SPARE = 2", "const SPARE = 1")],
                         ids=["backoff-dropped", "buffer-shrunk"])
def test_dropping_a_fix_from_the_flagship_fails_the_retry_policy_gate(
        repo: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str]) -> None:
    # the README's promise: a change that drops the backoff or shrinks the buffer fails the build
    text = FIXED_FLAGSHIP.read_text(encoding="utf-8")
    assert change[0] in text
    (repo / "specs" / "ebs.storm").write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "fixed flagship")
    args = ["specs/ebs.storm", "--base", "main", "--only", "retry_policy"]
    code, out, _ = gate(args, capsys)
    assert code == 0 and _row(out, "retry_policy")[:4] == ["retry_policy", "holds", "holds", "no"]
    (repo / "specs" / "ebs.storm").write_text(text.replace(change[0], change[1]))
    code, out, _ = gate(args, capsys)
    assert code == 1
    assert _row(out, "retry_policy")[:4] == ["retry_policy", "holds", "VIOLATED", "yes"]
    assert "Retry storm sustained by the retries" in out


def test_a_regression_trace_is_folded_unless_full_trace(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    within = "check recovers served: count(done) == N within 6 ticks\n"
    (repo / "specs" / "a.storm").write_text(spec(2, within))
    git(repo, "commit", "-qam", "a deadline")
    (repo / "specs" / "a.storm").write_text(spec(1, within))
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--only", "served"], capsys)
    assert code == 1
    assert "unchanged, again x1 each tick" in out and "folded (--full-trace shows each)" in out
    code, out, _ = gate(["specs/a.storm", "--base", "main", "--only", "served", "--full-trace"], capsys)
    assert code == 1
    assert "unchanged, again" not in out and "\n6 " in out and "\n5 " in out
