"""A pytest plugin: `.storm` specs with `# expect:` headers become test items.

Opt in with `pytest --storm`, or `storm_collect = true` in the `[pytest]` / `[tool.pytest.ini_options]`
section; without either it collects nothing, so a test suite that merely keeps specs in its
tree is not affected. Header lines (comment lines before the first line of spec text):

    # expect: CHECK RESULT [TICKS]   RESULT: holds, holds_bounded, violated or unknown;
                                     TICKS: the trace length in ticks, or null
    # diagnosis: CHECK CAUSE         the storm or no-recovery lasso that violates CHECK (on the
                                     expect line before it) is diagnosed CAUSE: sustained,
                                     futile or mixed
    # run: ARGS                      check the file again with these options (--set, --ticks,
                                     --engine, ...); the expect lines that follow belong to it

Each expect line is one test item, named `CHECK` (or `CHECK[ARGS]` under a `# run:` line),
which fails with the check's one-sentence explanation and its trace when the result (or the
given TICKS) differs. The ini option `storm_args` adds options to every run (e.g.
`--ticks 50`). A file is checked once per run, on its first item.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RESULTS = ("holds", "holds_bounded", "violated", "unknown")
CAUSES = ("sustained", "futile", "mixed")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stormproof", "stormproof protocol specs")
    group.addoption("--storm", action="store_true", default=False,
                    help="collect *.storm specs that have '# expect: CHECK RESULT' header lines as tests")
    parser.addini("storm_collect", type="bool", default=False,
                  help="collect *.storm specs with '# expect:' headers as tests (like --storm)")
    parser.addini("storm_args", default="",
                  help="stormproof check options added to every spec run, e.g. '--ticks 50'")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".storm":
        return None
    config = parent.config
    if not (config.getoption("--storm") or config.getini("storm_collect")):
        return None
    if not header(file_path.read_text(encoding="utf-8", errors="replace"))[1]:
        return None
    return StormFile.from_parent(parent, path=file_path)


@dataclass(frozen=True)
class Expect:
    check: str
    result: str
    ticks: int | None | str  # "any" when no TICKS field is given
    run: int  # index into the runs' argument lists
    line: int  # 0-based line of the expect header
    diagnosis: str | None = None  # from a `# diagnosis: CHECK CAUSE` line of the same run


def header(text: str) -> tuple[list[list[str]], list[Expect | str]]:
    """The run argument lists (the first is the plain run) and the expectations, or error strings."""
    runs: list[list[str]] = [[]]
    expects: list[Expect | str] = []
    for i, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if body.startswith("run:"):
            try:
                runs.append(shlex.split(body[4:]))
            except ValueError as e:
                expects.append(f"line {i + 1}: bad '# run:' line: {e}")
        elif body.startswith("expect:"):
            fields = body[7:].split()
            if len(fields) not in (2, 3) or fields[1] not in RESULTS:
                expects.append(f"line {i + 1}: expected '# expect: CHECK RESULT [TICKS]' with RESULT one of "
                               f"{', '.join(RESULTS)}, got {line!r}")
                continue
            ticks: int | None | str = "any"
            if len(fields) == 3:
                if fields[2] == "null":
                    ticks = None
                else:
                    try:
                        ticks = int(fields[2])
                    except ValueError:
                        expects.append(f"line {i + 1}: TICKS must be a whole number or null, got {fields[2]!r}")
                        continue
            expects.append(Expect(fields[0], fields[1], ticks, len(runs) - 1, i))
        elif body.startswith("diagnosis:"):
            fields = body[10:].split()
            if len(fields) != 2 or fields[1] not in CAUSES:
                expects.append(f"line {i + 1}: expected '# diagnosis: CHECK CAUSE' with CAUSE one of "
                               f"{', '.join(CAUSES)}, got {line!r}")
                continue
            at = [j for j, e in enumerate(expects)
                  if isinstance(e, Expect) and e.check == fields[0] and e.run == len(runs) - 1]
            if not at:
                expects.append(f"line {i + 1}: '# diagnosis: {fields[0]} ...' needs an earlier "
                               f"'# expect: {fields[0]} ...' line in the same run")
                continue
            prev = expects[at[-1]]
            assert isinstance(prev, Expect)
            expects[at[-1]] = dataclasses.replace(prev, diagnosis=fields[1])
    return runs, expects


class StormMismatch(Exception):
    """A check's result differs from its `# expect:` line."""


