#!/usr/bin/env python3
"""Stormproof against SPIN and Rumur on the language.md example, side by side in one run.

    python bench/peers/run.py                 # N = 4, 6, 8, 10, 12, 16; 60 s per tool and size
    python bench/peers/run.py --quick         # N = 4 and 6, 20 s, no extra models
    python bench/peers/run.py --sizes 4 --limit 10 --no-extras --out /tmp/r

For each N (SPARE = max(1, N // 3), CP_RATE = 3, as bench/bench.py) it runs, each in its own
process and under the same time limit:

- stormproof's explicit engine on `bench/models/ebs_2011_langmd.storm`, all four checks, by
  default (the cone of influence leaves out `attempts`, which no guard or check reads), with
  `--no-cone` (the full state, the same states as the peers), and with `--only no_storm`
  (which stops exploring once the storm is found), with and without the cone;
- SPIN on the per-node Promela encoding and on the counter encoding, and Rumur on the Murphi
  encoding without and with symmetry reduction (`bench/peers/encodings/`, which encode exactly that
  model; each configuration is generated from those files, then compiled, then run). The peers
  check the invariant `cp_bounded` over the full state space (safety mode).

A peer missing from PATH is skipped with a note. Once a tool hits the limit at some N, it is
not run at larger N (the state space grows about 4x per node). Times are CPU seconds (user +
system) of the child processes, from wait4; peak memory is the run's maximum resident set.
Stormproof's "run" time is the engine alone (without interpreter start and parsing); its
bytes per stored state are (peak RSS - RSS before the search) / states, a peer's
peak RSS / states (pan's default 128 MB hash table included). The ratio columns
are stormproof / peer, measured in this run (> 1: stormproof slower).

It also runs stormproof alone on the flagship `models/ebs_2011.storm` and on a newcomer-sized
spec with capped backoff and a retry budget (`bench/models/backoff_budget.storm`), and gives
the largest N that stormproof decides within the limit (the figure of bench/bench.py).
Results: `bench/results/peers.md` and `peers.json` (or under --out), with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LANGMD = ROOT / "bench" / "models" / "ebs_2011_langmd.storm"
EXTRAS = [ROOT / "models" / "ebs_2011.storm", ROOT / "bench" / "models" / "backoff_budget.storm"]
PEERS_DIR = Path(os.environ.get("STORMPROOF_PEERS", ROOT / "bench" / "peers" / "encodings"))  # see its README
CP_RATE = 3
PERNODE_MAX_N = 12  # ebs_2011.pml unrolls NODE(k) up to 12 nodes
TOOLS = ("stormproof", "stormproof --no-cone", "stormproof --only no_storm", "stormproof --only no_storm --no-cone",
         "spin per node", "spin counter",
         "rumur no symmetry", "rumur symmetry")


def params(n: int) -> dict[str, int]:
    """SPARE scaled with N so that the storm exists (as bench/bench.py)."""
    return {"N": n, "SPARE": max(1, n // 3), "CP_RATE": CP_RATE}


@dataclass
class Row:
    model: str
    tool: str
    n: int | None
    spare: int | None
    status: str  # "done", "timeout", "skipped", "failed"
    states: int | None = None
    tick_states: int | None = None
    total_s: float | None = None  # generate + compile + run (stormproof: the whole process)
    run_s: float | None = None  # the run alone (stormproof: the engine alone)
    peak_mb: float | None = None
    bytes_per_state: float | None = None
    verdict: str = ""
    note: str = ""
    ratio_total: str = ""  # stormproof / this peer
    ratio_run: str = ""


@dataclass
class Proc:
    rc: int | None  # None: killed at the limit
    cpu: float
    maxrss_mb: float
    out: str
    wall: float


def run_proc(cmd: list[str], cwd: Path, limit: float | None) -> Proc:
    """Run `cmd`, killing its process group after `limit` wall seconds; CPU and peak RSS by wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = None if limit is None else start + limit
        killed = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline and not killed:
                os.killpg(p.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    return Proc(None if killed else p.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, text,
                time.perf_counter() - start)


# ---- stormproof ---------------------------------------------------------------------------

def worker(spec: str, sets: list[str], only: list[str], limit: float, max_states: int, cone: bool) -> None:
    """In the child: load, run the explicit engine, print one JSON line."""
    import resource

    from checker.engines import CheckOptions, get_engine
    from checker.model import load_spec

    overrides = {k: int(v) for k, v in (s.split("=") for s in sets)}
    model = load_spec(Path(spec), overrides)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    run = get_engine("explicit").run(model, CheckOptions(timeout=limit, max_states=max_states, only=tuple(only),
                                                           stop_early=bool(only), cone=cone))
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = run.stats
    print(json.dumps({
        "states": s.states, "tick_states": s.tick_states, "engine_s": cpu, "complete": s.complete,
        "verdicts": {r.check.name: r.verdict.value for r in run.results},
        "reasons": sorted({r.reason for r in run.results if r.verdict.value == "unknown" and r.reason}),
        "search_kb": (peak - before), "early": s.stopped_early, "sliced": list(s.sliced),
    }))


def stormproof(model: str, spec: Path, n: int | None, only: list[str], limit: float, max_states: int,
               cone: bool = True) -> Row:
    p = params(n) if n is not None else {}
    sets = [f"{k}={v}" for k, v in p.items()]
    tool = "stormproof" + "".join(f" --only {c}" for c in only) + ("" if cone else " --no-cone")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec), "--limit", str(limit),
           "--max-states", str(max_states)] + [a for s in sets for a in ("--set", s)] + \
          [a for c in only for a in ("--check", c)] + ([] if cone else ["--no-cone"])
    proc = run_proc(cmd, ROOT, limit * 2 + 30)
    row = Row(model, tool, n, p.get("SPARE"), "failed", total_s=round(proc.cpu, 2), peak_mb=round(proc.maxrss_mb, 1))
    lines = [ln for ln in proc.out.splitlines() if ln.startswith("{")]
    if proc.rc != 0 or not lines:
        row.note = (proc.out.strip().splitlines() or ["no output"])[-1][:200]
        return row
    r = json.loads(lines[-1])
    row.states, row.tick_states, row.run_s = r["states"], r["tick_states"], round(r["engine_s"], 2)
    if r["states"]:
        row.bytes_per_state = round(r["search_kb"] * 1024 / r["states"])
    row.verdict = ", ".join(f"{k} {v}" for k, v in r["verdicts"].items())
    decided = all(v != "unknown" for v in r["verdicts"].values())
    row.status = "done" if decided else "timeout"
    notes = list(r["reasons"])
    if r["early"]:
        notes.append(str(r["early"]))
    elif not r["complete"] and decided:
        notes.append("decided in the part explored before a limit was reached")
    if r["sliced"]:
        notes.append("cone of influence: " + ", ".join(r["sliced"]) + " not explored")
    row.note = "; ".join(notes)
    return row


