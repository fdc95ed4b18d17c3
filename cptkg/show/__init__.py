"""`cptkg show CODE`: one code's card, assembled from the named queries of queries/.

A CPT code of the graph gets the full card (relations, places, specialties, indications, ...);
a code of another system the graph holds (ICD-10-CM, NUCC, place of service, Medicare specialty)
a card of its links; a CPT code outside the graph one line with its CPT section."""

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


# What the graph may not know about a code, as the card names it. The rules that then cannot judge
# its lines say so on their shapes (cptkgsh:unjudgedWithout, read through rules.catalog), the same
# rules NoFactsForCode names on claims.
NOT_KNOWN = (
    ("placesOfService", "places of service"),
    ("specialties", "specialties"),
    ("indications", "indications"),
)


# The code systems `show` reads a code in, in the order a bare code is tried (a two-digit code is
# a place of service before a Medicare specialty; --system picks).
SYSTEMS = {"cpt": "CPT", "icd10cm": "ICD-10-CM", "nucc": "NUCC provider taxonomy",
           "pos": "CMS place of service", "mspec": "Medicare provider specialty"}


def _fits(kind: str, code: str) -> bool:
    try:
        KINDS[kind].to_term(code)
    except InputError:
        return False
    return True


def card(code: str, store: Any = None, system: str | None = None) -> dict[str, Any]:
    """The card of a code: ``system`` names its code system, else the first that fits and that
    the graph holds it in."""
    if system is not None and system not in SYSTEMS:
        raise InputError(f"unknown code system {system!r} (choose from {', '.join(SYSTEMS)})")
    kinds = [system] if system else [k for k in SYSTEMS if _fits(k, code)]
    if not kinds:
        raise InputError(f"{code.strip()!r} is not a code of a system cptkg knows: CPT (20701), ICD-10-CM "
                         "(T85.738A), NUCC (207X00000X), place of service (21), Medicare specialty (20)")
    held = [k for k in kinds if _holds(k, code, store)]
    if held:
        found = (_cpt_card(code, store) if held[0] == "cpt" else _concept_card(held[0], code, store))
        found["system"] = held[0]
        found["alsoIn"] = held[1:]
        return found
    if "cpt" in kinds:
        return _cpt_outside(code, store)
    if "icd10cm" in kinds:
        outside = _icd10cm_outside(code)
        if outside is not None:
            return outside
    names = " or ".join(SYSTEMS[k] for k in kinds)
    raise InputError(f"unknown code {code.strip()}: the graph holds no {names} code of that notation "
                     "(`cptkg query search-codes --param text=...` searches the labels)")


def _iri(kind: str, code: str) -> str:
    return KINDS[kind].to_term(code).value


def _holds(kind: str, code: str, store: Any) -> bool:
    return bool(run_named("concept-card", {"concept": _iri(kind, code)}, store=store).rows)


def _cpt_outside(code: str, store: Any) -> dict[str, Any]:
    """What cptkg knows of a CPT code the graph does not hold: its section, from the graph's ranges."""
    notation = _iri("cpt", code).rsplit("/", 1)[-1]
    sections = run_named("cpt-section", {"code": notation}, store=store).as_dicts()
    if not sections:
        raise InputError(f"unknown code {notation}: not in the graph and in no CPT section range it holds")
    section = sections[0]
    return {"notation": notation, "system": "cpt", "inGraph": False, "section": section["section"],
            "sectionRange": f"{section['first']}-{section['last']}",
            "primaryProcedure": bool(section["holdsPrimaryProcedures"]),
            "note": f"{notation} is not in the graph: a code of the {section['section']} "
                    f"({section['first']}-{section['last']}), outside the drug-delivery device family"
                    + (", so it can be the primary procedure of an add-on family code" if
                       section["holdsPrimaryProcedures"] else "")}


def _billable_in(code: str) -> list[str]:
    from cptkg.kg import editions

    return [e.id for e in editions.editions() if (facts := editions.table(e.id).get(code)) and facts.billable]


def _icd10cm_outside(code: str) -> dict[str, Any] | None:
    """An ICD-10-CM code the graph does not hold but a loaded edition does."""
    from cptkg.kg import editions

    notation = _iri("icd10cm", code).rsplit("/", 1)[-1]
    titles = [facts.title for e in editions.editions() if (facts := editions.table(e.id).get(notation))]
    if not titles:
        return None
    return {"notation": notation, "system": "icd10cm", "inGraph": False, "label": titles[-1],
            "billableIn": _billable_in(notation),
            "note": f"{notation} is in the loaded ICD-10-CM editions but not in the graph: it evidences "
                    "no indication of the family's codes"}


