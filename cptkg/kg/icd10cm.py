"""ICD-10-CM code-set facts: the normal form of a code, and for the diagnoses on claims their
billable status in each loaded edition and their hierarchy, from the edition tables in icd10cm/
(kg/editions.py; no simple-icd-10-cm import at run time).
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from cptkg.kg import editions
from cptkg.kg.namespaces import CPTKG, ICD10CM

EDITION = Namespace("https://w3id.org/cptkg/icd10cm-edition/")


def normalise(code: str) -> str:
    """Dotted, upper case: T85735A -> T85.735A (the form the graph's IRIs use)."""
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        code = code[:3] + "." + code[3:]
    return code


def edition_facts(graph: Graph) -> None:
    """Each loaded edition as a node the rules can name: its label and notation."""
    for edition in editions.editions():
        node = EDITION[edition.id]
        graph.add((node, RDF.type, CPTKG.ICD10CMEdition))
        graph.add((node, SKOS.notation, Literal(edition.id)))
        graph.add((node, RDFS.label, Literal(f"ICD-10-CM {edition.start:%B %Y} (FY{edition.fiscal_year_end.year})")))


def enrich(graph: Graph, nodes: Iterable[URIRef], edition_ids: Iterable[str] | None = None) -> None:
    """Add, for each ICD-10-CM node, its type, the editions (of ``edition_ids``, default all loaded)
    it is billable in and its skos:broader chain (from the newest of them that has it)."""
    prefix = str(ICD10CM)
    wanted = None if edition_ids is None else set(edition_ids)
    loaded = [e for e in editions.editions() if wanted is None or e.id in wanted]
    for node in set(nodes):
        text = str(node)
        if not text.startswith(prefix):
            continue
        code = text[len(prefix):]
        newest = None
        for edition in loaded:
            facts = editions.table(edition.id).get(code)
            if facts is None:
                continue
            newest = edition
            if facts.billable:
                graph.add((node, CPTKG.billableIn, EDITION[edition.id]))
        if newest is None:
            continue
        table = editions.table(newest.id)
        current: str | None = code
        while current is not None and current in table:
            subject = ICD10CM[current]
            graph.add((subject, RDF.type, CPTKG.ICD10CMCode))
            graph.add((subject, SKOS.notation, Literal(current)))
            if table[current].billable:
                graph.add((subject, RDF.type, CPTKG.BillableICD10CMCode))
            parent = table[current].parent
            if parent:
                graph.add((subject, SKOS.broader, ICD10CM[parent]))
            current = parent
