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


CONCRETE_VALUES, CONCRETE_TOP, CONCRETE_EACH = 40, 12, 10.0  # the concrete search: instances, largest value, seconds each
FIRST_BMC = 3.0  # seconds per property for the first, shallow BMC
PROBE_CAP = 20_000  # states of the spec's own instance used to test the candidates (breadth first)
PROBE_RUNS, PROBE_LENGTH = 60, 400  # random runs per larger instance, for the same


def prove_spec(pm: ParamModel, overrides: dict[str, ir.Value], timeout: float = 120.0) -> Report:
    start = time.perf_counter()
    end = start + timeout
    cs = CounterSystem(pm)
    props = P.properties(cs)
    storms = [c for c in pm.model.checks if c.kind is ir.CheckKind.NO_STORM]
    skipped = [(c.name, f"{c.keyword} checks are not decided by prove (use check or sweep)")
               for c in pm.model.checks if c.kind in (ir.CheckKind.REACHABLE, ir.CheckKind.RECOVERS, ir.CheckKind.WITHIN)]
    reserve = timeout * 0.2 if storms else 0.0  # the storm-loop searches come last
    samples = _samples(cs, pm, overrides)
    # the stuck-storm properties of checks with the same assumption are one property
    unique: dict[str, P.Prop] = {}
    for prop in props:
        unique.setdefault(_key(prop), prop)
    work = list(unique.values())
    outs = {_key(p): P.Outcome(p.name, p.check.name if p.check else None, "unknown") for p in work}
    # 1. a short BMC for each (most violations are shallow)
    for i, prop in enumerate(work):
        t0 = time.perf_counter()
        share = min(FIRST_BMC, max(1.0, (end - reserve - t0) * 0.1 / (len(work) - i)))
        out = outs[_key(prop)]
        found = P.bmc(cs, prop, P.Budget(share))
        if isinstance(found, str):
            out.tried.append(f"bmc: {found}")
        else:
            _found(cs, pm, overrides, prop, found, P.Budget(share), out)
        out.seconds += time.perf_counter() - t0
    # 2. Houdini once for all: the strongest invariant the templates can say, then each
    #    proved property's certificate cut out of it
    open_ = [p for p in work if outs[_key(p)].verdict == "unknown"]
    if open_:
        t0 = time.perf_counter()
        _houdini(cs, pm, overrides, work, open_, outs, samples, P.Budget(max(1.0, (end - reserve - t0) * 0.7)))
        spent = time.perf_counter() - t0
        for p in open_:
            outs[_key(p)].seconds += spent / len(open_)
    # 3. what is left: k-induction, Spacer, then BMC again with what is left
    open_ = [p for p in work if outs[_key(p)].verdict == "unknown"]
    for i, prop in enumerate(open_):
        t0 = time.perf_counter()
        _rest(cs, pm, overrides, prop, P.Budget(max(1.0, (end - reserve - t0) / (len(open_) - i))), outs[_key(prop)])
        outs[_key(prop)].seconds += time.perf_counter() - t0
    outcomes: list[P.Outcome] = []
    for prop in props:
        first = outs[_key(prop)]
        if unique[_key(prop)] is prop:
            outcomes.append(first)
        else:
            outcomes.append(dataclasses.replace(first, name=prop.name, check=prop.check.name if prop.check else None,
                                                tried=[f"the same property as '{first.name}' (same assumption)"],
                                                seconds=0.0))
    loops: dict[str, tuple[dict[str, int], list[Label], int] | str] = {}  # the loop search per assumption: checks that share one share it
    for j, c in enumerate(storms):
        t0 = time.perf_counter()
        share = max(1.0, min((end - t0) / (len(storms) - j), reserve / len(storms)))
        outcomes.append(_storm(cs, pm, overrides, c, P.Budget(share), loops))
        outcomes[-1].seconds = time.perf_counter() - t0
    return Report(pm, outcomes, skipped,
                  [", ".join(f"{k}={v}" for k, v in vals.items()) for vals, _m, _s in samples],
                  time.perf_counter() - start)


def _key(prop: P.Prop) -> str:
    if prop.kind == "stuck" and prop.check is not None:
        return f"stuck:{prop.check.assuming!r}"
    return prop.name


def _samples(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value]
             ) -> list[tuple[dict[str, int], ir.Model, list[State]]]:
    out = []
    for vals in P.sample_values(cs):
        model = P.concrete_model(pm, vals, overrides)
        states = P.reachable(model, SAMPLE_CAP)
        if states is not None:
            out.append((vals, model, states))
    return out


def _probes(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value],
            samples: list[tuple[dict[str, int], ir.Model, list[State]]]) -> list[tuple[dict[str, int], list[State]]]:
    out: list[tuple[dict[str, int], list[State]]] = []
    for vals in P.probe_values(cs, dict(pm.defaults), [v for v, _m, _s in samples]):
        model = P.concrete_model(pm, vals, overrides)
        states = P.reachable(model, PROBE_CAP, partial=True) if not out else []
        out.append((vals, (states or []) + P.walks(model, PROBE_RUNS, PROBE_LENGTH)))
    return out


