"""The OWL-RL closure of the packaged graph: computed once with owlrl, cleaned, cached on disk.

owlrl is pure-Python forward chaining (seconds for this graph), so the closure is never computed
per command: it is written as N-Triples to the cache directory, keyed by a digest of the ontology
files and the owlrl version, and read back by every later run.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from cptkg import __version__

log = logging.getLogger(__name__)

OWLRL_ERROR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"
OUR_NAMESPACE = "https://w3id.org/cptkg/"
# Vocabulary that owlrl's axiomatic triples are about; statements about these terms are noise.
_BUILTIN_PREFIXES = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")


class InconsistentGraph(RuntimeError):
    """owlrl found a contradiction in the graph."""


def cache_dir() -> Path:
    explicit = os.environ.get("CPTKG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cptkg"


def inconsistencies(graph: Graph) -> list[tuple[object, object, object]]:
    """owlrl reports a contradiction by adding triples in its error namespace, not by raising."""
    return [
        t
        for t in graph
        if any(str(term).startswith(OWLRL_ERROR_NS) for term in t if isinstance(term, URIRef))
    ]


def _is_noise(s: object, p: object, o: object) -> bool:
    if isinstance(s, Literal | BNode):
        return True
    if not str(s).startswith(OUR_NAMESPACE):
        return True  # axiomatic triples about rdf/rdfs/owl/xsd/skos terms
    if p == RDF.type and o in (OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class):
        return True
    if p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass,
             OWL.equivalentProperty) and s == o:
        return True
    if p == RDFS.subClassOf and o in (OWL.Thing, RDFS.Resource):
        return True
    if p in (RDFS.domain, RDFS.range):
        return True  # restatements of a super-property's domain or range; asserted ones are kept
    return isinstance(o, URIRef) and str(o).startswith(_BUILTIN_PREFIXES) and p != RDF.type and (
        p not in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf)
    )


def compute_closure(asserted: Graph, profile: str = "owlrl") -> Graph:
    """The asserted graph plus what OWL-RL (or RDFS) entails, without owlrl's noise."""
    import owlrl  # heavy; only here

    semantics = {"owlrl": owlrl.OWLRL_Semantics, "rdfs": owlrl.RDFS_Semantics}[profile]
    work = Graph()
    for t in asserted:
        work.add(t)
    owlrl.DeductiveClosure(semantics, axiomatic_triples=False, datatype_axioms=False).expand(work)
    bad = inconsistencies(work)
    if bad:
        raise InconsistentGraph(f"owlrl found {len(bad)} inconsistency triples, e.g. {bad[0]}")
    closure = Graph()
    for s, p, o in work:
        if (s, p, o) in asserted or not _is_noise(s, p, o):
            closure.add((s, p, o))
    return closure


def closure_cache_path(digest: str, profile: str) -> Path:
    return cache_dir() / f"closure-{profile}-{__version__}-{digest[:16]}.nt"


def write_closure_cache(closure: Graph, digest: str, profile: str) -> Path | None:
    target = closure_cache_path(digest, profile)
    target_dir = target.parent
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            # Sorted N-Triples: byte-stable, and fast for pyoxigraph and rdflib to read back.
            lines = sorted(
                line for line in closure.serialize(format="nt").splitlines() if line.strip()
            )
            out.write(("\n".join(lines) + "\n").encode("utf-8"))
        os.replace(tmp, target)
        return target
    except OSError as err:
        log.warning("cannot write the closure cache to %s (%s); it will be recomputed", target, err)
        return None
