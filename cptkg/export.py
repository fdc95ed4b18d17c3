"""Exports of the graph: canonical Turtle, N-Triples, JSON-LD (inline context), RDF/XML."""

from __future__ import annotations

import json
from typing import Any

from rdflib import Graph

from cptkg.namespaces import PREFIXES, bind_all

RDF_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
ALL_FORMATS = (*RDF_FORMATS, "skos", "fhir")


def canonical_turtle(graph: Graph) -> str:
    """Turtle with cptkg's prefixes, subjects and predicates sorted: the same graph, the same bytes.

    The packaged graph has no blank nodes, so rdflib's sorted serialisation is canonical.
    """
    out = bind_all(Graph())
    for t in graph:
        out.add(t)
    return out.serialize(format="turtle")


def ntriples(graph: Graph) -> str:
    lines = sorted({line for line in graph.serialize(format="nt").splitlines() if line.strip()})
    return "\n".join(lines) + "\n"


def jsonld(graph: Graph) -> str:
    # An inline context of cptkg's prefixes: consumers never fetch a remote context.
    context: dict[str, Any] = {p: str(ns) for p, ns in PREFIXES.items()}
    data = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    nodes = data.get("@graph", [data])
    for node in nodes:
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
    nodes.sort(key=lambda n: n.get("@id", ""))
    return json.dumps({"@context": context, "@graph": nodes}, indent=1, sort_keys=True,
                      ensure_ascii=False) + "\n"


def rdfxml(graph: Graph) -> str:
    out = bind_all(Graph())
    for t in graph:
        out.add(t)
    return out.serialize(format="pretty-xml")


def export(graph: Graph, fmt: str) -> str:
    if fmt == "turtle":
        return canonical_turtle(graph)
    if fmt == "ntriples":
        return ntriples(graph)
    if fmt == "jsonld":
        return jsonld(graph)
    if fmt == "rdfxml":
        return rdfxml(graph)
    raise ValueError(fmt)