def _houdini(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], work: list[P.Prop],
             open_: list[P.Prop], outs: dict[str, P.Outcome], samples: list[tuple[dict[str, int], ir.Model, list[State]]],
             budget: P.Budget) -> None:
    if not samples:
        for p in open_:
            outs[_key(p)].tried.append("houdini: no small instance to sample templates from")
        return
    cands = P.templates(cs, [(v, s) for v, _m, s in samples], _probes(cs, pm, overrides, samples))
    goals = {_key(p): P.goal_of(p) for p in work}  # the violated ones too: a check on both
    res = inductive_set(cs, list(goals.values()), [goals[_key(p)] for p in open_], cands, P.Budget(budget.left() * 0.8))
    if isinstance(res, str):
        for p in open_:
            outs[_key(p)].tried.append(f"houdini: {res} ({len(cands)} candidates)")
        return
    kept = {id(c) for c in res}
    for p in work:
        if outs[_key(p)].verdict == "violated" and id(goals[_key(p)]) in kept:
            raise InternalError(f"prove: '{p.name}' is violated and in the inductive invariant Houdini found")
    for i, p in enumerate(open_):
        out, goal = outs[_key(p)], goals[_key(p)]
        if id(goal) not in kept:
            out.tried.append(f"houdini: the strongest invariant of {len(res)} of {len(cands)} candidates "
                             "does not imply it")
            continue
        cert = P.certificate(cs, goal, res, P.Budget(max(1.0, budget.left() / (len(open_) - i))))
        if isinstance(cert, str):
            cert = [c for c in res if c is not goal]
        out.verdict, out.engine = "proved", "houdini"
        out.certificate = [c.text for c in cert]
        out.recheck = P.recheck(cs, p, cert, samples)
        out.tried.append(f"houdini: {len(cert)} templates needed out of {len(cands)}")


def inductive_set(cs: CounterSystem, goals: list[P.Cand], wanted: list[P.Cand], cands: list[P.Cand],
                  budget: P.Budget) -> list[P.Cand] | str:
    """Houdini on the short candidates first (equalities, and inequalities of at most two
    atoms): most proofs need no more, and every query grows with the candidates; on all of
    them when that leaves one of `wanted` out."""
    short = [c for c in cands if c.size <= 2 or c.op == "=="]
    res = P.strongest(cs, goals, short, P.Budget(budget.left() * 0.4))
    if isinstance(res, str) or not all(any(g is c for c in res) for g in wanted):
        res = P.strongest(cs, goals, cands, budget)
    return res


def concrete_search(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], prop: P.Prop,
                    budget: P.Budget, out: P.Outcome) -> None:
    """The explicit engine at concrete values, smallest sum first: a violation deeper than BMC
    reaches in the counter encoding is often shallow in ticks at a slightly larger N. Stops at
    the first violation (the smallest values this search found), or at an instance it cannot
    finish."""
    if prop.kind not in ("invariant", "errors"):
        return
    tried = 0
    for vals in P.sample_values(cs, CONCRETE_VALUES, CONCRETE_TOP):
        if budget.left() < 0.5:
            break
        model = P.concrete_model(pm, vals, overrides)
        # for model errors, a check only they violate: a spec's own check may be violated
        # sooner, and its shortest trace would hide a deeper model error
        target = (model.check(prop.check.name) if prop.check is not None
                  else ir.Check("no model error", ir.CheckKind.INVARIANT, ir.Lit(True, ir.Type.BOOL), None, None,
                                model.checks[0].span, "true"))
        run = run_checks(dataclasses.replace(model, checks=(target,)), "explicit",
                         CheckOptions(stop_early=True, timeout=min(budget.left(), CONCRETE_EACH)))
        res = run.results[0]
        tried += 1
        bad = res.model_error if prop.kind == "errors" else res.verdict is Verdict.VIOLATED
        if bad and res.trace is not None:
            out.verdict, out.engine, out.values, out.model, out.trace = "violated", "explicit", vals, model, res.trace
            out.reason = "the explicit engine's trace at these values (the smallest sum tried first)"
            out.tried.append(f"explicit at concrete values: violated in instance {tried} of those tried")
            return
        if res.verdict not in (Verdict.HOLDS, Verdict.VIOLATED):
            out.tried.append(f"explicit at concrete values: {tried} instances, the last not finished ({res.verdict.value})")
            return
    out.tried.append(f"explicit at concrete values: no violation in {tried} instances")


def _rest(cs: CounterSystem, pm: ParamModel, overrides: dict[str, ir.Value], prop: P.Prop, budget: P.Budget,
          out: P.Outcome) -> None:
    total = budget.left()
    concrete_search(cs, pm, overrides, prop, P.Budget(total * 0.3), out)
    if out.verdict == "violated":
        return
    why = P.kinduction(cs, prop, P.Budget(total * 0.2))
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
