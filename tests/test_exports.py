"""Exports for other tools: the same graph in every RDF format, byte-stable; a SKOS vocabulary
that meets the profile and the SKOS integrity conditions; a FHIR Bundle that fhir.resources
accepts and that holds the graph's codes; an ontology HermiT finds consistent."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS

from cptkg.export import fhir as fhir_export
from cptkg.export import rdf as export
from cptkg.export import skos
from cptkg.kg import resources
from cptkg.kg.namespaces import CPT, CPTKG
from tests.conftest import run_cli

FORMATS = {"turtle": ("turtle", pyoxigraph.RdfFormat.TURTLE),
           "ntriples": ("nt", pyoxigraph.RdfFormat.N_TRIPLES),
           "jsonld": ("json-ld", pyoxigraph.RdfFormat.JSON_LD),
           "rdfxml": ("xml", pyoxigraph.RdfFormat.RDF_XML)}


@pytest.fixture(scope="module")
def exported(kg) -> dict[tuple[str, bool], str]:
    return {(fmt, inferred): export.export(kg.graph(inferred=inferred), fmt)
            for fmt in FORMATS for inferred in (False, True)}


@pytest.mark.parametrize("inferred", [False, True])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_rdf_export_same_graph_in_two_parsers(kg, exported, fmt: str, inferred: bool) -> None:
    text = exported[(fmt, inferred)]
    rdflib_format, ox_format = FORMATS[fmt]
    parsed = Graph().parse(data=text, format=rdflib_format)
    reference = Graph().parse(data=exported[("turtle", inferred)], format="turtle")
    assert isomorphic(parsed, reference)
    assert len(parsed) == len(kg.graph(inferred=inferred))
    # An independent parser (Oxigraph, Rust) reads the same number of triples.
    store = pyoxigraph.Store()
    store.load(text.encode("utf-8"), format=ox_format)
    assert len(store) == len(parsed)


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "jsonld", "rdfxml", "skos", "fhir"])
def test_two_exports_are_identical_bytes(fmt: str) -> None:
    first = run_cli("export", "--format", fmt)
    second = run_cli("export", "--format", fmt, env={"PYTHONHASHSEED": "99"})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout) > 1000


def test_jsonld_context_is_inline(exported) -> None:
    doc = json.loads(exported[("jsonld", False)])
    assert isinstance(doc["@context"], dict)
    assert doc["@context"]["cpt"] == "https://w3id.org/cptkg/cpt/"
    from cptkg.claims.safe_parse import remote_contexts

    assert remote_contexts(doc) == []  # nothing a consumer would fetch


def test_inferred_export_has_no_noise(exported) -> None:
    text = exported[("ntriples", True)]
    assert "http://www.w3.org/2002/07/owl#Thing>" not in text
    assert "daml.org" not in text
    assert not any(line.startswith('"') for line in text.splitlines())
    # ...but it has the entailments.
    assert ("<https://w3id.org/cptkg/cpt/20701> <https://w3id.org/cptkg/ontology#insertionCounterpart> "
            "<https://w3id.org/cptkg/cpt/20700> .") in text


# ---------------------------------------------------------------- SKOS

@pytest.fixture(scope="module")
def skos_export(kg) -> Graph:
    text = skos.export_skos(kg)
    return Graph().parse(data=text, format="turtle")


def test_skos_export_conforms_to_the_profile(skos_export) -> None:
    from pyshacl import validate

    profile = resources.shapes_in("skos")
    assert len(profile) > 20
    conforms, _report, text = validate(skos_export, shacl_graph=profile, inference="none")
    assert conforms, text[:3000]


def test_skos_profile_catches_a_defect(skos_export) -> None:
    from pyshacl import validate

    broken = Graph()
    for t in skos_export:
        broken.add(t)
    broken.remove((CPT["20701"], SKOS.prefLabel, None))
    profile = resources.shapes_in("skos")
    conforms, report, _ = validate(broken, shacl_graph=profile, inference="none")
    assert not conforms
    from rdflib.namespace import SH

    fired = {str(o).rsplit("#", 1)[1] for o in report.objects(None, SH.sourceShape)}
    assert fired == {"SkosConceptPrefLabel"}


ASK = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nASK {{ {} }}"
# W3C SKOS Reference integrity conditions that apply (S9, S13, S14, S27, S46) and the ones the
# data could break (S8 top concept in scheme; S18 notation is a literal).
INTEGRITY = {
    "S9 ConceptScheme disjoint with Concept": "?x a skos:ConceptScheme, skos:Concept",
    "S13 prefLabel/altLabel disjoint": "?x skos:prefLabel ?l ; skos:altLabel ?l",
    "S14 one prefLabel per language":
        "?x skos:prefLabel ?a, ?b . FILTER (?a != ?b && LANG(?a) = LANG(?b))",
    "S27 related disjoint with broaderTransitive": "?x skos:related ?y ; skos:broader+ ?y",
    "S46 exactMatch disjoint with broad/relatedMatch":
        "?x skos:exactMatch ?y . { ?x skos:broadMatch ?y } UNION { ?x skos:relatedMatch ?y }",
    "S8 top concept is in its scheme": "?c skos:topConceptOf ?s . FILTER NOT EXISTS { ?c skos:inScheme ?s }",
    "S7 topConceptOf/hasTopConcept inverse": "?s skos:hasTopConcept ?c . FILTER NOT EXISTS { ?c skos:topConceptOf ?s }",
    "no cycle in broader": "?x skos:broader+ ?x",
    "top concepts have no broader": "?c skos:topConceptOf ?s ; skos:broader ?b",
}


@pytest.mark.parametrize("condition", sorted(INTEGRITY))
def test_skos_integrity_condition(skos_export, condition: str) -> None:
    assert not skos_export.query(ASK.format(INTEGRITY[condition])).askAnswer, condition


def test_skos_relations_declared_and_materialised(skos_export) -> None:
    from rdflib.namespace import RDFS

    assert (CPTKG.insertionCounterpart, RDFS.subPropertyOf, SKOS.related) in skos_export
    assert (CPT["20701"], CPTKG.insertionCounterpart, CPT["20700"]) in skos_export
    assert (CPT["20701"], SKOS.related, CPT["20700"]) in skos_export
    assert (CPT["20700"], SKOS.related, CPT["20701"]) in skos_export
    schemes = set(skos_export.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) == 7
    assert not list(skos_export.subjects(RDF.type, CPTKG.SourcedStatement))


# ---------------------------------------------------------------- FHIR

@pytest.fixture(scope="module")
def bundle(kg) -> dict:
    return json.loads(fhir_export.export_bundle(kg))


def test_fhir_bundle_validates(bundle) -> None:
    from fhir.resources.R4B.bundle import Bundle

    parsed = Bundle.model_validate(bundle)
    kinds = sorted(e.resource.__resource_type__ for e in parsed.entry)
    assert kinds.count("ValueSet") >= 4 and kinds.count("ConceptMap") == 3 and "CodeSystem" in kinds


def resources_by_id(bundle: dict) -> dict[str, dict]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}


def codes_of(value_set: dict) -> set[str]:
    return {c["code"] for inc in value_set["compose"]["include"] for c in inc["concept"]}


def test_fhir_value_sets_hold_the_graphs_codes(kg, bundle) -> None:
    from cptkg import query

    by_id = resources_by_id(bundle)
    assert codes_of(by_id["drug-delivery-device-family"]) == {r["notation"] for r in query("addon-codes")}
    assert codes_of(by_id["places-of-service-20701"]) == {r["pos"] for r in query(
        "places-of-service-for-code", code="20701")}
    assert codes_of(by_id["specialties-20701"]) == {r["taxonomy"] for r in query(
        "specialties-for-code", code="20701")}
    infection = codes_of(by_id["icd10cm-infection"])
    assert {"T85.735", "T85.735A", "T84.7XXA", "T84.50XA"} <= infection
    family = {r["notation"] for r in query("addon-codes")}
    for code in infection:  # every code there supports the family (20701 by the article too)
        assert {r["notation"] for r in query("codes-for-diagnosis", icd=code)} == family


def test_fhir_concept_maps_hold_the_graphs_relations(bundle) -> None:
    from cptkg import query

    by_id = resources_by_id(bundle)
    pairs = {(el["code"], t["code"]) for g in by_id["removal-to-insertion"]["group"]
             for el in g["element"] for t in el["target"]}
    assert pairs == {(r["removal"], r["insertion"]) for r in query("insertion-removal-pairs")}
    crosswalk = {(el["code"], t["code"]) for g in by_id["medicare-specialty-to-nucc"]["group"]
                 for el in g["element"] for t in el["target"]}
    assert ("20", "207X00000X") in crosswalk and ("14", "207T00000X") in crosswalk
    evidence = {(el["code"], t["code"]) for g in by_id["indication-to-icd10cm"]["group"]
                for el in g["element"] for t in el["target"]}
    assert ("dislocation", "T85.625") in evidence


def test_fhir_cpt_is_never_a_complete_code_system(bundle) -> None:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "CodeSystem":
            assert resource["url"] != "http://www.ama-assn.org/go/cpt"
        if resource["resourceType"] == "ValueSet":
            for include in resource["compose"]["include"]:
                if include["system"] == "http://www.ama-assn.org/go/cpt":
                    assert all("display" not in c for c in include["concept"])


# ---------------------------------------------------------------- OWL DL

def _hermit(path: Path) -> None:
    import owlready2

    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load()
    with ontology:
        # HermiT supports only the OWL 2 datatype map, which has no xsd:date: dates stay opaque.
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=True)


@pytest.mark.slow
def test_hermit_finds_the_ontology_consistent(kg, exported, tmp_path) -> None:
    path = tmp_path / "cptkg.owl"
    path.write_text(exported[("rdfxml", False)], encoding="utf-8")
    _hermit(path)


@pytest.mark.slow
def test_hermit_sees_a_contradiction(kg, tmp_path) -> None:
    import owlready2

    broken = Graph()
    for t in kg.asserted:
        broken.add(t)
    broken.add((CPT["20701"], RDF.type, CPTKG.InsertionCode))  # disjoint with RemovalCode
    path = tmp_path / "broken.owl"
    path.write_text(export.rdfxml(broken), encoding="utf-8")
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit(path)
