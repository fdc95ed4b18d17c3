"""The two FHIR readers held to each other: the direct reader (default) and fhir.resources
(`--fhir-strict`) make identical claim graphs, and the same verdicts, on every example, every
fixture and the claims hypothesis generates; on a claim broken in an element cptkg reads, both
refuse it; fhir.resources alone refuses what cptkg does not read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cptkg.claims import fhir
from cptkg.claims.files import read_paths
from cptkg.kg.namespaces import CPTKG
from tests.conftest import ROOT, run_cli
from tests.strategies import JUNK, claim_batches, fhir_claims

CPT = "http://www.ama-assn.org/go/cpt"
FHIR_FILES = sorted((ROOT / "examples" / "claims").glob("*.json")) + sorted(
    p for p in (ROOT / "examples" / "inputs").iterdir() if p.suffix in (".json", ".ndjson"))


def _shape(records: list[Any]) -> list[tuple[Any, ...]]:
    """What a reader made of an input: each claim's name, place, graph (as sorted N-Triples) and
    whether it could be read (the reasons' words differ between the readers; that one is refused
    does not). A problem in what only the rules read (``rule_input_error``: a diagnosis without a
    code, where fhir.resources refuses the claim outright) is a refusal the direct reader defers
    until a rule judges the claim (Validator.settle): here it counts as refused."""
    return [(r.claim_id, r.where, r.iri, sorted(" ".join(t.n3() for t in triple) for triple in r.triples),
             r.error is None and r.rule_input_error is None, r.not_applicable) for r in records]


def both(resource: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    out = []
    for strict in (False, True):
        out.append(_shape(list(fhir.records_from_resource(copy.deepcopy(resource), "claims.json", fhir_strict=strict))))
    return out[0], out[1]


@pytest.mark.parametrize("path", FHIR_FILES, ids=lambda p: p.name)
def test_same_claim_graphs_on_examples_and_fixtures(path: Path) -> None:
    shapes = []
    for strict in (False, True):
        shapes.append(_shape(list(read_paths([path], fhir_strict=strict))))
    assert shapes[0] == shapes[1]
    assert shapes[0], path


def test_same_results_end_to_end() -> None:
    """The command line's JSON report, with and without --fhir-strict, on every FHIR input."""
    runs = [run_cli("validate", *map(str, FHIR_FILES), "--format", "json", *flag) for flag in ([], ["--fhir-strict"])]
    assert runs[0].returncode == runs[1].returncode == 1, runs[0].stderr
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)


# Claims as hypothesis writes them, widened with what the examples' generator never writes:
# detail and sub-detail lines, periods, modifiers, billable periods, references, EOBs.
@st.composite
def widened_claims(draw: Any) -> dict[str, Any]:
    claim = draw(fhir_claims())
    for item in claim["item"]:
        if draw(st.booleans()) and "servicedDate" in item:
            day = item.pop("servicedDate")
            item["servicedPeriod"] = draw(st.sampled_from([{"start": day}, {"end": day + "T10:00:00-05:00"},
                                                            {"start": day + "T23:30:00+14:00"}]))
        if draw(st.booleans()):
            item["modifier"] = [{"coding": [{"code": m}]} for m in draw(st.lists(
                st.sampled_from(["51", "59", "RT", "LT", "XS", "F1", "xs"]), max_size=2, unique=True))]
        if draw(st.booleans()):
            details = []
            for n in range(1, draw(st.integers(1, 2)) + 1):
                code = draw(st.sampled_from(["20701", "20702", "27301"]))
                coded = {"coding": [{"system": CPT, "code": code}]}
                detail: dict[str, Any] = {"sequence": n, "productOrService": coded,
                                          "quantity": {"value": draw(st.sampled_from([1, 2, 1.0, 2.5]))}}
                if draw(st.booleans()):
                    detail["subDetail"] = [{"sequence": 1, "productOrService": {"text": "supply"}}]
                details.append(detail)
            item["detail"] = details
    if draw(st.booleans()):
        claim["billablePeriod"] = {"start": "2025-03-04", "end": "2025-03-06"}
    if draw(st.booleans()):
        reference = draw(st.sampled_from(["#dx", "Condition/none"]))
        sequence = len(claim["diagnosis"]) + 1
        claim["diagnosis"].append({"sequence": sequence, "diagnosisReference": {"reference": reference}})
        claim["contained"] = [{"resourceType": "Condition", "id": "dx", "subject": {"reference": "Patient/p"},
                               "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                    "code": "T85.738A"}]}}]
    if draw(st.booleans()):
        claim["insurance"][0]["preAuthRef"] = ["PA-1"]
    return claim


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim=widened_claims())
def test_same_claim_graphs_on_generated_claims(claim: dict[str, Any]) -> None:
    direct, strict = both(claim)
    assert direct == strict


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_batches())
def test_same_claim_graphs_in_bundles(claims: list[dict[str, Any]]) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": c} for i, c in enumerate(claims)]}
    direct, strict = both(bundle)
    assert direct == strict


