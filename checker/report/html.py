"""The HTML report: one self-contained page with every trace drawn as a chart over ticks.

Per spec: the run's configuration, the summary table, coverage notes, and per trace a chart
(node count per state, the globals the retry and progress guards read, retries and progress
steps per tick, fault ticks, the lasso's loop as a repeating band, a `within` window), the
storm diagnosis with its retry-free counterfactual run, and the trace table with changed
cells marked. The charts are hand-written SVG (a few line and bar panels need no library);
the page is a Jinja2 template (autoescaping), from the optional `stormproof[report]` extra.
Nothing is loaded from the network: CSS, JS and SVG are inline.
"""

from __future__ import annotations

import functools
import html as _html
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from checker import __version__
from checker.engines.base import CheckResult, Diagnosis, RunResult, StormCause, Trace, Verdict
from checker.errors import UsageError
from checker.model import ir
from checker.model.semantics import State, StepKind
from checker.report.explain import explain, fired_text, rows, table
from checker.report.record import engines, scope, value_text
from checker.report.text import _detail, kind_text, result_text

INSTALL_HINT = "--format html needs the report extra: pip install 'stormproof[report]'"

# Colour-blind friendly (Okabe-Ito, then Tol's muted), assigned in declaration order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255")
RETRY_COLOUR = "#D55E00"
PROGRESS_COLOUR = "#009E73"


# ---- what a chart shows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    """One row of a trace: a tick state, or the mid-tick state a trace may end in."""

    x: float  # ticks since the start of the run (a mid-tick end sits half a tick on)
    label: str
    counts: tuple[int, ...]  # per state, in `ChartData.states` order
    values: tuple[int, ...]  # per guard global, in `ChartData.globals` order
    retries: int  # retry-rule firings in the tick that led here
    progress: int  # progress-rule firings in the tick that led here
    faults: tuple[str, ...]  # faults that fired in the tick that led here
    fired: str


@dataclass(frozen=True, slots=True)
class GlobalSeries:
    name: str
    label: str
    lo: int
    hi: int
    before_tick: bool  # the tick block assigns it: show its value just before the tick


@dataclass(frozen=True, slots=True)
class ChartData:
    states: tuple[tuple[str, str], ...]  # (series id, state name)
    globals: tuple[GlobalSeries, ...]
    points: tuple[Point, ...]
    count_max: int
    loop: tuple[float, float] | None  # the lasso's loop: from its start tick to the trace's end
    window: tuple[float, float] | None  # a `within` violation: the T ticks that never recover


def guard_globals(model: ir.Model) -> list[ir.Var]:
    """The globals read by the guards of retry and progress rules, in declaration order."""
    seen: set[int] = set()
    for rule in model.rules:
        if rule.tag is not ir.Tag.NONE:
            _global_refs(rule.guard, seen)
    return [v for i, v in enumerate(model.globals) if i in seen]


def _global_refs(e: ir.Expr | None, acc: set[int]) -> None:
    if e is None:
        return
    if isinstance(e, ir.GlobalRef):
        acc.add(e.index)
    for x in ir.children(e):
        _global_refs(x, acc)


def _int(v: ir.Value) -> int:
    return int(v)


