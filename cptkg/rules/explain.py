"""`cptkg rules`: the catalog of the rules a run checks (built in and from rule packs), with the
effective severity, what each rule checks, the graph facts it reads, its sources (derived: the
sources of the facts it reads, and the shape's own) and its PASS/XFAIL examples; and one rule in
full (`cptkg rules show ID`), its shape as Turtle."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH

from cptkg.claims.record import CHILDREN, VOCABULARY
from cptkg.errors import InputError
from cptkg.kg import resources
from cptkg.kg.namespaces import CPTKG, SRC
from cptkg.rules.catalog import rule_id
from cptkg.rules.packs import BUILT_IN, RuleSpec, build, rule_messages, shape_description

# What a claim says, and what cptkg states about a claim after reading it: not graph facts.
_CLAIM_TERMS = ({str(p) for props in VOCABULARY.values() for p in props} | {str(p) for p in CHILDREN}
                | {str(c) for c in VOCABULARY} | {str(CPTKG[n]) for n in (
                    "judgedByEdition", "consultedEdition", "editionMissing", "unresolvedReference")})
_NOT_FACTS = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
              "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/ns/shacl#")
_PREFIXED = re.compile(r"(?<![\w<])([A-Za-z][\w-]*):([A-Za-z_][\w-]*)")
_FULL = re.compile(r"<(https?://[^>\s]+)>")


def _shape_of(shapes: Graph, rid: str) -> URIRef:
    for shape in shapes.subjects(SH.severity, None):
        if isinstance(shape, URIRef) and rule_id(shape) == rid:
            return shape
    raise InputError(f"no rule {rid!r} (`cptkg rules` lists them)")


def _prefixes(shapes: Graph, node: Any) -> dict[str, str]:
    out = {p: str(n) for p, n in shapes.namespaces()}
    for constraint in shapes.objects(node, SH.sparql):
        for ontology in shapes.objects(constraint, SH.prefixes):
            for declared in shapes.objects(ontology, SH.declare):
                out[str(shapes.value(declared, SH.prefix))] = str(shapes.value(declared, SH.namespace))
    return out


def _short(iri: str, prefixes: dict[str, str]) -> str:
    for prefix, namespace in sorted(prefixes.items(), key=lambda kv: -len(kv[1])):
        if prefix and iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def terms_read(shapes: Graph, shape: URIRef) -> set[str]:
    """The graph's terms (properties and classes, as full IRIs) the rule's SPARQL and path read
    that a claim does not say itself: the facts a rule rests on."""
    prefixes = _prefixes(shapes, shape)
    found: set[str] = set()
    texts = [str(shapes.value(c, SH.select) or "") for c in shapes.objects(shape, SH.sparql)]
    for text in texts:
        text = re.sub(r"#[^\n]*", "", text)  # comments
        text = re.sub(r'"[^"\n]*"', '""', text)  # strings
        for prefix, local in _PREFIXED.findall(text):
            if prefix in prefixes:
                found.add(prefixes[prefix] + local)
        found.update(_FULL.findall(text))
    path = shapes.value(shape, SH.path)
    if isinstance(path, URIRef):
        found.add(str(path))
    return {iri for iri in found if iri not in _CLAIM_TERMS and not iri.startswith(_NOT_FACTS)}


def facts_read(shapes: Graph, shape: URIRef) -> list[str]:
    """The terms of terms_read, short (cptkg:acceptablePrimary), sorted."""
    prefixes = _prefixes(shapes, shape)
    return sorted(_short(iri, prefixes) for iri in terms_read(shapes, shape))


def sources_of_terms(facts: Graph, terms: Iterable[str]) -> set[URIRef]:
    """The sources of the graph's facts of these terms (a property's triples; a class's typing
    triples): each fact's cptkg:SourcedStatement's dcterms:source, or, for a fact in cptkg's
    vocabulary that no statement reifies (a modifier's or a CPT section's), the dcterms:source of
    the node that states it. A fact with neither (a notation, an imported NCCI edit) adds nothing."""
    reified: dict[tuple[Any, Any, Any], set[URIRef]] = {}
    for statement in facts.subjects(RDF.type, CPTKG.SourcedStatement):
        key = (facts.value(statement, RDF.subject), facts.value(statement, RDF.predicate),
               facts.value(statement, RDF.object))
        reified.setdefault(key, set()).update(
            o for o in facts.objects(statement, DCTERMS.source) if isinstance(o, URIRef))
    out: set[URIRef] = set()
    for term in terms:
        iri = URIRef(term)
        # A class is read through its members' types; a property through its own triples.
        triples = [(s, RDF.type, iri) for s in facts.subjects(RDF.type, iri)] + list(facts.triples((None, iri, None)))
        for triple in triples:
            if triple in reified:
                out |= reified[triple]
            elif term.startswith(str(CPTKG)):
                out.update(o for o in facts.objects(triple[0], DCTERMS.source) if isinstance(o, URIRef))
    return out


def rule_sources(shapes: Graph, shape: URIRef, facts: Graph) -> list[URIRef]:
    """A rule's sources, derived: the sources of the graph facts it reads (terms_read,
    sources_of_terms) and the shape's own dcterms:source, where it has one; sorted."""
    own = {o for o in shapes.objects(shape, DCTERMS.source) if isinstance(o, URIRef)}
    return sorted(own | sources_of_terms(facts, terms_read(shapes, shape)), key=str)


