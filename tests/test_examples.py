"""examples/claims: each example's exact (rule, focus, severity) results, in Turtle and in FHIR
JSON, and the same results from both forms of a claim (UCO's PASS/XFAIL pairs); the examples are
what tools/gen_examples.py writes; each shape says what the catalog needs of it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from cptkg.report.model import ValidationReport
from cptkg.rules import catalog as shapes
from cptkg.rules.validator import validate_paths
from tests.conftest import files_for, shared_scope

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "claims"
ALL_EXPECTED = json.loads((EXAMPLES.parent / "expected-results.json").read_text())
EXPECTED = {k: v for k, v in ALL_EXPECTED.items() if not k.startswith("inputs/")}
DESIGN_RULES = {
    "AddOnRequiresPrimary", "AddOnPrimaryListed", "AddOnModifier51", "AddOnPlaceMatchesPrimary",
    "CodeEffectiveOnDate", "PlaceOfServiceTypical", "SpecialtyTypical", "SeventhCharacterActiveTreatment",
    "NoFactsForCode",
    "DiagnosisSupportsNecessity", "DiagnosisCodeValid", "DiagnosisPointerResolves",
    "ProcedureCodeFormat", "ExcludedCodePair", "DocumentationComplete", "PumpRemovalCode",
    "UnitsPerSite",
}


def focus_key(focus: str) -> str:
    """A result's focus as 'line N' or 'dx N', the same for both forms of a claim."""
    match = re.search(r"(item|dx|diagnosis)[-/](\d+)$", focus)
    assert match, focus
    return ("line " if match.group(1) == "item" else "dx ") + match.group(2)


@pytest.fixture(scope=shared_scope)
def report(request: pytest.FixtureRequest) -> ValidationReport:
    return validate_paths(*files_for(request, EXAMPLES))


@pytest.fixture(scope=shared_scope)
def by_file(report: ValidationReport) -> dict[str, list]:
    out: dict[str, list] = {}
    for claim in report.claims:
        out.setdefault(Path(claim.origin).name, []).append(claim)
    return out


def test_every_example_file_was_read_once(by_file) -> None:
    files = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".ttl", ".json")
)
    assert sorted(by_file) == files
    assert all(len(claims) == 1 for claims in by_file.values())
    assert len(files) == 2 * len(EXPECTED) >= 2 * 31


CASES = [(name, form) for name in sorted(EXPECTED) for form in ("ttl", "json")]


@pytest.mark.parametrize(("name", "form"), CASES, ids=[f"{n}.{f}" for n, f in CASES])
def test_example_results_exactly(by_file, name: str, form: str) -> None:
    (claim,) = by_file[f"{name}.{form}"]
    got = sorted([r.rule, focus_key(r.focus), r.severity] for r in claim.results)
    assert got == EXPECTED[name]["results"]
    violations = [r for r in claim.results if r.severity == "Violation"]
    assert claim.conforms == (not violations)
    if name.endswith("_PASS"):  # conforming with nothing to fix: Info results only (NoFactsForCode)
        assert claim.conforms and all(r.severity == "Info" for r in claim.results)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_turtle_and_fhir_forms_agree(by_file, name: str) -> None:
    (ttl,) = by_file[f"{name}.ttl"]
    (fhir,) = by_file[f"{name}.json"]
    assert Counter((r.rule, focus_key(r.focus), r.severity, r.value) for r in ttl.results) == \
        Counter((r.rule, focus_key(r.focus), r.severity, r.value) for r in fhir.results)
    assert ttl.claim == f"https://example.org/claims/{name}"
    assert fhir.claim == name.replace("_", "-")


def test_every_catalog_rule_fires_on_an_example(report) -> None:
    # The reference-resolution rules fire on FHIR as others send it (examples/inputs).
    inputs = validate_paths(EXAMPLES.parent / "inputs")
    fired = {r.rule for c in [*report.claims, *inputs.claims] for r in c.results}
    catalog = set(shapes.catalog())
    assert catalog >= DESIGN_RULES
    # The NCCI rules read tables a user imports (cptkg ships no edit values): their PASS/XFAIL
    # cases run in tests/test_ncci.py on fixture tables in CMS's layouts.
    needs_imported_tables = {"PTPEdit", "MUEExceeded", "AOCType1PrimaryListed", "AOCType3PrimaryListed"}
    assert catalog - needs_imported_tables <= fired, f"rules with no failing example: {sorted(catalog - fired)}"


