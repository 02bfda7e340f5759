"""Renderers chosen by name; they render and never decide."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from checker.engines.base import RunResult
from checker.report.html import render_html
from checker.report.json_report import render_json
from checker.report.junit import render_junit
from checker.report.sarif import render_sarif
from checker.report.text import render_text

Renderer = Callable[[Sequence[RunResult], bool], str]

REPORTERS: dict[str, Renderer] = {
    "text": render_text,
    "html": render_html,
    "json": render_json,
    "junit": render_junit,
    "sarif": render_sarif,
}

__all__ = ["REPORTERS", "render_html", "render_json", "render_junit", "render_sarif", "render_text"]
