"""`stormproof gate SPEC... --base GITREF`: fail only on regressions against a git revision.

Each spec is read twice: as it is in the working tree, and as it was at GITREF (`git show
REF:path`, the path taken relative to the repository root). Both are checked with the same
options. A check regresses when it held at the base (holds, or holds up to the bound) and is
now violated or unknown, when it held non-vacuously and now holds only vacuously, or when it
was deleted (a deleted spec deletes all its checks). A
check new since the base (in a new spec or an old one) is judged as `check` would: a
violation counts, an unknown does not. Exit 1 on any regression, else 0; 2 on bad input.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from checker.commands.options import add_check_options, check_only, check_options, parse_set, subparser, write_output
from checker.engines.base import CheckResult, RunResult, Verdict
from checker.engines.run import run_checks
from checker.errors import SpecError, UsageError, did_you_mean
from checker.model import ir, load_spec, load_text
from checker.report.explain import explain
from checker.report.text import result_text

NAME = "gate"
HELD = (Verdict.HOLDS, Verdict.HOLDS_BOUNDED)


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


@dataclass
class SpecGate:
    spec: str
    base_model: ir.Model | None
    model: ir.Model | None
    rows: list[Row]


def compare(spec: str, base: RunResult | None, now: RunResult | None) -> SpecGate:
    """Pair the checks of both versions by name and decide which regressed."""
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
        elif b.verdict in HELD and a.verdict not in HELD:
            rows.append(Row(name, b, a, True, ""))
        elif b.verdict in HELD and b.vacuous is None and a.vacuous is not None:
            rows.append(Row(name, b, a, True, f"now vacuous: {a.vacuous}"))
        elif b.verdict not in HELD and a.verdict in HELD:
            rows.append(Row(name, b, a, False, "fixed"))
        elif b.verdict is Verdict.VIOLATED and a.verdict is Verdict.VIOLATED:
            rows.append(Row(name, b, a, False, "violated at the base too"))
        else:
            rows.append(Row(name, b, a, False, ""))
    return SpecGate(spec, base.model if base else None, now.model if now else None, rows)


def _cell(r: CheckResult | None, missing: str) -> str:
    return missing if r is None else result_text(r)


def render(gates: Sequence[SpecGate], ref: str) -> str:
    out: list[str] = []
    for g in gates:
        out.append(f"{g.spec}: compared with {ref}")
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
        if row.after is not None and g.model is not None:
            out.append(f"{g.spec}: {row.check}: {explain(g.model, row.after)}")
        else:
            out.append(f"{g.spec}: {row.check}: {row.note} since {ref}.")
    if regressions:
        specs = len({g.spec for g, _ in regressions})
        out.append(f"gate: {len(regressions)} regression(s) in {specs} of {len(gates)} spec(s) against {ref}")
    else:
        out.append(f"gate: no regressions in {len(gates)} spec(s) against {ref}")
    return "\n".join(out) + "\n"


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
        now_run = run_checks(model, args.engine, opts) if model is not None else None
        base_run: RunResult | None
        if same and now_run is not None and base is not None:
            base_run = RunResult(base, now_run.engine, now_run.results, now_run.stats)  # identical text
        else:
            base_run = run_checks(base, args.engine, opts) if base is not None else None
        gates.append(compare(spec, base_run, now_run))
    write_output(render(gates, args.base))
    return 1 if any(row.regressed for g in gates for row in g.rows) else 0
