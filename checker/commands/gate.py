"""`stormproof gate SPEC... --base GITREF`: fail only on regressions against a git revision.

Each spec is read twice: as it is in the working tree, and as it was at GITREF (`git show
REF:path`, the path taken relative to the repository root). Both are checked with the same
options. A check regresses when it held at the base (holds, or holds up to the bound; with
`--strict` only holds) and is now violated or unknown, when it held non-vacuously and now
holds only vacuously, or when it was deleted (a deleted
spec deletes all its checks). A check new since the base (in a new spec or an old one) is
judged as `check` would: a violation counts, an unknown does not. A check undecided at both
ends (unknown, or bounded under `--strict`) is reported as such; with `--strict` it fails the
gate too (exit 3 when nothing regressed). The trace of every regression is printed.
Exit 1 on any regression, else 0 (or 3, see above); 2 on bad input.

`--format json|junit|sarif` writes the same rows for CI: one JUnit test case per check, a
failure per regression; one SARIF result per check, level `error` for a regression.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from checker import __version__
from checker.commands.options import (
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    add_check_options,
    add_full_trace_option,
    check_only,
    check_options,
    parse_set,
    subparser,
    write_output,
)
from checker.engines.base import CheckResult, RunResult, Verdict
from checker.engines.compare import decided
from checker.engines.run import run_checks
from checker.errors import SpecError, UsageError, did_you_mean
from checker.model import ir, load_spec, load_text
from checker.report import sarif
from checker.report.explain import explain
from checker.report.json_report import itf_trace
from checker.report.junit import classname, trace_text
from checker.report.record import run_line, run_record
from checker.report.text import result_text

NAME = "gate"
FORMATS = ("text", "json", "junit", "sarif")


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "check specs against a git revision and fail only on regressions",
        "Check each spec as it is now and as it was at --base GITREF, with the same options.\n"
        "Exit 1 only when a check that held at the base is now violated or unknown, or a check\n"
        "was deleted; a spec or check new since the base fails only if it is violated.",
    )
    add_check_options(p)
    p.add_argument("--base", required=True, metavar="GITREF",
                   help="the git revision to compare with (a branch, tag, commit, or e.g. HEAD~1)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--strict", action="store_true",
                   help="'holds up to B ticks' does not count as holding, and a check undecided at both "
                        "ends fails the gate (exit 3)")
    add_full_trace_option(p)


# ---- git -------------------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("gate needs git, and no 'git' program was found on PATH") from None


def repo_root(cwd: Path) -> Path:
    p = _git(["rev-parse", "--show-toplevel"], cwd)
    if p.returncode != 0:
        raise UsageError(f"not in a git repository ({cwd}): gate reads each spec as it was at --base GITREF")
    return Path(p.stdout.strip()).resolve()


def verify_ref(ref: str, root: Path) -> str:
    """Return the commit id of `ref`, or raise UsageError with a 'did you mean'."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a git revision")
    p = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    if p.returncode != 0 or not p.stdout.strip():
        refs = _git(["for-each-ref", "--format=%(refname:short)"], root).stdout.split()
        hint = did_you_mean(ref, refs + ["HEAD"])
        raise UsageError(f"--base {ref}: no such git revision in {root}" + (f"; {hint}" if hint else ""))
    return p.stdout.strip()


def _object_type(commit: str, rel: str, root: Path) -> str | None:
    p = _git(["cat-file", "-t", f"{commit}:{rel}"], root)
    return p.stdout.strip() if p.returncode == 0 else None


def read_at(commit: str, rel: str, root: Path) -> str:
    p = subprocess.run(["git", "show", f"{commit}:{rel}"], cwd=root, capture_output=True, check=False)
    if p.returncode != 0:
        raise UsageError(f"cannot read {rel} at {commit[:12]}: {p.stderr.decode(errors='replace').strip()}")
    try:
        return p.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{rel} at {commit[:12]} is not UTF-8 text") from None


# ---- comparing -------------------------------------------------------------------------------


@dataclass
class Row:
    check: str
    before: CheckResult | None  # None: the check (or the spec) is new since the base
    after: CheckResult | None  # None: the check (or the spec) was deleted
    regressed: bool
    note: str
    undecided: bool = False  # unknown (or, with --strict, bounded) at both ends


@dataclass
class SpecGate:
    spec: str
    base_model: ir.Model | None
    model: ir.Model | None
    rows: list[Row]
    now: RunResult | None = None


def _held(strict: bool) -> tuple[Verdict, ...]:
    return (Verdict.HOLDS,) if strict else (Verdict.HOLDS, Verdict.HOLDS_BOUNDED)


def _undecided(r: CheckResult, strict: bool) -> bool:
    return r.verdict is Verdict.UNKNOWN or (strict and r.verdict is Verdict.HOLDS_BOUNDED)


