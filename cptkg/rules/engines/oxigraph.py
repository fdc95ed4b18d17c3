"""The Oxigraph engine (``--engine oxigraph``): the compiled checks run as SPARQL over the rule facts
and one batch of claims at a time on a fresh in-memory Oxigraph store, their rows turned into raw
results. A reference for the DuckDB engine, and where DuckDB hands a pack's check it cannot
translate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.rules.compiler import Check, UnsupportedShape, compile_shapes
from cptkg.rules.engines import Engine, RuleFacts, Triple, results_of
from cptkg.rules.results import RawResult


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


def to_quads(triples: Iterable[tuple[Any, Any, Any]]) -> list[Any]:
    """Oxigraph quads of rdflib triples; raises ValueError on a term Oxigraph refuses (an IRI with
    a space, a bad language tag, a lone surrogate), which the caller pins on the claim it came from."""
    return [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples]


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


def _text(term: Any) -> str:
    # pySHACL substitutes str() of the rdflib term; Oxigraph terms print differently.
    return str(from_ox(term))


class OxigraphEngine(Engine):
    """Compiled checks over the rule facts and one batch of claims at a time.

    Each batch gets a fresh Oxigraph store holding the facts and the batch (about 5 ms to fill):
    Oxigraph's in-memory store keeps every string it has seen, so reusing one store across
    batches grew by about 10 KiB a claim, past 1 GiB on 100,000 claims.
    """

    name = "oxigraph"

    def __init__(self, shapes: Graph, facts: RuleFacts | Graph, checks: list[Check] | None = None) -> None:
        """``checks``: only these of the shapes' compiled checks (the DuckDB engine's hand-offs)."""
        self.checks = compile_shapes(shapes) if checks is None else checks
        if isinstance(facts, Graph):
            facts = RuleFacts.of(facts)
        self._base: list[Any] = facts.oxigraph_quads()
        self.store = ox.Store()  # the last batch's store, for inspection

    def check_shapes(self, shapes: Iterable[Any]) -> None:
        """Run the compiled checks of ``shapes`` once on an empty store, so a query Oxigraph cannot
        parse is found before any claim is read (a rule pack's SPARQL)."""
        wanted = set(shapes)
        empty = ox.Store()
        for check in self.checks:
            if check.shape in wanted:
                try:
                    empty.query(check.query)
                except (SyntaxError, OSError, ValueError) as err:
                    raise UnsupportedShape(f"{check.shape}: its SPARQL does not run "
                                           f"({' '.join(str(err).split())[:200]})") from None

    def add_facts(self, triples: Iterable[Triple]) -> None:
        """Facts that stay for every later batch (ICD-10-CM facts of diagnoses seen)."""
        self._base.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)

    def encode(self, triples: list[Triple]) -> list[Any]:
        return to_quads(triples)

    def run_encoded(self, claims: list[Any]) -> list[RawResult]:
        """Run every check on the facts and these claims' quads (each list from ``encode``)."""
        self.load(claims)
        results: list[RawResult] = []
        for check in self.checks:
            results.extend(self.run_query(check))
        return results

    def load(self, claims: list[Any]) -> None:
        """A fresh store of the facts and these claims' quads."""
        store = ox.Store()
        store.extend(self._base)
        for claim_quads in claims:
            store.extend(claim_quads)
        self.store = store

    def run_query(self, check: Check) -> list[RawResult]:
        """One compiled check's results on the loaded batch."""
        solutions = self.store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        rows = ({n: row[n] for n in names if row[n] is not None} for row in solutions)
        return list(results_of(check, rows, from_ox, _text))

    def engine_of(self) -> dict[Any, tuple[str, str | None]]:
        return {check.shape: (self.name, None) for check in self.checks}
