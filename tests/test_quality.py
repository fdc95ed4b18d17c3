"""The graph checks itself: shapes/quality and queries/*-violation.rq find nothing on the packaged
graph, and each does find the defect it is written for."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF, SKOS

from cptkg.export import rdf as export
from cptkg.kg import quality, resources
from cptkg.kg.graph import KnowledgeGraph
from cptkg.kg.namespaces import CPT, CPTKG, STMT


def test_quality_shapes_pass(kg) -> None:
    assert quality.shape_problems(kg) == []


def test_violation_queries_return_no_rows(kg) -> None:
    names = quality.violation_queries()
    assert len(names) >= 4
    assert quality.query_problems(kg) == []


class Broken(KnowledgeGraph):
    """The packaged graph with one defect, to prove a check can fail."""

    def __init__(self, mutate) -> None:
        super().__init__()
        graph = Graph()
        for t in KnowledgeGraph.default().asserted:
            graph.add(t)
        mutate(graph)
        self.__dict__["asserted"] = graph
        import pyoxigraph

        store = pyoxigraph.Store()
        store.bulk_load(graph.serialize(format="nt", encoding="utf-8"),
                        format=pyoxigraph.RdfFormat.N_TRIPLES)
        self.__dict__["asserted_store"] = store


DEFECTS = [
    ("ConceptHasEnglishPrefLabel", lambda g: g.remove((CPT["20701"], SKOS.prefLabel, None))),
    ("ConceptHasNotation", lambda g: g.add((CPT["20701"], SKOS.notation, Literal(20701)))),
    ("ConceptInScheme", lambda g: g.remove((CPT["20700"], SKOS.inScheme, None))),
    ("ConceptHasSource", lambda g: g.remove((CPT["62365"], DCTERMS.source, None))),
    ("TermHasDefinition", lambda g: g.remove((CPTKG.action, SKOS.definition, None))),
    ("OntologyHasLicense", lambda g: g.remove((None, DCTERMS.license, None))),
    ("StatementHasSource",
     lambda g: g.remove((STMT["20701-typicalPlaceOfService-21"], DCTERMS.source, None))),
]


@pytest.mark.parametrize(("shape", "mutate"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_quality_shape_catches(shape: str, mutate) -> None:
    problems = quality.shape_problems(Broken(mutate))
    assert shape in {p.check for p in problems}


QUERY_DEFECTS = [
    ("fact-without-source-violation",
     lambda g: g.add((CPT["20701"], CPTKG.typicalPlaceOfService, CPT["11"]))),
    ("statement-not-asserted-violation",
     lambda g: g.remove((CPT["20701"], CPTKG.typicalPlaceOfService, None))),
    ("label-not-english-violation",
     lambda g: g.add((CPT["20700"], SKOS.definition, Literal("plain, no language")))),
    ("conflict-side-unsourced-violation", lambda g: _drop_guidance_sides(g)),
]


def _drop_guidance_sides(g: Graph) -> None:
    g.remove((None, CPTKG.side, STMT["20701-pumpRemovalCodedAs-62365"]))
    g.remove((None, CPTKG.side,
              STMT["20701-device-device-manually-prepared-drug-delivery-device"]))


@pytest.mark.parametrize(("check", "mutate"), QUERY_DEFECTS, ids=[d[0] for d in QUERY_DEFECTS])
def test_violation_query_catches(check: str, mutate) -> None:
    problems = quality.query_problems(Broken(mutate))
    assert check in {p.check for p in problems}


def test_no_xsd_string_literals_in_data() -> None:
    for folder in ("ontology", "shapes"):
        for f in resources.files(folder, ".ttl"):
            assert "XMLSchema#string" not in f.read_text(encoding="utf-8"), f.name
            assert "xsd:string" not in f.read_text(encoding="utf-8"), f.name


def test_ontology_files_are_canonical() -> None:
    """UCO's lesson: a data file differs from its canonical form only by mistake."""
    for f in resources.ontology_files():
        text = f.read_text(encoding="utf-8")
        graph = Graph().parse(data=text, format="turtle")
        assert text == export.canonical_turtle(graph), (
            f"ontology/{f.name} is not canonical: run `python tools/canonicalize.py`")


def test_no_blank_nodes_in_data(kg) -> None:
    from rdflib import BNode

    assert not any(isinstance(t, BNode) for triple in kg.asserted for t in triple)


def test_every_concept_scheme_has_top_concepts(kg) -> None:
    for scheme in kg.asserted.subjects(RDF.type, SKOS.ConceptScheme):
        assert (scheme, SKOS.hasTopConcept, None) in kg.asserted, scheme