def compare(spec: str, base: RunResult | None, now: RunResult | None, strict: bool = False) -> SpecGate:
    """Pair the checks of both versions by name and decide which regressed."""
    held = _held(strict)
    before = {r.check.name: r for r in base.results} if base else {}
    after = {r.check.name: r for r in now.results} if now else {}
    names = list(after) + [n for n in before if n not in after]
    rows = []
    for name in names:
        b, a = before.get(name), after.get(name)
        if a is None:
            rows.append(Row(name, b, None, True, "spec deleted" if now is None else "check deleted"))
        elif b is None:
            note = "new spec" if base is None else "new check"
            rows.append(Row(name, None, a, a.verdict is Verdict.VIOLATED, note))
        elif b.verdict in held and a.verdict not in held:
            rows.append(Row(name, b, a, True, ""))
        elif b.verdict in held and b.vacuous is None and a.vacuous is not None:
            rows.append(Row(name, b, a, True, f"now vacuous: {a.vacuous}"))
        elif b.verdict not in held and a.verdict in held:
            rows.append(Row(name, b, a, False, "fixed"))
        elif b.verdict is Verdict.VIOLATED and a.verdict is Verdict.VIOLATED:
            rows.append(Row(name, b, a, False, "violated at the base too"))
        elif _undecided(b, strict) and _undecided(a, strict):
            rows.append(Row(name, b, a, False, "undecided at both ends", undecided=True))
        else:
            rows.append(Row(name, b, a, False, ""))
    return SpecGate(spec, base.model if base else None, now.model if now else None, rows, now)


def _cell(r: CheckResult | None, missing: str) -> str:
    return missing if r is None else result_text(r)


def _regression_text(g: SpecGate, row: Row, ref: str, full_trace: bool = False) -> str:
    if row.after is None or g.model is None:
        return f"{g.spec}: {row.check}: {row.note} since {ref}."
    head = f"{g.spec}: {row.check}: {explain(g.model, row.after)}"
    if row.after.trace is None:
        return head
    return f"{head}\n{trace_text(g.model, row.after, full_trace)}"


def render(gates: Sequence[SpecGate], ref: str, strict: bool = False, full_trace: bool = False) -> str:
    out: list[str] = []
    for g in gates:
        out.append(f"{g.spec}: compared with {ref}")
        if g.now is not None:
            out.append(f"run: {run_line(g.now)}")
        table = [
            [row.check, _cell(row.before, "-"), _cell(row.after, "-"), "yes" if row.regressed else "no", row.note]
            for row in g.rows
        ]
        if table:
            out.append(tabulate(table, headers=["check", "before", "after", "regressed", "note"], tablefmt="simple"))
        else:
            out.append("  (no checks)")
        out.append("")
    regressions = [(g, row) for g in gates for row in g.rows if row.regressed]
    for g, row in regressions:
        out.append(_regression_text(g, row, ref, full_trace))
        out.append("")
    undecided = [(g, row) for g in gates for row in g.rows if row.undecided]
    for g, row in undecided:
        reason = row.after.reason if row.after is not None and row.after.reason else "no reason given"
        out.append(f"{g.spec}: {row.check}: undecided at both ends ({_cell(row.before, '-')} at {ref}, "
                   f"{_cell(row.after, '-')} now: {reason}); the gate cannot tell whether it regressed"
                   + ("" if strict else " (--strict fails the gate on it)") + ".")
    if regressions:
        specs = len({g.spec for g, _ in regressions})
        out.append(f"gate: {len(regressions)} regression(s) in {specs} of {len(gates)} spec(s) against {ref}")
    else:
        out.append(f"gate: no regressions in {len(gates)} spec(s) against {ref}")
    if undecided:
        out.append(f"gate: {len(undecided)} check(s) undecided at both ends" + (", which --strict counts" if strict else ""))
    return "\n".join(out) + "\n"


def _row_json(row: Row) -> dict[str, Any]:
    def side(r: CheckResult | None) -> dict[str, Any] | None:
        if r is None:
            return None
        return {"status": r.verdict.value, "ticks": r.ticks, "bound": r.bound, "reason": r.reason,
                "complete": decided(r)}
    return {"check": row.check, "before": side(row.before), "after": side(row.after),
            "regressed": row.regressed, "undecided": row.undecided, "note": row.note}


