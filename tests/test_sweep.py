"""`stormproof sweep`: grids of constants, thresholds, parallel runs, formats and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import tiny

from checker.cli import main
from checker.commands.sweep import threshold

TINY = tiny()


@pytest.fixture
def spec(tmp_path: Path) -> str:
    p = tmp_path / "tiny.storm"
    p.write_text(TINY)
    return str(p)


def sweep(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_parameter_table_and_threshold(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sweep([spec, "--set", "CAP=0..4", "--set", "N=3"], capsys)
    assert code == 1  # some point is violated, as for check
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["CAP"])
    assert lines[header].split() == ["CAP", "nonneg", "no_storm"]
    table = [lines[header + 2 + i].split() for i in range(5)]
    assert [row[2] for row in table] == ["VIOLATED", "VIOLATED", "VIOLATED", "holds", "holds"]
    assert "no_storm: holds from CAP = 3 on (up to 4); fails below" in out
    assert "nonneg: holds for every CAP in 0..4" in out


def test_two_parameters_give_a_grid_per_check(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sweep([spec, "--set", "N=1..3", "--set", "CAP=0..3", "--only", "no_storm"], capsys)
    assert code == 1
    assert "no_storm: rows N, columns CAP" in out
    assert "nonneg" not in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if "CAP=0" in line)
    assert lines[header].split() == ["CAP=0", "CAP=1", "CAP=2", "CAP=3"]
    grid = {lines[header + 2 + i].split()[0]: lines[header + 2 + i].split()[1:] for i in range(3)}
    assert grid["N=1"] == ["VIOLATED", "holds", "holds", "holds"]
    assert grid["N=3"] == ["VIOLATED", "VIOLATED", "VIOLATED", "holds"]
    for n, cap in ((1, 1), (2, 2), (3, 3)):
        assert f"no_storm at N = {n}: holds from CAP = {cap} on (up to 3); fails below" in out


def test_results_do_not_depend_on_jobs(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = [spec, "--set", "N=1..2", "--set", "CAP=0..2", "--format", "json"]
    _, one, _ = sweep(args + ["--jobs", "1"], capsys)
    _, two, _ = sweep(args + ["--jobs", "3"], capsys)
    assert one == two
    doc = json.loads(one)
    assert [p["values"] for p in doc["points"]][:3] == [{"N": 1, "CAP": 0}, {"N": 1, "CAP": 1}, {"N": 1, "CAP": 2}]
    th = [t for t in doc["thresholds"] if t["check"] == "no_storm"]
    assert [(t["others"], t["holds_from"], t["monotone"]) for t in th] == [({"N": 1}, 1, True), ({"N": 2}, 2, True)]


def test_csv_has_one_row_per_point_and_check(spec: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    _code, out, _ = sweep([spec, "--set", "CAP=1..2", "--format", "csv", "-o", str(target)], capsys)
    assert out == ""
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert rows[0] == ["CAP", "check", "status", "ticks", "bound"]
    assert rows[1:] == [["1", "nonneg", "holds", "", ""], ["1", "no_storm", "violated", "", ""],
                        ["2", "nonneg", "holds", "", ""], ["2", "no_storm", "holds", "", ""]]


def test_all_holding_exits_0(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = sweep([spec, "--set", "CAP=2..3"], capsys)
    assert code == 0


def test_bounded_holds_count_as_holding_and_are_marked(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sweep([spec, "--set", "CAP=2..3", "--ticks", "0"], capsys)
    assert code == 0
    assert "bounded" in out and "holds up to the tick bound only" in out


# ---- thresholds ------------------------------------------------------------------------------


def test_threshold_statements() -> None:
    vals = [0, 1, 2, 3]
    t = threshold("c", {}, "X", vals, ["violated", "violated", "holds", "holds_bounded"])
    assert (t.start, t.monotone) == (2, True)
    t = threshold("c", {}, "X", vals, ["holds", "violated", "holds", "holds"])
    assert (t.start, t.monotone) == (2, False)
    assert "not monotone in X" in t.statement and "also at X = 0" in t.statement
    t = threshold("c", {}, "X", vals, ["holds", "holds", "violated", "violated"])
    assert (t.start, t.monotone) == (None, False)
    assert "not monotone" in t.statement
    t = threshold("c", {"N": 3}, "X", vals, ["violated", "unknown", "violated", "violated"])
    assert (t.start, t.statement) == (None, "c at N = 3: holds for no X in 0..3")
    t = threshold("c", {}, "X", vals, ["holds"] * 4)
    assert t.start == 0 and t.statement == "c: holds for every X in 0..3"


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item, message",
    [
        ("CAP=3..1", "--set CAP=3..1: empty range: 3 > 1 (write the smaller bound first)"),
        ("CAP=..3", "--set CAP=..3: empty range bound"),
        ("CAP=", "--set CAP=: empty value"),
        ("CAP=a..3", "--set CAP=a..3: 'a' is not an integer"),
        ("CAP=1..2.5", "--set CAP=1..2.5: '2.5' is not an integer"),
        ("CPA=0..3", "no constant 'CPA'"),
        ("CAP", "--set CAP: expected NAME=LO..HI or NAME=VALUE"),
    ],
)
def test_bad_ranges(spec: str, capsys: pytest.CaptureFixture[str], item: str, message: str) -> None:
    code, out, err = sweep([spec, "--set", item], capsys)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_constant_has_a_suggestion(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = sweep([spec, "--set", "CPA=0..3"], capsys)
    assert "did you mean 'CAP'?" in err


def test_a_fixed_value_must_be_an_integer_or_boolean(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, "--set", "CAP=0..2", "--set", "N=two"], capsys)
    assert code == 2 and "'two' is not an integer" in err


def test_needs_a_range(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, "--set", "CAP=2"], capsys)
    assert code == 2 and "at least one range" in err


def test_unknown_check_in_only(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, "--set", "CAP=0..2", "--only", "no_strom"], capsys)
    assert code == 2 and "did you mean 'no_storm'?" in err


def test_a_point_that_fails_to_load_is_named(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, "--set", "N=-1..1"], capsys)
    assert code == 2
    assert "N=-1" in err and "Traceback" not in err


def test_bad_jobs(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sweep([spec, "--set", "CAP=0..2", "--jobs", "many"], capsys)
    assert code == 2 and "--jobs" in err
