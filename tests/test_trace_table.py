"""What a printed trace shows (issue 11 item 6): node locals, values before the tick block,
and ticks that repeat exactly folded unless --full-trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT, run_spec

from checker.cli import main
from checker.engines import get_engine
from checker.engines.base import CheckOptions
from checker.model import load_spec
from checker.report.explain import explain, table
from checker.report.text import render_trace

LOCALS = Path(__file__).parent / "specs" / "traces" / "locals.storm"
EBS = ROOT / "models" / "ebs_2011.storm"


def _result(path: Path, name: str, args: list[str] | None = None):  # type: ignore[no-untyped-def]
    run = run_spec(path, args, ticks=None)  # type: ignore[arg-type]
    return run.model, next(r for r in run.results if r.check.name == name)


def test_state_cells_count_nodes_per_value_of_each_local() -> None:
    model, r = _result(LOCALS, "no_storm")
    lay, lines = table(model, r.trace)
    assert lay.headers == ("idle", "waiting", "age (before tick)", "load", "load (before tick)")
    col = {h: i for i, h in enumerate(lay.headers)}
    by_label = {ln.label: ln for ln in lines}
    assert by_label["0"].cells[col["idle"]] == "3 (tries=0, age=0)"  # one value: name=value
    assert by_label["0"].cells[col["waiting"]] == "0"  # no node: no locals
    assert by_label["4"].loop_start and by_label["4"].cells[col["waiting"]] == "3 (tries 0:2 3:1, age 0:2 2:1)"
    assert lay.constant == ("spare = 0 (every client)",)
    text = render_trace(model, r.trace)
    assert "locals with one value throughout: spare = 0 (every client)." in text


def test_values_a_tick_block_assigns_are_shown_before_the_tick() -> None:
    model, r = _result(LOCALS, "no_storm")
    lay, lines = table(model, r.trace)
    col = {h: i for i, h in enumerate(lay.headers)}
    got = [(ln.label, ln.cells[col["load"]], ln.cells[col["load (before tick)"]],
            ln.cells[col["age (before tick)"]]) for ln in lines]
    assert got == [("0", "0", "-", "-"), ("1", "0", "0", "0"), ("2", "0", "1", "0"),
                   ("3", "0", "1", "0:2 1:1"), ("4", "0", "1", "0:2 2:1"), ("5 (= 4)", "0", "1", "0:2 2:1")]


def test_storm_sentence_reads_tick_reset_counters_before_the_reset() -> None:
    model, r = _result(EBS, "no_storm")
    text = explain(model, r)
    assert "load = 2 (before tick reset)" in text and "load = 0" not in text


def test_undiagnosed_lasso_explanation_reads_counters_before_the_reset() -> None:
    model = load_spec(LOCALS)
    run = get_engine("explicit").run(model, CheckOptions())  # no diagnosis: explain.py's own sentence
    r = next(x for x in run.results if x.check.name == "no_storm")
    assert r.diagnosis is None
    assert "while load = 1 (before tick reset)" in explain(model, r)


def test_repeated_ticks_are_folded_and_full_trace_unfolds_them() -> None:
    model, r = _result(LOCALS, "calm")
    _lay, lines = table(model, r.trace)
    assert [ln.label for ln in lines] == ["0", "1", "2", "3", "4", "5–12"]
    assert lines[-1].fired == "unchanged, again x1 each tick" and lines[-1].folded == 8
    assert lines[-1].cells == lines[-2].cells and not any(lines[-1].changed)
    _lay, full = table(model, r.trace, full=True)
    assert [ln.label for ln in full] == [str(i) for i in range(13)]


def test_lasso_start_and_closing_rows_are_never_folded() -> None:
    model, r = _result(EBS, "no_storm")
    _lay, lines = table(model, r.trace)
    assert [ln.label for ln in lines] == ["0", "1", "2", "3 (= 2)"]
    assert [ln.loop_start for ln in lines] == [False, False, True, False]


@pytest.mark.parametrize("flag", [[], ["--full-trace"]])
def test_check_full_trace_flag(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EBS), "--only", "all_healthy", *flag]) == 1
    out = capsys.readouterr().out
    if flag:
        assert "4–21" not in out and "\n21 " in out and "\n4 " in out
    else:
        assert "4–21    unchanged, no_space x2 each tick" in out
        assert "folded (--full-trace shows each)" in out


def test_full_trace_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("check", "gate", "simulate"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "--full-trace" in capsys.readouterr().out


def test_simulate_folds_and_full_trace_unfolds(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", str(LOCALS), "--ticks", "20", "--seed", "0"]
    assert main(args) == 0
    assert "14–20   unchanged, again x1 each tick" in capsys.readouterr().out
    assert main([*args, "--full-trace"]) == 0
    out = capsys.readouterr().out
    assert "unchanged" not in out and "\n20 " in out


def test_json_states_after_a_tick_carry_the_values_before_it(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(LOCALS), "--only", "no_storm", "--format", "json"])
    trace = json.loads(capsys.readouterr().out)["specs"][0]["checks"][0]["trace"]
    metas = [s["#meta"] for s in trace["states"]]
    after_tick = [m for i, m in enumerate(metas) if i and metas[i - 1]["next"]["kind"] == "tick"]
    assert after_tick and all("before_tick" in m for m in after_tick)
    assert all("before_tick" not in m for i, m in enumerate(metas) if m not in after_tick)
    last = after_tick[-1]["before_tick"]
    assert last == {"load": {"#bigint": "1"}, "client.age": {"0": 2, "2": 1}}
    nodes = trace["states"][-1]["client#nodes"]
    assert {(n["state"], n["locals"]["tries"]["#bigint"]) for n in nodes} == {("waiting", "0"), ("waiting", "3")}
