"""Clauses that no example pair can pin (more than one claim in a file, a Turtle-only literal, the
compiled engine's own translation of core SHACL) and the documented orders of results. Each test
here kills a mutation that once survived the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from rdflib import BNode, Graph, Literal, URIRef

from cptkg import claims
from cptkg.rules.engines.duckdb import DuckDBEngine
from cptkg.rules.engines.oxigraph import OxigraphEngine
from cptkg.rules.engines.pyshacl import run_pyshacl
from cptkg.rules.validator import Validator, edition_triples
from tests.conftest import shared_scope

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "claims"
PREFIXES = """@prefix cptkg: <https://w3id.org/cptkg/ontology#> . @prefix cpt: <https://w3id.org/cptkg/cpt/> .
@prefix pos: <https://w3id.org/cptkg/pos/> . @prefix icd10cm: <https://w3id.org/cptkg/icd10cm/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix ex: <https://example.org/c/> .
"""


@pytest.fixture(scope=shared_scope)
def validator() -> Validator:
    return Validator()


def _results(validator: Validator, path: Path) -> dict[str, list[tuple[str, str]]]:
    return {r.claim.rsplit("/", 1)[-1]: [(x.rule, x.focus.rsplit("/", 1)[-1]) for x in r.results]
            for r in validator.validate(claims.read_paths([path]))}


def _line(claim: str, n: int, code: str, date: str = "2025-03-04", extra: str = "", units: int = 1,
          place: str = "21") -> str:
    return (f"ex:{claim}-{n} cptkg:sequence {n} ; cptkg:productOrService cpt:{code} ; cptkg:quantity {units} ;\n"
            f'  cptkg:servicedDate "{date}"^^xsd:date ; cptkg:location pos:{place} {extra}.\n')


def test_listed_primary_must_be_on_the_same_claim(tmp_path: Path, validator: Validator) -> None:
    """AddOnPrimaryListed looks for the listed primary on the add-on's own claim, not the batch's."""
    path = tmp_path / "two.ttl"
    path.write_text(PREFIXES
                    + "ex:a a cptkg:Claim ; cptkg:item ex:a-1, ex:a-2 .\n"
                    + _line("a", 1, "62350") + _line("a", 2, "20700")
                    # b reports a watched code (20701) too: a claim without one is never in the batch.
                    + "ex:b a cptkg:Claim ; cptkg:item ex:b-1, ex:b-2 .\n"
                    + _line("b", 1, "27301") + _line("b", 2, "20701"))
    got = _results(validator, path)
    assert ("AddOnPrimaryListed", "a-2") in got["a"]
    assert [r for r in got["b"] if r[0] == "AddOnPrimaryListed"] == []


def test_add_on_primary_must_be_on_the_same_claim_without_care_teams(tmp_path: Path, validator: Validator) -> None:
    """AddOnRequiresPrimary keys a line by its own claim even when no care team ties it to one: a
    primary on another claim of the batch, same date, no provider on either, is not this line's."""
    path = tmp_path / "two.ttl"
    path.write_text(PREFIXES
                    + "ex:a a cptkg:Claim ; cptkg:item ex:a-1 .\n" + _line("a", 1, "20701")
                    + "ex:b a cptkg:Claim ; cptkg:item ex:b-1, ex:b-2 .\n"
                    + _line("b", 1, "27301") + _line("b", 2, "20701"))
    got = _results(validator, path)
    assert ("AddOnRequiresPrimary", "a-1") in got["a"]
    assert [r for r in got["b"] if r[0] == "AddOnRequiresPrimary"] == []


def test_a_date_must_be_an_xsd_date(tmp_path: Path, validator: Validator) -> None:
    """ItemHasOneDate's sh:datatype: a plain string date is not a date (Turtle only; FHIR dates are typed)."""
    good = (EXAMPLES / "place-of-service_PASS.ttl").read_text()
    plain = tmp_path / "plain-date.ttl"
    plain.write_text(good.replace('"2025-03-04"^^xsd:date', '"2025-03-04"'))
    got = _results(validator, plain)["place-of-service_PASS"]
    assert got.count(("ItemHasOneDate", "place-of-service_PASS-item-1")) == 1
    assert got.count(("ItemHasOneDate", "place-of-service_PASS-item-2")) == 1


# ---------------------------------------------------------------- the compiler's core SHACL

def _local_results(raw: list) -> list[tuple[str, str, str]]:
    """(shape, focus, value) of raw results, by local name; a blank-node value as "_:blank"."""
    return sorted((str(r.shape).rsplit("/", 1)[-1], str(r.focus).rsplit("/", 1)[-1],
                   "_:blank" if isinstance(r.value, BNode) else str(r.value)) for r in raw)


SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:NeedsP a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:minCount 1 ; sh:severity sh:Violation ;
    sh:message "needs p" .
ex:DateTyped a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:d ; sh:datatype xsd:date ;
    sh:severity sh:Violation ; sh:message "d is a date" .
ex:OnePerNode a sh:NodeShape ; sh:targetClass ex:C ; sh:severity sh:Warning ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "flagged" ;
                sh:select "SELECT $this WHERE { $this <http://ex/q> ?any }" ] .
