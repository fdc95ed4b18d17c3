"""`cptkg rules`: the catalog of the rules a run checks (built in and from rule packs), with the
effective severity, what each rule checks, the graph facts it reads, its source and its PASS/XFAIL
examples; and one rule in full (`cptkg rules show ID`), its shape as Turtle."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDFS, SH

from cptkg.claims.record import CHILDREN, VOCABULARY
from cptkg.errors import InputError
from cptkg.kg import resources
from cptkg.kg.namespaces import CPTKG
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


def facts_read(shapes: Graph, shape: URIRef) -> list[str]:
    """The graph's terms the rule's SPARQL and path read that a claim does not say itself."""
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
    facts = {iri for iri in found if iri not in _CLAIM_TERMS and not iri.startswith(_NOT_FACTS)}
    return sorted(_short(iri, prefixes) for iri in facts)


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


def catalog(spec: RuleSpec) -> list[dict[str, Any]]:
    rules = build(spec)
    shapes = rules.shapes
    out = []
    for rid, origin in rules.origins.items():
        shape = _shape_of(shapes, rid)
        source = [str(s) for s in shapes.objects(shape, DCTERMS.source)]
        out.append({"rule": rid, "iri": str(shape), "severity": rules.severities[rid],
                    "checks": str(shapes.value(shape, RDFS.label) or ""),
                    "reads": facts_read(shapes, shape), "origin": origin,
                    "source": source or (["cptkg"] if origin == BUILT_IN else [origin])})
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
    lines.append(f"({len(rows)} rules; `cptkg rules show ID` explains one)")
    return "\n".join(lines)


def render_rule(data: dict[str, Any]) -> str:
    lines = [f"{data['rule']}  ({data['severity']}, {data['origin']})", f"  {data['checks']}"]
    if data["description"]:
        lines += textwrap.wrap(data["description"], 96, initial_indent="  ", subsequent_indent="  ")
    lines += ["", "Message:"] + [f"  {m}" for m in data["messages"]]
    lines += ["", "Reads from the graph:", "  " + (", ".join(data["reads"]) or "nothing (the claim alone)")]
    lines += ["", "Source: " + ", ".join(data["source"])]
    examples = data["examples"]
    if examples:
        lines += ["", f"Examples ({examples['folder'][0]}):"]
        lines += [f"  XFAIL {name}" for name in examples["xfail"]] + [f"  PASS  {name}" for name in examples["pass"]]
    lines += ["", "Shape:", data["shape"].rstrip()]
    return "\n".join(lines)