class StormFile(pytest.File):
    """One spec: an item per expect line; each run of the spec is checked once."""

    def collect(self) -> Iterator[pytest.Item]:
        runs, expects = header(self.path.read_text(encoding="utf-8", errors="replace"))
        bad = [e for e in expects if isinstance(e, str)]
        if bad:
            raise self.CollectError(f"{self.path}: " + "; ".join(bad))
        self._runs = runs
        self._results: dict[int, Any] = {}
        for e in expects:
            assert isinstance(e, Expect)
            args = runs[e.run]
            name = e.check + (f"[{' '.join(args)}]" if e.run else "")
            yield StormItem.from_parent(self, name=name, expect=e)

    def result(self, run: int) -> Any:
        """The RunResult of run `run`, or the error text that stopped it (cached)."""
        if run not in self._results:
            self._results[run] = self._check(run)
        return self._results[run]

    def _check(self, run: int) -> Any:
        from checker.commands.options import Parser, add_check_options, check_options, parse_set
        from checker.engines.run import run_checks
        from checker.errors import CheckerError, SpecError
        from checker.model import load_spec

        args = shlex.split(str(self.config.getini("storm_args"))) + self._runs[run]
        parser = Parser(prog="# run:", add_help=False)
        add_check_options(parser, specs=False)
        try:
            ns = parser.parse_args(args)
            overrides = parse_set(ns.set)
            model = load_spec(self.path, overrides)
            return run_checks(model, ns.engine, check_options(ns), overrides)
        except SpecError as e:
            return e.render()
        except CheckerError as e:
            return f"{' '.join(args)}: {e}" if args else str(e)


class StormItem(pytest.Item):
    def __init__(self, *, expect: Expect, **kw: Any) -> None:
        super().__init__(**kw)
        self.expect = expect

    def runtest(self) -> None:
        from checker.errors import did_you_mean
        from checker.report.explain import explain
        from checker.report.junit import trace_text
        from checker.report.text import result_text

        parent = self.parent
        assert isinstance(parent, StormFile)
        run = parent.result(self.expect.run)
        if isinstance(run, str):
            raise StormMismatch(run)
        e = self.expect
        found = [r for r in run.results if r.check.name == e.check]
        if not found:
            names = [r.check.name for r in run.results]
            hint = did_you_mean(e.check, names)
            raise StormMismatch(f"no check named '{e.check}' in {self.path.name}" + (f"; {hint}" if hint else ""))
        r = found[0]
        got = r.verdict.value
        ticks_ok = e.ticks == "any" or e.ticks == r.ticks
        cause = r.diagnosis.cause.value if r.diagnosis is not None else None
        if got == e.result and ticks_ok and e.diagnosis is not None and cause != e.diagnosis:
            raise StormMismatch(f"{e.check}: expected a storm diagnosed {e.diagnosis}, got {cause or 'no diagnosis'}\n"
                                + explain(run.model, r))
        if got == e.result and ticks_ok:
            return
        want = e.result + ("" if e.ticks == "any" else f" {'null' if e.ticks is None else e.ticks}")
        have = f"{got} {'null' if r.ticks is None else r.ticks}"
        raise StormMismatch(
            f"{e.check}: expected {want}, got {have} ({result_text(r)})\n"
            + (trace_text(run.model, r) if r.trace is not None else explain(run.model, r))
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, StormMismatch):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.expect.line, self.name
