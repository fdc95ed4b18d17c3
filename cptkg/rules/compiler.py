"""The SHACL-to-SPARQL compiler: each claim shape becomes SPARQL SELECT queries that check a whole
batch of claims at once (rows are results).

pySHACL runs a SPARQL-based constraint once per focus node on rdflib's engine and re-parses the
query text every time; here each constraint runs once per batch, with the target (``?this`` of
the shape's target class) joined in instead of pre-bound. Core constraints (min/max count,
datatype, node kind, pattern, class, min/max inclusive/exclusive, in) compile to SPARQL too. The
shapes stay the single statement of the rules: the compiler reads them, and a differential test
holds the results equal to pySHACL's on the same shapes and data.

A shape the compiler does not understand raises UnsupportedShape when the engine is built, so a
new kind of rule can never be skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, RDF, SH, XSD

_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_TARGET = ("?this <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/"
           "<http://www.w3.org/2000/01/rdf-schema#subClassOf>* {cls} .")
_HANDLED = {
    SH.targetClass, SH.severity, SH.message, SH.sparql, SH.path, SH.minCount, SH.maxCount,
    SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH["class"], SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH["in"], SH.deactivated, SH.name, SH.description,
}
# Labels, comments and a rule's own annotations (cptkgsh:fhirIssueType, ...: how its results are
# reported, rules.catalog) say nothing about what a shape checks.
_IGNORED_NAMESPACES = ("http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                       "https://w3id.org/cptkg/shapes#")
# Metadata that validates nothing: a shape's dcterms:source names where the rule comes from
# (`cptkg rules` shows it), as rdfs:label says what it checks.
_METADATA = {DCTERMS.source}


class UnsupportedShape(ValueError):
    """A shape uses SHACL the compiler does not translate (use the pyshacl engine)."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a SELECT whose rows are results."""

    shape: Any  # the shape's IRI (rdflib types graph values as Node)
    severity: Any
    messages: tuple[str, ...]
    query: str
    path: URIRef | None
    sparql_based: bool  # rows carry message variables; value defaults to the focus node


def n3(term: Any) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UnsupportedShape(f"cannot use {term!r} in a compiled query")


def _prefixes(shapes: Graph, node: Any) -> str:
    lines = []
    for ontology in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(ontology, SH.declare):
            prefix = shapes.value(decl, SH.prefix)
            namespace = shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines)))


def shapes_in(shapes: Graph) -> set[Any]:
    """Every shape of a shapes graph: typed as one, targeting a class, or given a severity. A shape
    without sh:severity is still a shape (SHACL's default severity is sh:Violation, as pySHACL
    applies it), never one skipped."""
    return {*shapes.subjects(RDF.type, SH.NodeShape), *shapes.subjects(RDF.type, SH.PropertyShape),
            *shapes.subjects(SH.targetClass, None), *shapes.subjects(SH.severity, None)}


def compile_shapes(shapes: Graph) -> list[Check]:
    checks: list[Check] = []
    for shape in sorted(shapes_in(shapes), key=str):
        if (shape, SH.deactivated, Literal(True)) in shapes:
            continue
        if not isinstance(shape, URIRef):
            raise UnsupportedShape("a shape without an IRI")
        for p in set(shapes.predicates(shape, None)):
            if p not in _HANDLED and p not in _METADATA and not str(p).startswith(_IGNORED_NAMESPACES):
                raise UnsupportedShape(f"{shape}: {p} is not compiled")
        targets = list(shapes.objects(shape, SH.targetClass))
        if len(targets) != 1:
            raise UnsupportedShape(f"{shape}: the compiler needs exactly one sh:targetClass")
        target = _TARGET.format(cls=n3(targets[0]))
        severity = shapes.value(shape, SH.severity, default=SH.Violation)
        shape_messages = tuple(str(m) for m in shapes.objects(shape, SH.message))
        path = shapes.value(shape, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise UnsupportedShape(f"{shape}: only predicate paths are compiled")
        for constraint in shapes.objects(shape, SH.sparql):
            select = str(shapes.value(constraint, SH.select))
            match = _WHERE.search(select)
            if match is None:
                raise UnsupportedShape(f"{shape}: no WHERE clause in its SELECT")
            query = (_prefixes(shapes, constraint) + "\n" + select[: match.end()] + "\n  " + target
                     + select[match.end():])
            messages = tuple(str(m) for m in shapes.objects(constraint, SH.message)) + shape_messages
            checks.append(Check(shape, severity, messages, query, path, True))
        if path is not None:
            checks.extend(Check(shape, severity, shape_messages, q, path, False)
                          for q in _core_queries(shapes, shape, target, path))
    return checks


def _core_queries(shapes: Graph, shape: URIRef, target: str, path: URIRef) -> Iterator[str]:
    p = n3(path)
    values = f"{target} ?this {p} ?value ."

    def value_filter(condition: str) -> str:
        return f"SELECT ?this ?value WHERE {{ {values} FILTER ({condition}) }}"

    min_count = shapes.value(shape, SH.minCount)
    if min_count is not None:
        yield (f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {p} ?value }} }} "
               f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {int(str(min_count))})")
    max_count = shapes.value(shape, SH.maxCount)
    if max_count is not None:
        yield (f"SELECT ?this WHERE {{ {values} }} "
               f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {int(str(max_count))})")
    datatype = shapes.value(shape, SH.datatype)
    if datatype is not None:
        if datatype == XSD.string:
            raise UnsupportedShape(f"{shape}: xsd:string datatype")
        yield value_filter(f"!isLiteral(?value) || DATATYPE(?value) != {n3(datatype)}")
    kind = shapes.value(shape, SH.nodeKind)
    if kind is not None:
        allowed: dict[Any, str] = {SH.IRI: "isIRI(?value)", SH.Literal: "isLiteral(?value)",
                   SH.BlankNode: "isBlank(?value)",
                   SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
                   SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
                   SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))"}
        if kind not in allowed:
            raise UnsupportedShape(f"{shape}: node kind {kind}")
        yield value_filter(f"!{allowed[kind]}")
    pattern = shapes.value(shape, SH.pattern)
    if pattern is not None:
        flags = shapes.value(shape, SH.flags)
        args = f"{Literal(str(pattern)).n3()}" + (f", {Literal(str(flags)).n3()}" if flags else "")
        yield value_filter(f"isBlank(?value) || !REGEX(STR(?value), {args})")
    cls = shapes.value(shape, SH["class"])
    if cls is not None:
        yield (f"SELECT ?this ?value WHERE {{ {values} FILTER NOT EXISTS {{ ?value "
               f"<{RDF.type}>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* {n3(cls)} }} }}")
    for prop, op in ((SH.minInclusive, ">="), (SH.maxInclusive, "<="), (SH.minExclusive, ">"),
                     (SH.maxExclusive, "<")):
        bound = shapes.value(shape, prop)
        if bound is not None:
            yield value_filter(f"!COALESCE(?value {op} {n3(bound)}, false)")
    members = shapes.value(shape, SH["in"])
    if members is not None:
        listed = ", ".join(n3(m) for m in Collection(shapes, members))
        yield value_filter(f"?value NOT IN ({listed})")