def chart_data(model: ir.Model, trace: Trace, check: ir.Check | None = None, tick_offset: int = 0) -> ChartData:
    """The series of a trace, one point per row of its table; `tick_offset` shifts the x axis."""
    states = tuple((f"{kind.name}.{s}", s) for kind in model.kinds for s in kind.states)
    ticked = {a.index for a in model.tick if not a.local}
    gvars = guard_globals(model)
    gidx = [model.globals.index(v) for v in gvars]
    series = tuple(
        GlobalSeries(v.name, f"{v.name} (end of tick)" if i in ticked else v.name,
                     0 if v.type is ir.Type.BOOL else v.lo, 1 if v.type is ir.Type.BOOL else v.hi, i in ticked)
        for v, i in zip(gvars, gidx)
    )
    tags = {r.name: r.tag for r in model.rules}
    fault_names = {f.name for f in model.faults}
    # the state just before each tick: what the tick block is about to reset
    before = [trace.states[i] for i, s in enumerate(trace.steps) if s.kind is StepKind.TICK]
    points = []
    ticks = 0
    for row in rows(trace):
        mid = row.label.endswith("(mid-tick)")
        pre: State = row.state
        if not mid and row.label != "0":
            ticks += 1
            pre = before[ticks - 1]
        counts = tuple(row.state.count(k, s) for k, kind in enumerate(model.kinds) for s in range(len(kind.states)))
        values = tuple(_int((pre if g.before_tick else row.state).globals[i]) for g, i in zip(series, gidx))
        points.append(Point(
            x=tick_offset + ticks + (0.5 if mid else 0),
            label=str(tick_offset + ticks) + (" (mid-tick)" if mid else ""),
            counts=counts,
            values=values,
            retries=sum(n for name, n in row.fired if tags.get(name) is ir.Tag.RETRY),
            progress=sum(n for name, n in row.fired if tags.get(name) is ir.Tag.PROGRESS),
            faults=tuple(name for name, _n in row.fired if name in fault_names),
            fired=fired_text(row.fired, row.failing),
        ))
    loop = None
    if trace.loop_start is not None:
        start = tick_offset + sum(1 for s in trace.steps[: trace.loop_start] if s.kind is StepKind.TICK)
        loop = (float(start), float(tick_offset + trace.ticks))
    window = None
    if check is not None and check.kind is ir.CheckKind.WITHIN and check.within is not None \
            and trace.loop_start is None and trace.failing_step is None and trace.error is None:  # a bad run
        end = tick_offset + trace.ticks
        window = (float(end - check.within), float(end))
    count_max = max([sum(k.init_counts) for k in model.kinds] + [1])
    return ChartData(states, series, tuple(points), count_max, loop, window)


# ---- SVG ----------------------------------------------------------------------------------------

LEFT, RIGHT, TOP, BOTTOM, GAP = 150, 120, 30, 34, 16
COUNTS_H, GLOBAL_H, STEPS_H = 160, 56, 80


