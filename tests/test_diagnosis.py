"""The storm diagnosis (sustained / futile / mixed), `no_retry_storm`, coverage and vacuity.

Each spec under tests/specs/diagnosis/ is small enough to reason about by hand; its header
says why it gets the diagnosis asserted here. Both engines run every spec, and a lasso from
either engine must get the same diagnosis.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import _normalise as normalise

from checker.cli import main
from checker.engines import CheckOptions, Verdict
from checker.engines.base import RunResult, StormCause
from checker.engines.run import run_checks
from checker.model import load_spec, load_text
from checker.model import semantics as sem

SPECS = Path(__file__).parent / "specs" / "diagnosis"
ENGINES = ["explicit", "symbolic"]


def run(name: str, engine: str = "explicit") -> RunResult:
    model = load_spec(SPECS / f"{name}.storm")
    return run_checks(model, engine, CheckOptions(ticks=20, timeout=60))


def result(r: RunResult, check: str):  # type: ignore[no-untyped-def]
    return next(x for x in r.results if x.check.name == check)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_storm_the_retries_sustain_is_diagnosed_sustained(engine: str) -> None:
    r = run("sustained", engine)
    storm = result(r, "no_storm")
    assert storm.verdict is Verdict.VIOLATED and storm.diagnosis is not None
    d = storm.diagnosis
    assert d.cause is StormCause.SUSTAINED
    assert d.recovery_ticks == 1 and d.period == 1 and d.retrying_nodes == 1
    assert d.retries_per_tick == (("again", 1.0),)
    assert "sustained by the retries" in d.sentence and "fix the retry policy" in d.sentence
    # the witness is a real retry-free run from the loop's entry that ends in a progress step
    assert d.witness is not None and storm.trace is not None and storm.trace.loop_start is not None
    assert d.witness.states[0] == storm.trace.states[storm.trace.loop_start]
    assert d.witness.steps[-1].name == "finish"
    assert all(s.name != "again" for s in d.witness.steps)
    assert result(r, "no_retry_storm").verdict is Verdict.VIOLATED
    rec = result(r, "all_done")
    assert rec.diagnosis is not None and rec.diagnosis.cause is StormCause.SUSTAINED
    assert rec.diagnosis.recovery_ticks == 3


def test_the_witness_replays_on_the_retry_free_model() -> None:
    from checker.model.counterfactual import without_retries

    r = run("sustained")
    model = r.model
    d = result(r, "all_done").diagnosis
    assert d is not None and d.witness is not None
    cf = without_retries(model)
    for i, step in enumerate(d.witness.steps):
        assert sem.apply(cf, d.witness.states[i], step) == d.witness.states[i + 1]
    assert sem.check_value(model, model.check("all_done").expr, d.witness.states[-1]) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_retries_that_can_never_succeed_are_futile_not_a_retry_storm(engine: str) -> None:
    r = run("futile", engine)
    storm = result(r, "no_storm")
    assert storm.verdict is Verdict.VIOLATED and storm.diagnosis is not None
    d = storm.diagnosis
    assert d.cause is StormCause.FUTILE
    assert d.blocked and "`claim` needs `free > 0`" in d.blocked[0] and "`free` is 0" in d.blocked[0]
    assert d.sentence.startswith("Futile retries, a shortage rather than a retry storm")
    assert d.witness is None and d.recovery_ticks is None
    rec = result(r, "all_done")
    assert rec.diagnosis is not None and rec.diagnosis.cause is StormCause.FUTILE
    nrs = result(r, "no_retry_storm")
    if engine == "explicit":
        assert nrs.verdict is Verdict.HOLDS and nrs.reason is not None and "futile" in nrs.reason
    else:  # the symbolic engine cannot look past the futile loop: never a false "holds"
        assert nrs.verdict is Verdict.UNKNOWN and nrs.trace is None


@pytest.mark.parametrize("engine", ENGINES)
def test_progress_possible_but_avoidable_without_retries_is_mixed(engine: str) -> None:
    r = run("mixed", engine)
    for name in ("no_storm", "no_retry_storm"):
        res = result(r, name)
        assert res.verdict is Verdict.VIOLATED and res.diagnosis is not None
        assert res.diagnosis.cause is StormCause.MIXED


def test_retry_rules_that_never_fire_make_storm_checks_vacuous() -> None:
    r = run("dead_retry")
    for name in ("no_storm", "no_retry_storm"):
        res = result(r, name)
        assert res.verdict is Verdict.HOLDS
        assert res.vacuous == "retry rule again never fires in a fault-free tick"
    assert r.never_fired == ("again",)


def test_an_assumption_false_everywhere_and_a_condition_true_everywhere_are_vacuous() -> None:
    r = run("vacuous_assuming")
    assert result(r, "no_storm").vacuous == "the assumption `flag` is false in every reachable tick state"
    assert result(r, "trivially").vacuous == "its condition holds in every reachable tick state"


def test_a_non_vacuous_holding_check_is_not_marked() -> None:
    text = """protocol ok
