"""`cptkg show CODE`: one code's card, assembled from the named queries of queries/."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from cptkg.errors import InputError
from cptkg.queries import KINDS, run_named

# The card's sections, each the rows of one named query (its parameter is the code).
SECTIONS = (
    ("classes", "code-classes"),
    ("related", "related-codes"),
    ("specialties", "specialties-for-code"),
    ("placesOfService", "places-of-service-for-code"),
    ("indications", "indications-for-code"),
    ("documentation", "documentation-requirements"),
    ("procedureSteps", "procedure-steps"),
    ("examples", "examples-for-code"),
    ("acceptablePrimaries", "acceptable-primaries"),
    ("sources", "sources-for-code"),
)


# What the graph may not know about a code, and the rules that then cannot judge its lines (the same
# list rule NoFactsForCode reports on claims).
NOT_KNOWN = (
    ("placesOfService", "places of service", ["PlaceOfServiceTypical"]),
    ("specialties", "specialties", ["SpecialtyTypical"]),
    ("indications", "indications", ["DiagnosisSupportsNecessity", "SeventhCharacterActiveTreatment"]),
)


def card(code: str, store: Any = None) -> dict[str, Any]:
    notation = KINDS["cpt"].to_term(code).value.rsplit("/", 1)[-1]
    summary = run_named("code-summary", {"code": notation}, store=store).as_dicts()
    if not summary:
        raise InputError(
            f"unknown code {notation}: not in the graph (`cptkg query addon-codes` lists the "
            "family; related codes are listed by `cptkg query related-codes --param code=20701`)"
        )
    out: dict[str, Any] = dict(summary[0])
    for key, query in SECTIONS:
        out[key] = run_named(query, {"code": notation}, store=store).as_dicts()
    out["related"] = _each_code_once(out["related"])
    out["indications"] = _group_indications(out["indications"])
    out["classes"] = [c["class"] for c in out["classes"]]
    out["notKnown"] = [{"facts": label, "rulesThatCannotJudge": rules}
                       for key, label, rules in NOT_KNOWN if not out[key]]
    out["icd10cmEditions"] = loaded_editions()
    return out


def loaded_editions() -> list[dict[str, Any]]:
    """The ICD-10-CM editions a line's diagnoses are judged by (its date of service picks one)."""
    from cptkg.kg import editions

    return [{"edition": e.id, "fiscalYear": e.fiscal_year_end.year, "start": e.start.isoformat(),
             "end": e.fiscal_year_end.isoformat(), "origin": e.origin, "source": e.release}
            for e in editions.editions()]


# The broad relations: a code named under a more specific one (insertion counterpart, primary
# context, ...) is not repeated under these; "see also" is the broadest.
BROAD_RELATIONS = {"same family": 1, "see also": 2}


def _each_code_once(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each related code under its most specific relation(s) only (20700 is 20701's insertion
    counterpart; it is not listed again as "same family" and "see also")."""
    narrowest: dict[str, int] = {}
    for row in rows:
        rank = BROAD_RELATIONS.get(row["relation"], 0)
        narrowest[row["notation"]] = min(rank, narrowest.get(row["notation"], rank))
    return [row for row in rows if BROAD_RELATIONS.get(row["relation"], 0) == narrowest[row["notation"]]]


def _group_indications(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = grouped.setdefault(
            row["indication"],
            {"indication": row["indication"], "label": row["indicationLabel"], "icd10cm": []},
        )
        if "family" in row:
            entry["icd10cm"].append({"code": row["family"], "title": row["familyLabel"]})
    return list(grouped.values())


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_human(data: dict[str, Any], width: int = 96) -> str:
    def wrap(text: str, indent: str = "  ") -> list[str]:
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ")

    addon = "+" if data.get("addOn") else ""
    lines = [f"{addon}{data['notation']}  {data['label']}"]
    if data.get("descriptor"):
        lines += wrap(f"Descriptor: {data['descriptor']}")
    facts = []
    if data.get("addOn"):
        facts.append("add-on code (report with a primary procedure)")
    for key, label in (("action", "action"), ("site", "site"), ("globalPeriod", "global"),
                       ("effectiveDate", "effective")):
        if data.get(key):
            facts.append(f"{label}: {data[key]}")
    if data.get("oncePerSite"):
        facts.append("once per anatomic site")
    if facts:
        lines += wrap("; ".join(facts))
    if data.get("medicalNecessity"):
        lines += wrap(f"Medical necessity: {data['medicalNecessity']}")
    if data.get("plainDescription"):
        lines += wrap(f"In plain words: {data['plainDescription']}")

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.append("")
            lines.append(f"{title}:")
            for item in items:
                lines.extend(wrap(item, "  - ")[:1] + wrap(item, "    ")[1:] if len(item) > width
                             else [f"  - {item}"])

    grouped: dict[str, list[str]] = {}
    for r in data["related"]:
        if r["relation"] == "acceptable primary" and data["acceptablePrimaries"]:
            continue  # listed once, under "Acceptable primaries"
        grouped.setdefault(r["relation"], []).append(f"{r['notation']} {r['label']}")
    if grouped:
        lines.extend(["", "Related codes:"])
        for relation, items in grouped.items():
            lines.append(f"  {relation}:")
            lines.extend(f"    - {item}" for item in items)
    section("Places of service", [f"{p['pos']} {p['name']}" for p in data["placesOfService"]])
    section(
        "Specialties",
        [
            f"NUCC {s['taxonomy']} {s['taxonomyName']}"
            + (f" (Medicare {s['medicareSpecialty']} {s['medicareName']})"
               if s.get("medicareSpecialty") else "")
            for s in data["specialties"]
        ],
    )
    section(
        "Indications",
        [f"{i['label']}: " + (", ".join(f"{c['code']}-" for c in i["icd10cm"]) or "no ICD-10-CM family")
         for i in data["indications"]],
    )
    section("Documentation should include", [d["label"] for d in data["documentation"]])
    section("Procedure", [f"{s['step']}. {s['description']}" for s in data["procedureSteps"]])
    section("Examples", [e["text"] for e in data["examples"]])
    if data["acceptablePrimaries"]:
        codes = ", ".join(p["primary"] for p in data["acceptablePrimaries"])
        section("Acceptable primaries", [codes])
    sources = sorted({s["sourceTitle"] for s in data["sources"]})
    section("Sources", sources)
    section("Diagnoses judged by the ICD-10-CM edition of the date of service (loaded editions)",
            [f"{e['edition']} FY{e['fiscalYear']}, {e['start']} to {e['end']} ({e['origin']}: {e['source']})"
             for e in data.get("icd10cmEditions", [])])
    section("Not in the graph (these rules cannot judge its lines)",
            [f"{n['facts']}: {', '.join(n['rulesThatCannotJudge'])}" for n in data.get("notKnown", [])])
    return "\n".join(lines)