def _concept_card(kind: str, code: str, store: Any) -> dict[str, Any]:
    iri = _iri(kind, code)
    out: dict[str, Any] = dict(run_named("concept-card", {"concept": iri}, store=store).as_dicts()[0])
    out["inGraph"] = True
    links = run_named("concept-links", {"concept": iri}, store=store).as_dicts()
    out["broader"] = [{"notation": r["notation"], "label": r["label"]} for r in links if r["relation"] == "broader"]
    out["links"] = [{k: r[k] for k in ("direction", "relation", "notation", "label")}
                    for r in links if r["relation"] != "broader"]
    if kind == "icd10cm":
        out["billableIn"] = _billable_in(out["notation"])
        out["supports"] = run_named("codes-for-diagnosis", {"icd": out["notation"]}, store=store).as_dicts()
    else:
        out.pop("billable", None)
    return out


def _cpt_card(code: str, store: Any) -> dict[str, Any]:
    notation = _iri("cpt", code).rsplit("/", 1)[-1]
    summary = run_named("code-summary", {"code": notation}, store=store).as_dicts()
    out: dict[str, Any] = dict(summary[0])
    out["inGraph"] = True
    for key, query in SECTIONS:
        out[key] = run_named(query, {"code": notation}, store=store).as_dicts()
    out["related"] = _each_code_once(out["related"])
    out["indications"] = _group_indications(out["indications"])
    out["classes"] = [c["class"] for c in out["classes"]]
    from cptkg.rules.catalog import unjudged_without  # read only for a code the graph knows little of

    out["notKnown"] = [{"facts": label, "rulesThatCannotJudge": unjudged_without(key)}
                       for key, label in NOT_KNOWN if not out[key]]
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


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ")


# How a relation reads from its object's side ("21 is the typical place of service of 20701").
INCOMING = {"typical place of service": "Typical place of service of",
            "typical specialty": "Typical specialty of", "crosswalks to": "Crosswalked from",
            "evidenced by": "Evidences", "indication": "Indication of"}


def _render_concept(data: dict[str, Any], width: int) -> str:
    if not data["inGraph"]:
        lines = [f"{data['notation']}  {data['label']}"] if data.get("label") else []
        if "billableIn" in data:
            lines += _wrap(f"ICD-10-CM; billable in the loaded editions: {', '.join(data['billableIn']) or 'none'}",
                           width)
        return "\n".join([*lines, *_wrap(data["note"], width, "" if not lines else "  ")])
    lines = [f"{data['notation']}  {data['label']}"]
    where = f"{SYSTEMS[data['system']]} ({data['codeSystem']})" if data.get("codeSystem") else SYSTEMS[data["system"]]
    if "billableIn" in data:
        where += f"; billable in the loaded editions: {', '.join(data['billableIn']) or 'none'}"
    lines += _wrap(where, width)
    if data.get("definition"):
        lines += _wrap(data["definition"], width)
    groups: dict[str, list[str]] = {}
    if data["broader"]:
        groups["Broader"] = [f"{b['notation']} {b['label']}" for b in data["broader"]]
    for link in data["links"]:
        relation = link["relation"]
        title = (INCOMING.get(relation, f"{relation} (from)") if link["direction"] == "in"
                 else relation[:1].upper() + relation[1:])
        groups.setdefault(title, []).append(f"{link['notation']} {link['label']}")
    supports: dict[str, dict[str, list[str]]] = {}
    for s in data.get("supports", []):
        families = supports.setdefault(f"{s['notation']} {s['label']}", {}).setdefault(s["indication"], [])
        families.append(f"{s['family']}-")
    if supports:
        groups["Supports (an indication of these codes, through the families it falls in)"] = [
            f"{code}: " + "; ".join(f"{ind} ({', '.join(fams)})" for ind, fams in by_indication.items())
            for code, by_indication in supports.items()]
    for title, items in groups.items():
        lines += ["", f"{title}:"]
        for item in items:
            lines += _wrap(item, width, "  - ")[:1] + _wrap(item, width, "    ")[1:]
    if data.get("alsoIn"):
        lines += ["", "Also a code of: " + ", ".join(f"{SYSTEMS[k]} (--system {k})" for k in data["alsoIn"])]
    return "\n".join(lines)


def render_human(data: dict[str, Any], width: int = 96) -> str:
    if data.get("system", "cpt") != "cpt" or not data.get("inGraph", True):
        return _render_concept(data, width)

    def wrap(text: str, indent: str = "  ") -> list[str]:
        return _wrap(text, width, indent)

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
