"""FHIR R4 Claim JSON -> the cptkg claim graph (the mapping is in the README, Validating claims).

Resources are parsed with fhir.resources' R4B models (R4B Claim matches R4 4.0.1 Claim), so a
claim that is not valid FHIR is reported as Unreadable with pydantic's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO
from urllib.parse import quote

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from cptkg.claims.rdf import claims_from_graph
from cptkg.claims.record import ClaimRecord, Triple
from cptkg.claims.safe_parse import load_json, parse_untrusted
from cptkg.errors import InputError
from cptkg.kg.icd10cm import normalise as normalise_icd
from cptkg.kg.namespaces import (
    CPT,
    CPTKG,
    DOCEL,
    HCPCS,
    ICD10CM,
    NUCC,
    POS,
    SYSTEM_CPT,
    SYSTEM_DOCUMENTATION,
    SYSTEM_HCPCS,
    SYSTEM_ICD10CM,
    SYSTEM_NUCC,
    SYSTEM_POS,
)

log = logging.getLogger(__name__)

CLAIM_BASE = "urn:cptkg:fhir:Claim/"
MAX_LINE_BYTES = 16 * 1024 * 1024


class ClaimConversionError(Exception):
    """The resource is FHIR, but not a claim cptkg can read (one line, says what to fix)."""


def _claim_model() -> Any:
    from fhir.resources.R4B.claim import Claim

    return Claim


def read_json_document(text: str, where: str) -> Iterator[ClaimRecord]:
    try:
        data = load_json(text, where)
    except InputError as err:
        yield ClaimRecord(where, where, error=str(err))
        return
    if isinstance(data, dict) and "@context" in data:
        try:
            graph = parse_untrusted(text, "json-ld", where)
        except InputError as err:
            yield ClaimRecord(where, where, error=str(err))
            return
        yield from claims_from_graph(graph, where)
        return
    yield from records_from_resource(data, where)


def bounded_lines(handle: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of a binary file, each read at most ``limit + 1`` bytes at a time: a longer line
    comes out cut at ``limit + 1`` bytes (so it is reported too long) and the rest of it is skipped,
    so one 600 MB line never sits in memory."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip to the end of the long line
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def read_ndjson(lines: Iterable[bytes], where: str, first_line: int = 1) -> Iterator[ClaimRecord]:
    """One claim per line of NDJSON; a line that cannot be read is one Unreadable record."""
    for number, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        here = f"{where}:{number}"
        try:
            yield from _ndjson_line(line, here)
        except Exception as err:  # one line's failure is that line's, never the run's
            log.debug("NDJSON line %s failed", here, exc_info=True)
            yield ClaimRecord(here, here, error=f"{here}: cannot be read ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:200]})")


def _ndjson_line(line: bytes, here: str) -> Iterator[ClaimRecord]:
    if len(line) > MAX_LINE_BYTES:
        yield ClaimRecord(here, here, error=f"{here}: line longer than {MAX_LINE_BYTES >> 20} MiB")
        return
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        yield ClaimRecord(here, here, error=f"{here}: not UTF-8 text")
        return
    try:
        data = load_json(text, here)
    except InputError as err:
        yield ClaimRecord(here, here, error=str(err))
        return
    yield from records_from_resource(data, here)


def records_from_resource(data: Any, where: str) -> Iterator[ClaimRecord]:
    if not isinstance(data, dict):
        yield ClaimRecord(where, where, error=f"{where}: a JSON {type(data).__name__}, not a FHIR resource")
        return
    kind = data.get("resourceType")
    if kind == "Claim":
        yield claim_record(data, where)
    elif kind == "Bundle":
        entries = data.get("entry") or []
        if not isinstance(entries, list) or not entries:
            yield ClaimRecord(where, where, error=f"{where}: a Bundle with no entries")
            return
        for index, entry in enumerate(entries):
            here = f"{where}#entry[{index}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") != "Claim":
                what = resource.get("resourceType") if isinstance(resource, dict) else None
                yield ClaimRecord(here, here, error=f"{here}: a {what or 'entry without a resource'}, "
                                  "not a Claim")
                continue
            yield claim_record(resource, here)
    else:
        yield ClaimRecord(where, where, error=f"{where}: a {kind or 'JSON object without resourceType'}, "
                          "not a FHIR Claim or a Bundle of Claims")


def claim_record(resource: dict[str, Any], where: str) -> ClaimRecord:
    claim_id = resource.get("id") if isinstance(resource.get("id"), str) else None
    shown = claim_id or where
    try:
        claim = _claim_model().model_validate(resource)
    except Exception as err:  # pydantic.ValidationError, and ValueError from fhir_core
        return ClaimRecord(shown, where, error=f"{where}: not a valid FHIR R4 Claim: {_pydantic_reason(err)}")
    iri = URIRef(CLAIM_BASE + quote(claim_id or where, safe=""))
    try:
        triples = convert(claim, iri)
    except ClaimConversionError as err:
        return ClaimRecord(shown, where, iri=iri, error=f"{where}: claim {shown}: {err}")
    except Exception as err:
        log.warning("claim %s at %s could not be converted", shown, where, exc_info=True)
        return ClaimRecord(shown, where, iri=iri, error=f"{where}: claim {shown} could not be read "
                           f"({type(err).__name__}: {err}); please report it with the claim")
    return ClaimRecord(shown, where, iri=iri, triples=triples)


def _pydantic_reason(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
            return f"{loc}: {first.get('msg')}" if loc else str(first.get("msg"))
        except Exception:
            pass
    return " ".join(str(err).split())[:300]


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _one_system(concept: Any, systems: dict[str, Any], what: str) -> list[URIRef]:
    codings = _codings(concept)
    found = [systems[c.system](c.code) for c in codings if c.system in systems and c.code]
    if not found and codings:
        seen = ", ".join(sorted({str(c.system) for c in codings}))
        raise ClaimConversionError(f"{what} has no coding in a system cptkg reads (got {seen}; "
                                   f"expected {' or '.join(systems)})")
    return found


def _code_iri(namespace: Any) -> Any:
    return lambda code: namespace[quote(str(code).strip(), safe=".")]


PROCEDURE_SYSTEMS = {SYSTEM_CPT: _code_iri(CPT), SYSTEM_HCPCS: _code_iri(HCPCS)}
POS_SYSTEMS = {SYSTEM_POS: _code_iri(POS)}
ICD_SYSTEMS = {SYSTEM_ICD10CM: lambda code: ICD10CM[quote(normalise_icd(str(code)), safe=".")]}
NUCC_SYSTEMS = {SYSTEM_NUCC: _code_iri(NUCC)}


def _reference_iri(reference: Any) -> URIRef | Literal | None:
    if reference is None:
        return None
    if reference.reference:
        return URIRef("urn:cptkg:fhir:" + quote(reference.reference, safe="/:"))
    ident = reference.identifier
    if ident is not None and ident.value:
        return URIRef("urn:cptkg:identifier:" + quote(f"{ident.system or ''}|{ident.value}", safe="|"))
    if reference.display:
        return Literal(reference.display)
    return None


def _sequences(values: Any, what: str) -> list[Literal]:
    """Pointers (diagnosisSequence, careTeamSequence, ...) as integers; an empty entry is an error."""
    out = []
    for value in values or []:
        if value is None:
            raise ClaimConversionError(f"{what} has an empty entry: give sequence numbers")
        out.append(Literal(int(value)))
    return out


def _integer(value: Any) -> Literal:
    if isinstance(value, Decimal) and not value.is_finite():
        raise ClaimConversionError(f"quantity {value} is not a number")
    if isinstance(value, Decimal | float) and value == int(value):
        return Literal(int(value))
    if isinstance(value, int):
        return Literal(value)
    return Literal(Decimal(str(value)))


# rdflib's Namespace attribute lookup costs microseconds a call; convert() uses these per triple.
_ITEM = CPTKG.item
_CLAIM_ITEM = CPTKG.ClaimItem
_SEQUENCE = CPTKG.sequence
_PRODUCT = CPTKG.productOrService
_DATE = CPTKG.servicedDate
_LOCATION = CPTKG.location
_QUANTITY = CPTKG.quantity
_DX_SEQ = CPTKG.diagnosisSequence
_CT_SEQ = CPTKG.careTeamSequence
_INFO_SEQ = CPTKG.informationSequence
_BODY_SITE = CPTKG.bodySite
_DIAGNOSIS = CPTKG.diagnosis
_CLAIM_DIAGNOSIS = CPTKG.ClaimDiagnosis
_DX_CODE = CPTKG.diagnosisCode
_CARE_TEAM = CPTKG.careTeam
_CARE_TEAM_MEMBER = CPTKG.CareTeamMember
_PROVIDER = CPTKG.provider
_QUALIFICATION = CPTKG.qualification
_SUPPORTING_INFO = CPTKG.supportingInfo
_SUPPORTING_INFORMATION = CPTKG.SupportingInformation
_CATEGORY = CPTKG.category
_VALUE = CPTKG.value
_CLAIM = CPTKG.Claim
_TYPE = RDF.type
_XSD_DATE = XSD.date


def convert(claim: Any, iri: URIRef) -> list[Triple]:
    items = list(claim.item or [])
    if not items:
        raise ClaimConversionError("the claim has no items: nothing to validate")
    out: list[Triple] = [(iri, _TYPE, _CLAIM)]
    base = str(iri)
    for item in items:
        node = URIRef(f"{base}/item/{item.sequence}")
        out += [(iri, _ITEM, node), (node, _TYPE, _CLAIM_ITEM),
                (node, _SEQUENCE, Literal(int(item.sequence)))]
        what = f"item {item.sequence} productOrService"
        codes = _one_system(item.productOrService, PROCEDURE_SYSTEMS, what)
        if not codes:
            raise ClaimConversionError(f"{what} has no coding: give a CPT code (system {SYSTEM_CPT})")
        out += [(node, _PRODUCT, c) for c in codes]
        if item.servicedDate is not None:
            out.append((node, _DATE, Literal(item.servicedDate.isoformat(), datatype=_XSD_DATE)))
        elif item.servicedPeriod is not None and item.servicedPeriod.start is not None:
            start = item.servicedPeriod.start
            out.append((node, _DATE, Literal(str(start)[:10], datatype=_XSD_DATE)))
        for pos in _one_system(item.locationCodeableConcept, POS_SYSTEMS, f"item {item.sequence} location"):
            out.append((node, _LOCATION, pos))
        if item.quantity is not None and item.quantity.value is not None:
            out.append((node, _QUANTITY, _integer(item.quantity.value)))
        where = f"item {item.sequence}"
        out += [(node, _DX_SEQ, v) for v in _sequences(item.diagnosisSequence, f"{where} diagnosisSequence")]
        out += [(node, _CT_SEQ, v) for v in _sequences(item.careTeamSequence, f"{where} careTeamSequence")]
        out += [(node, _INFO_SEQ, v) for v in _sequences(item.informationSequence, f"{where} informationSequence")]
        site = item.bodySite
        if site is not None:
            labels = [f"{c.system}|{c.code}" if c.system else str(c.code) for c in _codings(site) if c.code]
            if not labels and site.text:
                labels = [site.text]
            out += [(node, _BODY_SITE, Literal(label)) for label in labels]
    for dx in claim.diagnosis or []:
        node = URIRef(f"{base}/diagnosis/{dx.sequence}")
        out += [(iri, _DIAGNOSIS, node), (node, _TYPE, _CLAIM_DIAGNOSIS),
                (node, _SEQUENCE, Literal(int(dx.sequence)))]
        if dx.diagnosisCodeableConcept is None:
            raise ClaimConversionError(f"diagnosis {dx.sequence} has no diagnosisCodeableConcept "
                                       "(cptkg reads ICD-10-CM codes, not references)")
        for code in _one_system(dx.diagnosisCodeableConcept, ICD_SYSTEMS, f"diagnosis {dx.sequence}"):
            out.append((node, _DX_CODE, code))
    for member in claim.careTeam or []:
        node = URIRef(f"{base}/careTeam/{member.sequence}")
        out += [(iri, _CARE_TEAM, node), (node, _TYPE, _CARE_TEAM_MEMBER),
                (node, _SEQUENCE, Literal(int(member.sequence)))]
        provider = _reference_iri(member.provider)
        if provider is not None:
            out.append((node, _PROVIDER, provider))
        for q in _one_system(member.qualification, NUCC_SYSTEMS, f"careTeam {member.sequence} qualification"):
            out.append((node, _QUALIFICATION, q))
    for info in claim.supportingInfo or []:
        categories = [c.code for c in _codings(info.category) if c.system == SYSTEM_DOCUMENTATION and c.code]
        if not categories:
            continue  # other supportingInfo categories are FHIR's business, not documentation elements
        node = URIRef(f"{base}/supportingInfo/{info.sequence}")
        out += [(iri, _SUPPORTING_INFO, node), (node, _TYPE, _SUPPORTING_INFORMATION),
                (node, _SEQUENCE, Literal(int(info.sequence)))]
        out += [(node, _CATEGORY, DOCEL[quote(c, safe="")]) for c in categories]
        if info.valueString:
            out.append((node, _VALUE, Literal(info.valueString)))
        reference = _reference_iri(info.valueReference)
        if reference is not None:
            out.append((node, _VALUE, reference))
        for coding in _codings(info.code):
            if coding.code:
                out.append((node, _VALUE, Literal(f"{coding.system or ''}|{coding.code}")))
    return out