var free: 0..1 = 0
node c count 1 {
  states asking, served
  retry rule again: asking -> asking when free == 0
  progress rule get: asking -> served when free > 0 { free -= 1 }
}
action refill when free == 0 and count(served) == 0 { free = 1 }
check no_storm
"""
    model = load_text(text, "ok.storm")
    r = run_checks(model, "explicit", CheckOptions(ticks=20))
    # `again` fires in tick 0 when it goes before `refill`, but never forever: no storm
    assert r.results[0].verdict is Verdict.HOLDS and r.results[0].vacuous is None
    assert r.never_fired == ()


def test_no_retry_storm_is_a_contextual_keyword() -> None:
    text = """protocol kw
var no_retry_storm: bool = true
node c count 1 {
  states a
  retry rule again: a -> a when no_retry_storm
}
check no_retry_storm named assuming no_retry_storm
"""
    model = load_text(text, "kw.storm")
    c = model.check("named")
    assert c.sustained and c.keyword == "no_retry_storm"


def test_text_report_names_the_cause_and_prints_the_witness(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SPECS / "sustained.storm"), "--only", "no_storm"]) == 1
    out = capsys.readouterr().out
    assert "lasso: sustained by retries" in out
    assert "Without the retries, from the loop's entry (tick 0) to the first progress step:" in out
    assert main(["check", str(SPECS / "dead_retry.storm")]) == 0
    out = capsys.readouterr().out
    assert "holds (vacuous)" in out and "never fired anywhere in the explored space: again" in out


def test_strict_treats_a_vacuous_result_as_incomplete() -> None:
    assert main(["check", str(SPECS / "dead_retry.storm"), "--quiet"]) == 0
    assert main(["check", str(SPECS / "dead_retry.storm"), "--quiet", "--strict"]) == 3


def test_json_carries_the_diagnosis_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(SPECS / "sustained.storm"), "--format", "json", "--only", "no_storm"])
    doc = json.loads(capsys.readouterr().out)
    check = doc["specs"][0]["checks"][0]
    diag = check["diagnosis"]
    assert diag["cause"] == "sustained" and diag["recovery_ticks"] == 1
    assert diag["retries_per_tick"] == {"again": 1.0} and diag["period_ticks"] == 1
    assert diag["witness"]["states"][0]["#meta"]["index"] == 0
    main(["check", str(SPECS / "dead_retry.storm"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["specs"][0]["never_fired"] == ["again"]
    assert doc["specs"][0]["checks"][0]["vacuous"].startswith("retry rule again")


@pytest.mark.parametrize("name", ["sustained", "futile"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_golden_diagnosis_reports(name: str, fmt: str, capsys: pytest.CaptureFixture[str],
                                  update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SPECS.parent.parent.parent)  # paths in the report are relative to the repository
    main(["check", f"tests/specs/diagnosis/{name}.storm", "--format", fmt])
    out = normalise(capsys.readouterr().out)  # timings vary from run to run
    golden = SPECS.parent.parent / "golden" / f"diagnosis_{name}.{'txt' if fmt == 'text' else 'json'}"
    if update_golden:
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
