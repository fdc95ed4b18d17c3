"""Write examples/inputs/: claims laid out the way others send them (FHIR Bundles with references,
detail lines, OIDs, an ExplanationOfBenefit, NDJSON, X12 837P and 837I), and their exact expected
results into examples/expected-results.json under "inputs/<file>".

    python tools/gen_inputs.py

The layouts follow what the public formats allow (HL7 FHIR R4 Claim/EOB and Bundle, Da Vinci PAS,
X12 005010X222A1); every name, identifier and NPI here is made up (1234567893 and 1245319599 are
check-digit-valid test NPIs). The expected results are written by hand from the rules, not taken
from cptkg's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "inputs"
EXPECTED = ROOT / "examples" / "expected-results.json"
# Each expected result is (rule, where, severity): the severity stated beside the case, as in
# tools/gen_examples.py; an unreadable claim's one result:
UNREADABLE = ["Unreadable", "claim", "Violation"]

CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC = "http://nucc.org/provider-taxonomy"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
DOC = "https://w3id.org/cptkg/documentation-element"
NDC = "http://hl7.org/fhir/sid/ndc"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
SNOMED = "http://snomed.info/sct"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
DOCS = [("primary-procedure", "Incision and drainage, deep abscess, left thigh"),
        ("removal-reason", "Infected antibiotic cement spacer"),
        ("device-location", "Subfascial, left thigh"), ("complications", "None encountered")]


def coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def item(sequence: int, system: str, code: str, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"sequence": sequence, "productOrService": coded(system, code)}
    out.update(more)
    return out


def line(sequence: int, code: str, day: str = "2025-03-04", pos: str = "21", **more: Any) -> dict[str, Any]:
    return item(sequence, CPT, code, servicedDate=day, locationCodeableConcept=coded(POS, pos),
                quantity={"value": 1}, diagnosisSequence=[1], careTeamSequence=[1], **more)


def claim(claim_id: str, items: list[dict[str, Any]], kind: str = "Claim", **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": kind, "id": claim_id, "status": "active",
        "type": coded("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim", "patient": {"reference": "Patient/pat-1"}, "created": "2025-03-05",
        "provider": {"reference": "Organization/clinic-1"},
        "priority": coded("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-1"}}],
        "careTeam": [{"sequence": 1, "provider": {"reference": "Practitioner/dr-ortho"},
                      "qualification": coded(NUCC, "207X00000X")}],
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": coded(ICD, "T84.7XXA")}],
        "supportingInfo": [{"sequence": n, "category": coded(DOC, c), "valueString": v}
                           for n, (c, v) in enumerate(DOCS, 1)],
        "item": items,
    }
    out.update(more)
    return out


def eob(claim_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    out = claim(claim_id, items, kind="ExplanationOfBenefit")
    del out["priority"]
    out.update({"outcome": "complete", "insurer": {"reference": "Organization/payer-1"},
                "insurance": [{"focal": True, "coverage": {"reference": "Coverage/cov-1"}}]})
    return out


def resource(kind: str, rid: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": kind, "id": rid, **more}


# --------------------------------------------------------------------------------------- FHIR
def multiline() -> dict[str, Any]:
    """27301 and 20701 beside an NDC drug line, a revenue-code line and a SNOMED CT-only line; the
    primary has no quantity (FHIR makes it optional: 1 unit)."""
    primary = line(1, "27301")
    del primary["quantity"]
    return claim("multiline-1", [
        primary,
        line(2, "20701", modifier=[coded(CPT, "LT")], bodySite=coded(SNOMED, "62413002", "Left thigh")),
        item(3, NDC, "0409-4888-02", servicedDate="2025-03-04", quantity={"value": 2}),
        item(4, REVENUE, "0360", servicedDate="2025-03-04"),
        item(5, SNOMED, "177271008", servicedDate="2025-03-04"),
    ])


def pas_bundle() -> dict[str, Any]:
    """A Da Vinci PAS-style request: the Claim first, then what it references by urn:uuid; the
    diagnosis is a diagnosisReference, the specialty comes from the Practitioner; line 3 is
    cancelled with the PAS modifier extension."""
    pas_claim = claim("pas-1", [
        line(1, "27301"),
        line(2, "20701"),
        line(3, "20680", modifierExtension=[{"url": PAS + "extension-itemCancelled", "valueBoolean": True}]),
    ], use="preauthorization")
    pas_claim["patient"] = {"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000001"}
    pas_claim["provider"] = {"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000002"}
    pas_claim["insurer"] = {"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000003"}
    pas_claim["insurance"][0]["coverage"] = {"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000004"}
    pas_claim["careTeam"] = [{"sequence": 1,
                              "provider": {"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000005"}}]
    pas_claim["diagnosis"] = [{"sequence": 1, "diagnosisReference": {
        "reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000006"}}]
    entries = [
        ("0000", pas_claim),
        ("0001", resource("Patient", "pat-1", name=[{"family": "Doe", "given": ["Jane"]}], gender="female",
                          birthDate="1970-01-01")),
        ("0002", resource("Organization", "clinic-1", name="Example Orthopaedic Clinic",
                          identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1245319599"}])),
        ("0003", resource("Organization", "payer-1", name="Example Health Plan")),
        ("0004", resource("Coverage", "cov-1", status="active",
                          beneficiary={"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000001"},
                          payor=[{"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000003"}])),
        ("0005", resource("Practitioner", "dr-ortho", name=[{"family": "Surgeon", "given": ["Anna"]}],
                          identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
                          qualification=[{"code": coded(NUCC, "207X00000X", "Orthopaedic Surgery")}])),
        ("0006", resource("Condition", "cond-1", subject={"reference": "urn:uuid:2b6cde0a-0001-4000-8000-000000000001"},
                          code=coded(ICD, "T84.7XXA"))),
    ]
    return {"resourceType": "Bundle", "id": "pas-request-1", "type": "collection",
            "timestamp": "2025-03-05T09:00:00-05:00",
            "entry": [{"fullUrl": f"urn:uuid:2b6cde0a-0001-4000-8000-00000000{n}", "resource": r}
                      for n, r in entries]}


def detail_lines() -> dict[str, Any]:
    """20701 billed in a detail line (2.1) of a local package line, on the day after its primary
    (line 1, with a HCPCS drug detail 1.1 and its NDC sub-detail 1.1.1)."""
    package = item(2, "http://example.org/fhir/CodeSystem/surgical-packages", "removal-package",
                   servicedDate="2025-03-05", locationCodeableConcept=coded(POS, "21"),
                   diagnosisSequence=[1], careTeamSequence=[1], bodySite={"text": "left thigh"})
    package["detail"] = [item(1, CPT, "20701", quantity={"value": 1})]
    primary = line(1, "27301")
    primary["detail"] = [item(1, "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J0475",
                              quantity={"value": 1}, subDetail=[item(1, NDC, "70860-0700-41", quantity={"value": 1})])]
    return claim("detail-1", [primary, package])


def oid_coded() -> dict[str, Any]:
    """Codes under HL7 OIDs and the spellings senders use (lower case, http, a trailing slash); the
    20701 line dates itself by a servicedPeriod with only an end, late in the evening US Pacific
    time (the calendar day stays the claim's own)."""
    data = claim("oid-1", [line(1, "27301"), line(2, "20701")])
    data["item"][0]["productOrService"] = coded("urn:oid:2.16.840.1.113883.6.12", "27301")
    data["item"][0]["locationCodeableConcept"] = coded(POS.lower(), "21")
    second = data["item"][1]
    second["productOrService"] = coded("urn:oid:2.16.840.1.113883.6.12", "20701")
    del second["servicedDate"]
    second["servicedPeriod"] = {"end": "2025-03-04T22:30:00-08:00"}
    second["locationCodeableConcept"] = coded("urn:oid:2.16.840.1.113883.6.50", "21")
    data["diagnosis"][0]["diagnosisCodeableConcept"] = coded("urn:oid:2.16.840.1.113883.6.90", "T847XXA")
    data["careTeam"][0]["qualification"] = coded("http://nucc.org/provider-taxonomy/", "207X00000X")
    return data


def explanation_of_benefit() -> dict[str, Any]:
    """A paid claim, audited after the fact: 20701 without its primary procedure."""
    return eob("eob-1", [line(1, "20701")])


def ndjson_lines() -> list[dict[str, Any]]:
    good = claim("day1-1", [line(1, "27301"), line(2, "20701")])
    vision = claim("day1-2", [line(1, "92004", pos="11")])
    vision["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": coded(ICD, "H52.4")}]
    voided = claim("day1-3", [line(1, "27301"), line(2, "20701")], status="entered-in-error")
    unknown_ext = claim("day1-4", [line(1, "27301"), line(2, "20701")])
    unknown_ext["item"][1]["modifierExtension"] = [{"url": "http://example.org/fhir/StructureDefinition/line-void",
                                                    "valueBoolean": True}]
    lost_condition = claim("day1-5", [line(1, "27301"), line(2, "20701")])
    lost_condition["diagnosis"] = [{"sequence": 1, "diagnosisReference": {"reference": "Condition/not-sent"}}]
    who = claim("day1-6", [line(1, "27301"), line(2, "20701")])
    who["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": coded("http://hl7.org/fhir/sid/icd-10", "T84.7")}]
    searchset = {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [
        {"fullUrl": "https://payer.example.org/fhir/ExplanationOfBenefit/day1-7",
         "resource": eob("day1-7", [line(1, "27301"), line(2, "20701")]), "search": {"mode": "match"}},
        {"fullUrl": "https://payer.example.org/fhir/Patient/pat-1", "resource": resource("Patient", "pat-1"),
         "search": {"mode": "include"}}]}
    unknown_provider = claim("day1-8", [line(1, "27301"), line(2, "20701")])
    del unknown_provider["careTeam"][0]["qualification"]
    return [good, vision, voided, unknown_ext, lost_condition, who, searchset, unknown_provider]


