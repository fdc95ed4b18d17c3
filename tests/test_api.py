"""The Python API: a small surface around one graph object, typed reports, rows as dicts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cptkg
from cptkg.report.model import ClaimReport, Result, ValidationReport
from cptkg.report.progress import Progress

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims"


def test_validate_returns_a_typed_report() -> None:
    report = cptkg.validate(EXAMPLES / "addon-modifier-51_XFAIL.json", EXAMPLES / "specialty_XFAIL.ttl")
    assert isinstance(report, ValidationReport)
    assert report.conforms is False
    first, second = report.claims
    assert isinstance(first, ClaimReport) and isinstance(first.results[0], Result)
    assert (first.results[0].rule, first.results[0].line, first.results[0].code) == (
        "AddOnModifier51", "2", "20701")
    assert second.conforms and second.results[0].severity == "Warning"
    assert report.as_json()["claims"][1]["claim"] == "https://example.org/claims/specialty_XFAIL"


def test_query_rows_and_graph_object() -> None:
    rows = cptkg.query("insertion-removal-pairs")
    assert rows[0]["insertion"] == "20700"
    kg = cptkg.KnowledgeGraph.default()
    assert kg is cptkg.KnowledgeGraph.default()
    assert len(kg.inferred) > len(kg.asserted)


def test_version_has_one_source() -> None:
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert f'owl:versionInfo "{cptkg.__version__}"' in (root / "ontology" / "cptkg.ttl").read_text()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only() -> None:
    tty = FakeTerminal()
    progress = Progress(tty, total=10)
    for _ in range(4):
        progress.step()
    progress.close()
    text = tty.getvalue()
    assert "/10 claims" in text and "/s" in text and "ETA" in text
    assert text.endswith("\n")  # results written next start on a line of their own
    pipe = io.StringIO()
    quiet = Progress(pipe, total=10)
    quiet.step()
    quiet.close()
    assert pipe.getvalue() == ""


def test_records_read_from_bytes_are_each_reported() -> None:
    """read_bytes numbers no claims (every record has position 0); the validator tells a batch's
    claims apart by record, so none is merged into another or lost."""
    from cptkg.claims import read_bytes
    from cptkg.rules.validator import Validator

    lines = [(EXAMPLES / name).read_text(encoding="utf-8").replace("\n", " ")
             for name in ("addon-modifier-51_XFAIL.json", "specialty_XFAIL.json", "addon-modifier-51_PASS.json")]
    records = list(read_bytes("\n".join(lines).encode(), "claims.ndjson"))
    assert [r.position for r in records] == [0, 0, 0]
    reports = list(Validator().validate(records))
    assert [r.claim for r in reports] == ["addon-modifier-51-XFAIL", "specialty-XFAIL", "addon-modifier-51-PASS"]
    assert [sorted({x.rule for x in r.results if x.severity == "Violation"}) for r in reports] == [
        ["AddOnModifier51"], [], []]


def test_the_json_form_of_a_report_is_the_documented_one() -> None:
    """DESIGN.md's JSON, every key and value: other tools read it."""
    on_line = Result("AddOnModifier51", "Violation", "urn:c/line/2", "https://w3id.org/cptkg#modifier", "51",
                     "drop modifier 51", line="2", code="20701")
    on_diagnosis = Result("DiagnosisCodeValid", "Warning", "urn:c/dx/1", None, None, "use a billable code",
                          diagnosis="1")
    claim = ClaimReport("c-1", "claims.ndjson", "line 4", [on_line, on_diagnosis], position=3)
    read = ClaimReport("c-2", "claim.json", "", reason="its codes are 92004: no rule judges them")
    assert ValidationReport([claim, read]).as_json() == {"conforms": False, "claims": [
        {"claim": "c-1", "conforms": False, "verdict": "does-not-conform",
         "origin": {"file": "claims.ndjson", "where": "line 4"}, "reason": None, "results": [
             {"rule": "AddOnModifier51", "severity": "Violation", "line": "2", "code": "20701", "diagnosis": None,
              "focus": "urn:c/line/2", "path": "https://w3id.org/cptkg#modifier", "value": "51",
              "message": "drop modifier 51"},
             {"rule": "DiagnosisCodeValid", "severity": "Warning", "line": None, "code": None, "diagnosis": "1",
              "focus": "urn:c/dx/1", "path": None, "value": None, "message": "use a billable code"}]},
        {"claim": "c-2", "conforms": True, "verdict": "not-applicable",
         "origin": {"file": "claim.json", "where": None}, "reason": "its codes are 92004: no rule judges them",
         "results": []}]}


