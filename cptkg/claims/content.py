"""What a claim says, as plain data for people: its lines (code, modifiers, date, place, units,
pointed diagnoses) and its diagnoses, read back from the claim's triples. The HTML report shows
these beside the results, so a reviewer sees the line a rule speaks of."""

from __future__ import annotations

from typing import Any

from cptkg.claims.rdf import display
from cptkg.claims.record import ClaimRecord
from cptkg.kg.namespaces import CPTKG


def content(record: ClaimRecord) -> dict[str, Any]:
    """The claim's lines and diagnoses, as read (the report puts them in line order); empty lists
    for a claim that could not be read."""
    about: dict[Any, dict[Any, list[Any]]] = {}
    for s, p, o in record.triples:
        about.setdefault(s, {}).setdefault(p, []).append(o)
    claim = record.iri
    top = about.get(claim, {}) if claim is not None else {}

    def one(node: Any, prop: Any) -> str:
        values = about.get(node, {}).get(prop, [])
        return ", ".join(sorted(display(v) for v in values))

    def many(node: Any, prop: Any) -> list[str]:
        return sorted(display(v) for v in about.get(node, {}).get(prop, []))

    lines: list[dict[str, Any]] = []
    for node in [*top.get(CPTKG.item, []), *top.get(CPTKG.otherLine, [])]:
        number = one(node, CPTKG.lineNumber) or one(node, CPTKG.sequence)
        code = one(node, CPTKG.productOrService) or one(node, CPTKG.otherCode)
        lines.append({"line": number, "code": code, "modifiers": many(node, CPTKG.modifier),
                      "date": one(node, CPTKG.servicedDate), "place": one(node, CPTKG.location),
                      "units": one(node, CPTKG.quantity), "diagnosisPointers": many(node, CPTKG.diagnosisSequence)})
    diagnoses = [{"sequence": one(node, CPTKG.sequence), "code": one(node, CPTKG.diagnosisCode)}
                 for node in top.get(CPTKG.diagnosis, [])]
    return {"lines": lines, "diagnoses": diagnoses}
