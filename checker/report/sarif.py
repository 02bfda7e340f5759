"""The SARIF 2.1.0 report: one result per check, at the check's line, and the run it records.

Code review tools (GitHub code scanning, VS Code's SARIF viewer) annotate the spec with it.
One rule per check kind, always listed in the same order so `ruleIndex` is stable, and one
for spec errors. Every check is a result, whatever its verdict; its `kind` says what was
decided (SARIF 2.1.0 section 3.27.9) and its `level` is `error` only for `fail`, `none`
otherwise (section 3.27.10):

    violated            kind fail, level error (a `reachable` with no witness too)
    holds               kind pass, level none
    holds up to B ticks kind open, level none (nothing found within the bound: not decided)
    unknown             kind open, level none (the engine gave up; the message says why)

The message holds the one-sentence explanation; a trace is also given as a `codeFlow`
whose locations, tick by tick, are the lines of the rules, actions and faults that fired
(with the state after the tick). `partialFingerprints` depend on the spec path and the check
name only, so an alert follows its check when lines move. The run record (version, engine,
constants, `--set`, bound, limits) is in `invocations[0].properties` and `properties`.
A spec that fails to load is one result of the `stormproof/spec-error` rule at its line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from checker import __version__
from checker.engines.base import CheckResult, RunResult, Trace, Verdict
from checker.errors import Span, SpecError
from checker.model import ir
from checker.report.explain import diagnosis_fields, explain, layout, row_cells, rows
from checker.report.junit import trace_text
from checker.report.record import check_record, run_record
from checker.report.text import kind_text, result_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

RuleKey = ir.CheckKind | str  # a check kind, or the name of a rule about the spec itself
RULES: tuple[tuple[RuleKey, str, str], ...] = (
    (ir.CheckKind.INVARIANT, "invariant",
     "An invariant must hold in every reachable state, mid-tick states included."),
    (ir.CheckKind.REACHABLE, "reachable",
     "Some reachable state must satisfy the condition (a sanity check that the model can get there)."),
    (ir.CheckKind.NO_STORM, "no-storm",
     "No fault-free run may retry forever without any progress rule firing (a retry storm)."),
    (ir.CheckKind.RECOVERS, "recovers",
     "Every fair, fault-free run must eventually satisfy the recovery condition."),
    (ir.CheckKind.WITHIN, "recovers-within",
     "Every fault-free run must satisfy the recovery condition within the given number of ticks."),
    ("spec-error", "spec-error", "The spec must parse and elaborate (names, types, constants) before it can be checked."),
    ("deleted-check", "deleted-check", "`stormproof gate`: a check that held at the base revision must not be deleted."),
)
RULE_INDEX = {kind: i for i, (kind, _, _) in enumerate(RULES)}
KIND = {Verdict.VIOLATED: "fail", Verdict.HOLDS: "pass", Verdict.HOLDS_BOUNDED: "open", Verdict.UNKNOWN: "open"}


def rule_id(kind: RuleKey) -> str:
    return "stormproof/" + RULES[RULE_INDEX[kind]][1]


def artifact_uri(path: str) -> str:
    """A relative path with forward slashes (relative to the working directory if absolute)."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return PurePath(os.path.normpath(p)).as_posix()


def _fingerprint(uri: str, check: str) -> str:
    return hashlib.sha256(f"{uri}\0{check}".encode()).hexdigest()[:32]


def _region(span: Span) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, span.line), "startColumn": max(1, span.col)}
    if span.end_line >= span.line and span.end_line > 0:
        region["endLine"] = span.end_line
        if span.end_col > 0 and (span.end_line > span.line or span.end_col > span.col):
            region["endColumn"] = span.end_col
    return region


