"""Rule sets: the built-in claim rules, the rule packs a user adds, and the severities a user sets.

A rule pack is a folder of Turtle files (or one Turtle file) holding SHACL shapes over the claim
vocabulary and, optionally, facts the rules read (added to the graph they run on, as written: no
reasoning). Pack shapes keep the house rules of the built-in ones: an IRI (its local name is the
rule ID), a message, a severity; they may not reuse a built-in rule's IRI or ID, and they run on
the same compiled engine (a shape it cannot translate is refused, naming the feature).

A ``RuleSpec`` is what a run asks for (the packs' text and the severities): small, hashable and
picklable, so Dask workers build the same rule set without reading the user's files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from cptkg.errors import InputError, UnknownRule
from cptkg.kg.namespaces import CPTKGSH
from cptkg.rules.catalog import claim_shapes, rule_id
from cptkg.rules.compiler import shapes_in

log = logging.getLogger(__name__)

SEVERITIES = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}
OFF = "off"
BUILT_IN = "built in"


@dataclass(frozen=True)
class PackSource:
    """One pack as read: its name (the path given) and its Turtle files' text, in name order."""

    name: str
    files: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RuleSpec:
    packs: tuple[PackSource, ...] = ()
    severities: tuple[tuple[str, str], ...] = ()

    @property
    def is_default(self) -> bool:
        return not self.packs and not self.severities


@dataclass
class RuleSet:
    """The shapes a run checks (severities applied, rules set to off deactivated), the facts packs
    add, and where each rule comes from."""

    shapes: Graph
    facts: Graph
    origins: dict[str, str] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)


