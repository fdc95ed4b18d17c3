"""FHIR R4 JSON -> the cptkg claim graph: a Claim or ExplanationOfBenefit, a Bundle holding them and
the resources they reference, or NDJSON with one of these a line. The mapping, element by element,
is the Converter below (tests/test_inputs.py pins it triple by triple); docs/validating.md,
"Verdicts, and what happens to each line and entry", says what becomes of each line and entry.

Claims and EOBs are read directly from the parsed JSON (cptkg.claims.fhirjson: every element cptkg
reads checked against its FHIR R4 type), or, with ``--fhir-strict`` (``fhir_strict=True``), parsed with
fhir.resources' R4B models (R4B Claim and ExplanationOfBenefit match R4 4.0.1), which also refuse
what cptkg does not read (a missing patient, an unknown element). Either way a claim that is not
what FHIR says is Unreadable with the reason. The other entries of a Bundle are what claims may
reference (Condition, Practitioner, PractitionerRole, ...); they are never reported as claims.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, BinaryIO
from urllib.parse import quote

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from cptkg.claims.codesystems import SYSTEM_HCPCS_ALL_LEVELS, SYSTEM_WHO_ICD10, canonical
from cptkg.claims.fhirjson import Invalid, claim_view
from cptkg.claims.rdf import claims_from_graph
from cptkg.claims.record import ClaimGraph, ClaimRecord, Triple, claim_iri
from cptkg.claims.safe_parse import load_json, parse_untrusted
from cptkg.errors import InputError
from cptkg.kg.icd10cm import normalise as normalise_icd
from cptkg.kg.namespaces import (
    CPT,
    CPTKG,
    DOCEL,
    HCPCS,
    ICD10CM,
    MOD,
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

MAX_LINE_BYTES = 16 * 1024 * 1024
# The most lines (items, details and sub-details together) one FHIR claim may have. FHIR sets no
# limit; the 837P allows 50 service lines a claim, and no real claim comes near this: a claim over
# it is Unreadable with the reason (a claim of 3,000 lines is checked in seconds, in under 200 MiB).
MAX_CLAIM_LINES = 10_000
CLAIM_KINDS = ("Claim", "ExplanationOfBenefit")
# A claim in one of these states is not a live claim: reported, judged by no rule.
NOT_LIVE_STATUSES = {"entered-in-error": "it was entered in error", "cancelled": "it was cancelled"}
# Da Vinci PAS modifier extensions that cancel the line (or supporting information) they sit on:
# extension-itemCancelled (PAS 1.x, boolean) and modifierextension-infoCancelled (PAS 2.x).
PAS_CANCELLED = frozenset({
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemCancelled",
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/modifierextension-infoCancelled",
})
UNDERSTOOD_MODIFIER_EXTENSIONS = PAS_CANCELLED
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class ClaimConversionError(Exception):
    """The resource is FHIR, but not a claim cptkg can read (one line, says what to fix)."""


def _model(kind: str) -> Any:
    if kind == "Claim":
        from fhir.resources.R4B.claim import Claim

        return Claim
    from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit

    return ExplanationOfBenefit


def _at(where: str, more: str) -> str:
    return f"{where}, {more}" if where else more


def _unreadable(source: str, where: str, reason: str, claim_id: str | None = None,
                iri: URIRef | None = None) -> ClaimRecord:
    shown = claim_id or (f"{source} {where}" if where else source)
    place = f"{source} {where}" if where else source
    return ClaimRecord.unreadable(source, f"{place}: {reason}", where=where, claim_id=shown, iri=iri)


def read_json_text(text: str, source: str, where: str = "", *, fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """One JSON document: a FHIR resource (Claim, EOB, Bundle), or JSON-LD in the claim vocabulary.
    ``fhir_strict``: read claims with fhir.resources (every FHIR R4 conformance error reported)
    instead of the direct reader."""
    try:
        data = load_json(text, _at(source, where) if where else source)
    except InputError as err:
        yield ClaimRecord.unreadable(source, str(err), where=where)
        return
    if isinstance(data, dict) and "@context" in data:
        try:
            graph = parse_untrusted(text, "json-ld", source)
        except InputError as err:
            yield ClaimRecord.unreadable(source, str(err), where=where)
            return
        yield from claims_from_graph(graph, source)
        return
    yield from records_from_resource(data, source, where, _may_hold_modifier_extension(text), fhir_strict=fhir_strict)


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


def read_ndjson(lines: Iterable[bytes], source: str, first_line: int = 1, *,
                fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """One resource per line of NDJSON; a line that cannot be read is one Unreadable record."""
    for number, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            yield from _ndjson_line(line, source, where, fhir_strict)
        except Exception as err:  # one line's failure is that line's, never the run's
            log.debug("NDJSON %s %s failed", source, where, exc_info=True)
            yield _unreadable(source, where, f"cannot be read ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:200]})")


def _ndjson_line(line: bytes, source: str, where: str, fhir_strict: bool) -> Iterator[ClaimRecord]:
    if len(line) > MAX_LINE_BYTES:
        yield _unreadable(source, where, f"line longer than {MAX_LINE_BYTES >> 20} MiB")
        return
    try:
        text = line.decode("utf-8-sig" if where == "line 1" else "utf-8")
    except UnicodeDecodeError:
        yield _unreadable(source, where, "not UTF-8 text")
        return
    try:
        data = load_json(text, f"{source} {where}")
    except InputError as err:
        yield ClaimRecord.unreadable(source, str(err), where=where, claim_id=f"{source} {where}")
        return
    yield from records_from_resource(data, source, where, _may_hold_modifier_extension(text), fhir_strict=fhir_strict)


def records_from_resource(data: Any, source: str, where: str = "", modifier_extensions: bool = True, *,
                          fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """The claims of one parsed resource; ``modifier_extensions`` False when its text holds none."""
    if not isinstance(data, dict):
        yield _unreadable(source, where, f"a JSON {type(data).__name__}, not a FHIR resource")
        return
    kind = data.get("resourceType")
    if kind in CLAIM_KINDS:
        yield claim_record(data, source, where, {}, modifier_extensions, fhir_strict=fhir_strict)
    elif kind == "Bundle":
        yield from _bundle(data, source, where, modifier_extensions, fhir_strict)
    else:
        yield _unreadable(source, where, f"a {kind or 'JSON object without resourceType'}, not a FHIR "
                          "Claim, ExplanationOfBenefit or a Bundle holding them")


def _bundle(data: dict[str, Any], source: str, where: str, modifier_extensions: bool,
            fhir_strict: bool) -> Iterator[ClaimRecord]:
    entries = data.get("entry") or []
    if not isinstance(entries, list) or not entries:
        yield _unreadable(source, where, "a Bundle with no entries")
        return
    index: dict[str, dict[str, Any]] = {}
    claims: list[tuple[int, dict[str, Any]]] = []
    others: dict[str, int] = {}
    for number, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue  # a transaction's DELETE, or an empty entry: nothing a claim can use
        kind, rid = resource.get("resourceType"), resource.get("id")
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url:
            index[full_url] = resource
        if isinstance(kind, str) and isinstance(rid, str):
            index.setdefault(f"{kind}/{rid}", resource)
        if kind in CLAIM_KINDS:
            claims.append((number, resource))
        else:
            others[str(kind)] = others.get(str(kind), 0) + 1
    if not claims:
        held = ", ".join(f"{n} {k}" for k, n in sorted(others.items())) or "no resources"
        yield _unreadable(source, where, f"a Bundle with no Claim or ExplanationOfBenefit (it holds {held})")
        return
    for number, resource in claims:
        yield claim_record(resource, source, _at(where, f"entry[{number}]"), index, modifier_extensions,
                           fhir_strict=fhir_strict)


def claim_record(resource: dict[str, Any], source: str, where: str,
                 bundle: dict[str, dict[str, Any]], modifier_extensions: bool = True, *,
                 fhir_strict: bool = False) -> ClaimRecord:
    kind = str(resource.get("resourceType"))
    claim_id = resource.get("id") if isinstance(resource.get("id"), str) else None
    iri = claim_iri(source, where, claim_id)
    lines = _count_lines(resource)
    if lines > MAX_CLAIM_LINES:
        return _unreadable(source, where, f"{kind} {claim_id or ''} has {lines:,} lines (items, details and "
                           f"sub-details); cptkg reads at most {MAX_CLAIM_LINES:,} in one claim: split it",
                           claim_id, iri)
    try:
        if fhir_strict:
            claim = _model(kind).model_validate(resource)
            contained = [r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in claim.contained or []]
        else:
            claim = claim_view(resource)
            contained = [r.raw() for r in claim.contained]
    except Invalid as err:
        return _unreadable(source, where, f"not a valid FHIR R4 {kind}: {err}", claim_id, iri)
    except Exception as err:  # pydantic.ValidationError, and ValueError from fhir_core
        return _unreadable(source, where, f"not a valid FHIR R4 {kind}: {_pydantic_reason(err)}", claim_id, iri)
    shown = claim_id or (f"{source} {where}" if where else source)
    record = ClaimRecord(shown, source, where, iri=iri)
    unknown = (_unknown_modifier_extension(resource, kind)
               if modifier_extensions and _has_modifier_extension(resource) else None)
    if unknown:
        record.error = (f"{record.origin}: {kind} {shown}: {unknown[1]} has the modifierExtension "
                        f"{unknown[0]}, which cptkg does not understand (FHIR forbids ignoring one)")
        return record
    status = getattr(claim, "status", None)
    if status in NOT_LIVE_STATUSES:
        record.not_applicable = f"its status is {status}: {NOT_LIVE_STATUSES[status]}"
        return record
    try:
        converter = Converter(claim, iri, References(contained, bundle))
        record.triples = converter.convert()
        if converter.rule_input_error is not None:
            record.rule_input_error = f"{record.origin}: {kind} {shown}: {converter.rule_input_error}"
    except Invalid as err:  # an element the direct reader checks as the converter reads it
        record.error = f"{record.origin}: not a valid FHIR R4 {kind}: {err}"
    except ClaimConversionError as err:
        record.error = f"{record.origin}: {kind} {shown}: {err}"
    except Exception as err:
        log.warning("%s %s at %s could not be converted", kind, shown, record.origin, exc_info=True)
        record.error = (f"{record.origin}: {kind} {shown} could not be read ({type(err).__name__}: {err}); "
                        "please report it with the claim")
    return record


def _count_lines(resource: dict[str, Any]) -> int:
    """Items, details and sub-details, counted on the raw JSON (before the model, which would hold
    them all); anything that is not a list of objects counts as none (the model reports it)."""

    def below(node: Any, key: str) -> list[Any]:
        children = node.get(key) if isinstance(node, dict) else None
        return children if isinstance(children, list) else []

    count = 0
    for item in below(resource, "item"):
        count += 1
        for detail in below(item, "detail"):
            count += 1 + len(below(detail, "subDetail"))
    return count


def _may_hold_modifier_extension(text: str) -> bool:
    """Whether a JSON text may hold a modifierExtension: it names one, or writes some key with a
    \\u escape (which could spell one). Most claims do neither, and skip the element-by-element
    search."""
    return "modifierExtension" in text or "\\u" in text


def _has_modifier_extension(resource: Any) -> bool:
    """Whether any element of the resource has a modifierExtension (a walk without paths: most
    claims have none, and building every element's path cost a tenth of reading)."""
    stack = [resource]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "modifierExtension" in node:
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        else:
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


def _unknown_modifier_extension(node: Any, path: str) -> tuple[str, str] | None:
    """The first modifierExtension (url, where) cptkg does not understand, anywhere in the resource."""
    if isinstance(node, dict):
        for ext in node.get("modifierExtension") or []:
            url = ext.get("url") if isinstance(ext, dict) else None
            if url not in UNDERSTOOD_MODIFIER_EXTENSIONS:
                return str(url), path
        for key, value in node.items():
            if key != "modifierExtension":
                found = _unknown_modifier_extension(value, f"{path}.{key}")
                if found:
                    return found
    elif isinstance(node, list):
        for number, value in enumerate(node):
            found = _unknown_modifier_extension(value, f"{path}[{number}]")
            if found:
                return found
    return None


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


@dataclass
class References:
    """Resolves a claim's references: ``#id`` to a contained resource (their JSON), anything else to
    a Bundle entry by its fullUrl (urn:uuid:..., an absolute URL) or by Type/id."""

    resources: list[dict[str, Any]]
    bundle: dict[str, dict[str, Any]]
    contained: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.contained = {}
        for resource in self.resources:
            rid = resource.get("id") if isinstance(resource, dict) else None
            if isinstance(rid, str) and rid:
                self.contained[rid] = resource

    def resolve(self, reference: str) -> dict[str, Any] | None:
        if reference.startswith("#"):
            return self.contained.get(reference[1:])
        if reference in self.bundle:
            return self.bundle[reference]
        parts = reference.rstrip("/").split("/")
        if "_history" in parts:
            parts = parts[:parts.index("_history")]
        if len(parts) >= 2:
            return self.bundle.get(f"{parts[-2]}/{parts[-1]}")
        return None


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _raw_codings(concept: Any) -> list[dict[str, Any]]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in codings or [] if isinstance(c, dict)]