def _source_entry(source: URIRef, facts: Graph) -> dict[str, str]:
    """A source as the catalog names it: its ID (the local name of a cptkg source, else the IRI)
    and its title where the graph has one."""
    text = str(source)
    ident = text[len(str(SRC)):] if text.startswith(str(SRC)) else text
    return {"id": ident, "title": str(facts.value(source, DCTERMS.title) or "")}


def _examples(rid: str, origin: str) -> dict[str, list[str]]:
    """The example claims whose expected results hold the rule (XFAIL), and their PASS partners."""
    if origin == BUILT_IN:
        index = Path(str(resources.data_root())) / "examples" / "expected-results.json"
        # In a checkout the folder as the README names it; from a wheel, where it was installed.
        folder = "examples/claims" if not resources.packaged() else str(index.parent / "claims")
    else:
        base = Path(origin)
        index = (base if base.is_dir() else base.parent) / "expected-results.json"
        folder = str((base if base.is_dir() else base.parent) / "claims")
    if not index.is_file():
        return {}
    expected = json.loads(index.read_text(encoding="utf-8"))
    failing = sorted(name for name, entry in expected.items()
                     if not name.startswith("inputs/") and any(r[0] == rid for r in entry["results"]))
    passing = sorted({name.rsplit("_", 1)[0] + "_PASS" for name in failing} & set(expected))
    return {"folder": [folder], "xfail": failing, "pass": passing}


def _engines(shapes: Graph) -> dict[Any, str]:
    """The shapes the DuckDB engine hands to Oxigraph, each with what its translation to SQL does
    not cover."""
    from cptkg.rules.compiler import UnsupportedShape, compile_shapes
    from cptkg.rules.engines.duckdb import handed_off

    try:
        return handed_off(compile_shapes(shapes))
    except UnsupportedShape:  # a pack only pySHACL runs: validate says so when it is used
        return {}


def _facts(rules: Any) -> Graph:
    """The facts the rules read, with their provenance: the packaged graph (asserted, where the
    SourcedStatements are) and the packs' facts."""
    from cptkg.kg.graph import KnowledgeGraph

    facts = Graph()
    facts += KnowledgeGraph.default().asserted
    facts += rules.facts
    return facts


