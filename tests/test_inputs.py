"""examples/inputs: claims as others send them (FHIR Bundles with references, detail lines, OIDs,
an EOB, NDJSON, X12 837P and 837I), each with its exact verdicts, origins, lines and rules from
examples/expected-results.json; the input forms, standard input and the code-system aliases."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cptkg.claims import FORMS, read_paths
from cptkg.claims.codesystems import canonical
from cptkg.claims.files import detect
from cptkg.kg.namespaces import SYSTEM_CPT, SYSTEM_HCPCS, SYSTEM_ICD10CM, SYSTEM_NUCC, SYSTEM_POS
from cptkg.report.model import ClaimReport
from cptkg.rules.validator import validate_paths
from tests.conftest import files_for, shared_scope

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "examples" / "inputs"
EXPECTED = {k: v for k, v in json.loads((ROOT / "examples" / "expected-results.json").read_text()).items()
            if k.startswith("inputs/")}


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "cptkg", *args], input=stdin, capture_output=True, timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def where_of(result) -> str:
    if result.line is not None:
        return f"line {result.line}"
    if result.diagnosis is not None:
        return f"diagnosis {result.diagnosis}"
    return "claim"


def summary(claim: ClaimReport) -> dict:
    return {"claim": claim.claim, "verdict": claim.verdict, "where": claim.where or None,
            "results": sorted([r.rule, where_of(r), r.severity] for r in claim.results)}


@pytest.fixture(scope=shared_scope)
def reports(request: pytest.FixtureRequest) -> dict[str, list[ClaimReport]]:
    report = validate_paths(*files_for(request, INPUTS))
    out: dict[str, list[ClaimReport]] = {}
    for claim in report.claims:
        out.setdefault(f"inputs/{Path(claim.source).name}", []).append(claim)
    return out


def test_every_input_file_has_expected_results(reports) -> None:
    assert sorted(reports) == sorted(EXPECTED) == sorted(f"inputs/{p.name}" for p in INPUTS.iterdir())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_input_results_exactly(reports, name: str) -> None:
    got = [summary(c) for c in reports[name]]
    want = EXPECTED[name]["claims"]
    for claim, expected in zip(got, want, strict=True):
        if expected["claim"] in (None, "envelope"):  # records about the file, named by its path
            assert claim["claim"].startswith(str(INPUTS / name.removeprefix("inputs/")))
            claim["claim"] = expected["claim"]
        assert claim == expected


def test_not_applicable_claims_conform_and_say_why(reports) -> None:
    day1 = {c.claim: c for c in reports["inputs/day1.ndjson"]}
    assert day1["day1-2"].conforms and "its codes are 92004" in (day1["day1-2"].reason or "")
    assert day1["day1-3"].reason == "its status is entered-in-error: it was entered in error"
    professional = [c for c in reports["inputs/professional-20-claims.x12"] if c.verdict == "not-applicable"]
    assert [c.claim for c in professional] == ["PCN0013", "PCN0014", "PCN0015"]
    assert all(c.results == [] and "70551, 99213" in (c.reason or "") for c in professional)


def test_unreadable_claims_name_what_to_fix(reports) -> None:
    day1 = {c.claim: c for c in reports["inputs/day1.ndjson"]}
    message = day1["day1-4"].results[0].message
    assert "modifierExtension http://example.org/fhir/StructureDefinition/line-void" in message
    assert "not ICD-10-CM" in day1["day1-6"].results[0].message
    broken = reports["inputs/professional-broken.x12"]
    assert "SV104" in broken[1].results[0].message and "segment 43" in broken[1].results[0].message
    assert "SE count" in broken[3].results[0].message
    (institutional,) = reports["inputs/institutional-837i.x12"]
    assert "837I" in institutional.results[0].message


def test_lines_carry_their_modifiers_dates_and_providers() -> None:
    from cptkg.kg.namespaces import CPTKG, MOD

    records = {r.claim_id: r for r in read_paths([INPUTS / "professional-20-claims.x12"])}
    line = lambda record, n: {(p, o) for s, p, o in record.triples if str(s).endswith(f"/item/{n}")}  # noqa: E731
    first = line(records["PCN0001"], 2)
    assert (CPTKG.modifier, MOD["LT"]) in first
    assert {str(o) for p, o in first if p == CPTKG.servicedDate} == {"2025-03-04"}  # RD8: its first day
    ten = line(records["PCN0010"], 2)
    assert {(p, o) for p, o in ten if p == CPTKG.modifier} == {(CPTKG.modifier, MOD["59"]), (CPTKG.modifier, MOD["LT"])}
    office = line(records["PCN0018"], 2)
    assert {str(o).rsplit("/", 1)[1] for p, o in office if p == CPTKG.location} == {"11"}  # SV105 over CLM05-1


def test_fhir_details_modifiers_and_defaults_in_the_claim_graph() -> None:
    from cptkg.kg.namespaces import CPTKG, MOD

    (record,) = read_paths([INPUTS / "multiline-ndc-revenue.json"])
    by_line: dict[str, set] = {}
    for s, p, o in record.triples:
        by_line.setdefault("/".join(str(s).split("/")[-2:]), set()).add((p, o))
    assert (CPTKG.modifier, MOD["LT"]) in by_line["item/2"]
    assert (CPTKG.quantity, __import__("rdflib").Literal(1)) in by_line["item/1"]  # absent quantity: 1 unit
    assert {str(o) for p, o in by_line["line/3"] if p == CPTKG.otherCode} == {"http://hl7.org/fhir/sid/ndc|0409-4888-02"}
    (detail,) = read_paths([INPUTS / "detail-lines.json"])
    numbers = {str(o) for _s, p, o in detail.triples if p == CPTKG.lineNumber}
    assert numbers == {"1", "1.1", "1.1.1", "2", "2.1"}


@pytest.mark.parametrize(("written", "system"), [
    ("urn:oid:2.16.840.1.113883.6.12", SYSTEM_CPT),
    ("urn:oid:2.16.840.1.113883.6.285", SYSTEM_HCPCS),
    ("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", SYSTEM_HCPCS),
    ("urn:oid:2.16.840.1.113883.6.90", SYSTEM_ICD10CM),
    ("HTTP://HL7.ORG/fhir/sid/icd-10-cm/", SYSTEM_ICD10CM),
    ("urn:oid:2.16.840.1.113883.6.101", SYSTEM_NUCC),
    ("https://nucc.org/provider-taxonomy", SYSTEM_NUCC),
    ("urn:oid:2.16.840.1.113883.6.50", SYSTEM_POS),
    (SYSTEM_POS.lower(), SYSTEM_POS),
    ("http://terminology.hl7.org/CodeSystem/POS", SYSTEM_POS),
])
def test_code_system_aliases(written: str, system: str) -> None:
    assert canonical(written) == system


def test_who_icd10_and_unknown_systems_are_not_aliases() -> None:
    assert canonical("http://hl7.org/fhir/sid/icd-10") != SYSTEM_ICD10CM
    assert canonical("http://snomed.info/sct") is None
    assert canonical("http://www.ama-assn.org/go/cpt-typo") is None


@pytest.mark.parametrize(("head", "name", "form"), [
    (b"\xef\xbb\xbfISA*00*", "claims.txt", "x12"),
    (b'{"resourceType": "Claim"}', "-", "fhir"),
    (b'{"resourceType": "Claim"}\n{"resourceType": "Claim"}\n', "-", "ndjson"),
    (b'{"resourceType": "Claim"}', "a.ndjson", "ndjson"),
    # NDJSON is told by its first line (the head may end mid-line); pretty JSON's inner lines may parse
    (b'{"resourceType": "Claim"}\n{"resourceType": "Cl', "-", "ndjson"),
    (b'{\n"Claim"\n}\n', "-", "fhir"),
    (b"# a comment\n@prefix ex: <http://ex/> .", "-", "turtle"),
    (b"PREFIX ex: <http://ex/>\nex:a ex:b ex:c .", "-", "turtle"),  # SPARQL-style directives (Turtle 1.1)
    (b"BASE <http://ex/>\n<a> <b> <c> .", "-", "turtle"),
    (b"<https://ex/a> <https://ex/b> <https://ex/c> .", "a.nt", "nt"),
    (b"<?xml version='1.0'?><rdf:RDF/>", "-", "rdfxml"),
    (b"Claim 1: knee", "claims.ttl", "turtle"),  # the name says Turtle: its parser says what is wrong
    (b"Claim 1: knee", "claims.txt", None),
])
def test_form_detection(head: bytes, name: str, form: str | None) -> None:
    assert detect(head, name) == form


def test_cli_forms_match_the_readers() -> None:
    from cptkg.cli import INPUT_FORMS

    assert INPUT_FORMS == FORMS


def test_standard_input(tmp_path: Path) -> None:
    data = (INPUTS / "eob.json").read_bytes()
    proc = run_cli("validate", "-", "--format", "json", stdin=data)
    assert proc.returncode == 1, proc.stderr
    (claim,) = json.loads(proc.stdout)["claims"]
    assert (claim["claim"], claim["verdict"], claim["origin"]) == ("eob-1", "does-not-conform",
                                                                   {"file": "-", "where": None})
    x12 = run_cli("validate", "-", "--format", "jsonl", stdin=(INPUTS / "professional-20-claims.x12").read_bytes())
    assert len(x12.stdout.splitlines()) == 20


def test_input_format_overrides_the_name(tmp_path: Path) -> None:
    odd = tmp_path / "claims.dat"
    shutil.copy(INPUTS / "day1.ndjson", odd)
    detected = run_cli("validate", str(odd), "--format", "jsonl")
    assert len(detected.stdout.splitlines()) == 8  # detected as NDJSON from its content
    forced = run_cli("validate", str(odd), "--input-format", "fhir")
    assert forced.returncode == 2 and "JSON" in forced.stderr, forced.stderr  # one document: it is not
    bad = run_cli("validate", str(odd), "--input-format", "csv")
    assert bad.returncode == 2 and "--input-format" in bad.stderr


def test_single_837i_is_exit_2_naming_it() -> None:
    proc = run_cli("validate", str(INPUTS / "institutional-837i.x12"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "837I" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("fmt", ["human", "table", "turtle"])
def test_every_format_says_verdict_and_origin(fmt: str) -> None:
    proc = run_cli("validate", str(INPUTS / "day1.ndjson"), "--format", fmt)
    assert proc.returncode == 1
    out = proc.stdout
    if fmt == "human":
        assert "day1-2  [" in out and "line 2]: not applicable: it reports none of the codes" in out
        assert "diagnosis 1  Violation  DiagnosisReferenceResolves" in out
        assert "8 claims: 3 conforming, 1 not, 2 not applicable, 2 unreadable" in out
    elif fmt == "table":
        rows = [line.split("\t") for line in out.splitlines()[1:]]
        assert ["day1-5", "does-not-conform", str(INPUTS / "day1.ndjson"), "line 5", "", "", "1", "Violation",
                "DiagnosisReferenceResolves"] in [r[:9] for r in rows]
        assert ["day1-2", "not-applicable", str(INPUTS / "day1.ndjson"), "line 2"] in [r[:4] for r in rows]
        assert all(len(r) == 11 for r in rows)
    else:
        from rdflib import Graph, Literal

        from cptkg.kg.namespaces import CPTKG

        graph = Graph().parse(data=out, format="turtle")
        verdicts = sorted(str(o) for o in graph.objects(None, CPTKG.verdict))
        assert verdicts == sorted(["conforms", "not-applicable", "not-applicable", "unreadable", "does-not-conform",
                                   "unreadable", "conforms", "conforms"])
        assert (None, CPTKG.originWhere, Literal("line 7, entry[0]")) in graph
        assert "{$value}" not in out and "{?" not in out


def _claim_file(tmp_path: Path, data: dict, name: str = "claim.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _one(path: Path) -> ClaimReport:
    (claim,) = validate_paths(path).claims
    return claim


def test_dates_from_billable_period_and_period_start_keep_the_claims_day(tmp_path: Path) -> None:
    from cptkg.kg.namespaces import CPTKG

    data = json.loads((INPUTS / "oid-coded.json").read_text())
    first, second = data["item"]
    del first["servicedDate"]  # no line date: the claim's billablePeriod gives it
    second["servicedPeriod"] = {"start": "2025-03-04T23:59:00+14:00", "end": "2025-03-05T01:00:00+14:00"}
    data["billablePeriod"] = {"start": "2025-03-04", "end": "2025-03-04"}
    (record,) = read_paths([_claim_file(tmp_path, data)])
    assert sorted(str(o) for _s, p, o in record.triples if p == CPTKG.servicedDate) == ["2025-03-04"] * 2
    assert _one(tmp_path / "claim.json").verdict == "conforms"


def test_contained_condition_and_practitioner_role(tmp_path: Path) -> None:
    data = json.loads((INPUTS / "oid-coded.json").read_text())
    data["contained"] = [
        {"resourceType": "Condition", "id": "dx", "subject": {"reference": "Patient/pat-1"},
         "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.90", "code": "T847XXA"}]}},
        {"resourceType": "PractitionerRole", "id": "role",
         "specialty": [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207X00000X"}]}]}]
    data["diagnosis"] = [{"sequence": 1, "diagnosisReference": {"reference": "#dx"}}]
    data["careTeam"] = [{"sequence": 1, "provider": {"reference": "#role"}}]
    claim = _one(_claim_file(tmp_path, data))
    assert (claim.verdict, claim.results) == ("conforms", [])
    data["careTeam"][0]["provider"]["reference"] = "#nobody"
    data["diagnosis"][0]["diagnosisReference"]["reference"] = "#role"  # a PractitionerRole, not a Condition
    claim = _one(_claim_file(tmp_path, data, "broken.json"))
    got = {(r.rule, r.value) for r in claim.results}
    assert ("DiagnosisReferenceResolves", "#role (a PractitionerRole, not a Condition)") in got
    assert ("ProviderReferenceResolves", "#nobody") in got


def test_bundle_entries_resolve_by_absolute_url_and_type_id(tmp_path: Path) -> None:
    bundle = json.loads((INPUTS / "pas-bundle.json").read_text())
    claim = bundle["entry"][0]["resource"]
    claim["diagnosis"][0]["diagnosisReference"]["reference"] = "https://ehr.example.org/fhir/Condition/cond-1"
    claim["careTeam"][0]["provider"]["reference"] = "Practitioner/dr-ortho/_history/2"
    (report,) = validate_paths(_claim_file(tmp_path, bundle)).claims
    assert (report.verdict, report.results) == ("conforms", [])


def test_a_bundle_without_claims_is_one_record_saying_what_it_holds(tmp_path: Path) -> None:
    bundle = json.loads((INPUTS / "pas-bundle.json").read_text())
    bundle["entry"] = bundle["entry"][1:]
    (record,) = read_paths([_claim_file(tmp_path, bundle)])
    assert record.error is not None and "no Claim or ExplanationOfBenefit" in record.error
    assert "1 Condition" in record.error and "2 Organization" in record.error


@pytest.mark.parametrize(("transaction", "said"), [("835", "835 (claim payment"), ("270", "270 (eligibility")])
def test_other_x12_transactions_are_named(tmp_path: Path, transaction: str, said: str) -> None:
    text = (INPUTS / "professional-20-claims.x12").read_text().replace("ST*837*0001*005010X222A1",
                                                                       f"ST*{transaction}*0001*005010X222A1")
    path = tmp_path / "other.x12"
    path.write_text(text)
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2 and said in proc.stderr and "not an 837P" in proc.stderr


def test_a_cut_short_837p_loses_no_claim_silently(tmp_path: Path) -> None:
    text = (INPUTS / "professional-20-claims.x12").read_text()
    path = tmp_path / "cut.x12"
    path.write_text(text[:text.index("LX*2", text.index("CLM*PCN0003"))])  # inside the third claim
    claims = validate_paths(path).claims
    assert [(c.claim, c.verdict) for c in claims[:3]] == [
        ("PCN0001", "conforms"), ("PCN0002", "conforms"), ("PCN0003", "unreadable")]
    assert claims[2].results[0].message.endswith(
        "claim PCN0003: segment 61: the file ends inside this claim (no SE follows): it may be cut short; "
        "send the whole file")
    assert "Interchange Control Trailer" in claims[3].results[0].message and claims[3].where == "segment 1"


def test_a_claim_the_rules_do_not_judge_is_exit_0_not_bad_input(tmp_path: Path) -> None:
    lines = (INPUTS / "day1.ndjson").read_text().splitlines()
    vision = tmp_path / "vision.json"
    vision.write_text(lines[1])  # 92004 only
    proc = run_cli("validate", str(vision))
    assert proc.returncode == 0 and proc.stderr == ""
    assert "day1-2  [" in proc.stdout and "not applicable: it reports none of the codes" in proc.stdout
    assert "1 claim: 0 conforming, 0 not, 1 not applicable, 0 unreadable" in proc.stdout
    beside = run_cli("validate", str(INPUTS / "multiline-ndc-revenue.json"))  # NDC, revenue, SNOMED lines
    assert beside.returncode == 0 and "multiline-1" in beside.stdout and ": conforms" in beside.stdout


PUBLIC = ROOT / "tests" / "fixtures" / "public"


@pytest.mark.parametrize("strict", [False, True], ids=["direct", "fhir-strict"])
def test_a_claim_no_rule_judges_is_not_applicable_whatever_its_diagnosis_system(tmp_path: Path, strict: bool) -> None:
    """Issue 29: whether a rule judges a claim is decided from its lines before anything only the
    rules read. A claim like HL7's CMS-1500 example (an office visit, a WHO ICD-10 diagnosis, a care
    team member whose Practitioner is not in the file) is not-applicable and exit 0; the same claim
    with a family line is judged, and its WHO ICD-10 diagnosis is what it was before: Unreadable,
    and exit 2 when it is the only input."""
    flag = ["--fhir-strict"] if strict else []
    public = PUBLIC / "cms1500-style-claim.json"
    proc = run_cli("validate", *flag, str(public), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (claim,) = json.loads(proc.stdout)["claims"]
    assert (claim["claim"], claim["verdict"], claim["results"]) == ("cms1500-style", "not-applicable", [])
    assert "its codes are 99213" in claim["reason"]
    judged = json.loads(public.read_text())
    judged["item"].append({**judged["item"][0], "sequence": 2,
                           "productOrService": {"coding": [{"system": SYSTEM_CPT, "code": "20701"}]}})
    (tmp_path / "judged.json").write_text(json.dumps(judged))
    alone = run_cli("validate", *flag, str(tmp_path / "judged.json"))
    assert alone.returncode == 2 and alone.stdout == ""
    assert "diagnosis 1 is coded in WHO ICD-10 (http://hl7.org/fhir/sid/icd-10)" in alone.stderr
    assert len(alone.stderr.strip().splitlines()) == 1
    both = run_cli("validate", *flag, str(public), str(tmp_path / "judged.json"), "--format", "json")
    assert both.returncode == 1
    verdicts = [(c["claim"], c["verdict"], [r["rule"] for r in c["results"]])
                for c in json.loads(both.stdout)["claims"]]
    assert verdicts == [("cms1500-style", "not-applicable", []), ("cms1500-style", "unreadable", ["Unreadable"])]


def test_an_icd9_diagnosis_refuses_only_a_judged_837p_claim(tmp_path: Path) -> None:
    """The 837P's ICD-9-CM diagnoses (HI BK) are, like FHIR's WHO ICD-10, a problem only for a
    claim some rule judges."""
    text = (INPUTS / "professional-20-claims.x12").read_text()
    records = list(read_paths([INPUTS / "professional-20-claims.x12"]))
    assert all(r.rule_input_error is None for r in records)
    swapped = text.replace("HI*ABK:", "HI*BK:", 1)
    assert swapped != text
    path = tmp_path / "icd9.x12"
    path.write_text(swapped)
    (first, *_rest) = read_paths([path])
    assert first.readable and "ICD-9-CM (BK)" in str(first.rule_input_error)


def test_a_folder_of_fhir_files_runs_in_full_batches(tmp_path, monkeypatch) -> None:
    """Claims named by their file's path (FHIR, X12) share batches across files; claim graphs
    (Turtle), whose IRIs other files may reuse, keep a batch to one file. Results are the same."""
    from cptkg.rules.validator import Validator

    examples = ROOT / "examples" / "claims"
    jsons = sorted(examples.glob("*.json"))[:20]
    ttls = sorted(examples.glob("*.ttl"))[:3]
    for path in [*jsons, *ttls]:
        shutil.copy(path, tmp_path / path.name)
    sizes: list[int] = []
    original = Validator._run

    def counting(self, batch):
        sizes.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(Validator, "_run", counting)
    together = {r.claim: sorted((x.rule, x.focus) for x in r.results)
                for r in Validator().validate(read_paths([str(tmp_path)], None), 500)}
    json_files = sum(1 for p in tmp_path.iterdir() if p.suffix == ".json")
    # Files are read in name order: the Turtle files each close a batch, the FHIR ones share them.
    # addon-modifier-51_PASS.json, then its .ttl alone; the same for _XFAIL and
    # addon-place-matches-primary_PASS; then the 17 other FHIR files together.
    assert sizes == [1, 1, 1, 1, 1, 1, 17]
    sizes.clear()
    alone = {}
    for path in sorted(tmp_path.iterdir()):
        for r in Validator().validate(read_paths([str(path)], None), 500):
            alone[r.claim] = sorted((x.rule, x.focus) for x in r.results)
    assert together == alone and json_files == 20


_TURTLE_PREFIXES = """@prefix cptkg: <https://w3id.org/cptkg/ontology#> . @prefix cpt: <https://w3id.org/cptkg/cpt/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix ex: <https://example.org/c/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
_A = "c.ttl: https://example.org/c/a: "


