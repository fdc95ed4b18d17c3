"""The rule engines behind one interface: each runs the claim shapes over the rule facts and one
batch of claims at a time and gives raw results. ``oxigraph`` (the default) runs the compiled
checks as SPARQL on Oxigraph; ``duckdb`` runs the same compiled checks as SQL on DuckDB, columnar,
a batch at a time; ``pyshacl`` runs pySHACL itself on the shapes, the reference. The module of each is
named by its ``--engine`` value; the Validator picks one, once.

Every engine has the same small surface: built from the shapes and the rule facts, it takes more
facts (``add_facts``: the ICD-10-CM and NCCI facts of the codes a batch brings), turns a claim's
triples into its own form (``encode``: a ValueError when a term cannot be used, which the caller
pins on that claim) and runs a batch of encoded claims (``run_encoded``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from cptkg.errors import InputError
from cptkg.kg.namespaces import CPTKG
from cptkg.rules.compiler import Check
from cptkg.rules.defaults import ENGINES
from cptkg.rules.results import RawResult

Triple = tuple[Any, Any, Any]

# The reification and provenance of the graph's statements: what the rules never read.
PROVENANCE = frozenset({RDF.subject, RDF.predicate, RDF.object, DCTERMS.source, CPTKG.quote,
                        CPTKG.verification, CPTKG.side})


class RuleFacts:
    """What the rules read: the graph's facts without provenance and the extra facts (a pack's,
    the ICD-10-CM editions), each form built only when an engine asks for it."""

    def __init__(self, kg: Any = None, extra: Graph | None = None) -> None:
        self._kg = kg
        self.extra = extra if extra is not None else Graph()

    @classmethod
    def of(cls, graph: Graph) -> RuleFacts:
        """Facts given as one rdflib graph (tests, and callers with their own graph)."""
        return cls(None, graph)

    def graph(self) -> Graph:
        """The facts as a new rdflib graph (pySHACL's data)."""
        out = Graph()
        if self._kg is not None:
            statements = set(self._kg.inferred.subjects(RDF.type, CPTKG.SourcedStatement))
            for s, p, o in self._kg.inferred:
                if p in PROVENANCE or s in statements:
                    continue
                out.add((s, p, o))
        out += self.extra
        return out

    def oxigraph_quads(self) -> list[Any]:
        """The facts as Oxigraph quads, read from the graph's Oxigraph store (no rdflib graph of
        the closure is built: parsing it cost a second on every run)."""
        import pyoxigraph as ox

        from cptkg.rules.engines.oxigraph import to_quads

        quads: list[Any] = []
        if self._kg is not None:
            store = self._kg.store
            statements = {q.subject for q in store.quads_for_pattern(
                None, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(CPTKG.SourcedStatement)))}
            provenance = {ox.NamedNode(str(p)) for p in PROVENANCE}
            quads = [ox.Quad(q.subject, q.predicate, q.object) for q in store
                     if q.predicate not in provenance and q.subject not in statements]
        return quads + to_quads(self.extra)


class Engine:
    """The interface every engine keeps (see the module's opening)."""

    name: ClassVar[str]

    def add_facts(self, triples: Iterable[Triple]) -> None:
        raise NotImplementedError

    def encode(self, triples: list[Triple]) -> Any:
        raise NotImplementedError

    def run_encoded(self, claims: list[Any]) -> list[RawResult]:
        raise NotImplementedError

    def run(self, triples: Iterable[Triple]) -> list[RawResult]:
        """Run the rules on one set of claim triples (tests and one-off checks)."""
        return self.run_encoded([self.encode(list(triples))])

    def check_shapes(self, shapes: Iterable[Any]) -> None:
        """Refuse, before any claim is read, shapes this engine cannot run (a rule pack's)."""

    def engine_of(self) -> dict[Any, tuple[str, str | None]]:
        """Each shape: the engine that runs it and, where that is not this one, why."""
        return {}


def create(name: str, shapes: Graph, facts: RuleFacts) -> Engine:
    """The engine ``name`` (one of ENGINES) over ``shapes`` and ``facts``."""
    if name == "duckdb":
        from cptkg.rules.engines.duckdb import DuckDBEngine

        return DuckDBEngine(shapes, facts)
    if name == "oxigraph":
        from cptkg.rules.engines.oxigraph import OxigraphEngine

        return OxigraphEngine(shapes, facts)
    if name == "pyshacl":
        from cptkg.rules.engines.pyshacl import PyshaclEngine

        return PyshaclEngine(shapes, facts)
    raise InputError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")


# A message's placeholders, {?name} or {$name}, as pySHACL substitutes them.
_PLACEHOLDER = re.compile(r"\{[?$](\w+)\}")


def fill_messages(templates: Iterable[str], bound: dict[str, Any], text_of: Any = str) -> list[str]:
    """Each {?name} of the messages, in one pass: a bound name's text (``text_of`` the value,
    worked out once; pySHACL substitutes str() of the rdflib term), an unbound one as written."""
    texts: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in bound:
            return match.group(0)
        if name not in texts:
            texts[name] = text_of(bound[name])
        return texts[name]

    return [_PLACEHOLDER.sub(fill, template) for template in templates]


def results_of(check: Check, rows: Iterable[dict[str, Any]], to_term: Any, text_of: Any,
               deduplicated: bool = False) -> Iterator[RawResult]:
    """A compiled check's rows (bound names only, in the engine's terms) as raw results, the way
    pySHACL reports them: a node shape's result names the focus as its value, duplicate rows of a
    SPARQL-based constraint are one result, each message gets the row's values."""
    seen: set[tuple[Any, ...]] = set()
    for bound in rows:
        focus = to_term(bound["this"])
        value = to_term(bound["value"]) if "value" in bound else None
        path: URIRef | None = to_term(bound["path"]) if "path" in bound else check.path
        if check.sparql_based:
            if not deduplicated:
                key = tuple(sorted((k, str(v)) for k, v in bound.items()))
                if key in seen:  # pySHACL drops duplicate rows
                    continue
                seen.add(key)
            if value is None and check.path is None:
                value = focus
            messages = fill_messages(check.messages or ("",), bound, text_of)
        else:
            messages = list(check.messages or ("",))
        for message in messages:
            yield RawResult(check.shape, check.severity, focus, path, value, message)

