"""The JUnit XML report: one test case per (spec, check), so every CI system can show it.

The shape is the common subset that Jenkins, GitLab, GitHub test reporters and Surefire read:
`<testsuites>` holding one `<testsuite>` per spec, one `<testcase>` per check. A violated
check is a `<failure>` (message: the one-sentence explanation; body: the per-tick trace);
an unknown check is an `<error>` (message: the reason), since nothing was decided; a check
that holds only up to the tick bound passes, with a note in `<system-out>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePath

from checker.engines.base import CheckResult, RunResult, Verdict
from checker.model import ir
from checker.report.explain import explain, rows
from checker.report.text import kind_text, render_trace, result_text


def trace_text(model: ir.Model, r: CheckResult) -> str:
    """The per-tick trace table of `r` with its legend and explanation, or just the explanation."""
    sentence = explain(model, r)
    if r.trace is None:
        return sentence
    lines = [render_trace(model, rows(r.trace))]
    if r.trace.loop_start is not None:
        lines.append("↻ marks the tick state where the loop starts; the last row returns to it, "
                     "and the loop repeats forever.")
    lines.append("* marks a value that changed since the row above.")
    lines.append(sentence)
    return "\n".join(lines)


def classname(model: ir.Model) -> str:
    """The spec path without its suffix, dotted: CI systems group test cases by it."""
    p = PurePath(model.file)
    parts = [x for x in p.with_suffix("").parts if x not in ("/", "\\", ".", "..")]
    return ".".join(parts) or model.name


def _counts(results: Sequence[CheckResult]) -> dict[str, str]:
    failures = sum(r.verdict is Verdict.VIOLATED for r in results)
    errors = sum(r.verdict is Verdict.UNKNOWN for r in results)
    return {"tests": str(len(results)), "failures": str(failures), "errors": str(errors), "skipped": "0"}


def render_junit(runs: Sequence[RunResult], quiet: bool = False) -> str:
    all_results = [r for run in runs for r in run.results]
    total = sum(run.stats.seconds for run in runs)
    root = ET.Element("testsuites", {"name": "stormproof", **_counts(all_results), "time": f"{total:.3f}"})
    for run in runs:
        m = run.model
        suite = ET.SubElement(root, "testsuite", {
            "name": m.file, **_counts(run.results), "time": f"{run.stats.seconds:.3f}",
        })
        props = ET.SubElement(suite, "properties")
        s = run.stats
        for name, value in (("protocol", m.name), ("engine", run.engine), ("states", str(s.states)),
                            ("tick_states", str(s.tick_states)), ("complete", str(s.complete).lower())):
            ET.SubElement(props, "property", {"name": name, "value": value})
        for r in run.results:
            case = ET.SubElement(suite, "testcase", {
                "name": r.check.name, "classname": classname(m),
                "file": m.file, "line": str(r.check.span.line),
            })
            what = f"{r.check.name} ({kind_text(r.check)}): {result_text(r)}"
            if r.verdict is Verdict.VIOLATED:
                kind = "violated" if r.diagnosis is None else f"violated ({r.diagnosis.cause.value})"
                fail = ET.SubElement(case, "failure", {"message": explain(m, r), "type": kind})
                fail.text = f"{what}\n{trace_text(m, r)}\n"
            elif r.verdict is Verdict.UNKNOWN:
                err = ET.SubElement(case, "error", {"message": r.reason or "unknown", "type": "unknown"})
                err.text = f"{what}\n{explain(m, r)}\n"
            elif r.verdict is Verdict.HOLDS_BOUNDED or r.vacuous is not None:
                out = ET.SubElement(case, "system-out")
                out.text = f"{what}\n{explain(m, r)}\n"
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