# Each refusal of the Turtle reader with its exact reason, and the Unreadable result it becomes
# (on the claim, whose IRI is the focus, with the reason as its message).
@pytest.mark.parametrize(("body", "reason"), [
    ("cpt:x a cptkg:Claim ; cptkg:item ex:i .",
     "c.ttl: https://w3id.org/cptkg/cpt/x: a claim IRI may not be in cptkg's namespace https://w3id.org/cptkg/ "
     "(check the file's @base and prefixes): give claims IRIs of your own"),
    ("ex:a a cptkg:Claim .", _A + "the claim has no items (cptkg:item): nothing to validate"),
    ('ex:a cptkg:item ex:i ; cptkg:diagnosis "T84.7" .', _A + "diagnosis is the literal 'T84.7': it must name a node"),
    ("ex:a cptkg:item cpt:20701 .", _A + "its item <https://w3id.org/cptkg/cpt/20701> is in cptkg's namespace "
     "https://w3id.org/cptkg/: give claim lines IRIs of your own"),
    ('ex:a cptkg:item ex:i . ex:i cptkg:servicedDate "2025-02-30"^^xsd:date .',
     _A + "bad date '2025-02-30' on item https://example.org/c/i: use YYYY-MM-DD"),
    ("ex:a cptkg:item ex:i ; cptkg:diagnosis ex:i .",
     _A + "https://example.org/c/i is both a ClaimItem and a ClaimDiagnosis"),
    ("ex:a cptkg:item ex:i . ex:i skos:broader cpt:20701 .",
     _A + "https://example.org/c/i says skos:broader cpt:20701, which is not claim data (a claim may not define "
     "codes, classes or facts): remove it"),
    ('ex:a cptkg:item ex:i . ex:i a "x" .',
     _A + "https://example.org/c/i says rdf:type 'x', which is not claim data (a claim may not define codes, "
     "classes or facts): remove it"),
    (f'ex:a cptkg:item ex:i . ex:i a "{"x" * 70}" .',
     _A + f"https://example.org/c/i says rdf:type '{'x' * 60}', which is not claim data (a claim may not define "
     "codes, classes or facts): remove it"),
], ids=["our-namespace", "no-items", "literal-child", "our-child", "bad-date", "two-kinds", "ontology-statement",
        "literal-type", "long-literal"])
