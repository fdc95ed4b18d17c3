"""The engines behind one interface, quickly: DuckDB (the default) gives Oxigraph's results on every
example file, field for field; a check the SQL translation does not cover runs on Oxigraph, and
says so; a term either compiled engine refuses, both refuse. (pySHACL joins the comparison in the
slow differential test, tests/test_engine_differential.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from cptkg import claims
from cptkg.claims.record import CLAIM_IRI_BASE
from cptkg.rules import engines, sql
from cptkg.rules.engines.duckdb import DuckDBEngine, translation
from cptkg.rules.engines.oxigraph import OxigraphEngine
from cptkg.rules.validator import Validator
from tests.conftest import shared_scope

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope=shared_scope)
def pair() -> tuple[Validator, Validator]:
    columnar = Validator(engine="duckdb")
    columnar._engine.small_batch = 0  # every batch on DuckDB itself, however small
    return columnar, Validator(engine="oxigraph")


def comparable(raw: list) -> list[tuple[str, ...]]:
    return sorted((str(r.shape), str(r.severity), str(r.focus), str(r.path), str(r.value), r.message) for r in raw)


@pytest.mark.parametrize("folder", ["claims", "inputs"])
def test_duckdb_gives_oxigraphs_results_on_every_example(pair: tuple[Validator, Validator], folder: str) -> None:
    """In one batch: the claims read from FHIR and X12 (names of their own, so they share one). The
    Turtle twins of the example claims name their own nodes, a batch each: DuckDB's fixed cost per
    batch (a third of a second) times 77 is the slow differential test's to pay."""
    columnar, compiled = pair
    batches: dict[str, list] = {}
    for r in claims.read_paths([EXAMPLES / folder]):
        if r.readable and (r.iri is None or str(r.iri).startswith(CLAIM_IRI_BASE)):
            batches.setdefault("", []).append(r)
    total = 0
    for origin, batch in sorted(batches.items()):
        expected = comparable(compiled.raw_results(batch))
        assert comparable(columnar.raw_results(batch)) == expected, origin
        total += len(expected)
    assert total >= 50  # a test on no results would prove nothing


def test_every_built_in_rule_runs_on_duckdb(pair: tuple[Validator, Validator]) -> None:
    columnar, _compiled = pair
    from cptkg.rules.catalog import catalog, rule_id

    placed = columnar.engine_of()
    assert {rule_id(shape) for shape in placed} == set(catalog())
    assert {engine for engine, _why in placed.values()} == {"duckdb"}


# A pack rule whose SPARQL the translation does not cover (AVG): DuckDB hands it to Oxigraph.
AVERAGING = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
ex:AverageAboveTwo a sh:NodeShape ; sh:targetClass ex:C ; sh:severity sh:Warning ; sh:message "mean {?mean}" ;
    sh:sparql [ sh:select "SELECT $this (AVG(?n) AS ?mean) WHERE { $this ex:n ?n } GROUP BY $this HAVING (AVG(?n) > 2)"
            ; sh:prefixes ex:P ] .
ex:P sh:declare [ sh:prefix "ex" ; sh:namespace "http://ex/"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] .
ex:NeedsN a sh:NodeShape ; sh:targetClass ex:C ; sh:severity sh:Violation ; sh:message "no n" ;
    sh:sparql [ sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://ex/n> ?n } }" ] .
"""
AVERAGING_DATA = """@prefix ex: <http://ex/> .
ex:high a ex:C ; ex:n 2, 4 . ex:low a ex:C ; ex:n 1, 2 . ex:none a ex:C ."""


def test_a_check_the_translation_does_not_cover_runs_on_oxigraph_and_says_why() -> None:
    shapes = Graph().parse(data=AVERAGING, format="turtle")
    data = list(Graph().parse(data=AVERAGING_DATA, format="turtle"))
    columnar = DuckDBEngine(shapes, Graph(), small_batch=0)
    assert columnar.engine_of() == {URIRef("http://ex/AverageAboveTwo"): ("oxigraph", "AVG"),
                                    URIRef("http://ex/NeedsN"): ("duckdb", None)}
    found = sorted((str(r.shape), str(r.focus)) for r in columnar.run(data))
    assert found == [("http://ex/AverageAboveTwo", "http://ex/high"), ("http://ex/NeedsN", "http://ex/none")]
    assert found == sorted((str(r.shape), str(r.focus)) for r in OxigraphEngine(shapes, Graph()).run(data))


def test_the_rules_catalog_names_the_engine_of_each_rule(tmp_path: Path) -> None:
    from cptkg.rules import explain, packs

    pack = tmp_path / "pack.ttl"
    pack.write_text(AVERAGING.replace("ex:NeedsN", "ex:NeedsNumber"), encoding="utf-8")
    rows = {r["rule"]: r for r in explain.catalog(packs.spec([pack]))}
    assert (rows["AverageAboveTwo"]["engine"], rows["AverageAboveTwo"]["not_on_duckdb"]) == ("oxigraph", "AVG")
    assert (rows["NeedsNumber"]["engine"], rows["NeedsNumber"]["not_on_duckdb"]) == ("duckdb", None)
    assert rows["PlaceOfServiceTypical"]["engine"] == "duckdb"
    text = explain.render_catalog(list(rows.values()))
    assert "runs on Oxigraph: the SQL translation does not cover AVG" in text


@pytest.mark.parametrize("term", [URIRef("http://ex/a b"), URIRef("no-scheme"), Literal("lone \ud800 surrogate")])
def test_a_term_oxigraph_refuses_duckdb_refuses_too(term: object) -> None:
    triple = (URIRef("http://ex/s"), URIRef("http://ex/p"), term)
    with pytest.raises(ValueError):
        OxigraphEngine(Graph(), Graph()).encode([triple])
    with pytest.raises(ValueError):
        DuckDBEngine(Graph(), Graph()).encode([triple])


def test_a_damaged_translation_cache_entry_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQL of each check is kept on disk (rdflib's parser takes about 30 ms a query); an entry
    that cannot be read is translated again and rewritten, never trusted."""
    from cptkg.rules.engines import duckdb as engine_module

    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(engine_module, "_TRANSLATED", {})
    query = "SELECT ?this WHERE { ?this <http://ex/p> ?o }"
    first = translation(query)
    (entry,) = (tmp_path / "duckdb-sql").iterdir()
    assert json.loads(entry.read_text()) == first
    entry.write_text('{"sql": 1', encoding="utf-8")
    monkeypatch.setattr(engine_module, "_TRANSLATED", {})
    assert translation(query) == first
    assert json.loads(entry.read_text()) == first
    assert first["sql"] == sql.Translator(lambda _p: True).translate(query).sql


def test_an_unknown_engine_is_refused_naming_the_choices() -> None:
    from cptkg.errors import InputError

    with pytest.raises(InputError, match=r"unknown engine 'sqlite' \(choose from duckdb, oxigraph, pyshacl\)"):
        engines.create("sqlite", Graph(), engines.RuleFacts.of(Graph()))