def test_records_and_paths_given_together_are_all_reported_in_order() -> None:
    from cptkg.claims import read_paths
    from cptkg.rules.validator import validate_paths

    [record] = read_paths([EXAMPLES / "specialty_PASS.json"])
    report = validate_paths(EXAMPLES / "addon-modifier-51_XFAIL.json", record, EXAMPLES / "specialty_XFAIL.ttl")
    assert [c.claim for c in report.claims] == [
        "addon-modifier-51-XFAIL", "specialty-PASS", "https://example.org/claims/specialty_XFAIL"]
    assert [c.claim for c in validate_paths(record).claims] == ["specialty-PASS"]


def test_same_results_at_any_batch_size() -> None:
    """The batch bounds memory only: claims of many files (FHIR, Turtle), cut into batches of 1, 7
    or the default 500, get the same reports in the same order."""
    from cptkg.rules.validator import validate_paths

    files = sorted(EXAMPLES.glob("addon-*"))
    whole = validate_paths(*files).as_json()
    assert len(whole["claims"]) == len(files) > 7
    assert any(c["results"] for c in whole["claims"])
    for size in (1, 7):
        assert validate_paths(*files, batch_size=size).as_json() == whole, size


def test_validate_takes_rule_packs_severities_and_the_strict_reader(tmp_path: Path) -> None:
    """What the command line takes (--rules, [rules.severity], --fhir-strict), the API takes too."""
    pack = EXAMPLES.parent / "rule-packs" / "payer-strict"
    failing = pack / "claims" / "payer-prior-authorization_XFAIL.json"
    assert "PayerPriorAuthorizationRequired" not in {r.rule for r in cptkg.validate(failing).claims[0].results}
    with_pack = cptkg.validate(failing, rules=[pack])
    assert "PayerPriorAuthorizationRequired" in {r.rule for r in with_pack.claims[0].results}

    warned = EXAMPLES / "specialty_XFAIL.json"
    assert [r.severity for r in cptkg.validate(warned).claims[0].results] == ["Warning"]
    raised = cptkg.validate(warned, severities={"SpecialtyTypical": "Violation"})
    assert [r.severity for r in raised.claims[0].results] == ["Violation"] and not raised.conforms
    assert cptkg.validate(warned, severities={"SpecialtyTypical": "off"}).claims[0].results == []

    claim = json.loads((EXAMPLES / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    claim.pop("patient")  # cptkg reads no patient; FHIR R4 requires one
    path = tmp_path / "no-patient.json"
    path.write_text(json.dumps(claim), encoding="utf-8")
    assert cptkg.validate(path).conforms
    [strict] = cptkg.validate(path, fhir_strict=True).claims
    assert strict.verdict == "unreadable" and "patient" in strict.results[0].message
    assert cptkg.validate(path).conforms  # one call's reader leaves the next one's alone


def test_an_unknown_rule_in_the_severities_is_its_own_error() -> None:
    from cptkg.errors import UnknownRule

    try:
        cptkg.validate(EXAMPLES / "specialty_XFAIL.json", severities={"NoSuchRule": "off"})
    except UnknownRule as err:
        assert err.rule == "NoSuchRule"
    else:
        raise AssertionError("an unknown rule was taken")