def read_pack(path: str | Path) -> PackSource:
    """A pack folder (its *.ttl files, recursively) or one Turtle file, read."""
    where = Path(path)
    if where.is_dir():
        files = sorted(p for p in where.rglob("*.ttl") if p.is_file())
        if not files:
            raise InputError(f"rule pack {path}: the folder holds no Turtle (*.ttl) files")
    elif where.is_file():
        files = [where]
    else:
        raise InputError(f"rule pack {path}: no such file or folder")
    texts = []
    for f in files:
        try:
            texts.append((str(f), f.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"rule pack {path}: cannot read {f}: {getattr(err, 'strerror', None) or err}") from None
    return PackSource(str(path), tuple(texts))


def spec(packs: Iterable[str | Path] = (), severities: Mapping[str, str] | None = None) -> RuleSpec:
    return RuleSpec(tuple(read_pack(p) for p in packs), tuple(sorted((severities or {}).items())))


def shape_description(graph: Graph, roots: Iterable[Any], follow: tuple[Any, ...] = ()) -> Graph:
    """The triples of ``roots`` and of every blank node hanging off them (a shape's SPARQL
    constraints, lists), and of the nodes reached through the ``follow`` properties."""
    out = Graph()
    seen: set[Any] = set()
    frontier: list[Any] = list(roots)
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in graph.predicate_objects(node):
            out.add((node, p, o))
            if isinstance(o, BNode) or p in follow:
                frontier.append(o)
    return out


def _shape_part(graph: Graph) -> Graph:
    """The shapes of a pack graph and everything hanging off them (their SPARQL constraints, the
    prefix declarations they name); the rest of the pack is facts."""
    shapes = {s for s in graph.subjects(SH.severity, None)}
    shapes |= set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    return shape_description(graph, shapes, follow=(SH.prefixes, SH.declare))


def rule_messages(shapes: Graph, shape: URIRef) -> list[str]:
    """A rule's messages: the shape's own and its SPARQL constraints'. Not those of a shape it names
    with sh:property: that one is a rule of its own, and pySHACL reports its results under it."""
    return [str(m) for m in shapes.objects(shape, SH.message)] + [
        str(m) for c in shapes.objects(shape, SH.sparql) for m in shapes.objects(c, SH.message)]


def _check_pack_shapes(name: str, shapes: Graph, builtin_ids: set[str]) -> dict[str, URIRef]:
    found: dict[str, URIRef] = {}
    # A property shape a rule names with sh:property is a rule of its own: pySHACL reports its
    # results under it (its severity, its message), so it is held to what every rule needs.
    for shape in sorted(shapes_in(shapes) | set(shapes.objects(None, SH.property)), key=str):
        if not isinstance(shape, URIRef):
            named_by = shapes.value(None, SH.property, shape)
            if named_by is not None:
                raise InputError(f"rule pack {name}: shape {rule_id(named_by)} has a property shape without an IRI "
                                 "(a blank node): pySHACL reports its results under it, so it needs an IRI (its "
                                 "rule ID), a sh:severity and a sh:message of its own")
            raise InputError(f"rule pack {name}: a shape without an IRI (a blank node): every rule needs an IRI, "
                             "its rule ID")
        if str(shape).startswith(str(CPTKGSH)):
            raise InputError(f"rule pack {name}: shape {shape} is in cptkg's own namespace: a pack may not "
                             "redefine a built-in rule; give it an IRI of your own")
        rid = rule_id(shape)
        if rid in builtin_ids:
            raise InputError(f"rule pack {name}: rule ID {rid} ({shape}) is a built-in rule's: name it otherwise")
        if rid in found and found[rid] != shape:
            raise InputError(f"rule pack {name}: rule ID {rid} names two shapes ({found[rid]}, {shape})")
        if shapes.value(shape, SH.severity) is None:
            raise InputError(f"rule pack {name}: shape {rid} has no sh:severity (Violation, Warning or Info)")
        if not rule_messages(shapes, shape):
            raise InputError(f"rule pack {name}: shape {rid} has no sh:message: say what to do when it fires")
        found[rid] = shape
    return found  # none: a pack of facts only (a payer's places for a code, say)


@cache
def build(rules: RuleSpec = RuleSpec()) -> RuleSet:
    """The rule set a spec asks for (built once per process and spec). Whether the compiled engine
    can run the pack shapes is the Validator's to say (pySHACL runs them all)."""
    builtin = claim_shapes()
    builtin_ids = {rule_id(s) for s in builtin.subjects(SH.severity, None) if isinstance(s, URIRef)}
    shapes = Graph()
    for t in builtin:
        shapes.add(t)
    for prefix, namespace in builtin.namespaces():
        shapes.bind(prefix, namespace, override=False)
    facts = Graph()
    origins = {rid: BUILT_IN for rid in builtin_ids}
    for pack in rules.packs:
        graph = Graph()
        for path, text in pack.files:
            try:
                graph.parse(data=text, format="turtle", publicID=Path(path).resolve().as_uri())
            except Exception as err:  # rdflib raises many kinds for bad Turtle
                raise InputError(f"rule pack {pack.name}: {path} is not valid Turtle "
                                 f"({' '.join(str(err).split())[:200]})") from None
        pack_shapes = _shape_part(graph)
        found = _check_pack_shapes(pack.name, pack_shapes, builtin_ids)
        clash = sorted(set(found) & {r for r, o in origins.items() if o != BUILT_IN})
        if clash:
            raise InputError(f"rule pack {pack.name}: rule {clash[0]} is defined by pack {origins[clash[0]]} too")
        for t in pack_shapes:
            shapes.add(t)
        for t in graph:
            if t not in pack_shapes:
                facts.add(t)
        origins.update({rid: pack.name for rid in found})
        log.info("rule pack %s: %d rules, %d facts", pack.name, len(found), len(graph) - len(pack_shapes))
    by_id = {rule_id(s): s for s in shapes.subjects(SH.severity, None) if isinstance(s, URIRef)}
    severities = {rid: str(shapes.value(s, SH.severity)).rsplit("#", 1)[-1] for rid, s in by_id.items()}
    for rid, wanted in rules.severities:
        if rid not in by_id:
            raise UnknownRule(rid, f"unknown rule {rid!r} in the severities (`cptkg rules` lists them)")
        if wanted == OFF:
            shapes.add((by_id[rid], SH.deactivated, Literal(True)))
        elif wanted in SEVERITIES:
            shapes.set((by_id[rid], SH.severity, SEVERITIES[wanted]))
        else:
            raise InputError(f"rule {rid}: severity {wanted!r} is not one of Violation, Warning, Info, off")
        severities[rid] = wanted
    return RuleSet(shapes, facts, dict(sorted(origins.items())), dict(sorted(severities.items())))
