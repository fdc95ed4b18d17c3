"""`cptkg validate --format operationoutcome`: FHIR R4 OperationOutcomes (a Bundle of them for
several claims) with the issue severity, FHIR issue type, the rule coded in cptkg's rule
CodeSystem and the FHIRPath of the element; valid against fhir.resources and HL7's R4 JSON schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cptkg.report.model import Result
from cptkg.report.outcome import RULE_SYSTEM, expression
from tests.conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples" / "claims"


def outcomes(*paths: Path) -> dict:
    proc = run_cli("validate", *map(str, paths), "--format", "operationoutcome")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def issues_of(doc: dict) -> list[tuple]:
    return [(i["severity"], i["code"], i.get("details", {}).get("coding", [{}])[0].get("code"),
             tuple(i.get("expression", []))) for i in doc["issue"]]


def test_one_claim_is_one_outcome_with_the_element_named() -> None:
    doc = outcomes(EXAMPLES / "place-of-service_XFAIL.json")
    assert doc["resourceType"] == "OperationOutcome"
    assert issues_of(doc) == [("warning", "business-rule", "PlaceOfServiceTypical",
                               ("Claim.item.where(sequence = 2).locationCodeableConcept",))]
    assert doc["issue"][0]["details"]["coding"][0]["system"] == RULE_SYSTEM
    assert doc["meta"]["tag"][0]["code"] == "conforms"  # a Warning only


def test_several_claims_are_a_bundle_in_input_order() -> None:
    doc = outcomes(EXAMPLES / "diagnosis-edition_XFAIL.json", EXAMPLES / "addon-modifier-51_PASS.json",
                   EXAMPLES / "units-per-site-lines_XFAIL.ttl")
    assert doc["resourceType"] == "Bundle" and doc["type"] == "collection"
    first, second, third = (e["resource"] for e in doc["entry"])
    assert issues_of(first) == [("error", "code-invalid", "DiagnosisCodeValid",
                                 ("Claim.diagnosis.where(sequence = 2).diagnosisCodeableConcept",))]
    assert issues_of(second) == [("information", "informational", None, ())]  # conforming: one issue
    assert [i[2:] for i in issues_of(third)] == [
        ("UnitsPerSite", ("Claim.item.where(sequence = 2).quantity",)),
        ("UnitsPerSite", ("Claim.item.where(sequence = 3).quantity",))]


def test_an_unreadable_claim_is_an_invalid_issue_without_a_path(tmp_path: Path) -> None:
    bad = tmp_path / "two.ndjson"
    bad.write_text('{"resourceType": "Claim", "id": "x"\n' + (EXAMPLES / "addon-modifier-51_PASS.json")
                   .read_text(encoding="utf-8").replace("\n", " ") + "\n", encoding="utf-8")
    doc = outcomes(bad)
    first = doc["entry"][0]["resource"]
    assert issues_of(first) == [("error", "invalid", "Unreadable", ())]


def test_detail_lines_and_claim_level_results() -> None:
    detail = _result("UnitsPerSite", line="2.1.3", severity="Warning")
    assert expression(detail) == ("Claim.item.where(sequence = 2).detail.where(sequence = 1)"
                                  ".subDetail.where(sequence = 3).quantity")
    claim_level = Result("PayerPriorAuthorizationRequired", "Violation", "x", None, None, "m")
    assert expression(claim_level) == "Claim"


def test_outcomes_are_valid_fhir(tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    doc = outcomes(*sorted(EXAMPLES.glob("*_XFAIL.json"))[:12], EXAMPLES / "addon-modifier-51_PASS.json")
    Bundle.model_validate(doc)
    path = os.environ.get("CPTKG_FHIR_SCHEMA")
    if not path:
        pytest.skip("CPTKG_FHIR_SCHEMA is not set (make test fetches the R4 JSON schema)")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft6Validator(schema).iter_errors(doc)] == []
    own = jsonschema.Draft6Validator({"$ref": "#/definitions/OperationOutcome", "definitions": schema["definitions"]})
    for entry in doc["entry"]:
        assert [e.message for e in own.iter_errors(entry["resource"])] == []


def test_every_rule_is_a_code_of_the_published_rule_code_system(kg) -> None:
    from cptkg.export import fhir
    from cptkg.rules.catalog import catalog

    assert fhir.RULE_SYSTEM == RULE_SYSTEM
    (code_system,) = [e["resource"] for e in fhir.bundle(kg)["entry"]
                      if e["resource"]["resourceType"] == "CodeSystem" and e["resource"]["url"] == RULE_SYSTEM]
    assert {c["code"] for c in code_system["concept"]} == set(catalog())


def _result(rule: str, *, line: str | None = None, diagnosis: str | None = None, path: str | None = None,
            severity: str = "Violation") -> Result:
    """A result as the Validator makes it: a built-in rule's with the issue type and line element
    its shape states (a pack's rule, unknown here, with neither)."""
    from cptkg.rules.catalog import catalog

    rule_of = catalog().get(rule)
    return Result(rule, severity, "urn:focus", path, None, f"fix {rule}", line=line, diagnosis=diagnosis,
                  issue_type=rule_of.issue_type if rule_of else None, element=rule_of.element if rule_of else None)


@pytest.mark.parametrize(("result", "resource", "path"), [
    (_result("AddOnRequiresPrimary", line="2"), "Claim", "Claim.item.where(sequence = 2).productOrService"),
    (_result("UnitsPerSite", line="2.1.3"), "Claim", "Claim.item.where(sequence = 2).detail.where(sequence = 1)"
     ".subDetail.where(sequence = 3).quantity"),
    (_result("SomePackRule", line="1", path="https://w3id.org/cptkg#location"), "Claim",
     "Claim.item.where(sequence = 1).locationCodeableConcept"),
    (_result("SomePackRule", line="1", path="https://w3id.org/cptkg#diagnosisCode"), "Claim",
     "Claim.item.where(sequence = 1).diagnosisCodeableConcept"),
    (_result("SpecialtyTypical", line="3", path="https://w3id.org/cptkg#unknown"), "Claim",
     "Claim.item.where(sequence = 3).careTeamSequence"),
    (_result("DiagnosisCodeValid", diagnosis="2"), "Claim",
     "Claim.diagnosis.where(sequence = 2).diagnosisCodeableConcept"),
    (_result("DiagnosisReferenceResolves", diagnosis="1"), "Claim",
     "Claim.diagnosis.where(sequence = 1).diagnosisReference"),
    (_result("ProviderReferenceResolves"), "Claim", "Claim.careTeam"),
    (_result("PriorAuthorizationRequired"), "ExplanationOfBenefit", "ExplanationOfBenefit"),
    (_result("AddOnModifier51", line="4"), "ExplanationOfBenefit",
     "ExplanationOfBenefit.item.where(sequence = 4).modifier"),
    (_result("Unreadable"), "Claim", None),
])
def test_each_result_names_its_element_as_fhirpath(result: Result, resource: str, path: str | None) -> None:
    assert expression(result, resource) == path


def test_a_claims_outcome_whole() -> None:
    from cptkg.report.model import ClaimReport
    from cptkg.report.outcome import outcome

    report = ClaimReport("claims/2024 #7", "in.ndjson", "line 3", [
        _result("AddOnModifier51", line="2"), _result("NoFactsForCode", line="1", severity="Info"),
        _result("SpecialtyTypical", line="1", severity="Warning")], position=0)
    assert outcome(report, 4) == {
        "resourceType": "OperationOutcome", "id": "4-claims-2024--7",
        "meta": {"tag": [{"system": "https://w3id.org/cptkg/verdict", "code": "does-not-conform"}]},
        "extension": [{"url": "https://w3id.org/cptkg/fhir/StructureDefinition/claim-origin",
                       "valueString": "in.ndjson line 3"}],
        "issue": [
            {"severity": "error", "code": "business-rule",
             "details": {"coding": [{"system": RULE_SYSTEM, "code": "AddOnModifier51"}], "text": "fix AddOnModifier51"},
             "expression": ["Claim.item.where(sequence = 2).modifier"]},
            {"severity": "information", "code": "informational",
             "details": {"coding": [{"system": RULE_SYSTEM, "code": "NoFactsForCode"}], "text": "fix NoFactsForCode"},
             "expression": ["Claim.item.where(sequence = 1).productOrService"]},
            {"severity": "warning", "code": "business-rule",
             "details": {"coding": [{"system": RULE_SYSTEM, "code": "SpecialtyTypical"}],
                         "text": "fix SpecialtyTypical"},
             "expression": ["Claim.item.where(sequence = 1).careTeamSequence"]}]}
    quiet = outcome(ClaimReport("x" * 70 + "!", "in.json"), 12)
    assert quiet["id"] == "12-" + "x" * 61 and quiet["meta"]["tag"][0]["code"] == "conforms"
    assert quiet["issue"] == [{"severity": "information", "code": "informational",
                               "details": {"text": f"Claim {'x' * 70}! conforms: no rule found anything to fix."}}]
    skipped = outcome(ClaimReport("--", "in.json", reason="its codes are 92004"), 1)
    assert skipped["id"] == "1-claim"
    assert skipped["issue"][0]["details"]["text"] == "Claim -- not applicable: its codes are 92004."