# ---------------------------------------------------------------------------------------- X12
def _isa(control: str) -> str:
    return (f"ISA*00*          *00*          *ZZ*CLINICSUBMIT   *ZZ*PAYERRECEIVE   *250305*0900*^*00501*"
            f"{control}*0*T*:")


def _envelope(version: str, claims: list[list[str]], control: str = "000000101", kind: str = "HC") -> list[str]:
    body = [f"ST*837*0001*{version}", "BHT*0019*00*BATCH1*20250305*0900*CH",
            "NM1*41*2*EXAMPLE ORTHO BILLING*****46*TGJ23", "PER*IC*BILLING OFFICE*TE*5555550100",
            "NM1*40*2*EXAMPLE HEALTH PLAN*****46*66783JJT",
            "HL*1**20*1", "PRV*BI*PXC*207X00000X", "NM1*85*2*EXAMPLE ORTHOPAEDIC CLINIC*****XX*1245319599",
            "N3*100 MAIN ST", "N4*SPRINGFIELD*IL*627011234", "REF*EI*123456789"]
    hl = 1
    for segments in claims:
        hl += 1
        body += [f"HL*{hl}*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*DOE*JANE****MI*MEMBER{hl:04d}",
                 "N3*1 ELM ST", "N4*SPRINGFIELD*IL*627011234", "DMG*D8*19700101*F",
                 "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*66783JJT", *segments]
    body.append(f"SE*{len(body) + 1}*0001")
    return [_isa(control), f"GS*{kind}*CLINICSUBMIT*PAYERRECEIVE*20250305*0900*1*X*{version}", *body,
            "GE*1*1", f"IEA*1*{control}"]


