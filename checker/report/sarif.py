"""The SARIF 2.1.0 report: one result per violated or unknown check, at the check's line.

Code review tools (GitHub code scanning, VS Code's SARIF viewer) annotate the spec with it.
One rule per check kind, always listed in the same order so `ruleIndex` is stable. A
violated check is a result of level `error` and kind `fail`; an unknown one is `warning` and
`open` (SARIF's word for "the tool could not decide"). The message holds the one-sentence
explanation, then the per-tick trace; `partialFingerprints` depend on the spec path and the
check name only, so an alert follows its check when lines move.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from checker import __version__
from checker.engines.base import CheckResult, RunResult, Verdict
from checker.model import ir
from checker.report.explain import diagnosis_fields, explain
from checker.report.junit import trace_text
from checker.report.text import kind_text, result_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

RULES: tuple[tuple[ir.CheckKind, str, str], ...] = (
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
)
RULE_INDEX = {kind: i for i, (kind, _, _) in enumerate(RULES)}


def rule_id(kind: ir.CheckKind) -> str:
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


def _result(model: ir.Model, r: CheckResult) -> dict[str, Any]:
    c = r.check
    uri = artifact_uri(model.file)
    region: dict[str, Any] = {"startLine": c.span.line, "startColumn": max(1, c.span.col)}
    if c.span.end_line >= c.span.line and c.span.end_line > 0:
        region["endLine"] = c.span.end_line
        if c.span.end_col > 0 and (c.span.end_line > c.span.line or c.span.end_col > c.span.col):
            region["endColumn"] = c.span.end_col
    sentence = explain(model, r)
    head = f"Check '{c.name}' ({kind_text(c)}) in protocol {model.name}: {result_text(r)}."
    if r.verdict is Verdict.VIOLATED:
        text = f"{head} {sentence}"
        if r.trace is not None:
            text += "\n\n" + trace_text(model, r)
    else:
        text = f"{head} {sentence}"
    violated = r.verdict is Verdict.VIOLATED
    out: dict[str, Any] = {
        "ruleId": rule_id(c.kind),
        "ruleIndex": RULE_INDEX[c.kind],
        "level": "error" if violated else "warning",
        "kind": "fail" if violated else "open",
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": region,
            },
            "logicalLocations": [{"name": c.name, "fullyQualifiedName": f"{model.name}.{c.name}",
                                  "kind": "member"}],
        }],
        "partialFingerprints": {"stormproofCheck/v1": _fingerprint(uri, c.name)},
        "properties": {"verdict": r.verdict.value, "check": c.name, "engine": r.engine,
                       "ticks": r.ticks, "bound": r.bound, "modelError": r.model_error,
                       "vacuous": r.vacuous,
                       "diagnosis": diagnosis_fields(r.diagnosis) if r.diagnosis is not None else None},
    }
    return out


def render_sarif(runs: Sequence[RunResult], quiet: bool = False) -> str:
    rules = [{
        "id": "stormproof/" + name,
        "name": name.replace("-", "_"),
        "shortDescription": {"text": f"stormproof {kind.value} check"},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": "error"},
        "help": {"text": text + " See spec/ in the stormproof sources for the language reference."},
    } for kind, name, text in RULES]
    results = []
    artifacts: dict[str, None] = {}
    for run in runs:
        for r in run.results:
            if r.verdict in (Verdict.VIOLATED, Verdict.UNKNOWN):
                results.append(_result(run.model, r))
                artifacts[artifact_uri(run.model.file)] = None
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
            "artifacts": [{"location": {"uri": u}} for u in artifacts],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
