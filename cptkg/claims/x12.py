"""X12 837P (005010X222A1) -> the cptkg claim graph, read and checked against the 837P map by pyx12.

pyx12 was chosen over x12sdk after trying both on the same files: pyx12 walks the file segment by
segment with each segment's loop (2300, 2310B, 2400, 2420A) and reports every syntax or map error
with its segment number, so one bad claim is told apart from its neighbours; x12sdk builds one
pydantic model per transaction set (a bad segment loses the whole set), leaves composites such as
SV101 unsplit and drops the ISA/GS envelope, so segment numbers are gone.

Mapping (docs/validating.md, "Verdicts, and what happens to each line and entry": 837P mapping):
every CLM is a claim (id CLM01); each SV1 a line (SV101-2 code,
SV101-3..6 modifiers, SV104 units, SV105 place of service else CLM05-1, SV107 pointers into the HI
ABK/ABF diagnoses); DTP*472 its date (an RD8 range takes its first day); the rendering provider
NM1*82 with PRV*PE taxonomy at line (2420A), else claim (2310B), else the billing provider (2010AA
with PRV*BI at 2000A).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from cptkg.claims.record import ClaimGraph, ClaimRecord, Triple, claim_iri
from cptkg.kg.icd10cm import normalise as normalise_icd
from cptkg.kg.namespaces import CPT, CPTKG, HCPCS, ICD10CM, MOD, NUCC, POS

log = logging.getLogger(__name__)

VERSION_837P = "005010X222A1"
TRANSACTIONS = {
    "835": "an X12 835 (claim payment and remittance advice)",
    "270": "an X12 270 (eligibility inquiry)", "271": "an X12 271 (eligibility response)",
    "276": "an X12 276 (claim status inquiry)", "277": "an X12 277 (claim status response)",
    "278": "an X12 278 (services review)", "834": "an X12 834 (benefit enrollment)",
    "820": "an X12 820 (premium payment)", "999": "an X12 999 (implementation acknowledgment)",
}


class X12Error(Exception):
    """The file is X12, but not an 837P cptkg reads (one line: what the file is)."""


def normalised(text: str) -> tuple[str, str, str, str]:
    """The interchange with one segment a line and no stray whitespace, and its element, component
    and segment separators (read from the fixed-width ISA, as X12 defines them)."""
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("ISA") or len(text) < 106:
        raise X12Error("not an X12 interchange: it does not start with a complete ISA segment")
    element, component, terminator = text[3], text[104], text[105]
    segments = [s.strip(" \t\r\n") for s in text.split(terminator)]
    return terminator.join(s for s in segments if s) + terminator, element, component, terminator


def identify(segments: list[list[str]]) -> None:
    """Refuse, with what the file is, an interchange that is not 837P 005010X222A1."""
    for fields in segments:
        if fields[0] == "GS":
            version = fields[8] if len(fields) > 8 else ""
            if version.startswith("005010X223"):
                raise X12Error(f"an X12 837I (institutional claims, {version}), not an 837P professional "
                               "claim file: cptkg reads 837P 005010X222A1")
            if version.startswith("005010X224"):
                raise X12Error(f"an X12 837D (dental claims, {version}), not an 837P: cptkg reads 837P 005010X222A1")
        if fields[0] == "ST":
            kind = fields[1] if len(fields) > 1 else ""
            if kind != "837":
                what = TRANSACTIONS.get(kind, f"an X12 {kind or 'transaction without a type'}")
                raise X12Error(f"{what}, not an 837P claim file")
            version = fields[3] if len(fields) > 3 else ""
            if version and version != VERSION_837P:
                raise X12Error(f"an X12 837 of version {version}: cptkg reads 837P {VERSION_837P} only")


def _error_handler() -> Any:
    import pyx12.error_handler

    class Collecting(pyx12.error_handler.err_handler):
        """pyx12's error tree, plus a flat list of (segment number, reason) to give to claims."""

        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[int, str]] = []

        def _line(self, node: Any) -> int:
            try:
                return int(node.get_cur_line())
            except Exception:
                return 0

        def isa_error(self, err_cde: str, err_str: str) -> None:
            super().isa_error(err_cde, err_str)
            self.found.append((1, f"ISA: {err_str}"))

        def gs_error(self, err_cde: str, err_str: str) -> None:
            super().gs_error(err_cde, err_str)
            self.found.append((self._line(self.cur_gs_node), f"GS: {err_str}"))

        def st_error(self, err_cde: str, err_str: str) -> None:
            super().st_error(err_cde, err_str)
            self.found.append((self._line(self.cur_st_node), f"ST: {err_str}"))

        def seg_error(self, err_cde: str, err_str: str, err_value: str | None = None,
                      src_line: int | None = None) -> None:
            super().seg_error(err_cde, err_str, err_value, src_line)
            line = src_line or (self._line(self.cur_seg_node) if self.cur_seg_node is not None else 0)
            seg = getattr(self.cur_seg_node, "seg_id", None) if not src_line else None
            what = f"{seg}: " if seg else ""
            self.found.append((line, f"{what}{err_str}" + (f" ({err_value})" if err_value else "")))

        def ele_error(self, err_cde: str, err_str: str, bad_value: str | None, refdes: str | None = None) -> None:
            super().ele_error(err_cde, err_str, bad_value, refdes)
            line = self._line(self.cur_seg_node) if self.cur_seg_node is not None else 0
            ref = refdes or getattr(self.cur_ele_node, "name", "") or ""
            self.found.append((line, f"{ref}: {err_str}" + (f" ({bad_value})" if bad_value else "")))

    return Collecting()


