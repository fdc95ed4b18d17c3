"""The claim rules written by hand in plain Python: the speed ceiling for the throughput
benchmark, and a third opinion on the results. Benchmarks only: the SHACL shapes are the rules."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS, XSD

from cptkg.claims import ClaimRecord
from cptkg.kg import editions
from cptkg.kg.namespaces import CPTKG, ICD10CM

PROCEDURE = re.compile(r"^https://w3id\.org/cptkg/(cpt/[0-9]{4}[0-9FTUM]|hcpcs/[A-V][0-9]{4})$")
POS_IRI = re.compile(r"^https://w3id\.org/cptkg/pos/[0-9]{2}$")


class Facts:
    """The lookups the rules need, read once from the inferred graph."""

    def __init__(self, graph: Any) -> None:
        def objects(p: URIRef) -> dict[Any, set[Any]]:
            out: dict[Any, set[Any]] = defaultdict(set)
            for s, o in graph.subject_objects(p):
                out[s].add(o)
            return out

        self.addon = set(graph.subjects(RDF.type, CPTKG.AddOnCode))
        self.primaries = objects(CPTKG.acceptablePrimary)
        self.pos = objects(CPTKG.typicalPlaceOfService)
        self.specialties = objects(CPTKG.typicalSpecialty)
        self.broader = objects(SKOS.broader)
        self.necessity = set(graph.subjects(CPTKG.necessityRestsOnIndication, Literal(True)))
        self.indications = objects(CPTKG.indication)
        self.evidenced_by = objects(CPTKG.evidencedBy)
        self.excluded = objects(CPTKG.notReportedWith)
        self.documentation = objects(CPTKG.requiresDocumentation)
        self.pump_code = {s: o for s, o in graph.subject_objects(CPTKG.pumpRemovalCodedAs)}
        self.intrathecal = set(graph.subjects(RDF.type, CPTKG.IntrathecalInfusionCode))
        self.pump_families = set(graph.subjects(CPTKG.signalsPumpContext, Literal(True)))
        self.once_per_site = set(graph.subjects(CPTKG.reportedOncePerAnatomicSite, Literal(True)))
        # ICD-10-CM from the newest loaded edition (the examples' dates are in it).
        self.icd = editions.table(editions.editions()[-1].id)

    def up(self, node: Any) -> set[Any]:
        """The node and everything above it (graph hierarchy, and ICD-10-CM from the tree)."""
        seen = {node}
        if str(node).startswith(str(ICD10CM)):
            code: str | None = str(node)[len(str(ICD10CM)):]
            while code is not None and code in self.icd:
                seen.add(ICD10CM[code])
                code = self.icd[code].parent
        frontier = list(seen)
        while frontier:
            for parent in self.broader.get(frontier.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
        return seen


def check(record: ClaimRecord, facts: Facts) -> set[tuple[str, str, str]]:
    """(rule, focus, value) for every result of the claim."""
    props: dict[Any, dict[Any, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in record.triples:
        props[s][p].append(o)
    claim = props[record.iri]
    items = claim[CPTKG.item]
    dxs = {d: props[d] for d in claim[CPTKG.diagnosis]}
    team = {props[m][CPTKG.sequence][0].toPython(): props[m] for m in claim[CPTKG.careTeam]}
    infos = [props[i] for i in claim[CPTKG.supportingInfo]]
    dx_by_seq: dict[Any, list[Any]] = defaultdict(list)
    for d in dxs.values():
        for seq in d[CPTKG.sequence]:
            dx_by_seq[seq.toPython()].extend(d[CPTKG.diagnosisCode])
    out: set[tuple[str, str, str]] = set()

    def hit(rule: str, focus: Any, value: Any) -> None:
        out.add((rule, str(focus), str(value) if value is not None else ""))

    def providers(line: dict[Any, list[Any]]) -> set[Any]:
        return {p for s in line[CPTKG.careTeamSequence] for p in team.get(s.toPython(), {}).get(CPTKG.provider, [])}

    claim_codes = {c for i in items for c in props[i][CPTKG.productOrService]}
    pump_context = bool(claim_codes & facts.intrathecal) or any(
        facts.up(code) & facts.pump_families for d in dxs.values() for code in d[CPTKG.diagnosisCode])
    for item in items:
        line = props[item]
        codes = line[CPTKG.productOrService]
        dates = line[CPTKG.servicedDate]
        locations = line[CPTKG.location]
        quantity = line[CPTKG.quantity]
        if len(set(codes)) != 1:
            hit("ItemHasOneCode", item, None)
        if len(set(dates)) != 1:
            hit("ItemHasOneDate", item, None)
        for d in dates:
            if not isinstance(d, Literal) or d.datatype != XSD.date:
                hit("ItemHasOneDate", item, d)
        if len(set(locations)) != 1:
            hit("ItemHasOnePlaceOfService", item, None)
        for loc in locations:
            if not POS_IRI.match(str(loc)):
                hit("ItemHasOnePlaceOfService", item, loc)
        if len(set(quantity)) != 1:
            hit("ItemQuantityPositive", item, None)
        for q in quantity:
            if not (isinstance(q, Literal) and q.datatype == XSD.integer):
                hit("ItemQuantityPositive", item, q)
            value = q.toPython() if isinstance(q, Literal) else None
            if not isinstance(value, int | float) or value < 1:
                hit("ItemQuantityPositive", item, q)
        for seq in line[CPTKG.diagnosisSequence]:
            if seq.toPython() not in dx_by_seq:
                hit("DiagnosisPointerResolves", item, seq)
        for code in codes:
            if not PROCEDURE.match(str(code)):
                hit("ProcedureCodeFormat", item, code)
            if code in facts.addon:
                mine = providers(line)
                ok = False
                for other in items:
                    o = props[other]
                    if other == item or not set(o[CPTKG.productOrService]) - facts.addon:
                        continue
                    if not set(dates) & set(o[CPTKG.servicedDate]):
                        continue
                    theirs = providers(o)
                    if (mine & theirs) or (not mine and not theirs):
                        ok = True
                if not ok:
                    hit("AddOnRequiresPrimary", item, code)
            if facts.primaries.get(code) and not facts.primaries[code] & claim_codes:
                hit("AddOnPrimaryListed", item, code)
            if facts.pos.get(code):
                for loc in locations:
                    if loc not in facts.pos[code]:
                        hit("PlaceOfServiceAllowed", item, loc)
            if facts.specialties.get(code):
                for s in line[CPTKG.careTeamSequence]:
                    for q in team.get(s.toPython(), {}).get(CPTKG.qualification, []):
                        if not facts.up(q) & facts.specialties[code]:
                            hit("SpecialtyTypical", item, q)
            if code in facts.necessity:
                families = {f for i in facts.indications.get(code, ()) for f in facts.evidenced_by.get(i, ())}
                pointed = [c for s in line[CPTKG.diagnosisSequence] for c in dx_by_seq.get(s.toPython(), [])]
                if not any(facts.up(c) & families for c in pointed):
                    hit("DiagnosisSupportsNecessity", item, code)
            for other_code in facts.excluded.get(code, ()):
                for other in items:
                    if other_code in props[other][CPTKG.productOrService] and set(dates) & set(
                            props[other][CPTKG.servicedDate]):
                        hit("ExcludedCodePair", item, other_code)
            tied = {s.toPython() for s in line[CPTKG.informationSequence]}
            for element in facts.documentation.get(code, ()):
                present = any(element in i[CPTKG.category] and (
                    not tied or {s.toPython() for s in i[CPTKG.sequence]} & tied) for i in infos)
                if not present:
                    hit("DocumentationComplete", item, element)
            if code in facts.pump_code and pump_context:
                hit("PumpRemovalCode", item, code)
            if code in facts.once_per_site:
                for q in quantity:
                    units = q.toPython() if isinstance(q, Literal) else 0
                    if isinstance(units, int | float) and units > 1 and len(set(line[CPTKG.bodySite])) < units:
                        hit("UnitsPerSite", item, code)
    for dx, d in dxs.items():
        codes = d[CPTKG.diagnosisCode]
        if len(set(codes)) != 1:
            hit("DiagnosisHasOneCode", dx, None)
        for code in codes:
            text = str(code)[len(str(ICD10CM)):]
            found = facts.icd.get(text)
            if not (str(code).startswith(str(ICD10CM)) and found is not None and found.billable):
                hit("DiagnosisCodeValid", dx, code)
    return out


def main(paths: list[str]) -> None:
    """The hand-written rules as a command, for the throughput benchmark's end-to-end comparison:
    read the claims as cptkg does, check each, print one JSON line of results a claim."""
    import json
    import sys

    from cptkg.claims import read_paths
    from cptkg.kg.graph import KnowledgeGraph

    facts = Facts(KnowledgeGraph.default().inferred)
    out = sys.stdout
    for record in read_paths(paths):
        found = sorted(check(record, facts)) if record.readable else [("Unreadable", record.claim_id, "")]
        out.write(json.dumps({"claim": record.claim_id, "results": found}) + "\n")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
