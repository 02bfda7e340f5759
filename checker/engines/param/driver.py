"""Run the portfolio on every property of one spec and collect the outcomes."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from checker.engines.base import CheckOptions, Trace, Verdict
from checker.engines.param import prove as P
from checker.engines.param.encode import CounterSystem, Label
from checker.engines.param.params import ParamModel
from checker.engines.run import run_checks
from checker.errors import InternalError
from checker.model import ir
from checker.model.evaluate import EvalError
from checker.model.semantics import State, StepKind

SAMPLE_CAP = 5_000  # reachable states per small instance used for templates and re-checks


@dataclass
class Report:
    pm: ParamModel
    outcomes: list[P.Outcome]
    skipped: list[tuple[str, str]]  # (check, why prove does not decide it)
    samples: list[str] = field(default_factory=list)
    seconds: float = 0.0


def prove_spec(pm: ParamModel, overrides: dict[str, ir.Value], timeout: float = 120.0) -> Report:
    start = time.perf_counter()
    cs = CounterSystem(pm)
    props = P.properties(cs)
    # freedom from model errors first: every invariant's proof needs it, and its certificate
    # seeds theirs
    props.sort(key=lambda p: {"errors": 0, "invariant": 1, "stuck": 2}.get(p.kind, 3))
    storms = [c for c in pm.model.checks if c.kind is ir.CheckKind.NO_STORM]
    skipped = [(c.name, f"{c.keyword} checks are not decided by prove (use check or sweep)")
               for c in pm.model.checks if c.kind in (ir.CheckKind.REACHABLE, ir.CheckKind.RECOVERS, ir.CheckKind.WITHIN)]
    end = time.perf_counter() + timeout
    reserve = timeout * 0.2 if storms else 0.0  # the storm-loop searches come last
    samples = _samples(cs, pm, overrides)
    ctx: dict[str, list[P.Cand]] = {"seed": []}  # templates, and what earlier proofs found
    outcomes: list[P.Outcome] = []
    same: dict[str, P.Outcome] = {}  # stuck-storm properties of checks with the same assumption
    for i, prop in enumerate(props):
        t0 = time.perf_counter()
        share = max(1.0, (end - reserve - t0) / (len(props) - i))  # what the earlier ones left, shared
        key = prop.check.source if prop.kind == "stuck" and prop.check is not None else None
        if key is not None and key in same:
            first = same[key]
            out = dataclasses.replace(first, name=prop.name, check=prop.check.name if prop.check else None,
                                      tried=[f"the same property as '{first.name}' (same assumption)"])
        else:
            out = P.Outcome(prop.name, prop.check.name if prop.check else None, "unknown")
            _decide(cs, pm, overrides, prop, P.Budget(share), out, samples, ctx)
            out.seconds = time.perf_counter() - t0
            if key is not None:
                same[key] = out
        outcomes.append(out)
    loops: dict[str, tuple[dict[str, int], list[Label], int] | str] = {}  # the loop search per assumption: checks that share one share it
    for j, c in enumerate(storms):
        t0 = time.perf_counter()
        share = max(1.0, min((end - t0) / (len(storms) - j), reserve / len(storms)))
        outcomes.append(_storm(cs, pm, overrides, c, P.Budget(share), loops))
        outcomes[-1].seconds = time.perf_counter() - t0
    return Report(pm, outcomes, skipped,
                  [", ".join(f"{k}={v}" for k, v in vals.items()) for vals, _m, _s in samples],
                  time.perf_counter() - start)




def _samples(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value]
             ) -> list[tuple[dict[str, int], ir.Model, list[State]]]:
    out = []
    for vals in P.sample_values(cs):
        model = P.concrete_model(pm, vals, overrides)
        states = P.reachable(model, SAMPLE_CAP)
        if states is not None:
            out.append((vals, model, states))
    return out


def _decide(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], prop: P.Prop, budget: P.Budget,
            out: P.Outcome, samples: list[tuple[dict[str, int], ir.Model, list[State]]], ctx: dict[str, list[P.Cand]]) -> None:
    total = budget.left()
    # a short BMC first (most violations are shallow), the provers, then BMC with what is left
    found = P.bmc(cs, prop, P.Budget(total * 0.1))
    if not isinstance(found, str):
        _found(cs, pm, overrides, prop, found, budget, out)
        return
    out.tried.append(f"bmc: {found}")
    if "cands" not in ctx:
        ctx["cands"] = P.templates(cs, [(v, s) for v, _m, s in samples]) if samples else []
    cands = ctx["cands"]
    if cands:
        seed = ctx["seed"]
        res = P.houdini(cs, prop, cands, P.Budget(total * 0.7), seed=seed)
        if not isinstance(res, str):
            cert = res[0]
            seed += [c for c in cert if c not in seed]
            seed.append(res[2])  # the property itself, proved: a conjunct for the next ones
            out.verdict, out.engine = "proved", "houdini"
            out.certificate = [c.text for c in cert]
            out.recheck = P.recheck(cs, prop, cert, samples)
            out.tried.append(f"houdini: {len(cert)} templates needed out of {len(cands)}")
            return
        out.tried.append(f"houdini: {res}")
    else:
        out.tried.append("houdini: no small instance to sample templates from")
    why = P.kinduction(cs, prop, P.Budget(min(budget.left(), total * 0.05)))
    if why is None:
        out.verdict, out.engine = "proved", "k-induction"
        out.recheck = "k-inductive in steps: the property alone is the certificate"
        out.tried.append("k-induction: proved")
        return
    out.tried.append(f"k-induction: {why}")
    why = P.spacer(cs, prop, P.Budget(budget.left() * 0.6))
    if why is None:
        out.verdict, out.engine = "proved", "spacer"
        out.recheck = "Spacer (CHC) answered unsat; its invariant is not printed"
        out.tried.append("spacer: proved")
        return
    out.tried.append(f"spacer: {why}")
    found = P.bmc(cs, prop, budget)
    if not isinstance(found, str):
        _found(cs, pm, overrides, prop, found, budget, out)
        return
    out.tried.append(f"bmc again: {found}")
    out.reason = "no engine decided it within its budget"


def _found(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], prop: P.Prop,
           found: tuple[dict[str, int], list[Label]], budget: P.Budget, out: P.Outcome) -> None:
    values, labels = found
    out.tried.append("bmc: counterexample")
    _violation(cs, pm, overrides, prop, values, labels, out)
    if out.verdict == "violated" and P.kinduction(cs, prop, P.Budget(min(5.0, budget.left() + 1)), kmax=1) is None:
        raise InternalError(f"prove: '{prop.name}' is violated at {values} and proved by 1-induction")


def _violation(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], prop: P.Prop,
               values: dict[str, int], labels: list[Label], out: P.Outcome) -> None:
    model = P.concrete_model(pm, values, overrides)
    states, steps, _ = P.replay(cs, model, labels)
    last = states[-1]
    err = P.error_step(model, last)
    trace: Trace | None = None
    if prop.kind in ("invariant", "errors"):
        if err is not None:
            trace = Trace(tuple(states), tuple(steps), failing_step=err[0], error=err[1])
        elif prop.kind == "invariant":
            assert prop.check is not None and prop.check.expr is not None
            concrete_check = model.check(prop.check.name)
            try:
                ok = P.eval_check(model, concrete_check.expr, last)  # type: ignore[arg-type]
                trace = None if ok else Trace(tuple(states), tuple(steps))
            except EvalError as e:
                trace = Trace(tuple(states), tuple(steps), error=str(e))
        if trace is None:
            raise InternalError(f"prove: the counterexample to '{prop.name}' at {values} does not replay as a violation")
        out.verdict, out.engine, out.values, out.trace, out.model = "violated", "bmc", values, trace, model
        out.reason = "replayed through the reference semantics at these values"
        return
    # stuck storm: confirm that no progress rule can ever fire again without a fault
    assert prop.check is not None
    reach = P.stuck_witness(model, last, model.check(prop.check.name).assuming)
    if isinstance(reach, tuple):
        more_steps, more_states = reach
        out.verdict, out.engine, out.values, out.model = "violated", "bmc", values, model
        out.trace = Trace(tuple(states + more_states), tuple(steps + more_steps))
        out.reason = ("replayed through the reference semantics; in its last tick state a retry rule can fire "
                      "and no fault-free run ever fires a progress rule")
    elif reach is True:
        out.reason = (f"at {values} a reachable state needs more than one step of lookahead before progress "
                      "(not a stuck storm, but the proof's lookahead cannot show it)")
    elif reach is False:
        out.reason = (f"at {values} a state from which no progress rule ever fires, but no tick state after it "
                      "where a retry rule can fire under the assumption")
    else:
        out.reason = f"at {values} the fault-free runs from a suspect state were too many to explore"


def _storm(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], c: ir.Check, budget: P.Budget,
           loops: dict[str, tuple[dict[str, int], list[Label], int] | str]) -> P.Outcome:
    out = P.Outcome(f"{c.name}: no storm", c.name, "unknown")
    if any(r.fair for r in pm.model.rules) or any(a.fair for a in pm.model.actions):
        out.reason = "the model has fair rules or actions, which prove's loop search does not handle"
        out.tried.append("lasso: not run")
        return out
    if c.source not in loops:
        loops[c.source] = P.lasso(cs, c, budget)
    found = loops[c.source]
    if isinstance(found, str):
        out.tried.append(f"lasso: {found}")
        out.reason = (f"{found}; a proof of no_storm for every value (a ticks-since-progress bound, issue item 5) "
                      "is not implemented")
        return out
    assert not isinstance(found, str)
    values, labels, j = found
    model = P.concrete_model(pm, values, overrides)
    states, steps, _ = P.replay(cs, model, labels)
    if states[-1] != states[j] or steps[-1].kind is not StepKind.TICK:
        raise InternalError(f"prove: the storm loop at {values} does not close when replayed")
    if c.sustained:  # only a storm the retries sustain violates it: the explicit engine decides that
        run = run_checks(model, "explicit", CheckOptions(only=(c.name,), timeout=max(budget.left(), 30.0)))
        res = run.results[0]
        if res.verdict is not Verdict.VIOLATED or res.trace is None:
            out.reason = (f"a storm loop at {values}, but the explicit engine finds none sustained by retries there "
                          f"({res.verdict.value}); a proof for every value is not implemented")
            out.tried.append("lasso: storm found; explicit engine: not sustained")
            return out
        out.verdict, out.engine, out.values, out.model = "violated", "bmc (lasso) + explicit", values, model
        out.trace = res.trace
        out.reason = "a storm sustained by retries at these values (the explicit engine's trace)"
        out.tried.append("lasso: storm found; explicit engine: sustained")
        return out
    out.verdict, out.engine, out.values, out.model = "violated", "bmc (lasso)", values, model
    out.trace = Trace(tuple(states[:-1]), tuple(steps), loop_start=j)
    out.reason = "a storm loop, replayed through the reference semantics at these values"
    out.tried.append("lasso: storm found")
    return out
