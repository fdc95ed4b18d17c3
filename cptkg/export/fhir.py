"""The FHIR export: an R4 Bundle of ValueSets, ConceptMaps and cptkg's own CodeSystems, generated
from the inferred graph by named queries and graph walks.

CPT is referenced by its canonical system URI only: it is never published as a CodeSystem (AMA
licence), and the ValueSets that include CPT codes carry no CPT descriptor text.
"""

from __future__ import annotations

import json
from typing import Any

from rdflib.namespace import RDF, SKOS

from cptkg._version import __version__
from cptkg.kg.graph import KnowledgeGraph
from cptkg.kg.namespaces import (
    CPT,
    CPTKG,
    SYSTEM_CPT,
    SYSTEM_DOCUMENTATION,
    SYSTEM_ICD10CM,
    SYSTEM_MSPEC,
    SYSTEM_NUCC,
    SYSTEM_POS,
)

BASE = "https://w3id.org/cptkg/fhir"
SYSTEM_INDICATION = "https://w3id.org/cptkg/indication"
DATE = "2026-11-27"
PUBLISHER = "cptkg developers"


def _notation(graph: Any, node: Any) -> str:
    return str(graph.value(node, SKOS.notation))


def _label(graph: Any, node: Any) -> str:
    return str(graph.value(node, SKOS.prefLabel))


def _metadata(kind: str, ident: str, title: str, description: str) -> dict[str, Any]:
    return {"resourceType": kind, "id": ident, "url": f"{BASE}/{kind}/{ident}",
            "version": __version__, "name": "".join(w.capitalize() for w in ident.split("-")),
            "title": title, "status": "active", "experimental": False, "date": DATE,
            "publisher": PUBLISHER, "description": description}


def _value_set(ident: str, title: str, description: str, system: str,
               codes: list[tuple[str, str | None]]) -> dict[str, Any]:
    concepts = []
    for code, display in sorted(set(codes)):
        entry = {"code": code}
        if display and system != SYSTEM_CPT:  # no CPT text: cptkg's labels stay in the graph
            entry["display"] = display
        concepts.append(entry)
    vs = _metadata("ValueSet", ident, title, description)
    vs["compose"] = {"include": [{"system": system, "concept": concepts}]}
    return vs


def _concept_map(ident: str, title: str, description: str, source: str, target: str,
                 pairs: list[tuple[str, str]], equivalence: str = "relatedto") -> dict[str, Any]:
    elements: dict[str, list[str]] = {}
    for s, t in sorted(set(pairs)):
        elements.setdefault(s, []).append(t)
    cm = _metadata("ConceptMap", ident, title, description)
    cm["group"] = [{"source": source, "target": target, "element": [
        {"code": s, "target": [{"code": t, "equivalence": equivalence} for t in targets]}
        for s, targets in elements.items()]}]
    return cm


def _code_system(ident: str, url: str, title: str, description: str, graph: Any,
                 concepts: list[Any]) -> dict[str, Any]:
    cs = _metadata("CodeSystem", ident, title, description)
    cs["url"] = url
    cs["content"] = "complete"
    cs["caseSensitive"] = True
    cs["count"] = len(concepts)
    cs["concept"] = []
    for node in sorted(concepts, key=lambda n: _notation(graph, n)):
        entry = {"code": _notation(graph, node), "display": _label(graph, node)}
        definition = graph.value(node, SKOS.definition)
        if definition is not None:
            entry["definition"] = str(definition)
        cs["concept"].append(entry)
    return cs


def icd_codes_below(graph: Any, family: Any) -> list[Any]:
    """The family and every code below it in the graph's ICD-10-CM hierarchy."""
    found = [family]
    frontier = [family]
    while frontier:
        node = frontier.pop()
        for child in graph.subjects(SKOS.broader, node):
            if child not in found:
                found.append(child)
                frontier.append(child)
    return found


