"""Evidence: the graph facts a rule read to reach a result, each with the sources that state it.

Nothing here is written per rule. A rule's plan comes from its compiled SPARQL (the same checks
every engine runs): the triple patterns of the query, split as `cptkg rules` splits what a rule
reads (explain.facts_read): patterns over the claim vocabulary are what the claim says, the others
are graph facts. A result's evidence is then found by walking those fact patterns from the graph
nodes the result's claim names where the rule reads them:

- the line's own values (its code, modifiers, place; for a claim-wide rule its lines' values; for
  a rule on a diagnosis, its code), and for a line the diagnoses it points to (every diagnosis of
  the claim where the rule does not read pointers), each in the ICD-10-CM edition that judges it;
- from there every fact pattern in turn, forward (the code's typical places) or backward to a
  record that names the code (a CMS edit whose column 2 is the code), a path such as
  skos:broader* as its chain; a fact that ends in another part of the claim (the other code of an
  excluded pair, the column 1 code of an edit) only when the claim has it;
- and the facts a rule reads about no part of the claim (the CPT sections that hold primary
  procedures), anchored on the constants the query names.

Who states a fact: its cptkg:SourcedStatements (their dcterms:source and cptkg:quote); a rule
pack's fact, the pack file; a CMS NCCI edit, the imported file (its rationale as the quote); an
ICD-10-CM fact, NCHS and the edition; otherwise the subject's own dcterms:source. Names (notation,
labels) are how a code is written, not evidence, and are left out.

Evidence is worked out after the raw results are mapped (results.by_claim), from the graph, so it
is the same on every engine; a rule's walk from one node is made once per batch, whatever the
number of results that share it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.util import from_n3

from cptkg.claims.record import CHILDREN, VOCABULARY, ClaimRecord
from cptkg.kg.namespaces import CPTKG, ICD10CM, NCCI, SRC
from cptkg.report.model import Evidence, Result
from cptkg.rules.engines.oxigraph import from_ox, to_ox

log = logging.getLogger(__name__)

# What a claim says, and cptkg's own statements about a claim (the editions of its diagnoses): the
# same split as `cptkg rules` makes (explain._CLAIM_TERMS).
CLAIM_PREDICATES = frozenset({*CHILDREN, *(p for props in VOCABULARY.values() for p in props),
                              CPTKG.judgedByEdition, CPTKG.consultedEdition, CPTKG.editionMissing})
CLAIM_CLASSES = frozenset(VOCABULARY)
# How a node is written or called: what a rule reads to word its message, not a fact it decides on.
NAMING = frozenset({SKOS.notation, SKOS.prefLabel, RDFS.label})
_NOT_FACTS = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
              "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/ns/shacl#")
_THIS = "?this"
_VALUE = "?value"
_DIAGNOSIS_GROUP = "pointed"
_NCHS = SRC["nchs-icd10cm"]
_EDITION_BASE = "https://w3id.org/cptkg/icd10cm-edition/"
_PLAN_VERSION = "2"


# ---------------------------------------------------------------- plans (from the compiled SPARQL)

@dataclass(frozen=True)
class Pattern:
    """One triple pattern: each end a variable ("?name") or a term in N3; ``closure`` for p*."""

    s: str
    p: str
    o: str
    closure: bool = False


@dataclass(frozen=True)
class Plan:
    """What a rule reads: its fact patterns, where its walks start, and its claim-bound variables."""

    facts: tuple[Pattern, ...]
    # claim predicate -> variables holding the focus's own values of it (the line's code, ...)
    own: tuple[tuple[str, tuple[str, ...]], ...]
    # variables holding the code of a diagnosis other than the focus (the line's diagnoses)
    diagnoses: tuple[str, ...]
    reads_pointers: bool
    claim_bound: frozenset[str]
    # fact patterns about no part of the claim, anchored on a constant: (anchor variable, patterns)
    rule_wide: tuple[Pattern, ...]
    # claim predicate -> variables holding other lines' values of it (the codes beside the line),
    # of which the rule tests a constant (`?other a cptkg:IntrathecalInfusionCode`)
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def reads_facts(self) -> bool:
        return bool(self.facts)


def _triples(node: Any, out: list[tuple[Any, Any, Any]]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "BGP":
            out.extend(node.triples)
        elif node.name == "TriplesBlock":  # inside EXISTS rdflib keeps the parsed form: flat lists
            for flat in node.triples:
                out.extend(tuple(flat[i:i + 3]) for i in range(0, len(flat) - 2, 3))
        for value in node.values():
            _triples(value, out)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _triples(value, out)


def _text(term: Any) -> str:
    return f"?{term}" if isinstance(term, Variable) else term.n3()


def _expand(s: str, path: Any, o: str, fresh: list[int], out: list[Pattern]) -> None:
    """A property path as plain patterns: a sequence through fresh variables, p* and p+ as
    closures, alternatives each on its own, an inverse swapped (others: not facts we can walk)."""
    if isinstance(path, URIRef):
        out.append(Pattern(s, str(path), o))
    elif isinstance(path, SequencePath):
        previous = s
        for index, step in enumerate(path.args):
            if index == len(path.args) - 1:
                _expand(previous, step, o, fresh, out)
            else:
                fresh[0] += 1
                middle = f"?_path{fresh[0]}"
                _expand(previous, step, middle, fresh, out)
                previous = middle
    elif isinstance(path, MulPath) and isinstance(path.path, URIRef) and path.mod in ("*", "+"):
        out.append(Pattern(s, str(path.path), o, closure=True))
    elif isinstance(path, AlternativePath):
        for step in path.args:
            _expand(s, step, o, fresh, out)
    elif isinstance(path, InvPath):
        _expand(o, path.arg, s, fresh, out)


def _is_claim(pattern: Pattern) -> bool:
    if URIRef(pattern.p) in CLAIM_PREDICATES:
        return True
    return pattern.p == str(RDF.type) and not pattern.o.startswith("?") and from_n3(pattern.o) in CLAIM_CLASSES


def _is_fact(pattern: Pattern) -> bool:
    predicate = URIRef(pattern.p)
    if predicate in CLAIM_PREDICATES or predicate in NAMING:
        return False
    if predicate == RDF.type:
        return not pattern.o.startswith("?") and from_n3(pattern.o) not in CLAIM_CLASSES
    return not pattern.p.startswith(_NOT_FACTS)


def plan_of(query: str) -> Plan:
    """The plan of one compiled query (parsed with rdflib's SPARQL parser)."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    found: list[tuple[Any, Any, Any]] = []
    _triples(translateQuery(parseQuery(query)).algebra, found)
    patterns: list[Pattern] = []
    fresh = [0]
    for s, p, o in found:
        _expand(_text(s), p, _text(o), fresh, patterns)
    patterns = list(dict.fromkeys(patterns))  # the same pattern in several sub-selects: once
    claim = [p for p in patterns if _is_claim(p)]
    facts = [p for p in patterns if _is_fact(p)]
    bound = frozenset(v for p in claim for v in (p.s, p.o) if v.startswith("?"))
    # The focus's own nodes: the focus, and for a rule on a claim its lines.
    own_nodes = {_THIS} | {p.o for p in claim if p.s == _THIS and URIRef(p.p) == CPTKG.item}
    own: dict[str, list[str]] = {}
    others: dict[str, list[str]] = {}
    diagnoses: list[str] = []
    for p in claim:
        if not p.o.startswith("?") or URIRef(p.p) in CHILDREN:
            continue
        if p.s in own_nodes:
            own.setdefault(p.p, [])
            if p.o not in own[p.p]:
                own[p.p].append(p.o)
        elif URIRef(p.p) == CPTKG.diagnosisCode:
            if p.o not in diagnoses:
                diagnoses.append(p.o)
        elif any(f.s == p.o and not f.o.startswith("?") for f in facts):
            others.setdefault(p.p, [])
            if p.o not in others[p.p]:
                others[p.p].append(p.o)
    reads_pointers = any(URIRef(p.p) == CPTKG.diagnosisSequence for p in claim)
    own_vars = {v for vs in own.values() for v in vs}
    return Plan(tuple(facts), tuple((k, tuple(v)) for k, v in sorted(own.items())), tuple(diagnoses),
                reads_pointers, bound, tuple(_rule_wide(facts, bound)),
                tuple((k, tuple(v for v in vs if v not in own_vars)) for k, vs in sorted(others.items())))


def _rule_wide(facts: list[Pattern], bound: frozenset[str]) -> list[Pattern]:
    """The fact patterns connected to no claim-bound variable, where one of them has a constant
    object to start from (`?section cptkg:holdsPrimaryProcedures true`)."""
    components: list[set[str]] = []
    for p in facts:
        names = {v for v in (p.s, p.o) if v.startswith("?")}
        joined = [c for c in components if c & names]
        merged = names.union(*joined) if joined else names
        components = [c for c in components if not (c & names)] + [merged]
    out: list[Pattern] = []
    for component in components:
        if component & bound:
            continue
        members = [p for p in facts if p.s in component or p.o in component]
        if any(p.s.startswith("?") and not p.o.startswith("?") for p in members):
            out.extend(members)
    return out


_PLANS: dict[str, Plan] = {}


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {"facts": [list(vars(p).values()) for p in plan.facts], "own": [[k, list(v)] for k, v in plan.own],
            "diagnoses": list(plan.diagnoses), "pointers": plan.reads_pointers, "bound": sorted(plan.claim_bound),
            "wide": [list(vars(p).values()) for p in plan.rule_wide], "others": [[k, list(v)] for k, v in plan.others]}


def _plan_from_json(data: dict[str, Any]) -> Plan:
    return Plan(tuple(Pattern(*p) for p in data["facts"]), tuple((k, tuple(v)) for k, v in data["own"]),
                tuple(data["diagnoses"]), bool(data["pointers"]), frozenset(data["bound"]),
                tuple(Pattern(*p) for p in data["wide"]), tuple((k, tuple(v)) for k, v in data["others"]))


def cached_plan(query: str) -> Plan:
    """A query's plan from this process's memory, else the cache folder, else parsed (the rdflib
    parser takes tens of milliseconds a query: paid once, not on every run)."""
    key = hashlib.sha256((_PLAN_VERSION + "\0" + query).encode("utf-8")).hexdigest()
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    from cptkg.kg.reasoning import cache_dir

    path = cache_dir() / "evidence-plans" / f"{key}.json"
    try:
        plan = _plan_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        plan = plan_of(query)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(_plan_json(plan)), encoding="utf-8")
            temporary.replace(path)
        except OSError as err:  # a read-only cache costs a parse per process, nothing else
            log.debug("cannot keep the evidence plan in %s: %s", path.parent, err)
    _PLANS[key] = plan
    return plan


