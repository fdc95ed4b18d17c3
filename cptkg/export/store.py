"""Pushing the graph into a SPARQL 1.1 store over the Graph Store Protocol.

The graph goes as N-Triples in a few large requests (PUT replaces the target graph, then POSTs
append), never triple by triple.
"""

from __future__ import annotations

import logging
import urllib.parse

from cptkg import bounded_http
from cptkg.errors import InputError

log = logging.getLogger(__name__)

CHUNK_LINES = 20_000


def target_url(store_url: str, graph_iri: str | None) -> str:
    parts = urllib.parse.urlsplit(store_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"--store must be an http(s) Graph Store Protocol URL, not {store_url!r}")
    if graph_iri:
        if not urllib.parse.urlsplit(graph_iri).scheme:
            raise InputError(f"--graph must be an absolute IRI, not {graph_iri!r}")
        query = urllib.parse.urlencode({"graph": graph_iri})
    elif parts.query:
        return store_url
    else:
        query = "default"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _send(method: str, url: str, body: bytes, timeout: float) -> None:
    bounded_http.request(url, data=body, method=method, headers={"Content-Type": "application/n-triples"},
                         what="store", deadline=timeout, max_bytes=1 << 20)


def load(store_url: str, *, inferred: bool = True, graph_iri: str | None = None,
         timeout: float = 120.0) -> int:
    """Replace the target graph of the store with cptkg's graph; the number of triples sent.

    The inferred graph by default: the named queries read it embedded, so they give the same rows
    on the store only when it holds the same triples."""
    from cptkg.export.rdf import ntriples
    from cptkg.kg.graph import KnowledgeGraph

    url = target_url(store_url, graph_iri)
    lines = ntriples(KnowledgeGraph.default().graph(inferred=inferred)).splitlines()
    for start in range(0, max(len(lines), 1), CHUNK_LINES):
        chunk = "\n".join(lines[start:start + CHUNK_LINES]) + "\n"
        _send("PUT" if start == 0 else "POST", url, chunk.encode("utf-8"), timeout)
        log.info("sent %d of %d triples", min(start + CHUNK_LINES, len(lines)), len(lines))
    return len(lines)
