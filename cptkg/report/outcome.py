"""Claim reports as FHIR R4 OperationOutcome resources (`validate --format operationoutcome`): one
per claim, in a Bundle when there are several. Each result is an issue: severity from the rule's
(Violation error, Warning warning, Info information), `code` from the FHIR issue-type value set,
`details` coded with the rule ID in cptkg's rule CodeSystem (the FHIR export publishes it) and the
message as text, `expression` the FHIRPath of the offending element. Lines are found by their
sequence (`Claim.item.where(sequence = 2)`), so the path holds however the items are ordered."""

from __future__ import annotations

from typing import Any

from cptkg.report.model import UNREADABLE, ClaimReport, Result

RULE_SYSTEM = "https://w3id.org/cptkg/rule"
SEVERITY = {"Violation": "error", "Warning": "warning", "Info": "information"}
# The issue type of an unreadable claim; every rule's own (and the element of a line it judges)
# comes with its results from its shape (cptkgsh:fhirIssueType, cptkgsh:fhirElement: rules.catalog).
UNREADABLE_ISSUE_TYPE = "invalid"
DEFAULT_ISSUE_TYPE = "business-rule"
DEFAULT_ELEMENT = "productOrService"
# The FHIR element of each claim-vocabulary property a result's path names (a property shape's sh:path).
PATH_ELEMENT = {"location": "locationCodeableConcept", "servicedDate": "servicedDate", "quantity": "quantity",
                "productOrService": "productOrService", "modifier": "modifier", "bodySite": "bodySite",
                "diagnosisSequence": "diagnosisSequence", "careTeamSequence": "careTeamSequence",
                "informationSequence": "informationSequence", "diagnosisCode": "diagnosisCodeableConcept"}


def expression(result: Result, resource: str = "Claim") -> str | None:
    """The FHIRPath of the element a result is about, or None for an unreadable claim."""
    if result.rule == UNREADABLE:
        return None
    prop = (result.path or "").rsplit("#", 1)[-1]
    if result.line:
        first, *rest = result.line.split(".")
        path = f"{resource}.item.where(sequence = {first})"
        for level, number in zip(("detail", "subDetail"), rest, strict=False):
            path += f".{level}.where(sequence = {number})"
        element = PATH_ELEMENT.get(prop) or result.element or DEFAULT_ELEMENT
        return f"{path}.{element}"
    if result.diagnosis:
        element = "diagnosisReference" if result.rule == "DiagnosisReferenceResolves" else "diagnosisCodeableConcept"
        return f"{resource}.diagnosis.where(sequence = {result.diagnosis}).{element}"
    if result.rule == "ProviderReferenceResolves":
        return f"{resource}.careTeam"
    return resource


def _issue(result: Result) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": SEVERITY.get(result.severity, "error"),
        "code": UNREADABLE_ISSUE_TYPE if result.rule == UNREADABLE else result.issue_type or DEFAULT_ISSUE_TYPE,
        "details": {"coding": [{"system": RULE_SYSTEM, "code": result.rule}], "text": result.message},
    }
    path = expression(result)
    if path is not None:
        issue["expression"] = [path]
    if result.evidence:
        # The facts the rule read and their sources' titles: FHIR's place for what led to the issue.
        issue["diagnostics"] = "Evidence: " + "; ".join(
            f"{e.subject} {e.property} {e.value} ({', '.join(t for _i, t, _iri in e.sources) or 'no source'})"
            for e in result.evidence)
    return issue


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) made from a claim id."""
    # str.isalnum is true of "é" and "٣": a FHIR id is ASCII letters and digits only.
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in "-." else "-" for c in text)[-64:].strip("-.")
    return cleaned or "claim"


def outcome(report: ClaimReport, index: int) -> dict[str, Any]:
    """One claim's OperationOutcome (FHIR requires at least one issue: a claim with no results
    gets an informational one saying so)."""
    issues = [_issue(r) for r in report.results]
    if not issues:
        said = (f"not applicable: {report.reason}" if report.reason else "conforms: no rule found anything to fix")
        issues = [{"severity": "information", "code": "informational",
                   "details": {"text": f"Claim {report.claim} {said}."}}]
    return {"resourceType": "OperationOutcome", "id": f"{index}-{_fhir_id(report.claim)}"[:64],
            "meta": {"tag": [{"system": "https://w3id.org/cptkg/verdict", "code": report.verdict}]},
            "extension": [{"url": "https://w3id.org/cptkg/fhir/StructureDefinition/claim-origin",
                           "valueString": report.origin}],
            "issue": issues}