def rule_plans(checks: Iterable[Any]) -> dict[str, list[str]]:
    """Each rule's compiled queries (a rule may have several constraints), by rule ID."""
    from cptkg.rules.catalog import rule_id

    out: dict[str, list[str]] = {}
    for check in checks:
        out.setdefault(rule_id(check.shape), []).append(check.query)
    return out


# ---------------------------------------------------------------- the facts and who states them

def _to_ox(term: Any) -> Any:
    """An rdflib term as Oxigraph's (None for a blank node: the graph's are never looked up by it)."""
    return to_ox(term) if isinstance(term, (URIRef, Literal)) else None


class Facts:
    """The facts the rules read, for lookups by subject or object: the packaged graph (its
    Oxigraph store) and what is added beside it (a pack's facts, the ICD-10-CM editions, the
    ICD-10-CM and NCCI facts of each batch's codes)."""

    def __init__(self, kg: Any, packs: Any = None) -> None:
        self._kg = kg
        self.added = Graph()
        self._pack_files: dict[tuple[Any, Any, Any], list[tuple[str, str]]] = {}
        if packs is not None:
            self._read_packs(packs)
        self._objects: dict[tuple[Any, Any], list[Any]] = {}
        self._subjects: dict[tuple[Any, Any], list[Any]] = {}
        self._statements: dict[Any, list[tuple[Any, Any, Any]]] = {}
        self._names: dict[Any, str] = {}
        self._titles: dict[Any, str] = {}

    def _read_packs(self, spec: Any) -> None:
        """Which pack file states each fact a pack adds (a pack's facts are merged when the rule
        set is built; the spec still has each file's text)."""
        from rdflib.namespace import SH

        for pack in spec.packs:
            for path, text in pack.files:
                graph = Graph()
                try:
                    graph.parse(data=text, format="turtle", publicID=Path(path).resolve().as_uri())
                except Exception:  # rdflib raises many kinds; packs.build has refused a bad file already
                    continue
                for triple in graph:
                    if str(triple[1]).startswith(str(SH)) or isinstance(triple[0], BNode):
                        continue
                    self._pack_files.setdefault(triple, []).append((pack.name, path))

    def add(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        for triple in triples:
            self.added.add(triple)
        self._objects.clear()
        self._subjects.clear()

    def _store_pattern(self, s: Any, p: Any, o: Any) -> list[tuple[Any, Any, Any]]:
        if self._kg is None or (s is not None and _to_ox(s) is None) or (o is not None and _to_ox(o) is None):
            return []
        return [(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object))
                for q in self._kg.store.quads_for_pattern(_to_ox(s), _to_ox(p), _to_ox(o))]

    def objects(self, s: Any, p: Any) -> list[Any]:
        key = (s, p)
        if key not in self._objects:
            found = [t[2] for t in self._store_pattern(s, p, None)] + list(self.added.objects(s, p))
            self._objects[key] = sorted(set(found), key=str)
        return self._objects[key]

    def subjects(self, p: Any, o: Any) -> list[Any]:
        key = (p, o)
        if key not in self._subjects:
            found = [t[0] for t in self._store_pattern(None, p, o)] + list(self.added.subjects(p, o))
            self._subjects[key] = sorted(set(found), key=str)
        return self._subjects[key]

    def statements(self, s: Any) -> list[tuple[Any, Any, Any]]:
        """The SourcedStatements about ``s``: (statement, predicate, object)."""
        if s not in self._statements:
            out = []
            for statement in self.subjects(RDF.subject, s):
                if CPTKG.SourcedStatement not in self.objects(statement, RDF.type):
                    continue
                for p in self.objects(statement, RDF.predicate):
                    for o in self.objects(statement, RDF.object):
                        out.append((statement, p, o))
            self._statements[s] = out
        return self._statements[s]

    def name(self, node: Any) -> str:
        """A node as a coder writes it: its notation (a code), a literal's text, else its local name."""
        if isinstance(node, Literal):
            return str(node)
        if node not in self._names:
            notations = self.objects(node, SKOS.notation)
            text = str(node)
            if notations:
                self._names[node] = str(notations[0])
            elif text.startswith(str(NCCI)):
                self._names[node] = text[len(str(NCCI)):]
            else:
                self._names[node] = text.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return self._names[node]

    def title(self, source: Any) -> str:
        if source not in self._titles:
            titles = self.objects(source, DCTERMS.title) or self.objects(source, RDFS.label)
            self._titles[source] = str(titles[0]) if titles else self.name(source)
        return self._titles[source]

    def source_ref(self, source: Any) -> tuple[str, str, str]:
        text = str(source)
        ident = text[len(str(SRC)):] if text.startswith(str(SRC)) else text
        return (ident, self.title(source), text)

    def pack_sources(self, triple: tuple[Any, Any, Any]) -> list[tuple[str, str, str]]:
        return [(path, f"rule pack {name}: {Path(path).name}", Path(path).resolve().as_uri())
                for name, path in self._pack_files.get(triple, [])]


