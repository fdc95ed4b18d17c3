"""The claim record: one claim as read (its id, where it came from, and either its triples in the
claim vocabulary or the reason it could not be read); the claim vocabulary (the trust boundary),
its child nodes, and ClaimGraph, the builder every reader writes a claim's triples with.

A claim that cannot be read becomes a ClaimRecord with an ``error`` (reported as the rule
``Unreadable``), never an exception and never a silently dropped claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import URIRef
from rdflib.namespace import RDF

from cptkg.kg.namespaces import CPTKG

# rdflib types terms as Node; a claim triple is (subject, predicate, object) of rdflib terms.
Triple = tuple[Any, Any, Any]

# Child nodes of a claim (after FHIR Claim) and the type each gets.
CHILDREN = {
    CPTKG.item: CPTKG.ClaimItem,
    CPTKG.otherLine: CPTKG.OtherClaimLine,
    CPTKG.diagnosis: CPTKG.ClaimDiagnosis,
    CPTKG.careTeam: CPTKG.CareTeamMember,
    CPTKG.supportingInfo: CPTKG.SupportingInformation,
}

# The claim vocabulary: what each kind of claim node may say about itself. This is the trust
# boundary between a claim and the graph: nothing else a claim file says reaches the rules.
VOCABULARY: dict[Any, frozenset[Any]] = {
    CPTKG.Claim: frozenset({*CHILDREN, CPTKG.priorAuthorization}),
    CPTKG.ClaimItem: frozenset({
        CPTKG.sequence, CPTKG.lineNumber, CPTKG.partOfLine, CPTKG.productOrService, CPTKG.modifier,
        CPTKG.servicedDate, CPTKG.location, CPTKG.quantity, CPTKG.diagnosisSequence,
        CPTKG.careTeamSequence, CPTKG.informationSequence, CPTKG.bodySite}),
    CPTKG.OtherClaimLine: frozenset({CPTKG.sequence, CPTKG.lineNumber, CPTKG.otherCode}),
    CPTKG.ClaimDiagnosis: frozenset({CPTKG.sequence, CPTKG.diagnosisCode, CPTKG.unresolvedReference}),
    CPTKG.CareTeamMember: frozenset({CPTKG.sequence, CPTKG.provider, CPTKG.qualification,
                                     CPTKG.unresolvedReference}),
    CPTKG.SupportingInformation: frozenset({CPTKG.sequence, CPTKG.category, CPTKG.value}),
}

# How each child node is named below its claim's IRI: <claim>/item/2, <claim>/line/3 (a line in
# no procedure code system), <claim>/diagnosis/1, <claim>/careTeam/1, <claim>/supportingInfo/4.
CHILD_SEGMENTS = {
    CPTKG.item: "item",
    CPTKG.otherLine: "line",
    CPTKG.diagnosis: "diagnosis",
    CPTKG.careTeam: "careTeam",
    CPTKG.supportingInfo: "supportingInfo",
}

CLAIM_IRI_BASE = "urn:cptkg:claim:"
_TYPE = RDF.type  # looked up once: an rdflib Namespace attribute builds a new URIRef each time
# What each kind of node may state, as plain strings: checked once per statement a reader writes,
# and a str's hash is computed in C (a URIRef's in Python).
_ALLOWED = {kind: frozenset(map(str, predicates)) for kind, predicates in VOCABULARY.items()}


class ClaimGraph:
    """The one way a reader writes a claim graph: the claim node, its child nodes named
    (CHILD_SEGMENTS) and typed (CHILDREN) as the vocabulary says, and every statement checked
    against VOCABULARY when it is written, so a reader cannot state what the rules may not read
    (a ValueError: a bug of the reader, never of the claim)."""

    __slots__ = ("_allowed", "_base", "iri", "triples")

    def __init__(self, iri: URIRef) -> None:
        self.iri = iri
        self._base = str(iri)
        self.triples: list[Triple] = [(iri, _TYPE, CPTKG.Claim)]
        self._allowed: dict[Any, frozenset[str]] = {iri: _ALLOWED[CPTKG.Claim]}

    def child(self, link: Any, key: str | int) -> URIRef:
        """A new child node of the claim (``link``: one of CHILDREN, e.g. CPTKG.item), named by ``key``."""
        kind = CHILDREN[link]
        node = URIRef(f"{self._base}/{CHILD_SEGMENTS[link]}/{key}")
        self.triples += [(self.iri, link, node), (node, _TYPE, kind)]
        self._allowed[node] = _ALLOWED[kind]
        return node

    def add(self, node: Any, predicate: Any, value: Any) -> None:
        """One statement of a node of this claim."""
        if str(predicate) not in self._allowed[node]:
            raise ValueError(f"{predicate} is not in the claim vocabulary of {node}")
        self.triples.append((node, predicate, value))

    def add_all(self, node: Any, predicate: Any, values: Iterable[Any]) -> None:
        """A statement for each of ``values``, in order."""
        if str(predicate) not in self._allowed[node]:
            raise ValueError(f"{predicate} is not in the claim vocabulary of {node}")
        self.triples += [(node, predicate, value) for value in values]



def claim_iri(source: str, where: str, claim_id: str | None) -> URIRef:
    """The name of a claim read from a file: from the input's path, the place in it and the claim's
    own id, so it is stable across runs and unique across files (FHIR ids and CLM01 repeat)."""
    parts = [quote(source, safe=""), quote(where.replace(", ", "-").replace(" ", "-"), safe="")]
    if claim_id:
        parts.append(quote(claim_id, safe=""))
    return URIRef(CLAIM_IRI_BASE + ":".join(parts))


@dataclass
class ClaimRecord:
    """One claim as read: its id (FHIR Claim id, CLM01 or claim IRI), the input it came from and
    where in it, and either its triples or the reason it could not be read."""

    claim_id: str
    source: str  # the input: a file path as given, or "-" for standard input
    where: str = ""  # where in the input: "line 12", "entry[3]", "segment 21"
    iri: URIRef | None = None
    triples: list[Triple] = field(default_factory=list)
    error: str | None = None
    not_applicable: str | None = None  # why no rule judges the claim (a cancelled claim, ...)
    # A problem in what only a rule reads (a diagnosis's code system, a diagnosis without a code):
    # the claim is Unreadable for it only when some rule judges the claim. Which claims the rules
    # judge is decided from the lines (the Validator's watched codes), so a public example with no
    # family code and a WHO ICD-10 diagnosis is not-applicable, not refused.
    rule_input_error: str | None = None
    position: int = 0  # input order across every path given

    @classmethod
    def unreadable(cls, source: str, error: str, *, where: str = "", claim_id: str | None = None,
                   iri: URIRef | None = None) -> ClaimRecord:
        """A claim, or a whole input, that could not be read: reported as the rule Unreadable with
        ``error`` (one line that starts with the input and the place in it). Without a claim id of
        its own it is named by its input."""
        return cls(claim_id or source, source, where, iri=iri, error=error)

    @property
    def readable(self) -> bool:
        return self.error is None

    @property
    def origin(self) -> str:
        """The input and the place in it, as one phrase for messages."""
        return f"{self.source} {self.where}" if self.where else self.source


def diagnosis_codes(triples: Iterable[Triple]) -> Iterator[URIRef]:
    coded = CPTKG.diagnosisCode  # once: a Namespace attribute builds a new URIRef each time
    for _s, p, o in triples:
        if str.__eq__(p, coded) and isinstance(o, URIRef):
            yield o
