"""The CapabilityStatement of `cptkg serve` (GET /metadata): exactly the FHIR operations the
service answers."""

from __future__ import annotations

from typing import Any

from cptkg._version import __version__

# (resource type, operation name, its definition in the FHIR R4 specification)
OPERATIONS = (
    ("Claim", "validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"),
    ("CodeSystem", "lookup", "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"),
    ("CodeSystem", "validate-code", "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code"),
    ("ValueSet", "expand", "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"),
    ("ConceptMap", "translate", "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate"),
)


def capability_statement() -> dict[str, Any]:
    resources: dict[str, list[dict[str, str]]] = {}
    for kind, name, definition in OPERATIONS:
        resources.setdefault(kind, []).append({"name": name, "definition": definition})
    return {
        "resourceType": "CapabilityStatement",
        "id": "cptkg",
        "url": "https://w3id.org/cptkg/fhir/CapabilityStatement/cptkg",
        "version": __version__,
        "name": "CptkgService",
        "title": "cptkg claim validation and terminology service",
        "status": "active",
        "experimental": False,
        "date": "2026-11-28",
        "publisher": "cptkg developers",
        "description": "Validates claims that report CPT 20701 and its related codes against cptkg's rules, and "
                       "answers terminology operations over cptkg's graph. SPARQL (GET|POST /sparql) and the "
                       "page at / are not FHIR and are not listed here.",
        "kind": "instance",
        "software": {"name": "cptkg", "version": __version__},
        "implementation": {"description": "cptkg serve"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{"mode": "server", "resource": [{"type": kind, "operation": ops} for kind, ops in resources.items()]}],
    }
