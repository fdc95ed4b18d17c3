"""The SKOS export: the code systems as concept schemes for SKOS tools (Skosmos, VocBench,
OntoPortal). Built from the inferred graph by graph walks, not kept by hand."""

from __future__ import annotations

from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from cptkg.export.rdf import canonical_turtle
from cptkg.kg.graph import KnowledgeGraph
from cptkg.kg.namespaces import CPTKG, bind_all

# A cptkg relation the graph declares a sub-property of one of these is a mapping across
# schemes (the Medicare-to-NUCC crosswalk); every other relation between two concepts is
# associative (skos:related). Which relations there are comes from the graph, not from a list.
MAPPINGS = (SKOS.relatedMatch, SKOS.closeMatch, SKOS.exactMatch, SKOS.broadMatch, SKOS.narrowMatch)
CONCEPT_LITERALS = (SKOS.notation, SKOS.prefLabel, SKOS.altLabel, SKOS.definition,
                    CPTKG.descriptor)
# What SKOS itself entails from a mapping or associative link (the SKOS reference, S39-S43: each
# mapping is a sub-property of its semantic counterpart; related and the match links are
# symmetric; broader and narrower are inverses). SKOS tools (Skosmos, skosify) do not reason:
# what is implied is written out.
IMPLIED = {SKOS.relatedMatch: SKOS.related, SKOS.broadMatch: SKOS.broader, SKOS.narrowMatch: SKOS.narrower}
CONVERSE = {SKOS.related: SKOS.related, SKOS.relatedMatch: SKOS.relatedMatch, SKOS.closeMatch: SKOS.closeMatch,
            SKOS.exactMatch: SKOS.exactMatch, SKOS.broadMatch: SKOS.narrowMatch, SKOS.narrowMatch: SKOS.broadMatch,
            SKOS.broader: SKOS.narrower, SKOS.narrower: SKOS.broader}
SCHEME_METADATA = (DCTERMS.title, DCTERMS.description, DCTERMS.creator, DCTERMS.license,
                   OWL.versionInfo, DCTERMS.modified, SKOS.prefLabel, CPTKG.codeSystem)


def skos_graph(kg: KnowledgeGraph) -> Graph:
    source = kg.inferred
    out = bind_all(Graph())
    schemes = set(source.subjects(RDF.type, SKOS.ConceptScheme))
    for scheme in schemes:
        out.add((scheme, RDF.type, SKOS.ConceptScheme))
        for p in SCHEME_METADATA:
            for o in source.objects(scheme, p):
                out.add((scheme, p, o))
        modified = source.value(scheme, DCTERMS.modified)
        if modified is not None:
            out.add((scheme, DCTERMS.created, Literal(str(modified), datatype=XSD.date)))
        for top in source.objects(scheme, SKOS.hasTopConcept):
            out.add((scheme, SKOS.hasTopConcept, top))
            out.add((top, SKOS.topConceptOf, scheme))
    concepts = {c for c in source.subjects(RDF.type, SKOS.Concept)
                if any(s in schemes for s in source.objects(c, SKOS.inScheme))}
    for concept in concepts:
        out.add((concept, RDF.type, SKOS.Concept))
        for scheme in source.objects(concept, SKOS.inScheme):
            out.add((concept, SKOS.inScheme, scheme))
        for p in CONCEPT_LITERALS:
            for o in source.objects(concept, p):
                out.add((concept, p, o))
        for o in source.objects(concept, SKOS.broader):
            if o in concepts:
                out.add((concept, SKOS.broader, o))
                out.add((o, SKOS.narrower, concept))
        for o in source.objects(concept, DCTERMS.source):
            out.add((concept, DCTERMS.source, o))
        for o in source.objects(concept, CPTKG.codeSystem):
            out.add((concept, CPTKG.codeSystem, o))
    declared: dict[Any, Any] = {}
    for concept in concepts:
        for prop, o in source.predicate_objects(concept):
            if o not in concepts or o == concept or not str(prop).startswith(str(CPTKG)):
                continue
            parent = next((m for m in MAPPINGS if (prop, RDFS.subPropertyOf, m) in source), SKOS.related)
            declared[prop] = parent
            out.add((concept, prop, o))
            # Materialised, with its converse and what SKOS entails from it: SKOS tools do not
            # reason over sub-properties.
            for link in (parent, IMPLIED.get(parent)):
                if link is not None:
                    out.add((concept, link, o))
                    out.add((o, CONVERSE[link], concept))
    for prop, parent in declared.items():
        _declare(out, source, prop, parent)
    for src in set(out.objects(None, DCTERMS.source)):
        for p in (RDF.type, DCTERMS.title, DCTERMS.description):
            for o in source.objects(src, p):
                out.add((src, p, o))
    return out


def _declare(out: Graph, source: Graph, prop: URIRef, parent: URIRef) -> None:
    out.add((prop, RDF.type, OWL.ObjectProperty))
    out.add((prop, RDFS.subPropertyOf, parent))
    for p in (RDFS.label, SKOS.definition):
        for o in source.objects(prop, p):
            out.add((prop, p, o))


def export_skos(kg: KnowledgeGraph) -> str:
    return canonical_turtle(skos_graph(kg))
