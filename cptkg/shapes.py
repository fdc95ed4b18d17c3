"""The claim rules: shapes/claims/*.ttl, loaded once per process, and the rule catalog they form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SH

from cptkg import resources
from cptkg.namespaces import CPTKGSH


@cache
def shapes_in(folder: str) -> Graph:
    """Every shapes/<folder>/*.ttl file (claims, quality, skos) as one graph, parsed once."""
    graph = Graph()
    for f in resources.files("shapes", ".ttl"):
        if _in_folder(f, folder):
            graph.parse(data=f.read_text(encoding="utf-8"), format="turtle", publicID=str(CPTKGSH))
    return graph


def claim_shapes() -> Graph:
    return shapes_in("claims")


def _in_folder(traversable: object, name: str) -> bool:
    parts = str(traversable).replace("\\", "/").split("/")
    return len(parts) >= 2 and parts[-2] == name


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    label: str
    message: str


def rule_id(shape: object) -> str:
    text = str(shape)
    return text[len(str(CPTKGSH)):] if text.startswith(str(CPTKGSH)) else text


@cache
def catalog() -> dict[str, Rule]:
    """Every rule (a shape with an IRI in cptkgsh: and a severity), by rule ID."""
    graph = claim_shapes()
    out: dict[str, Rule] = {}
    for shape, severity in graph.subject_objects(SH.severity):
        if not isinstance(shape, URIRef):
            continue
        message = graph.value(shape, SH.message)
        if message is None:
            sparql = graph.value(shape, SH.sparql)
            message = graph.value(sparql, SH.message) if sparql is not None else None
        out[rule_id(shape)] = Rule(
            rule_id(shape),
            str(severity).rsplit("#", 1)[-1],
            str(graph.value(shape, RDFS.label) or ""),
            str(message or ""),
        )
    return dict(sorted(out.items()))
