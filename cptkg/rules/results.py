"""From engine rows to the report model: a raw result (as pySHACL reports it, RDF terms) is given
to the claim that owns its focus node, its message filled in, and its line and code named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import Literal, URIRef

from cptkg.claims.rdf import display
from cptkg.claims.record import CHILDREN, ClaimRecord
from cptkg.errors import valid_unicode
from cptkg.kg.namespaces import CPTKG
from cptkg.report.model import UNREADABLE, Result, line_order
from cptkg.rules.catalog import rule_id

_CHILD_PROPERTIES = frozenset(CHILDREN)
_SEQUENCE = CPTKG.sequence
_LINE_NUMBER = CPTKG.lineNumber
_PRODUCT = CPTKG.productOrService
_DIAGNOSIS = CPTKG.diagnosis
_LINE_PROPERTIES = frozenset({CPTKG.item, CPTKG.otherLine})


@dataclass(frozen=True)
class RawResult:
    """A result as pySHACL would report it (message templates substituted as pySHACL does)."""

    shape: Any
    severity: Any
    focus: Any
    path: URIRef | None
    value: Any
    message: str


def by_claim(records: list[ClaimRecord], raw: list[RawResult]) -> list[list[Result]]:
    """Each raw result as a Result of the claim whose node is its focus (one list a record, in the
    records' order), with the line (and its code) or the diagnosis the focus is. Claims are told
    apart by their place in ``records``, not by ``position``: records read with ``read_bytes`` all
    have position 0."""
    owner: dict[Any, int] = {}
    kind: dict[Any, Any] = {}
    sequence: dict[Any, str] = {}
    number: dict[Any, str] = {}
    code_of: dict[Any, Any] = {}
    for index, record in enumerate(records):
        owner[record.iri] = index
        for s, p, o in record.triples:
            # Predicates compared as text (str.__eq__, in C): rdflib's own __eq__ and __hash__ run
            # in Python, and this loop sees every triple of the batch.
            if str.__eq__(p, _SEQUENCE):
                if isinstance(o, Literal):
                    sequence[s] = str(o)
            elif str.__eq__(p, _LINE_NUMBER):
                number[s] = str(o)
            elif str.__eq__(p, _PRODUCT):
                code_of[s] = o
            elif p in _CHILD_PROPERTIES and s == record.iri:
                owner[o] = index
                kind[o] = p
    out: list[list[Result]] = [[] for _ in records]
    for found in raw:
        claim_index = owner.get(found.focus)
        if claim_index is None:
            raise RuntimeError(f"a result names {found.focus}, which belongs to no claim of the batch")
        message = found.message
        if found.value is None:
            message = message.replace(" (got {$value})", "")
        message = message.replace("{$value}", display(found.value)).replace("{$this}", str(found.focus))
        line = diagnosis = code = None
        if kind.get(found.focus) in _LINE_PROPERTIES:
            line = number.get(found.focus) or sequence.get(found.focus)
            code = display(code_of[found.focus]) if found.focus in code_of else None
        elif kind.get(found.focus) == _DIAGNOSIS:
            diagnosis = sequence.get(found.focus)
        out[claim_index].append(Result(
            rule=rule_id(found.shape),
            severity=str(found.severity).rsplit("#", 1)[-1],
            focus=str(found.focus),
            path=str(found.path) if found.path is not None else None,
            value=display(found.value) if found.value is not None else None,
            message=message,
            line=line,
            code=code,
            diagnosis=diagnosis,
            focus_term=found.focus.n3(),
            value_term=found.value.n3() if found.value is not None else None,
        ))
    for results in out:
        results.sort(key=lambda r: (line_order(r.line), line_order(r.diagnosis), r.focus, r.rule,
                                    r.value or "", r.message))
    return out


def unreadable(record: ClaimRecord) -> Result:
    """The one result of a claim that could not be read: the reason, on the claim."""
    focus = record.iri if record.iri is not None else Literal(record.claim_id)
    return Result(UNREADABLE, "Violation", valid_unicode(record.claim_id), None, None,
                  valid_unicode(str(record.error)),  # an unreadable record always has its error
                  focus_term=valid_unicode(focus.n3()))
