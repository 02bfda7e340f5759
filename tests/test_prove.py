"""`stormproof prove`: checks decided for every value of some constants (spec/prove.md).

Known answers on the flagship pair and on other models, the certificate re-checked, the
counterexamples replayed, and `check` at small values never contradicting a proof.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3

from checker.cli import main
from checker.engines.base import CheckOptions, Verdict
from checker.engines.param import prove as P
from checker.engines.param.driver import _probes, _samples, concrete_search, inductive_set
from checker.engines.param.encode import CounterSystem
from checker.engines.param.params import load_param_spec
from checker.engines.run import run_checks
from checker.errors import InternalError
from checker.model import load_spec
from checker.model.semantics import StepKind

MODELS = Path(__file__).resolve().parent.parent / "models"
EBS = str(MODELS / "ebs_2011.storm")
FIXED = str(MODELS / "ebs_2011_fixed.storm")


def explicit(path: str, **consts: int) -> dict[str, Verdict]:
    run = run_checks(load_spec(path, consts), "explicit", CheckOptions(timeout=120))
    return {r.check.name: r.verdict for r in run.results}


def prop(cs: CounterSystem, name: str) -> P.Prop:
    return next(p for p in P.properties(cs) if p.name.startswith(name))


def houdini(path: str, params: list[str], names: tuple[str, ...], assume: tuple[str, ...] = ()
            ) -> dict[str, list[str]]:
    """Houdini as prove runs it (templates from small instances, tested on larger ones), then
    each named property's certificate, re-checked; the certificates by property."""
    pm = load_param_spec(path, params, list(assume))
    cs = CounterSystem(pm)
    samples = _samples(cs, pm, {})
    cands = P.templates(cs, [(v, s) for v, _m, s in samples], _probes(cs, pm, {}, samples))
    goals = [P.goal_of(prop(cs, name)) for name in names]
    inductive = inductive_set(cs, goals, goals, cands, P.Budget(240))
    assert not isinstance(inductive, str), inductive
    out = {}
    for name, goal in zip(names, goals):
        assert goal in inductive, name
        cert = P.certificate(cs, goal, inductive, P.Budget(120))
        assert not isinstance(cert, str), (name, cert)
        assert "fresh solver" in P.recheck(cs, prop(cs, name), cert, samples)
        out[name] = [c.text for c in cert]
    return out


# ---- the flagship pair -----------------------------------------------------------------


def test_flagship_storm_found_at_its_smallest_n() -> None:
    pm = load_param_spec(EBS, ["N"])
    cs = CounterSystem(pm)
    found = P.lasso(cs, pm.model.check("no_storm"), P.Budget(120))
    assert not isinstance(found, str), found
    values, labels, _start = found
    assert values == {"N": 3}
    assert labels[-1].kind is StepKind.TICK
    # the explicit engine agrees: a storm at N = 3, none at N = 2
    assert explicit(EBS, N=3)["no_storm"] is Verdict.VIOLATED
    assert explicit(EBS, N=2)["no_storm"] is Verdict.HOLDS


@pytest.mark.slow  # about 40 s of Houdini on this machine; bench/prove_bench.py times it
def test_fixed_model_free_of_stuck_storms_for_every_n_and_buffer() -> None:
    # the header's buffer condition: at least one spare slot (SPARE = 0 is the futile case)
    certs = houdini(FIXED, ["N", "SPARE"], ("load_bounded", "no model error", "no_storm: no stuck storm"),
                    ("SPARE >= 1",))
    for texts in certs.values():
        # the slots are conserved: free, copying and stale replicas account for the buffer
        assert "count(copying) + free + stale == SPARE" in texts, texts
        assert len(texts) <= 12, texts  # short enough to read