# ---------------------------------------------------------------- walking a plan

# What a fact needs of the claim to count: one of ``nodes`` is the result's value (``value``: the
# pattern ends in ?value, the value the result names) or is on the claim.
Need = tuple[bool, frozenset[Any]]
# A fact counts when every need of one of its ways of being reached is met (no needs: always).
Ways = set[frozenset[Need]]


@dataclass
class _Found:
    """Facts met on a walk, each with the ways it was reached."""

    facts: dict[tuple[Any, Any, Any], Ways] = field(default_factory=dict)

    def add(self, triple: tuple[Any, Any, Any], needs: Iterable[Need] = ()) -> None:
        self.facts.setdefault(triple, set()).add(frozenset(needs))


def _term(text: str) -> Any:
    return from_n3(text)


def walk(plan_facts: Iterable[Pattern], claim_bound: frozenset[str], seeds: dict[str, set[Any]],
         facts: Facts) -> dict[tuple[Any, Any, Any], Ways]:
    """The facts the patterns reach from the seeds (variable -> nodes). A variable is bound by the
    first pattern that reaches it (later patterns between bound variables check the facts between
    their values, as a join would); a claim-bound variable is never bound here: a fact ending in
    one counts only when the claim has its end."""
    known: dict[str, set[Any]] = {v: set(nodes) for v, nodes in seeds.items()}
    found = _Found()
    records: dict[str, set[Any]] = {}
    plan_facts = list(plan_facts)
    pending = list(plan_facts)

    def values(end: str) -> set[Any] | None:
        if not end.startswith("?"):
            return {_term(end)}
        return known.get(end)

    progress = True
    while progress and pending:
        progress = False
        for pattern in list(pending):
            subjects, objects = values(pattern.s), values(pattern.o)
            # A constant object is checked from a bound subject, never walked back from: every
            # subject with `signalsPumpContext true` is not what the rule read about this line.
            if subjects is None and (objects is None or not pattern.o.startswith("?")):
                continue
            pending.remove(pattern)
            progress = True
            predicate = URIRef(pattern.p)
            if subjects is not None:
                reached: set[Any] = set()
                for node in sorted(subjects, key=str):
                    if pattern.closure:
                        chain, frontier = {node}, [node]
                        while frontier:
                            current = frontier.pop()
                            for parent in facts.objects(current, predicate):
                                found.add((current, predicate, parent))
                                if parent not in chain:
                                    chain.add(parent)
                                    frontier.append(parent)
                        reached |= chain
                        continue
                    for target in facts.objects(node, predicate):
                        if objects is not None and target not in objects:
                            continue
                        if pattern.o in claim_bound:
                            found.add((node, predicate, target), [(pattern.o == _VALUE, frozenset({target}))])
                        else:
                            found.add((node, predicate, target))
                            reached.add(target)
                if pattern.o.startswith("?") and objects is None and pattern.o not in claim_bound:
                    known[pattern.o] = reached
            elif pattern.s.startswith("?") and pattern.s not in claim_bound and not pattern.closure:
                # Backward to the records that name the value (a CMS edit naming the code).
                assert objects is not None
                reached = set()
                for target in sorted(objects, key=str):
                    for node in facts.subjects(predicate, target):
                        found.add((node, predicate, target))
                        reached.add(node)
                known[pattern.s] = reached
                records[pattern.s] = reached
    # A record counts only when its ends in the claim are there (the column 1 code of an edit):
    # every fact about it then needs them.
    for variable, nodes in records.items():
        for node in nodes:
            needs: set[Need] = set()
            for pattern in plan_facts:
                if pattern.s == variable and pattern.o in claim_bound:
                    needs.add((pattern.o == _VALUE, frozenset(facts.objects(node, URIRef(pattern.p)))))
            if needs:
                for triple, ways in found.facts.items():
                    if node in (triple[0], triple[2]):
                        found.facts[triple] = {way | needs for way in ways}
    return found.facts


