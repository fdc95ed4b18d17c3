"""Exports of the graph: canonical Turtle, N-Triples, JSON-LD (inline context), RDF/XML."""

from __future__ import annotations

import json
from typing import Any

from rdflib import BNode, Graph, Literal

from cptkg.kg.namespaces import PREFIXES, bind_all

RDF_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
ALL_FORMATS = (*RDF_FORMATS, "skos", "fhir")


def canonical_turtle(graph: Graph) -> str:
    """Turtle with cptkg's prefixes, subjects and predicates sorted: the same graph, the same bytes.

    The packaged graph has no blank nodes, so rdflib's sorted serialisation is canonical.
    """
    out = bind_all(Graph())
    for t in graph:
        out.add(t)
    return out.serialize(format="turtle")


def ntriples(graph: Graph) -> str:
    lines = sorted({line for line in graph.serialize(format="nt").splitlines() if line.strip()})
    return "\n".join(lines) + "\n"


def jsonld(graph: Graph) -> str:
    # An inline context of cptkg's prefixes: consumers never fetch a remote context.
    context: dict[str, Any] = {p: str(ns) for p, ns in PREFIXES.items()}
    data = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    nodes = data.get("@graph", [data])
    for node in nodes:
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
    nodes.sort(key=lambda n: n.get("@id", ""))
    return json.dumps({"@context": context, "@graph": nodes}, indent=1, sort_keys=True,
                      ensure_ascii=False) + "\n"


def rdfxml(graph: Graph) -> str:
    """Flat RDF/XML, one rdf:Description per subject, subjects and statements sorted.

    rdflib's RDF/XML serialisers walk subjects in set order, which varies between runs; this
    writer gives the same bytes for the same graph.
    """
    from xml.sax.saxutils import escape, quoteattr

    namespaces = {str(ns): prefix for prefix, ns in PREFIXES.items()}
    extra: dict[str, str] = {}

    def qname(predicate: Any) -> str:
        text = str(predicate)
        cut = max(text.rfind("#"), text.rfind("/")) + 1
        namespace, local = text[:cut], text[cut:]
        if not local or not (local[0].isalpha() or local[0] == "_"):
            raise ValueError(f"cannot write {text} as an RDF/XML element name")
        prefix = namespaces.get(namespace) or extra.setdefault(namespace, f"ns{len(extra) + 1}")
        return f"{prefix}:{local}"

    def node_attr(term: Any, name: str) -> str:
        if isinstance(term, BNode):
            return f"rdf:nodeID={quoteattr('b' + str(term))}"
        return f"rdf:{name}={quoteattr(str(term))}"

    body: list[str] = []
    for subject in sorted(set(graph.subjects()), key=lambda t: t.n3()):
        body.append(f"  <rdf:Description {node_attr(subject, 'about')}>")
        for p, o in sorted(graph.predicate_objects(subject), key=lambda po: (po[0].n3(), po[1].n3())):
            tag = qname(p)
            if isinstance(o, Literal):
                attrs = ""
                if o.language:
                    attrs = f" xml:lang={quoteattr(o.language)}"
                elif o.datatype is not None:
                    attrs = f" rdf:datatype={quoteattr(str(o.datatype))}"
                body.append(f"    <{tag}{attrs}>{escape(str(o))}</{tag}>")
            else:
                body.append(f"    <{tag} {node_attr(o, 'resource')}/>")
        body.append("  </rdf:Description>")
    declared = {**{ns: prefix for ns, prefix in namespaces.items()}, **extra}
    head = ['<?xml version="1.0" encoding="utf-8"?>', "<rdf:RDF"]
    head += [f"  xmlns:{prefix}={quoteattr(ns)}" for ns, prefix in sorted(declared.items(), key=lambda i: i[1])]
    head[-1] += ">"
    return "\n".join(head + body + ["</rdf:RDF>"]) + "\n"


def export(graph: Graph, fmt: str) -> str:
    if fmt == "turtle":
        return canonical_turtle(graph)
    if fmt == "ntriples":
        return ntriples(graph)
    if fmt == "jsonld":
        return jsonld(graph)
    if fmt == "rdfxml":
        return rdfxml(graph)
    raise ValueError(fmt)
