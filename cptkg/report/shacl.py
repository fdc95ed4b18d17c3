"""The report as a W3C SHACL validation report graph (``--format turtle``), built from the report
model alone: one sh:ValidationResult per result, its shape the rule's IRI, and one
cptkg:ClaimReport per claim with its verdict and origin, linked to its results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SH
from rdflib.util import from_n3

from cptkg.kg.namespaces import CPTKG, CPTKGSH, bind_all
from cptkg.report.model import ClaimReport, Evidence, Result


def shape_iri(rule: str) -> URIRef:
    """A rule ID names the shape cptkgsh:<RuleID>; a shape outside that namespace keeps its IRI."""
    return URIRef(rule) if ":" in rule else CPTKGSH[rule]


def _term(n3: str | None, shown: str | None) -> Any:
    if n3 is not None:
        return from_n3(n3)
    return None if shown is None else Literal(shown)


def add_result(graph: Graph, report: Any, result: Result, claim: Any = None) -> None:
    node = BNode()
    graph.add((report, SH.result, node))
    if claim is not None:
        graph.add((claim, CPTKG.hasResult, node))
    for prop, text in ((CPTKG.lineNumber, result.line), (CPTKG.lineCode, result.code),
                       (CPTKG.diagnosisNumber, result.diagnosis)):
        if text is not None:
            graph.add((node, prop, Literal(text)))
    graph.add((node, RDF.type, SH.ValidationResult))
    graph.add((node, SH.sourceShape, shape_iri(result.rule)))
    graph.add((node, SH.resultSeverity, SH[result.severity]))
    graph.add((node, SH.focusNode, _term(result.focus_term, result.focus)))
    if result.path is not None:
        graph.add((node, SH.resultPath, URIRef(result.path)))
    value = _term(result.value_term, result.value)
    if value is not None:
        graph.add((node, SH.value, value))
    graph.add((node, SH.resultMessage, Literal(result.message)))
    for fact in result.evidence or ():
        _add_evidence(graph, node, fact)


def _add_evidence(graph: Graph, result: Any, fact: Evidence) -> None:
    """A result is derived from the statements of the facts its rule read: prov:wasDerivedFrom,
    not dcterms:source. In the graph dcterms:source names the document that states a fact (the
    article, CMS); a result is no such statement but an entity computed from them, which is what
    PROV's derivation says, and the statement it points to carries its own dcterms:source. A fact
    with no SourcedStatement (an ICD-10-CM, NCCI or rule-pack fact) gets a blank rdf:Statement of
    its own with its sources."""
    if fact.statement is not None:
        graph.add((result, PROV.wasDerivedFrom, URIRef(fact.statement)))
        return
    if fact.subject_term is None or fact.property_term is None or fact.value_term is None:
        return
    statement = BNode()
    graph.add((result, PROV.wasDerivedFrom, statement))
    graph.add((statement, RDF.type, RDF.Statement))
    graph.add((statement, RDF.subject, _term(fact.subject_term, fact.subject)))
    graph.add((statement, RDF.predicate, URIRef(fact.property_term)))
    graph.add((statement, RDF.object, _term(fact.value_term, fact.value)))
    for _ident, _title, iri in fact.sources:
        graph.add((statement, DCTERMS.source, URIRef(iri)))
    if fact.quote:
        graph.add((statement, CPTKG.quote, Literal(fact.quote)))


def report_graph(claims: Iterable[ClaimReport], conforms: bool) -> Graph:
    graph = bind_all(Graph())
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(conforms)))
    for claim in claims:
        # Each claim's verdict and origin beside the W3C results (which have no notion of a claim).
        node = BNode()
        graph.add((report, CPTKG.claimReport, node))
        graph.add((node, RDF.type, CPTKG.ClaimReport))
        graph.add((node, CPTKG.claimId, Literal(claim.claim)))
        graph.add((node, CPTKG.verdict, Literal(claim.verdict)))
        graph.add((node, CPTKG.originFile, Literal(claim.source)))
        if claim.where:
            graph.add((node, CPTKG.originWhere, Literal(claim.where)))
        if claim.reason:
            graph.add((node, CPTKG.notApplicableBecause, Literal(claim.reason)))
        for result in claim.results:
            add_result(graph, report, result, node)
    return graph