"""
DATA = """@prefix ex: <http://ex/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:Sub rdfs:subClassOf ex:C .
ex:direct a ex:C ; ex:p 1 ; ex:d "2025-01-01"^^xsd:date .
ex:viaSubclass a ex:Sub ; ex:d "2025-01-01"^^xsd:date .
ex:plainDate a ex:C ; ex:p 1 ; ex:d "2025-01-01" .
ex:twoRows a ex:C ; ex:p 1 ; ex:q 1, 2, 3 .
"""


def test_compiled_core_constraints_match_pyshacl_where_they_differ_in_kind() -> None:
    """Subclass-typed targets, a literal of the wrong datatype, and a SPARQL constraint whose rows
    repeat: the compiled engine reports exactly what pySHACL does."""
    shapes = Graph().parse(data=SHAPES, format="turtle")
    data = Graph().parse(data=DATA, format="turtle")
    compiled = OxigraphEngine(shapes, Graph()).run(list(data))
    columnar = DuckDBEngine(shapes, Graph(), small_batch=0).run(list(data))
    reference = run_pyshacl(shapes, Graph(), list(data))

    expected = [("DateTyped", "plainDate", "2025-01-01"), ("NeedsP", "viaSubclass", "None"),
                ("OnePerNode", "twoRows", "http://ex/twoRows")]
    assert _local_results(compiled) == expected
    assert _local_results(columnar) == expected
    assert _local_results(reference) == expected


# One shape per core constraint kind the compiler translates, on values at and beside each bound:
# both engines must give exactly the expected results (a constraint compiled wrongly, or skipped,
# shows here as a missing or extra result). None has sh:severity: SHACL's default, Violation, applies
# (the compiler once skipped such shapes).
KIND_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:MinTwo a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:two ; sh:minCount 2 ; sh:message "m" .
ex:MaxOne a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:one ; sh:maxCount 1 ; sh:message "m" .
ex:Integer a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:int ; sh:datatype xsd:integer ; sh:message "m" .
ex:IriOnly a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:iri ; sh:nodeKind sh:IRI ; sh:message "m" .
ex:LiteralOnly a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:lit ; sh:nodeKind sh:Literal ; sh:message "m" .
ex:StartsWithA a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:text ; sh:pattern "^a" ; sh:flags "i" ;
    sh:message "m" .
ex:OfClassK a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:k ; sh:class ex:K ; sh:message "m" .
ex:AtLeastOne a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:lo ; sh:minInclusive 1 ; sh:message "m" .
ex:AtMostFive a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:hi ; sh:maxInclusive 5 ; sh:message "m" .
ex:AboveZero a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:gt ; sh:minExclusive 0 ; sh:message "m" .
ex:BelowTen a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:lt ; sh:maxExclusive 10 ; sh:message "m" .
ex:AOrB a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:in ; sh:in (ex:a ex:b) ; sh:message "m" .
ex:BlankOnly a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:bn ; sh:nodeKind sh:BlankNode ; sh:message "m" .
ex:BlankOrIri a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:bi ; sh:nodeKind sh:BlankNodeOrIRI ;
    sh:message "m" .
ex:IriOrLiteral a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:il ; sh:nodeKind sh:IRIOrLiteral ;
    sh:message "m" .
ex:BlankOrLiteral a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:bl ; sh:nodeKind sh:BlankNodeOrLiteral ;
    sh:message "m" .
ex:Off a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:two ; sh:minCount 5 ; sh:deactivated true ;
    sh:message "m" .
"""
KIND_DATA = """@prefix ex: <http://ex/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:SubK rdfs:subClassOf ex:K .  ex:typed a ex:SubK .  ex:untyped ex:z 1 .
ex:good a ex:C ; ex:two 1, 2 ; ex:one 1 ; ex:int 7 ; ex:iri ex:a ; ex:lit "x" ; ex:text "Abc", ex:apple ;
    ex:k ex:typed ; ex:lo 1 ; ex:hi 5 ; ex:gt 0.5 ; ex:lt 9 ; ex:in ex:a, ex:b ;
    ex:bn _:b1 ; ex:bi _:b1, ex:a ; ex:il ex:a, "x" ; ex:bl _:b1, "x" .
ex:bad a ex:C ; ex:two 1 ; ex:one 1, 2 ; ex:int "7", ex:seven ; ex:iri "a" ; ex:lit ex:x ; ex:text "bcd" ;
    ex:k ex:untyped ; ex:lo 0, "one" ; ex:hi 6 ; ex:gt 0 ; ex:lt 10 ; ex:in ex:c ;
    ex:bn ex:a, "x" ; ex:bi "x" ; ex:il _:b2 ; ex:bl ex:a .
"""
KIND_RESULTS = sorted([
    ("MinTwo", "bad", "None"), ("MaxOne", "bad", "None"), ("Integer", "bad", "7"),
    ("Integer", "bad", "http://ex/seven"), ("IriOnly", "bad", "a"), ("LiteralOnly", "bad", "http://ex/x"),
    ("StartsWithA", "bad", "bcd"), ("OfClassK", "bad", "http://ex/untyped"), ("AtLeastOne", "bad", "0"),
    ("AtLeastOne", "bad", "one"), ("AtMostFive", "bad", "6"), ("AboveZero", "bad", "0"), ("BelowTen", "bad", "10"),
    ("AOrB", "bad", "http://ex/c"),
    ("StartsWithA", "good", "http://ex/apple"),  # an IRI's pattern is matched on its whole text
    ("BlankOnly", "bad", "http://ex/a"), ("BlankOnly", "bad", "x"), ("BlankOrIri", "bad", "x"),
    ("IriOrLiteral", "bad", "_:blank"), ("BlankOrLiteral", "bad", "http://ex/a"),
])


