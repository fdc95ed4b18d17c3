"""The DuckDB engine (``--engine duckdb``): the compiled checks translated to SQL
(cptkg.rules.sql) and run on an embedded DuckDB database, columnar, once per batch of claims.

The rule facts are loaded once per engine (once per process, once per Dask worker) into a table
``facts(s, p, o)`` sorted by predicate, with a closure table for each predicate a path walks with
``*`` or ``+`` and the graph's nodes (for zero-length paths); facts added later (the ICD-10-CM and
NCCI facts of the codes a batch brings) go into the same tables. Each batch of claims becomes the
table ``batch(s, p, o)``; the view ``quads`` is the two together, which every check reads. A check
the translation does not cover (a rule pack's SPARQL beyond what the shapes use) runs on Oxigraph
for the same batch: never skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from cptkg.claims.record import CHILDREN, CLAIM_IRI_BASE, VOCABULARY
from cptkg.kg.namespaces import CPTKG
from cptkg.rules import sql
from cptkg.rules.compiler import Check, compile_shapes
from cptkg.rules.engines import Engine, RuleFacts, Triple, results_of
from cptkg.rules.results import RawResult

log = logging.getLogger(__name__)

# What a claim may say (the claim vocabulary, the children's types, the editions cptkg adds): the
# predicates a batch brings. A path over any other predicate walks the fixed facts only, so its
# closure is computed once; should a batch bring such a predicate, its closures are recomputed
# with the batch for that batch (exact either way).
CLAIM_PREDICATES = frozenset(str(p) for p in {
    *CHILDREN, RDF.type, CPTKG.judgedByEdition, CPTKG.consultedEdition, CPTKG.editionMissing,
    *(p for predicates in VOCABULARY.values() for p in predicates)})

_SOURCE_HASH = hashlib.sha256(Path(sql.__file__).read_bytes()).hexdigest()[:16]
# Translations made in this process (the rdflib parser takes about 30 ms a query).
_TRANSLATED: dict[str, dict[str, Any]] = {}

# IRIs cptkg names claims' nodes with (claim_iri: percent-encoded parts): known good without asking.
# Claims below which a batch runs on Oxigraph (see DuckDBEngine): where the two engines' costs
# cross (benchmarks/throughput.py --sections batches).
SMALL_BATCH = 500

_OWN_IRI = re.compile(re.escape(CLAIM_IRI_BASE) + r"[A-Za-z0-9._~:/#-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~:/#-]*)*")


def _closable(predicate: str) -> bool:
    return predicate not in CLAIM_PREDICATES


def translation(query: str) -> dict[str, Any]:
    """The SQL of a compiled check's query ({"sql", "vars", "closures"}), or {"unsupported": what
    kept it off DuckDB}: from this process's memory, else the cache folder, else translated (and
    kept in both). Keyed by the query and the translator's own source, so never stale."""
    key = hashlib.sha256((_SOURCE_HASH + "\0" + query).encode("utf-8")).hexdigest()
    found = _TRANSLATED.get(key)
    if found is not None:
        return found
    path = _cache_folder() / f"{key}.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    if not isinstance(found, dict) or not ({"sql", "vars"} <= found.keys() or "unsupported" in found):
        try:
            done = sql.Translator(_closable).translate(query)
            found = {"sql": done.sql, "vars": list(done.vars), "closures": sorted(done.closures)}
        except sql.SqlUnsupported as err:
            found = {"unsupported": err.feature}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(found), encoding="utf-8")
            temporary.replace(path)
        except OSError as err:  # a read-only cache costs a translation per process, nothing else
            log.debug("cannot keep the SQL translation in %s: %s", path.parent, err)
    _TRANSLATED[key] = found
    return found


def handed_off(checks: Iterable[Check]) -> dict[Any, str]:
    """The shapes among ``checks`` whose SQL translation is not covered, each with what kept it
    off DuckDB: the default engine runs them on Oxigraph (`cptkg rules` says so)."""
    out: dict[Any, str] = {}
    for check in checks:
        done = translation(check.query)
        if "unsupported" in done:
            out.setdefault(check.shape, str(done["unsupported"]))
    return out


