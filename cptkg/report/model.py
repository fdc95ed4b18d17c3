"""The report model: plain data about what the rules found, claim by claim. Every writer (and any
service) renders these objects; none of them needs the engine that produced them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNREADABLE = "Unreadable"
VERDICTS = ("conforms", "does-not-conform", "not-applicable", "unreadable")


def line_order(line: str | None) -> tuple[int, ...]:
    """Line numbers in claim order: 2 < 2.1 < 2.1.3 < 10; no line (claim, diagnosis) first."""
    if not line:
        return ()
    return tuple(int(part) if part.isdigit() else 0 for part in line.split("."))


@dataclass(frozen=True)
class Evidence:
    """One graph fact a rule read to reach a result, and who states it. ``subject`` and ``value``
    are shown as a coder writes them (a code's notation, a node's local name, a literal's text),
    ``property`` by its local name; ``statement`` is the cptkg:SourcedStatement that states the
    fact (None when the fact has none: an ICD-10-CM, NCCI or rule-pack fact), ``sources`` its
    sources as (id, title, IRI) and ``quote`` the source's words where the graph quotes them. The
    ``*_term`` fields keep the RDF terms (N-Triples) for the SHACL report."""

    subject: str
    property: str
    value: str
    statement: str | None
    sources: tuple[tuple[str, str, str], ...]
    quote: str | None
    subject_term: str | None = None
    property_term: str | None = None
    value_term: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The fact as the JSON report writes it (made once: one fact is shared by many results;
        the dict is the same each time, not to be changed)."""
        made = self.__dict__.get("_json")
        if made is None:
            made = {"subject": self.subject, "property": self.property, "value": self.value,
                    "statement": self.statement,
                    "sources": [{"id": i, "title": t} for i, t, _iri in self.sources], "quote": self.quote}
            self.__dict__["_json"] = made  # frozen: kept beside the fields, not as one of them
        return made

    def said(self) -> str:
        """One line for people: the fact and who states it."""
        sources = "; ".join(t for _i, t, _iri in self.sources) or "no source in the graph"
        quote = f' ("{self.quote}")' if self.quote else ""
        return f"{self.subject} {self.property} {self.value}: {sources}{quote}"


@dataclass(frozen=True)
class Result:
    """One rule result on one claim. ``focus``, ``path`` and ``value`` are as shown to people (a
    code IRI shown as its notation); ``focus_term`` and ``value_term`` keep the RDF terms in
    N-Triples form for the SHACL validation report. A result on a line names the line (its item
    sequence; a detail line as 2.1) and its code; one on a diagnosis names the diagnosis sequence."""

    rule: str
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    line: str | None = None
    code: str | None = None
    diagnosis: str | None = None
    focus_term: str | None = None
    value_term: str | None = None
    # The graph facts the rule read (cptkg.rules.evidence): () for a rule that reads none, None when
    # evidence was not asked for (--no-evidence), and then the JSON leaves the field out.
    evidence: tuple[Evidence, ...] | None = None
    # How the result is reported in FHIR, from its rule's shape (rules.catalog): the issue type
    # and the element of a line it points at. Not part of the JSON report.
    issue_type: str | None = None
    element: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "severity": self.severity, "line": self.line, "code": self.code,
               "diagnosis": self.diagnosis, "focus": self.focus, "path": self.path, "value": self.value,
               "message": self.message}
        if self.evidence is not None:
            out["evidence"] = [e.as_json() for e in self.evidence]
        return out


@dataclass
class ClaimReport:
    """What the rules found on one claim, and where the claim came from: ``source`` the input (a
    file path, or - for standard input) and ``where`` the place in it (NDJSON line, Bundle entry,
    X12 segment; empty for a claim graph, whose claims are named by their IRIs)."""

    claim: str
    source: str
    where: str = ""
    results: list[Result] = field(default_factory=list)
    position: int = 0
    reason: str | None = None  # why the claim is not applicable (no rule judged it)
    # What the claim says (its lines and diagnoses, cptkg.claims.content), kept only when a report
    # shows it (the HTML report); never part of the JSON report.
    content: dict[str, Any] | None = None

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def verdict(self) -> str:
        if any(r.rule == UNREADABLE for r in self.results):
            return "unreadable"
        if self.reason is not None:
            return "not-applicable"
        return "conforms" if self.conforms else "does-not-conform"

    @property
    def origin(self) -> str:
        return f"{self.source} {self.where}" if self.where else self.source

    def as_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "conforms": self.conforms, "verdict": self.verdict,
                "origin": {"file": self.source, "where": self.where or None}, "reason": self.reason,
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
