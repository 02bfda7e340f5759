"""The peer benchmark runner (bench/peers/run.py) in its tiny mode: N = 4, a short limit.

It checks the shape of the written table and JSON, and that the semantics' state count (an
unreduced search of the full state, in process) equals each peer's where both finish (the
symmetric/counted encodings reach exactly those states; the per-node ones the per-node count of
the peers' validation), while the benchmark's own run searches no more than that. A peer that is not
installed must appear as a skipped row with a note.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "peers" / "run.py"
PER_NODE_N4_SPARE1 = 67_239  # bench/peers/encodings/validation.md: oracle = Rumur = SPIN per node
COUNTED_N4_SPARE1 = 3_595  # the same states counted (stormproof unreduced, SPIN counter, Rumur symmetry)


def test_runner_tiny_mode(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "4", "--limit", "15", "--no-extras", "--cc-opt", "O0",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "peers.json").read_text())
    rows = data["rows"]
    assert [r["tool"] for r in rows] == ["stormproof", "stormproof --no-cone", "stormproof --only no_storm",
                                         "stormproof --only no_storm --no-cone", "spin per node",
                                         "spin counter", "rumur no symmetry", "rumur symmetry"]
    assert all(r["n"] == 4 and r["spare"] == 1 for r in rows)
    cone, sp = rows[0], rows[1]  # by default `attempts` is left out (cone of influence); then the full state
    assert sp["status"] == "done" and sp["states"] <= COUNTED_N4_SPARE1 and sp["tick_states"] == 489
    assert "no_storm violated" in sp["verdict"] and "cp_bounded holds" in sp["verdict"]
    assert cone["status"] == "done" and cone["verdict"] == sp["verdict"]
    assert cone["states"] < sp["states"] and "volume.attempts not explored" in cone["note"]
    assert rows[2]["verdict"] == "no_storm violated"
    early = rows[3]  # the full state, stopped once the storm loop closed
    assert early["verdict"] == "no_storm violated" and "stopped early" in early["note"]
    assert early["tick_states"] < sp["tick_states"]
    for r in rows[4:]:
        exe = "spin" if r["tool"].startswith("spin") else "rumur"
        if shutil.which(exe) is None:
            assert r["status"] == "skipped" and "not installed" in r["note"]
            continue
        assert r["status"] == "done", r
        assert r["verdict"] == "cp_bounded holds"
        per_node = r["tool"] in ("spin per node", "rumur no symmetry")
        assert r["states"] == (PER_NODE_N4_SPARE1 if per_node else COUNTED_N4_SPARE1), r
        assert r["total_s"] >= r["run_s"] >= 0 and r["peak_mb"] > 0
        assert r["ratio_total"] and r["ratio_run"]
    assert data["largest_n_decided"] == 4
    assert data["machine"]["cpus"] and data["machine"]["limit_s"] == 15
    md = (tmp_path / "peers.md").read_text().splitlines()
    table = [ln for ln in md if ln.startswith("|")]
    width = table[0].count("|")
    assert len(table) == 2 + len(rows) and all(ln.count("|") == width for ln in table)
    assert "| states |" in table[0] and "SP/peer total" in table[0]
    assert any(ln.startswith("Largest N decided by stormproof within 15 s: 4") for ln in md)


def test_runner_rejects_unknown_tool(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(RUN), "--tools", "nusmv", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 2 and "unknown tool(s): nusmv" in proc.stderr


def test_the_counted_state_space_is_the_semantics_own() -> None:
    from checker.engines.base import CheckOptions
    from checker.engines.run import run_checks
    from checker.model.elaborate import load_spec

    model = load_spec(ROOT / "bench" / "models" / "ebs_2011_langmd.storm", {"N": 4, "SPARE": 1})
    run = run_checks(model, "explicit", CheckOptions(cone=False, reduce=False))
    assert (run.stats.states, run.stats.tick_states) == (COUNTED_N4_SPARE1, 489)