def test_every_core_constraint_kind_matches_pyshacl_exactly() -> None:
    shapes = Graph().parse(data=KIND_SHAPES, format="turtle")
    data = Graph().parse(data=KIND_DATA, format="turtle")

    assert _local_results(OxigraphEngine(shapes, Graph()).run(list(data))) == KIND_RESULTS
    assert _local_results(DuckDBEngine(shapes, Graph(), small_batch=0).run(list(data))) == KIND_RESULTS
    assert _local_results(run_pyshacl(shapes, Graph(), list(data))) == KIND_RESULTS


# ---------------------------------------------------------------- documented orders

def test_a_claims_results_come_by_line_then_rule(validator: Validator) -> None:
    (report,) = validator.validate(claims.read_paths([EXAMPLES / "structure_XFAIL.json"]))
    assert [(r.line, r.rule) for r in report.results] == [
        ("1", "ItemHasOneDate"), ("1", "ItemHasOnePlaceOfService"),
        ("2", "AddOnRequiresPrimary"), ("2", "ItemQuantityPositive")]


def test_claims_come_in_input_order_and_a_files_claims_in_iri_order(tmp_path: Path, validator: Validator) -> None:
    graph_file = tmp_path / "three.ttl"
    graph_file.write_text(PREFIXES + "".join(
        f"ex:{c} a cptkg:Claim ; cptkg:item ex:{c}-1 .\n" + _line(c, 1, "27301") for c in ("b", "c", "a")))
    other = tmp_path / "first.json"
    other.write_text((EXAMPLES / "place-of-service_PASS.json").read_text())
    reports = list(validator.validate(claims.read_paths([other, graph_file])))
    assert [r.claim.rsplit("/", 1)[-1] for r in reports] == ["place-of-service-PASS", "a", "b", "c"]
    assert [r.position for r in reports] == [0, 1, 2, 3]


def test_rendering_provider_is_looked_up_on_the_lines_own_claim(tmp_path: Path, validator: Validator) -> None:
    """Care-team sequence numbers are per claim: a line's provider (and its primary's) is the one
    its own claim's care team names, never another claim's member with the same number."""
    def team(claim: str, *providers: str) -> str:
        members = ", ".join(f"ex:{claim}-ct{n}" for n in range(1, len(providers) + 1))
        out = f"ex:{claim} cptkg:careTeam {members} .\n"
        for n, provider in enumerate(providers, 1):
            out += f"ex:{claim}-ct{n} cptkg:sequence {n} ; cptkg:provider <urn:x:{provider}> .\n"
        return out

    path = tmp_path / "teams.ttl"
    path.write_text(
        PREFIXES
        + "ex:a a cptkg:Claim ; cptkg:item ex:a-1, ex:a-2 .\n" + team("a", "dr-a")
        + _line("a", 1, "27301", extra="; cptkg:careTeamSequence 1 ")
        + _line("a", 2, "20701", extra="; cptkg:careTeamSequence 1 ")
        + "ex:b a cptkg:Claim ; cptkg:item ex:b-1, ex:b-2 .\n" + team("b", "dr-b", "dr-a")
        + _line("b", 1, "27301", extra="; cptkg:careTeamSequence 2 ")
        + _line("b", 2, "20701", extra="; cptkg:careTeamSequence 1 ")
        + "ex:c a cptkg:Claim ; cptkg:item ex:c-1, ex:c-2 .\n" + team("c", "dr-c", "dr-a")
        + _line("c", 1, "27301", extra="; cptkg:careTeamSequence 1 ")
        + _line("c", 2, "20701", extra="; cptkg:careTeamSequence 2 "))
    got = _results(validator, path)
    assert ("AddOnRequiresPrimary", "a-2") not in got["a"]
    # Other claims have a member 1 (or 2) by dr-a: that never makes dr-a these lines' provider.
    assert ("AddOnRequiresPrimary", "b-2") in got["b"]  # dr-b's removal, dr-a's primary
    assert ("AddOnRequiresPrimary", "c-2") in got["c"]  # dr-a's removal, dr-c's primary


def test_pump_context_comes_from_the_lines_own_claim(tmp_path: Path, validator: Validator) -> None:
    """PumpRemovalCode reads the pump codes and diagnoses of the 20701 line's own claim only."""
    path = tmp_path / "pump.ttl"
    path.write_text(
        PREFIXES
        + "ex:a a cptkg:Claim ; cptkg:item ex:a-1, ex:a-2 ; cptkg:diagnosis ex:a-dx .\n"
        + "ex:a-dx cptkg:sequence 1 ; cptkg:diagnosisCode icd10cm:T84.7XXA .\n"
        + _line("a", 1, "27301") + _line("a", 2, "20701", extra="; cptkg:diagnosisSequence 1 ")
        + "ex:b a cptkg:Claim ; cptkg:item ex:b-1 ; cptkg:diagnosis ex:b-dx .\n"
        + "ex:b-dx cptkg:sequence 1 ; cptkg:diagnosisCode icd10cm:T85.735A .\n"
        + _line("b", 1, "62350", extra="; cptkg:diagnosisSequence 1 "))
    got = _results(validator, path)
    assert [r for r in got["a"] if r[0] == "PumpRemovalCode"] == []


