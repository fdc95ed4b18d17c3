"""The pySHACL engine (``--engine pyshacl``): pySHACL itself on the same shapes and facts as the
compiled engines, the reference. Slower; the differential tests hold the DuckDB and Oxigraph
engines' results equal to these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from cptkg.errors import InputError
from cptkg.rules.engines import Engine, RuleFacts, Triple
from cptkg.rules.results import RawResult


def run_pyshacl(shapes: Graph, data: Graph, added: Iterable[tuple[Any, Any, Any]]) -> list[RawResult]:
    """Validate ``data`` with ``added`` in place (no clone, no inference), then take them out."""
    from pyshacl import validate as pyshacl_validate

    added = list(added)
    for t in added:
        data.add(t)
    try:
        _conforms, report, _text = pyshacl_validate(
            data, shacl_graph=shapes, inference="none", advanced=False,
            abort_on_first=False, allow_warnings=True,
        )
    finally:
        for t in added:
            data.remove(t)
    if not isinstance(report, Graph):
        raise InputError(f"pySHACL refused the shapes (a rule pack's?): {report}")
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(result, SH.resultPath)
        out.append(RawResult(
            report.value(result, SH.sourceShape), report.value(result, SH.resultSeverity),
            report.value(result, SH.focusNode), path if isinstance(path, URIRef) else None,
            report.value(result, SH.value), str(report.value(result, SH.resultMessage) or "")))
    return out


class PyshaclEngine(Engine):
    """pySHACL over an rdflib graph of the facts, the batch's triples added for each run."""

    name = "pyshacl"

    def __init__(self, shapes: Graph, facts: RuleFacts | Graph) -> None:
        self.shapes = shapes
        self.base = facts.graph() if isinstance(facts, RuleFacts) else facts

    def add_facts(self, triples: Iterable[Triple]) -> None:
        for t in triples:
            self.base.add(t)

    def encode(self, triples: list[Triple]) -> list[Triple]:
        return triples

    def run_encoded(self, claims: list[Any]) -> list[RawResult]:
        return run_pyshacl(self.shapes, self.base, [t for claim in claims for t in claim])
