"""Cone of influence (checker/model/cone.py): variables that no guard or check reads, and whose
updates provably stay in range, are left out of the explored state; traces, replayed on the
full model, still show them."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, assume, example, given, settings
from strategies import spec_texts

from checker.engines.base import CheckOptions, Verdict
from checker.engines.run import run_checks
from checker.model import load_text
from checker.model.cone import analyse, slice_model

BASE = """\
protocol counter
const N = 3
var free: 0..1 = 1
{glob}
node client count N {{
  states idle, waiting, done
  {loc}
  rule ask: idle -> waiting
  progress rule get: waiting -> done when free > 0 {{ free -= 1 {get} }}
  retry rule again: waiting -> waiting when free == 0 {{ {again} }}
}}
check invariant nonneg: free >= 0
check reachable two_waiting: count(waiting) == 2
check no_storm
"""


def spec(glob: str = "", loc: str = "", get: str = "", again: str = "") -> str:
    return BASE.format(glob=glob, loc=loc, get=get, again=again)


def run(text: str, cone: bool = True):  # type: ignore[no-untyped-def]
    return run_checks(load_text(text, "cone.storm"), "explicit", CheckOptions(cone=cone))  # replays every trace


PLAIN = spec()
GLOBAL = spec(glob="var retries: 0..50 = 0", again="; retries = min(retries + 1, 50)")
LOCAL = spec(loc="var tries: 0..4 = 0", again="; tries = min(tries + 1, 4)", get="; tries = 0")


def test_an_irrelevant_counter_is_not_explored_and_traces_still_show_it() -> None:
    plain = run(PLAIN)
    for text, name in ((GLOBAL, "retries"), (LOCAL, "client.tries")):
        model = load_text(text, "cone.storm")
        assert analyse(model).names(model) == [name]
        got = run(text)
        assert (got.stats.tick_states, got.stats.states) == (plain.stats.tick_states, plain.stats.states)
        assert got.stats.sliced == (name,)
        assert [(r.verdict, r.ticks) for r in got.results] == [(r.verdict, r.ticks) for r in plain.results]
        full = run(text, cone=False)  # the full model explores more, with the same verdicts
        assert full.stats.states > got.stats.states and full.stats.sliced == ()
        assert [r.verdict for r in full.results] == [r.verdict for r in got.results]
        storm = got.results[2]
        assert storm.verdict is Verdict.VIOLATED and storm.trace is not None and storm.trace.loop_start is not None
        # the trace is over the full model: the counter is there, and it climbs along the unrolled loop
        if name == "retries":
            values = [s.globals[1] for s in storm.trace.states]
            assert len(storm.trace.states[0].globals) == 2 and max(values) == 50
            assert values[storm.trace.loop_start] == 50  # the loop closes once the counter is saturated
        else:
            locs = {loc for s in storm.trace.states for kind in s.kinds for (_s, loc, _a), _n in kind}
            assert {len(loc) for loc in locs} == {1} and (4,) in locs


def test_a_counter_that_could_overflow_is_kept() -> None:
    text = spec(glob="var retries: 0..5 = 0", again="; retries += 1")
    model = load_text(text, "cone.storm")
    assert analyse(model).empty and slice_model(model) is model
    got = run(text)
    assert got.stats.sliced == ()
    inv = got.results[0]
    assert inv.verdict is Verdict.VIOLATED and inv.model_error  # the overflow is a model error, found


def test_an_update_whose_intermediate_result_overflows_64_bits_is_kept() -> None:
    # min(a + a, 1) would lie in 0..1, but a + a overflows first: a model error to be found
    text = ("protocol ov\nvar a: 0..9223372036854775807 = 9223372036854775807\nvar b: 0..1 = 1\n"
            "var junk: 0..1 = 0\naction go when b == 1 { b = 0; junk = min(a + a, 1) }\n"
            "check invariant ok: b >= 0\n")
    assert analyse(load_text(text, "cone.storm")).empty
    inv = run(text).results[0]
    assert inv.verdict is Verdict.VIOLATED and inv.model_error


def test_what_a_guard_or_a_kept_update_reads_is_kept() -> None:
    # `retries` feeds `level`, which a guard reads: both stay
    text = spec(glob="var retries: 0..3 = 0\nvar level: 0..3 = 0",
                again="; retries = min(retries + 1, 3); level = retries")
    text = text.replace("when free == 0 {", "when free == 0 and level <= 3 {")
    model = load_text(text, "cone.storm")
    assert analyse(model).empty
    # division could fail (by zero): an unobserved variable updated with `/` is kept
    text = spec(glob="var retries: 0..3 = 0", again="; retries = 3 / (retries + 1)")
    assert analyse(load_text(text, "cone.storm")).empty


def test_the_report_names_what_was_left_out(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from checker.cli import main

    path = tmp_path / "cone.storm"
    path.write_text(GLOBAL)
    assert main(["check", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "cone of influence: retries left out of the explored state" in out
    assert main(["check", str(path), "--format", "json"]) == 1
    spec = json.loads(capsys.readouterr().out)["specs"][0]
    assert spec["stats"]["sliced"] == ["retries"]
    storm = next(c for c in spec["checks"] if c["name"] == "no_storm")
    assert all("retries" in st for st in storm["trace"]["states"])  # the ITF trace has the full state
    assert main(["check", str(path), "--format", "json", "--no-cone"]) == 1
    assert "sliced" not in json.loads(capsys.readouterr().out)["specs"][0]["stats"]
    assert main(["check", str(path), "--ticks", "5", "--format", "json"]) == 0  # bounded: the full state, whose
    # loop closes only once retries reaches 50: holds up to 5 ticks
    assert "sliced" not in json.loads(capsys.readouterr().out)["specs"][0]["stats"]


# found by this test: a variable kept because its update might fail reads one nothing else reads
_KEPT = ("protocol random\nvar g0: 0..1 = 0\nnode kind0 count 1 {{\n  states k0s0, k0s1\n  var x0: 0..2 = 0\n"
         "  fair rule k0r0: k0s0 -> k0s0 {{ {update} }}\n  on tick {{ x0 = min(x0 + 1, 2) }}\n}}\n"
         "check invariant inv: 0 == 0\ncheck no_storm\n")
KEPT_READS = [_KEPT.format(update="x0 = (0 - g0)"), _KEPT.format(update="g0 = x0")]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec_texts())
@example(KEPT_READS[0])
@example(KEPT_READS[1])
def test_random_specs_give_the_same_results_with_and_without_the_cone(text: str) -> None:
    model = load_text(text, "random.storm")
    cone = analyse(model)
    assume(not cone.empty)
    opts = CheckOptions(max_states=20_000, timeout=20)
    sliced = run_checks(model, "explicit", opts)  # every lifted trace replayed on the full model
    full = run_checks(model, "explicit", replace(opts, cone=False))
    assume(full.stats.complete)
    assert sliced.stats.complete and sliced.stats.sliced == tuple(cone.names(model))
    assert sliced.stats.tick_states <= full.stats.tick_states and sliced.stats.states <= full.stats.states
    assert [(r.check.name, r.verdict, r.ticks, r.model_error) for r in sliced.results] == \
        [(r.check.name, r.verdict, r.ticks, r.model_error) for r in full.results]
    assert sliced.never_fired == full.never_fired


def test_what_a_kept_update_reads_is_kept() -> None:
    for text in KEPT_READS:
        model = load_text(text, "kept.storm")
        assert "g0" not in analyse(model).names(model)
