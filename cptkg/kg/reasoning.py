"""The OWL-RL closure of the packaged graph: computed once with owlrl, cleaned, cached on disk.

owlrl is pure-Python forward chaining (seconds for this graph), so the closure is never computed
per command: it is written as N-Triples to the cache directory, keyed by a digest of the ontology
files and the cptkg version, and read back by every later run. The file carries the digest of its own
lines and of the ontology it was built from, checked on every load: a damaged cache is recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from cptkg._version import __version__

log = logging.getLogger(__name__)

OWLRL_ERROR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"
HEADER = "# cptkg closure"
OUR_NAMESPACE = "https://w3id.org/cptkg/"
# Vocabulary that owlrl's axiomatic triples are about; statements about these terms are noise.
_BUILTIN_PREFIXES = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")


class InconsistentGraph(RuntimeError):
    """owlrl found a contradiction in the graph."""


def cache_dir() -> Path:
    """$CPTKG_CACHE_DIR, else cache/ in the user's data folder (one place for what cptkg keeps)."""
    from cptkg.kg import userdata

    explicit = os.environ.get("CPTKG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return userdata.folder("cache")


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


def _header(body: bytes, ontology_digest: str) -> bytes:
    return f"{HEADER} sha256={hashlib.sha256(body).hexdigest()} ontology={ontology_digest}\n".encode()


def closure_bytes(closure: Graph, ontology_digest: str) -> bytes:
    """The closure as the cache holds it: sorted N-Triples (byte-stable, fast for pyoxigraph and
    rdflib to read back) under a comment line with the digest of the lines and of the ontology."""
    lines = sorted(line for line in closure.serialize(format="nt").splitlines() if line.strip())
    body = ("\n".join(lines) + "\n").encode("utf-8")
    return _header(body, ontology_digest) + body


def read_verified(path: Path, ontology_digest: str) -> bytes | None:
    """The cached closure if it is intact and built from this ontology, else None (with one line on
    stderr saying why: an empty, truncated or edited cache would silently change verdicts)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        log.warning("cannot read the closure cache %s (%s); recomputing it", path, err.strerror)
        return None
    head, _, body = data.partition(b"\n")
    if head + b"\n" != _header(body, ontology_digest):
        log.warning("the closure cache %s does not match its digest (damaged or edited); recomputing it", path)
        return None
    return data


def read_shipped(path: Any, ontology_digest: str) -> bytes | None:
    """The closure shipped in the package if it was built from this ontology (its digest line says
    which), else None: an edited ontology in a checkout gets its closure computed and cached."""
    import gzip

    try:
        data = gzip.decompress(path.read_bytes())
    except (FileNotFoundError, OSError, EOFError):
        return None
    head, _, body = data.partition(b"\n")
    if head + b"\n" != _header(body, ontology_digest):
        log.info("the shipped closure was built from another ontology (run tools/build_closure.py); "
                 "computing it instead")
        return None
    return data


def write_closure_cache(data: bytes, digest: str, profile: str) -> Path | None:
    """Write the cache atomically: a temporary file, fsync, rename; nothing left behind on failure."""
    target = closure_cache_path(digest, profile)
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        tmp = None
        return target
    except OSError as err:
        log.warning("cannot write the closure cache to %s (%s); it will be recomputed", target, err.strerror or err)
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