def test_a_message_names_the_value_it_got_and_no_value_when_there_was_none(tmp_path: Path,
                                                                          validator: Validator) -> None:
    """ItemHasOneDate's message ends "(got {$value})": filled with the wrong value, dropped whole when
    the date is missing (a minCount result has no value)."""
    good = (EXAMPLES / "place-of-service_PASS.ttl").read_text()
    path = tmp_path / "dates.ttl"
    path.write_text(good.replace('cptkg:servicedDate "2025-03-04"^^xsd:date ;', "", 1)
                    .replace('"2025-03-04"^^xsd:date', '"2025-03-04"', 1))
    [report] = validator.validate(claims.read_paths([path]))
    said = "A service line needs exactly one date of service, an xsd:date such as 2025-03-04"
    assert [(r.focus.rsplit("/", 1)[-1], r.message) for r in report.results if r.rule == "ItemHasOneDate"] == [
        ("place-of-service_PASS-item-1", said + "."), ("place-of-service_PASS-item-2", said + " (got 2025-03-04).")]


def test_a_line_without_a_code_is_caught(tmp_path: Path, validator: Validator) -> None:
    """The sh:minCount of ItemHasOneCode and DiagnosisHasOneCode (Turtle: the FHIR reader keeps a line
    without a CPT/HCPCS code as an other line); a line without a quantity reads as 1 unit."""
    good = (EXAMPLES / "place-of-service_PASS.ttl").read_text()
    path = tmp_path / "no-code.ttl"
    path.write_text(good.replace("cptkg:productOrService cpt:27301 ;", "")
                    .replace("    cptkg:quantity 1 ;\n    cptkg:location pos:24 ;", "    cptkg:location pos:24 ;")
                    .replace(" ;\n    cptkg:diagnosisCode icd10cm:T84.7XXA .", " ."))
    got = _results(validator, path)["place-of-service_PASS"]
    assert ("ItemHasOneCode", "place-of-service_PASS-item-1") in got
    assert not any(rule == "ItemQuantityPositive" for rule, _focus in got)  # no quantity: 1 unit
    assert ("DiagnosisHasOneCode", "place-of-service_PASS-dx-1") in got  # a diagnosis without its code


def test_a_line_with_two_dates_places_or_quantities_is_caught(tmp_path: Path, validator: Validator) -> None:
    """The sh:maxCount 1 of ItemHasOneDate, ItemHasOnePlaceOfService and ItemQuantityPositive."""
    good = (EXAMPLES / "place-of-service_PASS.ttl").read_text()
    path = tmp_path / "twice.ttl"
    path.write_text(good.replace('cptkg:servicedDate "2025-03-04"^^xsd:date ;',
                                 'cptkg:servicedDate "2025-03-04"^^xsd:date, "2025-03-05"^^xsd:date ;', 1)
                    .replace("cptkg:location pos:24 ;", "cptkg:location pos:24, pos:21 ;", 1)
                    .replace("cptkg:quantity 1 ;", "cptkg:quantity 1, 2 ;", 1))
    got = _results(validator, path)["place-of-service_PASS"]
    rules = {rule for rule, _focus in got}
    assert {"ItemHasOneDate", "ItemHasOnePlaceOfService", "ItemQuantityPositive"} <= rules, got


def test_one_unit_needs_no_site_and_a_cpt_code_ends_in_a_digit_or_f_t_u_m(tmp_path: Path, validator: Validator) -> None:
    """UnitsPerSite judges only lines of more than one unit; a CPT code's fifth character is a digit,
    or F, T, U or M (Category II, III, PLA and MAAA codes)."""
    good = (EXAMPLES / "place-of-service_PASS.ttl").read_text()
    path = tmp_path / "units.ttl"
    path.write_text(good.replace(' ;\n    cptkg:bodySite "left thigh" .', " .")
                    .replace("cptkg:productOrService cpt:27301 ;", "cptkg:productOrService cpt:2730A ;"))
    got = _results(validator, path)["place-of-service_PASS"]
    assert [r for r in got if r[0] == "UnitsPerSite"] == []
    assert ("ProcedureCodeFormat", "place-of-service_PASS-item-1") in got


# ---------------------------------------------------------------- keys joined by name, per claim and date
# UnitsPerSite and PumpRemovalCode join per-claim (and per-date) sub-selects to a line by shared
# names; these claims share one batch (one Turtle file), so a key that lost its claim or its date
# would mix them (mutations that survived when the joins were rewritten).


TWO_SITES = '; cptkg:bodySite "left", "right" '


def test_units_and_sites_are_counted_per_claim_and_date(tmp_path: Path, validator: Validator) -> None:
    path = tmp_path / "units.ttl"
    path.write_text(PREFIXES
                    # a: 2 units of 20701, no site: told
                    + "ex:a a cptkg:Claim ; cptkg:item ex:a-1, ex:a-2 .\n"
                    + _line("a", 1, "27301") + _line("a", 2, "20701", units=2)
                    # b: 2 units on 2 sites (its sites are not a's)
                    + "ex:b a cptkg:Claim ; cptkg:item ex:b-1, ex:b-2 .\n"
                    + _line("b", 1, "27301") + _line("b", 2, "20701", units=2, extra=TWO_SITES)
                    # c: 1 unit (a's and b's units are not c's)
                    + "ex:c a cptkg:Claim ; cptkg:item ex:c-1, ex:c-2 .\n"
                    + _line("c", 1, "27301") + _line("c", 2, "20701")
                    # d: 2 units on 2 sites on the 4th, 1 unit on the 5th (the 4th's units are not the 5th's)
                    + "ex:d a cptkg:Claim ; cptkg:item ex:d-1, ex:d-2, ex:d-3 .\n"
                    + _line("d", 1, "27301") + _line("d", 2, "20701", units=2, extra=TWO_SITES)
                    + _line("d", 3, "20701", date="2025-03-05"))
    got = _results(validator, path)
    told = {claim: [focus for rule, focus in found if rule == "UnitsPerSite"] for claim, found in got.items()}
    assert told == {"a": ["a-2"], "b": [], "c": [], "d": []}


