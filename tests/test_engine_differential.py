"""The three engines give the same results, held to pySHACL (the reference): the compiled checks
as SQL on DuckDB (the default) and as SPARQL on Oxigraph give exactly pySHACL's results on the same
shapes and data: on every example claim, every example input (other parties' layouts), the example
rule pack with CMS NCCI tables, and generated claims. (tests/test_engines.py holds DuckDB to
Oxigraph on the same files in the quick suite.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cptkg import claims
from cptkg.claims.fhir import claim_record
from cptkg.rules import catalog as shapes
from cptkg.rules import compiler as engine
from cptkg.rules.validator import Validator
from tests.conftest import shared_scope
from tests.strategies import claim_batches

# pySHACL runs each SPARQL constraint once per focus node on rdflib: minutes for these comparisons.
# They run in CI (`make test-slow`); the compiled engine's exact results are pinned by test_examples.
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims"
INPUTS = EXAMPLES.parent / "inputs"


@pytest.fixture(scope=shared_scope)
def engines():
    columnar = Validator(engine="duckdb")
    columnar._engine.small_batch = 0  # every batch on DuckDB itself, however small
    return columnar, Validator(engine="oxigraph"), Validator(engine="pyshacl")


def three_way(engines, batch) -> list:
    """The batch's results on every engine; fails unless all three agree."""
    columnar, compiled, reference = (comparable(e.raw_results(batch)) for e in engines)
    assert columnar == reference
    assert compiled == reference
    return reference


def comparable(raw):
    return sorted((str(r.shape), str(r.severity), str(r.focus), str(r.path), str(r.value), r.message)
                  for r in raw)


def test_every_shape_compiles() -> None:
    checks = engine.compile_shapes(shapes.claim_shapes())
    assert {str(c.shape).rsplit("#", 1)[1] for c in checks} == set(shapes.catalog())


def by_file(paths: list[Path]) -> list[list]:
    batches: dict[str, list] = {}
    for r in claims.read_paths(paths):
        if r.readable:
            batches.setdefault(r.origin, []).append(r)
    return list(batches.values())


def test_examples_same_results(engines) -> None:
    batches = by_file([EXAMPLES])
    assert sum(map(len, batches)) >= 60
    total = sum(len(three_way(engines, batch)) for batch in batches)
    assert total >= 30


def test_other_parties_inputs_same_results(engines) -> None:
    """The inputs as others write them (Bundles, PAS, EOB, X12 837P and 837I, NDJSON)."""
    batches = by_file([INPUTS])
    assert sum(map(len, batches)) >= 20
    total = sum(len(three_way(engines, batch)) for batch in batches)
    assert total >= 30


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_batches())
def test_generated_claims_same_results(engines, batch) -> None:
    records = [claim_record(resource, "gen", f"line {i}", {}) for i, resource in enumerate(batch)]
    for position, record in enumerate(records):
        record.position = position
    readable = [r for r in records if r.readable]
    if not readable:
        return
    three_way(engines, readable)


def test_unsupported_shape_is_refused() -> None:
    from rdflib import Graph

    g = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
        ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:severity sh:Violation ;
            sh:qualifiedValueShape [ sh:class ex:D ] ; sh:qualifiedMinCount 1 .
    """, format="turtle")
    with pytest.raises(engine.UnsupportedShape):
        engine.compile_shapes(g)


def test_the_example_rule_pack_same_results(tmp_path, monkeypatch) -> None:
    """A user's rules run on the same compiled engines: the example pack's claims (and, with CMS
    NCCI fixture tables imported, the PTP and MUE rules) give pySHACL's results exactly."""
    from cptkg.kg import ncci
    from cptkg.rules import packs

    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    fixtures = Path(__file__).resolve().parent / "fixtures" / "ncci"
    for path in sorted(fixtures.iterdir()):
        ncci.import_file(path.read_bytes(), path.name)
    pack = EXAMPLES.parent / "rule-packs" / "payer-strict"
    spec = packs.spec([pack])
    with_pack = tuple(Validator(engine=name, rules=spec) for name in ("duckdb", "oxigraph", "pyshacl"))
    with_pack[0]._engine.small_batch = 0
    records = [r for r in claims.read_paths([pack / "claims", EXAMPLES / "addon-requires-primary_PASS.json"])
               if r.readable]
    a = three_way(with_pack, records)
    fired = {shape.rsplit("#", 1)[-1] for shape, *_rest in a}
    assert {"PayerPlaceOfServiceRequired", "PayerPriorAuthorizationRequired", "PTPEdit"} <= fired