def _cache_folder() -> Path:
    from cptkg.kg.reasoning import cache_dir

    return cache_dir() / "duckdb-sql"


class DuckDBEngine(Engine):
    """The compiled checks as SQL over the facts and one batch of claims at a time.

    DuckDB's cost is per query, not per claim: planning the 36 built-in checks takes about a third
    of a second whatever the batch holds, after which a claim costs microseconds. Below
    ``small_batch`` claims that fixed cost is more than Oxigraph's whole work (about 0.7 ms a
    claim), so a small batch (one claim from the service, a short file) runs on the same compiled
    checks on Oxigraph, whose results the differential tests hold equal; the database itself is
    built only when the first large batch (or ``select``) needs it.
    """

    name = "duckdb"

    def __init__(self, shapes: Graph, facts: RuleFacts | Graph, threads: int | None = None,
                 small_batch: int = SMALL_BATCH) -> None:
        if isinstance(facts, Graph):
            facts = RuleFacts.of(facts)
        self.small_batch = small_batch
        self.checks = compile_shapes(shapes)
        # Each check DuckDB runs: (the check, its SQL, the names of the SQL's columns).
        self.queries: list[tuple[Check, str, list[str]]] = []
        handed: list[Check] = []
        self.handed_off: dict[Any, str] = {}
        closures: set[str] = set()
        for check in self.checks:
            done = translation(check.query)
            if "unsupported" in done:
                handed.append(check)
                self.handed_off[check.shape] = str(done["unsupported"])
                continue
            text = str(done["sql"])
            if check.sparql_based:
                text = f"SELECT DISTINCT * FROM ({text})"  # pySHACL drops duplicate rows
            self.queries.append((check, text, list(done["vars"])))
            closures.update(done.get("closures", ()))
        self._closures = sorted(closures)
        from cptkg.rules.engines.oxigraph import OxigraphEngine

        # Every check on Oxigraph: the small batches' engine; for a large batch, only the checks
        # the translation does not cover run there (``handed``).
        self._oxigraph = OxigraphEngine(shapes, facts, checks=self.checks)
        self._handed = handed
        self._facts = facts
        self._threads = threads
        self._added: list[list[tuple[str, str, str]]] = []  # facts added before the database is built
        self._con: Any = None
        self._good: set[str] = set()  # terms known to be usable (see _check_iri)
        self._with_batch = False  # the closures include a batch's triples (see CLAIM_PREDICATES)
        self._decoded: dict[str, Any] = {}  # the loaded batch's terms, decoded once each

    @property
    def con(self) -> Any:
        """The database, built on first use: the facts table, its nodes and closures, the views."""
        if self._con is None:
            self._build()
        return self._con

    def _build(self) -> None:
        config: dict[str, Any] = {}
        if self._threads is not None:
            config["threads"] = self._threads
        self._con = con = duckdb.connect(":memory:", config=config)
        con.execute(sql.MACROS)
        con.execute(sql.NUMBER_MACROS)
        s, p, o = [], [], []
        for q in self._facts.oxigraph_quads():
            s.append(_from_ox(q.subject))
            p.append(_from_ox(q.predicate))
            o.append(_from_ox(q.object))
        for added in self._added:
            for a, b, c in added:
                s.append(a)
                p.append(b)
                o.append(c)
        self._added = []
        self._register("incoming", s, p, o)
        con.execute("CREATE TABLE facts AS SELECT DISTINCT s, p, o FROM incoming ORDER BY p, s")
        con.unregister("incoming")
        con.execute("CREATE TABLE batch (s VARCHAR, p VARCHAR, o VARCHAR)")
        con.execute("CREATE TABLE batch_nodes (n VARCHAR)")
        con.execute("CREATE TABLE fact_nodes (n VARCHAR)")
        con.execute("CREATE VIEW quads AS SELECT s, p, o FROM facts UNION ALL SELECT s, p, o FROM batch")
        con.execute("CREATE VIEW nodes AS SELECT n FROM fact_nodes UNION ALL SELECT n FROM batch_nodes")
        self._refresh_facts(set(self._closures))

    def _register(self, name: str, s: list[str], p: list[str], o: list[str]) -> None:
        # A dict of NumPy object arrays: DuckDB reads them as columns (measured: 0.6 us a row,
        # against 3.3 us for a list parameter unnested in SQL).
        self.con.register(name, {"s": np.array(s, dtype=object), "p": np.array(p, dtype=object),
                                 "o": np.array(o, dtype=object)})

    def _refresh_facts(self, predicates: set[str], source: str = "facts") -> None:
        """Recompute the graph's nodes and the closures of ``predicates`` over ``source``."""
        self.con.execute("CREATE OR REPLACE TABLE fact_nodes AS SELECT s AS n FROM facts UNION SELECT o FROM facts")
        for predicate in sorted(predicates):
            step = f"SELECT s, o FROM {source} WHERE p = {sql.quote('<' + predicate)}"
            self.con.execute(
                f"CREATE OR REPLACE TABLE {sql.closure_table(predicate)} AS WITH RECURSIVE c(s, o) AS "
                f"({step} UNION SELECT c.s, e.o FROM c JOIN ({step}) e ON c.o = e.s) SELECT s, o FROM c")

    def check_shapes(self, shapes: Iterable[Any]) -> None:
        # Oxigraph runs every check on small batches: a query it cannot parse is refused here.
        self._oxigraph.check_shapes(shapes)

    def add_facts(self, triples: Iterable[Triple]) -> None:
        triples = list(triples)
        if not triples:
            return
        self._oxigraph.add_facts(triples)
        encoded = [(sql.encode(t[0]), sql.encode(t[1]), sql.encode(t[2])) for t in triples]
        if self._con is None:
            self._added.append(encoded)
            return
        s, p, o = (list(column) for column in zip(*encoded, strict=True))
        self._register("incoming", s, p, o)
        self.con.execute("INSERT INTO facts SELECT s, p, o FROM incoming EXCEPT SELECT s, p, o FROM facts")
        self.con.unregister("incoming")
        touched = {predicate[1:] for predicate in set(p)} & set(self._closures)
        self._refresh_facts(touched)

    def encode(self, triples: list[Triple]) -> list[tuple[str, str, str]]:
        """The claim's triples as encoded terms; a ValueError for a term the other engines refuse
        too (an IRI Oxigraph would not take, a bad language tag, a lone surrogate)."""
        good = self._good
        out = []
        for triple in triples:
            encoded = []
            for term in triple:
                if isinstance(term, URIRef):
                    text = f"<{term}"
                    if text not in good:
                        _check_iri(str(term))
                        good.add(text)
                elif isinstance(term, Literal):
                    language = term.language
                    text = f'"@{language.lower()}"{term}' if language else f'"{term.datatype or sql.STRING}"{term}'
                    if text not in good:
                        _check_literal(term)
                        good.add(text)
                elif isinstance(term, BNode):
                    text = f"_{term}"
                    if text not in good:
                        _check_blank(str(term))
                        good.add(text)
                else:
                    raise ValueError(f"not an RDF term: {term!r}")
                encoded.append(text)
            out.append((encoded[0], encoded[1], encoded[2]))
        if len(good) > 200_000:  # bounded: claims' own node names are seen once each
            good.clear()
        return out

    def run_encoded(self, claims: list[Any]) -> list[RawResult]:
        from cptkg.rules.engines.oxigraph import to_quads

        def as_quads(chosen: list[Any]) -> list[Any]:
            return [to_quads((sql.decode(a), sql.decode(b), sql.decode(c)) for a, b, c in claim) for claim in chosen]

        if len(claims) < self.small_batch:
            return self._oxigraph.run_encoded(as_quads(claims))
        self.load(claims)
        results: list[RawResult] = []
        for query in self.queries:
            results.extend(self.run_query(query))
        if self._handed:
            self._oxigraph.checks = self._handed
            try:
                results.extend(self._oxigraph.run_encoded(as_quads(claims)))
            finally:
                self._oxigraph.checks = self.checks
        return results

    def load(self, claims: list[Any]) -> None:
        """The batch table (each claim's list from ``encode``), its nodes, and the closures again
        where the batch brings a step of one."""
        s: list[str] = []
        p: list[str] = []
        o: list[str] = []
        for claim in claims:
            for a, b, c in claim:
                s.append(a)
                p.append(b)
                o.append(c)
        con = self.con
        self._register("incoming", s, p, o)
        con.execute("CREATE OR REPLACE TABLE batch AS SELECT s, p, o FROM incoming EXCEPT SELECT s, p, o FROM facts")
        con.unregister("incoming")
        con.execute("CREATE OR REPLACE TABLE batch_nodes AS SELECT s AS n FROM batch UNION SELECT o FROM batch "
                    "EXCEPT SELECT n FROM fact_nodes")
        self._decoded = {}
        if self._closures:
            wanted = ", ".join(sql.quote("<" + c) for c in self._closures)
            walked = con.execute(f"SELECT DISTINCT p FROM batch WHERE p IN ({wanted})").fetchall()
            if walked or self._with_batch:
                self._refresh_facts(set(self._closures), source="quads" if walked else "facts")
                self._with_batch = bool(walked)

    def run_query(self, query: tuple[Check, str, list[str]]) -> list[RawResult]:
        """One compiled check's results on the loaded batch (``query``: one of ``queries``)."""
        check, text, names = query
        decoded = self._decoded

        def term(encoded: str) -> Any:
            found = decoded.get(encoded)
            if found is None:
                found = decoded[encoded] = sql.decode(encoded)
            return found

        rows = ({n: v for n, v in zip(names, row, strict=True) if v is not None}
                for row in self.con.execute(text).fetchall())
        return list(results_of(check, rows, term, sql.lexical, deduplicated=check.sparql_based))

    def select(self, query: str) -> list[dict[str, Any]]:
        """Any SPARQL SELECT over the facts and the loaded batch, as rdflib terms by name: the
        translator's own door, for the tests that hold its semantics to Oxigraph's. A
        SqlUnsupported when the translation does not cover the query."""
        done = translation(query)
        if "unsupported" in done:
            raise sql.SqlUnsupported(str(done["unsupported"]))
        walked = set(done.get("closures", ()))
        if walked:
            # Over the batch too: an ad-hoc query may walk what a claim says. The next batch's
            # load recomputes the checks' closures (``_with_batch``).
            self._refresh_facts(walked, source="quads")
            self._closures = sorted(set(self._closures) | walked)
            self._with_batch = True
        names = list(done["vars"])
        return [{n: sql.decode(v) for n, v in zip(names, row, strict=True) if v is not None}
                for row in self.con.execute(str(done["sql"])).fetchall()]

    def engine_of(self) -> dict[Any, tuple[str, str | None]]:
        out: dict[Any, tuple[str, str | None]] = {check.shape: (self.name, None) for check, _sql, _n in self.queries}
        for shape, feature in self.handed_off.items():
            out[shape] = ("oxigraph", feature)
        return out


def _from_ox(term: Any) -> str:
    """The encoded form of an Oxigraph term (the facts come from the graph's Oxigraph store)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return "<" + term.value
    if isinstance(term, ox.BlankNode):
        return "_" + term.value
    if term.language:
        return '"@' + term.language + '"' + term.value
    return '"' + term.datatype.value + '"' + term.value


def _check_iri(iri: str) -> None:
    if _OWN_IRI.fullmatch(iri):
        return
    import pyoxigraph as ox

    ox.NamedNode(iri)  # raises ValueError on an IRI Oxigraph refuses: the same claims are refused


def _check_blank(label: str) -> None:
    import pyoxigraph as ox

    ox.BlankNode(label)


def _check_literal(term: Literal) -> None:
    import pyoxigraph as ox

    text = str(term)
    if not text.isascii():
        text.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
    if term.language:
        ox.Literal("", language=term.language)
    elif term.datatype is not None:
        _check_iri(str(term.datatype))