def test_a_pump_replacement_counts_on_its_own_claim_only(tmp_path: Path, validator: Validator) -> None:
    path = tmp_path / "pump.ttl"
    path.write_text(PREFIXES
                    + "ex:e a cptkg:Claim ; cptkg:item ex:e-1, ex:e-2 ; cptkg:diagnosis ex:e-dx .\n"
                    + "ex:e-dx cptkg:sequence 1 ; cptkg:diagnosisCode icd10cm:T85.735A .\n"
                    + _line("e", 1, "27301", extra="; cptkg:diagnosisSequence 1 ")
                    + _line("e", 2, "20701", extra="; cptkg:diagnosisSequence 1 ")
                    + "ex:f a cptkg:Claim ; cptkg:item ex:f-1 .\n" + _line("f", 1, "62362"))
    got = {r.claim.rsplit("/", 1)[-1]: r.results for r in validator.validate(claims.read_paths([path]))}
    pump = [r.message for r in got["e"] if r.rule == "PumpRemovalCode"]
    assert len(pump) == 1
    assert "check whether 62365 applies instead" in pump[0] and "replacement" not in pump[0]


def test_no_pump_context_no_warning_on_pyshacl_too() -> None:
    """On pySHACL, $this is bound before the per-claim sub-select runs, and a group with no rows
    still gives one row (its MIN unbound): PumpRemovalCode's FILTER (BOUND(?context)) is what keeps
    a 20701 line without a pump context quiet there (the compiled engine gives no row at all)."""
    reference = Validator(engine="pyshacl")
    got = list(reference.validate(claims.read_paths([EXAMPLES / "pump-removal_PASS.ttl",
                                                      EXAMPLES / "pump-removal_XFAIL.ttl"])))
    assert [[r.rule for r in c.results if r.rule == "PumpRemovalCode"] for c in got] == [[], ["PumpRemovalCode"]]


def test_seventh_character_counts_only_a_complication_of_the_lines_own_code(tmp_path: Path,
                                                                             validator: Validator) -> None:
    """SeventhCharacterActiveTreatment warns when a family line points to a D/S diagnosis that
    evidences one of that code's own indications: a fracture's subsequent encounter evidences none,
    and a displaced infusion catheter (dislocation) is an indication of 20701, not of +20702."""
    def claim(name: str, code: str, dx: str) -> str:
        return (f"ex:{name} a cptkg:Claim ; cptkg:item ex:{name}-1, ex:{name}-2 ; cptkg:diagnosis ex:{name}-dx .\n"
                f"ex:{name}-dx cptkg:sequence 1 ; cptkg:diagnosisCode icd10cm:{dx} .\n"
                + _line(name, 1, "27301", extra="; cptkg:diagnosisSequence 1 ")
                + _line(name, 2, code, extra="; cptkg:diagnosisSequence 1 "))

    path = tmp_path / "seventh.ttl"
    path.write_text(PREFIXES + claim("fracture", "20701", "S72.001D") + claim("catheter", "20701", "T85.620D")
                    + claim("catheter-other-code", "20702", "T85.620D"))
    got = {name: [r for r in found if r[0] == "SeventhCharacterActiveTreatment"]
           for name, found in _results(validator, path).items()}
    assert got == {"fracture": [], "catheter": [("SeventhCharacterActiveTreatment", "catheter-2")],
                   "catheter-other-code": []}


# ---------------------------------------------------------------- the mutation catalog

def test_every_listed_mutation_still_applies_and_names_real_tests() -> None:
    """tools/mutations.toml stays true to the tree: each mutation's text is where it says, once,
    and each test it names exists (make mutate then runs them; this only keeps the list honest)."""
    import re
    import runpy

    listed = list(runpy.run_path(str(ROOT / "tools" / "mutate.py"))["listed_mutants"]())
    assert len(listed) >= 17
    for mutant in listed:
        original = mutant.path.read_text(encoding="utf-8")
        assert mutant.apply(original) != original, mutant.description
        for test in mutant.tests:
            path, name = test.split("::")
            function = re.sub(r"\[.*\]$", "", name)
            assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), test
            parameter = re.search(r"\[(.+)\]$", name)
            if parameter and path == "tests/test_examples.py":
                assert (EXAMPLES / parameter.group(1)).exists(), test


