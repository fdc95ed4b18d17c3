"""Regenerate examples/claims/ from the case descriptions below: each case as a conforming (PASS)
and a non-conforming (XFAIL) claim, each in Turtle and in FHIR R4 JSON, and examples/expected-results.json with the
exact (rule, line, severity) results of each. One description keeps the two forms in step.

    python tools/gen_examples.py
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.kg.icd10cm import normalise as normalise_icd  # noqa: E402

OUT = ROOT / "examples" / "claims"

DOC_SYSTEM = "https://w3id.org/cptkg/documentation-element"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
DOCS = {
    "primary-procedure": "Incision and drainage, deep abscess, left thigh",
    "removal-reason": "Infected antibiotic-loaded cement beads",
    "device-location": "Subfascial beads, left thigh",
    "complications": "None encountered",
}

# A conforming claim: a primary procedure and +20701 on one date, by one orthopaedic surgeon.
BASE: dict[str, Any] = {
    "careTeam": [{"sequence": 1, "provider": "Practitioner/dr-ortho", "qualification": "207X00000X"}],
    "diagnosis": [{"sequence": 1, "code": "T84.7XXA"}],
    "items": [
        {"sequence": 1, "code": "27301", "date": "2025-03-04", "pos": "21", "quantity": 1,
         "diagnosisSequence": [1], "careTeamSequence": [1]},
        {"sequence": 2, "code": "20701", "date": "2025-03-04", "pos": "21", "quantity": 1,
         "diagnosisSequence": [1], "careTeamSequence": [1], "bodySite": ["left thigh"]},
    ],
    "docs": dict(DOCS),
}


def case(**changes: Any) -> dict[str, Any]:
    claim = copy.deepcopy(BASE)
    for key, value in changes.items():
        claim[key] = value
    return claim


def with_item(index: int, **changes: Any) -> list[dict[str, Any]]:
    items = copy.deepcopy(BASE["items"])
    items[index].update(changes)
    return [i for i in items if i.get("code") != "DROP"]


PRIMARY_20700 = {"sequence": 2, "code": "20700", "date": "2025-03-04", "pos": "21", "quantity": 1,
                 "diagnosisSequence": [1], "careTeamSequence": [1], "bodySite": ["left thigh"]}

# case name -> (note, PASS claim, XFAIL claim, expected XFAIL results[, expected PASS results]), each
# result (rule, where, severity): the severity stated here, beside the case, is the one the rule's
# shape must give (tests/test_examples.py). A PASS claim conforms with no Violation or Warning; it
# may carry Info results (NoFactsForCode).
CASES: dict[str, tuple[Any, ...]] = {
    "addon-requires-primary": (
        "+20701 needs a primary procedure on the same claim, date and rendering provider",
        case(),
        case(items=[dict(BASE["items"][1], sequence=1)]),
        [("AddOnRequiresPrimary", "line 1", "Violation")],
    ),
    "addon-requires-primary-other-date": (
        "the primary procedure must be on the same date of service",
        case(),
        case(items=with_item(0, date="2025-03-03")),
        [("AddOnRequiresPrimary", "line 2", "Violation")],
    ),
    "addon-primary-listed": (
        "+20700 lists its acceptable primaries; one of them must be on the claim",
        case(items=[BASE["items"][0], PRIMARY_20700], docs={}),
        case(items=[dict(BASE["items"][0], code="62350"), PRIMARY_20700], docs={}),
        [("AddOnPrimaryListed", "line 2", "Violation"), ("NoFactsForCode", "line 2", "Info")],
        [("NoFactsForCode", "line 2", "Info")],
    ),
    "place-of-service": (
        "20701 is typically performed at Inpatient Hospital (21) or Ambulatory Surgical Center (24); "
        "another place is a warning",
        case(items=[dict(BASE["items"][0], pos="24"), dict(BASE["items"][1], pos="24")]),
        case(items=[dict(BASE["items"][0], pos="11"), dict(BASE["items"][1], pos="11")]),
        [("PlaceOfServiceTypical", "line 2", "Warning")],
    ),
    "place-of-service-22": (
        "on-campus outpatient hospital (22), where much of this surgery is billed, is not a listed "
        "typical place: a warning, not a violation",
        case(),
        case(items=[dict(BASE["items"][0], pos="22"), dict(BASE["items"][1], pos="22")]),
        [("PlaceOfServiceTypical", "line 2", "Warning")],
    ),
    "addon-place-matches-primary": (
        "an add-on line's place of service is its primary's (a warning)",
        case(),
        case(items=with_item(1, pos="24")),
        [("AddOnPlaceMatchesPrimary", "line 2", "Warning")],
    ),
    "code-effective-on-date": (
        "20700-20705 took effect on 2020-01-01: a 2019 date of service cannot report them",
        case(),
        case(items=[dict(BASE["items"][0], date="2019-06-04"), dict(BASE["items"][1], date="2019-06-04")]),
        [("CodeEffectiveOnDate", "line 2", "Violation"), ("DiagnosisEditionMissing", "dx 1", "Warning")],
    ),
    "diagnosis-edition": (
        "the date of service decides the ICD-10-CM edition: G35 is billable on 2025-03-04 (FY2025) and a "
        "category on 2025-11-01 (FY2026 subdivided it)",
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}, {"sequence": 2, "code": "G35"}],
             items=[dict(BASE["items"][0], diagnosisSequence=[1, 2]),
                    dict(BASE["items"][1], diagnosisSequence=[1, 2])]),
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}, {"sequence": 2, "code": "G35"}],
             items=[dict(BASE["items"][0], diagnosisSequence=[1, 2], date="2025-11-01"),
                    dict(BASE["items"][1], diagnosisSequence=[1, 2], date="2025-11-01")]),
        [("DiagnosisCodeValid", "dx 2", "Violation")],
    ),
    "addon-requires-primary-procedure": (
        "a primary is a procedure (CPT Surgery section or a listed primary): an inpatient visit (99223) is not",
        case(),
        case(items=with_item(0, code="99223")),
        [("AddOnRequiresPrimary", "line 2", "Violation")],
    ),
    "addon-modifier-51": (
        "modifier 51 is not appended to an add-on code",
        case(items=with_item(1, modifiers=["LT"])),
        case(items=with_item(1, modifiers=["51"])),
        [("AddOnModifier51", "line 2", "Violation")],
    ),
    "units-per-site-modifiers": (
        "site modifiers count as anatomic sites: two units with RT and LT (a warning when they do not differ)",
        case(items=with_item(1, quantity=2, bodySite=[], modifiers=["RT", "LT"])),
        case(items=with_item(1, quantity=2, bodySite=[], modifiers=["RT"])),
        [("UnitsPerSite", "line 2", "Warning")],
    ),
    "units-per-site-lines": (
        "units of one code are counted over all its lines of a claim and date (a warning)",
        case(items=[BASE["items"][0], dict(BASE["items"][1], bodySite=["left thigh"]),
                    dict(BASE["items"][1], sequence=3, bodySite=["right thigh"])]),
        case(items=[BASE["items"][0], dict(BASE["items"][1], bodySite=["left thigh"]),
                    dict(BASE["items"][1], sequence=3, bodySite=["left thigh"])]),
        [("UnitsPerSite", "line 2", "Warning"), ("UnitsPerSite", "line 3", "Warning")],
    ),
    "seventh-character": (
        "removal is active treatment: a complication diagnosis has 7th character A, not D or S (a warning)",
        case(diagnosis=[{"sequence": 1, "code": "T85.79XA"}]),
        case(diagnosis=[{"sequence": 1, "code": "T85.79XS"}]),
        [("SeventhCharacterActiveTreatment", "line 2", "Warning")],
    ),
    "osteomyelitis-beads": (
        "bead removal for chronic osteomyelitis, the guidance's own use of the family: M86.- evidences the "
        "osteomyelitis indication; the diagnosis is still carried to its last character",
        case(diagnosis=[{"sequence": 1, "code": "M86.652"}]),
        case(diagnosis=[{"sequence": 1, "code": "M86.65"}]),
        [("DiagnosisCodeValid", "dx 1", "Violation")],
    ),
    "no-facts-for-code": (
        "+20705 has no places or specialties in the graph: an Info result says what was not judged",
        case(),
        case(diagnosis=[{"sequence": 1, "code": "Z00.00"}],
             items=[dict(BASE["items"][0], pos="11"), dict(BASE["items"][1], code="20705", pos="11")]),
        [("NoFactsForCode", "line 2", "Info")],
    ),
    "specialty": (
        "the rendering provider's taxonomy is a listed specialty or below one (a warning)",
        case(careTeam=[{"sequence": 1, "provider": "Practitioner/dr-spine",
                        "qualification": "207XS0117X"}]),
        case(careTeam=[{"sequence": 1, "provider": "Practitioner/dr-plastic",
                        "qualification": "208200000X"}]),
        [("SpecialtyTypical", "line 2", "Warning")],
    ),
    "diagnosis-supports-necessity": (
        "20701's line must point to a diagnosis that evidences a reason for removal",
        case(diagnosis=[{"sequence": 1, "code": "T85.79XA"}]),
        case(diagnosis=[{"sequence": 1, "code": "G80.0"}]),
        [("DiagnosisSupportsNecessity", "line 2", "Violation")],
    ),
    "diagnosis-code-valid": (
        "every diagnosis is a billable ICD-10-CM code (T-codes need their 7th character)",
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}, {"sequence": 2, "code": "M62.838"}]),
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}, {"sequence": 2, "code": "T847"}]),
        [("DiagnosisCodeValid", "dx 2", "Violation")],
    ),
    "diagnosis-pointer": (
        "every diagnosis pointer of a line names a diagnosis of the claim",
        case(),
        case(items=with_item(1, diagnosisSequence=[1, 3])),
        [("DiagnosisPointerResolves", "line 2", "Violation")],
    ),
    "procedure-code-format": (
        "procedure codes are well-formed CPT or HCPCS codes",
        case(),
        case(items=[*BASE["items"], {"sequence": 3, "code": "2730", "date": "2025-03-04", "pos": "21",
                                     "quantity": 1, "diagnosisSequence": [1], "careTeamSequence": [1]}]),
        [("ProcedureCodeFormat", "line 3", "Violation")],
    ),
    "excluded-pair": (
        "guidance: do not report 20700 in conjunction with 11981",
        case(items=[BASE["items"][0], PRIMARY_20700], docs={}),
        case(items=[BASE["items"][0], PRIMARY_20700,
                    {"sequence": 3, "code": "11981", "date": "2025-03-04", "pos": "21",
                     "quantity": 1, "diagnosisSequence": [1], "careTeamSequence": [1]}], docs={}),
        [("ExcludedCodePair", "line 2", "Violation"),
         ("ExcludedCodePair", "line 3", "Violation"),
         ("NoFactsForCode", "line 2", "Info")],
        [("NoFactsForCode", "line 2", "Info")],
    ),
    "documentation": (
        "20701 documentation includes the article's four elements (a warning per missing one)",
        case(),
        case(docs={k: v for k, v in DOCS.items() if k in ("primary-procedure", "removal-reason")}),
        [("DocumentationComplete", "line 2", "Warning"), ("DocumentationComplete", "line 2", "Warning")],
    ),
    "pump-removal": (
        "20701 in an intrathecal pump context: guidance codes pump removal as 62365 (a warning)",
        case(),
        case(items=with_item(0, code="62362")),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "units-per-site": (
        "the family codes are reported once per anatomic site (a warning)",
        case(items=with_item(1, quantity=2, bodySite=["left thigh", "right thigh"])),
        case(items=with_item(1, quantity=2)),
        [("UnitsPerSite", "line 2", "Warning")],
    ),
    "structure": (
        "every line has one date, one place of service and a positive whole quantity",
        case(),
        case(items=[dict(BASE["items"][0], pos=None, date=None), dict(BASE["items"][1], quantity=0)]),
        [("AddOnRequiresPrimary", "line 2", "Violation"), ("ItemHasOneDate", "line 1", "Violation"),
         ("ItemHasOnePlaceOfService", "line 1", "Violation"), ("ItemQuantityPositive", "line 2", "Violation")],
    ),
    "structure-codes": (
        "every line reports one procedure code and every diagnosis has one ICD-10-CM code",
        case(),
        case(items=with_item(0, code=["27301", "27303"]),
             diagnosis=[{"sequence": 1, "code": "T84.7XXA"}, {"sequence": 2, "code": ["M62.838", "R25.2"]}]),
        [("DiagnosisHasOneCode", "dx 2", "Violation"), ("ItemHasOneCode", "line 1", "Violation")],
    ),
    # One XFAIL per clause: each case below is caught by one condition of a rule only, and its
    # PASS twin differs in that one respect (mutation testing found these clauses unpinned).
    "addon-requires-primary-other-provider": (
        "the primary procedure must be by the same rendering provider",
        case(careTeam=[*BASE["careTeam"], {"sequence": 2, "provider": "Practitioner/dr-ortho",
                                           "qualification": "207X00000X"}],
             items=with_item(0, careTeamSequence=[2])),
        case(careTeam=[*BASE["careTeam"], {"sequence": 2, "provider": "Practitioner/dr-other",
                                           "qualification": "207X00000X"}],
             items=with_item(0, careTeamSequence=[2])),
        [("AddOnRequiresPrimary", "line 2", "Violation")],
    ),
    "addon-requires-primary-not-addon": (
        "another add-on line is not a primary procedure",
        case(),
        case(items=with_item(0, code="20702", bodySite=["left tibia"])),
        [("AddOnRequiresPrimary", "line 1", "Violation"),
         ("AddOnRequiresPrimary", "line 2", "Violation"),
         ("NoFactsForCode", "line 1", "Info")],
    ),
    "addon-requires-primary-self": (
        "a line is not its own primary, even when it also reports a primary code",
        case(),
        case(items=[dict(BASE["items"][1], sequence=1, code=["20701", "27301"])]),
        [("AddOnRequiresPrimary", "line 1", "Violation"), ("ItemHasOneCode", "line 1", "Violation")],
    ),
    "excluded-pair-other-date": (
        "20700 and 11981 are excluded together on one date only",
        case(items=[BASE["items"][0], PRIMARY_20700,
                    {"sequence": 3, "code": "11981", "date": "2025-03-05", "pos": "21",
                     "quantity": 1, "diagnosisSequence": [1], "careTeamSequence": [1]}], docs={}),
        case(items=[BASE["items"][0], PRIMARY_20700,
                    {"sequence": 3, "code": "11981", "date": "2025-03-04", "pos": "21",
                     "quantity": 1, "diagnosisSequence": [1], "careTeamSequence": [1]}], docs={}),
        [("ExcludedCodePair", "line 2", "Violation"),
         ("ExcludedCodePair", "line 3", "Violation"),
         ("NoFactsForCode", "line 2", "Info")],
        [("NoFactsForCode", "line 2", "Info")],
    ),
    "diagnosis-supports-necessity-pointed": (
        "only the diagnoses the 20701 line points to support it, not every diagnosis of the claim",
        case(diagnosis=[{"sequence": 1, "code": "G80.0"}, {"sequence": 2, "code": "T84.7XXA"}],
             items=[dict(BASE["items"][0], diagnosisSequence=[1]), dict(BASE["items"][1], diagnosisSequence=[2])]),
        case(diagnosis=[{"sequence": 1, "code": "G80.0"}, {"sequence": 2, "code": "T84.7XXA"}],
             items=[dict(BASE["items"][0], diagnosisSequence=[2]), dict(BASE["items"][1], diagnosisSequence=[1])]),
        [("DiagnosisSupportsNecessity", "line 2", "Violation")],
    ),
    "pump-removal-diagnosis": (
        "an intrathecal catheter complication alone (no pump code) is a pump context (a warning)",
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}]),
        case(diagnosis=[{"sequence": 1, "code": "T85.735A"}]),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "pump-removal-pump-diagnosis": (
        "an infected intrathecal pump (T85.738A: NCHS inclusion term) is a pump context (a warning)",
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}]),
        case(diagnosis=[{"sequence": 1, "code": "T85.738A"}]),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "pump-replacement": (
        "a pump replacement (62362) includes removing the old pump: the warning says neither 20701 nor 62365",
        case(diagnosis=[{"sequence": 1, "code": "T84.7XXA"}]),
        case(diagnosis=[{"sequence": 1, "code": "T85.738A"}], items=with_item(0, code="62362")),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "documentation-information-sequence": (
        "where a line lists informationSequence, only that supporting information documents it",
        case(items=with_item(1, informationSequence=[1, 2, 3, 4])),
        case(items=with_item(1, informationSequence=[1, 2])),
        [("DocumentationComplete", "line 2", "Warning"), ("DocumentationComplete", "line 2", "Warning")],
    ),
    "place-of-service-format": (
        "a place of service is a two-digit CMS code",
        case(),
        case(items=with_item(1, pos="211")),
        [("AddOnPlaceMatchesPrimary", "line 2", "Warning"), ("ItemHasOnePlaceOfService", "line 2", "Violation"),
         ("PlaceOfServiceTypical", "line 2", "Warning")],
    ),
    "procedure-code-hcpcs": (
        "an HCPCS Level II code is a letter A to V and four digits",
        case(items=[*BASE["items"], {"sequence": 3, "code": "J3490", "hcpcs": True, "date": "2025-03-04",
                                     "pos": "21", "quantity": 1, "diagnosisSequence": [1],
                                     "careTeamSequence": [1]}]),
        case(items=[*BASE["items"], {"sequence": 3, "code": "W3490", "hcpcs": True, "date": "2025-03-04",
                                     "pos": "21", "quantity": 1, "diagnosisSequence": [1],
                                     "careTeamSequence": [1]}]),
        [("ProcedureCodeFormat", "line 3", "Violation")],
    ),
}

PUMP_DOCS = {"primary-procedure": "Revision of intrathecal catheter",
             "removal-reason": "Infected baclofen pump", "device-location": "Subfascial, abdomen",
             "complications": "None encountered"}
# The article's three examples (its primary procedures are not named; 62350 stands in for one).
ARTICLE = {
    "article-example-1": (
        "A patient with cerebral palsy has a baclofen pump that has become infected: 20701 with the "
        "primary procedure code. Conforms; the guidance warns that pump removal is 62365.",
        case(careTeam=[{"sequence": 1, "provider": "Practitioner/dr-neuro", "qualification": "207T00000X"}],
             diagnosis=[{"sequence": 1, "code": "T85.738A"}, {"sequence": 2, "code": "G80.0"}],
             items=[dict(BASE["items"][0], code="62350", diagnosisSequence=[1, 2]),
                    dict(BASE["items"][1], diagnosisSequence=[1, 2], bodySite=["abdomen"])],
             docs=PUMP_DOCS),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "article-example-2": (
        "A baclofen pump separated from its catheter: 20701 with the primary procedure code. "
        "Conforms; the guidance warns that pump removal is 62365.",
        case(careTeam=[{"sequence": 1, "provider": "Practitioner/dr-pain", "qualification": "208VP0014X"}],
             diagnosis=[{"sequence": 1, "code": "T85.690A"}],
             items=[dict(BASE["items"][0], code="62350", pos="24"),
                    dict(BASE["items"][1], pos="24", bodySite=["abdomen"])],
             docs=dict(PUMP_DOCS, **{"removal-reason": "Separation of pump and catheter"})),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
    "article-example-3": (
        "A dislocated baclofen pump replaced: 20701 for removal along with the code for pump "
        "insertion (62362). Conforms; the guidance warns that pump removal is 62365.",
        case(careTeam=[{"sequence": 1, "provider": "Practitioner/dr-neuro", "qualification": "207T00000X"}],
             diagnosis=[{"sequence": 1, "code": "T85.625A"}],
             items=[dict(BASE["items"][0], code="62362"), dict(BASE["items"][1], bodySite=["abdomen"])],
             docs=dict(PUMP_DOCS, **{"removal-reason": "Dislocated pump",
                                    "primary-procedure": "Replacement of programmable pump"})),
        [("PumpRemovalCode", "line 2", "Warning")],
    ),
}


# The example rule pack (examples/rule-packs/payer-strict): a payer that pays the family only at
# places of service 21, 22 and 24 and wants a prior-authorization number on 20701 claims. Its
# claims are judged by the built-in rules and the pack's; the expected results are both.
PACK = ROOT / "examples" / "rule-packs" / "payer-strict"
AUTHORIZED = case(preAuth=["PA-2025-0142"])
PACK_CASES: dict[str, tuple[Any, ...]] = {
    "payer-place-of-service": (
        "the payer pays +20701 only at places of service 21, 22 or 24 (a Violation of its own, beside "
        "the built-in PlaceOfServiceTypical warning)",
        AUTHORIZED,
        case(preAuth=["PA-2025-0142"], items=[dict(BASE["items"][0], pos="11"), dict(BASE["items"][1], pos="11")]),
        [("PayerPlaceOfServiceRequired", "line 2"), ("PlaceOfServiceTypical", "line 2")],
    ),
    "payer-prior-authorization": (
        "the payer wants a prior-authorization number (Claim.insurance.preAuthRef) on a claim with +20701",
        AUTHORIZED,
        case(),
        [("PayerPriorAuthorizationRequired", "claim")],
    ),
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def fhir(claim_id: str, claim: dict[str, Any]) -> dict[str, Any]:
    docs = list(claim["docs"].items())
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": claim_id.replace("_", "-"),
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": "Patient/example"},
        "created": "2025-03-05",
        "provider": {"reference": "Organization/example-clinic"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/example"},
                       **({"preAuthRef": claim["preAuth"]} if claim.get("preAuth") else {})}],
        "careTeam": [
            {"sequence": m["sequence"], "provider": {"reference": m["provider"]},
             "qualification": {"coding": [{"system": "http://nucc.org/provider-taxonomy",
                                           "code": m["qualification"]}]}}
            for m in claim["careTeam"]
        ],
        "diagnosis": [
            {"sequence": d["sequence"],
             "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                      "code": code} for code in as_list(d["code"])]}}
            for d in claim["diagnosis"]
        ],
        "item": [],
    }
    if docs:
        resource["supportingInfo"] = [
            {"sequence": n, "category": {"coding": [{"system": DOC_SYSTEM, "code": key}]},
             "valueString": value}
            for n, (key, value) in enumerate(docs, 1)
        ]
    for item in claim["items"]:
        entry: dict[str, Any] = {
            "sequence": item["sequence"],
            "careTeamSequence": item["careTeamSequence"],
            "diagnosisSequence": item["diagnosisSequence"],
            "productOrService": {"coding": [{"system": HCPCS_SYSTEM if item.get("hcpcs") else CPT_SYSTEM,
                                             "code": code} for code in as_list(item["code"])]},
            "quantity": {"value": item["quantity"]},
        }
        if item.get("date"):
            entry["servicedDate"] = item["date"]
        if item.get("pos"):
            entry["locationCodeableConcept"] = {"coding": [{
                "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                "code": item["pos"]}]}
        if item.get("informationSequence"):
            entry["informationSequence"] = item["informationSequence"]
        if item.get("modifiers"):
            entry["modifier"] = [{"coding": [{"system": CPT_SYSTEM, "code": m}]} for m in item["modifiers"]]
        if item.get("bodySite"):
            entry["bodySite"] = {"text": item["bodySite"][0]} if len(item["bodySite"]) == 1 else {
                "coding": [{"code": s} for s in item["bodySite"]]}
        resource["item"].append(entry)
    return resource


def turtle(claim_id: str, claim: dict[str, Any], note: str) -> str:
    c = f"ex:{claim_id}"
    lines = [
        "@prefix cptkg: <https://w3id.org/cptkg/ontology#> .",
        "@prefix cpt: <https://w3id.org/cptkg/cpt/> .",
        "@prefix hcpcs: <https://w3id.org/cptkg/hcpcs/> .",
        "@prefix pos: <https://w3id.org/cptkg/pos/> .",
        "@prefix nucc: <https://w3id.org/cptkg/nucc/> .",
        "@prefix icd10cm: <https://w3id.org/cptkg/icd10cm/> .",
        "@prefix docel: <https://w3id.org/cptkg/documentation-element/> .",
        "@prefix mod: <https://w3id.org/cptkg/modifier/> .",
        "@prefix ex: <https://example.org/claims/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "",
        f"# {note}",
        f"{c} a cptkg:Claim ;",
    ]
    def refs(kind: str, numbers: list[int]) -> str:
        return ", ".join(f"{c}-{kind}-{n}" for n in numbers)

    parts = [f"    cptkg:item {refs('item', [i['sequence'] for i in claim['items']])}",
             f"    cptkg:diagnosis {refs('dx', [d['sequence'] for d in claim['diagnosis']])}",
             f"    cptkg:careTeam {refs('ct', [m['sequence'] for m in claim['careTeam']])}"]
    if claim["docs"]:
        parts.append(f"    cptkg:supportingInfo {refs('info', list(range(1, len(claim['docs']) + 1)))}")
    if claim.get("preAuth"):
        parts.append("    cptkg:priorAuthorization " + ", ".join(json.dumps(n) for n in claim["preAuth"]))
    lines.append(" ;\n".join(parts) + " .")
    for item in claim["items"]:
        props = [f"cptkg:sequence {item['sequence']}"]
        scheme = "hcpcs" if item.get("hcpcs") else "cpt"
        props += [f"cptkg:productOrService {scheme}:{code}" for code in as_list(item["code"])]
        if item.get("date"):
            props.append(f'cptkg:servicedDate "{item["date"]}"^^xsd:date')
        props.append(f"cptkg:quantity {item['quantity']}")
        if item.get("pos"):
            props.append(f"cptkg:location pos:{item['pos']}")
        props += [f"cptkg:diagnosisSequence {s}" for s in item["diagnosisSequence"]]
        props += [f"cptkg:careTeamSequence {s}" for s in item["careTeamSequence"]]
        props += [f"cptkg:informationSequence {s}" for s in item.get("informationSequence", [])]
        props += [f'cptkg:bodySite "{s}"' for s in item.get("bodySite", [])]
        props += [f"cptkg:modifier mod:{m}" for m in item.get("modifiers", [])]
        lines.append(f"\n{c}-item-{item['sequence']} a cptkg:ClaimItem ;\n    " + " ;\n    ".join(props) + " .")
    for d in claim["diagnosis"]:
        codes = ", ".join(f"icd10cm:{normalise_icd(code)}" for code in as_list(d["code"]))
        lines.append(f"\n{c}-dx-{d['sequence']} a cptkg:ClaimDiagnosis ;\n    cptkg:sequence {d['sequence']} ;\n"
                     f"    cptkg:diagnosisCode {codes} .")
    for m in claim["careTeam"]:
        lines.append(f"\n{c}-ct-{m['sequence']} a cptkg:CareTeamMember ;\n    cptkg:sequence {m['sequence']} ;\n"
                     f"    cptkg:provider <urn:cptkg:fhir:{m['provider']}> ;\n"
                     f"    cptkg:qualification nucc:{m['qualification']} .")
    for n, (key, value) in enumerate(claim["docs"].items(), 1):
        lines.append(f"\n{c}-info-{n} a cptkg:SupportingInformation ;\n    cptkg:sequence {n} ;\n"
                     f"    cptkg:category docel:{key} ;\n    cptkg:value {json.dumps(value)} .")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {}

    def write(name: str, claim: dict[str, Any], note: str, results: list[tuple[str, str, str]]) -> None:
        (OUT / f"{name}.json").write_text(json.dumps(fhir(name, claim), indent=2) + "\n")
        (OUT / f"{name}.ttl").write_text(turtle(name, claim, note))
        expected[name] = {"note": note, "results": sorted([list(r) for r in results])}

    for name, (note, good, bad, results, *pass_results) in CASES.items():
        write(f"{name}_PASS", good, note + " (conforming)", pass_results[0] if pass_results else [])
        write(f"{name}_XFAIL", bad, note + " (not conforming)", results)
    for name, (note, claim, results) in ARTICLE.items():
        write(name, claim, note, results)
    pack_expected: dict[str, Any] = {}
    (PACK / "claims").mkdir(parents=True, exist_ok=True)
    for name, (note, good, bad, results) in PACK_CASES.items():
        for suffix, claim, found, said in (("PASS", good, [], "conforming"), ("XFAIL", bad, results, "not conforming")):
            stem = f"{name}_{suffix}"
            (PACK / "claims" / f"{stem}.json").write_text(json.dumps(fhir(stem, claim), indent=2) + "\n")
            pack_expected[stem] = {"note": f"{note} ({said})", "results": sorted([list(r) for r in found])}
    (PACK / "expected-results.json").write_text(json.dumps(pack_expected, indent=1, sort_keys=True) + "\n")
    # examples/inputs (tools/gen_inputs.py) keep their entries.
    target = OUT.parent / "expected-results.json"
    if target.exists():
        expected.update({k: v for k, v in json.loads(target.read_text()).items() if k.startswith("inputs/")})
    target.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
