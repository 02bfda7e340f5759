"""The HTML report in a real headless Chromium: no console error, no request, the chart as drawn.

One browser launch serves every test here (module-scoped). Driven with playwright over Debian's
`/usr/bin/chromium` (playwright's own browser download cannot work offline; it is never used).
Skipped, with the reason, only when chromium or playwright is missing outside CI; in CI
(`CI=true`, where `.ci/run` installs chromium) a missing browser fails.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_html import WEB

from checker.engines import CheckOptions, RunResult, get_engine
from checker.engines.base import Diagnosis, StormCause
from checker.model import load_text
from checker.report.html import render_html

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI") == "true"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

if not IN_CI and not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); CI installs it",
                allow_module_level=True)
if not IN_CI:
    pytest.importorskip("playwright", reason="the playwright package is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, sync_playwright


def _report() -> str:
    model = load_text(WEB, "web.storm")
    run = get_engine("explicit").run(model, CheckOptions(ticks=20))
    retry_free = next(r for r in run.results if r.check.name == "all_done").trace
    d = Diagnosis(StormCause.SUSTAINED, "Three clients retry `again` every tick.", period=1,
                  retries_per_tick=(("again", 3.0),), retrying_nodes=3, recovery_ticks=2,
                  witness=retry_free, blocked=())
    results = [dataclasses.replace(r, diagnosis=d) if r.check.name == "no_storm" else r for r in run.results]
    return render_html([RunResult(run.model, run.engine, results, run.stats)])


@dataclasses.dataclass
class Loaded:
    page: Page
    errors: list[str]
    requests: list[str]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    report = tmp_path_factory.mktemp("html") / "report.html"
    report.write_text(_report(), encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="stormproof-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri(), wait_until="load")
            yield Loaded(page, errors, requests)
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def chart(loaded: Loaded, check: str) -> str:
    """A CSS selector for the main chart of one check's trace section."""
    return f'section.trace[data-check="{check}"] .charts figure:first-child svg.chart'


def test_loads_with_no_console_error_and_no_network_request(loaded: Loaded) -> None:
    assert loaded.errors == []
    assert [u for u in loaded.requests if not u.startswith("file://")] == []
    assert len(loaded.requests) == 1  # the page itself: no image, font, script or style to fetch
    assert loaded.page.title() == "stormproof report: web"


def test_chart_has_one_visible_series_per_state(loaded: Loaded) -> None:
    series: list[dict[str, Any]] = loaded.page.eval_on_selector_all(
        chart(loaded, "no_storm") + " polyline.series.state:not(.repeat)",
        "els => els.map(e => ({id: e.dataset.series, w: e.getBBox().width, colour: getComputedStyle(e).stroke}))")
    assert [s["id"] for s in series] == ["client.idle", "client.waiting", "client.done"]
    assert all(s["w"] > 0 for s in series)
    assert len({s["colour"] for s in series}) == 3
    counterfactual = loaded.page.locator(
        'section.trace[data-check="no_storm"] figure.counterfactual polyline.series.state:not(.repeat)')
    assert counterfactual.count() == 3


def test_loop_band_spans_the_loops_ticks(loaded: Loaded) -> None:
    sel = chart(loaded, "no_storm")
    band = loaded.page.locator(sel + " rect.loop-band:not(.repeat)")
    start, end = band.get_attribute("data-from"), band.get_attribute("data-to")
    assert (start, end) == ("1", "2")
    box = band.bounding_box()
    assert box is not None

    def tick_x(sel: str, tick: str) -> float:
        b = loaded.page.locator(f'{sel} text.xtick[data-tick="{tick}"]').first.bounding_box()
        assert b is not None
        return b["x"] + b["width"] / 2

    assert box["x"] == pytest.approx(tick_x(sel, start), abs=1.5)
    assert box["x"] + box["width"] == pytest.approx(tick_x(sel, end), abs=1.5)
    again = loaded.page.locator(sel + " rect.loop-band.repeat").bounding_box()
    assert again is not None and again["x"] == pytest.approx(box["x"] + box["width"], abs=1.5)
    within = chart(loaded, "all_done")
    window = loaded.page.locator(within + " rect.window-band").bounding_box()
    assert window is not None
    assert window["x"] == pytest.approx(tick_x(within, "1"), abs=1.5)
    assert window["x"] + window["width"] == pytest.approx(tick_x(within, "4"), abs=1.5)


def test_hovering_a_tick_highlights_its_table_row(loaded: Loaded) -> None:
    sel = chart(loaded, "no_storm")
    chart_id = loaded.page.locator(sel).get_attribute("id")
    loaded.page.locator(f'{sel} rect.hit[data-row="1"]').hover()
    assert "on" in (loaded.page.locator(f"#{chart_id}-row-1").get_attribute("class") or "")
    loaded.page.mouse.move(0, 0)
    assert "on" not in (loaded.page.locator(f"#{chart_id}-row-1").get_attribute("class") or "")


def test_screenshot_of_the_chart_is_not_blank(loaded: Loaded) -> None:
    png = loaded.page.locator(chart(loaded, "no_storm")).screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    stats: dict[str, float] = loaded.page.evaluate(
        """async (b64) => {
             const img = new Image(); img.src = "data:image/png;base64," + b64; await img.decode();
             const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
             const g = c.getContext("2d"); g.drawImage(img, 0, 0);
             const d = g.getImageData(0, 0, c.width, c.height).data;
             const colours = new Set(); let ink = 0;
             for (let i = 0; i < d.length; i += 4) {
               colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
               if (d[i] + d[i + 1] + d[i + 2] < 600) ink++;
             }
             return {w: c.width, h: c.height, colours: colours.size, ink: ink / (d.length / 4)};
           }""", base64.b64encode(png).decode())
    assert stats["w"] > 300 and stats["h"] > 200
    assert stats["colours"] > 20  # the state lines, bars, bands and text, not one flat fill
    assert 0.01 < stats["ink"] < 0.9