def catalog(spec: RuleSpec) -> list[dict[str, Any]]:
    rules = build(spec)
    shapes = rules.shapes
    facts = _facts(rules)
    on_oxigraph = _engines(shapes)
    out = []
    for rid, origin in rules.origins.items():
        shape = _shape_of(shapes, rid)
        sources = [_source_entry(s, facts) for s in rule_sources(shapes, shape, facts)]
        # A rule that rests on no sourced fact and cites nothing: a built-in rule is the editors'
        # modelling (the claim's structure, after FHIR); a pack's rule is its pack's.
        if not sources:
            sources = ([_source_entry(SRC["cptkg-editors"], facts)] if origin == BUILT_IN
                       else [{"id": origin, "title": ""}])
        # Which engine runs the rule under --engine duckdb: DuckDB, or Oxigraph for a query the
        # SQL translation does not cover (and why), so a pack author sees what a feature costs.
        engine = {"engine": "oxigraph", "not_on_duckdb": on_oxigraph[shape]} if shape in on_oxigraph else {
            "engine": "duckdb", "not_on_duckdb": None}
        out.append({"rule": rid, "iri": str(shape), "severity": rules.severities[rid],
                    "checks": str(shapes.value(shape, RDFS.label) or ""),
                    "reads": facts_read(shapes, shape), "origin": origin,
                    "source": [s["id"] for s in sources], "sources": sources, **engine})
    return out


def rule(rid: str, spec: RuleSpec) -> dict[str, Any]:
    rules = build(spec)
    shape = _shape_of(rules.shapes, rid)
    entry = next(r for r in catalog(spec) if r["rule"] == rid)
    shapes = rules.shapes
    described = shape_description(shapes, [shape])
    for prefix, namespace in _prefixes(shapes, shape).items():
        described.bind(prefix, namespace, override=True)
    entry.update({"description": str(shapes.value(shape, RDFS.comment) or ""), "messages": rule_messages(shapes, shape),
                  "shape": described.serialize(format="turtle"),
                  "examples": _examples(rid, entry["origin"])})
    return entry


def render_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_catalog(rows: list[dict[str, Any]]) -> str:
    width = max(len(r["rule"]) for r in rows)
    lines = [f"{'rule'.ljust(width)}  {'severity':9}  origin"]
    for r in rows:
        lines.append(f"{r['rule'].ljust(width)}  {r['severity']:9}  {r['origin']}")
        lines.append(f"{''.ljust(width)}  {r['checks']}")
        if r["reads"]:
            lines += textwrap.wrap("reads: " + ", ".join(r["reads"]), 96, initial_indent=" " * (width + 2),
                                   subsequent_indent=" " * (width + 4))
        if r["not_on_duckdb"]:
            lines.append(f"{''.ljust(width)}  runs on Oxigraph: the SQL translation does not cover "
                         f"{r['not_on_duckdb']}")
    lines.append(f"({len(rows)} rules; `cptkg rules show ID` explains one)")
    return "\n".join(lines)


def render_rule(data: dict[str, Any]) -> str:
    lines = [f"{data['rule']}  ({data['severity']}, {data['origin']})", f"  {data['checks']}"]
    if data["description"]:
        lines += textwrap.wrap(data["description"], 96, initial_indent="  ", subsequent_indent="  ")
    lines += ["", "Message:"] + [f"  {m}" for m in data["messages"]]
    lines += ["", "Reads from the graph:", "  " + (", ".join(data["reads"]) or "nothing (the claim alone)")]
    lines += ["", "Sources (of the facts it reads, and its own):"]
    lines += [f"  {s['id']}" + (f"  {s['title']}" if s["title"] else "") for s in data["sources"]]
    engine = "DuckDB (the compiled check as SQL)" if data["engine"] == "duckdb" else (
        f"Oxigraph (the compiled check as SPARQL: the SQL translation does not cover {data['not_on_duckdb']})")
    lines += ["", "With --engine duckdb: " + engine]
    examples = data["examples"]
    if examples and (examples["xfail"] or examples["pass"]):
        lines += ["", f"Examples ({examples['folder'][0]}):"]
        lines += [f"  XFAIL {name}" for name in examples["xfail"]] + [f"  PASS  {name}" for name in examples["pass"]]
    lines += ["", "Shape:", data["shape"].rstrip()]
    return "\n".join(lines)