# The elements cptkg reads, by name: breaking one of these must make both readers refuse the claim
# (or both read it the same way, where the junk is still a valid value).
READ = {"item", "sequence", "servicedDate", "productOrService", "coding", "code", "system", "quantity", "value",
        "diagnosis", "diagnosisCodeableConcept", "careTeam", "provider", "reference", "qualification",
        "supportingInfo", "category", "valueString", "locationCodeableConcept", "bodySite", "diagnosisSequence",
        "careTeamSequence", "text"}


def _read_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in READ:
                out.append((*prefix, k))
                out += _read_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out += _read_paths(v, (*prefix, i))
    return out


@st.composite
def broken_where_read(draw: Any) -> tuple[dict[str, Any], tuple]:
    claim = copy.deepcopy(draw(fhir_claims()))
    # Below the claim, cptkg reads its lines, diagnoses, care team and supporting information.
    paths = [p for p in _read_paths(claim) if p[0] in ("item", "diagnosis", "careTeam", "supportingInfo")]
    path = draw(st.sampled_from(paths))
    parent: Any = claim
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = draw(JUNK)
    return claim, path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=broken_where_read())
def test_a_claim_broken_where_cptkg_reads(case: tuple[dict[str, Any], tuple]) -> None:
    """Read alike by both, or refused by both, or refused by one for a reason that is its own:
    fhir.resources refuses elements cptkg does not read (an unknown key inside a coding); the direct
    reader refuses values that FHIR's JSON types refuse and fhir.resources coerces (true as 1, a
    number as a date, a code with a tab), and names the very element that was broken."""
    claim, path = case
    direct, strict = both(claim)
    if direct[0][4] and strict[0][4]:
        assert direct == strict
        return
    if direct[0][4] == strict[0][4]:
        return  # both refuse
    errors = []
    for strict_reader in (False, True):
        [record] = fhir.records_from_resource(copy.deepcopy(claim), "c.json", fhir_strict=strict_reader)
        errors.append(record.error or record.rule_input_error or "")
    if direct[0][4]:
        assert "Extra inputs are not permitted" in errors[1], errors[1]
    else:
        assert ".".join(map(str, path)) in errors[0], (path, errors[0])


def _set_extension(claim: dict[str, Any], value: Any) -> None:
    claim["item"][0]["modifierExtension"] = [{"url": "http://example.org/x", "valueBoolean": value}]



