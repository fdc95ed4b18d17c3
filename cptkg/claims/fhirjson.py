"""The direct FHIR reader's view of a Claim or ExplanationOfBenefit: the parsed JSON, checked
element by element as the converter reads it, with the rigour of the FHIR R4 types for exactly
what cptkg reads (a positiveInt is a whole number above 0, a date a real calendar date, a decimal
a finite number, a code a string without leading or trailing spaces, a required element present,
one value per choice element).

It answers the same attribute names as fhir.resources' models (``claim.item[0].servicedDate``), so
one converter serves both readers; fhir.resources (``--fhir-strict``) also checks everything cptkg
does not read. Model validation cost a third of `cptkg validate`'s time; this costs what reading
costs.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

# Element -> type, for each kind of element cptkg reads. A type in a list is a repeating element;
# a name ending in "!" is required (FHIR R4 cardinality 1..).
_CODING = {"system": "uri", "code": "code", "display": "string"}
_CONCEPT = {"coding": ["Coding"], "text": "string"}
_EXTENSION = {"url": "uri!", "valueBoolean": "boolean"}
_LINE = {"sequence": "positiveInt!", "productOrService": "CodeableConcept!", "modifier": ["CodeableConcept"],
         "quantity": "Quantity", "modifierExtension": ["Extension"]}
SCHEMA: dict[str, dict[str, Any]] = {
    "Claim": {"id": "id", "status": "code", "item": ["Item"], "diagnosis": ["Diagnosis"], "careTeam": ["CareTeam"],
              "supportingInfo": ["SupportingInfo"], "insurance": ["Insurance"], "billablePeriod": "Period",
              "contained": ["Resource"]},
    "Item": {**_LINE, "servicedDate": "date", "servicedPeriod": "Period",
             "locationCodeableConcept": "CodeableConcept", "bodySite": "CodeableConcept",
             "diagnosisSequence": ["positiveInt"], "careTeamSequence": ["positiveInt"],
             "informationSequence": ["positiveInt"], "detail": ["Detail"]},
    "Detail": {**_LINE, "subDetail": ["SubDetail"]},
    "SubDetail": dict(_LINE),
    "CodeableConcept": _CONCEPT,
    "Coding": _CODING,
    "Period": {"start": "dateTime", "end": "dateTime"},
    "Quantity": {"value": "decimal"},
    "Extension": _EXTENSION,
    "Diagnosis": {"sequence": "positiveInt!", "diagnosisCodeableConcept": "CodeableConcept",
                  "diagnosisReference": "Reference"},
    "Reference": {"reference": "string", "identifier": "Identifier", "display": "string"},
    "Identifier": {"system": "uri", "value": "string"},
    "CareTeam": {"sequence": "positiveInt!", "provider": "Reference", "qualification": "CodeableConcept"},
    "SupportingInfo": {"sequence": "positiveInt!", "category": "CodeableConcept!", "code": "CodeableConcept",
                       "valueString": "string", "valueReference": "Reference", "modifierExtension": ["Extension"]},
    "Insurance": {"preAuthRef": ["string"]},
    "Resource": {"id": "id"},
}
# Choice elements (FHIR value[x]): at most one of the forms may be given.
CHOICES = {"Item": ("serviced", "location"), "Diagnosis": ("diagnosis",), "SupportingInfo": ("value", "timing"),
           "Extension": ("value",)}
_CHOICE_FORMS = re.compile(r"^(serviced|location|diagnosis|value|timing)[A-Z]")

# FHIR R4 primitive types' regular expressions (http://hl7.org/fhir/R4/datatypes.html).
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_DATE = re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$")
_DATE_TIME = re.compile(
    _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$")
_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_URI = re.compile(r"^\S*$")
# FHIR's string pattern (the R4 JSON schema's, anchored): a string of spaces alone is valid (the
# spec says it SHOULD have other content; fhir.resources takes it too), an empty one is not.
_STRING = re.compile(r"^[ \r\n\t\S]+$")


MAX_POSITIVE_INT = 2**31 - 1  # FHIR's integer types are 32-bit


class Invalid(ValueError):
    """An element that is not what FHIR R4 says it is: ``where`` as pydantic names it (item.0.sequence)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def _check_date(value: str, where: str) -> str:
    if not _DATE.match(value):
        raise Invalid(where, f"{value!r} is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)")
    if len(value) == 10:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(where, f"{value!r} is not a date of the calendar") from None
    return value


