"""`check --format html`: the structure of the self-contained report (html.parser, no browser).

The browser tests are in test_html_browser.py; these check what the file holds: one series per
state, the loop band and `within` window over the right ticks, fault markers, the guard globals,
the trace table with changed cells, the diagnosis and its counterfactual, coverage and vacuity.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from checker.cli import main
from checker.engines import CheckOptions, RunResult, get_engine
from checker.engines.base import CheckResult, Diagnosis, StormCause, Trace, Verdict
from checker.model import load_text
from checker.report.explain import rows
from checker.report.html import INSTALL_HINT, _template, chart_data, guard_globals, render_html

WEB = """\
protocol web
const N = 3
const CAP = 3
var free: 0..CAP = CAP
var load: 0..N = 0
var up: bool = true
var spare: 0..1 = 0
node client count N {
  states idle, waiting, done
  rule ask: idle -> waiting
  progress rule get: waiting -> done when free > 0 and up { free -= 1; load += 1 }
  retry rule again: waiting -> waiting when (free == 0 or not up) and load < N { load += 1 }
}
fault crash when up { up = false; free = 0 } limit 1
fault heal when not up { up = true } limit 1
fault never when spare == 1 { spare = 0 }
on tick { load = 0 }
check invariant nonneg: free >= 0
check reachable crashed: not up
check no_storm assuming up
check recovers all_done: count(done) == N within 3 ticks assuming up
"""


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each element id'd by a tag path."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[dict[str, str]]:
        out = []
        for t, a in self.tags:
            if t != tag or (cls is not None and cls not in a.get("class", "").split()):
                continue
            if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(a)
        return out


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    p.close()
    return p


@pytest.fixture(scope="module")
def run() -> RunResult:
    model = load_text(WEB, "web.storm")
    return get_engine("explicit").run(model, CheckOptions(ticks=20))


def result(run: RunResult, name: str) -> CheckResult:
    return next(r for r in run.results if r.check.name == name)


def chart_section(text: str, check: str) -> str:
    """The HTML of one check's trace section."""
    m = re.search(rf'<section class="trace" id="(chart-\d+)-section" data-check="{check}">(.*?)</section>', text, re.DOTALL)
    assert m, check
    return m.group(2)


def test_cli_writes_one_self_contained_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "web.storm"
    spec.write_text(WEB)
    out = tmp_path / "report.html"
    assert main(["check", str(spec), "--format", "html", "-o", str(out)]) == 1
    assert capsys.readouterr().out == ""
    text = out.read_text(encoding="utf-8")
    page = parse(text)
    assert text.startswith("<!DOCTYPE html>")
    for _tag, attrs in page.tags:  # nothing to fetch: no remote (or any) src/href but in-page anchors
        for key in ("src", "href", "xlink:href", "action", "data"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(key, "")), (key, attrs)
        assert "href" not in attrs or attrs["href"].startswith("#"), attrs
    assert not re.search(r"https?://", text)
    assert page.find("script") and all("src" not in a for t, a in page.tags if t == "script")
    assert not [a for t, a in page.tags if t == "link"]
    # the summary table: one row per check, the violated ones linked to their traces
    summary = {a["data-check"]: a["data-status"] for a in page.find("tr", "check")}
    assert summary == {"nonneg": "holds", "crashed": "holds", "no_storm": "violated", "all_done": "violated"}
    assert len(page.find("svg", "chart")) == 3  # crashed's witness, no_storm, all_done
    assert "N = 3, CAP = 3" in text and "explicit" in text


def test_one_series_per_state_and_per_guard_global(run: RunResult) -> None:
    text = render_html([run])
    sec = parse(chart_section(text, "no_storm"))
    states = [a["data-series"] for a in sec.find("polyline", "state") if "repeat" not in a["class"]]
    assert states == ["client.idle", "client.waiting", "client.done"]
    globals_ = [a["data-series"] for a in sec.find("polyline", "global") if "repeat" not in a["class"]]
    assert globals_ == ["free", "load", "up"]  # the retry and progress guards read these; not `spare`
    assert [v.name for v in guard_globals(run.model)] == ["free", "load", "up"]
    panels = [a["data-panel"] for a in sec.find("g", "panel")]
    assert panels == ["counts", "g0", "g1", "g2", "steps"]
    assert "load (end of tick)" in chart_section(text, "no_storm")


