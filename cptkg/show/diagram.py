"""`cptkg show CODE --format svg|html`: the code and its neighbours drawn as a graph.

The nodes are the code's card: the related codes (family pairs, the stand-alone alternative 20680,
the pump codes), its places of service, specialties and indications; each edge carries its relation
and links to the sources that state it, and an edge that one source states and another contradicts
(the article against the coding guidance) is drawn as a conflict. The layout comes from networkx
(concentric shells: codes inside, the rest outside; deterministic, pure Python, no system package);
the drawing is our own SVG, escaped throughout."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cptkg.errors import InputError
from cptkg.queries import run_named

SOURCE_BASE = "https://w3id.org/cptkg/source/"
FAMILY_CLASS = "DrugDeliveryDeviceCode"  # the class (cptkg ontology) whose codes are drawn as the family
WIDTH, HEIGHT = 1200, 900
NODE_W, NODE_H = 160, 44
# The shells' radii as fractions of the canvas's half-width and half-height (an ellipse: the
# canvas is wider than tall, and boxes are wider than tall).
RADII = (0.0, 0.58, 1.0)

# Node kinds, drawn in this order around the shells, and their legend names.
KINDS = {"code": "this code", "family": "drug-delivery device code", "procedure": "other procedure code",
         "place": "place of service", "specialty": "specialty", "indication": "indication",
         "diagnosis": "ICD-10-CM", "concept": "concept"}


# The kinds drawn on the inner shell (codes); the rest go on the outer.
INNER = ("family", "procedure", "diagnosis")


@dataclass
class Node:
    key: str
    kind: str
    notation: str
    label: str
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    target: str
    relation: str
    sources: list[dict[str, str]] = field(default_factory=list)
    conflict: str | None = None  # the conflict's name when the sources disagree on this edge
    incoming: bool = False


@dataclass
class Diagram:
    title: str
    center: Node
    nodes: list[Node]
    edges: list[Edge]
    sources: list[dict[str, str]]
    conflicts: list[dict[str, Any]]

    def node(self, key: str) -> Node:
        return next(n for n in [self.center, *self.nodes] if n.key == key)


def _sources_for(card: dict[str, Any], relation: str, value: str) -> list[dict[str, str]]:
    """The sources stating this relation to ``value``; failing that, those relating the code to
    ``value`` at all (the article's cross-references state "see also", which the family pairs refine)."""
    rows = card.get("sources", [])
    exact = [r for r in rows if r["property"] == relation and r["value"] == value]
    chosen = exact or [r for r in rows if r["value"] == value]
    seen: dict[str, dict[str, str]] = {}
    for r in chosen:
        seen.setdefault(r["source"], {"source": r["source"], "title": r["sourceTitle"], "property": r["property"],
                                      "quote": r.get("quote") or ""})
    return list(seen.values())


def _conflicts_for(notation: str, store: Any) -> list[dict[str, Any]]:
    rows = run_named("conflicts", store=store).as_dicts()
    grouped: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["code"] != notation:
            continue
        entry = grouped.setdefault(r["conflict"], {"conflict": r["conflict"], "summary": r["summary"], "sides": []})
        side = {"property": r["property"], "value": r["value"], "source": r["source"]}
        if side not in entry["sides"]:
            entry["sides"].append(side)
    return list(grouped.values())


def build(card: dict[str, Any], store: Any = None) -> Diagram:
    """The diagram of a card from `cptkg.show.card`."""
    notation = card["notation"]
    if not card.get("inGraph", True):
        raise InputError(f"{notation} is not in the graph: there is nothing to draw around it ({card['note']})")
    center = Node(notation, "code", notation, card.get("label") or "")
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def add(kind: str, code: str, label: str, relation: str, value: str | None = None, incoming: bool = False) -> None:
        key = f"{kind}:{code}"
        nodes.setdefault(key, Node(key, kind, code, label))
        edges.append(Edge(key, relation, _sources_for(card, relation, value or code), incoming=incoming))

    if card.get("system", "cpt") == "cpt" and card.get("inGraph", True):
        # A related code is drawn as one of the family when the graph says it is one (its class),
        # not by the relation's name: a code added to the family is drawn so without a change here.
        family = {r["notation"] for r in card["related"]
                  if FAMILY_CLASS in {c["class"] for c in run_named("code-classes", {"code": r["notation"]},
                                                                       store=store).as_dicts()}}
        for r in card["related"]:
            add("family" if r["notation"] in family else "procedure", r["notation"], r["label"], r["relation"])
        for p in card["placesOfService"]:
            add("place", p["pos"], p["name"], "typical place of service")
        for s in card["specialties"]:
            add("specialty", s["taxonomy"], s["taxonomyName"], "typical specialty")
        for i in card["indications"]:
            add("indication", i["indication"], i["label"], "indication")
        conflicts = _conflicts_for(notation, store)
    else:
        for b in card.get("broader", []):
            add("diagnosis" if card["system"] == "icd10cm" else "concept", b["notation"], b["label"], "broader")
        for link in card.get("links", []):
            add("concept", link["notation"], link["label"], link["relation"], incoming=link["direction"] == "in")
        conflicts = []
    # An edge is in conflict when a conflict's sides name its relation and value.
    for conflict in conflicts:
        for side in conflict["sides"]:
            for edge in edges:
                if edge.relation == side["property"] and nodes[edge.target].notation == side["value"]:
                    edge.conflict = conflict["conflict"]
    every_source: dict[str, dict[str, str]] = {}
    for edge in edges:
        for s in edge.sources:
            every_source.setdefault(s["source"], {"source": s["source"], "title": s["title"],
                                                  "iri": SOURCE_BASE + s["source"]})
    for conflict in conflicts:
        for side in conflict["sides"]:
            every_source.setdefault(side["source"], {"source": side["source"], "title": side["source"],
                                                     "iri": SOURCE_BASE + side["source"]})
    diagram = Diagram(f"{notation} {center.label}".strip(), center, list(nodes.values()), edges,
                      sorted(every_source.values(), key=lambda s: s["source"]), conflicts)
    _layout(diagram)
    return diagram


def _layout(diagram: Diagram) -> None:
    """Concentric shells around the code (networkx.shell_layout): codes on the inner shell, places,
    specialties and indications on the outer, each kind kept together; scaled to the canvas."""
    import networkx as nx

    inner = [n.key for n in diagram.nodes if n.kind in INNER]
    outer = [n.key for n in diagram.nodes if n.key not in inner]
    shells = [[diagram.center.key], *[s for s in (inner, outer) if s]]
    graph = nx.Graph()
    graph.add_nodes_from(key for shell in shells for key in shell)
    graph.add_edges_from((diagram.center.key, e.target) for e in diagram.edges)
    positions = nx.shell_layout(graph, nlist=shells, rotate=math.pi / max(len(shells[-1]), 1))
    # networkx gives each shell's order and angles; the radii are set here so that boxes on the
    # inner shell do not crowd the centre (its own radii leave the outer shell at 2/3 of the scale).
    half_w, half_h = (WIDTH - NODE_W - 24) / 2, (HEIGHT - NODE_H - 110) / 2
    radii = RADII if len(shells) == 3 else (RADII[0], RADII[-1])
    for level, shell in enumerate(shells):
        for key in shell:
            px, py = (float(v) for v in positions[key])
            angle = math.atan2(py, px)
            node = diagram.center if key == diagram.center.key else next(n for n in diagram.nodes if n.key == key)
            node.x = round(WIDTH / 2 + math.cos(angle) * radii[level] * half_w, 1)
            node.y = round(HEIGHT / 2 + 40 + math.sin(angle) * radii[level] * half_h, 1)


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("cptkg.show", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_svg(diagram: Diagram, in_page: bool = False) -> str:
    """The diagram as SVG; ``in_page`` links edges to the page's source list, else to source IRIs."""
    by_key = {n.key: n for n in diagram.nodes}
    drawn = []
    for edge in diagram.edges:
        target = by_key[edge.target]
        cx, cy = diagram.center.x, diagram.center.y
        # Labels of edges to the outer shell sit beyond the inner shell's boxes.
        at = 0.55 if target.kind in INNER else 0.8
        drawn.append({"edge": edge, "x1": cx, "y1": cy, "x2": target.x, "y2": target.y,
                      "lx": round(cx + (target.x - cx) * at, 1), "ly": round(cy + (target.y - cy) * at, 1),
                      "href": ((f"#source-{edge.sources[0]['source']}" if in_page
                                else SOURCE_BASE + edge.sources[0]["source"]) if edge.sources else None)})
    return str(_environment().get_template("diagram.svg").render(
        d=diagram, edges=drawn, width=WIDTH, height=HEIGHT, node_w=NODE_W, node_h=NODE_H, kinds=KINDS,
        short=_short, used_kinds=[k for k in KINDS if k == "code" or any(n.kind == k for n in diagram.nodes)]))


def render_html(diagram: Diagram) -> str:
    from markupsafe import Markup

    from cptkg._version import __version__

    # The SVG is our own template's output, escaped there: marked safe so it is not escaped twice.
    return str(_environment().get_template("diagram.html").render(
        d=diagram, svg=Markup(render_svg(diagram, in_page=True)), version=__version__))
