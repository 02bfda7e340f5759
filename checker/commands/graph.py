"""`stormproof graph SPEC -o FILE.dot|FILE.graphml [--quotient]`: write the tick graph for a viewer.

The format follows the file's suffix. Refuses (exit 2) above `--max-vertices` tick states
(default 5,000): beyond that, Graphviz and the GraphML viewers do not open the file usefully.
`--quotient` writes the condensation instead (`graph.quotient`): tick states that look the same
merged, then one vertex per strongly connected component, storm components in red with their
sizes; it stays small enough for `dot` on the flagship models.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from checker.commands.options import add_bound_options, parse_set, positive_int, subparser, write_output
from checker.engines.explicit.export import tick_graph, to_dot, to_graphml
from checker.engines.explicit.graph import quotient
from checker.errors import UsageError
from checker.model import load_spec

NAME = "graph"
WRITERS = {".dot": to_dot, ".gv": to_dot, ".graphml": to_graphml}


def add_parser(sub: Any) -> None:
    p = subparser(
        sub, NAME, "write the tick graph (DOT or GraphML) with storm loops highlighted",
        "Explore SPEC with the explicit engine and write its tick graph: one vertex per tick state\n"
        "(node counts and globals), one edge per tick (what fired), storm loops in red.\n"
        "With --quotient, write its condensation instead: tick states with the same node counts and\n"
        "globals merged, then one vertex per strongly connected component, storm components in red.",
    )
    p.add_argument("spec", metavar="SPEC", help="the spec file (.storm)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="FILE.dot (Graphviz) or FILE.graphml (yEd, Gephi, Cytoscape)")
    add_bound_options(p)
    p.add_argument("--max-vertices", type=positive_int, default=5_000, metavar="V",
                   help="refuse graphs of more than V tick states (default 5,000)")
    p.add_argument("--quotient", action="store_true",
                   help="write the condensation: strongly connected components of the tick states that look "
                        "the same, storm components highlighted, with their sizes")


def run(args: argparse.Namespace) -> int:
    suffix = Path(args.output).suffix.lower()
    writer = WRITERS.get(suffix)
    if writer is None:
        raise UsageError(f"-o {args.output}: unknown graph format '{suffix or '(none)'}'; "
                         "use FILE.dot (Graphviz) or FILE.graphml")
    model = load_spec(args.spec, parse_set(args.set))
    g = tick_graph(model, args.ticks, args.max_states, args.max_vertices, args.timeout)
    storm = sum(1 for _, a in g.nodes(data=True) if a.get("storm"))
    if args.quotient:
        q = quotient(g)
        write_output(writer(q), args.output)
        storm_c = sum(1 for _, a in q.nodes(data=True) if a.get("storm"))
        write_output(f"{args.output}: {g.number_of_nodes():,} tick states ({storm:,} in storm loops) in "
                     f"{q.graph['views']:,} views, condensed to {q.number_of_nodes():,} components, "
                     f"{q.number_of_edges():,} edges, {storm_c:,} storm components\n")
        return 0
    write_output(writer(g), args.output)
    write_output(f"{args.output}: {g.number_of_nodes():,} tick states, {g.number_of_edges():,} edges, "
                 f"{storm:,} in storm loops\n")
    return 0