def test_load_is_shown_before_the_tick_resets_it(run: RunResult) -> None:
    r = result(run, "no_storm")
    assert r.trace is not None
    data = chart_data(run.model, r.trace, r.check)
    load = [g.name for g in data.globals].index("load")
    assert data.globals[load].before_tick
    for p in data.points:  # every get and again adds one to load within its tick
        assert p.values[load] == p.retries + p.progress
    assert [p.retries for p in data.points] == [0, 0, 3] and [p.progress for p in data.points] == [0, 0, 0]


def test_loop_band_spans_the_loop_and_repeats(run: RunResult) -> None:
    r = result(run, "no_storm")
    assert r.trace is not None and r.trace.loop_start is not None
    start = sum(1 for s in r.trace.steps[: r.trace.loop_start] if s.kind.value == "tick")
    end = r.trace.ticks
    sec = parse(chart_section(render_html([run]), "no_storm"))
    (band,) = [a for a in sec.find("rect", "loop-band") if "repeat" not in a["class"]]
    assert (band["data-from"], band["data-to"]) == (str(start), str(end)) == ("1", "2")
    (again,) = sec.find("rect", "repeat")
    assert (again["data-from"], again["data-to"]) == ("2", "3")
    svg = sec.find("svg", "chart")[0]
    x0, unit, left = float(svg["data-x0"]), float(svg["data-unit"]), float(svg["data-left"])
    assert float(band["x"]) == pytest.approx(left + (start - x0) * unit, abs=0.1)
    assert float(band["width"]) == pytest.approx((end - start) * unit, abs=0.1)
    assert sec.find("g", "fault", data_tick="1")  # crash and heal fire in the tick that leads to tick 1
    assert not sec.find("rect", "window-band")


def test_within_window_marks_the_last_T_ticks(run: RunResult) -> None:
    sec = parse(chart_section(render_html([run]), "all_done"))
    (window,) = sec.find("rect", "window-band")
    assert (window["data-from"], window["data-to"]) == ("1", "4")
    assert not sec.find("rect", "loop-band")


def test_trace_table_marks_changed_cells_like_the_text_report(run: RunResult) -> None:
    r = result(run, "no_storm")
    assert r.trace is not None
    html_sec = chart_section(render_html([run]), "no_storm")
    body = re.search(r'<table class="trace".*?<tbody>(.*?)</tbody>', html_sec, re.DOTALL)
    assert body
    trs = re.findall(r"<tr id=[^>]*>(.*?)</tr>", body.group(1), re.DOTALL)
    assert len(trs) == len(rows(r.trace)) == 3
    cells = [re.findall(r"<td( class=\"changed\")?>([^<]*)</td>", tr, re.DOTALL) for tr in trs]
    # tick 1: idle 3->0, waiting 0->3, free 3->0 changed; done, load, load before the tick
    # (first shown here: not a change), up did not
    assert [(v, bool(c)) for c, v in cells[1]] == [
        ("1", False), ("ask x3, crash x1, heal x1", False), ("0", True), ("3", True), ("0", False),
        ("0", True), ("0", False), ("0", False), ("true", False), ("0", False)]
    assert next(v for _c, v in cells[2]) == "2 (= 1)"
    assert 'class="loop-start in-loop"' in body.group(1)


def test_mid_tick_witness_ends_half_a_tick_on(run: RunResult) -> None:
    r = result(run, "crashed")
    assert r.trace is not None
    data = chart_data(run.model, r.trace, r.check)
    assert [p.x for p in data.points] == [0, 0.5]
    assert data.points[-1].faults == ("crash",)
    assert "0 (mid-tick)" in chart_section(render_html([run]), "crashed")


def _with_diagnosis(run: RunResult, d: Diagnosis) -> RunResult:
    results = [dataclasses.replace(r, diagnosis=d) if r.check.name == "no_storm" else r for r in run.results]
    return RunResult(run.model, run.engine, results, run.stats)


def _retry_free_run(run: RunResult) -> Trace:
    """A run of the same layout from the loop's entry: the all_done trace's first tick state on."""
    r = result(run, "no_storm")
    assert r.trace is not None
    return Trace(r.trace.states[:1], ())


