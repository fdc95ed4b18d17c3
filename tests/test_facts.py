"""The facts themselves, stated here as expected values (shapes pass wrong numbers; these don't).

Expected values are copied from shared/domain/REFERENCE.md, section by section.
"""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from cptkg.kg.namespaces import CPT, CPTKG, CPTKGD, ICD10CM, MSPEC, NUCC, POS

# REFERENCE.md section 1: code, action, site, pair.
FAMILY = {
    "20700": ("action-insertion", "site-deep-subfascial", "20701"),
    "20701": ("action-removal", "site-deep-subfascial", "20700"),
    "20702": ("action-insertion", "site-intramedullary", "20703"),
    "20703": ("action-removal", "site-intramedullary", "20702"),
    "20704": ("action-insertion", "site-intra-articular", "20705"),
    "20705": ("action-removal", "site-intra-articular", "20704"),
}
SHORT_LABELS = {
    "20700": "Insert drug-delivery device, deep",
    "20701": "Remove drug-delivery device, deep",
    "20702": "Insert drug-delivery device, intramedullary",
    "20703": "Remove drug-delivery device, intramedullary",
    "20704": "Insert drug-delivery device, intra-articular",
    "20705": "Remove drug-delivery device, intra-articular",
}
POS_NAMES = {
    "11": "Office", "12": "Home", "19": "Off Campus-Outpatient Hospital",
    "21": "Inpatient Hospital", "22": "On Campus-Outpatient Hospital",
    "23": "Emergency Room - Hospital", "24": "Ambulatory Surgical Center",
    "31": "Skilled Nursing Facility", "32": "Nursing Facility", "99": "Other Place of Service",
}
NUCC_CODES = {
    "207X00000X": "Orthopaedic Surgery", "207T00000X": "Neurological Surgery",
    "208VP0000X": "Pain Medicine", "208VP0014X": "Interventional Pain Medicine",
    "208100000X": "Physical Medicine & Rehabilitation", "208200000X": "Plastic Surgery",
    "207XS0117X": "Spine", "207XP3100X": "Pediatric",
}
MEDICARE = {"20": ("Orthopedic Surgery", "207X00000X"), "14": ("Neurosurgery", "207T00000X"),
            "72": ("Pain Management", "208VP0000X"),
            "09": ("Interventional Pain Management", "208VP0014X")}
PRIMARIES_20700 = [
    "11010", "11011", "11012", "11043", "11044", "11046", "11047", "20240", "20245", "20250",
    "20251", "21010", "21025", "21026", "21501", "21502", "21510", "21627", "21630", "22010",
    "22015", "23030", "23031", "23035", "23040", "23044", "23170", "23172", "23174", "23180",
    "23182", "23184", "23334", "23335", "23930", "23931", "23935", "24000", "24134", "24136",
    "24138", "24140", "24147", "24160", "25031", "25035", "25040", "25145", "25150", "25151",
    "26070", "26230", "26235", "26236", "26990", "26991", "26992", "27030", "27070", "27071",
    "27090", "27301", "27303", "27310", "27360", "27603", "27604", "27610", "27640", "27641",
    "28001", "28002", "28003", "28020", "28120", "28122",
]
PUMP_CODES = ["62350", "62351", "62355", "62360", "62361", "62362", "62365", "62367", "62368",
              "62369", "62370"]


@pytest.mark.parametrize("code", sorted(FAMILY))
def test_family_code(kg, code: str) -> None:
    g = kg.asserted
    action, site, pair = FAMILY[code]
    c = CPT[code]
    assert g.value(c, CPTKG.action) == CPTKGD[action]
    assert g.value(c, CPTKG.anatomicSite) == CPTKGD[site]
    assert (c, RDF.type, CPTKG.AddOnCode) in g
    assert (c, RDF.type, CPTKG.DrugDeliveryDeviceCode) in g
    assert g.value(c, CPTKG.globalPeriod) == Literal("ZZZ")
    assert str(g.value(c, CPTKG.effectiveDate)) == "2020-01-01"
    assert g.value(c, SKOS.prefLabel) == Literal(SHORT_LABELS[code], lang="en")
    assert g.value(c, SKOS.notation) == Literal(code)
    prop = CPTKG.removalCounterpart if action == "action-insertion" else CPTKG.insertionCounterpart
    assert (c, prop, CPT[pair]) in kg.inferred
    if action == "action-removal":
        assert g.value(c, CPTKG.standaloneAlternative) == CPT["20680"]


def test_only_the_six_are_family_codes(kg) -> None:
    members = {str(s).rsplit("/", 1)[1]
               for s in kg.asserted.subjects(RDF.type, CPTKG.DrugDeliveryDeviceCode)}
    assert members == set(FAMILY)


def test_acceptable_primaries_of_20700(kg) -> None:
    listed = {str(o).rsplit("/", 1)[1] for o in kg.asserted.objects(CPT["20700"],
                                                                     CPTKG.acceptablePrimary)}
    assert listed == set(PRIMARIES_20700)
    assert len(PRIMARIES_20700) == 76
    for code in ("20701", "20702", "20703", "20704", "20705"):
        assert (CPT[code], CPTKG.acceptablePrimary, None) not in kg.asserted  # none verified


