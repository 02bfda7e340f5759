#!/usr/bin/env python3
"""Benchmark: `stormproof check bench/models/ebs_2011_langmd.storm` at growing N, explicit engine.

Each N runs in its own process, bounded by --timeout and --max-states, and reports states,
tick states, states per second, seconds and peak memory. Speed is also given as a ratio
against a baseline measured in the same run: a plain breadth-first search over the
reference semantics (checker.model.semantics), which is what a naive one-record-per-
situation checker does, on the same model at the smallest N. Ratios, not absolute times,
are what to compare across machines.

    python3 bench/bench.py [--sizes 4,6,8,12] [--budget 60]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "bench" / "models" / "ebs_2011_langmd.storm"


def params(n: int) -> dict[str, int]:
    """SPARE scaled with N so that the storm exists (spare < nodes that lose their mirror)."""
    return {"N": n, "SPARE": max(1, n // 3)}


def worker(n: int, budget: float, max_states: int) -> None:
    from checker.engines import CheckOptions, get_engine
    from checker.model import load_spec

    model = load_spec(MODEL, params(n))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, after imports and load
    start = time.process_time()
    run = get_engine("explicit").run(model, CheckOptions(timeout=budget, max_states=max_states))
    cpu = time.process_time() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = run.stats
    print(json.dumps({
        "n": n, "states": s.states, "tick_states": s.tick_states, "seconds": round(cpu, 3),
        "decided": all(r.verdict.value != "unknown" for r in run.results),
        "verdicts": {r.check.name: r.verdict.value for r in run.results},
        "peak_mb": round(rss_after / 1024, 1),
        # growth of the peak resident set over the run, per state searched
        "bytes_per_state": round((rss_after - rss_before) * 1024 / max(s.states, 1)),
    }))


def baseline(n: int) -> dict[str, float]:
    """States per second of a plain BFS over the reference semantics."""
    from checker.errors import ModelError
    from checker.model import load_spec
    from checker.model import semantics as sem

    model = load_spec(MODEL, params(n))
    start = time.process_time()
    init = sem.initial_state(model)
    seen = {init}
    queue = [init]
    while queue:
        st = queue.pop()
        for step in sem.enabled(model, st):
            try:
                nxt = sem.apply(model, st, step)
            except ModelError:
                continue
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    cpu = time.process_time() - start
    return {"states": len(seen), "seconds": cpu, "rate": len(seen) / cpu}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4,6,8,12,16,24,32")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per size (default 60)")
    ap.add_argument("--max-states", type=int, default=3_000_000)
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker, args.budget, args.max_states)
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    base = baseline(sizes[0])
    print(f"baseline (reference-semantics BFS, N={sizes[0]}): {base['states']:,} states, "
          f"{base['seconds']:.2f} s, {base['rate']:,.0f} states/s")
    print(f"{'N':>4} {'SPARE':>5} {'states':>10} {'tick states':>11} {'states/s':>9} {'x base':>7} "
          f"{'seconds':>8} {'peak MB':>8} {'B/state':>7}  result")
    largest = None
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", str(n), "--budget", str(args.budget),
             "--max-states", str(args.max_states)],
            capture_output=True, text=True, timeout=args.budget * 3 + 60,
        )
        if proc.returncode != 0:
            print(f"{n:>4} failed: {proc.stderr.strip().splitlines()[-1:]}")
            break
        r = json.loads(proc.stdout)
        rate = r["states"] / r["seconds"] if r["seconds"] else 0.0
        status = "decided" if r["decided"] else "gave up (" + ", ".join(
            f"{k}={v}" for k, v in r["verdicts"].items() if v == "unknown") + ")"
        print(f"{n:>4} {params(n)['SPARE']:>5} {r['states']:>10,} {r['tick_states']:>11,} {rate:>9,.0f} "
              f"{rate / base['rate']:>7.1f} {r['seconds']:>8.2f} {r['peak_mb']:>8.1f} {r['bytes_per_state']:>7,}  {status}")
        if r["decided"] and r["seconds"] <= args.budget:
            largest = n
        else:
            break
    print(f"largest N decided within {args.budget:g} s: {largest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