# ---------------------------------------------------------------- per claim, per result

_plain = str.__str__  # an IRI or literal as an exact str, in C: rdflib's own __hash__ runs in Python


@dataclass
class _ClaimIndex:
    """What one claim says that evidence needs: each node's values by claim predicate (keyed by
    plain text, hashed in C), the diagnoses, the lines, and (when a fact needs it) every node the
    claim names."""

    triples: list[tuple[Any, Any, Any]]
    values: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    diagnosis_of_sequence: dict[str, Any] = field(default_factory=dict)
    diagnoses: list[Any] = field(default_factory=list)
    lines: list[Any] = field(default_factory=list)
    _named: set[str] | None = None

    def of(self, node: Any, predicate: Any) -> list[Any]:
        return self.values.get(_plain(node), {}).get(_plain(predicate), [])

    def names(self, nodes: frozenset[str]) -> bool:
        if self._named is None:
            self._named = {_plain(o) for _s, _p, o in self.triples}
        return not self._named.isdisjoint(nodes)


_ITEM, _DIAGNOSIS, _SEQUENCE = _plain(CPTKG.item), _plain(CPTKG.diagnosis), _plain(CPTKG.sequence)


def _index(record: ClaimRecord) -> _ClaimIndex:
    index = _ClaimIndex(record.triples)
    claim = _plain(record.iri) if record.iri is not None else None
    values = index.values
    for s, p, o in record.triples:
        subject, predicate = _plain(s), _plain(p)
        by_predicate = values.get(subject)
        if by_predicate is None:
            by_predicate = values[subject] = {}
        found = by_predicate.get(predicate)
        if found is None:
            by_predicate[predicate] = [o]
        else:
            found.append(o)
        if subject == claim:
            if predicate == _DIAGNOSIS:
                index.diagnoses.append(o)
            elif predicate == _ITEM:
                index.lines.append(o)
    for dx in index.diagnoses:
        for sequence in values.get(_plain(dx), {}).get(_SEQUENCE, []):
            index.diagnosis_of_sequence[str(sequence)] = dx
    return index