def test_excluded_pair_and_guidance(kg) -> None:
    g = kg.asserted
    assert (CPT["20700"], CPTKG.notReportedWith, CPT["11981"]) in g
    # The 20701/11982 note is RECALLED only: it must not be a rule.
    assert (CPT["20701"], CPTKG.notReportedWith, CPT["11982"]) not in kg.inferred
    family = CPTKGD["drug-delivery-device-family"]
    assert g.value(family, CPTKG.requiresManualPreparation) == Literal(True)
    assert set(g.objects(family, CPTKG.previouslyReportedWith)) == {
        CPT["11981"], CPT["11982"], CPT["11983"]}


@pytest.mark.parametrize(("code", "name"), sorted(POS_NAMES.items()))
def test_place_of_service(kg, code: str, name: str) -> None:
    assert kg.asserted.value(POS[code], SKOS.prefLabel) == Literal(name, lang="en")
    assert kg.asserted.value(POS[code], SKOS.notation) == Literal(code)


def test_20701_places_of_service(kg) -> None:
    assert set(kg.asserted.objects(CPT["20701"], CPTKG.typicalPlaceOfService)) == {
        POS["21"], POS["24"]}


@pytest.mark.parametrize(("code", "fragment"), sorted(NUCC_CODES.items()))
def test_nucc_codes(kg, code: str, fragment: str) -> None:
    label = kg.asserted.value(NUCC[code], SKOS.prefLabel)
    assert label is not None and fragment in str(label)


def test_plastic_surgery_is_not_pmr(kg) -> None:
    # Many public lists get 208200000X wrong; it is Plastic Surgery.
    assert "Plastic" in str(kg.asserted.value(NUCC["208200000X"], SKOS.prefLabel))
    assert NUCC["208200000X"] not in set(kg.asserted.objects(CPT["20701"], CPTKG.typicalSpecialty))


@pytest.mark.parametrize(("code", "expected"), sorted(MEDICARE.items()))
def test_medicare_crosswalk(kg, code: str, expected: tuple[str, str]) -> None:
    name, taxonomy = expected
    assert kg.asserted.value(MSPEC[code], SKOS.prefLabel) == Literal(name, lang="en")
    assert (MSPEC[code], CPTKG.crosswalksTo, NUCC[taxonomy]) in kg.asserted


def test_20701_specialties(kg) -> None:
    assert set(kg.asserted.objects(CPT["20701"], CPTKG.typicalSpecialty)) == {
        NUCC["207X00000X"], NUCC["207T00000X"], NUCC["208VP0000X"], NUCC["208VP0014X"]}


def test_pump_codes_checked_table(kg) -> None:
    # REFERENCE.md section 2: some public lists swap 62361 and 62362.
    assert "nonprogrammable" in str(kg.asserted.value(CPT["62361"], SKOS.prefLabel))
    assert "programmable pump" in str(kg.asserted.value(CPT["62362"], SKOS.prefLabel))
    assert "nonprogrammable" not in str(kg.asserted.value(CPT["62362"], SKOS.prefLabel))
    for code in PUMP_CODES:
        assert (CPT[code], RDF.type, CPTKG.IntrathecalInfusionCode) in kg.asserted, code
    assert kg.asserted.value(CPT["20701"], CPTKG.pumpRemovalCodedAs) == CPT["62365"]


def test_every_icd10cm_code_is_real(kg) -> None:
    import simple_icd_10_cm as icd

    codes = [(s, str(o)) for s, o in kg.asserted.subject_objects(SKOS.notation)
             if str(s).startswith(str(ICD10CM))]
    assert len(codes) > 100
    for node, code in codes:
        assert icd.is_valid_item(code), code
        assert str(node) == str(ICD10CM) + code
        title = str(kg.asserted.value(node, SKOS.prefLabel))
        assert title == icd.get_description(code), code
        billable = (node, RDF.type, CPTKG.BillableICD10CMCode) in kg.asserted
        assert billable == icd.is_leaf(code), code
        parent = kg.asserted.value(node, SKOS.broader)
        if parent is not None:
            assert str(parent) == str(ICD10CM) + icd.get_parent(code)


def test_every_referenced_icd10cm_node_is_described(kg) -> None:
    described = set(kg.asserted.subjects(SKOS.notation, None))
    for s, p, o in kg.asserted:
        if isinstance(o, URIRef) and str(o).startswith(str(ICD10CM)):
            assert o in described, (s, p, o)


@pytest.mark.parametrize(("indication", "families"), [
    # The article's pump and catheter infections, and the guidance's device infections (T85.7-).
    ("infection", {"T85.735", "T85.738", "T85.79", "T84.5", "T84.6", "T84.7", "T85.7"}),
    ("osteomyelitis", {"M86"}),
    ("malfunction", {"T85.610", "T85.615", "T85.618", "T85.690", "T85.695", "T85.698"}),
    ("dislocation", {"T85.620", "T85.625", "T85.628"}),
    ("pump-catheter-separation", {"T85.610", "T85.690"}),
    ("other-cause", set()),
])
def test_indication_families(kg, indication: str, families: set[str]) -> None:
    from cptkg.kg.namespaces import IND

    found = {str(o).rsplit("/", 1)[1] for o in kg.asserted.objects(IND[indication],
                                                                   CPTKG.evidencedBy)}
    assert found == families
