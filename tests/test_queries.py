"""Named queries: each with its expected answer on the packaged graph; the command line and API;
parameters bound as values."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib.plugins.sparql import prepareQuery

import cptkg
from cptkg import queries
from cptkg.errors import InputError
from tests.conftest import run_cli

FAMILY = {"20700", "20701", "20702", "20703", "20704", "20705"}


def rows(name: str, **params: str) -> list[dict]:
    return cptkg.query(name, **params)


def col(name: str, column: str, **params: str) -> set:
    return {r[column] for r in rows(name, **params) if column in r}


def check_related_codes() -> None:
    got = {(r["relation"], r["notation"]) for r in rows("related-codes", code="20701")}
    assert ("insertion counterpart", "20700") in got
    assert {n for rel, n in got if rel == "same family"} == FAMILY - {"20701"}
    assert {n for rel, n in got if rel == "see also"} == FAMILY - {"20701"}
    assert {n for rel, n in got if rel == "stand-alone alternative"} == {"20680"}
    assert {n for rel, n in got if rel == "primary context"} == {"62361", "62362"}
    assert {n for rel, n in got if rel == "pump removal coded as"} == {"62365"}
    got_20700 = {(r["relation"], r["notation"]) for r in rows("related-codes", code="20700")}
    assert ("removal counterpart", "20701") in got_20700
    assert ("not reported with", "11981") in got_20700
    assert len({n for rel, n in got_20700 if rel == "acceptable primary"}) == 76


def check_codes_for_diagnosis() -> None:
    # Infection is the article's reason for 20701 and the guidance's for the whole family.
    assert col("codes-for-diagnosis", "notation", icd="T85.735A") == FAMILY
    assert col("codes-for-diagnosis", "notation", icd="t85735a") == FAMILY
    assert col("codes-for-diagnosis", "notation", icd="T85.690A") == {"20701"}  # malfunction: the article's
    assert col("codes-for-diagnosis", "indication", icd="M86.652") == {"osteomyelitis"}
    assert col("codes-for-diagnosis", "indication", icd="T84.50XA") == {"infection"}
    assert col("codes-for-diagnosis", "indication", icd="T85.690A") == {
        "malfunction", "pump-catheter-separation"}
    assert rows("codes-for-diagnosis", icd="G80.0") == []


def check_codes_by_specialty() -> None:
    assert col("codes-by-specialty", "notation", specialty="207X00000X") == {"20701"}
    assert col("codes-by-specialty", "notation", specialty="207XS0117X") == {"20701"}
    assert rows("codes-by-specialty", specialty="208200000X") == []


def check_codes_by_place_of_service() -> None:
    assert col("codes-by-place-of-service", "notation", pos="21") == {"20701"}
    assert col("codes-by-place-of-service", "notation", pos="24") == {"20701"}
    assert rows("codes-by-place-of-service", pos="11") == []


def check_addon_codes() -> None:
    got = rows("addon-codes")
    assert {r["notation"] for r in got} == FAMILY
    assert {r["notation"]: r.get("standaloneAlternative") for r in got}["20703"] == "20680"


def check_insertion_removal_pairs() -> None:
    assert {(r["insertion"], r["removal"]) for r in rows("insertion-removal-pairs")} == {
        ("20700", "20701"), ("20702", "20703"), ("20704", "20705")}


def check_indications_for_code() -> None:
    got = rows("indications-for-code", code="20701")
    assert {r["indication"] for r in got} == {"infection", "malfunction", "dislocation",
                                              "pump-catheter-separation", "other-cause", "osteomyelitis"}
    assert {r["indication"] for r in rows("indications-for-code", code="20705")} == {"infection", "osteomyelitis"}
    assert {r["family"] for r in got if r["indication"] == "dislocation"} == {
        "T85.620", "T85.625", "T85.628"}
    assert all(r["necessityRestsOnIndication"] is True for r in got)


def check_acceptable_primaries() -> None:
    got = col("acceptable-primaries", "primary", code="20700")
    assert len(got) == 76 and {"11010", "28122", "27301"} <= got
    assert rows("acceptable-primaries", code="20701") == []


def check_documentation_requirements() -> None:
    assert col("documentation-requirements", "element", code="20701") == {
        "primary-procedure", "removal-reason", "device-location", "complications"}
    assert rows("documentation-requirements", code="20700") == []


def check_sources_for_code() -> None:
    got = {(r["property"], r["value"], r["source"]) for r in rows("sources-for-code", code="20701")}
    assert ("typical place of service", "21", "article-20701") in got
    assert ("typical place of service", "21", "cms-place-of-service") in got
    assert ("pump removal coded as", "62365", "cpt-assistant-2021-09") in got
    assert ("stand-alone alternative", "20680", "aaos-now-2022-07") in got


def check_conflicts() -> None:
    got = rows("conflicts")
    assert {r["conflict"] for r in got} == {"What 20701 removes", "What primary procedure 20701 goes with"}
    sides = {(r["conflict"], r["source"]) for r in got}
    for conflict in ("What 20701 removes", "What primary procedure 20701 goes with"):
        assert (conflict, "article-20701") in sides
        assert (conflict, "cpt-assistant-2021-09") in sides


def check_places_of_service_for_code() -> None:
    assert {(r["pos"], r["name"]) for r in rows("places-of-service-for-code", code="20701")} == {
        ("21", "Inpatient Hospital"), ("24", "Ambulatory Surgical Center")}


def check_specialties_for_code() -> None:
    got = {(r["taxonomy"], r.get("medicareSpecialty")) for r in rows("specialties-for-code", code="20701")}
    assert got == {("207X00000X", "20"), ("207T00000X", "14"), ("208VP0000X", "72"),
                   ("208VP0014X", "09")}


def check_examples_for_code() -> None:
    got = rows("examples-for-code", code="20701")
    assert [r["indication"] for r in got] == ["infection", "pump-catheter-separation", "dislocation"]


def check_procedure_steps() -> None:
    got = rows("procedure-steps", code="20701")
    assert [r["step"] for r in got] == list(range(1, 9))
    assert "anesthesia" in got[0]["description"]


def check_excluded_pairs() -> None:
    assert [(r["code"], r["otherCode"]) for r in rows("excluded-pairs")] == [("11981", "20700")]


def check_code_summary() -> None:
    (row,) = rows("code-summary", code="20703")
    assert row["addOn"] is True and row["action"] == "removal" and row["site"] == "intramedullary"
    assert "descriptor" not in row  # only the article's wording, for 20701, is shipped


def check_code_classes() -> None:
    assert {"AddOnCode", "InsertionCode"} <= col("code-classes", "class", code="20700")


def check_search_codes() -> None:
    assert {"62361", "62362", "62365"} <= col("search-codes", "notation", text="PUMP")
    assert rows("search-codes", text='") } DELETE WHERE { ?s ?p ?o } #') == []


def check_codes_for_place_and_specialty() -> None:
    assert col("codes-for-place-and-specialty", "notation", pos="24", specialty="207XS0117X") == {"20701"}
    assert rows("codes-for-place-and-specialty", pos="11", specialty="207X00000X") == []


def check_cpt_section() -> None:
    assert rows("cpt-section", code="27132") == [{"section": "CPT Surgery section", "first": "10004",
                                                   "last": "69990", "holdsPrimaryProcedures": True}]
    assert [r["section"] for r in rows("cpt-section", code="99223")] == ["CPT Evaluation and Management section"]
    assert rows("cpt-section", code="99999") == []


def check_concept_card() -> None:
    (card,) = rows("concept-card", concept="https://w3id.org/cptkg/icd10cm/T85.738A")
    assert (card["notation"], card["billable"], card["codeSystem"]) == (
        "T85.738A", True, "http://hl7.org/fhir/sid/icd-10-cm")
    (pos,) = rows("concept-card", concept="https://w3id.org/cptkg/pos/21")
    assert (pos["label"], pos["billable"]) == ("Inpatient Hospital", False)
    assert rows("concept-card", concept="https://w3id.org/cptkg/pos/98") == []  # not a CMS place of service


def check_concept_links() -> None:
    links = {(r["direction"], r["relation"], r["notation"])
             for r in rows("concept-links", concept="https://w3id.org/cptkg/nucc/207X00000X")}
    assert links == {("in", "typical specialty", "20701"), ("in", "crosswalks to", "20")}
    broader = [r["notation"] for r in rows("concept-links", concept="https://w3id.org/cptkg/icd10cm/T85.738A")
               if r["relation"] == "broader"]
    assert broader == ["T85", "T85.7", "T85.73", "T85.738"]


def check_watched_codes() -> None:
    got = {(r["code"], r["why"]) for r in rows("watched-codes")}
    family = {(c, "drug-delivery family") for c in ("20700", "20701", "20702", "20703", "20704", "20705")}
    pump = {(c, "intrathecal infusion code") for c in
            ("62350", "62351", "62355", "62360", "62361", "62362", "62365", "62367", "62368", "62369", "62370")}
    assert got == family | pump | {("11981", "excluded beside a family code")}


EXPECTED = {
    "watched-codes": check_watched_codes,
    "related-codes": check_related_codes,
    "codes-for-diagnosis": check_codes_for_diagnosis,
    "codes-by-specialty": check_codes_by_specialty,
    "codes-by-place-of-service": check_codes_by_place_of_service,
    "addon-codes": check_addon_codes,
    "insertion-removal-pairs": check_insertion_removal_pairs,
    "indications-for-code": check_indications_for_code,
    "acceptable-primaries": check_acceptable_primaries,
    "documentation-requirements": check_documentation_requirements,
    "sources-for-code": check_sources_for_code,
    "conflicts": check_conflicts,
    "places-of-service-for-code": check_places_of_service_for_code,
    "specialties-for-code": check_specialties_for_code,
    "examples-for-code": check_examples_for_code,
    "procedure-steps": check_procedure_steps,
    "excluded-pairs": check_excluded_pairs,
    "code-summary": check_code_summary,
    "code-classes": check_code_classes,
    "search-codes": check_search_codes,
    "codes-for-place-and-specialty": check_codes_for_place_and_specialty,
    "cpt-section": check_cpt_section,
    "concept-card": check_concept_card,
    "concept-links": check_concept_links,
}


def test_every_named_query_has_an_expected_answer() -> None:
    names = {n for n in queries.library() if not n.endswith("-violation")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_answer(name: str) -> None:
    EXPECTED[name]()


@pytest.mark.parametrize("name", sorted(queries.library()))
def test_query_file_is_documented_and_parses(name: str) -> None:
    q = queries.library()[name]
    assert len(q.description) > 20, name
    prepareQuery(q.text)  # rdflib's parser too: the files are portable SPARQL 1.1
    for p in q.parameters:
        assert f"?{p.name}" in q.text and p.doc, (name, p.name)


def test_parameter_errors() -> None:
    with pytest.raises(InputError, match="needs --param code"):
        queries.run_named("related-codes", {})
    with pytest.raises(InputError, match="no parameter 'icd'"):
        queries.run_named("related-codes", {"code": "20701", "icd": "T85.735A"})
    with pytest.raises(InputError, match="not a cpt code"):
        queries.run_named("related-codes", {"code": "20701> } ; DROP ALL #"})
    with pytest.raises(InputError, match="no named query"):
        queries.get("../../etc/passwd")


def test_cli_query_json_is_w3c_results() -> None:
    proc = run_cli("query", "related-codes", "--param", "code=20701", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["head"]["vars"] == ["relation", "related", "notation", "label"]
    first = doc["results"]["bindings"][0]
    assert first["related"] == {"type": "uri", "value": "https://w3id.org/cptkg/cpt/20700"}
    assert first["label"] == {"type": "literal", "value": "Insert drug-delivery device, deep", "xml:lang": "en"}


def test_cli_query_csv() -> None:
    proc = run_cli("query", "insertion-removal-pairs", "--format", "csv")
    assert proc.returncode == 0
    assert proc.stdout.startswith("insertion,insertionLabel,removal,removalLabel,site\n")
    # W3C SPARQL CSV lines end in CRLF (the subprocess pipe above reads them as newlines).
    assert queries.run_named("insertion-removal-pairs").to_csv().startswith(
        "insertion,insertionLabel,removal,removalLabel,site\r\n20700,")
    table = list(csv.reader(io.StringIO(proc.stdout)))
    assert [r[0] for r in table[1:]] == ["20700", "20702", "20704"]


def test_cli_queries_lists_them() -> None:
    proc = run_cli("queries")
    assert proc.returncode == 0
    assert "related-codes --param code=<cpt>" in proc.stdout
    assert "codes-for-diagnosis --param icd=<icd10cm>" in proc.stdout
    # The graph's quality checks are not users' questions: listed apart, and only under --all.
    assert "-violation" not in proc.stdout and "DESIGN.md" not in proc.stdout
    every = run_cli("queries", "--all").stdout
    head, _, checks = every.partition("Quality checks of the graph")
    assert head.strip() == proc.stdout.strip()
    assert checks.count("-violation\n") == 4 and "fact-without-source-violation" in checks


@pytest.mark.parametrize("args", [
    ["query", "related-codes"],
    ["query", "related-codes", "--param", "code=abc"],
    ["query", "related-codes", "--param", "nope=1"],
    ["query", "related-codes", "--param", "code"],
    ["query", "../../../etc/passwd"],
    ["query", "no-such-query"],
    ["query"],
])
def test_cli_bad_query_requests_exit_2(args) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, (args, proc.stdout)
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_adhoc_query_file(tmp_path) -> None:
    q = tmp_path / "q.rq"
    q.write_text("# my question\n# @param code cpt  a code\n"
                 "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                 "SELECT ?label WHERE { ?code skos:prefLabel ?label }")
    proc = run_cli("query", "--file", str(q), "--param", "code=20705", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "Remove drug-delivery device, intra-articular" in proc.stdout


def test_adhoc_update_and_service_are_refused(tmp_path) -> None:
    update = tmp_path / "u.rq"
    update.write_text("DELETE WHERE { ?s ?p ?o }")
    proc = run_cli("query", "--file", str(update))
    assert proc.returncode == 2 and "SPARQL update" in proc.stderr
    service = tmp_path / "s.rq"
    service.write_text("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    proc = run_cli("query", "--file", str(service))
    assert proc.returncode == 2 and "SERVICE" in proc.stderr
    bad = tmp_path / "b.rq"
    bad.write_text("SELEC nothing")
    proc = run_cli("query", "--file", str(bad))
    assert proc.returncode == 2 and "not a SPARQL query" in proc.stderr
