"""The report model: plain data about what the rules found, claim by claim. Every writer (and any
service) renders these objects; none of them needs the engine that produced them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNREADABLE = "Unreadable"


@dataclass(frozen=True)
class Result:
    """One rule result on one claim. ``focus``, ``path`` and ``value`` are as shown to people (a
    code IRI shown as its notation); ``focus_term`` and ``value_term`` keep the RDF terms in
    N-Triples form for the SHACL validation report."""

    rule: str
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    line: int | None = None  # the focus line's item sequence, where the focus is a line
    code: str | None = None  # the focus line's procedure code
    focus_term: str | None = None
    value_term: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "focus": self.focus,
                "path": self.path, "value": self.value, "message": self.message}


@dataclass
class ClaimReport:
    claim: str
    origin: str
    results: list[Result] = field(default_factory=list)
    position: int = 0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def as_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "conforms": self.conforms,
                "results": [r.as_json() for r in self.results]}


@dataclass
class ValidationReport:
    claims: list[ClaimReport]

    @property
    def conforms(self) -> bool:
        return all(c.conforms for c in self.claims)

    def as_json(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "claims": [c.as_json() for c in self.claims]}

    def rules_fired(self) -> set[tuple[str, str]]:
        return {(r.rule, r.focus) for c in self.claims for r in c.results}