# ---- peers --------------------------------------------------------------------------------

def _phases(tmp: Path, phases: list[list[str]], limit: float) -> tuple[float, Proc | None, str]:
    """Run generate/compile phases, then return (their CPU, None, error) or continue."""
    cpu = 0.0
    for cmd in phases:
        pr = run_proc(cmd, tmp, 300)
        cpu += pr.cpu
        if pr.rc != 0:
            return cpu, pr, f"{cmd[0]} failed: " + (pr.out.strip().splitlines() or [""])[-1][:160]
    return cpu, None, ""


def spin(model: str, n: int, counter: bool, limit: float, opt: str) -> Row:
    p = params(n)
    tool = "spin counter" if counter else "spin per node"
    row = Row(model, tool, n, p["SPARE"], "skipped")
    if not counter and n > PERNODE_MAX_N:
        row.note = f"ebs_2011.pml encodes at most {PERNODE_MAX_N} nodes"
        return row
    src = PEERS_DIR / ("ebs_2011_counter.pml" if counter else "ebs_2011.pml")
    with tempfile.TemporaryDirectory(prefix="sp-spin-") as t:
        tmp = Path(t)
        shutil.copy(src, tmp / src.name)
        gen = ["spin", f"-DN={n}", f"-DSPARE={p['SPARE']}", f"-DCP_RATE={CP_RATE}", "-a", src.name]
        cc = ["gcc", f"-{opt}", "-DSAFETY", "-DMEMLIM=8192", "-o", "pan", "pan.c"]
        cpu, bad, err = _phases(tmp, [gen, cc], limit)
        if bad is not None:
            row.status, row.note = "failed", err
            return row
        pr = run_proc(["./pan", "-m100000"], tmp, limit)
    return _peer_row(row, cpu, pr, limit, _parse_pan)


