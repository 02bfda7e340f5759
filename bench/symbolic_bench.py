"""Time to verdict per engine at growing N, BMC depth in a time budget, and a k-induction win.

Usage: python bench/symbolic_bench.py [--budget SECONDS] [--ticks B] [--ns 2,3,4,6]
Prints one table row per (model, N, engine). Each symbolic run gets --budget seconds; a run
that does not finish reports the checks it left unknown.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from checker.engines import get_engine
from checker.engines.base import CheckOptions, replay
from checker.model import load_spec, load_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["models/ebs_2011.storm", "models/ebs_2011_fixed.storm", "models/backoff_cap.storm", "models/token_bucket.storm"]

INDUCTION = """protocol wide_counters
var sent: 0..1000000 = 0
var acked: 0..1000000 = 0
var inflight: 0..1 = 0
action send when inflight == 0 and sent < 1000000 { sent += 1; inflight = 1 }
action ack when inflight == 1 { acked += 1; inflight = 0 }
check invariant balanced: sent == acked + inflight
"""


def _run(engine: str, model, opts: CheckOptions) -> tuple[float, str, int]:
    t = time.monotonic()
    out = get_engine(engine).run(model, opts)
    for r in out.results:
        replay(model, r)
    verdicts = ", ".join(f"{r.check.name}={r.verdict.value}" + (f"@{r.ticks}" if r.ticks is not None else "")
                         for r in out.results)
    return time.monotonic() - t, verdicts, out.stats.max_depth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--ticks", type=int, default=30)
    ap.add_argument("--ns", default="2,3,4,6")
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    print("| model | N | engine | seconds | depth | verdicts |")
    print("|---|---|---|---|---|---|")
    for path in args.models.split(","):
        for n in [int(x) for x in args.ns.split(",")]:
            try:
                model = load_spec(ROOT / path, {"N": n})
            except Exception as e:  # a model without N
                print(f"| {path} | {n} | - | - | - | {e} |")
                break
            for engine in ("explicit", "symbolic"):
                opts = CheckOptions(ticks=args.ticks, timeout=args.budget, max_states=2_000_000)
                secs, verdicts, depth = _run(engine, model, opts)
                print(f"| {path} | {n} | {engine} | {secs:.2f} | {depth} | {verdicts} |", flush=True)
    # BMC depth reached in the budget on one invariant of language.md's example (N=6)
    model = load_spec(ROOT / "bench/models/ebs_2011_langmd.storm")
    opts = CheckOptions(ticks=10_000, timeout=args.budget, only=("cp_bounded",))
    secs, verdicts, depth = _run("symbolic", model, opts)
    print(f"\nebs_2011 N=6 cp_bounded: {verdicts} in {secs:.1f} s, depth {depth}")
    # k-induction proves what enumeration cannot finish within its state limit
    model = load_text(INDUCTION, "wide_counters")
    for engine in ("explicit", "symbolic"):
        opts = CheckOptions(ticks=3_000_000, timeout=args.budget, max_states=200_000)
        secs, verdicts, depth = _run(engine, model, opts)
        print(f"wide_counters {engine}: {verdicts} in {secs:.2f} s")


if __name__ == "__main__":
    main()