def test_fixed_model_without_buffer_has_a_stuck_storm(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["prove", EBS, "--for-all", "SPARE", "--set", "N=2", "--timeout", "60", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    stuck = next(p for p in doc["properties"] if p["property"] == "no_storm: no stuck storm")
    assert stuck["verdict"] == "violated" and stuck["values"] == {"SPARE": 0}
    assert stuck["trace"]["states"]
    storm = next(p for p in doc["properties"] if p["property"] == "no_storm: no storm")
    assert storm["verdict"] == "violated" and storm["values"] == {"SPARE": 0}
    assert rc == 1


def test_flagship_invariants_proved_with_a_certificate() -> None:
    houdini(EBS, ["N"], ("load_bounded", "no model error"))
    # check at small N never contradicts the proof (and no run there has a model error)
    for n in (1, 2, 3, 4, 5):
        run = run_checks(load_spec(EBS, {"N": n}), "explicit", CheckOptions(timeout=120))
        by = {r.check.name: r for r in run.results}
        assert by["load_bounded"].verdict is Verdict.HOLDS, n
        assert not any(r.model_error for r in run.results), n


# ---- other models ------------------------------------------------------------------------


def _houdini_all(path: str, params: list[str], names: tuple[str, ...]) -> None:
    houdini(path, params, names)


@pytest.mark.slow  # about 30 s of Houdini (two_retries_max's count terms add atoms)
def test_token_bucket_retry_rate_for_every_n() -> None:
    path = str(MODELS / "token_bucket.storm")
    _houdini_all(path, ["N"], ("retry_rate", "no model error"))
    for n in (1, 2, 5):  # check at other N never contradicts the proof
        assert explicit(path, N=n)["retry_rate"] is Verdict.HOLDS, n


def test_client_server_queue_invariants_for_every_client_count() -> None:
    path = str(MODELS / "client_server_queue.storm")
    _houdini_all(path, ["CLIENTS"], ("accounted", "queue_bounded", "no model error"))
    for n in (4, 5):  # init puts BURST = 4 clients waiting: CLIENTS >= 4 is the well-formed range
        res = explicit(path, CLIENTS=n)
        assert res["accounted"] is Verdict.HOLDS and res["queue_bounded"] is Verdict.HOLDS, n


def test_construct_not_supported_is_unknown_not_an_answer(capsys: pytest.CaptureFixture[str]) -> None:
    # backoff_cap's local ranges depend on CAP: for-all CAP is refused; for-all N is decided
    assert main(["prove", str(MODELS / "backoff_cap.storm"), "--for-all", "CAP"]) == 2
    assert "the range of local" in capsys.readouterr().err


# ---- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--for-all", "M"], "--for-all M: 'M' is not a constant"),
        (["--for-all", "N", "--assume", "N >= "], "--assume 'N >= '"),
        (["--for-all", "N", "--assume", "N + 1"], "must be a condition"),
        (["--for-all", "N", "--assume", "free > 1"], "'free' is a variable"),
        (["--for-all", "N", "--assume", "N > 1 and frees"], "unknown name 'frees'"),
        (["--for-all", "BACKOFF"], "the range of local 'wait' depends on it"),
        (["--for-all", "N", "--set", "N=3"], "either free or set"),
        (["--for-all", "N", "--for-all", "N"], "given twice"),
        (["--for-all", "RECONNECT"], "boolean constant"),
    ],
)
def test_bad_command_lines_are_one_line_errors(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    spec = FIXED if "RECONNECT" in argv or "BACKOFF" in argv else EBS
    assert main(["prove", spec, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_prove_needs_for_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", EBS]) == 2
    assert "--for-all" in capsys.readouterr().err


def test_a_violation_prints_its_trace_and_a_replay_command_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["prove", EBS, "--for-all", "SPARE", "--set", "N=2", "--timeout", "60"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "no_storm: no stuck storm   violated at SPARE=0" in out
    assert "fired in the tick" in out and "no_space x1" in out  # the replayed trace, as check prints it
    assert "Replay it: stormproof check " in out and "--set N=2 --set SPARE=0" in out


# ---- the storms of the "before" models, at their smallest values -----------------------------


@pytest.mark.parametrize(
    ("model", "param", "sets", "smallest"),
    [
        ("backoff_cap.storm", "N", {"BACKOFF": 0}, 1),  # retrying at once: one client is enough
        ("client_server_queue.storm", "CLIENTS", {}, 4),  # BURST = 4 queued: the smallest well-formed count
    ],
)
def test_storm_of_a_before_model_found_at_its_smallest_value(model: str, param: str, sets: dict[str, int],
                                                             smallest: int) -> None:
    path = str(MODELS / model)
    pm = load_param_spec(path, [param], [], sets)
    found = P.lasso(CounterSystem(pm), pm.model.check("no_storm"), P.Budget(60))
    assert not isinstance(found, str), found
    assert found[0] == {param: smallest}
    # the explicit engine agrees there, and finds none below it where the spec is well formed
    assert explicit(path, **sets, **{param: smallest})["no_storm"] is Verdict.VIOLATED
    if model == "backoff_cap.storm":
        assert explicit(path, **sets, **{param: smallest - 1})["no_storm"] is Verdict.HOLDS


def test_an_invariant_over_locals_gets_its_count_terms_in_every_state() -> None:
    pm = load_param_spec(str(MODELS / "backoff_cap.storm"), ["N"])
    texts = [t for t, _e in P.spec_counts(pm.model)]
    assert texts == ["count(idle where backoff > wait)", "count(sending where backoff > wait)",
                     "count(served where backoff > wait)"]


@pytest.mark.slow  # about 30 s of Houdini
def test_backoff_cap_invariant_over_locals_for_every_n() -> None:
    path = str(MODELS / "backoff_cap.storm")
    certs = houdini(path, ["N"], ("backoff_within_wait", "no model error"))
    assert "count(idle where backoff > wait) == 0" in certs["backoff_within_wait"]
    for n in (1, 2, 3, 4):  # check at small N never contradicts the proof
        assert explicit(path, N=n)["backoff_within_wait"] is Verdict.HOLDS, n


def test_an_invariant_true_only_for_small_n_is_violated_at_its_smallest_n() -> None:
    # token_bucket's header argues two_retries_max from "only N = 4 clients": at N = 6 a
    # client resends a third time; BMC over counts does not reach it, the concrete search does
    path = str(MODELS / "token_bucket.storm")
    pm = load_param_spec(path, ["N"])
    cs = CounterSystem(pm)
    out = P.Outcome("two_retries_max", "two_retries_max", "unknown")
    concrete_search(cs, pm, {}, prop(cs, "two_retries_max"), P.Budget(60), out)
    assert out.verdict == "violated" and out.values == {"N": 6}, out.tried
    assert out.trace is not None and out.trace.states
    assert explicit(path, N=5)["two_retries_max"] is Verdict.HOLDS


def test_a_certificate_that_is_false_fails_its_recheck() -> None:
    pm = load_param_spec(EBS, ["N"])
    cs = CounterSystem(pm)
    samples = _samples(cs, pm, {})
    healthy = next(a for a in P.atoms(cs) if a.text == "count(healthy)")
    bogus = P._cand("", lambda s: z3.BoolVal(True), lambda x, p: True, "count(healthy)", [(healthy, 1)], "<=", 0)
    assert not bogus.conc(samples[-1][2][0], samples[-1][0])  # all healthy at the start
    with pytest.raises(InternalError):
        P.recheck(cs, prop(cs, "no model error"), [bogus], samples)


def test_the_concrete_search_for_model_errors_explores_past_a_violated_invariant() -> None:
    path = str(Path(__file__).resolve().parent / "specs" / "prove" / "error_after_violation.storm")
    pm = load_param_spec(path, ["N"])
    cs = CounterSystem(pm)
    out = P.Outcome("no model error", None, "unknown")
    concrete_search(cs, pm, {}, prop(cs, "no model error"), P.Budget(30), out)
    assert out.verdict == "violated" and out.values == {"N": 1}, out.tried
    assert out.trace is not None and out.trace.error and "x" in out.trace.error
