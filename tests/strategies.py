"""Hypothesis strategies: small random well-formed spec texts for engine agreement tests.

Specs stay tiny (at most three nodes, ranges of a few values, limited faults) so that both
engines decide them in well under a second; they still reach every feature the engines
encode: node rules with retry/progress/fair tags, actions, node and top-level faults with and
without limits, timers, `on tick` blocks at both levels, model errors (stores out of range,
division by zero) and every kind of check.
"""

from __future__ import annotations

from hypothesis import strategies as st

INT_OPS = ["+", "-"]
CMP = ["==", "!=", "<", "<=", ">", ">="]


@st.composite
def _int_expr(draw: st.DrawFn, names: list[str], depth: int = 0) -> str:
    choice = draw(st.integers(0, 5 if depth < 2 else 1))
    if choice == 0:
        return str(draw(st.integers(0, 3)))
    if choice == 1 or not names:
        return draw(st.sampled_from(names)) if names else str(draw(st.integers(0, 2)))
    a = draw(_int_expr(names, depth + 1))
    b = draw(_int_expr(names, depth + 1))
    if choice == 2:
        return f"({a} {draw(st.sampled_from(INT_OPS))} {b})"
    if choice == 3:
        return f"min({a}, {b})" if draw(st.booleans()) else f"max({a}, {b})"
    if choice == 4:
        return f"({a} {draw(st.sampled_from(['/', '%']))} {b})"
    return f"(if {draw(_bool_expr(names, [], depth + 1))} then {a} else {b})"


@st.composite
def _bool_expr(draw: st.DrawFn, names: list[str], bools: list[str], depth: int = 0) -> str:
    choice = draw(st.integers(0, 3 if depth < 2 else 1))
    if choice == 1 and bools:
        b = draw(st.sampled_from(bools))
        return b if draw(st.booleans()) else f"not {b}"
    if choice <= 1:
        return f"{draw(_int_expr(names, depth + 1))} {draw(st.sampled_from(CMP))} {draw(_int_expr(names, depth + 1))}"
    a = draw(_bool_expr(names, bools, depth + 1))
    b = draw(_bool_expr(names, bools, depth + 1))
    return f"({a} {draw(st.sampled_from(['and', 'or']))} {b})"


@st.composite
def _update(draw: st.DrawFn, targets: list[tuple[str, bool]], names: list[str], bools: list[str]) -> str:
    chosen = draw(st.lists(st.sampled_from(targets), min_size=0, max_size=2, unique=True)) if targets else []
    out = []
    for name, is_bool in chosen:
        if is_bool:
            out.append(f"{name} = {draw(_bool_expr(names, bools))}")
        else:
            op = draw(st.sampled_from(["=", "+=", "-="]))
            value = draw(_int_expr(names)) if op == "=" else str(draw(st.integers(1, 2)))
            out.append(f"{name} {op} {value}")
    return "{ " + "; ".join(out) + " }" if out else ""


@st.composite
def spec_texts(draw: st.DrawFn) -> str:
    """A random, well-formed spec text."""
    lines = ["protocol random"]
    g_ints = [f"g{i}" for i in range(draw(st.integers(1, 2)))]
    g_bools = ["flag"] if draw(st.booleans()) else []
    timer = draw(st.booleans())
    for g in g_ints:
        hi = draw(st.integers(1, 3))
        lines.append(f"var {g}: 0..{hi} = {draw(st.integers(0, hi))}")
    for b in g_bools:
        lines.append(f"var {b}: bool = {draw(st.sampled_from(['true', 'false']))}")
    if timer:
        lines.append("timer clock: 0..2")
    gnames = g_ints + (["clock"] if timer else [])
    n_kinds = draw(st.integers(1, 2))
    total_nodes = 0
    all_states: list[str] = []
    has_retry = False
    for k in range(n_kinds):
        count = draw(st.integers(0 if k else 1, 2 if total_nodes < 2 else 1))
        total_nodes += count
        states = [f"k{k}s{i}" for i in range(draw(st.integers(2, 3 if k == 0 else 2)))]
        all_states += states
        local = f"x{k}"
        names = gnames + [local] + [f"count({draw(st.sampled_from(states))})"]
        body = [f"  states {', '.join(states)}", f"  var {local}: 0..2 = 0"]
        targets = [(g, False) for g in g_ints] + [(b, True) for b in g_bools] + [(local, False)]
        for r in range(draw(st.integers(1, 3))):
            tag = draw(st.sampled_from(["", "retry ", "progress "]))
            has_retry |= tag == "retry "
            fair = "fair " if draw(st.integers(0, 4)) == 0 else ""
            src, dst = draw(st.sampled_from(states)), draw(st.sampled_from(states))
            guard = f" when {draw(_bool_expr(names, g_bools))}" if draw(st.booleans()) else ""
            upd = draw(_update(targets, names, g_bools))
            body.append(f"  {tag}{fair}rule k{k}r{r}: {src} -> {dst}{guard} {upd}")
        if draw(st.booleans()):
            src, dst = draw(st.sampled_from(states)), draw(st.sampled_from(states))
            body.append(f"  fault k{k}f: {src} -> {dst} limit {draw(st.integers(1, 2))}")
        if draw(st.integers(0, 3)) == 0:
            body.append(f"  on tick {{ {local} = min({local} + 1, 2) }}")
        lines.append(f"node kind{k} count {count} {{")
        lines += body
        lines.append("}")
    top = g_ints + (["clock"] if timer else [])
    tnames = top + [f"count({draw(st.sampled_from(all_states))})"]
    gtargets = [(g, False) for g in g_ints] + [(b, True) for b in g_bools]
    if draw(st.booleans()):
        fair = "fair " if draw(st.integers(0, 3)) == 0 else ""
        guard = f" when {draw(_bool_expr(tnames, g_bools))}" if draw(st.booleans()) else ""
        upd = draw(_update(gtargets, tnames, g_bools)) or "{}"
        lines.append(f"{fair}action act{guard} {upd}")
    if draw(st.booleans()):
        upd = draw(_update(gtargets, tnames, g_bools)) or "{}"
        lim = f" limit {draw(st.integers(1, 2))}"
        if g_bools and draw(st.integers(0, 3)) == 0:
            # an unlimited fault that cannot repeat without something else changing the flag
            lines.append("fault drop when flag { flag = false }")
        else:
            lines.append(f"fault glitch {upd}{lim}")
    if draw(st.booleans()):
        g = draw(st.sampled_from(g_ints))
        lines.append(f"on tick {{ {g} = {draw(_int_expr(tnames))} }}")
    if timer and draw(st.booleans()):
        lines.append("action arm when clock == 0 { clock = 2 }")
    cnames = tnames
    lines.append(f"check invariant inv: {draw(_bool_expr(cnames, g_bools))}")
    lines.append(f"check reachable reach: {draw(_bool_expr(cnames, g_bools))}")
    assuming = f" assuming {draw(_bool_expr(cnames, g_bools))}" if draw(st.booleans()) else ""
    lines.append(f"check no_storm{assuming}")
    lines.append(f"check recovers rec: {draw(_bool_expr(cnames, g_bools))}")
    lines.append(f"check recovers rec_within: {draw(_bool_expr(cnames, g_bools))} within {draw(st.integers(0, 2))} ticks")
    del has_retry
    return "\n".join(lines) + "\n"


