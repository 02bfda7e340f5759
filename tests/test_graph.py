"""`stormproof graph`: the tick graph as DOT and GraphML, storm loops highlighted, size limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from helpers import tiny

from checker.cli import main
from checker.engines.explicit.export import tick_graph
from checker.errors import UsageError
from checker.model import load_text

TINY = tiny()

ROOT = Path(__file__).resolve().parent.parent


def graph(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["graph", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def spec(tmp_path: Path) -> str:
    p = tmp_path / "tiny.storm"
    p.write_text(TINY)
    return str(p)


def test_tick_graph_vertices_edges_and_storm_loop() -> None:
    g = tick_graph(load_text(TINY, "tiny.storm"), ticks=10, max_states=10_000, max_vertices=100)
    assert sorted(g.nodes) == ["t0", "t1", "t2"]
    assert g.nodes["t0"]["count_idle"] == 2 and g.nodes["t0"]["var_free"] == 1
    assert g.nodes["t2"]["count_done"] == 1 and g.nodes["t2"]["var_free"] == 0
    assert g.edges["t0", "t1"]["fired"] == "ask x2"
    assert g.edges["t1", "t2"]["fired"] == "get x1, again x1"
    assert g.edges["t2", "t2"]["storm"] is True and g.nodes["t2"]["storm"] is True
    assert g.edges["t1", "t2"]["storm"] is False and g.nodes["t1"]["storm"] is False


def test_no_storm_loop_when_capacity_suffices() -> None:
    g = tick_graph(load_text(TINY.replace("CAP = 1", "CAP = 2"), "tiny.storm"), 10, 10_000, 100)
    assert not any(a["storm"] for _, a in g.nodes(data=True))
    assert not any(a["storm"] for _, _, a in g.edges(data=True))


def test_dot_output(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.dot"
    code, out, _ = graph([spec, "-o", str(target)], capsys)
    assert code == 0
    assert "3 tick states, 3 edges, 1 in storm loops" in out
    dot = target.read_text()
    assert dot.startswith('digraph "tiny" {') and dot.rstrip().endswith("}")
    assert '"t2" -> "t2" [label="again x1", color=red' in dot
    assert '"t0" [label="t0 (tick 0)\\nidle=2 waiting=0 done=0 free=1", peripheries=2];' in dot


def test_graphml_output_reads_back(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.graphml"
    code, _, _ = graph([spec, "-o", str(target)], capsys)
    assert code == 0
    ET.parse(target)  # well-formed XML
    g = nx.read_graphml(target)
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 3
    assert g.nodes["t2"]["storm"] is True
    assert g.edges["t1", "t2"]["fired"] == "get x1, again x1"


def test_a_model_with_faults_and_a_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "ebs.dot"
    code, _out, _ = graph([str(ROOT / "models" / "ebs_2011.storm"), "-o", str(target), "--ticks", "2"], capsys)
    assert code == 0
    assert "style=dashed" in target.read_text()  # unexplored frontier beyond the bound
    assert "style=dotted" in target.read_text()  # edges that need a fault


def test_refuses_a_graph_too_big_to_view(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.dot"
    code, _, err = graph([spec, "-o", str(target), "--max-vertices", "2"], capsys)
    assert code == 2
    assert "more than 2 vertices" in err and "--max-vertices" in err
    assert not target.exists()
    with pytest.raises(UsageError):
        tick_graph(load_text(TINY, "tiny.storm"), 10, 10_000, 2)


def test_bad_input(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = graph([spec, "-o", str(tmp_path / "g.png")], capsys)
    assert code == 2 and "unknown graph format '.png'" in err
    code, _, err = graph([spec], capsys)
    assert code == 2 and "-o" in err
    code, _, err = graph([spec, "-o", str(tmp_path / "g.dot"), "--set", "CAPP=2"], capsys)
    assert code == 2 and "Traceback" not in err
    code, _, err = graph([spec, "-o", str(tmp_path / "g.dot"), "--max-states", "3"], capsys)
    assert code == 2 and "state limit" in err