def _claim(clm: str, lines: list[list[str]], dx: str = "HI*ABK:T847XXA", pos: str = "21",
           provider: tuple[str, str] | None = ("1234567893", "207X00000X")) -> list[str]:
    out = [f"CLM*{clm}*1500***{pos}:B:1*Y*A*Y*Y", dx]
    if provider:
        out += [f"NM1*82*1*SURGEON*ANNA****XX*{provider[0]}", f"PRV*PE*PXC*{provider[1]}"]
    for number, segments in enumerate(lines, 1):
        out += [f"LX*{number}", *segments]
    return out


def _sv1(code: str, units: str = "1", pointers: str = "1", pos: str = "", day: str = "D8*20250304") -> list[str]:
    return [f"SV1*HC:{code}*500*UN*{units}*{pos}**{pointers}", f"DTP*472*{day}"]


def professional_837p() -> tuple[str, list[dict[str, Any]]]:
    """Twenty claims: conforming pairs, line-level rendering providers that differ from the claim's,
    office visits and MRIs (not applicable), an add-on without its primary, an office place of
    service on a line, modifiers and date ranges."""
    claims: list[list[str]] = []
    expected: list[dict[str, Any]] = []
    # 837P carries no documentation elements: one warning for each of the four 20701 needs.
    warn = [["DocumentationComplete", "line 2", "Warning"]] * 4
    for n in range(1, 21):
        clm = f"PCN{n:04d}"
        if n <= 6:  # 27301 and 20701 with LT, one rendering provider at claim level
            lines = [_sv1("27301"), _sv1("20701:LT", day="RD8*20250304-20250305")]
            result = ("conforms", warn)
        elif n <= 9:  # the 20701 line's rendering provider (2420A) is not the primary's
            lines = [_sv1("27301"),
                     [*_sv1("20701:LT"), "NM1*82*1*OTHER*BOB****XX*1245319599", "PRV*PE*PXC*207X00000X"]]
            result = ("does-not-conform", [["AddOnRequiresPrimary", "line 2", "Violation"], *warn])
        elif n <= 12:  # line-level provider, the same surgeon as the claim's: conforming
            lines = [_sv1("27301"),
                     [*_sv1("20701:59:LT"), "NM1*82*1*SURGEON*ANNA****XX*1234567893", "PRV*PE*PXC*207X00000X"]]
            result = ("conforms", warn)
        elif n <= 15:  # office visit and MRI: nothing for the drug-delivery rules
            lines = [_sv1("99213", pos="11"), _sv1("70551", pos="11")]
            result = ("not-applicable", [])
        elif n <= 17:  # 20701 alone: no primary procedure
            lines = [_sv1("20701")]
            result = ("does-not-conform",
                      [["AddOnRequiresPrimary", "line 1", "Violation"],
                       *[["DocumentationComplete", "line 1", "Warning"]] * 4])
        else:  # 20701 in the office (SV105 11 overrides CLM05-1 21): not typical, not its primary's place
            lines = [_sv1("27301"), _sv1("20701", pos="11")]
            result = ("conforms", [["AddOnPlaceMatchesPrimary", "line 2", "Warning"],
                                   ["PlaceOfServiceTypical", "line 2", "Warning"], *warn])
        claims.append(_claim(clm, lines))
        expected.append({"claim": clm, "verdict": result[0], "results": sorted(result[1])})
    segments = _envelope("005010X222A1", claims)
    number = 0
    for claim_segments, want in zip(claims, expected, strict=True):
        number = segments.index(claim_segments[0], number) + 1
        want["where"] = f"segment {number}"
    return "~\n".join(segments) + "~\n", expected


