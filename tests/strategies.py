"""Hypothesis strategies for FHIR R4 Claims that exercise every claim rule."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import strategies as st

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
POS_SYSTEM = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ICD_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
DOC_SYSTEM = "https://w3id.org/cptkg/documentation-element"

CODES = ["20701", "20700", "20702", "20703", "20704", "20705", "27301", "62350", "62362", "62365",
         "11981", "2730", "99213", "20680"]
POS = ["21", "24", "11", "22", None]
DATES = ["2025-03-04", "2025-03-05", None]
DIAGNOSES = ["T84.7XXA", "T85.735A", "T85.690A", "G80.0", "T84.7", "T847XXA", "M62.838", "T85.625A",
             "Z45.1", "T85.79XA"]
TAXONOMIES = ["207X00000X", "207XS0117X", "208200000X", "207T00000X", "208VP0014X"]
DOCS = ["primary-procedure", "removal-reason", "device-location", "complications"]


@st.composite
def fhir_claims(draw: Any, claim_id: str | None = None) -> dict[str, Any]:
    n_dx = draw(st.integers(1, 3))
    n_team = draw(st.integers(1, 2))
    items = []
    for seq in range(1, draw(st.integers(1, 4)) + 1):
        item: dict[str, Any] = {
            "sequence": seq,
            "productOrService": {"coding": [{"system": CPT_SYSTEM, "code": c}
                                            for c in draw(st.lists(st.sampled_from(CODES), min_size=1,
                                                                   max_size=2 if seq == 1 else 1))]},
            "quantity": {"value": draw(st.sampled_from([0, 1, 1, 1, 2, 3]))},
        }
        date = draw(st.sampled_from(DATES))
        if date:
            item["servicedDate"] = date
        pos = draw(st.sampled_from(POS))
        if pos:
            item["locationCodeableConcept"] = {"coding": [{"system": POS_SYSTEM, "code": pos}]}
        pointers = draw(st.lists(st.integers(1, 4), max_size=2, unique=True))
        if pointers:
            item["diagnosisSequence"] = pointers
        team = draw(st.lists(st.integers(1, 2), max_size=1, unique=True))
        if team:
            item["careTeamSequence"] = team
        sites = draw(st.lists(st.sampled_from(["left thigh", "right thigh", "abdomen"]), max_size=2,
                              unique=True))
        if sites:
            item["bodySite"] = {"coding": [{"code": s} for s in sites]}
        items.append(item)
    docs = draw(st.lists(st.sampled_from(DOCS), unique=True))
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": claim_id or draw(st.from_regex(r"[a-z][a-z0-9\-]{2,12}", fullmatch=True)),
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": "Patient/p"},
        "created": "2025-03-05",
        "provider": {"reference": "Organization/o"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/c"}}],
        "careTeam": [
            {"sequence": s, "provider": {"reference": draw(st.sampled_from(["Practitioner/a",
                                                                             "Practitioner/b"]))},
             "qualification": {"coding": [{"system": NUCC_SYSTEM,
                                           "code": draw(st.sampled_from(TAXONOMIES))}]}}
            for s in range(1, n_team + 1)
        ],
        "diagnosis": [
            {"sequence": s, "diagnosisCodeableConcept": {"coding": [
                {"system": ICD_SYSTEM, "code": draw(st.sampled_from(DIAGNOSES))}]}}
            for s in range(1, n_dx + 1)
        ],
        "item": items,
    }
    if docs:
        resource["supportingInfo"] = [
            {"sequence": n, "category": {"coding": [{"system": DOC_SYSTEM, "code": d}]},
             "valueString": "documented"}
            for n, d in enumerate(docs, 1)
        ]
    return resource


@st.composite
def claim_batches(draw: Any, max_size: int = 6) -> list[dict[str, Any]]:
    size = draw(st.integers(1, max_size))
    return [draw(fhir_claims(claim_id=f"c{i}")) for i in range(size)]


# ---------------------------------------------------------------- nearly valid and broken input

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def nearly_valid_claims(draw: Any) -> dict[str, Any]:
    """A valid claim with a few of its fields deleted or replaced by junk."""
    import copy

    claim = copy.deepcopy(draw(fhir_claims()))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(claim) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = claim
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            with contextlib.suppress(IndexError, KeyError, TypeError):
                parent[path[-1]] = draw(JUNK)
    return claim


def any_json_line() -> st.SearchStrategy[str]:
    """One NDJSON line: a valid claim, a nearly valid one, another resource, or not JSON at all."""
    import json

    return st.one_of(
        fhir_claims().map(json.dumps),
        nearly_valid_claims().map(json.dumps),
        st.just('{"resourceType": "Patient", "id": "p"}'),
        st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t and t.strip() != ""),
        st.recursive(JUNK, lambda inner: st.lists(inner, max_size=3), max_leaves=10).map(json.dumps),
    )