def _primitive(kind: str, value: Any, where: str) -> Any:
    """The value of a primitive element, checked: as the converter reads it (dates as written)."""
    if kind == "positiveInt":
        # FHIR JSON numbers are JSON numbers: true is not 1 (fhir.resources takes it as 1).
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_POSITIVE_INT:
            raise Invalid(where, f"{value!r} is not a positive whole number (1 to {MAX_POSITIVE_INT})")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                (isinstance(value, float) and not math.isfinite(value)):
            raise Invalid(where, f"{value!r} is not a number")
        # As fhir.resources makes it: a float through its shortest text (3.5e16 stays 35557994720267890,
        # not the float's nearest integer).
        return Decimal(str(value)) if isinstance(value, float) else value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(where, f"{value!r} is not true or false")
        return value
    if not isinstance(value, str):
        raise Invalid(where, f"{value!r} is not a string")
    if kind == "date":
        return _check_date(value, where)
    if kind == "dateTime":
        if not _DATE_TIME.match(value):
            raise Invalid(where, f"{value!r} is not a FHIR dateTime")
        _check_date(value[:10], where) if len(value) >= 10 else None
        return value
    if kind == "code" and not _CODE.match(value):
        raise Invalid(where, f"{value!r} is not a FHIR code (no leading, trailing or double spaces)")
    if kind == "id" and not _ID.match(value):
        raise Invalid(where, f"{value!r} is not a FHIR id (letters, digits, - and ., at most 64)")
    if kind == "uri" and not _URI.match(value):
        raise Invalid(where, f"{value!r} is not a URI (no spaces)")
    if kind == "string" and not _STRING.match(value):
        raise Invalid(where, f"{value!r} is not a FHIR string (not empty; no whitespace but spaces, tabs and line "
                             "breaks)")
    return value


@cache
def _plan(kind: str) -> list[tuple[str, bool, str, bool, bool]]:
    """Each element of a kind as (name, repeats, type, is a kind of element, required), worked out
    once instead of per element read (on first use, not at import: nothing is paid for kinds never
    read, and mutation testing sees this code run)."""
    out = []
    for name, kind_of in SCHEMA[kind].items():
        repeats = isinstance(kind_of, list)
        type_name = (kind_of[0] if repeats else kind_of).rstrip("!")
        out.append((name, repeats, type_name, type_name in SCHEMA,
                    not repeats and kind_of.endswith("!")))
    return out


class View:
    """One element of the JSON, read as its FHIR type: ``view.name`` is the child element, checked,
    or None when absent; a repeating element is a list (empty when absent). Built once, eagerly, for
    the elements cptkg reads (the converter reads some several times)."""

    def __init__(self, data: Any, kind: str, where: str) -> None:
        if not isinstance(data, dict):
            raise Invalid(where, f"an object is expected here, not a JSON {type(data).__name__}")
        self._data = data
        choices = CHOICES.get(kind)
        if choices:
            given: dict[str, list[str]] = {}
            for key in data:
                match = _CHOICE_FORMS.match(key)
                if match and match.group(1) in choices:
                    given.setdefault(match.group(1), []).append(key)
            for prefix, forms in given.items():
                if len(forms) > 1:
                    raise Invalid(where, f"{prefix}[x] is given as {' and '.join(sorted(forms))}: give one")
        fields = self.__dict__
        for name, repeats, type_name, is_kind, required in _plan(kind):
            value = data.get(name)
            if value is None:
                # FHIR JSON has no nulls: a required element given as null is missing.
                if required:
                    raise Invalid(f"{where}.{name}" if where else name, "Field required")
                fields[name] = [] if repeats else None
                continue
            at = f"{where}.{name}" if where else name
            if repeats:
                if not isinstance(value, list):
                    raise Invalid(at, f"a list is expected here, not a JSON {type(value).__name__}")
                if is_kind:
                    fields[name] = [View(v, type_name, f"{at}.{i}") for i, v in enumerate(value)]
                else:
                    fields[name] = [None if v is None else _primitive(type_name, v, f"{at}.{i}")
                                    for i, v in enumerate(value)]
            else:
                fields[name] = View(value, type_name, at) if is_kind else _primitive(type_name, value, at)

    def __getattr__(self, name: str) -> Any:
        # Only for names the schema does not list (those are set in __init__): the converter reads
        # nothing else, so this is a bug, said plainly.
        raise AttributeError(f"cptkg's FHIR view does not read the element {name!r}")

    def raw(self) -> dict[str, Any]:
        """The element's JSON as given (a contained resource is resolved from it)."""
        return self._data


def claim_view(resource: dict[str, Any]) -> View:
    return View(resource, "Claim", "")