def _esc(text: object) -> str:
    return _html.escape(str(text), quote=True)


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def chart_svg(data: ChartData, chart_id: str, title: str) -> str:
    """The chart as inline SVG: stacked panels sharing one tick axis."""
    pts = list(data.points)
    repeat: list[Point] = []
    if data.loop is not None:
        a, b = data.loop
        period = b - a
        repeat = [Point(p.x + period, p.label, p.counts, p.values, p.retries, p.progress, p.faults, p.fired)
                  for p in pts if a < p.x <= b]
    x0 = pts[0].x
    x1 = max([p.x for p in pts + repeat] + [x0 + 1])
    unit = max(min(64.0, max(12.0, 860.0 / (x1 - x0))), 320.0 / (x1 - x0))
    pw = unit * (x1 - x0)
    width = LEFT + pw + RIGHT
    panels: list[tuple[str, float]] = [("counts", COUNTS_H), *((f"g{i}", GLOBAL_H) for i in range(len(data.globals)))]
    panels.append(("steps", STEPS_H))
    height = TOP + sum(h for _n, h in panels) + GAP * (len(panels) - 1) + BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x0) * unit

    out = [(f'<svg class="chart" id="{_esc(chart_id)}" '
            f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" height="{_num(height)}" '
            f'role="img" aria-label="{_esc(title)}" data-x0="{_num(x0)}" data-unit="{_num(unit)}" '
            f'data-left="{LEFT}">'), f"<title>{_esc(title)}</title>"]
    plot_top, plot_bottom = TOP, height - BOTTOM
    # bands under everything
    def band(cls: str, a: float, b: float, title: str) -> str:
        """A shaded rectangle over ticks a..b, the whole height of the plot."""
        return (f'<rect class="{cls}" data-from="{_num(a)}" data-to="{_num(b)}" x="{_num(sx(a))}" '
                f'y="{plot_top}" width="{_num(sx(b) - sx(a))}" height="{_num(plot_bottom - plot_top)}">'
                f"<title>{title}</title></rect>")

    if data.loop is not None:
        a, b = data.loop
        out.append(band("loop-band", a, b, f"the loop: ticks {_num(a)} to {_num(b)}, then back to tick {_num(a)}"))
        out.append(band("loop-band repeat", b, 2 * b - a, "the loop again: it repeats forever"))
        out.append(f'<text class="band-label" x="{_num(sx(a) + 4)}" y="{plot_top - 8}">↻ loop, repeats forever</text>')
    if data.window is not None:
        a, b = data.window
        out.append(band("window-band", a, b, f"{_num(b - a)} fault-free ticks without recovery"))
        out.append(f'<text class="band-label" x="{_num(sx(a) + 4)}" y="{plot_top - 8}">'
                   f"{_num(b - a)}-tick window, never recovers</text>")
    y = float(TOP)
    for name, h in panels:
        out.append(f'<g class="panel" data-panel="{name}" transform="translate(0 {_num(y)})">')
        out.append(f'<line class="axis" x1="{LEFT}" y1="{_num(h)}" x2="{_num(LEFT + pw)}" y2="{_num(h)}"/>')
        out.append(f'<line class="axis" x1="{LEFT}" y1="0" x2="{LEFT}" y2="{_num(h)}"/>')
        if name == "counts":
            out += _counts_panel(data, pts, repeat, sx, h)
        elif name == "steps":
            out += _steps_panel(pts, repeat, sx, h, unit)
        else:
            out += _global_panel(data.globals[int(name[1:])], int(name[1:]), pts, repeat, sx, h)
        out.append("</g>")
        y += h + GAP
    # fault ticks: a marker through every panel in the tick that fired a fault
    for p in pts:
        if p.faults:
            fx = _num(sx(p.x))
            out.append(f'<g class="fault" data-tick="{_num(p.x)}"><line x1="{fx}" y1="{plot_top}" x2="{fx}" '
                       f'y2="{_num(plot_bottom)}"/><text x="{fx}" y="{plot_top - 8}" text-anchor="middle">⚡</text>'
                       f"<title>tick {_esc(p.label)}: fault {_esc(', '.join(p.faults))}</title></g>")
    # the tick axis
    step = max(1, round(40 / unit))
    for p in pts + repeat:
        if p.x != int(p.x) or (int(p.x - x0) % step and p is not pts[-1]):
            continue
        cls = "xtick repeat" if p in repeat else "xtick"
        out.append(f'<text class="{cls}" data-tick="{_num(p.x)}" x="{_num(sx(p.x))}" y="{_num(plot_bottom + 16)}" '
                   f'text-anchor="middle">{_num(p.x)}</text>')
    out.append(f'<text class="axis-title" x="{_num(LEFT + pw / 2)}" y="{_num(height - 2)}" '
               f'text-anchor="middle">tick</text>')
    # hover targets, one per row: the page script links them to the table rows
    for i, p in enumerate(pts):
        hx = sx(p.x) - unit / 2
        out.append(f'<rect class="hit" data-row="{i}" x="{_num(hx)}" y="{plot_top}" width="{_num(unit)}" '
                   f'height="{_num(plot_bottom - plot_top)}"><title>tick {_esc(p.label)}: {_esc(p.fired)}</title></rect>')
    out.append("</svg>")
    return "\n".join(out)


def _polyline(cls: str, series: str, colour: str, xy: list[tuple[float, float]], dashed: bool = False) -> str:
    pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in xy)
    dash = ' stroke-dasharray="4 3" opacity="0.5"' if dashed else ""
    return (f'<polyline class="{cls}" data-series="{_esc(series)}" fill="none" stroke="{colour}" '
            f'stroke-width="2" points="{pts}"{dash}/>')


