"""Time to proof of `stormproof prove` on the fixed flagship, for every N and SPARE >= 1.

Usage: python bench/prove_bench.py [--timeout SECONDS]
Prints, per property, the verdict, the engine and the seconds; then the total, the length of
the longest certificate, and, as a baseline measured in the same run, the seconds `check`
takes on the same spec at its own constants (one concrete N), so that the ratio can be
compared across machines.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from checker.engines.base import CheckOptions
from checker.engines.param.driver import prove_spec
from checker.engines.param.params import load_param_spec
from checker.engines.run import run_checks
from checker.model import load_spec

ROOT = Path(__file__).resolve().parent.parent
FIXED = str(ROOT / "models" / "ebs_2011_fixed.storm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    t = time.process_time()
    run_checks(load_spec(FIXED), "explicit", CheckOptions(timeout=args.timeout))
    base = time.process_time() - t
    pm = load_param_spec(FIXED, ["N", "SPARE"], ["SPARE >= 1"])
    t = time.process_time()
    rep = prove_spec(pm, {}, timeout=args.timeout)
    total = time.process_time() - t
    print(f"{'property':34} {'verdict':9} {'engine':12} {'seconds':>8} {'lines':>6}")
    for o in rep.outcomes:
        print(f"{o.name:34} {o.verdict:9} {o.engine:12} {o.seconds:8.1f} {len(o.certificate):6d}")
    safety = [o for o in rep.outcomes if "no storm" not in o.name]
    # a property shared with an earlier check (same assumption) took no time of its own
    proved = sum(o.seconds for o in safety if o.verdict == "proved" and not o.tried[0].startswith("the same"))
    print(f"invariants, model errors and stuck storms: {sum(o.verdict == 'proved' for o in safety)}/{len(safety)} "
          f"proved for every N and SPARE >= 1 in {proved:.1f} s (wall)")
    print(f"total prove CPU {total:.1f} s; check at N=6, SPARE=2 (baseline) {base:.1f} s; ratio {total / max(base, 1e-9):.1f}")
    print(f"longest certificate: {max((len(o.certificate) for o in rep.outcomes), default=0)} lines")


if __name__ == "__main__":
    main()