def render_json(gates: Sequence[SpecGate], ref: str, commit: str) -> str:
    doc = {
        "stormproof": __version__,
        "base": ref,
        "commit": commit,
        "regressions": sum(row.regressed for g in gates for row in g.rows),
        "specs": [{
            "spec": g.spec,
            "run": run_record(g.now) if g.now is not None else None,
            "rows": [{**_row_json(row), "trace": (itf_trace(g.model, row.after.trace)
                                                   if row.regressed and row.after is not None and g.model
                                                   and row.after.trace is not None else None)}
                     for row in g.rows],
        } for g in gates],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_junit(gates: Sequence[SpecGate], ref: str, strict: bool, full_trace: bool = False) -> str:
    root = ET.Element("testsuites", {"name": f"stormproof gate against {ref}"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for g in gates:
        fails = sum(row.regressed for row in g.rows)
        errors = sum(row.undecided and strict and not row.regressed for row in g.rows)
        suite = ET.SubElement(root, "testsuite", {
            "name": g.spec, "tests": str(len(g.rows)), "failures": str(fails), "errors": str(errors),
            "skipped": "0", "file": g.spec,
        })
        if g.now is not None:
            props = ET.SubElement(suite, "properties")
            for name, value in [("base", ref), *run_record(g.now).items()]:
                ET.SubElement(props, "property", {"name": name, "value": value if isinstance(value, str)
                                                  else json.dumps(value, sort_keys=True)})
        for k, v in (("tests", len(g.rows)), ("failures", fails), ("errors", errors)):
            totals[k] += v
        for row in g.rows:
            case = ET.SubElement(suite, "testcase", {"name": row.check, "classname": junit_classname(g)})
            line = f"{row.check}: {_cell(row.before, '-')} at {ref}, {_cell(row.after, '-')} now" + (
                f" ({row.note})" if row.note else "")
            if row.regressed:
                fail = ET.SubElement(case, "failure", {"message": f"regressed since {ref}: {line}", "type": "regression"})
                fail.text = _regression_text(g, row, ref, full_trace) + "\n"
            elif row.undecided and strict:
                err = ET.SubElement(case, "error", {"message": f"undecided at both ends: {line}", "type": "undecided"})
                err.text = line + "\n"
            ET.SubElement(case, "system-out").text = line + "\n"
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_sarif(gates: Sequence[SpecGate], ref: str) -> str:
    """One result per check of the working tree: `error` for a regression, `none` otherwise."""
    runs = [g.now for g in gates if g.now is not None]
    log = json.loads(sarif.render_sarif(runs))
    results: list[dict[str, Any]] = []
    for g in gates:
        for row in g.rows:
            if g.now is None or row.after is None:
                if row.regressed:  # a deleted check: a result at the spec's first line
                    results.append(sarif.deleted_result(g.spec, row.check, f"{row.note} since {ref}"))
                continue
            res = sarif.check_result(g.now, row.after)
            res["kind"] = "fail" if row.regressed else ("open" if row.undecided else "pass")
            res["level"] = "error" if row.regressed else "none"
            res["message"]["text"] = (f"Regressed since {ref}: " if row.regressed else
                                      f"Compared with {ref} ({_cell(row.before, '-')} there): ") + res["message"]["text"]
            res["properties"]["gate"] = _row_json(row)
            results.append(res)
    log["runs"][0]["results"] = results
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def junit_classname(g: SpecGate) -> str:
    return classname(g.model) if g.model is not None else g.spec


# ---- the command -------------------------------------------------------------------------------


def _load_base(text: str, rel: str, ref: str, overrides: dict[str, ir.Value]) -> ir.Model:
    try:
        return load_text(text, f"{ref}:{rel}", overrides)
    except SpecError as e:
        extra = f"this is the spec as it was at --base {ref}, not the working tree"
        e.hint = f"{e.hint}; {extra}" if e.hint else extra
        raise
    except UsageError as e:
        raise UsageError(f"{e} (in {rel} as it was at --base {ref})") from None


def run(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    cwd = Path.cwd()
    root = repo_root(cwd)
    commit = verify_ref(args.base, root)
    loaded: list[tuple[str, ir.Model | None, ir.Model | None, bool]] = []
    for spec in args.specs:
        path = Path(spec)
        try:
            rel = (cwd / path).resolve().relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{spec}: not inside the git repository {root}") from None
        kind = _object_type(commit, rel, root)
        if kind is not None and kind != "blob":
            raise UsageError(f"{spec}: is a {kind} at {args.base}, not a spec file")
        exists_now = path.is_file()
        if kind is None and not exists_now:
            if path.exists():
                raise UsageError(f"{spec}: is a directory, not a spec file")
            raise UsageError(f"{spec}: no such file, neither in the working tree nor at {args.base}")
        model = load_spec(path, overrides) if exists_now else None
        base_text = read_at(commit, rel, root) if kind is not None else None
        base = _load_base(base_text, rel, args.base, overrides) if base_text is not None else None
        same = exists_now and base_text is not None and base_text == path.read_text(encoding="utf-8")
        loaded.append((spec, base, model, same))
    check_only((c.name for _, b, m, _ in loaded for x in (b, m) if x is not None for c in x.checks), args.only)
    opts = check_options(args)
    gates = []
    for spec, base, model, same in loaded:
        now_run = run_checks(model, args.engine, opts, overrides) if model is not None else None
        base_run: RunResult | None
        if same and now_run is not None and base is not None:
            base_run = RunResult(base, now_run.engine, now_run.results, now_run.stats)  # identical text
        else:
            base_run = run_checks(base, args.engine, opts, overrides) if base is not None else None
        gates.append(compare(spec, base_run, now_run, args.strict))
    if args.format == "json":
        text = render_json(gates, args.base, commit)
    elif args.format == "junit":
        text = render_junit(gates, args.base, args.strict, args.full_trace)
    elif args.format == "sarif":
        text = render_sarif(gates, args.base)
    else:
        text = render(gates, args.base, args.strict, args.full_trace)
    write_output(text, args.output)
    if any(row.regressed for g in gates for row in g.rows):
        return EXIT_VIOLATED
    if args.strict and any(row.undecided for g in gates for row in g.rows):
        return EXIT_UNKNOWN
    return EXIT_OK