# Each check of the direct reader, with the exact reason it gives (what and where): a reason that
# names the wrong element, or none, leaves the user guessing.
@pytest.mark.parametrize(("change", "reason"), [
    (lambda c: c["item"][0].update(servicedDate="2025-02-30"),
     "item.0.servicedDate: '2025-02-30' is not a date of the calendar"),
    (lambda c: c["item"][0].update(servicedDate="04/03/2025"),
     "item.0.servicedDate: '04/03/2025' is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)"),
    (lambda c: c["item"][0].update(sequence=0),
     "item.0.sequence: 0 is not a positive whole number (1 to 2147483647)"),
    (lambda c: c["item"][0].update(sequence=2**31),
     "item.0.sequence: 2147483648 is not a positive whole number (1 to 2147483647)"),
    (lambda c: c["diagnosis"][0].update(sequence=True),
     "diagnosis.0.sequence: True is not a positive whole number (1 to 2147483647)"),
    (lambda c: c["item"][0].update(quantity={"value": "two"}), "item.0.quantity.value: 'two' is not a number"),
    (lambda c: c["item"][0].update(quantity={"value": True}), "item.0.quantity.value: True is not a number"),
    (lambda c: c["item"][0].update(servicedPeriod={"start": "2025-03-04"}),
     "item.0: serviced[x] is given as servicedDate and servicedPeriod: give one"),
    (lambda c: c["item"][0]["productOrService"]["coding"][0].update(code=" 20701"),
     "item.0.productOrService.coding.0.code: ' 20701' is not a FHIR code (no leading, trailing or double spaces)"),
    (lambda c: c["item"][0]["productOrService"]["coding"][0].update(code=20701),
     "item.0.productOrService.coding.0.code: 20701 is not a string"),
    (lambda c: c["item"][0]["productOrService"]["coding"][0].update(system="http://x y"),
     "item.0.productOrService.coding.0.system: 'http://x y' is not a URI (no spaces)"),
    (lambda c: c["item"][0].pop("productOrService"), "item.0.productOrService: Field required"),
    (lambda c: c["item"][0].update(productOrService=None), "item.0.productOrService: Field required"),
    (lambda c: c["supportingInfo"][0].update(category=None), "supportingInfo.0.category: Field required"),
    (lambda c: c.update(billablePeriod={"start": "2025-03-04T25:00:00Z"}),
     "billablePeriod.start: '2025-03-04T25:00:00Z' is not a FHIR dateTime"),
    (lambda c: c.update(billablePeriod={"start": "2025-02-30T10:00:00Z"}),
     "billablePeriod.start: '2025-02-30' is not a date of the calendar"),
    (lambda c: c.update(id="has space"), "id: 'has space' is not a FHIR id (letters, digits, - and ., at most 64)"),
    (lambda c: c["supportingInfo"][0].update(valueString=""),
     "supportingInfo.0.valueString: '' is not a FHIR string (not empty; no whitespace but spaces, tabs and line "
     "breaks)"),
    (lambda c: c["supportingInfo"][0].update(valueString="a\vb"),  # fhir.resources's pattern is not anchored
     "supportingInfo.0.valueString: 'a\\x0bb' is not a FHIR string (not empty; no whitespace but spaces, tabs "
     "and line breaks)"),
    (lambda c: _set_extension(c, "yes"), "item.0.modifierExtension.0.valueBoolean: 'yes' is not true or false"),
    (lambda c: c.update(item={"sequence": 1}), "item: a list is expected here, not a JSON dict"),
    (lambda c: c.update(diagnosis=[1]), "diagnosis.0: an object is expected here, not a JSON int"),
], ids=["calendar", "date-form", "sequence-0", "sequence-2^31", "sequence-true", "quantity-text", "quantity-true",
        "two-serviced", "code-space", "code-number", "uri-space", "required-absent", "required-null",
        "category-null", "datetime-form", "datetime-calendar", "id", "empty-string", "vertical-tab", "boolean",
        "not-a-list", "not-an-object"])
def test_the_direct_reader_names_what_is_wrong(change: Any, reason: str) -> None:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    change(claim)
    [record] = fhir.records_from_resource(claim, "c.json", fhir_strict=False)
    assert record.error == f"c.json: not a valid FHIR R4 Claim: {reason}"


@pytest.mark.parametrize("change", [
    lambda c: c["item"][0].update(sequence=2**31 - 1),
    lambda c: c.update(billablePeriod={"start": "2025-03-04T10:00:00Z", "end": "2025-03"}),
    lambda c: _set_extension(c, False),
    lambda c: c["item"][0].update(quantity={"value": 1.0}),
    lambda c: c["supportingInfo"][0].update(valueString=" \t\n"),  # FHIR's string pattern takes whitespace
], ids=["sequence-max", "datetime-and-month", "boolean", "decimal", "blank-string"])
def test_the_direct_reader_takes_what_is_valid_at_the_edges(change: Any) -> None:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    change(claim)
    read = []
    for strict in (False, True):
        [record] = fhir.records_from_resource(copy.deepcopy(claim), "c.json", fhir_strict=strict)
        # (an unknown modifierExtension is refused by cptkg, not as invalid FHIR, by both readers)
        assert "not a valid FHIR" not in (record.error or "")
        read.append((record.error, sorted(record.triples)))
    assert read[0] == read[1]


def test_a_prior_authorization_is_its_trimmed_text_and_a_blank_one_none() -> None:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim["insurance"][0]["preAuthRef"] = ["  ", " PA-1\t"]
    for strict in (False, True):
        [record] = fhir.records_from_resource(copy.deepcopy(claim), "c.json", fhir_strict=strict)
        assert [str(o) for _s, p, o in record.triples if p == CPTKG.priorAuthorization] == ["PA-1"], strict


def test_a_claim_without_lines_is_unreadable_on_both_readers() -> None:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim.pop("item")
    for strict in (False, True):
        [record] = fhir.records_from_resource(copy.deepcopy(claim), "c.json", fhir_strict=strict)
        assert record.error == "c.json: Claim addon-requires-primary-PASS: the claim has no items: nothing to validate"


