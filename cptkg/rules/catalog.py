"""The rule catalog: the claim shapes of shapes/claims/ (loaded once per process), each rule a shape
whose IRI is cptkgsh:<RuleID>, with its severity, label and message."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SH

from cptkg.kg import resources
from cptkg.kg.namespaces import CPTKGSH


def claim_shapes() -> Graph:
    return resources.shapes_in("claims")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    label: str
    message: str


def rule_id(shape: object) -> str:
    """A shape's rule ID: its name after cptkgsh: for a built-in rule, its IRI's local name (after
    the last # or /) for a rule pack's."""
    text = str(shape)
    if text.startswith(str(CPTKGSH)):
        return text[len(str(CPTKGSH)):]
    local = text.rsplit("#", 1)[-1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]
    return local or text


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