def broken_837p() -> tuple[str, list[dict[str, Any]]]:
    """Three claims with a byte-order mark, CR/LF and indentation: the middle claim's SV1 has a unit
    of measure but no units (a syntax error), and the SE count is wrong; the first and last are
    still validated."""
    claims = [_claim("GOOD0001", [_sv1("27301"), _sv1("20701")]),
              _claim("BAD00002", [["SV1*HC:27301*500*UN****1", "DTP*472*D8*20250304"], _sv1("20701")]),
              _claim("GOOD0003", [_sv1("27301"), _sv1("20701")])]
    segments = _envelope("005010X222A1", claims, control="000000102")
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = "SE*999*0001"
    starts = [segments.index(c[0]) + 1 for c in claims]
    warn = [["DocumentationComplete", "line 2", "Warning"]] * 4
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    expected = [
        {"claim": "GOOD0001", "verdict": "conforms", "where": f"segment {starts[0]}", "results": warn},
        {"claim": "BAD00002", "verdict": "unreadable", "where": f"segment {starts[1]}",
         "results": [UNREADABLE]},
        {"claim": "GOOD0003", "verdict": "conforms", "where": f"segment {starts[2]}", "results": warn},
        # pyx12 reports a wrong SE count on the ST segment that opens the transaction set.
        {"claim": "envelope", "verdict": "unreadable", "where": f"segment {st + 1}",
         "results": [UNREADABLE]},
    ]
    text = "\ufeff" + "~\r\n".join(("  " + s if s.startswith(("SV1", "DTP", "LX")) else s) for s in segments) + "~\r\n"
    return text, expected


def institutional_837i() -> str:
    claims = [["CLM*INST0001*2500***13:A:1**A*Y*Y", "HI*ABK:T847XXA", "LX*1",
               "SV2*0360*HC:20701*2500*UN*1", "DTP*472*D8*20250304"]]
    return "~\n".join(_envelope("005010X223A2", claims, control="000000103")) + "~\n"