def rumur(model: str, n: int, symmetry: bool, limit: float, opt: str) -> Row:
    p = params(n)
    row = Row(model, "rumur symmetry" if symmetry else "rumur no symmetry", n, p["SPARE"], "skipped")
    text = (PEERS_DIR / "ebs_2011.m").read_text()
    for k, v in (("N", n), ("SPARE", p["SPARE"]), ("CP_RATE", CP_RATE)):
        text, k_done = re.subn(rf"(?m)^(\s*{k}:\s*)\d+;", rf"\g<1>{v};", text, count=1)
        if not k_done:
            row.status, row.note = "failed", f"constant {k} not found in ebs_2011.m"
            return row
    with tempfile.TemporaryDirectory(prefix="sp-rumur-") as t:
        tmp = Path(t)
        (tmp / "m.m").write_text(text)
        gen = ["rumur", "--deadlock-detection", "off", "--threads", "1", "--value-type", "int32_t",
               "--symmetry-reduction", "heuristic" if symmetry else "off"]
        if symmetry:
            gen += ["--scalarset-schedules", "off"]
        gen += ["m.m", "-o", "v.c"]
        cc = ["cc", f"-{opt}", "-o", "v", "v.c", "-lpthread"]
        cpu, bad, err = _phases(tmp, [gen, cc], limit)
        if bad is not None:
            row.status, row.note = "failed", err
            return row
        pr = run_proc(["./v"], tmp, limit)
    return _peer_row(row, cpu, pr, limit, _parse_rumur)


def _parse_pan(out: str) -> tuple[int | None, str, str]:
    m = re.search(r"(\d+) states, stored", out)
    states = int(m.group(1)) if m else None
    if "out of memory" in out:
        return states, "", "out of memory (MEMLIM 8 GB)"
    if "max search depth too small" in out:
        return states, "", "search depth limit (-m) hit: incomplete"
    m = re.search(r"errors: (\d+)", out)
    if not m:
        return states, "", "no summary"
    return states, "cp_bounded " + ("holds" if m.group(1) == "0" else "violated"), ""


def _parse_rumur(out: str) -> tuple[int | None, str, str]:
    found = re.findall(r"(\d+) states, \d+ rules fired", out)
    states = int(found[-1]) if found else None
    if "No error found" in out:
        return states, "cp_bounded holds", ""
    if "invariant" in out and "failed" in out:
        return states, "cp_bounded violated", ""
    return states, "", "no summary"


def _peer_row(row: Row, gen_cpu: float, pr: Proc, limit: float, parse) -> Row:
    states, verdict, err = parse(pr.out)
    row.run_s = round(pr.cpu, 2)
    row.total_s = round(gen_cpu + pr.cpu, 2)
    row.peak_mb = round(pr.maxrss_mb, 1)
    if pr.rc is None:
        row.status, row.note = "timeout", f"killed at the {limit:g} s limit"
        return row
    row.states = states
    if states:
        row.bytes_per_state = round(pr.maxrss_mb * 1024 * 1024 / states)
    if err or not verdict:
        row.status, row.note = "failed", err or f"exit {pr.rc}"
        return row
    row.status, row.verdict = "done", verdict
    return row