def bundle(kg: KnowledgeGraph) -> dict[str, Any]:
    g = kg.inferred
    resources: list[dict[str, Any]] = []
    family = sorted(g.subjects(RDF.type, CPTKG.DrugDeliveryDeviceCode), key=str)
    resources.append(_value_set(
        "drug-delivery-device-family", "Drug-delivery device codes (+20700 to +20705)",
        "The CPT add-on codes for manual preparation and insertion, and removal, of drug-delivery "
        "devices. CPT codes are referenced by system URI; CPT is not published here.",
        SYSTEM_CPT, [(_notation(g, c), None) for c in family]))
    removal = CPT["20701"]
    resources.append(_value_set(
        "places-of-service-20701", "Places of service for 20701",
        "CMS places of service the source article lists for CPT 20701.", SYSTEM_POS,
        [(_notation(g, p), _label(g, p)) for p in g.objects(removal, CPTKG.typicalPlaceOfService)]))
    resources.append(_value_set(
        "specialties-20701", "Specialties for 20701",
        "NUCC provider taxonomy codes for the specialties the source article lists for CPT 20701.",
        SYSTEM_NUCC, [(_notation(g, t), _label(g, t)) for t in g.objects(removal, CPTKG.typicalSpecialty)]))
    indications = sorted(g.subjects(RDF.type, CPTKG.Indication), key=str)
    evidence: list[tuple[str, str]] = []
    for ind in indications:
        codes: list[tuple[str, str | None]] = []
        for fam in g.objects(ind, CPTKG.evidencedBy):
            codes += [(_notation(g, c), _label(g, c)) for c in icd_codes_below(g, fam)]
            evidence.append((_notation(g, ind), _notation(g, fam)))
        if codes:
            resources.append(_value_set(
                f"icd10cm-{_notation(g, ind)}", f"ICD-10-CM codes evidencing {_label(g, ind)}",
                f"ICD-10-CM codes in or below the families that evidence the indication "
                f"'{_label(g, ind)}'.", SYSTEM_ICD10CM, codes))
    resources.append(_concept_map(
        "indication-to-icd10cm", "Indication to ICD-10-CM",
        "Each cptkg indication to the ICD-10-CM families whose codes evidence it.",
        SYSTEM_INDICATION, SYSTEM_ICD10CM, evidence))
    resources.append(_concept_map(
        "removal-to-insertion", "Removal code to insertion code",
        "Each drug-delivery device removal code to the insertion code at the same site.",
        SYSTEM_CPT, SYSTEM_CPT,
        [(_notation(g, r), _notation(g, i)) for r, i in g.subject_objects(CPTKG.insertionCounterpart)]))
    resources.append(_concept_map(
        "medicare-specialty-to-nucc", "Medicare specialty to NUCC taxonomy",
        "The CMS Medicare provider specialty to provider taxonomy crosswalk, for the specialties "
        "in the graph.", SYSTEM_MSPEC, SYSTEM_NUCC,
        [(_notation(g, m), _notation(g, t)) for m, t in g.subject_objects(CPTKG.crosswalksTo)]))
    resources.append(_code_system(
        "cptkg-indication", SYSTEM_INDICATION, "cptkg indications",
        "Reasons for the procedures cptkg describes.", g, indications))
    resources.append(_code_system(
        "cptkg-documentation-element", SYSTEM_DOCUMENTATION, "cptkg documentation elements",
        "Elements the documentation of a procedure should include (Claim.supportingInfo.category).",
        g, sorted(g.subjects(RDF.type, CPTKG.DocumentationElement), key=str)))
    return {
        "resourceType": "Bundle",
        "id": "cptkg",
        "meta": {"lastUpdated": f"{DATE}T00:00:00Z"},
        "type": "collection",
        "entry": [{"fullUrl": r["url"], "resource": r} for r in resources],
    }


def export_bundle(kg: KnowledgeGraph) -> str:
    return json.dumps(bundle(kg), indent=2, ensure_ascii=False) + "\n"
