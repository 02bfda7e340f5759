"""Renderers chosen by name; they render and never decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from checker.engines.base import RunResult
from checker.report.html import render_html
from checker.report.json_report import render_json
from checker.report.junit import render_junit
from checker.report.sarif import render_sarif
from checker.report.text import render_text


class Renderer(Protocol):
    """Render runs; `quiet` drops witness traces, `full_trace` unfolds repeated ticks (the
    formats that print trace tables: text, junit; json, sarif and html list every tick)."""

    def __call__(self, runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str: ...


REPORTERS: dict[str, Renderer] = {
    "text": render_text,
    "html": render_html,
    "json": render_json,
    "junit": render_junit,
    "sarif": render_sarif,
}

__all__ = ["REPORTERS", "render_html", "render_json", "render_junit", "render_sarif", "render_text"]
