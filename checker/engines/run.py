"""Run the checks of one model: select them (`only`), run one engine or both, replay traces,
and diagnose every storm or no-recovery lasso (engines/diagnose.py).

This is the orchestration every command shares (check, gate, sweep, the pytest plugin); it
sits below the command line, so commands import it and it imports no command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from checker.engines import get_engine
from checker.engines.base import CheckOptions, RunResult, Stats, replay
from checker.engines.compare import merge, run_both
from checker.engines.diagnose import diagnose_run
from checker.errors import InternalError
from checker.model import ir

ENGINE_NAMES = ("explicit", "symbolic", "both")


def run_checks(model: ir.Model, engine: str, opts: CheckOptions,
               overrides: Mapping[str, ir.Value] | None = None) -> RunResult:
    """Decide the checks of `model` (those of `opts.only` that it has, or all) on `engine`.

    Every trace is replayed through the reference semantics. With `engine == "both"` the two
    engines must not contradict each other (InternalError otherwise); the result holds each
    check's decided result and both engines' own runs in `parts`. The RunResult records the
    options and the `--set` overrides it ran with.
    """
    sets = tuple(sorted((overrides or {}).items()))
    only = tuple(n for n in opts.only if any(c.name == n for c in model.checks))
    if opts.only and not only:
        return RunResult(model, engine, [], Stats(complete=True), opts, sets)
    opts = replace(opts, only=only)
    if engine == "both":
        a, b, problems = run_both(model, opts)
        if problems:
            raise InternalError(
                "the explicit and symbolic engines disagree on " + model.file + ":\n  " + "\n  ".join(problems)
            )
        a, b = replace(a, opts=opts, overrides=sets), replace(b, opts=opts, overrides=sets)
        both = replace(merge(a, b), opts=opts, overrides=sets)
        diagnose_run(both, opts)
        return both
    run = get_engine(engine).run(model, opts)
    for r in run.results:
        replay(model, r)
    run = replace(run, opts=opts, overrides=sets)
    diagnose_run(run, opts)
    return run