def fhir_expected() -> dict[str, dict[str, Any]]:
    return {
        "inputs/multiline-ndc-revenue.json": {
            "note": "NDC, revenue-code and SNOMED CT lines are kept as other lines and judged by no rule; "
                    "20701 is judged (conforming)",
            "claims": [{"claim": "multiline-1", "verdict": "conforms", "where": None, "results": []}]},
        "inputs/pas-bundle.json": {
            "note": "a PAS Bundle: one claim (the Patient, Organizations, Coverage, Practitioner and Condition "
                    "are not claims); diagnosisReference and the Practitioner's specialty resolve by urn:uuid; "
                    "the cancelled line 3 is not billed",
            "claims": [{"claim": "pas-1", "verdict": "conforms", "where": "entry[0]", "results": []}]},
        "inputs/detail-lines.json": {
            "note": "20701 in detail line 2.1 is judged, with its item's date (the day after its primary)",
            "claims": [{"claim": "detail-1", "verdict": "does-not-conform", "where": None,
                        "results": [["AddOnRequiresPrimary", "line 2.1", "Violation"]]}]},
        "inputs/oid-coded.json": {
            "note": "OIDs, lower case, http and a trailing slash read as the canonical systems; a period "
                    "with only an end dates the line on the claim's own calendar day",
            "claims": [{"claim": "oid-1", "verdict": "conforms", "where": None, "results": []}]},
        "inputs/eob.json": {
            "note": "an ExplanationOfBenefit is read as a claim: 20701 without its primary",
            "claims": [{"claim": "eob-1", "verdict": "does-not-conform", "where": None,
                        "results": [["AddOnRequiresPrimary", "line 1", "Violation"]]}]},
        "inputs/day1.ndjson": {
            "note": "one resource a line: a conforming claim; a vision claim (not applicable); a claim entered "
                    "in error (not applicable); an unknown modifierExtension (unreadable); a Condition not "
                    "sent (DiagnosisReferenceResolves; so the diagnosis has no code and the line no diagnosis that "
                    "supports it); "
                    "WHO ICD-10 (unreadable); a searchset Bundle with an EOB; a provider without a "
                    "qualification whose Practitioner was not sent",
            "claims": [
                {"claim": "day1-1", "verdict": "conforms", "where": "line 1", "results": []},
                {"claim": "day1-2", "verdict": "not-applicable", "where": "line 2", "results": []},
                {"claim": "day1-3", "verdict": "not-applicable", "where": "line 3", "results": []},
                {"claim": "day1-4", "verdict": "unreadable", "where": "line 4", "results": [UNREADABLE]},
                {"claim": "day1-5", "verdict": "does-not-conform", "where": "line 5",
                 "results": [["DiagnosisHasOneCode", "diagnosis 1", "Violation"],
                             ["DiagnosisReferenceResolves", "diagnosis 1", "Violation"],
                             ["DiagnosisSupportsNecessity", "line 2", "Violation"]]},
                {"claim": "day1-6", "verdict": "unreadable", "where": "line 6", "results": [UNREADABLE]},
                {"claim": "day1-7", "verdict": "conforms", "where": "line 7, entry[0]", "results": []},
                {"claim": "day1-8", "verdict": "conforms", "where": "line 8",
                 "results": [["ProviderReferenceResolves", "claim", "Warning"]]},
            ]},
    }


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / "multiline-ndc-revenue.json", multiline())
    write_json(OUT / "pas-bundle.json", pas_bundle())
    write_json(OUT / "detail-lines.json", detail_lines())
    write_json(OUT / "oid-coded.json", oid_coded())
    write_json(OUT / "eob.json", explanation_of_benefit())
    (OUT / "day1.ndjson").write_text("".join(json.dumps(r) + "\n" for r in ndjson_lines()), encoding="utf-8")
    text, professional = professional_837p()
    (OUT / "professional-20-claims.x12").write_text(text, encoding="utf-8")
    text, broken = broken_837p()
    (OUT / "professional-broken.x12").write_bytes(text.encode("utf-8"))
    (OUT / "institutional-837i.x12").write_text(institutional_837i(), encoding="utf-8")
    expected = {k: v for k, v in json.loads(EXPECTED.read_text()).items() if not k.startswith("inputs/")}
    expected.update(fhir_expected())
    expected["inputs/professional-20-claims.x12"] = {
        "note": "837P: twenty claims with modifiers, date ranges and line-level rendering providers",
        "claims": professional}
    expected["inputs/professional-broken.x12"] = {
        "note": "837P with a BOM, CR/LF and indentation; a syntax error in claim 2 and a wrong SE count",
        "claims": broken}
    expected["inputs/institutional-837i.x12"] = {
        "note": "837I is not read (exit 2 alone): one Unreadable record naming what the file is",
        "claims": [{"claim": None, "verdict": "unreadable", "where": None, "results": [UNREADABLE]}]}
    EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