def test_an_add_ons_place_is_matched_to_primaries_of_its_own_claim(tmp_path: Path, validator: Validator) -> None:
    """AddOnPlaceMatchesPrimary: the primaries (and their places) are the line's own claim's, and a
    line whose code holds no primary procedure (an office visit) is no primary."""
    path = tmp_path / "places.ttl"
    path.write_text(
        PREFIXES
        # no primary on the claim: AddOnRequiresPrimary speaks, this rule is silent
        + "ex:alone a cptkg:Claim ; cptkg:item ex:alone-1 .\n" + _line("alone", 1, "20701", place="22")
        # the primary at 21, the add-on at 22: warned, whatever another claim has at 22
        + "ex:split a cptkg:Claim ; cptkg:item ex:split-1, ex:split-2 .\n"
        + _line("split", 1, "27301") + _line("split", 2, "20701", place="22")
        + "ex:other a cptkg:Claim ; cptkg:item ex:other-1, ex:other-2 .\n"
        + _line("other", 1, "27301", place="22") + _line("other", 2, "20701", place="22")
        # an office visit at the add-on's place is not its primary
        + "ex:visit a cptkg:Claim ; cptkg:item ex:visit-1, ex:visit-2, ex:visit-3 .\n"
        + _line("visit", 1, "27301") + _line("visit", 2, "20701", place="22") + _line("visit", 3, "99213", place="22"))
    got = {name: [r for r in found if r[0] == "AddOnPlaceMatchesPrimary"]
           for name, found in _results(validator, path).items()}
    assert got == {"alone": [], "split": [("AddOnPlaceMatchesPrimary", "split-2")], "other": [],
                   "visit": [("AddOnPlaceMatchesPrimary", "visit-2")]}


def test_no_primary_no_place_warning_on_pyshacl_too() -> None:
    """pySHACL runs the query with $this bound, where an empty group still gives a row (its count
    unbound): the FILTER on the count keeps an add-on without any primary out of AddOnPlaceMatchesPrimary."""
    example = EXAMPLES / "addon-requires-primary_XFAIL.ttl"
    reports = list(Validator(engine="pyshacl").validate(claims.read_paths([example])))
    assert sorted({r.rule for r in reports[0].results}) == ["AddOnRequiresPrimary"]


_XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")


def _kind_values():
    from hypothesis import strategies as st
    from rdflib import BNode, URIRef
    from rdflib.namespace import XSD

    return st.one_of(
        st.integers(-2, 12).map(Literal),
        st.decimals(min_value=-1, max_value=11, places=1, allow_nan=False).map(Literal),
        st.sampled_from(["a", "Abc", "bcd", "", "7", "2025-01-01"]).map(Literal),
        st.sampled_from(["2025-01-01", "7"]).map(lambda v: Literal(v, datatype=XSD.date)),
        st.sampled_from(["a", "b", "c", "apple", "typed", "untyped", "seven"]).map(lambda n: URIRef(f"http://ex/{n}")),
        st.just(BNode("blank")),
    )


def _kind_graphs():
    from hypothesis import strategies as st
    from rdflib import URIRef
    from rdflib.namespace import RDF

    paths = ["two", "one", "int", "iri", "lit", "text", "k", "lo", "hi", "gt", "lt", "in", "bn", "bi", "il", "bl"]
    # Left out: a date compared with a numeric bound. SHACL (and the compiled engine) report it,
    # as any value the bound cannot be compared with; pySHACL orders rdflib literals of different
    # datatypes and may not. No rule of cptkg compares a date with a number.
    comparable = st.tuples(st.sampled_from(paths), _kind_values()).filter(
        lambda pv: not (pv[0] in ("lo", "hi", "gt", "lt") and getattr(pv[1], "datatype", None) == _XSD_DATE))
    node = st.tuples(st.sampled_from(["C", "Sub", "Other"]), st.lists(comparable, max_size=6))
    return st.lists(node, min_size=1, max_size=4).map(lambda nodes: [
        triple for index, (cls, values) in enumerate(nodes)
        for triple in [(URIRef(f"http://ex/n{index}"), RDF.type, URIRef(f"http://ex/{cls}")),
                       *((URIRef(f"http://ex/n{index}"), URIRef(f"http://ex/{p}"), v) for p, v in values)]])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_kind_graphs())
def test_generated_nodes_get_pyshacls_results_on_every_core_constraint_kind(data: list) -> None:
    """Nodes typed by a class or its subclass (or neither), with values of every kind (integers,
    decimals, plain and date-typed strings, IRIs, a blank node), repeated or missing: the compiled
    engine reports exactly pySHACL's results on each core constraint kind."""
    shapes = Graph().parse(data=KIND_SHAPES, format="turtle")
    facts = Graph().parse(data="@prefix ex: <http://ex/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."
                               " ex:Sub rdfs:subClassOf ex:C . ex:SubK rdfs:subClassOf ex:K . ex:typed a ex:SubK .",
                          format="turtle")

    def value(term: object) -> str:
        # Oxigraph stores numbers in canonical form ("0.0"^^xsd:decimal comes back as "0"): the
        # same value, so literals are compared by datatype and value, other terms as written.
        if isinstance(term, Literal) and term.datatype is not None and term.value is not None:
            number = getattr(term.value, "normalize", None)  # Decimal("0.0") == Decimal("0"), written apart
            return f"{term.datatype} {number() if number else term.value!r}"
        return term.n3() if term is not None else ""  # type: ignore[attr-defined]

    def key(raw: list) -> list[tuple[str, str, str]]:
        return sorted((str(r.shape), str(r.focus), value(r.value)) for r in raw)

    expected = key(run_pyshacl(shapes, facts, data))
    assert key(OxigraphEngine(shapes, facts).run(data)) == expected
    assert key(DuckDBEngine(shapes, facts, small_batch=0).run(data)) == expected