@dataclass
class _Provider:
    npi: str | None = None
    taxonomy: str | None = None


@dataclass
class _Line:
    segment: int
    number: str
    fields: list[str]
    date: str | None = None
    provider: _Provider | None = None
    error: str | None = None


@dataclass
class _Claim:
    segment: int
    fields: list[str]
    billing: _Provider
    diagnoses: list[tuple[str, str]] = field(default_factory=list)  # (qualifier, code)
    provider: _Provider | None = None
    lines: list[_Line] = field(default_factory=list)
    last: int = 0  # the number of its last segment
    errors: list[str] = field(default_factory=list)
    prior_authorizations: list[str] = field(default_factory=list)


def read_x12_text(text: str, source: str) -> Iterator[ClaimRecord]:
    """Every claim of an 837P file, in file order; errors outside any claim are one more record."""
    import pyx12.params
    import pyx12.x12context

    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)  # errors come back as results
    body, element, component, terminator = normalised(text)
    raw = [s.split(element) for s in body.split(terminator) if s]
    identify(raw)
    param = pyx12.params.params()
    errh = _error_handler()
    reader = pyx12.x12context.X12ContextReader(param, errh, io.StringIO(body))
    claims: list[_Claim] = []
    billing = _Provider()
    current: _Claim | None = None
    for number, node in enumerate(reader.iter_segments(), 1):
        fields = raw[number - 1] if number <= len(raw) else [node.seg_data.get_seg_id()]
        if fields[0] != node.seg_data.get_seg_id():  # never seen: pyx12 yields every segment in order
            raise X12Error(f"segment {number}: pyx12 read {node.seg_data.get_seg_id()}, the file has {fields[0]}")
        loop = _loop(node.cur_path)
        kind = fields[0]
        if kind == "HL":
            current = None
            if len(fields) > 3 and fields[3] == "20":
                billing = _Provider()
        elif loop == "2010AA" and kind == "NM1" and fields[1] == "85":
            billing.npi = _npi(fields)
        elif loop == "2000A" and kind == "PRV" and len(fields) > 3:
            billing.taxonomy = fields[3] or None
        elif kind == "CLM":
            current = _Claim(number, fields, _Provider(billing.npi, billing.taxonomy))
            claims.append(current)
        elif current is not None and kind in ("SE", "GE", "IEA"):
            current = None
        elif current is not None:
            _claim_segment(current, loop, kind, fields, number, component)
        if current is not None:
            current.last = number
    if current is not None:  # no SE, GE or IEA after the last claim: the file was cut short
        current.errors.append(f"segment {current.last}: the file ends inside this claim (no SE follows): "
                              "it may be cut short; send the whole file")
    # At the end pyx12 checks for missing trailers (SE, GE, IEA); its reader keeps those errors.
    reader.src.cleanup()
    errh.handle_errors(reader.src.pop_errors())
    errors = sorted(errh.found)
    for line_no, reason in errors:
        owner = next((c for c in claims if c.segment <= line_no <= c.last), None)
        if owner is not None:
            owner.errors.append(f"segment {line_no}: {reason}")
    for claim in claims:
        yield _record(claim, source, component)
    outside = [(n, r) for n, r in errors if not any(c.segment <= n <= c.last for c in claims)]
    if outside:
        shown = "; ".join(f"segment {n}: {r}" for n, r in outside[:3])
        more = f" (and {len(outside) - 3} more)" if len(outside) > 3 else ""
        yield ClaimRecord.unreadable(source, f"{source}: the interchange does not follow the 837P map: {shown}{more}",
                                     where=f"segment {outside[0][0]}", claim_id=f"{source} envelope")
    if not claims and not outside:
        yield ClaimRecord.unreadable(source, f"{source}: an 837P interchange with no claims (no CLM segment)")


