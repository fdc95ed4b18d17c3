"""The batch engine: the compiled checks run over the rule facts and one batch of claims at a time
on a fresh in-memory Oxigraph store, their rows turned into raw results."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.rules.compiler import Check, UnsupportedShape, compile_shapes
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


# A message's placeholders, {?name} or {$name}, as pySHACL substitutes them.
_PLACEHOLDER = re.compile(r"\{[?$](\w+)\}")


def _fill_messages(templates: Iterable[str], bound: dict[str, Any]) -> list[str]:
    """Each {?name} of the messages, in one pass: a bound name's text (worked out once), an unbound
    one left as written."""
    texts: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in bound:
            return match.group(0)
        if name not in texts:
            # pySHACL substitutes str() of the rdflib term; Oxigraph terms print differently.
            texts[name] = str(from_ox(bound[name]))
        return texts[name]

    return [_PLACEHOLDER.sub(fill, template) for template in templates]


class BatchEngine:
    """Compiled checks over a base graph (the rule facts) and one batch of claims at a time.

    Each batch gets a fresh Oxigraph store holding the base and the batch (about 5 ms to fill):
    Oxigraph's in-memory store keeps every string it has seen, so reusing one store across
    batches grew by about 10 KiB a claim, past 1 GiB on 100,000 claims.
    """

    def __init__(self, shapes: Graph, base: Graph | list[Any]) -> None:
        """``base``: the rule facts as an rdflib graph, or already as Oxigraph quads."""
        self.checks = compile_shapes(shapes)
        loader = ox.Store()
        if isinstance(base, Graph):
            loader.bulk_load(base.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        else:
            loader.extend(base)
        self._base: list[Any] = list(loader)
        self.store = loader  # the last batch's store, for inspection

    def check_queries(self, shapes: Iterable[Any]) -> None:
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

    def add_base(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        """Facts that stay for every later batch (ICD-10-CM facts of diagnoses seen)."""
        self._base.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)

    def run(self, triples: Iterable[tuple[Any, Any, Any]]) -> list[RawResult]:
        return self.run_quads([to_quads(triples)])

    def run_quads(self, quads: Iterable[list[Any]]) -> list[RawResult]:
        """Run every check on the base and these claims' quads (each list from ``to_quads``)."""
        store = ox.Store()
        store.extend(self._base)
        for claim_quads in quads:
            store.extend(claim_quads)
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
            if check.sparql_based:
                messages = _fill_messages(check.messages or ("",), bound)
            else:
                messages = list(check.messages or ("",))
            for message in messages:
                yield RawResult(check.shape, check.severity, focus, path, value, message)
