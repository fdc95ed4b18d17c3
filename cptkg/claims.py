"""Reading claims: files and folders of claim graphs (Turtle, JSON-LD, N-Triples) and FHIR R4
Claim JSON (a Claim, a Bundle of Claims, NDJSON), each claim turned into the same claim graph.

A claim that cannot be read becomes a ClaimRecord with an ``error`` (reported as the rule
``Unreadable``), never an exception and never a silently dropped claim.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from cptkg.errors import InputError
from cptkg.namespaces import CPTKG

log = logging.getLogger(__name__)

# rdflib types terms as Node; a claim triple is (subject, predicate, object) of rdflib terms.
Triple = tuple[Any, Any, Any]

RDF_SUFFIXES = {".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".ntriples": "nt", ".rdf": "xml", ".owl": "xml",
                ".jsonld": "json-ld", ".json-ld": "json-ld"}
JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}
MAX_FILE_BYTES = 512 * 1024 * 1024
OUR_CODE_SPACE = "https://w3id.org/cptkg/"
# Child nodes of a claim (after FHIR Claim) and the type each gets.
CHILDREN = {
    CPTKG.item: CPTKG.ClaimItem,
    CPTKG.diagnosis: CPTKG.ClaimDiagnosis,
    CPTKG.careTeam: CPTKG.CareTeamMember,
    CPTKG.supportingInfo: CPTKG.SupportingInformation,
}


@dataclass
class ClaimRecord:
    """One claim as read: its id (FHIR Claim id or claim IRI), where it came from, and either
    its triples or the reason it could not be read."""

    claim_id: str
    origin: str
    iri: URIRef | None = None
    triples: list[Triple] = field(default_factory=list)
    error: str | None = None
    position: int = 0  # input order across every path given

    @property
    def readable(self) -> bool:
        return self.error is None


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and (p.suffix.lower() in RDF_SUFFIXES or p.suffix.lower() in JSON_SUFFIXES)
            )
            if not found:
                raise InputError(f"no claim files (.ttl, .nt, .jsonld, .json, .ndjson) in folder {path}")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise InputError(f"no such file or folder: {path}")
    return out


def read_paths(paths: Iterable[str | Path]) -> Iterator[ClaimRecord]:
    """Every claim of every path, in input order, each exactly once."""
    position = 0
    for path in expand_paths(paths):
        for record in read_file(path):
            record.position = position
            position += 1
            yield record


def read_file(path: Path) -> Iterator[ClaimRecord]:
    """Every claim of one file, in order (a file that cannot be read is one Unreadable record)."""
    where = str(path)
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl"):
        # Streamed line by line: memory is bounded by the batch, not by the file.
        from cptkg.fhir_claims import read_ndjson

        try:
            with path.open("rb") as lines:
                yield from read_ndjson(lines, where)
        except OSError as err:
            yield ClaimRecord(where, where, error=f"{where}: cannot read: {err.strerror}")
        return
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            yield ClaimRecord(where, where, error=f"{where}: file is larger than {MAX_FILE_BYTES >> 20} MiB")
            return
        raw = path.read_bytes()
    except OSError as err:
        yield ClaimRecord(where, where, error=f"{where}: cannot read: {err.strerror}")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        yield ClaimRecord(where, where, error=f"{where}: not UTF-8 text (byte {err.start}); save the file as UTF-8")
        return
    if "\x00" in text:
        yield ClaimRecord(where, where, error=f"{where}: a binary file, not claims")
        return
    if suffix == ".json":
        from cptkg.fhir_claims import read_json_document

        yield from read_json_document(text, where)
        return
    yield from read_rdf_text(text, RDF_SUFFIXES.get(suffix, "turtle"), where)


def read_rdf_text(text: str, fmt: str, where: str) -> Iterator[ClaimRecord]:
    from cptkg.safe_rdf import parse_untrusted

    try:
        graph = parse_untrusted(text, fmt, where)
    except InputError as err:
        yield ClaimRecord(where, where, error=str(err))
        return
    yield from claims_from_graph(graph, where)


def claims_from_graph(graph: Graph, where: str) -> Iterator[ClaimRecord]:
    claims = set(graph.subjects(RDF.type, CPTKG.Claim)) | set(graph.subjects(CPTKG.item, None))
    if not claims:
        problem = "no claims found (a claim is a cptkg:Claim with cptkg:item lines)"
        yield ClaimRecord(where, where, error=f"{where}: {problem}")
        return
    # RDF has no order: claims come in IRI order, which is stable across runs and tools.
    for claim in sorted(claims, key=str):
        claim_id = str(claim) if isinstance(claim, URIRef) else f"{where}#{claim}"
        record = ClaimRecord(claim_id, where, iri=claim if isinstance(claim, URIRef) else None)
        record.error = _claim_problem(graph, claim, f"{where}: {claim_id}")
        if record.error is None:
            record.triples = _claim_triples(graph, claim)
        yield record


def _claim_problem(graph: Graph, claim: Any, claim_id: str) -> str | None:
    if isinstance(claim, BNode):
        return f"{claim_id}: a claim must be an IRI, not a blank node, so results can name it"
    items = list(graph.objects(claim, CPTKG.item))
    if not items:
        return f"{claim_id}: the claim has no items (cptkg:item): nothing to validate"
    for item in items:
        for date in graph.objects(item, CPTKG.servicedDate):
            if isinstance(date, Literal) and date.datatype == XSD.date and date.ill_typed:
                return f"{claim_id}: bad date {str(date)!r} on item {item}: use YYYY-MM-DD"
    return None


def _claim_triples(graph: Graph, claim: Any) -> list[Triple]:
    out: list[Triple] = [(claim, RDF.type, CPTKG.Claim)]
    for s, p, o in graph.triples((claim, None, None)):
        out.append((s, p, o))
    for prop, cls in CHILDREN.items():
        for child in graph.objects(claim, prop):
            out.append((child, RDF.type, cls))
            out.extend(graph.triples((child, None, None)))
    # Claims may not redefine codes: statements about cptkg's own IRIs are not claim data.
    return [t for t in out if not str(t[0]).startswith(OUR_CODE_SPACE)]


def diagnosis_codes(triples: Iterable[Triple]) -> Iterator[URIRef]:
    for _s, p, o in triples:
        if p == CPTKG.diagnosisCode and isinstance(o, URIRef):
            yield o