def _loop(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else ""


def _npi(fields: list[str]) -> str | None:
    return fields[9] if len(fields) > 9 and fields[8] == "XX" and fields[9] else None


def _claim_segment(claim: _Claim, loop: str, kind: str, fields: list[str], number: int, component: str) -> None:
    if kind == "HI" and loop == "2300":
        for composite in fields[1:]:
            if composite:
                qualifier, _, code = composite.partition(component)
                claim.diagnoses.append((qualifier, code.split(component)[0]))
    elif loop == "2300" and kind == "REF" and len(fields) > 2 and fields[1] == "G1" and fields[2].strip():
        claim.prior_authorizations.append(fields[2].strip())  # REF*G1: prior authorization number
    elif loop == "2310B" and kind == "NM1" and fields[1] == "82":
        claim.provider = _Provider(_npi(fields))
    elif loop == "2310B" and kind == "PRV" and claim.provider is not None and len(fields) > 3:
        claim.provider.taxonomy = fields[3] or None
    elif loop == "2400" and kind == "LX":
        claim.lines.append(_Line(number, fields[1] if len(fields) > 1 else str(len(claim.lines) + 1), []))
    elif loop == "2400" and kind == "SV1" and claim.lines:
        claim.lines[-1].fields = fields
    elif loop == "2400" and kind == "DTP" and len(fields) > 3 and fields[1] == "472" and claim.lines:
        line = claim.lines[-1]
        value = fields[3].split("-")[0] if fields[2] == "RD8" else fields[3]
        if len(value) == 8 and value.isdigit():
            line.date = f"{value[:4]}-{value[4:6]}-{value[6:]}"
        else:
            line.error = f"segment {number}: DTP*472 date {fields[3]!r} is not CCYYMMDD"
    elif loop == "2420A" and kind == "NM1" and fields[1] == "82" and claim.lines:
        claim.lines[-1].provider = _Provider(_npi(fields))
    elif loop == "2420A" and kind == "PRV" and claim.lines and claim.lines[-1].provider is not None:
        claim.lines[-1].provider.taxonomy = fields[3] if len(fields) > 3 else None


def _record(claim: _Claim, source: str, component: str) -> ClaimRecord:
    claim_id = claim.fields[1] if len(claim.fields) > 1 and claim.fields[1] else None
    where = f"segment {claim.segment}"
    iri = claim_iri(source, where, claim_id)
    record = ClaimRecord(claim_id or f"{source} {where}", source, where, iri=iri)
    problems = claim.errors + [line.error for line in claim.lines if line.error]
    if problems:
        record.error = f"{record.origin}: claim {record.claim_id}: " + "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        return record
    try:
        record.triples = _triples(claim, iri, component)
    except X12Error as err:
        record.error = f"{record.origin}: claim {record.claim_id}: {err}"
        return record
    # Diagnoses are read only by rules: an ICD-9-CM one makes the claim Unreadable only when a rule
    # judges it (the Validator decides, from the lines).
    icd9 = [pointer for pointer, (qualifier, _code) in enumerate(claim.diagnoses, 1) if qualifier in ("BK", "BF")]
    if icd9:
        record.rule_input_error = (f"{record.origin}: claim {record.claim_id}: diagnosis {icd9[0]} is ICD-9-CM "
                                   f"({claim.diagnoses[icd9[0] - 1][0]}): cptkg reads ICD-10-CM (ABK/ABF)")
    return record


def _code_iri(code: str) -> URIRef:
    code = code.strip().upper()
    return (CPT if code[:1].isdigit() else HCPCS)[quote(code, safe="")]


def _triples(claim: _Claim, iri: URIRef, component: str) -> list[Triple]:
    graph = ClaimGraph(iri)
    graph.add_all(iri, CPTKG.priorAuthorization, [Literal(number) for number in claim.prior_authorizations])
    facility = claim.fields[5].split(component)[0] if len(claim.fields) > 5 else ""
    for pointer, (qualifier, code) in enumerate(claim.diagnoses, 1):
        if qualifier not in ("ABK", "ABF"):
            # Other HI qualifiers (ABN external cause, ...) are not diagnoses lines point to; ICD-9-CM
            # (BK, BF) is _record's rule_input_error.
            continue
        node = graph.child(CPTKG.diagnosis, pointer)
        graph.add(node, CPTKG.sequence, Literal(pointer))
        graph.add(node, CPTKG.diagnosisCode, ICD10CM[quote(normalise_icd(code), safe=".")])
    team: dict[tuple[str | None, str | None], int] = {}
    lines = False
    for line in claim.lines:
        sv1 = line.fields
        if not sv1:
            continue
        lines = True
        number = line.number
        composite = sv1[1].split(component) if len(sv1) > 1 else []
        qualifier, code = [*composite, "", ""][:2]
        if qualifier not in ("HC", "") or not code:
            node = graph.child(CPTKG.otherLine, number)
            graph.add(node, CPTKG.lineNumber, Literal(number))
            graph.add(node, CPTKG.otherCode, Literal(f"{qualifier}|{code}"))
            continue
        node = graph.child(CPTKG.item, number)
        graph.add(node, CPTKG.lineNumber, Literal(number))
        graph.add(node, CPTKG.productOrService, _code_iri(code))
        if number.isdigit():
            graph.add(node, CPTKG.sequence, Literal(int(number)))
        graph.add_all(node, CPTKG.modifier,
                      [MOD[quote(m.strip().upper(), safe="")] for m in composite[2:6] if m.strip()])
        units = sv1[4] if len(sv1) > 4 and sv1[4] else "1"
        try:
            value = float(units)
        except ValueError:
            raise X12Error(f"line {number}: SV104 units {units!r} is not a number") from None
        graph.add(node, CPTKG.quantity, Literal(int(value)) if value == int(value) else Literal(units))
        place = sv1[5] if len(sv1) > 5 and sv1[5] else facility
        if place:
            graph.add(node, CPTKG.location, POS[quote(place, safe="")])
        if line.date:
            graph.add(node, CPTKG.servicedDate, Literal(line.date, datatype=XSD.date))
        pointers = sv1[7].split(component) if len(sv1) > 7 and sv1[7] else []
        for written in pointers:
            if not written.isdigit():
                raise X12Error(f"line {number}: SV107 diagnosis pointer {written!r} is not a number")
            graph.add(node, CPTKG.diagnosisSequence, Literal(int(written)))
        provider = line.provider or claim.provider or claim.billing
        key = (provider.npi, provider.taxonomy)
        if key != (None, None):
            sequence = team.setdefault(key, len(team) + 1)
            graph.add(node, CPTKG.careTeamSequence, Literal(sequence))
    for (npi, taxonomy), sequence in team.items():
        node = graph.child(CPTKG.careTeam, sequence)
        graph.add(node, CPTKG.sequence, Literal(sequence))
        if npi:
            graph.add(node, CPTKG.provider, URIRef(f"urn:cptkg:npi:{quote(npi, safe='')}"))
        if taxonomy:
            graph.add(node, CPTKG.qualification, NUCC[quote(taxonomy, safe="")])
    if not lines:
        raise X12Error("the claim has no service lines (SV1): nothing to validate")
    return graph.triples