def _y_ticks(lo: int, hi: int, scale: Any, h: float) -> list[str]:
    vals = sorted({lo, hi, (lo + hi) // 2}) if hi - lo > 1 else sorted({lo, hi})
    out = []
    for v in vals:
        yy = _num(scale(v))
        out.append(f'<text class="ytick" x="{LEFT - 6}" y="{yy}" text-anchor="end" dy="0.35em">{v}</text>')
        out.append(f'<line class="grid" x1="{LEFT}" y1="{yy}" x2="{LEFT + 4000}" y2="{yy}"/>')
    return out


def _counts_panel(data: ChartData, pts: list[Point], repeat: list[Point], sx: Any, h: float) -> list[str]:
    def sy(v: float) -> float:
        return h - 4 - v * (h - 12) / data.count_max

    out = _y_ticks(0, data.count_max, sy, h)
    out.append(f'<text class="panel-title" x="8" y="{_num(h / 2)}">nodes per state</text>')
    for j, (sid, _name) in enumerate(data.states):
        colour = PALETTE[j % len(PALETTE)]
        out.append(_polyline("series state", sid, colour, [(sx(p.x), sy(p.counts[j])) for p in pts]))
        if repeat:
            tail = [pts[-1]] + repeat
            out.append(_polyline("series state repeat", sid, colour, [(sx(p.x), sy(p.counts[j])) for p in tail], True))
    return out


def _global_panel(g: GlobalSeries, j: int, pts: list[Point], repeat: list[Point], sx: Any, h: float) -> list[str]:
    span = max(1, g.hi - g.lo)

    def sy(v: float) -> float:
        return h - 4 - (v - g.lo) * (h - 12) / span

    out = _y_ticks(g.lo, g.hi, sy, h)
    out.append(f'<text class="panel-title" x="8" y="{_num(h / 2)}">{_esc(g.label)}</text>')
    colour = "#444444"
    out.append(_polyline("series global", g.name, colour, [(sx(p.x), sy(p.values[j])) for p in pts]))
    if repeat:
        tail = [pts[-1]] + repeat
        out.append(_polyline("series global repeat", g.name, colour, [(sx(p.x), sy(p.values[j])) for p in tail], True))
    return out


def _steps_panel(pts: list[Point], repeat: list[Point], sx: Any, h: float, unit: float) -> list[str]:
    top = max([max(p.retries, p.progress) for p in pts] + [1])

    def sy(v: float) -> float:
        return h - v * (h - 8) / top

    out = _y_ticks(0, top, sy, h)
    out.append(f'<text class="panel-title" x="8" y="{_num(h / 2 - 7)}">retries</text>')
    out.append(f'<text class="panel-title" x="8" y="{_num(h / 2 + 9)}">progress steps</text>')
    bw = max(2.0, unit * 0.3)
    for p in pts + repeat:
        ghost = ' opacity="0.45"' if p in repeat else ""
        for cls, n, colour, dx in (("bar retry", p.retries, RETRY_COLOUR, -bw), ("bar progress", p.progress,
                                                                                    PROGRESS_COLOUR, 0.0)):
            if n:
                out.append(f'<rect class="{cls}" data-tick="{_num(p.x)}" data-n="{n}" x="{_num(sx(p.x) + dx)}" '
                           f'y="{_num(sy(n))}" width="{_num(bw)}" height="{_num(h - sy(n))}" fill="{colour}"{ghost}>'
                           f"<title>tick {_esc(p.label)}: {n} {cls.split()[1]}</title></rect>")
    return out


# ---- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableRow:
    label: str
    fired: str
    cells: tuple[tuple[str, bool], ...]  # (value, changed since the row above)
    loop_start: bool
    closes_loop: bool


def table_rows(model: ir.Model, trace: Trace, tick_offset: int = 0) -> tuple[list[str], list[TableRow], str]:
    """The columns, rows and notes of the text report's trace table, changed cells flagged
    instead of starred; every tick is a row (the chart above it has a point per tick)."""
    lay, lines = table(model, trace, offset=tick_offset, full=True)
    rows_ = [TableRow(ln.label, ln.fired, tuple(zip(ln.cells, ln.changed)), ln.loop_start, ln.closes_loop)
             for ln in lines]
    notes = []
    if lay.constant:
        notes.append(f"Locals with one value throughout: {', '.join(lay.constant)}.")
    if lay.ticked_globals or lay.ticked_locals:
        notes.append("(before tick): the value at the end of the tick, before its `on tick` block ran.")
    return list(lay.headers), rows_, " ".join(notes)


def run_configuration(run: RunResult) -> list[tuple[str, str]]:
    """What the run was asked to do and how far it got: the run record every format shares."""
    m, s, o = run.model, run.stats, run.opts
    consts = ", ".join(f"{n} = {value_text(v)}" for n, v in m.consts)
    sets = ", ".join(f"{n}={value_text(v)}" for n, v in run.overrides)
    if run.engine == "symbolic":
        search = f"unrolled to {s.max_depth} ticks"
    else:
        search = f"{s.states:,} states, {s.tick_states:,} tick states, {s.transitions:,} transitions"
    timeout = f"{o.timeout:g} s" if o.timeout is not None else "none"
    return [
        ("spec", m.file),
        ("protocol", m.name),
        ("constants (after --set)", consts or "none"),
        ("--set", sets or "none"),
        ("engine", " and ".join(engines(run))),
        ("tick bound", str(o.ticks) if o.ticks is not None else "none (complete exploration)"),
        ("limits", f"--max-states {o.max_states:,}, --timeout {timeout}"),
        ("scope", scope(run)),
        ("search", search),
        ("time", f"{s.seconds:.2f} s"),
        ("stormproof", __version__),
    ]


CAUSE_TEXT = {
    StormCause.SUSTAINED: "sustained by its retries",
    StormCause.FUTILE: "futile: no progress can ever happen",
    StormCause.MIXED: "mixed: sustained in part, futile in part",
}


def _diagnosis(model: ir.Model, d: Diagnosis, loop_tick: int, n: int) -> dict[str, Any]:
    witness = None
    if d.cause is StormCause.SUSTAINED and d.witness is not None:
        wid = f"chart-{n}-retry-free"
        w_cols, w_rows, _notes = table_rows(model, d.witness, loop_tick)
        title = f"without retries, from tick {loop_tick}"
        witness = {
            "id": wid, "title": title,
            "svg": chart_svg(chart_data(model, d.witness, tick_offset=loop_tick), wid, title),
            "columns": w_cols, "rows": w_rows,
        }
    return {
        "cause": d.cause.value, "cause_text": CAUSE_TEXT[d.cause], "sentence": d.sentence, "period": d.period,
        "retries": [(name, f"{rate:g}") for name, rate in d.retries_per_tick], "retrying_nodes": d.retrying_nodes,
        "recovery_ticks": d.recovery_ticks, "blocked": list(d.blocked), "witness": witness,
    }


def _trace_view(model: ir.Model, r: CheckResult, n: int) -> dict[str, Any]:
    assert r.trace is not None
    data = chart_data(model, r.trace, r.check)
    cid = f"chart-{n}"
    title = f"{r.check.name}: {result_text(r)}"
    states = [(sid, name, PALETTE[j % len(PALETTE)]) for j, (sid, name) in enumerate(data.states)]
    loop_tick = int(data.loop[0]) if data.loop is not None else 0
    t_cols, t_rows, t_notes = table_rows(model, r.trace)
    return {
        "id": cid,
        "svg": chart_svg(data, cid, title),
        "legend_states": states,
        "legend_globals": [g.label for g in data.globals],
        "loop": data.loop, "window": data.window,
        "columns": t_cols, "rows": t_rows, "notes": t_notes,
        "explain": explain(model, r),
        "diagnosis": _diagnosis(model, r.diagnosis, loop_tick, n) if r.diagnosis is not None else None,
        "what": "witness" if r.verdict is not Verdict.VIOLATED else "counterexample",
    }


def _view(runs: Sequence[RunResult], quiet: bool) -> dict[str, Any]:
    specs = []
    n = 0
    for run in runs:
        m = run.model
        checks = []
        for r in run.results:
            trace = None
            if r.trace is not None and not (quiet and r.verdict is not Verdict.VIOLATED):
                n += 1
                trace = _trace_view(m, r, n)
            checks.append({
                "name": r.check.name, "kind": kind_text(r.check), "result": result_text(r),
                "status": "violated" if r.verdict is Verdict.VIOLATED else r.verdict.value,
                "ticks": "-" if r.ticks is None else str(r.ticks), "detail": _detail(r),
                "vacuous": r.vacuous, "trace": trace,
                "note": explain(m, r) if r.verdict is not Verdict.VIOLATED and r.trace is None else None,
            })
        specs.append({
            "file": m.file, "protocol": m.name, "config": run_configuration(run), "checks": checks,
            "never_fired": list(run.never_fired or ()),
            "violated": sum(1 for r in run.results if r.verdict is Verdict.VIOLATED),
        })
    return {"specs": specs, "version": __version__}


def render_html(runs: Sequence[RunResult], quiet: bool = False, *, full_trace: bool = False) -> str:
    """The whole report as one HTML page that loads nothing from anywhere."""
    return str(_template().render(**_view(runs, quiet)))


@functools.cache
def _template() -> Any:
    try:
        import jinja2
        import markupsafe
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["svg"] = markupsafe.Markup  # built by chart_svg, every text in it escaped
    source = resources.files("checker.report").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    return env.from_string(source)


__all__ = ["INSTALL_HINT", "chart_data", "chart_svg", "guard_globals", "render_html", "run_configuration"]