def test_a_null_code_is_a_reason_on_the_strict_reader_too() -> None:
    """fhir.resources lets a required productOrService be null; the converter names it (it once
    failed as "could not be read ... please report it")."""
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim["item"][0]["productOrService"] = None
    [record] = fhir.records_from_resource(claim, "c.json", fhir_strict=True)
    assert record.error == ("c.json: Claim addon-requires-primary-PASS: line 1 has no productOrService: "
                            "give the procedure code")


def test_only_the_strict_reader_refuses_what_cptkg_does_not_read() -> None:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim.pop("patient")
    claim["unknownElement"] = 1
    direct, strict = both(claim)
    assert direct[0][4] is True and strict[0][4] is False
    [record] = fhir.records_from_resource(claim, "c.json", fhir_strict=True)
    assert "patient" in (record.error or "") or "unknownElement" in (record.error or "")


def _without_patient(tmp_path: Path) -> Path:
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim.pop("patient")
    path = tmp_path / "no-patient.json"
    path.write_text(json.dumps(claim), encoding="utf-8")
    return path


def test_fhir_strict_from_the_flag_and_the_configuration(tmp_path: Path) -> None:
    path = _without_patient(tmp_path)
    assert run_cli("validate", str(path)).returncode == 0  # cptkg reads no patient
    strict = run_cli("validate", str(path), "--fhir-strict")
    assert strict.returncode == 2 and "patient" in strict.stderr and strict.stderr.count("\n") == 1
    config = tmp_path / "cptkg.toml"
    config.write_text("[validate]\nfhir-strict = true\n", encoding="utf-8")
    assert run_cli("validate", str(path), "--config", str(config)).returncode == 2
    config.write_text("[validate]\nfhir-strict = \"yes\"\n", encoding="utf-8")
    wrong = run_cli("validate", str(path), "--config", str(config))
    assert wrong.returncode == 2 and "fhir-strict must be true or false" in wrong.stderr


def test_a_dask_partition_reads_as_the_driver_does(tmp_path: Path) -> None:
    """Workers take the reader from the partition (the driver's --fhir-strict): no process-wide
    setting decides it."""
    from cptkg.rules.distributed import Partition, validate_partition

    data = _without_patient(tmp_path).read_bytes()
    verdicts = []
    for strict in (False, True):
        part = Partition(0, "no-patient.json", data, False, form="fhir", fhir_strict=strict)
        [report] = validate_partition(part)
        verdicts.append([r["rule"] for r in report["results"]])
    assert verdicts == [[], ["Unreadable"]]


def test_a_modifier_extension_spelled_with_escapes_is_still_found(tmp_path: Path) -> None:
    """Reading skips the search for modifierExtension when the text never names one; a key spelled
    with a \\u escape must not slip past that."""
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim["item"][0]["modifierExtension"] = [{"url": "http://example.org/void", "valueBoolean": True}]
    text = json.dumps(claim).replace('"modifierExtension"', '"modifier\\u0045xtension"')
    assert "modifierExtension" not in text
    for name, body in (("one.json", text), ("many.ndjson", text + "\n" + text + "\n")):
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        done = run_cli("validate", str(path), "--format", "json")
        if name == "one.json":  # the only claim, unreadable: exit 2 and one line
            assert done.returncode == 2 and "http://example.org/void" in done.stderr
        else:
            claims_out = json.loads(done.stdout)["claims"]
            assert [c["verdict"] for c in claims_out] == ["unreadable", "unreadable"]
            assert "http://example.org/void" in claims_out[0]["results"][0]["message"]