# ---- table --------------------------------------------------------------------------------

def ratio(sp: Row, peer: Row, attr: str) -> str:
    a, b = getattr(sp, attr), getattr(peer, attr)
    if peer.status == "skipped" or a is None or b is None or b <= 0:
        return ""
    if sp.status == "done" and peer.status == "done":
        return f"{a / b:.2f}"
    if sp.status == "timeout" and peer.status == "done":
        return f">{a / b:.1f}"
    if sp.status == "done" and peer.status == "timeout":
        return f"<{a / b:.2f}"
    return ""


def fmt(v, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


HEADER = ["model", "N", "SPARE", "tool", "status", "states", "tick states", "total s", "run s",
          "peak MB", "bytes/state", "verdict", "SP/peer total", "SP/peer run", "note"]


def markdown(rows: list[Row]) -> list[str]:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = [r.model, fmt(r.n), fmt(r.spare), r.tool, r.status, fmt(r.states), fmt(r.tick_states),
                 fmt(r.total_s), fmt(r.run_s), fmt(r.peak_mb, 1), fmt(r.bytes_per_state, 0), r.verdict or "-",
                 r.ratio_total or "-", r.ratio_run or "-", (r.note or "-").replace("|", "/")]
        out.append("| " + " | ".join(cells) + " |")
    return out


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass

    def version(cmd: list[str]) -> str:
        if not shutil.which(cmd[0]):
            return "not installed"
        try:
            res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return ((res.stdout + res.stderr).strip().splitlines() or ["unknown"])[0]

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {
        "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "memory": mem,
        "python": platform.python_version(), "spin": version(["spin", "-V"]),
        "rumur": version(["rumur", "--version"]), "gcc": version(["gcc", "--version"]),
        "stormproof_commit": commit, "loadavg_start": os.getloadavg(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", help="comma-separated N (default 4,6,8,10,12,16; --quick: 4,6)")
    ap.add_argument("--limit", type=float, help="seconds per tool and size (default 60; --quick: 20)")
    ap.add_argument("--max-states", type=int, default=5_000_000, help="stormproof's state limit")
    ap.add_argument("--quick", action="store_true", help="small sizes, short limit, no extra models")
    ap.add_argument("--no-extras", action="store_true", help="skip the stormproof-only models")
    ap.add_argument("--tools", help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--cc-opt", default="O2", help="C optimisation level for the peers (default O2)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="directory for peers.md/json")
    ap.add_argument("--note", default="", help="a line about the machine's load, written with the results")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--check", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--no-cone", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    limit = args.limit if args.limit is not None else (20.0 if args.quick else 60.0)
    if args.worker:
        worker(args.worker, args.set, args.check, limit, args.max_states, not args.no_cone)
        return 0
    sizes = [int(x) for x in (args.sizes or ("4,6" if args.quick else "4,6,8,10,12,16")).split(",")]
    tools = [t.strip() for t in args.tools.split(",")] if args.tools else list(TOOLS)
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        print(f"unknown tool(s): {', '.join(unknown)}; choose from: {', '.join(TOOLS)}", file=sys.stderr)
        return 2
    missing = {t: "spin" if t.startswith("spin") else "rumur" for t in tools if not t.startswith("stormproof")}
    missing = {t: exe for t, exe in missing.items() if not shutil.which(exe) or not shutil.which("gcc" if exe == "spin" else "cc")}
    if not PEERS_DIR.is_dir():
        missing.update({t: "peer encodings" for t in tools if not t.startswith("stormproof")})
    info = machine()
    info["limit_s"] = limit
    info["note"] = args.note
    rows: list[Row] = []
    gave_up: dict[str, int] = {}

    def add(row: Row) -> None:
        rows.append(row)
        print(" | ".join(markdown([row])[2].split(" | ")[:12]) + (f" | {row.note}" if row.note else ""), flush=True)

    print(" | ".join(HEADER[:12]))
    for n in sizes:
        p = params(n)
        group: list[Row] = []
        for tool in tools:
            if tool in missing:
                row = Row("ebs_2011_langmd", tool, n, p["SPARE"], "skipped", note=f"{missing[tool]} not installed")
            elif tool in gave_up:
                row = Row("ebs_2011_langmd", tool, n, p["SPARE"], "skipped", note=f"hit the limit at N = {gave_up[tool]}")
            elif tool == "stormproof":
                row = stormproof("ebs_2011_langmd", LANGMD, n, [], limit, args.max_states)
            elif tool == "stormproof --no-cone":
                row = stormproof("ebs_2011_langmd", LANGMD, n, [], limit, args.max_states, cone=False)
            elif tool == "stormproof --only no_storm":
                row = stormproof("ebs_2011_langmd", LANGMD, n, ["no_storm"], limit, args.max_states)
            elif tool == "stormproof --only no_storm --no-cone":
                row = stormproof("ebs_2011_langmd", LANGMD, n, ["no_storm"], limit, args.max_states, cone=False)
            elif tool.startswith("spin"):
                row = spin("ebs_2011_langmd", n, tool == "spin counter", limit, args.cc_opt)
            else:
                row = rumur("ebs_2011_langmd", n, tool == "rumur symmetry", limit, args.cc_opt)
            if row.status in ("timeout", "failed") and tool not in gave_up:
                gave_up[tool] = n
            group.append(row)
        # ratios against stormproof as it runs by default (with the cone of influence)
        sp = next((r for r in group if r.tool == "stormproof"), None)
        for r in group:
            if sp is not None and not r.tool.startswith("stormproof"):
                r.ratio_total, r.ratio_run = ratio(sp, r, "total_s"), ratio(sp, r, "run_s")
            add(r)
    if not args.quick and not args.no_extras:
        for spec in EXTRAS:
            add(stormproof(spec.stem, spec, None, [], limit, args.max_states))
    decided = [r.n for r in rows if r.tool == "stormproof" and r.model == "ebs_2011_langmd" and r.status == "done"]
    largest = max(decided) if decided else None
    info["loadavg_end"] = os.getloadavg()
    write(args.out, rows, info, largest, limit)
    print(f"largest N decided by stormproof within {limit:g} s: {largest}")
    print(f"written: {args.out / 'peers.md'}, {args.out / 'peers.json'}")
    return 0


def write(out: Path, rows: list[Row], info: dict[str, object], largest: int | None, limit: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.json").write_text(json.dumps(
        {"machine": info, "largest_n_decided": largest, "rows": [asdict(r) for r in rows]}, indent=1) + "\n")
    md = ["# Stormproof against SPIN and Rumur (bench/peers/run.py)", "",
          (f"Model: `bench/models/ebs_2011_langmd.storm` (the language.md example), SPARE = max(1, N // 3), "
           f"CP_RATE = {CP_RATE}; the same {limit:g} s wall-clock limit for every tool and size. Stormproof "
           "decides all four checks: by default (the cone of influence leaves `attempts` out, as no guard "
           "or check reads it), with `--no-cone` (the full state: the same states as the peers), and "
           "`--only no_storm` (stops once the storm is found), with and without the cone; the peers check `cp_bounded` over the full "
           "state space. Times are CPU seconds; 'total' is generate + compile + run for a peer and the whole "
           "process for stormproof; 'run' is the run alone (stormproof: the engine). Ratios are default "
           "stormproof / peer from this run ('>x': stormproof hit the limit, '<x': the peer did). "
           "bytes/state: stormproof (peak RSS - RSS before the search) / states; a peer peak RSS / states."),
          "",
          "## Machine", ""]
    for k, v in info.items():
        if v not in ("", None):
            md.append(f"- {k}: {v}")
    md += ["", "## Results", ""] + markdown(rows) + ["",
           f"Largest N decided by stormproof within {limit:g} s: {largest}", ""]
    (out / "peers.md").write_text("\n".join(md))


__all__ = ["Row", "main", "params", "ratio"]

if __name__ == "__main__":
    sys.exit(main())
