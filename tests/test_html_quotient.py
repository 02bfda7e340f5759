"""`stormproof graph --quotient`: the condensation that stays small enough to draw.

(Named test_html_* with the HTML report's tests: both are the pictures of issue 13.)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from helpers import tiny

from checker.cli import main
from checker.engines.explicit.export import tick_graph, to_dot
from checker.engines.explicit.graph import quotient
from checker.model import load_spec, load_text

ROOT = Path(__file__).resolve().parent.parent
EBS = ROOT / "tests" / "conformance" / "13_ebs_2011_langmd.storm"  # language.md's example: pinned numbers
SMALL_EBS = {"N": 3, "SPARE": 1, "CP_RATE": 2}


def test_tiny_quotient_is_its_condensation() -> None:
    g = tick_graph(load_text(tiny(), "tiny.storm"), ticks=10, max_states=10_000, max_vertices=100)
    q = quotient(g)
    assert sorted(q.nodes) == ["c0", "c1", "c2"] and q.graph["views"] == 3
    assert [q.nodes[c]["members"] for c in ("c0", "c1", "c2")] == ["t0", "t1", "t2"]
    assert [q.nodes[c]["storm"] for c in ("c0", "c1", "c2")] == [False, False, True]
    assert q.nodes["c2"]["cyclic"] and not q.nodes["c1"]["cyclic"]
    assert q.nodes["c0"]["initial"] and q.nodes["c2"]["label"].endswith("STORM: 1 in storm loops")
    assert sorted(q.edges) == [("c0", "c1"), ("c1", "c2")]  # no self-loops in a condensation
    assert q.edges["c1", "c2"]["label"] == "get x1, again x1"


def test_small_ebs_quotient_merges_and_marks_storm_components() -> None:
    g = tick_graph(load_spec(EBS, SMALL_EBS), ticks=100, max_states=100_000, max_vertices=5_000)
    q = quotient(g)
    assert nx.is_directed_acyclic_graph(q)
    assert q.number_of_nodes() * 4 < g.number_of_nodes()
    assert sum(q.nodes[c]["size"] for c in q) == g.number_of_nodes()
    members = [v for c in q for v in q.nodes[c]["members"].split()]
    assert sorted(members) == sorted(g.nodes)  # a partition of the tick states
    storm_states = {v for v, a in g.nodes(data=True) if a["storm"]}
    assert storm_states
    for c, a in q.nodes(data=True):
        inside = set(a["members"].split()) & storm_states
        assert a["storm"] is bool(inside) and a["storm_states"] == len(inside)
        # every tick state of a component shows the same picture's counts, or the component cycles
        assert a["views"] == 1 or a["cyclic"]
    # the same quotient comes out twice, byte for byte
    assert to_dot(q) == to_dot(quotient(g))


def test_cli_quotient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "q.dot"
    args = ["graph", str(EBS), "-o", str(target), "--quotient"]
    for name, value in SMALL_EBS.items():
        args += ["--set", f"{name}={value}"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "137 tick states (" in out and "condensed to 23 components" in out and "storm components" in out
    dot = target.read_text()
    assert dot.startswith('digraph "ebs_2011" {')
    assert dot.count("color=red") >= 1 and "STORM:" in dot and '"c0" [label="c0: ' in dot and "peripheries=2" in dot
    assert main(["graph", str(EBS), "-o", str(tmp_path / "q.graphml"), "--quotient",
                 "--set", "N=3", "--set", "SPARE=1", "--set", "CP_RATE=2"]) == 0
    back = nx.read_graphml(tmp_path / "q.graphml")
    assert back.number_of_nodes() == 23 and any(a["storm"] for _, a in back.nodes(data=True))


@pytest.mark.slow
def test_flagship_quotient_is_far_smaller_and_renders_with_dot(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "ebs.dot"
    assert main(["graph", str(EBS), "-o", str(target), "--quotient"]) == 0
    out = capsys.readouterr().out
    assert "1,595 tick states" in out
    text = target.read_text()
    vertices = sum(1 for line in text.splitlines() if line.startswith('  "c') and "->" not in line)
    assert vertices * 10 < 1_595
    assert text.count("STORM:") >= 1
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed: the quotient was checked, not rendered")
    svg = tmp_path / "ebs.svg"
    subprocess.run(["dot", "-Tsvg", str(target), "-o", str(svg)], check=True, timeout=120)
    assert svg.read_text().count("<g id=\"node") == vertices
