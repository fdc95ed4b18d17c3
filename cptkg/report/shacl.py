"""The report as a W3C SHACL validation report graph (``--format turtle``), built from the report
model alone: one sh:ValidationResult per result, its shape the rule's IRI, and one
cptkg:ClaimReport per claim with its verdict and origin, linked to its results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.util import from_n3

from cptkg.kg.namespaces import CPTKG, CPTKGSH, bind_all
from cptkg.report.model import ClaimReport, Result


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