# ---------------------------------------------------------------- rules read the line's own code's facts
# Today only 20701 has typical places, specialties, a pump removal code and a listed former family;
# a rule that read any code's facts would give the same results. Facts that give other codes these
# (MADE UP for the tests, added as a rule pack's facts are) tell the two apart.
MORE_FACTS = """@prefix cpt: <https://w3id.org/cptkg/cpt/> . @prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix pos: <https://w3id.org/cptkg/pos/> . @prefix nucc: <https://w3id.org/cptkg/nucc/> .
@prefix icd10cm: <https://w3id.org/cptkg/icd10cm/> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/made-up/> .
cpt:20702 cptkg:typicalPlaceOfService pos:11 ; cptkg:typicalSpecialty nucc:208200000X ;
    cptkg:pumpRemovalCodedAs cpt:62365 .
ex:fracture cptkg:evidencedBy icd10cm:S72.001 .
ex:code2 cptkg:memberOfFamily ex:family2 ; skos:notation "code2" .
ex:family2 cptkg:previouslyReportedWith ex:former2 .
ex:former2 skos:notation "former2" .
"""


@pytest.fixture(scope=shared_scope)
def validator_with_more_facts(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    from cptkg.rules import packs

    path = tmp_path_factory.mktemp("facts") / "more-facts.ttl"
    path.write_text(MORE_FACTS, encoding="utf-8")
    return Validator(rules=packs.spec([path]))


def _messages(validator: Validator, path: Path, rule: str) -> dict[str, list[tuple[str, str]]]:
    return {r.claim.rsplit("/", 1)[-1]: [(x.focus.rsplit("/", 1)[-1], x.message) for x in r.results if x.rule == rule]
            for r in validator.validate(claims.read_paths([path]))}


def test_typical_places_and_specialties_are_the_lines_own_codes(validator_with_more_facts: Validator) -> None:
    places = _messages(validator_with_more_facts, EXAMPLES / "place-of-service_XFAIL.ttl", "PlaceOfServiceTypical")
    ((_focus, message),) = places["place-of-service_XFAIL"]
    assert "(typical: 21, 24)" in message  # not 20702's 11
    specialties = _messages(validator_with_more_facts, EXAMPLES / "specialty_XFAIL.ttl", "SpecialtyTypical")
    assert [focus for focus, _m in specialties["specialty_XFAIL"]] == ["specialty_XFAIL-item-2"]


def test_necessity_pump_and_former_codes_are_the_lines_own_codes(tmp_path: Path,
                                                                   validator_with_more_facts: Validator) -> None:
    path = tmp_path / "own.ttl"
    path.write_text(
        PREFIXES
        # a fracture evidences an indication, but of no code on this line: 20701 is still unsupported
        + "ex:fracture a cptkg:Claim ; cptkg:item ex:fracture-1, ex:fracture-2 ; cptkg:diagnosis ex:fracture-dx .\n"
        + "ex:fracture-dx cptkg:sequence 1 ; cptkg:diagnosisCode icd10cm:S72.001D .\n"
        + _line("fracture", 1, "27301", extra="; cptkg:diagnosisSequence 1 ")
        + _line("fracture", 2, "20701", extra="; cptkg:diagnosisSequence 1 ")
        # 20701 before its effective date: only its own family's former codes are named
        + "ex:early a cptkg:Claim ; cptkg:item ex:early-1, ex:early-2 .\n"
        + _line("early", 1, "27301", date="2019-06-03") + _line("early", 2, "20701", date="2019-06-03"))
    necessity = _messages(validator_with_more_facts, path, "DiagnosisSupportsNecessity")
    assert [focus for focus, _m in necessity["fracture"]] == ["fracture-2"]
    ((_focus, message),) = _messages(validator_with_more_facts, path, "CodeEffectiveOnDate")["early"]
    assert "reported with" in message and "former2" not in message
    pump = _messages(validator_with_more_facts, EXAMPLES / "pump-removal_XFAIL.ttl", "PumpRemovalCode")
    assert len(pump["pump-removal_XFAIL"]) == 1  # 20701's own pump removal code, not also 20702's


def test_no_facts_names_each_kind_the_code_lacks(tmp_path: Path, validator_with_more_facts: Validator) -> None:
    path = tmp_path / "code2.ttl"
    path.write_text(PREFIXES + "ex:a a cptkg:Claim ; cptkg:item ex:a-1, ex:a-2 .\n" + _line("a", 1, "20701")
                    + _line("a", 2, "27301").replace("cpt:27301", "<https://example.org/made-up/code2>"))
    ((focus, message),) = _messages(validator_with_more_facts, path, "NoFactsForCode")["a"]
    assert focus == "a-2" and message.startswith(
        "The graph lists no places of service, specialties or indications for code2, so PlaceOfServiceTypical, "
        "SpecialtyTypical, DiagnosisSupportsNecessity, SeventhCharacterActiveTreatment did not judge this line")


# ---------------------------------------------------------------- what the compiler refuses, and terms

_S = ("@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .\n"
      "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n")


@pytest.mark.parametrize(("shape", "reason"), [
    ("[] a sh:NodeShape ; sh:targetClass ex:C .", "a shape without an IRI"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:or ( ) .",
     "http://ex/S: http://www.w3.org/ns/shacl#or is not compiled"),
    ("ex:S a sh:NodeShape ; sh:severity sh:Violation .", "http://ex/S: the compiler needs exactly one sh:targetClass"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C, ex:D .",
     "http://ex/S: the compiler needs exactly one sh:targetClass"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 .",
     "http://ex/S: only predicate paths are compiled"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:datatype xsd:string .",
     "http://ex/S: xsd:string datatype"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:nodeKind ex:Odd .",
     "http://ex/S: node kind http://ex/Odd"),
    ('ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this" ] .',
     "http://ex/S: no WHERE clause in its SELECT"),
], ids=["blank", "unknown-feature", "no-target", "two-targets", "inverse-path", "xsd-string", "node-kind", "no-where"])
def test_the_compiler_refuses_what_it_cannot_translate_by_name(shape: str, reason: str) -> None:
    from cptkg.rules.compiler import UnsupportedShape, compile_shapes

    with pytest.raises(UnsupportedShape) as refused:
        compile_shapes(Graph().parse(data=_S + shape, format="turtle"))
    assert str(refused.value) == reason


def test_a_query_oxigraph_cannot_parse_is_found_before_any_claim() -> None:
    import pyoxigraph as ox

    from cptkg.rules.compiler import UnsupportedShape

    shapes = Graph().parse(data=_S + 'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message "m" ; '
                           'sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p ?x FILTER (?x >) }" ] .',
                           format="turtle")
    engine = OxigraphEngine(shapes, Graph())
    engine.check_shapes([URIRef("http://ex/Other")])  # only the shapes asked for are tried
    with pytest.raises(UnsupportedShape) as refused:
        engine.check_shapes([URIRef("http://ex/S")])
    with pytest.raises(SyntaxError) as oxigraph:
        ox.Store().query(engine.checks[0].query)
    # Oxigraph's own words, on one line, cut at 200 characters (this one is longer).
    words = " ".join(str(oxigraph.value).split())
    assert len(words) > 200
    assert str(refused.value) == f"http://ex/S: its SPARQL does not run ({words[:200]})"


def test_each_constraint_has_its_own_prefixes() -> None:
    """sh:prefixes are read per constraint: two packs may give one prefix different namespaces."""
    shapes = Graph().parse(data=_S + """
        ex:One a sh:NodeShape ; sh:targetClass ex:C ; sh:message "m" ; sh:sparql [ sh:prefixes ex:P1 ;
            sh:select "SELECT $this WHERE { $this a:p ?x }" ] .
        ex:Two a sh:NodeShape ; sh:targetClass ex:C ; sh:message "m" ; sh:sparql [ sh:prefixes ex:P2 ;
            sh:select "SELECT $this WHERE { $this a:p ?x }" ] .
        ex:P1 sh:declare [ sh:prefix "a" ; sh:namespace "http://one/"^^xsd:anyURI ] .
        ex:P2 sh:declare [ sh:prefix "a" ; sh:namespace "http://two/"^^xsd:anyURI ] .""", format="turtle")
    data = Graph().parse(data="@prefix ex: <http://ex/> . ex:n1 a ex:C ; <http://one/p> 1 . "
                              "ex:n2 a ex:C ; <http://two/p> 1 .", format="turtle")
    for engine in (OxigraphEngine(shapes, Graph()), DuckDBEngine(shapes, Graph(), small_batch=0)):
        found = sorted((str(r.shape), str(r.focus)) for r in engine.run(list(data)))
        assert found == [("http://ex/One", "http://ex/n1"), ("http://ex/Two", "http://ex/n2")]


def test_terms_cross_to_oxigraph_and_back_unchanged() -> None:
    from rdflib import BNode
    from rdflib.namespace import XSD

    from cptkg.rules.engines.oxigraph import from_ox, to_ox

    terms = [URIRef("http://ex/a"), BNode("b1"), Literal("plain"), Literal("tagged", lang="en-us"),
             Literal("2025-03-04", datatype=XSD.date), Literal("7", datatype=XSD.integer),
             Literal("x", datatype=URIRef("http://ex/type"))]
    back = [from_ox(to_ox(t)) for t in terms]
    assert back == terms
    assert [type(t) for t in back] == [type(t) for t in terms]
    assert back[3].language == "en-us" and back[2].datatype is None


def test_a_messages_placeholders_are_filled_once_each_and_unbound_ones_kept() -> None:
    import pyoxigraph as ox

    from cptkg.rules.engines import fill_messages

    bound = {"code": ox.Literal("20701"), "value": ox.NamedNode("https://w3id.org/cptkg/cpt/20701")}
    asked: list[object] = []

    def text_of(term: object) -> str:
        asked.append(term)
        return str(term.value)  # type: ignore[attr-defined]

    assert fill_messages(["{?code} and {$code}: {?value} ({?missing})", "plain"], bound, text_of) == [
        "20701 and 20701: https://w3id.org/cptkg/cpt/20701 ({?missing})", "plain"]
    assert asked == [bound["code"], bound["value"]]  # each value's text worked out once


def test_one_claim_gives_the_same_paths_and_messages_on_both_engines() -> None:
    """Quick twin of the slow differential test: a claim breaking core constraints (whose results
    name their sh:path) and SPARQL rules (whose messages are filled in), on the compiled engine and
    on pySHACL, every field compared."""
    from cptkg.claims import read_paths

    records = list(read_paths([EXAMPLES / "structure_XFAIL.json"]))
    for r in records:
        r.triples = [*r.triples, *edition_triples(r)]

    def comparable(engine: str) -> list[tuple[str, ...]]:
        raw = Validator(engine=engine).raw_results(records)
        return sorted((str(r.shape), str(r.severity), str(r.focus), str(r.path), str(r.value), r.message) for r in raw)

    compiled = comparable("oxigraph")
    assert compiled == comparable("pyshacl")
    assert ("https://w3id.org/cptkg/ontology#servicedDate" in {row[3] for row in compiled}
            and all(row[5] and "{?" not in row[5] for row in compiled))
