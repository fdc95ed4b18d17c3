"""`cptkg show` and `cptkg export --format turtle`, through the real command line."""

from __future__ import annotations

import json
import os

import pytest
from rdflib import Graph

from tests.conftest import run_cli


def test_show_20701_json() -> None:
    proc = run_cli("show", "20701", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["notation"] == "20701"
    assert data["addOn"] is True
    assert data["codeSystem"] == "http://www.ama-assn.org/go/cpt"
    assert data["action"] == "removal"
    assert data["descriptor"] == "Removal of drug-delivery device(s), deep (eg, subfascial)."
    related = [(r["relation"], r["notation"]) for r in data["related"]]
    # Each related code once, under its most specific relation: 20700 is the insertion
    # counterpart, not also "same family" and "see also" (the query itself lists all three).
    assert related == [("insertion counterpart", "20700"), ("primary context", "62361"),
                       ("primary context", "62362"), ("pump removal coded as", "62365"),
                       ("same family", "20702"), ("same family", "20703"), ("same family", "20704"),
                       ("same family", "20705"), ("stand-alone alternative", "20680")]
    assert {p["pos"] for p in data["placesOfService"]} == {"21", "24"}
    medicare = {(s["taxonomy"], s.get("medicareSpecialty")) for s in data["specialties"]}
    assert ("207X00000X", "20") in medicare and ("207T00000X", "14") in medicare
    infection = next(i for i in data["indications"] if i["indication"] == "infection")
    assert "T85.735" in {c["code"] for c in infection["icd10cm"]}
    assert {d["element"] for d in data["documentation"]} == {
        "primary-procedure", "removal-reason", "device-location", "complications"}
    assert len(data["examples"]) == 3
    assert len(data["procedureSteps"]) == 8
    assert {"AddOnCode", "RemovalCode", "DrugDeliveryDeviceCode"} <= set(data["classes"])
    assert "article-20701" in {s["source"] for s in data["sources"]}


def test_show_human_card() -> None:
    proc = run_cli("show", "+20700")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("+20700  Insert drug-delivery device, deep")
    lines = proc.stdout.splitlines()
    start = lines.index("Related codes:")
    assert lines[start:start + 11] == [
        "Related codes:",
        "  not reported with:",
        "    - 11981 Insert non-biodegradable drug-delivery implant",
        "  removal counterpart:",
        "    - 20701 Remove drug-delivery device, deep",
        "  same family:",
        "    - 20702 Insert drug-delivery device, intramedullary",
        "    - 20703 Remove drug-delivery device, intramedullary",
        "    - 20704 Insert drug-delivery device, intra-articular",
        "    - 20705 Remove drug-delivery device, intra-articular",
        ""]
    # The 76 primaries once, under their own heading (not again among the related codes).
    assert "Acceptable primaries:" in lines and proc.stdout.count("28122") == 1


def test_show_says_what_the_graph_does_not_know() -> None:
    import json

    sparse = json.loads(run_cli("show", "20705", "--format", "json").stdout)
    assert sparse["notKnown"] == [
        {"facts": "places of service", "rulesThatCannotJudge": ["PlaceOfServiceTypical"]},
        {"facts": "specialties", "rulesThatCannotJudge": ["SpecialtyTypical"]}]
    # The guidance's indications (device infection, osteomyelitis) are the family's.
    assert {i["indication"] for i in sparse["indications"]} == {"infection", "osteomyelitis"}
    assert json.loads(run_cli("show", "20701", "--format", "json").stdout)["notKnown"] == []
    human = run_cli("show", "20705").stdout
    assert "Not in the graph (these rules cannot judge its lines):" in human
    assert "  - places of service: PlaceOfServiceTypical" in human


@pytest.mark.parametrize(("args", "expected"), [
    (["T85.738A"], [
        "T85.738A  Infection and inflammatory reaction due to other nervous system device, implant or graft, "
        "initial encounter",
        "  ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm); billable in the loaded editions: 2021-01,",
        "    2025-04, 2026-04",
        "",
        "Broader:",
        "  - T85 Complications of other internal prosthetic devices, implants and grafts"]),
    (["207x00000x"], [
        "207X00000X  Orthopaedic Surgery",
        "  NUCC provider taxonomy (http://nucc.org/provider-taxonomy)",
        "",
        "Crosswalked from:",
        "  - 20 Orthopedic Surgery",
        "",
        "Typical specialty of:",
        "  - 20701 Remove drug-delivery device, deep"]),
    (["24"], [
        "24  Ambulatory Surgical Center",
        "  CMS place of service (https://www.cms.gov/Medicare/Coding/place-of-service-",
        "    codes/Place_of_Service_Code_Set)",
        "",
        "Typical place of service of:",
        "  - 20701 Remove drug-delivery device, deep"]),
    (["20", "--system", "mspec"], [
        "20  Orthopedic Surgery",
        "  Medicare provider specialty (https://bluebutton.cms.gov/resources/variables/prvdr_spclty)",
        "",
        "Crosswalks to:",
        "  - 207X00000X Orthopaedic Surgery"]),
    (["27132"], [
        "27132 is not in the graph: a code of the CPT Surgery section (10004-69990), outside the drug-",
        "  delivery device family, so it can be the primary procedure of an add-on family code"]),
    (["G35"], [
        "G35  Multiple sclerosis",
        "  ICD-10-CM; billable in the loaded editions: 2021-01, 2025-04",
        "  G35 is in the loaded ICD-10-CM editions but not in the graph: it evidences no indication of",
        "    the family's codes"]),
])
def test_show_a_code_of_any_system(args: list[str], expected: list[str]) -> None:
    proc = run_cli("show", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:len(expected)] == expected


def test_show_icd10cm_json_names_what_the_code_supports() -> None:
    data = json.loads(run_cli("show", "T85738A", "--format", "json").stdout)
    assert (data["system"], data["notation"], data["billable"], data["inGraph"]) == ("icd10cm", "T85.738A", True, True)
    assert {s["notation"] for s in data["supports"]} == {"20700", "20701", "20702", "20703", "20704", "20705"}
    assert [b["notation"] for b in data["broader"]] == ["T85", "T85.7", "T85.73", "T85.738"]


def test_show_unknown_code_is_exit_2_one_line() -> None:
    for code in ("99999", "abc", "2070"):
        proc = run_cli("show", code)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_export_turtle_is_deterministic_and_complete(kg, tmp_path) -> None:
    out1 = tmp_path / "a.ttl"
    proc = run_cli("export", "--format", "turtle", "--output", str(out1))
    assert proc.returncode == 0, proc.stderr
    # Another process with another hash seed: the same bytes.
    proc2 = run_cli("export", "--format", "turtle", env={"PYTHONHASHSEED": "12345"})
    assert proc2.returncode == 0
    assert out1.read_text(encoding="utf-8") == proc2.stdout
    text = proc2.stdout
    assert "@prefix cpt: <https://w3id.org/cptkg/cpt/> ." in text
    parsed = Graph().parse(data=text, format="turtle")
    assert len(parsed) == len(kg.asserted)
    assert set(parsed) == set(kg.asserted)


def test_export_inferred_has_the_closure(kg) -> None:
    proc = run_cli("export", "--format", "ntriples", "--inferred")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(kg.inferred)


def test_bad_arguments_are_exit_2() -> None:
    for args in (["export", "--format", "xml"], ["nosuchcommand"], ["show"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_import_prints_nothing() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import cptkg, cptkg.cli, cptkg.kg.graph"],
                          capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_show_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = ("import sys; from cptkg.cli import main; main(['show', '20701', '--format', 'json']);"
            "heavy = [m for m in ('pyshacl', 'owlrl', 'simple_icd_10_cm', 'fhir', 'dask')"
            " if m in sys.modules]; print('HEAVY', heavy, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in proc.stderr, proc.stderr
