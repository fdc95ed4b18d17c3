"""The SKOS export: the code systems as concept schemes for SKOS tools (Skosmos, VocBench,
OntoPortal). Built from the inferred graph by graph walks, not kept by hand."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from cptkg.export import canonical_turtle
from cptkg.graph import KnowledgeGraph
from cptkg.namespaces import CPTKG, bind_all

# Relations between concepts that SKOS tools should show, each declared a sub-property of
# skos:related (associative links); the crosswalk is a mapping across schemes.
ASSOCIATIVE = (
    CPTKG.relatedCode, CPTKG.removalCounterpart, CPTKG.insertionCounterpart, CPTKG.seeAlso,
    CPTKG.standaloneAlternative, CPTKG.acceptablePrimary, CPTKG.acceptsAddOn, CPTKG.primaryContext,
    CPTKG.notReportedWith, CPTKG.pumpRemovalCodedAs, CPTKG.typicalPlaceOfService,
    CPTKG.typicalSpecialty, CPTKG.indication, CPTKG.evidencedBy, CPTKG.evidences,
    CPTKG.requiresDocumentation,
)
MAPPING = {CPTKG.crosswalksTo: SKOS.relatedMatch}
CONCEPT_LITERALS = (SKOS.notation, SKOS.prefLabel, SKOS.altLabel, SKOS.definition,
                    CPTKG.descriptor)
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
        for p in ASSOCIATIVE:
            for o in source.objects(concept, p):
                if o in concepts and o != concept:
                    out.add((concept, p, o))
                    # Materialised: SKOS tools do not reason over sub-properties.
                    out.add((concept, SKOS.related, o))
                    out.add((o, SKOS.related, concept))
        for p, skos_p in MAPPING.items():
            for o in source.objects(concept, p):
                if o in concepts:
                    out.add((concept, p, o))
                    out.add((concept, skos_p, o))
                    out.add((o, skos_p, concept))
    for p in ASSOCIATIVE:
        _declare(out, source, p, SKOS.related)
    for p, skos_p in MAPPING.items():
        _declare(out, source, p, skos_p)
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