def test_the_turtle_reader_says_why_exactly(body: str, reason: str) -> None:
    from cptkg.claims import read_bytes
    from cptkg.rules import results

    (record,) = read_bytes((_TURTLE_PREFIXES + body).encode(), "c.ttl")
    assert record.error == reason
    result = results.unreadable(record)
    assert (result.rule, result.severity, result.message) == ("Unreadable", "Violation", reason)
    assert (result.focus, result.focus_term) == (record.claim_id, f"<{record.claim_id}>")


def test_a_blank_node_claim_and_a_shared_line_are_refused_by_name() -> None:
    from cptkg.claims import read_bytes
    from cptkg.rules import results

    (blank,) = read_bytes((_TURTLE_PREFIXES + "[] a cptkg:Claim ; cptkg:item ex:i .").encode(), "c.ttl")
    assert blank.claim_id.startswith("c.ttl#") and blank.iri is None
    assert blank.error == f"c.ttl: {blank.claim_id}: a claim must be an IRI, not a blank node, so results can name it"
    # No IRI to name it: the result's focus is the claim's id, as a literal.
    assert results.unreadable(blank).focus_term == f'"{blank.claim_id}"'
    shared = list(read_bytes((_TURTLE_PREFIXES + "ex:a cptkg:item ex:i . ex:b cptkg:item ex:i .").encode(), "c.ttl"))
    assert [r.error for r in shared] == [
        f"c.ttl: https://example.org/c/{c}: its item https://example.org/c/i is listed by another claim too: "
        "a node belongs to one claim" for c in "ab"]