def test_sustained_diagnosis_draws_the_counterfactual_beside(run: RunResult) -> None:
    witness = result(run, "all_done").trace
    assert witness is not None
    d = Diagnosis(StormCause.SUSTAINED, "Three clients retry `again` every tick; without it one would get through.",
                  period=1, retries_per_tick=(("again", 3.0),), retrying_nodes=3, recovery_ticks=2,
                  witness=witness, blocked=())
    text = render_html([_with_diagnosis(run, d)])
    sec = chart_section(text, "no_storm")
    page = parse(sec)
    assert page.find("div", "diagnosis", data_cause="sustained")
    assert "Three clients retry `again` every tick" in sec
    assert "progress happens within 2 ticks" in sec and "<code>again</code> 3" in sec
    charts = page.find("svg", "chart")
    assert [c["id"] for c in charts][1].endswith("-retry-free") and len(charts) == 2
    # the counterfactual's ticks start at the loop's entry (tick 1)
    cf = sec[sec.index('class="counterfactual"'):]
    ticks = re.findall(r'class="xtick" data-tick="([\d.]+)"', cf)
    assert ticks[0] == "1" and ticks[-1] == str(1 + witness.ticks)
    assert len(re.findall(r'class="series state"', cf)) >= 3


def test_futile_diagnosis_says_why_and_draws_no_counterfactual(run: RunResult) -> None:
    d = Diagnosis(StormCause.FUTILE, "No slot is ever freed.", period=1, retries_per_tick=(("again", 3.0),),
                  retrying_nodes=3, recovery_ticks=None, witness=_retry_free_run(run),
                  blocked=("`get` needs free > 0, and nothing raises free",))
    sec = chart_section(render_html([_with_diagnosis(run, d)]), "no_storm")
    page = parse(sec)
    assert page.find("div", "diagnosis", data_cause="futile")
    assert page.find("li", "blocked") and "nothing raises free" in sec
    assert len(page.find("svg", "chart")) == 1 and 'class="counterfactual"' not in sec


def test_coverage_and_vacuity_notes(run: RunResult) -> None:
    results = [dataclasses.replace(r, vacuous="the assumption never holds") if r.check.name == "nonneg" else r
               for r in run.results]
    text = render_html([RunResult(run.model, run.engine, results, run.stats, never_fired=("never",))])
    page = parse(text)
    assert page.find("p", "coverage") and "<code>never</code>" in text
    assert page.find("div", "vacuous") and "holds vacuously: the assumption never holds" in text
    assert run.never_fired == ("never",)  # the engine's own coverage finds the dead rule
    plain = parse(render_html([dataclasses.replace(run, never_fired=())]))
    assert not plain.find("p", "coverage") and not plain.find("div", "vacuous") and not plain.find("span", "vacuous")


def test_quiet_draws_violations_only_and_text_is_escaped(run: RunResult) -> None:
    quiet = render_html([run], quiet=True)
    assert len(parse(quiet).find("svg", "chart")) == 2
    odd = dataclasses.replace(run.model, file="<b>web&.storm")
    text = render_html([RunResult(odd, run.engine, run.results, run.stats)])
    assert "&lt;b&gt;web&amp;.storm" in text and "<b>web" not in text


def test_without_the_extra_it_says_how_to_install(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "web.storm"
    spec.write_text(WEB)
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 raises ImportError
    _template.cache_clear()
    monkeypatch.setattr("checker.report.html._template", _template.__wrapped__)
    assert main(["check", str(spec), "--format", "html", "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err == f"stormproof: error: {INSTALL_HINT}\n"
    assert not (tmp_path / "r.html").exists()


def test_holds_bounded_and_unknown_render(run: RunResult) -> None:
    r0 = run.results[0]
    bounded = dataclasses.replace(r0, verdict=Verdict.HOLDS_BOUNDED, bound=7, reason=None)
    unknown = dataclasses.replace(r0, verdict=Verdict.UNKNOWN, reason="state limit 10 hit")
    text = render_html([RunResult(run.model, run.engine, [bounded, unknown], run.stats, CheckOptions(ticks=7))])
    assert "holds up to 7 ticks" in text and "state limit 10 hit" in text
    assert re.search(r"<th scope=\"row\">tick bound</th><td>7</td>", text)
