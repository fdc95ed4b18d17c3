"""The batch engine: the claim shapes compiled once into SPARQL SELECT queries that each check a
whole batch of claims in one run on an in-memory Oxigraph store.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD

_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_TARGET = ("?this <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/"
           "<http://www.w3.org/2000/01/rdf-schema#subClassOf>* {cls} .")
_HANDLED = {
    SH.targetClass, SH.severity, SH.message, SH.sparql, SH.path, SH.minCount, SH.maxCount,
    SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH["class"], SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH["in"], SH.deactivated, SH.name, SH.description,
}
_IGNORED_NAMESPACES = ("http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")


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


@dataclass(frozen=True)
class RawResult:
    """A result as pySHACL would report it (message templates substituted as pySHACL does)."""

    shape: Any
    severity: Any
    focus: Any
    path: URIRef | None
    value: Any
    message: str


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


def compile_shapes(shapes: Graph) -> list[Check]:
    checks: list[Check] = []
    for shape in sorted(set(shapes.subjects(SH.severity, None)), key=str):
        if (shape, SH.deactivated, Literal(True)) in shapes:
            continue
        if not isinstance(shape, URIRef):
            raise UnsupportedShape("a shape without an IRI")
        for p in set(shapes.predicates(shape, None)):
            if p not in _HANDLED and not str(p).startswith(_IGNORED_NAMESPACES):
                raise UnsupportedShape(f"{shape}: {p} is not compiled")
        targets = list(shapes.objects(shape, SH.targetClass))
        if len(targets) != 1:
            raise UnsupportedShape(f"{shape}: the compiler needs exactly one sh:targetClass")
        target = _TARGET.format(cls=n3(targets[0]))
        severity = shapes.value(shape, SH.severity)
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


# ---------------------------------------------------------------- terms between rdflib and Oxigraph

def to_ox(term: Any) -> Any:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def from_ox(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _message_text(term: Any) -> str:
    # pySHACL substitutes str() of the rdflib term; Oxigraph terms print differently.
    return str(from_ox(term)) if not isinstance(term, str) else term


class BatchEngine:
    """Compiled checks over a base graph (the rule facts) and one batch of claims at a time.

    Each batch gets a fresh Oxigraph store holding the base and the batch (about 5 ms to fill):
    Oxigraph's in-memory store keeps every string it has seen, so reusing one store across
    batches grew by about 10 KiB a claim, past 1 GiB on 100,000 claims.
    """

    def __init__(self, shapes: Graph, base: Graph) -> None:
        self.checks = compile_shapes(shapes)
        loader = ox.Store()
        loader.bulk_load(base.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        self._base: list[Any] = list(loader)
        self.store = loader  # the last batch's store, for inspection

    def add_base(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        """Facts that stay for every later batch (ICD-10-CM facts of diagnoses seen)."""
        self._base.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)

    def run(self, triples: Iterable[tuple[Any, Any, Any]]) -> list[RawResult]:
        store = ox.Store()
        store.extend(self._base)
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)
        self.store = store
        results: list[RawResult] = []
        for check in self.checks:
            results.extend(self._run_check(check))
        return results

    def _run_check(self, check: Check) -> Iterator[RawResult]:
        solutions = self.store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        seen: set[tuple[Any, ...]] = set()
        for row in solutions:
            bound = {n: row[n] for n in names if row[n] is not None}
            focus = from_ox(bound["this"])
            value = from_ox(bound["value"]) if "value" in bound else None
            path = from_ox(bound["path"]) if "path" in bound else check.path
            if check.sparql_based:
                key = tuple(sorted((k, str(v)) for k, v in bound.items()))
                if key in seen:  # pySHACL drops duplicate rows
                    continue
                seen.add(key)
                if value is None and check.path is None:
                    value = focus  # pySHACL: a node shape's result names the focus as its value
            for template in check.messages or ("",):
                message = template
                if check.sparql_based:
                    for name, term in bound.items():
                        message = re.sub("{[?$]" + re.escape(name) + "}", _message_text(term).replace("\\", "\\\\"),
                                         message)
                yield RawResult(check.shape, check.severity, focus, path, value, message)
