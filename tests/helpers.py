"""Run specs through an engine the way the CLI does (with --set style overrides)."""

from __future__ import annotations

from pathlib import Path

from checker.commands.options import parse_set
from checker.engines import CheckOptions, RunResult, get_engine, replay
from checker.engines.run import run_checks
from checker.model import load_spec, load_text

ROOT = Path(__file__).resolve().parent.parent


def run_spec(path: Path, args: list[str] | None = None, engine: str = "explicit", ticks: int = 100,
             reduce: bool = True) -> RunResult:
    sets: list[str] = []
    args = list(args or [])
    while args:
        a = args.pop(0)
        if a == "--set":
            sets.append(args.pop(0))
        elif a == "--ticks":
            ticks = int(args.pop(0))
        else:
            raise ValueError(f"unsupported run argument {a}")
    model = load_spec(path, parse_set(sets))
    # replayed, every lasso diagnosed; `reduce=False`: every state of every tick is searched
    return run_checks(model, engine, CheckOptions(ticks=ticks, reduce=reduce))


def run_text(text: str, engine: str = "explicit", ticks: int = 100, **kw: object) -> RunResult:
    model = load_text(text, "test.storm")
    run = get_engine(engine).run(model, CheckOptions(ticks=ticks, **kw))  # type: ignore[arg-type]
    for r in run.results:
        replay(model, r)
    return run


def verdicts(run: RunResult) -> dict[str, tuple[str, int | None]]:
    return {r.check.name: (r.verdict.value, r.ticks) for r in run.results}


_TINY = """\
protocol tiny
const N = 2
const CAP = {cap}
var free: 0..CAP = CAP
node client count N {{
  states idle, waiting, done
  rule ask: idle -> waiting
  progress rule get: waiting -> done when free > 0 {{ free -= 1 }}
  retry rule again: waiting -> waiting when free == 0
}}
check invariant nonneg: free >= 0
"""


def tiny(*checks: str, cap: int | str = 1, extra: str = "") -> str:
    """The small two-client spec the command tests share: CAP slots, a retry rule, no_storm."""
    return _TINY.format(cap=cap) + "".join(c + "\n" for c in checks) + "check no_storm\n" + extra
