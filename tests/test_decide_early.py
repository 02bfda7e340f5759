"""Deciding early (CheckOptions.stop_early, set by `--only`): lassos and `within` runs are
decided on the tick graph explored so far, and the search stops once every selected check is.

Each early result is compared with the same check decided after a complete exploration: the
verdict is the same, a `within` run has the same (shortest) length, and every trace replays
through the reference semantics (run_checks replays them all). The language.md example runs
with the full state (cone=False): with `attempts` sliced away its whole graph is 3 ticks deep.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.engines.base import CheckOptions, Verdict
from checker.engines.run import run_checks
from checker.model import load_spec, load_text

ROOT = Path(__file__).resolve().parent.parent
LANGMD = ROOT / "bench" / "models" / "ebs_2011_langmd.storm"
SMALL = ["models/ebs_2011.storm", "models/client_server_queue.storm", "models/incidents/aws_2021.storm",
         "models/incidents/dynamodb_2015.storm", "models/backoff_cap.storm", "models/token_bucket.storm"]


def test_storm_found_before_the_whole_graph() -> None:
    model = load_spec(LANGMD, {"N": 6})
    full = run_checks(model, "explicit", CheckOptions(only=("no_storm",), cone=False))
    early = run_checks(model, "explicit", CheckOptions(only=("no_storm",), stop_early=True, cone=False))
    assert full.stats.complete and not full.stats.stopped_early and full.never_fired is not None
    (r,) = early.results
    assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.trace.loop_start is not None
    assert not early.stats.complete and early.never_fired is None
    assert early.stats.tick_states < full.stats.tick_states and early.stats.states < full.stats.states
    assert early.stats.stopped_early == (f"stopped early: all selected checks decided after "
                                         f"{early.stats.tick_states:,} tick states (coverage not computed)")


def test_a_holding_check_keeps_the_search_going() -> None:
    model = load_spec(LANGMD, {"N": 4, "SPARE": 1})
    opts = CheckOptions(only=("no_storm", "cp_bounded"), stop_early=True, cone=False, reduce=False)
    run = run_checks(model, "explicit", opts)
    assert run.stats.complete and not run.stats.stopped_early
    assert (run.stats.states, run.stats.tick_states) == (3_595, 489)
    assert [r.verdict for r in run.results] == [Verdict.HOLDS, Verdict.VIOLATED]


@pytest.mark.parametrize("path", SMALL)
def test_each_loop_check_alone_agrees_with_full_exploration(path: str) -> None:
    model = load_spec(ROOT / path)
    full = {r.check.name: r for r in run_checks(model, "explicit", CheckOptions()).results}
    for c in model.checks:
        if c.expr is None and c.kind.value != "no_storm":
            continue
        run = run_checks(model, "explicit", CheckOptions(only=(c.name,), stop_early=True))
        (r,) = run.results
        want = full[c.name]
        assert r.verdict is want.verdict, c.name
        if c.within is not None or c.kind.value in ("invariant", "reachable"):
            assert r.ticks == want.ticks, c.name  # shortest lengths stay shortest
        if run.stats.stopped_early:
            assert r.verdict in (Verdict.VIOLATED, Verdict.HOLDS) and run.never_fired is None


def test_cli_says_it_stopped_early(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(LANGMD), "--set", "N=4", "--set", "SPARE=1", "--only", "no_storm", "--quiet", "--no-cone"])
    out = capsys.readouterr().out
    assert code == 1
    assert "stopped early: all selected checks decided after" in out
    assert "never fired anywhere" not in out
    code = main(["check", str(LANGMD), "--set", "N=4", "--set", "SPARE=1", "--only", "no_storm", "--format", "json", "--no-cone"])
    spec = json.loads(capsys.readouterr().out)["specs"][0]
    assert code == 1 and spec["never_fired"] is None
    assert spec["run"]["scope"].startswith("stopped early") and spec["run"]["complete"] is False


CLIMB = """\
protocol slow_climb
var level: 0..12 = 0
var down: bool = false
fault crash when not down { down = true } limit 1
action climb when level < 12 { level += 1 }
action repair when down and level == 12 { down = false }
check recovers up: not down within 2 ticks
check invariant bounded: level <= 12
"""


def test_a_within_run_is_decided_once_it_ends_in_the_explored_depths() -> None:
    model = load_text(CLIMB, "climb.storm")
    full = run_checks(model, "explicit", CheckOptions(only=("up",)))
    early = run_checks(model, "explicit", CheckOptions(only=("up",), stop_early=True))
    assert full.stats.tick_states == 25 and full.stats.complete
    assert early.stats.stopped_early and early.stats.tick_states < full.stats.tick_states
    (a,), (b,) = full.results, early.results
    assert a.verdict is b.verdict is Verdict.VIOLATED and a.ticks == b.ticks == 3
    assert a.trace == b.trace  # the same shortest run, as after a complete search