def test_a_claim_that_fails_to_read_is_that_claims_reason_not_the_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside the Turtle reader (a bug, or rdflib's) is pinned on the claim it happened
    to, with the exception's name and its words on one line; the file's other claims are read."""
    from cptkg.claims import rdf, read_bytes

    real = rdf._claim_problem

    def failing(graph, claim, claim_id, shared):  # type: ignore[no-untyped-def]
        if str(claim).endswith("/a"):
            raise ValueError("it broke\n   here " + "x" * 300)
        return real(graph, claim, claim_id, shared)

    monkeypatch.setattr(rdf, "_claim_problem", failing)
    body = "ex:a cptkg:item ex:i . ex:b cptkg:item ex:j . ex:j cptkg:sequence 1 ."
    first, second = read_bytes((_TURTLE_PREFIXES + body).encode(), "c.ttl")
    assert first.error == _A + f"cannot be read (ValueError: {('it broke here ' + 'x' * 300)[:200]})"
    assert first.triples == []
    assert second.error is None and second.triples
    monkeypatch.setattr(rdf, "_claim_problem", lambda *_: (_ for _ in ()).throw(KeyError()))
    (only,) = read_bytes((_TURTLE_PREFIXES + "ex:a cptkg:item ex:i .").encode(), "c.ttl")
    assert only.error == _A + "cannot be read (KeyError)"  # no words: the name alone


def test_a_turtle_file_is_refused_whole_when_it_holds_no_claim_or_does_not_parse() -> None:
    from cptkg.claims import read_bytes

    (broken,) = read_bytes(b"this is not turtle @@", "c.ttl")
    assert (broken.claim_id, broken.source) == ("c.ttl", "c.ttl")
    assert broken.error is not None and broken.error.startswith("c.ttl: malformed Turtle: at line 1")
    (empty,) = read_bytes((_TURTLE_PREFIXES + 'ex:a ex:says cptkg:Claim .').encode(), "c.ttl")
    assert (empty.claim_id, empty.source) == ("c.ttl", "c.ttl")
    assert empty.error == "c.ttl: no claims found (a claim is a cptkg:Claim with cptkg:item lines)"


def test_a_files_claims_are_each_their_own_nodes() -> None:
    """Only rdf:type cptkg:Claim or cptkg:item makes a claim; a claim's triples are its own nodes'
    (not another claim's, even one it mentions); a statement in no known vocabulary is left out;
    IRI claims come before blank ones (IRI order, as text)."""
    from cptkg.claims import read_bytes

    body = ("ex:a cptkg:item ex:i ; ex:seeAlso ex:j, cptkg:Claim . ex:i cptkg:sequence 1 ; ex:note \"free text\" .\n"
            "ex:b cptkg:item ex:j . ex:j cptkg:sequence 1 .\n[] cptkg:item ex:k .")
    records = list(read_bytes((_TURTLE_PREFIXES + body).encode(), "c.ttl"))
    assert [r.claim_id for r in records][:2] == ["https://example.org/c/a", "https://example.org/c/b"]
    assert records[2].claim_id.startswith("c.ttl#") and len(records) == 3
    a, b = records[0], records[1]
    assert a.error is None and b.error is None
    assert {str(s) for s, _p, _o in a.triples} == {"https://example.org/c/a", "https://example.org/c/i"}
    assert {str(s) for s, _p, _o in b.triples} == {"https://example.org/c/b", "https://example.org/c/j"}
    assert not any(str(p).endswith("note") or str(p).endswith("seeAlso") for _s, p, _o in a.triples)


def test_each_claim_of_a_file_is_judged_on_its_own_nodes() -> None:
    """A claim's checks (items, children, dates) look at that claim only: one claim's problem
    never refuses another claim of the same file, nor does a date outside servicedDate."""
    from cptkg.claims import read_bytes

    body = (f'ex:a a cptkg:Claim .\nex:b cptkg:item ex:j ; cptkg:diagnosis "{"T" * 70}" .\n'
            'ex:c cptkg:item ex:k . ex:k cptkg:servicedDate "2025-02-30"^^xsd:date .\n'
            'ex:d cptkg:item ex:m . ex:m cptkg:sequence 1 ; ex:when "2025-02-31"^^xsd:date .')
    errors = {r.claim_id.rsplit("/", 1)[-1]: r.error for r in read_bytes((_TURTLE_PREFIXES + body).encode(), "c.ttl")}
    at = "c.ttl: https://example.org/c/"
    assert errors == {
        "a": at + "a: the claim has no items (cptkg:item): nothing to validate",
        "b": at + f"b: diagnosis is the literal '{'T' * 60}': it must name a node",
        "c": at + "c: bad date '2025-02-30' on item https://example.org/c/k: use YYYY-MM-DD",
        "d": None,
    }


@pytest.mark.parametrize(("fmt", "text", "said"), [
    ("turtle", "<a> <b> .", "malformed Turtle: "),
    ("nt", "<http://a> <http://b> .", "malformed N-Triples: "),
    ("xml", "<rdf:RDF", "malformed RDF/XML: "),
    ("json-ld", '{"@context": 5}', "not valid JSON-LD: "),
    ("trig", "<http://a> <http://b> {", "malformed trig: "),
])
def test_a_graph_that_does_not_parse_is_named_by_its_format(fmt: str, text: str, said: str) -> None:
    from cptkg.claims.safe_parse import parse_untrusted
    from cptkg.errors import InputError

    with pytest.raises(InputError) as caught:
        parse_untrusted(text, fmt, "claims.x")
    message = str(caught.value)
    assert said in message and message.split(said, 1)[1].strip()  # the parser's own words follow


def test_a_parser_error_is_one_line_cut_short_or_its_type_when_it_says_nothing() -> None:
    from cptkg.claims.safe_parse import _first_line

    assert _first_line(ValueError("bad\n  triple\tat   line 3")) == "bad triple at line 3"
    assert _first_line(ValueError("x" * 500)) == "x" * 300
    assert _first_line(ValueError()) == "ValueError"
    assert _first_line(KeyError("")) == "''"


def test_remote_contexts_and_imports_are_found_at_any_depth() -> None:
    from cptkg.claims.safe_parse import remote_contexts

    document = {"@context": ["https://a.example/ctx", {"@vocab": "x"}],
                "@graph": [{"@context": {"@import": "https://b.example/i"}}, {"nested": [{"@context": "c.jsonld"}]}]}
    assert sorted(remote_contexts(document)) == ["c.jsonld", "https://a.example/ctx", "https://b.example/i"]
    assert remote_contexts({"@context": {"@vocab": "x"}, "@graph": [1, "s"]}) == []


@pytest.mark.parametrize(("segments", "said"), [
    ([["GS", "HC", "A", "B", "20250305", "0900", "1", "X", "005010X223A2"]],
     "an X12 837I (institutional claims, 005010X223A2), not an 837P professional claim file: cptkg reads 837P "
     "005010X222A1"),
    ([["GS", "HC", "A", "B", "20250305", "0900", "1", "X", "005010X224A2"]],
     "an X12 837D (dental claims, 005010X224A2), not an 837P: cptkg reads 837P 005010X222A1"),
    ([["ST", "835", "0001"]], "an X12 835 (claim payment and remittance advice), not an 837P claim file"),
    ([["ST", "123", "0001"]], "an X12 123, not an 837P claim file"),
    ([["ST"]], "an X12 transaction without a type, not an 837P claim file"),
    ([["ST", "837", "0001", "004010X098A1"]], "an X12 837 of version 004010X098A1: cptkg reads 837P 005010X222A1 only"),
])
def test_an_x12_file_that_is_not_an_837p_says_what_it_is(segments: list[list[str]], said: str) -> None:
    from cptkg.claims.x12 import X12Error, identify

    with pytest.raises(X12Error) as caught:
        identify([["ISA"], *segments])
    assert str(caught.value) == said


def test_an_837p_gs_or_st_without_a_version_is_read() -> None:
    from cptkg.claims.x12 import identify

    identify([["GS", "HC"], ["ST", "837", "0001"], ["GS", "HC", "A", "B", "d", "t", "1", "X", "005010X222A1"]])


def test_text_that_is_not_an_interchange_says_so() -> None:
    from cptkg.claims.x12 import X12Error, normalised

    for text in ("ISA*00*short~", "\ufeff  GS*HC~" + " " * 200):
        with pytest.raises(X12Error) as caught:
            normalised(text)
        assert str(caught.value) == "not an X12 interchange: it does not start with a complete ISA segment"


def test_pyx12_logs_nothing_its_errors_are_results(caplog: pytest.LogCaptureFixture) -> None:
    from cptkg.claims.x12 import read_x12_text

    caplog.set_level(logging.DEBUG)
    records = list(read_x12_text((INPUTS / "professional-broken.x12").read_text(), "broken.x12"))
    assert any(not r.readable for r in records)
    assert [r.name for r in caplog.records if r.name.startswith("pyx12")] == []


def _one_claim_837p(claim_segments: list[str]) -> str:
    """The 20-claim file's envelope and billing provider around the given claim segments."""
    segments = [s.strip() for s in (INPUTS / "professional-20-claims.x12").read_text().split("~") if s.strip()]
    head = segments[:segments.index(next(s for s in segments if s.startswith("CLM*")))]
    body = head[head.index(next(s for s in head if s.startswith("ST*"))):] + claim_segments
    trailer = [f"SE*{len(body) + 1}*0001", "GE*1*1", "IEA*1*000000101"]
    return "~\n".join(head[:head.index(body[0])] + body + trailer) + "~\n"


def test_an_837p_claim_becomes_exactly_this_claim_graph() -> None:
    """Every element the reader maps (cptkg.claims.x12, fhir.Converter), pinned triple by triple: CLM05 place,
    HI ABK/ABF, REF*G1, the claim's rendering provider (2310B) and a line's own (2420A) with their
    PRV taxonomies, SV101 modifiers, SV104 units, SV105 place over CLM05, SV107 pointers, DTP*472
    D8 and RD8 (first day), a line coded in another system (SV101-1 ER) kept as an other line."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF, XSD

    from cptkg.claims.x12 import read_x12_text
    from cptkg.kg.namespaces import CPT, CPTKG, ICD10CM, MOD, NUCC, POS

    text = _one_claim_837p([
        "CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "REF*G1*PA12345", "HI*ABK:T847XXA*ABF:Z9889",
        "NM1*82*1*SURGEON*ANNA****XX*1234567893", "PRV*PE*PXC*207X00000X",
        "LX*1", "SV1*HC:20701:LT:59*500*UN*2*11**1:2", "DTP*472*D8*20250304",
        "LX*2", "SV1*HC:20680*300*UN*3***2", "DTP*472*RD8*20250305-20250306",
        "NM1*82*1*OTHER*BOB****XX*1245319599", "PRV*PE*PXC*208600000X",
        "LX*3", "SV1*ER:X1234*10*UN*1***1", "DTP*472*D8*20250304",
    ])
    [record] = read_x12_text(text, "one.x12")
    assert record.error is None and (record.claim_id, record.where) == ("PCN0100", "segment 21")
    claim = record.iri
    node = lambda kind, n: URIRef(f"{claim}/{kind}/{n}")  # noqa: E731
    one, two = node("item", 1), node("item", 2)
    surgeon, other = node("careTeam", 1), node("careTeam", 2)
    assert set(record.triples) == {
        (claim, RDF.type, CPTKG.Claim), (claim, CPTKG.priorAuthorization, Literal("PA12345")),
        (claim, CPTKG.diagnosis, node("diagnosis", 1)), (claim, CPTKG.diagnosis, node("diagnosis", 2)),
        (node("diagnosis", 1), RDF.type, CPTKG.ClaimDiagnosis), (node("diagnosis", 1), CPTKG.sequence, Literal(1)),
        (node("diagnosis", 1), CPTKG.diagnosisCode, ICD10CM["T84.7XXA"]),
        (node("diagnosis", 2), RDF.type, CPTKG.ClaimDiagnosis), (node("diagnosis", 2), CPTKG.sequence, Literal(2)),
        (node("diagnosis", 2), CPTKG.diagnosisCode, ICD10CM["Z98.89"]),
        (claim, CPTKG.item, one), (one, RDF.type, CPTKG.ClaimItem), (one, CPTKG.lineNumber, Literal("1")),
        (one, CPTKG.sequence, Literal(1)), (one, CPTKG.productOrService, CPT["20701"]),
        (one, CPTKG.modifier, MOD["LT"]), (one, CPTKG.modifier, MOD["59"]), (one, CPTKG.quantity, Literal(2)),
        (one, CPTKG.location, POS["11"]), (one, CPTKG.servicedDate, Literal("2025-03-04", datatype=XSD.date)),
        (one, CPTKG.diagnosisSequence, Literal(1)), (one, CPTKG.diagnosisSequence, Literal(2)),
        (one, CPTKG.careTeamSequence, Literal(1)),
        (claim, CPTKG.item, two), (two, RDF.type, CPTKG.ClaimItem), (two, CPTKG.lineNumber, Literal("2")),
        (two, CPTKG.sequence, Literal(2)), (two, CPTKG.productOrService, CPT["20680"]),
        (two, CPTKG.quantity, Literal(3)), (two, CPTKG.location, POS["22"]),
        (two, CPTKG.servicedDate, Literal("2025-03-05", datatype=XSD.date)),
        (two, CPTKG.diagnosisSequence, Literal(2)), (two, CPTKG.careTeamSequence, Literal(2)),
        (claim, CPTKG.careTeam, surgeon), (surgeon, RDF.type, CPTKG.CareTeamMember),
        (surgeon, CPTKG.sequence, Literal(1)), (surgeon, CPTKG.provider, URIRef("urn:cptkg:npi:1234567893")),
        (surgeon, CPTKG.qualification, NUCC["207X00000X"]),
        (claim, CPTKG.careTeam, other), (other, RDF.type, CPTKG.CareTeamMember),
        (other, CPTKG.sequence, Literal(2)), (other, CPTKG.provider, URIRef("urn:cptkg:npi:1245319599")),
        (other, CPTKG.qualification, NUCC["208600000X"]),
        (claim, CPTKG.otherLine, node("line", 3)), (node("line", 3), RDF.type, CPTKG.OtherClaimLine),
        (node("line", 3), CPTKG.lineNumber, Literal("3")), (node("line", 3), CPTKG.otherCode, Literal("ER|X1234")),
    }


def test_an_837p_claims_problems_and_the_envelopes_are_named_three_then_counted() -> None:
    from cptkg.claims.x12 import read_x12_text

    segments = ["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA"]
    for number in range(1, 5):  # four lines, each with a one-day RD8 (a range needs two dates)
        segments += [f"LX*{number}", "SV1*HC:20701*500*UN*1***1", f"DTP*472*RD8*2025030{number}"]
    [record] = read_x12_text(_one_claim_837p(segments), "one.x12")
    invalid = 'DTP03: Data element "Service Date" (DTP03) contains an invalid date'
    assert record.error == (f"one.x12 segment 21: claim PCN0100: segment 25: {invalid} (20250301) (20250301); "
                            f"segment 28: {invalid} (20250302) (20250302); segment 31: {invalid} (20250303) "
                            "(20250303) (and 1 more)")
    text = _one_claim_837p(["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA", "LX*1",
                            "SV1*HC:20701*500*UN*1***1", "DTP*472*D8*20250304"])
    text = text.replace("GE*1*1", "GE*9*1").replace("IEA*1*", "IEA*7*").replace("SE*24*0001", "SE*99*0002")
    claim, envelope = read_x12_text(text, "one.x12")
    assert claim.readable and (envelope.claim_id, envelope.where) == ("one.x12 envelope", "segment 1")
    assert envelope.error == (
        "one.x12: the interchange does not follow the 837P map: segment 1: ISA: IEA count for IEA02=000000101 "
        "is wrong; segment 2: GS: GE count of 9 for GE02=1 is wrong. I count 1; segment 3: ST: SE count of 99 "
        "for SE02=0002 is wrong. I count 24 (and 1 more)")


def test_an_837p_claim_without_a_rendering_provider_is_the_billing_providers() -> None:
    from rdflib import Literal, URIRef

    from cptkg.claims.x12 import read_x12_text
    from cptkg.kg.namespaces import CPTKG, NUCC

    text = _one_claim_837p(["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA", "LX*1",
                            "SV1*HC:20701*500*UN*1***1", "DTP*472*D8*20250304"])
    [record] = read_x12_text(text, "one.x12")
    member = URIRef(f"{record.iri}/careTeam/1")
    assert {(p, o) for s, p, o in record.triples if s == member and p != CPTKG.sequence} >= {
        (CPTKG.provider, URIRef("urn:cptkg:npi:1245319599")), (CPTKG.qualification, NUCC["207X00000X"])}
    assert (URIRef(f"{record.iri}/item/1"), CPTKG.careTeamSequence, Literal(1)) in record.triples


def test_an_837p_date_that_is_not_a_date_names_its_segment() -> None:
    from cptkg.claims.x12 import read_x12_text

    text = _one_claim_837p(["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA", "LX*1",
                            "SV1*HC:20701*500*UN*1***1", "DTP*472*D8*2025"])
    [record] = read_x12_text(text, "one.x12")
    assert record.error == ('one.x12 segment 21: claim PCN0100: segment 25: DTP03: Data element "Service Date" '
                            "(DTP03) contains an invalid date (2025) (2025); segment 25: DTP*472 date '2025' is not "
                            "CCYYMMDD")


def test_an_837p_without_its_se_keeps_the_trailer_errors_outside_the_claim() -> None:
    from cptkg.claims.x12 import read_x12_text

    text = _one_claim_837p(["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA", "LX*1",
                            "SV1*HC:20701*500*UN*1***1", "DTP*472*D8*20250304"]).replace("SE*24*0001~\n", "")
    claim, envelope = read_x12_text(text, "one.x12")
    assert claim.readable and claim.claim_id == "PCN0100"
    assert envelope.error == ('one.x12: the interchange does not follow the 837P map: segment 2: GS: Unterminated '
                              'segment 0001; segment 26: Mandatory segment "Transaction Set Trailer" (SE) missing')


@pytest.mark.parametrize(("text", "fmt", "file", "said"), [
    ("{bad", "json-ld", "c.jsonld",
     "malformed JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
    ('{"@context": "https://x.org/c"}', "json-ld", "c.jsonld",
     "JSON-LD names a remote @context (https://x.org/c), which cptkg never fetches: inline the context"),
    ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><rdf:RDF/>', "xml", "c.rdf",
     "RDF/XML with a DOCTYPE or ENTITY declaration is refused (entities could read local files or fetch URLs)"),
])
def test_a_refused_graph_names_its_file_and_why(text: str, fmt: str, file: str, said: str) -> None:
    from cptkg.claims.safe_parse import parse_untrusted
    from cptkg.errors import InputError

    with pytest.raises(InputError) as caught:
        parse_untrusted(text, fmt, file)
    assert str(caught.value) == f"{file}: {said}"


def test_json_depth_is_counted_from_the_document_and_scalars_are_not_containers() -> None:
    from cptkg.claims.safe_parse import MAX_JSON_DEPTH, json_depth_ok, load_json
    from cptkg.errors import InputError

    assert json_depth_ok(5) and json_depth_ok("text") and json_depth_ok(None)
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(nested, "ok.json") is not None
    with pytest.raises(InputError) as caught:
        load_json("[" + nested + "]", "deep.json")
    assert str(caught.value) == f"deep.json: JSON nested deeper than {MAX_JSON_DEPTH} levels"


def test_an_837p_segment_error_names_the_segment_and_the_value() -> None:
    from cptkg.claims.x12 import read_x12_text

    text = _one_claim_837p(["CLM*PCN0100*900***22:B:1*Y*A*Y*Y", "HI*ABK:T847XXA", "LX*1",
                            "SV1*HC:20701*500*UN*1***1", "DTP*472*D8*20250304*X"])
    [record] = read_x12_text(text, "one.x12")
    assert record.error == ('one.x12 segment 21: claim PCN0100: segment 25: DTP: Too many elements in segment '
                            '"Date - Service Date" (DTP). Has 4, should have 3 (X)')


def test_bytes_that_hold_no_claims_are_one_record_saying_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    from cptkg.claims import files

    [empty] = files.read_bytes(b"  \n", "x.txt")
    assert (empty.claim_id, empty.source, empty.error) == (
        "x.txt", "x.txt", f"x.txt: an empty file: expected {files.EXPECTED} (or say which with --input-format)")
    [other] = files.read_bytes(b"Claim 1: knee", "x.txt")
    assert other.error == f"x.txt: not a claim file cptkg can read: expected {files.EXPECTED} (or say which with " \
                          "--input-format)"
    [latin] = files.read_bytes('{"resourceType": "Claim", "id": "é"}'.encode("latin-1"), "l.json")
    assert (latin.claim_id, latin.error) == ("l.json", "l.json: not UTF-8 text (byte 33); save the file as UTF-8")
    [binary] = files.read_bytes(b'{"a": "\x00"}', "b.json")
    assert (binary.claim_id, binary.error) == ("b.json", "b.json: a binary file, not claims")
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1 << 20)
    [large] = files.read_bytes(b"{" + b" " * (1 << 20), "big.json")
    assert (large.claim_id, large.error) == ("big.json", "big.json: larger than 1 MiB: split it, or use NDJSON")


def test_a_reader_that_breaks_leaves_one_unreadable_record_and_its_traceback_in_the_debug_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # The net under the readers, for a defect of cptkg's own (no input is known to reach it): the
    # claim is not dropped, and `--debug` shows where the reader broke.
    from cptkg.claims import files

    def broken_reader(data: bytes, source: str, form: str | None, *, fhir_strict: bool = False) -> None:
        raise ValueError("a reader's\n   own defect")

    monkeypatch.setattr(files, "read_bytes", broken_reader)
    path = tmp_path / "claim.json"
    path.write_text("{}", encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="cptkg.claims.files"):
        records = list(files.read_file(path))
    assert [(r.source, r.error) for r in records] == [
        (str(path), f"{path}: reading stopped: ValueError: a reader's own defect")]
    [logged] = [r for r in caplog.records if r.name == "cptkg.claims.files"]
    assert (logged.levelno, logged.getMessage()) == (logging.DEBUG, f"reading {path} failed")
    assert logged.exc_info is not None and str(logged.exc_info[1]) == "a reader's\n   own defect"


def test_a_folder_reads_its_own_links_and_names_what_is_not_a_file(tmp_path: Path) -> None:
    import os

    from cptkg.claims.files import expand_paths
    from cptkg.errors import InputError

    assert expand_paths(["-"]) == [Path("-")]
    folder = tmp_path / "claims"
    (folder / "nested.json").mkdir(parents=True)  # a folder with a claim file's name is walked, not read
    (folder / "nested.json" / "a.json").write_text("{}", encoding="utf-8")
    (folder / "b.json").symlink_to(folder / "nested.json" / "a.json")  # a link inside the folder is read
    assert expand_paths([folder]) == [folder / "b.json", folder / "nested.json" / "a.json"]
    os.mkfifo(folder / "pipe.ttl")
    with pytest.raises(InputError) as caught:
        expand_paths([folder])
    assert str(caught.value) == (f"{folder / 'pipe.ttl'} is not a regular file (a device, FIFO or socket): give claim "
                                 "files or folders, or - for standard input")
    (folder / "pipe.ttl").unlink()
    (folder / "gone.json").symlink_to(folder / "missing.json")
    with pytest.raises(InputError) as caught:
        expand_paths([folder])
    assert str(caught.value) == f"cannot read {folder / 'gone.json'}: No such file or directory"


def test_the_claim_graph_builder_writes_only_the_claim_vocabulary() -> None:
    """Every reader writes through ClaimGraph: child nodes are named and typed as the vocabulary
    says, and a statement outside record.VOCABULARY is refused as it is written."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF

    from cptkg.claims.record import ClaimGraph
    from cptkg.kg.namespaces import CPTKG

    graph = ClaimGraph(URIRef("urn:cptkg:claim:c"))
    line = graph.child(CPTKG.item, 2)
    assert line == URIRef("urn:cptkg:claim:c/item/2")
    graph.add(line, CPTKG.quantity, Literal(1))
    assert (line, RDF.type, CPTKG.ClaimItem) in graph.triples
    with pytest.raises(ValueError, match="not in the claim vocabulary"):
        graph.add(line, CPTKG.diagnosisCode, Literal("T85.735A"))  # a diagnosis's, not a line's
    with pytest.raises(ValueError, match="not in the claim vocabulary"):
        graph.add_all(graph.iri, CPTKG.judgedByEdition, [Literal("x")])  # cptkg's own statement