@st.composite
def reducible_spec_texts(draw: st.DrawFn) -> str:
    """A random spec shaped so that the explicit engine's reduction inside a tick applies.

    Rules mostly touch only their own node or a few globals, counts are read rarely, so
    local rules and closed groups of events (spec/semantics.md) are common; unguarded
    increments make model errors (stores out of range) reachable now and then.
    """
    lines = ["protocol reducible", "var g0: 0..3 = 0", "var g1: 0..3 = 0", "var flag: bool = true"]
    states = ["a", "b", "c", "d"]
    guards = ["", " when x < 2", " when g0 < 3", " when g1 == 0", " when flag", " when g0 >= 2",
              " when g1 < 3 and x == 0", " when count(d) < 2"]
    updates = ["", "{ x = min(x + 1, 2) }", "{ g0 = min(g0 + 1, 3) }", "{ g1 = min(g1 + 1, 3) }",
               "{ flag = not flag }", "{ g0 += 1 }", "{ x = 0; g1 = min(g1 + 1, 3) }"]
    lines.append(f"node w count {draw(st.integers(2, 3))} {{")
    lines.append("  states " + ", ".join(states))
    lines.append("  var x: 0..2 = 0")
    for r in range(draw(st.integers(2, 5))):
        tag = draw(st.sampled_from(["", "retry ", "progress "]))
        src, dst = draw(st.sampled_from(states)), draw(st.sampled_from(states))
        lines.append(f"  {tag}rule r{r}: {src} -> {dst}{draw(st.sampled_from(guards))} {draw(st.sampled_from(updates))}")
    if draw(st.booleans()):
        src, dst = draw(st.sampled_from(states)), draw(st.sampled_from(states))
        lines.append(f"  fault f: {src} -> {dst} limit {draw(st.integers(1, 2))}")
    lines.append("}")
    if draw(st.booleans()):
        lines.append("fault reset { g0 = 0 } limit 1")
    if draw(st.booleans()):
        lines.append("fault drop when flag { flag = false }")
    if draw(st.booleans()):
        lines.append("action bump when g1 < 3 { g1 = g1 + 1 }")
    if draw(st.booleans()):
        lines.append("on tick { g0 = 0 }")
    inv = draw(st.sampled_from(["g0 <= 3", "g1 < 3", "count(a) >= 0", "not (g0 == 3 and g1 == 3)", "flag or g0 < 2"]))
    reach = draw(st.sampled_from(["g1 == 2", "count(d) == 2", "g0 == 3", "not flag and x_free"]))
    reach = reach.replace(" and x_free", "")
    lines.append(f"check invariant inv: {inv}")
    lines.append(f"check reachable reach: {reach}")
    lines.append("check no_storm")
    lines.append(f"check recovers rec: {draw(st.sampled_from(['count(d) == 0', 'g1 == 0', 'flag']))}")
    lines.append("check recovers rec_within: g0 == 0 within 2 ticks")
    return "\n".join(lines) + "\n"
