"""`cptkg validate` through the real command line: formats, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from tests.conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples" / "claims"
GOOD_JSON = EXAMPLES / "addon-requires-primary_PASS.json"
BAD_JSON = EXAMPLES / "addon-modifier-51_XFAIL.json"


def one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_conforming_claim_exit_0() -> None:
    proc = run_cli("validate", str(GOOD_JSON))
    assert proc.returncode == 0, proc.stderr
    assert "conforms" in proc.stdout


def test_warnings_only_exit_0() -> None:
    proc = run_cli("validate", str(EXAMPLES / "specialty_XFAIL.ttl"), "--format", "json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["conforms"] is True
    assert [r["severity"] for r in data["claims"][0]["results"]] == ["Warning"]


def test_json_output_shape_and_order() -> None:
    paths = [BAD_JSON, GOOD_JSON, EXAMPLES / "addon-modifier-51_XFAIL.ttl"]
    proc = run_cli("validate", *map(str, paths), "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert set(data) == {"conforms", "claims"}
    assert data["conforms"] is False
    assert [c["claim"] for c in data["claims"]] == [
        "addon-modifier-51-XFAIL", "addon-requires-primary-PASS",
        "https://example.org/claims/addon-modifier-51_XFAIL"]
    for claim in data["claims"]:
        assert set(claim) == {"claim", "conforms", "verdict", "origin", "reason", "results"}
        assert set(claim["origin"]) == {"file", "where"}
        for result in claim["results"]:
            assert set(result) == {"rule", "severity", "line", "code", "diagnosis", "focus", "path", "value",
                                   "message", "evidence"}
            for fact in result["evidence"]:
                assert set(fact) == {"subject", "property", "value", "statement", "sources", "quote"}
                assert all(set(source) == {"id", "title"} for source in fact["sources"])
    assert [(c["verdict"], c["origin"]) for c in data["claims"]] == [
        ("does-not-conform", {"file": str(BAD_JSON), "where": None}),
        ("conforms", {"file": str(GOOD_JSON), "where": None}),
        ("does-not-conform", {"file": str(paths[2]), "where": None})]
    first = data["claims"][0]["results"][0]
    assert first["rule"] == "AddOnModifier51"
    assert first["severity"] == "Violation"
    assert (first["line"], first["code"], first["diagnosis"]) == ("2", "20701", None)
    # Named by the input's path and the claim's id: stable, and apart from the same id elsewhere.
    assert first["focus"] == f"urn:cptkg:claim:{quote(str(BAD_JSON), safe='')}::addon-modifier-51-XFAIL/item/2"
    assert first["value"] == "51"
    # Modifier 51's rule, and that 20701 is an add-on, each as the graph states it.
    assert {(e["subject"], e["property"], e["value"]) for e in first["evidence"]} == {
        ("51", "notAppendedToAddOnCodes", "true"), ("20701", "type", "AddOnCode")}
    # --no-evidence leaves the field out, and nothing else changes.
    bare = json.loads(run_cli("validate", *map(str, paths), "--format", "json", "--no-evidence").stdout)
    for claim, full in zip(bare["claims"], data["claims"], strict=True):
        assert [set(r) for r in claim["results"]] == [set(r) - {"evidence"} for r in full["results"]]
        assert [r["message"] for r in claim["results"]] == [r["message"] for r in full["results"]]


def test_jsonl_one_line_per_claim() -> None:
    proc = run_cli("validate", str(BAD_JSON), str(GOOD_JSON), "--format", "jsonl")
    lines = proc.stdout.strip().splitlines()
    assert [json.loads(line)["conforms"] for line in lines] == [False, True]


def test_turtle_format_is_a_shacl_report() -> None:
    proc = run_cli("validate", str(BAD_JSON), "--format", "turtle")
    assert proc.returncode == 1
    graph = Graph().parse(data=proc.stdout, format="turtle")
    (report,) = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms).toPython() is False
    results = list(graph.objects(report, SH.result))
    assert len(results) == 1
    assert str(graph.value(results[0], SH.sourceShape)) == "https://w3id.org/cptkg/shapes#AddOnModifier51"


def test_table_and_human_formats() -> None:
    proc = run_cli("validate", str(BAD_JSON), "--format", "table")
    header, row = proc.stdout.strip().splitlines()
    assert header.split("\t") == ["claim", "verdict", "file", "where", "line", "code", "diagnosis", "severity",
                                  "rule", "value", "message"]
    assert row.split("\t")[:10] == ["addon-modifier-51-XFAIL", "does-not-conform", str(BAD_JSON), "", "2", "20701",
                                    "", "Violation", "AddOnModifier51", "51"]
    human = run_cli("validate", str(BAD_JSON)).stdout
    assert "line 2 (20701)  Violation  AddOnModifier51" in human
    assert "1 claim: 0 conforming, 1 not, 0 not applicable, 0 unreadable; 1 violations, 0 warnings" in human


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run_cli("validate", str(GOOD_JSON), "--format", "json", "--output", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text())["conforms"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no partial file left


def test_a_failed_run_leaves_the_output_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("yesterday's report\n")
    proc = run_cli("validate", str(tmp_path / "missing.json"), "--format", "json", "--output", str(out))
    assert proc.returncode == 2
    assert out.read_text() == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def claim_json(**changes) -> dict:
    data = json.loads(GOOD_JSON.read_text())
    data.update(changes)
    return data


BAD_SINGLE = {
    "malformed.ttl": ("@prefix ex: <http://ex/> .\nex:a ex:b", "malformed Turtle"),
    "malformed.json": ('{"resourceType": "Claim", ', "malformed JSON"),
    "patient.json": (json.dumps({"resourceType": "Patient", "id": "p1"}), "not a FHIR Claim"),
    "no-items.json": (json.dumps(claim_json(item=[])), None),
    "bad-date.json": (None, "servicedDate"),
    "unknown-form.txt": ("Claim 1: knee, 20701\n", "not a claim file cptkg can read: expected FHIR JSON"),
    "no-claims.ttl": ("@prefix ex: <http://ex/> .\nex:a ex:b ex:c .", "no claims found"),
    "bad-date.ttl": (None, "bad date"),
    "no-items.ttl": ("@prefix cptkg: <https://w3id.org/cptkg/ontology#> .\n"
                     "<https://example.org/c> a cptkg:Claim .", "no items"),
}


def _bad_file(tmp_path: Path, name: str) -> Path:
    text, _ = BAD_SINGLE[name]
    if name == "bad-date.json":
        data = claim_json()
        data["item"][0]["servicedDate"] = "2025-02-30"
        text = json.dumps(data)
    if name == "bad-date.ttl":
        text = (EXAMPLES / "addon-requires-primary_PASS.ttl").read_text().replace(
            '"2025-03-04"^^xsd:date', '"2025-13-45"^^xsd:date', 1)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(BAD_SINGLE))
def test_bad_single_input_is_exit_2_one_line(tmp_path: Path, name: str) -> None:
    path = _bad_file(tmp_path, name)
    line = one_line_error(run_cli("validate", str(path)))
    expected = BAD_SINGLE[name][1] or "no items"
    assert expected in line, line
    assert str(path) in line or path.name in line, line


def test_bad_claims_inside_a_batch_are_reported_unreadable(tmp_path: Path) -> None:
    good = json.loads(GOOD_JSON.read_text())
    bad_date = json.loads(GOOD_JSON.read_text())
    bad_date["id"] = "bad-date"
    bad_date["item"][0]["servicedDate"] = "2025-02-30"
    lines = [json.dumps(dict(good, id="first")), "{not json", json.dumps({"resourceType": "Patient"}),
             json.dumps(bad_date), json.dumps(dict(good, id="last"))]
    path = tmp_path / "batch.ndjson"
    path.write_text("\n".join(lines) + "\n")
    proc = run_cli("validate", str(path), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    claims = json.loads(proc.stdout)["claims"]
    assert len(claims) == 5
    assert [c["conforms"] for c in claims] == [True, False, False, False, True]
    for claim in claims[1:4]:
        (result,) = claim["results"]
        assert result["rule"] == "Unreadable" and result["severity"] == "Violation"
    assert "batch.ndjson line 2" in claims[1]["results"][0]["message"]
    assert [c["origin"]["where"] for c in claims] == [f"line {n}" for n in range(1, 6)]
    assert claims[3]["claim"] == "bad-date"


def test_bundle_with_a_non_claim_entry(tmp_path: Path) -> None:
    good = json.loads(GOOD_JSON.read_text())
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": good}, {"resource": {"resourceType": "Patient"}},
                        {"resource": json.loads(BAD_JSON.read_text())}]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    data = json.loads(run_cli("validate", str(path), "--format", "json").stdout)
    # The Patient is what claims may reference, never a claim of its own.
    assert [(c["conforms"], c["origin"]["where"]) for c in data["claims"]] == [(True, "entry[0]"), (False, "entry[2]")]
    assert data["claims"][1]["results"][0]["rule"] == "AddOnModifier51"


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "no such file" in one_line_error(run_cli("validate", str(tmp_path / "nope.json")))
    assert "no claim files" in one_line_error(run_cli("validate", str(tmp_path)))


def test_icd_codes_without_the_dot(tmp_path: Path) -> None:
    data = claim_json()
    data["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = "T847XXA"
    path = tmp_path / "nodot.json"
    path.write_text(json.dumps(data))
    proc = run_cli("validate", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(("suffix", "fmt"), [(".jsonld", "json-ld"), (".nt", "nt")])
def test_jsonld_and_ntriples_claims_validate_like_turtle(tmp_path: Path, suffix: str, fmt: str) -> None:
    source = EXAMPLES / "diagnosis-pointer_XFAIL.ttl"
    graph = Graph().parse(source, format="turtle")
    path = tmp_path / f"claim{suffix}"
    path.write_text(graph.serialize(format=fmt, **({"auto_compact": True} if fmt == "json-ld" else {})))
    got = json.loads(run_cli("validate", str(path), "--format", "json").stdout)
    want = json.loads(run_cli("validate", str(source), "--format", "json").stdout)
    assert got["claims"][0]["results"] == want["claims"][0]["results"]
    assert got["claims"][0]["results"][0]["rule"] == "DiagnosisPointerResolves"