def test_every_claim_shape_has_iri_message_severity() -> None:
    from rdflib import BNode
    from rdflib.namespace import RDF, SH

    graph = shapes.claim_shapes()
    shape_nodes = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    assert len(shape_nodes) >= len(DESIGN_RULES)
    for shape in shape_nodes:
        assert not isinstance(shape, BNode), "every shape needs an IRI (its rule ID)"
        assert str(shape).startswith("https://w3id.org/cptkg/shapes#")
        assert graph.value(shape, SH.severity) in (SH.Violation, SH.Warning, SH.Info), shape
        rule = shapes.catalog()[shapes.rule_id(shape)]
        assert len(rule.message) > 30, shape
        assert rule.label, shape


def test_severities_are_the_ones_the_example_cases_state() -> None:
    """Each example case states the severity of its results (tools/gen_examples.py): a shape whose
    severity changed fails here, and no list of severities is kept apart from the cases."""
    stated: dict[str, set[str]] = {}
    # The reference rules fire on FHIR as others send it: their cases are examples/inputs
    # (tools/gen_inputs.py), which state severities the same way.
    results = [r for entry in EXPECTED.values() for r in entry["results"]]
    results += [r for key, entry in ALL_EXPECTED.items() if key.startswith("inputs/")
                for claim in entry["claims"] for r in claim["results"]]
    for rule, _where, severity in results:
        stated.setdefault(rule, set()).add(severity)
    # The NCCI rules (PTP, MUE, AOC) read tables a user imports: their cases, with their
    # severities, are in tests/test_ncci.py.
    assert set(shapes.catalog()) - set(stated) <= {"PTPEdit", "MUEExceeded", "AOCType1PrimaryListed",
                                                    "AOCType3PrimaryListed"}
    assert stated.pop("Unreadable") == {"Violation"}
    for rule_id, severities in stated.items():
        assert severities == {shapes.catalog()[rule_id].severity}, rule_id


