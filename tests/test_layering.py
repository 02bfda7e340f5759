"""Layers import only to their left, and heavy dependencies stay in their one module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "checker"

BANNED = {
    "checker/syntax": {"z3", "networkx", "tabulate", "checker.model", "checker.engines", "checker.report", "checker.cli"},
    "checker/model": {"lark", "z3", "networkx", "tabulate", "checker.engines", "checker.report", "checker.cli"},
    "checker/engines": {"lark", "tabulate", "checker.report", "checker.commands", "checker.cli",
                        "checker.pytest_plugin"},
    "checker/report": {"lark", "z3", "networkx", "checker.commands", "checker.cli", "checker.pytest_plugin"},
    "checker/commands": {"lark", "z3", "checker.cli", "checker.pytest_plugin"},
    "checker/pytest_plugin.py": {"checker.cli"},
}
ONLY_HERE = {
    "lark": ("checker/syntax/",),
    "z3": ("checker/engines/symbolic/", "checker/engines/param/"),
    "networkx": ("checker/engines/explicit/graph.py", "checker/engines/explicit/export.py"),
    "tabulate": ("checker/report/", "checker/commands/"),
    "dask": ("checker/commands/cluster.py",),  # the optional extra stormproof[cluster]
    "distributed": ("checker/commands/cluster.py",),
}


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, function-level imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _matches(name: str, banned: str) -> bool:
    return name == banned or name.startswith(banned + ".")


def test_layers_import_only_to_their_left() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).as_posix()
        for prefix, banned in BANNED.items():
            if rel.startswith(prefix):
                bad = {n for n in _imports(path) for b in banned if _matches(n, b)}
                assert not bad, (rel, bad)


def test_heavy_dependencies_stay_in_their_module() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).as_posix()
        for dep, allowed in ONLY_HERE.items():
            if any(_matches(n, dep) for n in _imports(path)):
                assert rel.startswith(allowed), (rel, dep)


# the one module allowed to run generated code: the successor function, made from the IR
# (integers and generated identifiers only, never spec text)
GENERATOR = PKG / "engines" / "explicit" / "codegen.py"


def test_no_eval_or_exec_anywhere() -> None:
    used = set()
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec", "compile"):
                assert path == GENERATOR and node.func.id != "eval", (path, node.func.id)
                used.add(node.func.id)
    assert used == {"exec", "compile"}  # the exception is still needed


def test_generated_source_holds_no_spec_text() -> None:
    from checker.engines.explicit import codegen
    from checker.engines.explicit.encoding import Codec
    from checker.model import load_spec

    model = load_spec(PKG.parent / "models" / "ebs_2011.storm")
    codec = Codec(model)
    source, _values = codegen.source(codec, codec._phases)
    assert "def successors(st):" in source
    names = {model.name} | {v.name for v in model.globals} | {e.name for e in model.events}
    names |= {s for k in model.kinds for s in (k.name, *k.states)} | {v.name for k in model.kinds for v in k.locals}
    words = set(re.findall(r"[A-Za-z_]+", source))
    assert not names & words, names & words


def test_the_layering_rules_catch_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from checker.cli import main\n    from checker import cli\n")
    assert {"checker.cli", "checker.cli.main"} <= _imports(bad)
    assert any(_matches(n, "checker.cli") for n in _imports(bad))
