"""The claim record: one claim as read (its id, where it came from, and either its triples in the
claim vocabulary or the reason it could not be read), and the claim vocabulary's child nodes.

A claim that cannot be read becomes a ClaimRecord with an ``error`` (reported as the rule
``Unreadable``), never an exception and never a silently dropped claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef

from cptkg.kg.namespaces import CPTKG

# rdflib types terms as Node; a claim triple is (subject, predicate, object) of rdflib terms.
Triple = tuple[Any, Any, Any]

# Child nodes of a claim (after FHIR Claim) and the type each gets.
CHILDREN = {
    CPTKG.item: CPTKG.ClaimItem,
    CPTKG.diagnosis: CPTKG.ClaimDiagnosis,
    CPTKG.careTeam: CPTKG.CareTeamMember,
    CPTKG.supportingInfo: CPTKG.SupportingInformation,
}

# The claim vocabulary: what each kind of claim node may say about itself. This is the trust
# boundary between a claim and the graph: nothing else a claim file says reaches the rules.
VOCABULARY: dict[Any, frozenset[Any]] = {
    CPTKG.Claim: frozenset(CHILDREN),
    CPTKG.ClaimItem: frozenset({
        CPTKG.sequence, CPTKG.productOrService, CPTKG.servicedDate, CPTKG.location, CPTKG.quantity,
        CPTKG.diagnosisSequence, CPTKG.careTeamSequence, CPTKG.informationSequence, CPTKG.bodySite}),
    CPTKG.ClaimDiagnosis: frozenset({CPTKG.sequence, CPTKG.diagnosisCode}),
    CPTKG.CareTeamMember: frozenset({CPTKG.sequence, CPTKG.provider, CPTKG.qualification}),
    CPTKG.SupportingInformation: frozenset({CPTKG.sequence, CPTKG.category, CPTKG.value}),
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
    source: str = ""  # the file it came from (claims of one file are validated together)

    @property
    def readable(self) -> bool:
        return self.error is None


def diagnosis_codes(triples: Iterable[Triple]) -> Iterator[URIRef]:
    for _s, p, o in triples:
        if p == CPTKG.diagnosisCode and isinstance(o, URIRef):
            yield o
