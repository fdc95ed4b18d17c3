"""The FHIR terminology operations over the graph: CodeSystem $lookup and $validate-code,
ValueSet $expand, ConceptMap $translate. They answer from the resources the FHIR export publishes
(cptkg.export.fhir.bundle) and, for the code systems the graph holds in part (CPT, ICD-10-CM,
NUCC, places of service, Medicare specialties), from the graph's code cards and the loaded
ICD-10-CM editions, as a FHIR terminology server does: Parameters and ValueSet resources, errors
as OperationOutcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cptkg.errors import InputError
from cptkg.kg.namespaces import SYSTEM_CPT, SYSTEM_ICD10CM, SYSTEM_MSPEC, SYSTEM_NUCC, SYSTEM_POS

# The code systems `cptkg show` reads, by their FHIR system URI.
CARD_SYSTEMS = {SYSTEM_CPT: "cpt", SYSTEM_ICD10CM: "icd10cm", SYSTEM_NUCC: "nucc", SYSTEM_POS: "pos",
                SYSTEM_MSPEC: "mspec"}
SYSTEM_NAMES = {SYSTEM_CPT: "CPT", SYSTEM_ICD10CM: "ICD-10-CM", SYSTEM_NUCC: "NUCC provider taxonomy",
                SYSTEM_POS: "CMS place of service", SYSTEM_MSPEC: "Medicare provider specialty"}
# A whole-system value set over a code system the graph holds only in part cannot be expanded
# honestly; ICD-10-CM can (the loaded editions hold every code), in pages.
EXPANSION_LIMIT = 1000


class NotFound(InputError):
    """A code, value set or concept map that the server does not hold (HTTP 404)."""


class TooCostly(InputError):
    """An expansion too large to return without paging, or one cptkg cannot make whole (HTTP 422)."""


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    definition: str | None = None


def _parameters(*pairs: tuple[str, str, Any]) -> dict[str, Any]:
    """FHIR Parameters from (name, value[x] type, value) triples, skipping empty values."""
    return {"resourceType": "Parameters",
            "parameter": [{"name": name, f"value{kind}": value} for name, kind, value in pairs
                          if value is not None and value != ""]}


class Terminology:
    """The terminology operations, over one FHIR export bundle and the graph's store."""

    def __init__(self, bundle: dict[str, Any], store: Any) -> None:
        self.store = store
        resources = [e["resource"] for e in bundle["entry"]]
        self.code_systems = {r["url"]: r for r in resources if r["resourceType"] == "CodeSystem"}
        self.value_sets = {r["url"]: r for r in resources if r["resourceType"] == "ValueSet"}
        self.concept_maps = {r["url"]: r for r in resources if r["resourceType"] == "ConceptMap"}

    # --- looking codes up -------------------------------------------------------------------
    def concept(self, system: str, code: str) -> Concept | None:
        """The concept ``code`` of ``system``, or None when the system is known but the code not."""
        if system in self.code_systems:
            for c in self.code_systems[system]["concept"]:
                if c["code"] == code:
                    return Concept(c["code"], c["display"], c.get("definition"))
            return None
        if system not in CARD_SYSTEMS:
            raise NotFound(f"unknown code system {system!r}: this server knows "
                           + ", ".join(sorted([*CARD_SYSTEMS, *self.code_systems])))
        from cptkg.show import card

        try:
            found = card(code, store=self.store, system=CARD_SYSTEMS[system])
        except InputError:
            return None
        if not found.get("label"):
            return None  # a CPT code outside the graph: cptkg knows its section, not the code
        if found.get("notation") != code:
            return None  # the card reads notations leniently (t85.738a); a code system does not
        return Concept(found["notation"], found["label"], found.get("definition"))

    def lookup(self, system: str | None, code: str | None) -> dict[str, Any]:
        system, code = _required(system, "system"), _required(code, "code")
        concept = self.concept(system, code)
        if concept is None:
            raise NotFound(f"code {code!r} is not in {self._name(system)} as this server holds it")
        return _parameters(("name", "String", self._name(system)), ("display", "String", concept.display),
                           ("definition", "String", concept.definition))

    def validate_code(self, system: str | None, code: str | None, display: str | None = None) -> dict[str, Any]:
        system, code = _required(system, "url"), _required(code, "code")
        concept = self.concept(system, code)
        if concept is None:
            return _parameters(("result", "Boolean", False),
                               ("message", "String", f"Unknown code '{code}' in {self._name(system)}"))
        if display is not None and display != concept.display:
            return _parameters(("result", "Boolean", False), ("display", "String", concept.display),
                               ("message", "String", f"The display '{display}' is not the display of "
                                                     f"'{code}': '{concept.display}'"))
        return _parameters(("result", "Boolean", True), ("display", "String", concept.display))

    def _name(self, system: str) -> str:
        if system in self.code_systems:
            return str(self.code_systems[system]["title"])
        return SYSTEM_NAMES.get(system, system)

    # --- value sets ---------------------------------------------------------------------------
    def expand(self, url: str | None, text_filter: str | None = None, offset: int = 0,
               count: int | None = None) -> dict[str, Any]:
        url = _required(url, "url")
        if url not in self.value_sets:
            raise NotFound(f"unknown value set {url!r} (GET /ValueSet/$expand?url=... with a url of the "
                           "FHIR export)")
        if offset < 0 or (count is not None and count < 0):
            raise InputError("offset and count are numbers of 0 or more")
        vs = self.value_sets[url]
        contains = []
        for include in vs["compose"]["include"]:
            system = include["system"]
            if "concept" in include:
                concepts = [Concept(c["code"], c.get("display") or self._display(system, c["code"]))
                            for c in include["concept"]]
            else:
                concepts = self._whole(system)
            contains += [(system, c) for c in concepts]
        if text_filter:
            words = text_filter.lower()
            contains = [(s, c) for s, c in contains if words in c.code.lower() or words in c.display.lower()]
        total = len(contains)
        if count is None and total - offset > EXPANSION_LIMIT:
            raise TooCostly(f"the expansion has {total} codes: ask for a page with count (at most "
                            f"{EXPANSION_LIMIT}) and offset, or narrow it with filter")
        page = contains[offset: offset + min(count if count is not None else EXPANSION_LIMIT, EXPANSION_LIMIT)]
        out = {k: vs[k] for k in ("resourceType", "id", "url", "version", "name", "title", "status")}
        out["expansion"] = {"identifier": f"urn:cptkg:expansion:{vs['id']}:{offset}:{len(page)}",
                            "timestamp": "2026-11-27T00:00:00Z", "total": total, "offset": offset,
                            "contains": [{"system": s, "code": c.code, **({"display": c.display} if c.display else {})}
                                         for s, c in page]}
        if text_filter:
            out["expansion"]["parameter"] = [{"name": "filter", "valueString": text_filter}]
        return out

    def _display(self, system: str, code: str) -> str:
        if system == SYSTEM_CPT:
            return ""  # no CPT text in value sets (AMA licence), as the export
        concept = self.concept(system, code)
        return concept.display if concept else ""

    def _whole(self, system: str) -> list[Concept]:
        if system in self.code_systems:
            return [Concept(c["code"], c["display"]) for c in self.code_systems[system]["concept"]]
        if system == SYSTEM_ICD10CM:
            from cptkg.kg import editions

            latest = editions.editions()[-1]
            table = editions.table(latest.id)
            return [Concept(code, facts.title) for code, facts in sorted(table.items())]
        raise TooCostly(f"cptkg holds only part of {self._name(system)}: it cannot expand every code of it")

    # --- concept maps -------------------------------------------------------------------------
    def translate(self, url: str | None, system: str | None, code: str | None,
                  target: str | None = None) -> dict[str, Any]:
        system, code = _required(system, "system"), _required(code, "code")
        if url is not None and url not in self.concept_maps:
            raise NotFound(f"unknown concept map {url!r}")
        maps = [self.concept_maps[url]] if url else list(self.concept_maps.values())
        matches = []
        for cm in maps:
            for group in cm["group"]:
                if group["source"] != system or (target and group["target"] != target):
                    continue
                for element in group["element"]:
                    if element["code"] != code:
                        continue
                    for t in element["target"]:
                        matches.append({"name": "match", "part": [
                            {"name": "equivalence", "valueCode": t["equivalence"]},
                            {"name": "concept", "valueCoding": {"system": group["target"], "code": t["code"]}},
                            {"name": "source", "valueUri": cm["url"]}]})
        out = _parameters(("result", "Boolean", bool(matches)),
                          ("message", "String", None if matches else
                           f"no concept map here maps {code!r} of {self._name(system)}"))
        out["parameter"] += matches
        return out


def _required(value: str | None, name: str) -> str:
    if value is None or not value.strip():
        raise InputError(f"the parameter {name!r} is required")
    return value.strip()
