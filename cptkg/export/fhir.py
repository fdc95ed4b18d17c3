"""The FHIR export: an R4 Bundle of ValueSets, ConceptMaps and cptkg's own CodeSystems, generated
from the inferred graph by named queries and graph walks.

CPT is referenced by its canonical system URI only: it is never published as a CodeSystem (AMA
licence), and the ValueSets that include CPT codes carry no CPT descriptor text.
"""

from __future__ import annotations

import html
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
RULE_SYSTEM = "https://w3id.org/cptkg/rule"  # as cptkg.report.outcome names it (a test holds the two equal)
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


def value_set_url(ident: str) -> str:
    return f"{BASE}/ValueSet/{ident}"


def _narrative(resource: dict[str, Any], rows: list[str]) -> dict[str, Any]:
    """A generated XHTML narrative (FHIR dom-6: a resource should have one): the title, the
    description and what the resource lists, escaped."""
    items = "".join(f"<li>{html.escape(row)}</li>" for row in rows)
    div = (f'<div xmlns="http://www.w3.org/1999/xhtml"><p><b>{html.escape(resource["title"])}</b></p>'
           f'<p>{html.escape(resource["description"])}</p>' + (f"<ul>{items}</ul>" if items else "") + "</div>")
    return {"status": "generated", "div": div}


def _with_narrative(resource: dict[str, Any]) -> dict[str, Any]:
    kind = resource["resourceType"]
    rows: list[str] = []
    if kind == "ValueSet":
        for include in resource["compose"]["include"]:
            if "concept" not in include:
                rows.append(f"all codes of {include['system']}")
            rows += [" ".join(filter(None, (c["code"], c.get("display")))) for c in include.get("concept", [])]
    elif kind == "ConceptMap":
        rows = [f"{e['code']} -> {', '.join(t['code'] for t in e['target'])}"
                for g in resource["group"] for e in g["element"]]
    elif kind == "CodeSystem":
        rows = [f"{c['code']} {c['display']}" for c in resource["concept"]]
    # text goes right after the id, as FHIR orders a resource's elements.
    ordered = {k: resource[k] for k in ("resourceType", "id")}
    ordered["text"] = _narrative(resource, rows)
    ordered.update({k: v for k, v in resource.items() if k not in ordered})
    return ordered


def _whole_system(ident: str, title: str, description: str, system: str) -> dict[str, Any]:
    """A value set of every code of one code system: the scope of a ConceptMap's side."""
    vs = _metadata("ValueSet", ident, title, description)
    vs["compose"] = {"include": [{"system": system}]}
    return vs


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
                 pairs: list[tuple[str, str]], scopes: tuple[str, str],
                 equivalence: str = "relatedto") -> dict[str, Any]:
    """A map from one code system to another; ``scopes`` are the value sets of its source and
    target concepts (ConceptMap.sourceUri and targetUri)."""
    elements: dict[str, list[str]] = {}
    for s, t in sorted(set(pairs)):
        elements.setdefault(s, []).append(t)
    cm = _metadata("ConceptMap", ident, title, description)
    cm["sourceUri"], cm["targetUri"] = scopes
    cm["group"] = [{"source": source, "target": target, "element": [
        {"code": s, "target": [{"code": t, "equivalence": equivalence} for t in targets]}
        for s, targets in elements.items()]}]
    return cm


def _code_system(ident: str, url: str, title: str, description: str, graph: Any,
                 concepts: list[Any]) -> dict[str, Any]:
    cs = _metadata("CodeSystem", ident, title, description)
    cs["url"] = url
    cs["valueSet"] = value_set_url(ident)
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


def billable_codes_below(graph: Any, family: Any) -> list[Any]:
    """The billable codes in or below a family: what a claim may carry (DiagnosisCodeValid rejects
    categories such as T85.620, so the value sets list only the leaves)."""
    return [c for c in icd_codes_below(graph, family) if (c, RDF.type, CPTKG.BillableICD10CMCode) in graph]


