"""`stormproof prove SPEC --for-all N ...`: decide checks for every value of some constants.

The named constants become parameters (integers >= 0, and every `--assume`); the counter
encoding (checker.engines.param) decides, for every value at once, each `invariant` check,
freedom from model errors and, for each `no_storm` check, freedom from stuck storms; it
searches for a storm loop at concrete values. See spec/prove.md for what is proved.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from checker.commands.options import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    parse_set,
    subparser,
    timeout_seconds,
    write_output,
)
from checker.engines.param.driver import Report, prove_spec
from checker.engines.param.encode import Unsupported
from checker.engines.param.params import load_param_spec
from checker.errors import InternalError
from checker.model import ir
from checker.report.json_report import itf_trace
from checker.report.text import render_trace

NAME = "prove"
DEFAULT_TIMEOUT = 240.0


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "prove checks for every value of some constants (node counts, buffers)",
        "Prove checks for every value of the constants named by --for-all (each an integer >= 0,\n"
        "restricted by every --assume). Decided: each 'invariant' check, freedom from model\n"
        "errors, and per 'no_storm' check freedom from stuck storms; a storm loop is searched\n"
        "for at concrete values. A violation is printed at the smallest values found, replayed\n"
        "through the reference semantics; a proof prints its inductive invariant. See spec/prove.md.",
    )
    p.add_argument("spec", metavar="SPEC", help="a spec file (.storm)")
    p.add_argument("--for-all", action="append", default=[], metavar="CONST", dest="for_all", required=True,
                   help="a constant to leave free: the result holds for every value (repeatable)")
    p.add_argument("--assume", action="append", default=[], metavar="EXPR",
                   help="a condition on the constants, in the spec's expression language, "
                        "for example 'SPARE >= N' (repeatable)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="fix another constant (as for check)")
    p.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"time for the whole spec, shared by the properties (default {DEFAULT_TIMEOUT:.0f})")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    pm = load_param_spec(args.spec, args.for_all, args.assume, overrides)
    try:
        rep = prove_spec(pm, overrides, timeout=args.timeout or 3600.0)
    except Unsupported as e:
        text = f"{args.spec}: unknown: {e} is not supported by prove\n"
        if args.format == "json":
            text = json.dumps({"spec": args.spec, "unsupported": str(e)}, indent=2) + "\n"
        write_output(text, args.output)
        return EXIT_UNKNOWN
    write_output(render_json(rep) if args.format == "json" else render_text(rep, overrides), args.output)
    verdicts = [o.verdict for o in rep.outcomes]
    if "violated" in verdicts:
        return EXIT_VIOLATED
    if "unknown" in verdicts:
        return EXIT_UNKNOWN
    return EXIT_OK


def _scope(rep: Report) -> str:
    pm = rep.pm
    parts = [f"{n} >= 0" for n in pm.params]
    parts += [text for text, _ in pm.assume]
    return ", ".join(parts)


def render_text(rep: Report, fixed: dict[str, ir.Value] | None = None) -> str:
    """The text report; `fixed`: the --set values, which a replay command must repeat."""
    pm = rep.pm
    out = [f"{pm.model.file}: for every {', '.join(pm.params)} with {_scope(rep)} ({rep.seconds:.1f} s)", ""]
    width = max(len(o.name) for o in rep.outcomes) if rep.outcomes else 10
    for o in rep.outcomes:
        if o.verdict == "proved":
            what = f"proved for every value ({o.engine}, {o.seconds:.1f} s)"
        elif o.verdict == "violated":
            vals = ", ".join(f"{k}={v}" for k, v in o.values.items())
            what = f"violated at {vals} ({o.engine}, {o.seconds:.1f} s)"
        else:
            what = f"unknown: {o.reason}"
        out.append(f"  {o.name.ljust(width)}  {what}")
    for name, why in rep.skipped:
        out.append(f"  {name.ljust(width)}  not decided: {why}")
    for o in rep.outcomes:
        out.append("")
        if o.verdict == "proved":
            out.append(f"== {o.name}: certificate ==")
            if o.certificate:
                out.append("  An inductive invariant (with the property itself, the ranges of the variables")
                out.append("  and the node counts adding up to each kind's count):")
                out += [f"    {line}" for line in o.certificate]
            out.append(f"  Re-checked: {o.recheck}.")
        elif o.verdict == "violated" and o.trace is not None and o.model is not None:
            vals = ", ".join(f"{k}={v}" for k, v in o.values.items())
            out.append(f"== {o.name}: counterexample at {vals} ({o.reason}) ==")
            out.append(render_trace(o.model, o.trace))
            if o.trace.error:
                out.append(f"  model error: {o.trace.error}")
            out.append(f"  Replay it: stormproof check {pm.model.file} "
                       + " ".join(f"--set {k}={_value_text(v)}" for k, v in {**(fixed or {}), **o.values}.items()))
        else:
            out.append(f"== {o.name}: {o.verdict} ==")
            if o.reason:
                out.append(f"  {o.reason}")
        out.append("  Tried: " + "; ".join(o.tried))
    out.append("")
    out.append("Legend: count(S) nodes in state S; acted(K) nodes of kind K that acted this tick; "
               "remaining(F) fault F's limit left; 'after F' / 'before F' a fault of limit 1 used or not. "
               "See spec/prove.md.")
    return "\n".join(out) + "\n"


def render_json(rep: Report) -> str:
    pm = rep.pm
    doc: dict[str, Any] = {
        "spec": pm.model.file,
        "for_all": list(pm.params),
        "assume": [t for t, _ in pm.assume],
        "seconds": round(rep.seconds, 3),
        "samples": rep.samples,
        "properties": [],
        "not_decided": [{"check": n, "reason": r} for n, r in rep.skipped],
    }
    for o in rep.outcomes:
        item: dict[str, Any] = {
            "property": o.name, "check": o.check, "verdict": o.verdict, "engine": o.engine,
            "reason": o.reason, "tried": o.tried, "seconds": round(o.seconds, 3),
        }
        if o.verdict == "proved":
            item["certificate"] = {"invariant": o.certificate, "recheck": o.recheck}
        if o.verdict == "violated":
            item["values"] = o.values
            if o.trace is not None and o.model is not None:
                item["trace"] = itf_trace(o.model, o.trace)
        doc["properties"].append(item)
    return json.dumps(doc, indent=2) + "\n"


__all__ = ["EXIT_INTERNAL", "NAME", "InternalError", "add_parser", "run"]


def _value_text(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)