def _example(name: str = "addon-requires-primary_PASS.json") -> dict[str, Any]:
    return json.loads((ROOT / "examples" / "claims" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("strict", [False, True])
def test_an_unknown_modifier_extension_is_named_with_where_it_sits(strict: bool) -> None:
    claim = _example()
    claim["item"][1]["detail"] = [{"sequence": 1, "productOrService": claim["item"][1]["productOrService"],
                                   "modifierExtension": [{"url": "http://example.org/void", "valueBoolean": True}]}]
    [record] = fhir.records_from_resource(claim, "c.json", "line 4", fhir_strict=strict)
    assert record.error == ("c.json line 4: Claim addon-requires-primary-PASS: Claim.item[1].detail[0] has the "
                            "modifierExtension http://example.org/void, which cptkg does not understand "
                            "(FHIR forbids ignoring one)")


@pytest.mark.parametrize(("bundle", "reason"), [
    ({"resourceType": "Bundle", "type": "collection"}, "b.json entry 2: a Bundle with no entries"),
    ({"resourceType": "Bundle", "type": "collection", "entry": []}, "b.json entry 2: a Bundle with no entries"),
])
def test_an_empty_bundle_is_one_record_with_its_place(bundle: dict[str, Any], reason: str) -> None:
    [record] = fhir.records_from_resource(bundle, "b.json", "entry 2")
    assert (record.claim_id, record.where, record.error) == ("b.json entry 2", "entry 2", reason)


def test_a_bundle_entry_without_a_resource_does_not_hide_the_claims_after_it() -> None:
    claim = _example()
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"request": {"method": "DELETE", "url": "Claim/old"}}, {"fullUrl": "urn:uuid:1"},
                        {"fullUrl": "urn:uuid:2", "resource": claim}]}
    records = list(fhir.records_from_resource(bundle, "b.json"))
    assert [(r.claim_id, r.readable) for r in records] == [("addon-requires-primary-PASS", True)]
    assert records[0].where == "entry[2]"


def test_places_compose_inside_a_line_of_ndjson() -> None:
    """A Bundle on NDJSON line 3 names its claims "line 3, entry[N]"; malformed JSON names its line."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": _example()}]}
    [record] = fhir.records_from_resource(bundle, "b.ndjson", "line 3")
    assert (record.where, record.readable) == ("line 3, entry[0]", True)
    [broken] = fhir.read_json_text("{bad", "x.json", "line 2")
    assert (broken.claim_id, broken.source, broken.where) == ("x.json", "x.json", "line 2")
    assert broken.error == ("x.json, line 2: malformed JSON at line 1, column 2: Expecting property name "
                            "enclosed in double quotes")
    [whole] = fhir.read_json_text("{bad", "x.json")
    assert whole.error == ("x.json: malformed JSON at line 1, column 2: Expecting property name enclosed "
                           "in double quotes")


def test_the_direct_view_refuses_an_element_cptkg_does_not_read() -> None:
    from cptkg.claims.fhirjson import claim_view

    view = claim_view(_example())
    assert view.item[0].sequence == 1 and view.raw() is not None
    with pytest.raises(AttributeError) as caught:
        _ = view.patientPaid
    assert str(caught.value) == "cptkg's FHIR view does not read the element 'patientPaid'"


def test_a_long_line_is_cut_at_the_limit_and_the_rest_of_it_skipped() -> None:
    import io

    lines = list(fhir.bounded_lines(io.BytesIO(b"x" * 100 + b"\n" + b"ok\n" + b"y" * 30), limit=10))
    assert lines == [b"x" * 11, b"ok\n", b"y" * 11]
    assert list(fhir.bounded_lines(io.BytesIO(b"short\n"), limit=10)) == [b"short\n"]


def test_a_json_document_with_an_unknown_modifier_extension_is_refused() -> None:
    claim = _example()
    claim["modifierExtension"] = [{"url": "http://example.org/void", "valueBoolean": True}]
    [record] = fhir.read_json_text(json.dumps(claim), "c.json")
    assert record.error == ("c.json: Claim addon-requires-primary-PASS: Claim has the modifierExtension "
                            "http://example.org/void, which cptkg does not understand (FHIR forbids ignoring one)")


def test_an_other_coded_line_keeps_its_sequence_and_only_documentation_categories_count() -> None:
    from rdflib import Literal, URIRef

    claim = _example()
    claim["item"].append({"sequence": 9, "productOrService": {"coding": [
        {"system": "https://www.nubc.org/CodeSystem/RevenueCodes", "code": "0360"}]}})
    claim["supportingInfo"] = [{"sequence": 7, "category": {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/claiminformationcategory", "code": "attachment"}]}}]
    for strict in (False, True):
        [record] = fhir.records_from_resource(claim, "c.json", fhir_strict=strict)
        other = URIRef(f"{record.iri}/line/9")  # lines are named by their sequence
        assert (other, CPTKG.sequence, Literal(9)) in record.triples, strict
        first = URIRef(f"{record.iri}/item/{claim['item'][0]['sequence']}")
        assert [o for s, p, o in record.triples if s == first and p == CPTKG.sequence] == [
            Literal(claim["item"][0]["sequence"])], strict
        assert not any(p == CPTKG.supportingInfo for _s, p, _o in record.triples), strict