def _rule_code_system() -> dict[str, Any]:
    """cptkg's claim rules as a CodeSystem: the codes OperationOutcome issues carry in `details`."""
    from rdflib import URIRef
    from rdflib.namespace import RDFS, SH

    from cptkg.kg import resources as packaged
    from cptkg.kg.namespaces import CPTKGSH

    shapes = packaged.shapes_in("claims")
    cs = _metadata("CodeSystem", "cptkg-rule", "cptkg rules",
                   "The built-in claim rules of cptkg, by rule ID: the codes of OperationOutcome.issue.details "
                   "in `cptkg validate --format operationoutcome`.")
    cs["url"] = RULE_SYSTEM
    cs["valueSet"] = value_set_url("cptkg-rule")
    cs["content"] = "complete"
    cs["caseSensitive"] = True
    concepts = []
    for shape in sorted({s for s in shapes.subjects(SH.severity, None) if isinstance(s, URIRef)}, key=str):
        entry = {"code": str(shape)[len(str(CPTKGSH)):], "display": str(shapes.value(shape, RDFS.label) or "")}
        comment = shapes.value(shape, RDFS.comment)
        if comment is not None:
            entry["definition"] = str(comment)
        concepts.append(entry)
    cs["count"] = len(concepts)
    cs["concept"] = concepts
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
            codes += [(_notation(g, c), _label(g, c)) for c in billable_codes_below(g, fam)]
            evidence.append((_notation(g, ind), _notation(g, fam)))
        if codes:
            resources.append(_value_set(
                f"icd10cm-{_notation(g, ind)}", f"ICD-10-CM codes evidencing {_label(g, ind)}",
                f"The billable ICD-10-CM codes in or below the families that evidence the indication "
                f"'{_label(g, ind)}' (the edition the graph was built from; a claim is judged by the "
                f"edition of its date of service).", SYSTEM_ICD10CM, codes))
    resources.append(_whole_system("icd10cm", "ICD-10-CM", "Every code of ICD-10-CM.", SYSTEM_ICD10CM))
    resources.append(_whole_system("medicare-specialty", "Medicare provider specialty",
                                   "Every CMS Medicare provider specialty code.", SYSTEM_MSPEC))
    resources.append(_whole_system("nucc-provider-taxonomy", "NUCC provider taxonomy",
                                   "Every NUCC health care provider taxonomy code.", SYSTEM_NUCC))
    resources.append(_concept_map(
        "indication-to-icd10cm", "Indication to ICD-10-CM",
        "Each cptkg indication to the ICD-10-CM families (categories and subcategories) whose billable "
        "codes evidence it.",
        SYSTEM_INDICATION, SYSTEM_ICD10CM, evidence,
        (value_set_url("cptkg-indication"), value_set_url("icd10cm"))))
    resources.append(_concept_map(
        "removal-to-insertion", "Removal code to insertion code",
        "Each drug-delivery device removal code to the insertion code at the same site.",
        SYSTEM_CPT, SYSTEM_CPT,
        [(_notation(g, r), _notation(g, i)) for r, i in g.subject_objects(CPTKG.insertionCounterpart)],
        (value_set_url("drug-delivery-device-family"), value_set_url("drug-delivery-device-family"))))
    resources.append(_concept_map(
        "medicare-specialty-to-nucc", "Medicare specialty to NUCC taxonomy",
        "The CMS Medicare provider specialty to provider taxonomy crosswalk, for the specialties "
        "in the graph.", SYSTEM_MSPEC, SYSTEM_NUCC,
        [(_notation(g, m), _notation(g, t)) for m, t in g.subject_objects(CPTKG.crosswalksTo)],
        (value_set_url("medicare-specialty"), value_set_url("nucc-provider-taxonomy"))))
    resources.append(_code_system(
        "cptkg-indication", SYSTEM_INDICATION, "cptkg indications",
        "Reasons for the procedures cptkg describes.", g, indications))
    resources.append(_whole_system("cptkg-indication", "cptkg indications",
                                   "Every code of the cptkg indication code system.", SYSTEM_INDICATION))
    resources.append(_code_system(
        "cptkg-documentation-element", SYSTEM_DOCUMENTATION, "cptkg documentation elements",
        "Elements the documentation of a procedure should include (Claim.supportingInfo.category).",
        g, sorted(g.subjects(RDF.type, CPTKG.DocumentationElement), key=str)))
    resources.append(_whole_system("cptkg-documentation-element", "cptkg documentation elements",
                                   "Every code of the cptkg documentation element code system.",
                                   SYSTEM_DOCUMENTATION))
    resources.append(_rule_code_system())
    resources.append(_whole_system("cptkg-rule", "cptkg rules", "Every rule of the cptkg rule code system.",
                                   RULE_SYSTEM))
    resources = [_with_narrative(r) for r in resources]
    return {
        "resourceType": "Bundle",
        "id": "cptkg",
        "meta": {"lastUpdated": f"{DATE}T00:00:00Z"},
        "type": "collection",
        "entry": [{"fullUrl": r["url"], "resource": r} for r in resources],
    }


def export_bundle(kg: KnowledgeGraph) -> str:
    return json.dumps(bundle(kg), indent=2, ensure_ascii=False) + "\n"