class EvidenceFinder:
    """Evidence for the results of one Validator: plans made once, walks once per batch."""

    def __init__(self, checks: Iterable[Any], facts: Facts) -> None:
        self.facts = facts
        self._queries = rule_plans(checks)
        self._plans: dict[str, list[Plan]] = {}
        self._walks: dict[Any, dict[tuple[Any, Any, Any], Ways]] = {}
        self._items: dict[Any, list[tuple[list[Evidence], Ways]]] = {}
        self._unconditional: set[Any] = set()
        self._results: dict[Any, tuple[Evidence, ...]] = {}
        self._descriptions: dict[Any, list[Evidence]] = {}

    def plans(self, rule: str) -> list[Plan]:
        if rule not in self._plans:
            self._plans[rule] = [cached_plan(q) for q in self._queries.get(rule, [])]
        return self._plans[rule]

    def new_batch(self) -> None:
        """Walks are kept for one batch (the next batch may bring facts of new codes)."""
        self._walks.clear()
        self._items.clear()
        self._unconditional.clear()
        self._results.clear()

    def attach(self, records: list[ClaimRecord], results: list[list[Result]]) -> list[list[Result]]:
        """Each result with its evidence (an empty list for a rule that reads no graph facts)."""
        out: list[list[Result]] = []
        for record, found in zip(records, results, strict=True):
            if not found:
                out.append(found)
                continue
            index: _ClaimIndex | None = None
            done = []
            for result in found:
                plans = self.plans(result.rule)
                if not any(plan.reads_facts for plan in plans) or result.focus_term is None:
                    done.append(replace(result, evidence=()))
                    continue
                if index is None:
                    index = _index(record)
                done.append(replace(result, evidence=self._evidence(result, plans, index)))
            out.append(done)
        return out

    def _evidence(self, result: Result, plans: list[Plan], index: _ClaimIndex) -> tuple[Evidence, ...]:
        focus = from_n3(result.focus_term or "")
        value = from_n3(result.value_term) if result.value_term else None
        walks = [(key, plan) for number, plan in enumerate(plans)
                 for key in self._seeds(result.rule, number, plan, focus, index)]
        # Results on the same walks whose facts need nothing of their claim share one tuple.
        memo = (tuple(key for key, _plan in walks), value)
        found = self._results.get(memo)
        if found is not None:
            return found
        items: list[Evidence] = []
        for key, plan in walks:
            items.extend(self._items_for(key, plan, index, value))
        evidence = tuple(dict.fromkeys(items))
        if all(key in self._unconditional for key, _plan in walks):
            self._results[memo] = evidence
        return evidence

    def _seeds(self, rule: str, number: int, plan: Plan, focus: Any, index: _ClaimIndex) -> list[Any]:
        """The walks a result needs: (rule, plan, group, node, editions), in a fixed order."""
        keys: list[Any] = []
        own_nodes = [focus, *index.of(focus, CPTKG.item)]
        for predicate, _variables in plan.own:
            for node in own_nodes:
                for value in index.of(node, predicate):
                    if isinstance(value, URIRef):
                        keys.append((rule, number, predicate, value, self._editions(node, index)))
        if plan.diagnoses:
            if plan.reads_pointers and focus in index.lines:
                pointed = [index.diagnosis_of_sequence.get(str(s))
                           for s in index.of(focus, CPTKG.diagnosisSequence)]
                diagnoses = [d for d in pointed if d is not None]
            else:
                diagnoses = list(index.diagnoses)
            for dx in diagnoses:
                for code in index.of(dx, CPTKG.diagnosisCode):
                    if isinstance(code, URIRef):
                        keys.append((rule, number, _DIAGNOSIS_GROUP, code, self._editions(dx, index)))
        for predicate, _variables in plan.others:
            for line in index.lines:
                if line in own_nodes:
                    continue
                for value in index.of(line, predicate):
                    if isinstance(value, URIRef):
                        keys.append((rule, number, "other " + predicate, value, ()))
        if plan.rule_wide:
            keys.append((rule, number, "rule", None, ()))
        return list(dict.fromkeys(keys))

    @staticmethod
    def _editions(node: Any, index: _ClaimIndex) -> tuple[Any, ...]:
        return tuple(sorted({*index.of(node, CPTKG.judgedByEdition), *index.of(node, CPTKG.consultedEdition)},
                            key=str))

    def _items_for(self, key: Any, plan: Plan, index: _ClaimIndex, value: Any) -> list[Evidence]:
        _rule, _number, group, node, editions = key
        if key not in self._walks:
            if group.startswith("other "):
                # Only what the rule tests of the codes beside the line: its constants.
                variables = dict(plan.others).get(group[len("other "):], ())
                tests = [p for p in plan.facts if p.s in variables and not p.o.startswith("?")]
                self._walks[key] = walk(tests, frozenset(), {v: {node} for v in variables}, self.facts)
            elif group == "rule":
                seeds = {p.s: set(self.facts.subjects(URIRef(p.p), _term(p.o)))
                         for p in plan.rule_wide if p.s.startswith("?") and not p.o.startswith("?")}
                self._walks[key] = walk(plan.rule_wide, plan.claim_bound, seeds, self.facts)
            else:
                variables = (plan.diagnoses if group == _DIAGNOSIS_GROUP
                             else dict(plan.own).get(group, ()))
                self._walks[key] = walk(plan.facts, plan.claim_bound, {v: {node} for v in variables}, self.facts)
        if key not in self._items:
            items: list[tuple[list[Evidence], Ways]] = []
            if group in (_DIAGNOSIS_GROUP, str(CPTKG.diagnosisCode)):  # the diagnosis as NCHS titles it
                items.append((self._title(node, editions), {frozenset()}))
            for triple, ways in sorted(self._walks[key].items(), key=lambda kv: tuple(map(str, kv[0]))):
                # Who states a fact does not change during a run (an ICD-10-CM fact's edition aside).
                said = (triple, editions if str(triple[0]).startswith(str(ICD10CM)) else ())
                if said not in self._descriptions:
                    self._descriptions[said] = self._described(triple, editions)
                items.append((self._descriptions[said], ways))
            self._items[key] = items
            if all(ways == {frozenset()} for _described, ways in items):
                self._unconditional.add(key)
        out: list[Evidence] = []
        for described, ways in self._items[key]:
            if any(all(self._met(need, value, index) for need in way) for way in ways):
                out.extend(described)
        return out

    @staticmethod
    def _met(need: Need, value: Any, index: _ClaimIndex) -> bool:
        is_value, nodes = need
        return value in nodes if is_value else index.names(frozenset(_plain(n) for n in nodes))

    def _title(self, code: Any, editions: tuple[Any, ...]) -> list[Evidence]:
        """A diagnosis's NCHS title in the edition that judges it (the newest consulted)."""
        from cptkg.kg import editions as loaded

        text = str(code)
        if not text.startswith(str(ICD10CM)) or not editions:
            return []
        notation = text[len(str(ICD10CM)):]
        for edition in reversed(editions):
            try:
                facts = loaded.table(str(edition)[len(_EDITION_BASE):]).get(notation)
            except (KeyError, OSError):
                continue
            if facts is not None:
                return [Evidence(notation, "prefLabel", facts.title, None,
                                 self._icd_sources((edition,)), None, code.n3(), str(SKOS.prefLabel),
                                 Literal(facts.title).n3())]
        return []

    def _icd_sources(self, editions: tuple[Any, ...]) -> tuple[tuple[str, str, str], ...]:
        out = [self.facts.source_ref(_NCHS)]
        for edition in editions:
            ident = f"icd10cm-edition-{str(edition)[len(_EDITION_BASE):]}"
            out.append((ident, self.facts.title(edition), str(edition)))
        return tuple(out)

    def _described(self, triple: tuple[Any, Any, Any], editions: tuple[Any, ...]) -> list[Evidence]:
        s, p, o = triple
        facts = self.facts
        base = dict(subject=facts.name(s), property=str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1],
                    value=facts.name(o), subject_term=s.n3(), property_term=str(p), value_term=o.n3())
        stated = [(statement, sp, so) for statement, sp, so in facts.statements(s) if sp == p and so == o]
        if not stated and not isinstance(o, Literal):
            # Inferred (OWL-RL: an inverse or symmetric property): stated the other way round.
            inverses = {*facts.objects(p, OWL.inverseOf), *facts.subjects(OWL.inverseOf, p)}
            if OWL.SymmetricProperty in facts.objects(p, RDF.type):
                inverses.add(p)
            stated = [(statement, sp, so) for statement, sp, so in facts.statements(o) if sp in inverses and so == s]
        if stated:
            out = []
            for statement, _p, _o in sorted(stated, key=lambda t: str(t[0])):
                stated_by = tuple(facts.source_ref(src) for src in facts.objects(statement, DCTERMS.source))
                quotes = facts.objects(statement, CPTKG.quote)
                out.append(Evidence(base["subject"], base["property"], base["value"], str(statement), stated_by,
                                    str(quotes[0]) if quotes else None, base["subject_term"],
                                    base["property_term"], base["value_term"]))
            return out
        sources: tuple[tuple[str, str, str], ...] = tuple(facts.pack_sources(triple))
        quote = None
        if not sources and str(s).startswith(str(NCCI)):
            from cptkg.kg import ncci

            provenance = ncci.provenance(str(s)[len(str(NCCI)):])
            if provenance is not None:
                file, title, quote = provenance
                sources = ((file, title, str(s)),)
        if not sources and str(s).startswith(str(ICD10CM)):
            sources = self._icd_sources(editions)
        if not sources:
            sources = tuple(facts.source_ref(src) for src in facts.objects(s, DCTERMS.source))
        return [Evidence(base["subject"], base["property"], base["value"], None, sources, quote,
                         base["subject_term"], base["property_term"], base["value_term"])]
