"""Claim graphs: RDF in the cptkg claim vocabulary (Turtle, N-Triples, JSON-LD, RDF/XML) cut into
one ClaimRecord per claim, in IRI order (RDF has no order; IRI order is stable across runs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from cptkg.claims.record import CHILDREN, VOCABULARY, ClaimRecord, Triple
from cptkg.claims.safe_parse import parse_untrusted
from cptkg.errors import InputError
from cptkg.kg.namespaces import CPTKG

OUR_NAMESPACE = "https://w3id.org/cptkg/"
# Vocabularies whose statements change what the rules read (types, class and property axioms, code
# hierarchy, shapes, cptkg's own facts). On a claim node only the claim vocabulary may appear.
ONTOLOGY_VOCABULARIES = (
    str(RDF), "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/shacl#", OUR_NAMESPACE,
)
# Notes people write on claims; left out of what the rules read, harmless.
ANNOTATIONS = frozenset({RDFS.label, RDFS.comment, RDFS.seeAlso, SKOS.note})


def display(term: Any) -> str:
    """A code IRI as its notation (20701, T85.735A), anything else as its text."""
    if term is None:
        return ""
    text = str(term)
    if isinstance(term, URIRef) and text.startswith(OUR_NAMESPACE):
        return unquote(text.rsplit("/", 1)[-1])
    return text


def read_rdf_text(text: str, fmt: str, source: str) -> Iterator[ClaimRecord]:
    try:
        graph = parse_untrusted(text, fmt, source)
    except InputError as err:
        yield ClaimRecord.unreadable(source, str(err))
        return
    yield from claims_from_graph(graph, source)


def claims_from_graph(graph: Graph, source: str) -> Iterator[ClaimRecord]:
    where = source  # RDF has no positions: claims are named by their own IRIs
    claims = set(graph.subjects(RDF.type, CPTKG.Claim)) | set(graph.subjects(CPTKG.item, None))
    if not claims:
        problem = "no claims found (a claim is a cptkg:Claim with cptkg:item lines)"
        yield ClaimRecord.unreadable(source, f"{source}: {problem}")
        return
    # A node listed by two claims would let one claim take the other's results: both refused.
    owners: dict[Any, set[Any]] = {}
    for claim in claims:
        for prop in CHILDREN:
            for child in graph.objects(claim, prop):
                owners.setdefault(child, set()).add(claim)
    shared = {child for child, by in owners.items() if len(by) > 1}
    # RDF has no order: claims come in IRI order, which is stable across runs and tools.
    for claim in sorted(claims, key=str):
        claim_id = str(claim) if isinstance(claim, URIRef) else f"{where}#{claim}"
        record = ClaimRecord(claim_id, source, iri=claim if isinstance(claim, URIRef) else None)
        try:
            record.error = _claim_problem(graph, claim, f"{where}: {claim_id}", shared)
            if record.error is None:
                record.triples, record.error = _claim_triples(graph, claim, f"{where}: {claim_id}")
        except Exception as err:  # one claim's failure is that claim's, never the run's
            record.triples, record.error = [], f"{where}: {claim_id}: cannot be read ({_reason(err)})"
        yield record


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split())[:200]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _ours(term: Any) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(OUR_NAMESPACE)


def _claim_problem(graph: Graph, claim: Any, claim_id: str, shared: set[Any]) -> str | None:
    if isinstance(claim, BNode):
        return f"{claim_id}: a claim must be an IRI, not a blank node, so results can name it"
    if _ours(claim):
        return (f"{claim_id}: a claim IRI may not be in cptkg's namespace {OUR_NAMESPACE} (check the "
                "file's @base and prefixes): give claims IRIs of your own")
    items = list(graph.objects(claim, CPTKG.item))
    if not items and (claim, CPTKG.otherLine, None) not in graph:
        return f"{claim_id}: the claim has no items (cptkg:item): nothing to validate"
    for prop in CHILDREN:
        for child in graph.objects(claim, prop):
            if isinstance(child, Literal):
                return f"{claim_id}: {_local(prop)} is the literal {str(child)[:60]!r}: it must name a node"
            if _ours(child):
                return (f"{claim_id}: its {_local(prop)} <{child}> is in cptkg's namespace {OUR_NAMESPACE}: "
                        "give claim lines IRIs of your own")
            if child in shared:
                return (f"{claim_id}: its {_local(prop)} {child} is listed by another claim too: "
                        "a node belongs to one claim")
    for item in items:
        for date in graph.objects(item, CPTKG.servicedDate):
            if isinstance(date, Literal) and date.datatype == XSD.date and date.ill_typed:
                return f"{claim_id}: bad date {str(date)!r} on item {item}: use YYYY-MM-DD"
    return None


def _local(term: Any) -> str:
    """The local name of a term of cptkg's ontology (cptkg:item -> item)."""
    return str(term).rpartition("#")[2]


def _claim_triples(graph: Graph, claim: Any, claim_id: str) -> tuple[list[Triple], str | None]:
    """The claim's triples in the claim vocabulary, or the first statement that is not claim data.

    Claim data is what VOCABULARY allows each kind of node to say about itself. Annotations from
    other vocabularies (rdfs:label, dcterms:, ex:) are left out; a statement in an ontology
    vocabulary (a type, a class axiom, skos:broader, a cptkg fact) would change what the rules read,
    so the claim is refused with it."""
    nodes: list[tuple[Any, Any]] = [(claim, CPTKG.Claim)]
    for prop, cls in CHILDREN.items():
        nodes.extend((child, cls) for child in graph.objects(claim, prop))
    kinds: dict[Any, Any] = {}
    for node, cls in nodes:
        if kinds.setdefault(node, cls) != cls:
            return [], f"{claim_id}: {node} is both a {_local(kinds[node])} and a {_local(cls)}"
    out: list[Triple] = []
    for node, cls in nodes:
        out.append((node, RDF.type, cls))
        allowed = VOCABULARY[cls]
        for _s, p, o in graph.triples((node, None, None)):
            if p in allowed:
                out.append((node, p, o))
            elif (p == RDF.type and o == cls) or p in ANNOTATIONS:
                continue
            elif p == RDF.type or str(p).startswith(ONTOLOGY_VOCABULARIES):
                return [], (f"{claim_id}: {node} says {graph.namespace_manager.normalizeUri(p)} "
                            f"{_shown(graph, o)}, which is not claim data (a claim may not define codes, "
                            "classes or facts): remove it")
    return out, None


def _shown(graph: Graph, term: Any) -> str:
    if isinstance(term, URIRef):
        return graph.namespace_manager.normalizeUri(term)
    return repr(str(term)[:60])
