"""ICD-10-CM code-set facts: the normal form of a code, and for the diagnoses on claims their
billable status and hierarchy, from the tree simple-icd-10-cm ships.

Imported only when claims are validated (the import takes a second or two).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from types import ModuleType

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from cptkg.kg.namespaces import CPTKG, ICD10CM


@cache
def _tree() -> ModuleType:
    import simple_icd_10_cm

    return simple_icd_10_cm


def normalise(code: str) -> str:
    """Dotted, upper case: T85735A -> T85.735A (the form the graph's IRIs use)."""
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        code = code[:3] + "." + code[3:]
    return code


@cache
def facts(code: str) -> tuple[tuple[str, bool, str | None], ...]:
    """(code, billable, parent) for the code and each ancestor up to its category; () if invalid."""
    icd = _tree()
    if not icd.is_valid_item(code) or icd.is_chapter_or_block(code):
        return ()
    out = []
    current: str | None = code
    while current and not icd.is_chapter_or_block(current):
        parent = icd.get_parent(current) or None
        if parent is not None and icd.is_chapter_or_block(parent):
            parent = None
        out.append((current, bool(icd.is_leaf(current)), parent))
        current = parent
    return tuple(out)


def is_billable(code: str) -> bool:
    found = facts(normalise(code))
    return bool(found) and found[0][1]


def enrich(graph: Graph, nodes: Iterable[URIRef]) -> None:
    """Add, for each ICD-10-CM node, its type, billable status and skos:broader chain."""
    prefix = str(ICD10CM)
    for node in set(nodes):
        text = str(node)
        if not text.startswith(prefix):
            continue
        for code, billable, parent in facts(text[len(prefix):]):
            subject = ICD10CM[code]
            graph.add((subject, RDF.type, CPTKG.ICD10CMCode))
            graph.add((subject, SKOS.notation, Literal(code)))
            if billable:
                graph.add((subject, RDF.type, CPTKG.BillableICD10CMCode))
            if parent:
                graph.add((subject, SKOS.broader, ICD10CM[parent]))
