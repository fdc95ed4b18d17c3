"""The claim record: one claim as read (its id, where it came from, and either its triples in the
claim vocabulary or the reason it could not be read), and the claim vocabulary's child nodes.

A claim that cannot be read becomes a ClaimRecord with an ``error`` (reported as the rule
``Unreadable``), never an exception and never a silently dropped claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import URIRef

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

CLAIM_IRI_BASE = "urn:cptkg:claim:"


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
