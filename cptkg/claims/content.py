"""What a claim says, as plain data for people: its lines (code, modifiers, date, place, units,
pointed diagnoses) and its diagnoses, read back from the claim's triples. The HTML report shows
these beside the results, so a reviewer sees the line a rule speaks of."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from rdflib import URIRef

from cptkg.claims.record import ClaimRecord
from cptkg.kg.namespaces import CPTKG

_OURS = "https://w3id.org/cptkg/"


def _shown(term: Any) -> str:
    """A code IRI as its notation, anything else as its text (as results show them)."""
    text = str(term)
    if isinstance(term, URIRef) and text.startswith(_OURS):
        return unquote(text.rsplit("/", 1)[-1])
    return text


def _order(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


def content(record: ClaimRecord) -> dict[str, Any]:
    """The claim's lines and diagnoses; empty lists for a claim that could not be read."""
    about: dict[Any, dict[Any, list[Any]]] = {}
    for s, p, o in record.triples:
        about.setdefault(s, {}).setdefault(p, []).append(o)
    claim = record.iri
    top = about.get(claim, {}) if claim is not None else {}

    def one(node: Any, prop: Any) -> str:
        values = about.get(node, {}).get(prop, [])
        return ", ".join(sorted(_shown(v) for v in values))

    def many(node: Any, prop: Any) -> list[str]:
        return sorted((_shown(v) for v in about.get(node, {}).get(prop, [])), key=lambda t: (_order(t), t))

    lines: list[dict[str, Any]] = []
    for node in [*top.get(CPTKG.item, []), *top.get(CPTKG.otherLine, [])]:
        number = one(node, CPTKG.lineNumber) or one(node, CPTKG.sequence)
        code = one(node, CPTKG.productOrService) or one(node, CPTKG.otherCode)
        lines.append({"line": number, "code": code, "modifiers": many(node, CPTKG.modifier),
                      "date": one(node, CPTKG.servicedDate), "place": one(node, CPTKG.location),
                      "units": one(node, CPTKG.quantity), "diagnosisPointers": many(node, CPTKG.diagnosisSequence)})
    lines.sort(key=lambda line: (_order(line["line"]), line["line"]))
    diagnoses = sorted(({"sequence": one(node, CPTKG.sequence), "code": one(node, CPTKG.diagnosisCode)}
                        for node in top.get(CPTKG.diagnosis, [])), key=lambda d: (_order(d["sequence"]), d["code"]))
    return {"lines": lines, "diagnoses": diagnoses}
