"""Regenerate ontology/icd10cm.ttl from the ICD-10-CM tree that simple-icd-10-cm ships.

The graph holds the ICD-10-CM families that the other ontology files name (indications, conditions,
status codes), every code below them, and their ancestors up to the three-character category, with
NCHS titles and the hierarchy as skos:broader. Run it after changing which families the graph
names, then commit the result:  python tools/gen_icd10cm.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import simple_icd_10_cm as icd
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.kg.namespaces import CPTKG, ICD10CM, bind_all  # noqa: E402

# Codes named outside the indications (REFERENCE.md section 5): status, encounter and the
# orthopaedic context of the guidance.
EXTRA_FAMILIES = ["Z45.1", "Z45.49", "Z96.89", "Z97.8", "M86", "Z47.31", "Z47.32", "Z47.33"]
# The pump context: codes whose NCHS inclusion terms name an intrathecal infusion pump or catheter.
PUMP_CONTEXT_ROOT = "T85"
PUMP_CONTEXT_WORDS = "intrathecal infusion"
SCHEME = URIRef("https://w3id.org/cptkg/icd10cm")
SYSTEM = URIRef("http://hl7.org/fhir/sid/icd-10-cm")
NCHS = Namespace("https://w3id.org/cptkg/source/")["nchs-icd10cm"]
STMT = Namespace("https://w3id.org/cptkg/statement/")


def named_families(graph: Graph) -> set[str]:
    prefix = str(ICD10CM)
    return {
        str(o)[len(prefix) :]
        for o in graph.objects()
        if isinstance(o, URIRef) and str(o).startswith(prefix)
    } | {
        str(s)[len(prefix) :]
        for s in graph.subjects()
        if isinstance(s, URIRef) and str(s).startswith(prefix)
    }


def is_code(item: str) -> bool:
    """Categories, subcategories and codes; not chapters or blocks."""
    return icd.is_valid_item(item) and not icd.is_chapter_or_block(item)


def main() -> None:
    data = Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        if path.name != "icd10cm.ttl":
            data.parse(path)
    families = (named_families(data) | set(EXTRA_FAMILIES))
    unknown = sorted(f for f in families if not is_code(f))
    if unknown:
        raise SystemExit(f"not ICD-10-CM codes: {unknown}")
    pump_context = {c: [t for t in icd.get_inclusion_term(c) if PUMP_CONTEXT_WORDS in t.lower()]
                    for c in icd.get_descendants(PUMP_CONTEXT_ROOT) if is_code(c)}
    pump_context = {c: terms for c, terms in pump_context.items() if terms}
    families |= set(pump_context)
    codes: set[str] = set()
    for fam in families:
        codes.add(fam)
        codes.update(c for c in icd.get_descendants(fam) if is_code(c))
        codes.update(a for a in icd.get_ancestors(fam) if is_code(a))
    out = Graph()
    bind_all(out)
    for code in sorted(codes):
        node = ICD10CM[code]
        out.add((node, RDF.type, SKOS.Concept))
        out.add((node, RDF.type, CPTKG.ICD10CMCode))
        if icd.is_leaf(code):
            out.add((node, RDF.type, CPTKG.BillableICD10CMCode))
        out.add((node, SKOS.notation, Literal(code)))
        out.add((node, SKOS.prefLabel, Literal(icd.get_description(code), lang="en")))
        out.add((node, SKOS.inScheme, SCHEME))
        out.add((node, CPTKG.codeSystem, SYSTEM))
        out.add((node, DCTERMS.source, NCHS))
        if code in pump_context:
            # Generated from the inclusion terms, each quoted verbatim (NCHS wording).
            out.add((node, CPTKG.signalsPumpContext, Literal(True)))
            statement = STMT[f"{code}-signalsPumpContext"]
            out.add((statement, RDF.type, CPTKG.SourcedStatement))
            out.add((statement, RDF.subject, node))
            out.add((statement, RDF.predicate, CPTKG.signalsPumpContext))
            out.add((statement, RDF.object, Literal(True)))
            out.add((statement, DCTERMS.source, NCHS))
            for term in pump_context[code]:
                out.add((statement, CPTKG.quote, Literal(term, lang="en")))
        parent = icd.get_parent(code)
        if parent and is_code(parent):
            out.add((node, SKOS.broader, ICD10CM[parent]))
        else:
            out.add((node, SKOS.topConceptOf, SCHEME))
            out.add((SCHEME, SKOS.hasTopConcept, node))
    target = ROOT / "ontology" / "icd10cm.ttl"
    target.write_text(out.serialize(format="turtle"), encoding="utf-8")
    print(f"{target}: {len(codes)} codes", file=sys.stderr)


if __name__ == "__main__":
    main()