def _code_iri(namespace: Any) -> Callable[[str], URIRef]:
    return lambda code: namespace[quote(code.strip(), safe=".")]


def _hcpcs_any_level(code: str) -> URIRef:
    # HCPCS "all levels": level I is CPT (five digits first), level II a letter and four digits.
    text = code.strip()
    return (CPT if text[:1].isdigit() else HCPCS)[quote(text, safe=".")]


PROCEDURE_SYSTEMS: dict[str, Callable[[str], URIRef]] = {
    SYSTEM_CPT: _code_iri(CPT), SYSTEM_HCPCS: _code_iri(HCPCS), SYSTEM_HCPCS_ALL_LEVELS: _hcpcs_any_level}
_POS = _code_iri(POS)
_NUCC = _code_iri(NUCC)


def _icd(code: str) -> URIRef:
    return ICD10CM[quote(normalise_icd(code), safe=".")]


def _in_system(codings: Iterable[Any], system: str) -> list[str]:
    out = []
    for c in codings:
        sys_, code = (c.get("system"), c.get("code")) if isinstance(c, dict) else (c.system, c.code)
        if code and canonical(sys_) == system:
            out.append(str(code))
    return out


def _full_date(value: Any, what: str) -> str | None:
    """A FHIR date or dateTime as the calendar day the claim wrote (no time-zone conversion)."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    if not _FULL_DATE.match(text):
        raise ClaimConversionError(f"{what} {text} is not a full date: give YYYY-MM-DD")
    return text[:10]


def _period_day(period: Any, what: str) -> str | None:
    if period is None:
        return None
    if period.start is not None:
        return _full_date(period.start, f"{what}.start")
    return _full_date(period.end, f"{what}.end")


def _integer(value: Any) -> Literal:
    if isinstance(value, Decimal) and not value.is_finite():
        raise ClaimConversionError(f"quantity {value} is not a number")
    if isinstance(value, Decimal | float) and value == int(value):
        return _literal(int(value))
    if isinstance(value, int):
        return _literal(value)
    return Literal(Decimal(str(value)))


def _cancelled(element: Any) -> bool:
    for ext in getattr(element, "modifierExtension", None) or []:
        if ext.url in PAS_CANCELLED and getattr(ext, "valueBoolean", None) is not False:
            return True
    return False


# The claim vocabulary's terms, looked up once: each attribute access on an rdflib Namespace
# builds a new URIRef, and the converter makes a dozen triples a line.
_V = SimpleNamespace(**{name: CPTKG[name] for name in (
    "CareTeamMember",
    "Claim",
    "ClaimDiagnosis",
    "ClaimItem",
    "OtherClaimLine",
    "SupportingInformation",
    "bodySite",
    "careTeam",
    "careTeamSequence",
    "category",
    "diagnosis",
    "diagnosisCode",
    "diagnosisSequence",
    "informationSequence",
    "item",
    "lineNumber",
    "location",
    "modifier",
    "otherCode",
    "otherLine",
    "partOfLine",
    "priorAuthorization",
    "productOrService",
    "provider",
    "qualification",
    "quantity",
    "sequence",
    "servicedDate",
    "supportingInfo",
    "unresolvedReference",
    "value",
)})

# rdflib's Namespace attribute lookup costs microseconds a call; the converter uses these per triple.
_XSD_DATE = XSD.date
_ONE = Literal(1)
# Literals a claim repeats (sequence numbers, line numbers, dates), made once: rdflib builds each
# Literal in Python, a tenth of reading. typed=True keeps 1 and True apart.
_literal = lru_cache(maxsize=1 << 16, typed=True)(Literal)
_date_literal = lru_cache(maxsize=1 << 14)(lambda day: Literal(day, datatype=_XSD_DATE))


@dataclass
class _Inherited:
    """What a detail line takes from the item it belongs to (FHIR puts these on the item only)."""

    date: str | None
    location: list[URIRef]
    diagnoses: list[Literal]
    care_team: list[Literal]
    information: list[Literal]
    body_sites: list[Literal]


class Converter:
    """One Claim or ExplanationOfBenefit model -> its triples in the claim vocabulary."""

    def __init__(self, claim: Any, iri: URIRef, references: References) -> None:
        self.claim = claim
        self.iri = iri
        self.references = references
        self.graph = ClaimGraph(iri)
        self.rule_input_error: str | None = None

    def convert(self) -> list[Triple]:
        items = list(self.claim.item or [])
        if not items:
            raise ClaimConversionError("the claim has no items: nothing to validate")
        billable = _period_day(getattr(self.claim, "billablePeriod", None), "billablePeriod")
        for item in items:
            self._item(item, billable)
        # Diagnoses and the care team are read only by rules: a problem there is held back
        # (rule_input_error) until the Validator knows whether any rule judges the claim.
        try:
            self._diagnoses()
        except ClaimConversionError as err:
            self.rule_input_error = str(err)
        self._care_team()
        self._supporting_info()
        # Claim.insurance.preAuthRef (and EOB.insurance.preAuthRef): the payer's prior-authorization
        # numbers, which a payer's rule pack may require.
        for insurance in getattr(self.claim, "insurance", None) or []:
            for reference in getattr(insurance, "preAuthRef", None) or []:
                if reference and str(reference).strip():
                    self.graph.add(self.iri, _V.priorAuthorization, Literal(str(reference).strip()))
        return self.graph.triples

    def _item(self, item: Any, billable: str | None) -> None:
        number = str(item.sequence)
        what = f"item {number}"
        day = (_full_date(item.servicedDate, f"{what} servicedDate")
               or _period_day(item.servicedPeriod, f"{what} servicedPeriod") or billable)
        location = [_POS(c) for c in _in_system(_codings(item.locationCodeableConcept), SYSTEM_POS)]
        sites = []
        if item.bodySite is not None:
            sites = [Literal(f"{c.system}|{c.code}" if c.system else str(c.code))
                     for c in _codings(item.bodySite) if c.code]
            if not sites and item.bodySite.text:
                sites = [Literal(item.bodySite.text)]
        inherited = _Inherited(day, location, self._pointers(item.diagnosisSequence, f"{what} diagnosisSequence"),
                               self._pointers(item.careTeamSequence, f"{what} careTeamSequence"),
                               self._pointers(item.informationSequence, f"{what} informationSequence"), sites)
        node = self._line(item, number, None, inherited, sequence=int(item.sequence))
        for detail in item.detail or []:
            detail_number = f"{number}.{detail.sequence}"
            detail_node = self._line(detail, detail_number, node, inherited)
            for sub in detail.subDetail or []:
                self._line(sub, f"{detail_number}.{sub.sequence}", detail_node, inherited)

    def _line(self, line: Any, number: str, parent: URIRef | None, inherited: _Inherited,
              sequence: int | None = None) -> URIRef:
        if line.productOrService is None:
            # Required (1..1); fhir.resources lets an explicit null through.
            raise ClaimConversionError(f"line {number} has no productOrService: give the procedure code")
        codings = _codings(line.productOrService)
        codes = [PROCEDURE_SYSTEMS[s](str(c.code)) for c in codings
                 if c.code and (s := canonical(c.system)) in PROCEDURE_SYSTEMS]
        graph = self.graph
        cancelled = _cancelled(line)
        if not codes or cancelled:
            node = graph.child(_V.otherLine, number)
            graph.add(node, _V.lineNumber, _literal(number))
            if sequence is not None:
                graph.add(node, _V.sequence, _literal(sequence))
            shown = [f"{c.system or ''}|{c.code}" for c in codings if c.code] or [str(line.productOrService.text or "")]
            if cancelled:
                shown = [f"cancelled {s}" for s in shown]
            graph.add_all(node, _V.otherCode, [Literal(s) for s in shown])
            return node
        node = graph.child(_V.item, number)
        graph.add(node, _V.lineNumber, _literal(number))
        if sequence is not None:
            graph.add(node, _V.sequence, _literal(sequence))
        if parent is not None:
            graph.add(node, _V.partOfLine, parent)
        graph.add_all(node, _V.productOrService, codes)
        for concept in line.modifier or []:
            for text in [c.code for c in _codings(concept) if c.code] or ([concept.text] if concept.text else []):
                graph.add(node, _V.modifier, MOD[quote(str(text).strip().upper(), safe="")])
        if inherited.date is not None:
            graph.add(node, _V.servicedDate, _date_literal(inherited.date))
        graph.add_all(node, _V.location, inherited.location)
        quantity = line.quantity.value if line.quantity is not None else None
        graph.add(node, _V.quantity, _ONE if quantity is None else _integer(quantity))
        graph.add_all(node, _V.diagnosisSequence, inherited.diagnoses)
        graph.add_all(node, _V.careTeamSequence, inherited.care_team)
        graph.add_all(node, _V.informationSequence, inherited.information)
        graph.add_all(node, _V.bodySite, inherited.body_sites)
        return node

    @staticmethod
    def _pointers(values: Any, what: str) -> list[Literal]:
        """Pointers (diagnosisSequence, careTeamSequence, ...) as integers; an empty entry is an error."""
        out = []
        for value in values or []:
            if value is None:
                raise ClaimConversionError(f"{what} has an empty entry: give sequence numbers")
            out.append(_literal(int(value)))
        return out

    def _diagnoses(self) -> None:
        for dx in self.claim.diagnosis or []:
            node = self.graph.child(_V.diagnosis, dx.sequence)
            self.graph.add(node, _V.sequence, _literal(int(dx.sequence)))
            what = f"diagnosis {dx.sequence}"
            if dx.diagnosisCodeableConcept is not None:
                codings: list[Any] = _codings(dx.diagnosisCodeableConcept)
            elif dx.diagnosisReference is not None and dx.diagnosisReference.reference:
                reference = dx.diagnosisReference.reference
                condition = self.references.resolve(reference)
                if condition is None or condition.get("resourceType") != "Condition":
                    found = f" (a {condition.get('resourceType')}, not a Condition)" if condition else ""
                    self.graph.add(node, _V.unresolvedReference, Literal(reference + found))
                    continue
                codings = _raw_codings(condition.get("code"))
            else:
                raise ClaimConversionError(f"{what} has neither diagnosisCodeableConcept nor diagnosisReference")
            codes = _in_system(codings, SYSTEM_ICD10CM)
            if not codes and _in_system(codings, SYSTEM_WHO_ICD10):
                raise ClaimConversionError(
                    f"{what} is coded in WHO ICD-10 ({SYSTEM_WHO_ICD10}), which is not ICD-10-CM: "
                    f"give the ICD-10-CM code (system {SYSTEM_ICD10CM})")
            self.graph.add_all(node, _V.diagnosisCode, [_icd(c) for c in codes])

    def _care_team(self) -> None:
        for member in self.claim.careTeam or []:
            node = self.graph.child(_V.careTeam, member.sequence)
            self.graph.add(node, _V.sequence, _literal(int(member.sequence)))
            provider = _reference_iri(member.provider)
            if provider is not None:
                self.graph.add(node, _V.provider, provider)
            taxonomy = _in_system(_codings(member.qualification), SYSTEM_NUCC)
            reference = member.provider.reference if member.provider is not None else None
            if not taxonomy and reference:
                # No qualification on the claim: the specialty of the Practitioner or PractitionerRole.
                resource = self.references.resolve(reference)
                if resource is None:
                    self.graph.add(node, _V.unresolvedReference, Literal(reference))
                elif resource.get("resourceType") == "Practitioner":
                    for q in resource.get("qualification") or []:
                        taxonomy += _in_system(_raw_codings(q.get("code") if isinstance(q, dict) else None),
                                               SYSTEM_NUCC)
                elif resource.get("resourceType") == "PractitionerRole":
                    for concept in resource.get("specialty") or []:
                        taxonomy += _in_system(_raw_codings(concept), SYSTEM_NUCC)
            self.graph.add_all(node, _V.qualification, [_NUCC(c) for c in taxonomy])

    def _supporting_info(self) -> None:
        for info in self.claim.supportingInfo or []:
            categories = [c.code for c in _codings(info.category) if c.system == SYSTEM_DOCUMENTATION and c.code]
            if not categories or _cancelled(info):
                continue  # other categories are FHIR's business, not documentation elements
            node = self.graph.child(_V.supportingInfo, info.sequence)
            self.graph.add(node, _V.sequence, _literal(int(info.sequence)))
            self.graph.add_all(node, _V.category, [DOCEL[quote(c, safe="")] for c in categories])
            if info.valueString:
                self.graph.add(node, _V.value, Literal(info.valueString))
            reference = _reference_iri(info.valueReference)
            if reference is not None:
                self.graph.add(node, _V.value, reference)
            for coding in _codings(info.code):
                if coding.code:
                    self.graph.add(node, _V.value, Literal(f"{coding.system or ''}|{coding.code}"))


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

