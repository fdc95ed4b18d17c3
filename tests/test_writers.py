"""The report writers, each form's text pinned on a small hand-made report: what a person reads
(human), what a spreadsheet reads (table), the FHIR Bundle of OperationOutcomes and the W3C SHACL
report (what other tools read)."""

from __future__ import annotations

import io
import json

from rdflib import Graph, Literal

from cptkg.kg.namespaces import CPTKG
from cptkg.report.model import ClaimReport, Result
from cptkg.report.writers import HumanWriter, OperationOutcomeWriter, TurtleWriter


def _reports() -> list[ClaimReport]:
    violation = Result("AddOnRequiresPrimary", "Violation", "urn:c/item/2", None, None, "add its primary",
                       line="2", code="20701")
    uncoded = Result("ItemHasOneCode", "Violation", "urn:c/item/3", None, None, "give one code", line="3")
    warning = Result("SpecialtyTypical", "Warning", "urn:c/item/2", None, None, "check the specialty",
                     line="2", code="20701")
    on_diagnosis = Result("DiagnosisCodeValid", "Warning", "urn:c/dx/1", None, None, "use a billable code",
                          diagnosis="1")
    return [ClaimReport("c-1", "claims.ndjson", "line 1", [violation, uncoded, warning, on_diagnosis]),
            ClaimReport("café-2", "claims.ndjson", "line 2", [warning]),
            ClaimReport("c-3", "claims.ndjson", "line 3", reason="its codes are 92004")]


def _written(writer_class: type, reports: list[ClaimReport]) -> str:
    out = io.StringIO()
    writer = writer_class(out)
    for report in reports:
        writer.claim(report)
    writer.close(all(r.conforms for r in reports))
    return out.getvalue()


def test_the_human_form_names_lines_diagnoses_and_counts() -> None:
    assert _written(HumanWriter, _reports()) == (
        "c-1  [claims.ndjson line 1]: DOES NOT CONFORM (2 warnings)\n"
        "  line 2 (20701)  Violation  AddOnRequiresPrimary\n      add its primary\n"
        "  line 3 (no code)  Violation  ItemHasOneCode\n      give one code\n"
        "  line 2 (20701)  Warning  SpecialtyTypical\n      check the specialty\n"
        "  diagnosis 1  Warning  DiagnosisCodeValid\n      use a billable code\n"
        "café-2  [claims.ndjson line 2]: conforms (1 warning)\n"
        "  line 2 (20701)  Warning  SpecialtyTypical\n      check the specialty\n"
        "c-3  [claims.ndjson line 3]: not applicable: its codes are 92004\n"
        "\n3 claims: 1 conforming, 1 not, 1 not applicable, 0 unreadable; 2 violations, 3 warnings\n")


def test_operation_outcomes_are_numbered_in_input_order_and_keep_unicode() -> None:
    reports = _reports()
    reports[1] = ClaimReport("café-2", "claims.ndjson", "line 2")  # its issue's text names it
    text = _written(OperationOutcomeWriter, reports)
    assert "Claim café-2 conforms" in text and "\\u00e9" not in text
    bundle = json.loads(text)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert [e["fullUrl"] for e in bundle["entry"]] == [
        "urn:cptkg:outcome:1-c-1", "urn:cptkg:outcome:2-caf--2", "urn:cptkg:outcome:3-c-3"]
    alone = json.loads(_written(OperationOutcomeWriter, reports[1:2]))
    assert alone["resourceType"] == "OperationOutcome" and alone["id"] == "1-caf--2"


def test_the_shacl_report_says_where_each_claim_came_from() -> None:
    graph = Graph().parse(data=_written(TurtleWriter, _reports()), format="turtle")
    assert sorted(str(o) for o in graph.objects(None, CPTKG.originFile)) == ["claims.ndjson"] * 3
    assert set(graph.objects(None, CPTKG.originFile)) == {Literal("claims.ndjson")}