def _location(uri: str, span: Span, message: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": _region(span)}}
    if message is not None:
        loc["message"] = {"text": message}
    return loc


def code_flow(model: ir.Model, trace: Trace) -> dict[str, Any]:
    """The trace as one thread flow: per tick, a location at each rule, action or fault that
    fired in it (in first-fired order) and at the step that raised a model error, each with
    the state after the tick. A tick in which nothing fired is a location at the `on tick`
    block, or at the first line when there is none."""
    uri = artifact_uri(model.file)
    spans = {e.name: e.span for e in model.events}
    quiet = model.tick[0].span if model.tick else Span(model.file, 1, 1)
    trace_rows = rows(trace)
    lay = layout(model, trace_rows)
    out: list[dict[str, Any]] = []
    for row in trace_rows:
        state = {h: {"text": v} for h, v in zip(lay.headers, row_cells(model, lay, row))}
        steps = [(spans.get(name, quiet), f"{name} x{times}") for name, times in row.fired]
        if row.failing is not None:
            steps.append((spans.get(row.failing, quiet), f"{row.failing} fails (model error)"))
        if not steps:
            steps = [(quiet, "nothing fired")]
        tag = ("loop starts; " if row.loop_start else "") + ("back to the loop start; " if row.closes_loop else "")
        for span, what in steps:
            out.append({"location": _location(uri, span, f"tick {row.label}: {tag}{what}"),
                        "state": state, "nestingLevel": 0, "executionOrder": len(out) + 1})
            tag = ""
    return {"threadFlows": [{"locations": out}]}


def check_result(run: RunResult, r: CheckResult) -> dict[str, Any]:
    """The SARIF result of one check (the one place its properties are built)."""
    model, c = run.model, r.check
    uri = artifact_uri(model.file)
    head = f"Check '{c.name}' ({kind_text(c)}) in protocol {model.name}: {result_text(r)}."
    text = f"{head} {explain(model, r)}"
    if r.verdict is Verdict.VIOLATED and r.trace is not None:
        text += "\n\n" + trace_text(model, r)
    kind = KIND[r.verdict]
    out: dict[str, Any] = {
        "ruleId": rule_id(c.kind),
        "ruleIndex": RULE_INDEX[c.kind],
        "kind": kind,
        "level": "error" if kind == "fail" else "none",
        "message": {"text": text},
        "locations": [{
            **_location(uri, c.span),
            "logicalLocations": [{"name": c.name, "fullyQualifiedName": f"{model.name}.{c.name}", "kind": "member"}],
        }],
        "partialFingerprints": {"stormproofCheck/v1": _fingerprint(uri, c.name)},
        "properties": {"verdict": r.verdict.value, "check": c.name, "ticks": r.ticks, "bound": r.bound,
                       "modelError": r.model_error, "reason": r.reason, "vacuous": r.vacuous,
                       "diagnosis": diagnosis_fields(r.diagnosis) if r.diagnosis is not None else None,
                       **check_record(run, r)},
    }
    if r.trace is not None:
        out["codeFlows"] = [code_flow(model, r.trace)]
    return out


def error_result(error: SpecError, path: str) -> dict[str, Any]:
    """A spec that fails to load: one error result at the place the error names."""
    span = error.span or Span(path, 1, 1)
    uri = artifact_uri(span.file or path)
    text = error.message + (f" ({error.hint})" if error.hint else "")
    return {
        "ruleId": rule_id("spec-error"),
        "ruleIndex": RULE_INDEX["spec-error"],
        "kind": "fail",
        "level": "error",
        "message": {"text": text},
        "locations": [_location(uri, span)],
        "partialFingerprints": {"stormproofSpecError/v1": _fingerprint(uri, text)},
    }


def deleted_result(spec: str, check: str, note: str) -> dict[str, Any]:
    """`gate`: a check deleted since the base, as an error at the spec's first line."""
    uri = artifact_uri(spec)
    return {
        "ruleId": rule_id("deleted-check"),
        "ruleIndex": RULE_INDEX["deleted-check"],
        "kind": "fail",
        "level": "error",
        "message": {"text": f"Check '{check}': {note}."},
        "locations": [_location(uri, Span(spec, 1, 1))],
        "partialFingerprints": {"stormproofCheck/v1": _fingerprint(uri, check)},
    }


def _log(results: list[dict[str, Any]], artifacts: list[str], records: list[dict[str, Any]],
         success: bool) -> str:
    rules = [{
        "id": "stormproof/" + name,
        "name": name.replace("-", "_"),
        "shortDescription": {"text": f"stormproof {kind.value if isinstance(kind, ir.CheckKind) else name} check"},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": "error"},
        "help": {"text": text + " See spec/ in the stormproof sources for the language reference."},
    } for kind, name, text in RULES]
    log = {
        "version": "2.1.0",
        "$schema": SCHEMA_URI,
        "runs": [{
            "tool": {"driver": {
                "name": "stormproof",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": success, "properties": {"specs": records}}],
            "artifacts": [{"location": {"uri": u}} for u in artifacts],
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"stormproof": __version__, "specs": records},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_sarif(runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str:
    results = []
    artifacts: dict[str, None] = {}
    for run in runs:
        artifacts[artifact_uri(run.model.file)] = None
        for r in run.results:
            results.append(check_result(run, r))
    records = [{"spec": artifact_uri(run.model.file), **run_record(run)} for run in runs]
    return _log(results, list(artifacts), records, True)


def render_sarif_error(error: SpecError, path: str) -> str:
    """The SARIF log of a run that stopped because a spec did not load."""
    result = error_result(error, path)
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return _log([result], [uri], [], False)
