"""The JUnit XML report: one test case per (spec, check), so every CI system can show it.

It validates against the Surefire/Jenkins `junit-10.xsd` (tests/schemas/), the schema that
Jenkins, GitLab and most GitHub test reporters accept: `<testsuites>` holding one
`<testsuite>` per spec (with the spec in `file`), one `<testcase>` per check. A violated
check is a `<failure>` (message: the one-sentence explanation; body: the per-tick trace);
an unknown check is an `<error>` (message: the reason), since nothing was decided; a check
that holds only up to the tick bound passes, with a note in `<system-out>`. The run record
(version, engine, constants, `--set`, bound, limits) is in each suite's `<properties>`, and
every test case says in `<system-out>` whether its result is complete.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePath

from checker.engines.base import CheckResult, RunResult, Verdict
from checker.model import ir
from checker.report.explain import explain
from checker.report.record import check_record, run_record
from checker.report.text import kind_text, render_trace, result_text


def trace_text(model: ir.Model, r: CheckResult, full: bool = False) -> str:
    """The per-tick trace table of `r` with its legend and explanation, or just the explanation."""
    sentence = explain(model, r)
    if r.trace is None:
        return sentence
    lines = [render_trace(model, r.trace, full=full)]
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
    return {"tests": str(len(results)), "failures": str(failures), "errors": str(errors)}


def _property_value(v: object) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True)


def test_case(run: RunResult, r: CheckResult, full_trace: bool = False) -> ET.Element:
    """The `<testcase>` of one check (the one place its contents are built)."""
    m = run.model
    case = ET.Element("testcase", {"name": r.check.name, "classname": classname(m)})
    what = f"{r.check.name} ({kind_text(r.check)}) at {m.file}:{r.check.span.line}: {result_text(r)}"
    rec = check_record(run, r)
    facts = ", ".join(f"{k}: {_property_value(v)}" for k, v in rec.items())
    if r.verdict is Verdict.VIOLATED:
        kind = "violated" if r.diagnosis is None else f"violated ({r.diagnosis.cause.value})"
        fail = ET.SubElement(case, "failure", {"message": explain(m, r), "type": kind})
        fail.text = f"{what}\n{trace_text(m, r, full_trace)}\n"
    elif r.verdict is Verdict.UNKNOWN:
        err = ET.SubElement(case, "error", {"message": r.reason or "unknown", "type": "unknown"})
        err.text = f"{what}\n{explain(m, r)}\n"
    out = ET.SubElement(case, "system-out")
    out.text = f"{what}\n{explain(m, r)}\n{facts}\n"
    return case


def render_junit(runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str:
    all_results = [r for run in runs for r in run.results]
    total = sum(run.stats.seconds for run in runs)
    root = ET.Element("testsuites", {"name": "stormproof", **_counts(all_results), "time": f"{total:.3f}"})
    for run in runs:
        m = run.model
        suite = ET.SubElement(root, "testsuite", {
            "name": m.file, **_counts(run.results), "skipped": "0", "time": f"{run.stats.seconds:.3f}",
            "file": m.file,
        })
        props = ET.SubElement(suite, "properties")
        s = run.stats
        facts: list[tuple[str, object]] = [("protocol", m.name), *run_record(run).items(),
                                           ("states", s.states), ("tick_states", s.tick_states)]
        for name, value in facts:
            ET.SubElement(props, "property", {"name": name, "value": _property_value(value)})
        for r in run.results:
            suite.append(test_case(run, r, full_trace))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