def test_the_examples_are_what_gen_examples_writes(tmp_path: Path) -> None:
    """tools/gen_examples.py and tools/gen_inputs.py reproduce examples/ byte for byte (run from a
    copy of the tree, so the checkout is never rewritten by a test)."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "tree"
    for part in ("tools", "examples"):
        shutil.copytree(ROOT / part, copy / part)
    (copy / "cptkg").symlink_to(ROOT / "cptkg")  # the generator imports cptkg from its tree
    for f in (copy / "examples").rglob("*"):
        if f.is_file() and not f.name.startswith("expected-results") and f.parent.name in ("claims", "inputs"):
            f.unlink()
    for tool in ("gen_inputs.py", "gen_examples.py"):
        subprocess.run([sys.executable, str(copy / "tools" / tool)], check=True, cwd=copy)
    written = {p.relative_to(copy / "examples"): p.read_bytes() for p in (copy / "examples").rglob("*") if p.is_file()}
    checked_in = {p.relative_to(ROOT / "examples"): p.read_bytes() for p in (ROOT / "examples").rglob("*")
                  if p.is_file()}
    assert sorted(written) == sorted(checked_in)
    stale = sorted(str(name) for name, data in checked_in.items() if written[name] != data)
    assert stale == [], f"examples/ differs from what tools/gen_examples.py writes: {stale} (run it)"


def test_a_shape_missing_what_the_catalog_needs_is_refused() -> None:
    """A built-in rule's shape says how its results are reported (cptkgsh:fhirIssueType, and for
    a rule on lines cptkgsh:fhirElement); without them the catalog refuses it by name."""
    from rdflib import Graph, Literal

    from cptkg.kg.namespaces import CPTKGSH

    def without(rule: str, annotation) -> Graph:
        graph = Graph()
        graph += shapes.claim_shapes()
        graph.remove((CPTKGSH[rule], annotation, None))
        return graph

    assert set(shapes.rules_of(shapes.claim_shapes())) == set(shapes.catalog())
    with pytest.raises(shapes.InvalidShape, match="UnitsPerSite: no cptkgsh:fhirElement"):
        shapes.rules_of(without("UnitsPerSite", shapes.FHIR_ELEMENT))
    with pytest.raises(shapes.InvalidShape, match="DiagnosisCodeValid: no cptkgsh:fhirIssueType"):
        shapes.rules_of(without("DiagnosisCodeValid", shapes.FHIR_ISSUE_TYPE))
    wrong = without("UnitsPerSite", shapes.FHIR_ISSUE_TYPE)
    wrong.add((CPTKGSH.UnitsPerSite, shapes.FHIR_ISSUE_TYPE, Literal("nonsense")))
    with pytest.raises(shapes.InvalidShape, match="'nonsense' is not a FHIR issue type"):
        shapes.rules_of(wrong)
    # A rule on diagnoses points at the diagnosis, not at a line element: it needs none.
    assert shapes.rules_of(without("DiagnosisCodeValid", shapes.FHIR_ELEMENT))["DiagnosisCodeValid"].element is None


def test_no_facts_for_code_names_the_rules_whose_shapes_say_they_need_the_facts() -> None:
    """NoFactsForCode's SPARQL names, for each kind of fact a code may lack, the rules that cannot
    judge without it; the shapes of those rules say so (cptkgsh:unjudgedWithout), and `cptkg show`
    reads them from there."""
    from rdflib.namespace import SH

    from cptkg.kg.namespaces import CPTKGSH

    graph = shapes.claim_shapes()
    select = str(graph.value(graph.value(CPTKGSH.NoFactsForCode, SH.sparql), SH.select))
    named = re.search(r"BIND \(CONCAT\(((?:(?!BIND).)*?)\) AS \?rulesList\)", select, re.S)
    assert named, "NoFactsForCode builds ?rulesList"
    flags = {"placesOfService": "hasPlaces", "specialties": "hasSpecialties", "indications": "hasIndications"}
    assert set(flags) == set(shapes.CODE_FACTS)
    for fact, flag in flags.items():
        listed = re.search(rf'IF\(\?{flag}, "", "([^"]*)"\)', named.group(1))
        assert listed, flag
        assert [r.strip() for r in listed.group(1).split(",") if r.strip()] == shapes.unjudged_without(fact), fact


@pytest.mark.parametrize("name", ["article-example-1", "article-example-2", "article-example-3"])
def test_article_examples_conform_with_the_guidance_warning(by_file, name: str) -> None:
    # The article reports 20701 in each; CPT guidance codes intrathecal pump removal as 62365.
    for form in ("ttl", "json"):
        (claim,) = by_file[f"{name}.{form}"]
        assert claim.conforms
        assert [(r.rule, r.severity) for r in claim.results] == [("PumpRemovalCode", "Warning")]
        assert "62365" in claim.results[0].message


def test_messages_name_the_values_and_what_to_do(by_file) -> None:
    (claim,) = by_file["place-of-service_XFAIL.ttl"]
    message = claim.results[0].message
    assert "Place of service 11 is not one the graph lists as typical for 20701 (typical: 21, 24)" in message
    assert "a payer may require" in message
    (claim,) = by_file["addon-requires-primary-procedure_XFAIL.json"]
    assert "CPT Surgery section, 10004-69990" in claim.results[0].message  # why 99223 is no primary
    (claim,) = by_file["code-effective-on-date_XFAIL.ttl"]
    effective = next(r for r in claim.results if r.rule == "CodeEffectiveOnDate")
    assert effective.message.startswith("20701 took effect on 2020-01-01, after this line's date of "
                                               "service 2019-06-04")
    assert "the family was reported with 11981, 11982, 11983" in effective.message
    (claim,) = by_file["pump-replacement_XFAIL.ttl"]
    assert "the pump replacement 62362 includes removing the old pump, so neither 20701 nor 62365" in \
        claim.results[0].message
    (claim,) = by_file["pump-removal_XFAIL.json"]
    assert "the pump replacement 62362" in claim.results[0].message
    (claim,) = by_file["pump-removal-diagnosis_XFAIL.json"]
    assert "check whether 62365 applies instead" in claim.results[0].message
    (claim,) = by_file["no-facts-for-code_XFAIL.json"]
    assert claim.results[0].message.startswith("The graph lists no places of service or specialties for 20705, "
                                               "so PlaceOfServiceTypical, SpecialtyTypical did not judge")
    (claim,) = by_file["addon-requires-primary_XFAIL.json"]
    assert "20680" in claim.results[0].message  # the stand-alone removal code
    (claim,) = by_file["diagnosis-code-valid_XFAIL.json"]
    assert claim.results[0].value == "T84.7"  # read without the dot, reported dotted
    assert "T84.7 is not a billable" in claim.results[0].message


def test_every_message_is_filled_in(report: ValidationReport) -> None:
    """A message names the offending values: no template variable is left unfilled."""
    messages = [r.message for claim in report.claims for r in claim.results]
    assert len(messages) >= 40
    left = [m for m in messages if re.search(r"\{[?$]\w+\}", m)]
    assert left == []


def test_no_constraint_trips_pyshacls_text_checks() -> None:
    """pySHACL refuses a constraint whose text looks like SERVICE (even "service" in a string) or
    whose nested SELECT (as its regex reads it) does not project $this: both engines must run
    every rule, so each select passes pySHACL's own check."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
    from rdflib.namespace import SH

    graph = shapes.claim_shapes()
    constraints = list(graph.objects(None, SH.sparql))
    assert len(constraints) >= 15
    for constraint in constraints:
        text = str(graph.value(constraint, SH.select))
        SPARQLQueryHelper.check_invalid_sparql(object.__new__(SPARQLQueryHelper), text)  # raises if refused
