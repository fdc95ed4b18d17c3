"""The packaged knowledge graph: asserted triples, the cached OWL-RL closure, query engines."""

from __future__ import annotations

import logging
import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from rdflib import Graph

from cptkg.kg import reasoning, resources
from cptkg.kg.namespaces import bind_all

if TYPE_CHECKING:
    import pyoxigraph

log = logging.getLogger(__name__)

PROFILES = ("owlrl", "rdfs")


class KnowledgeGraph:
    """The graph of 20701 and its related codes, loaded from the packaged ontology/ files.

    ``asserted`` is what the files say; ``inferred`` adds what the OWL-RL axioms entail (computed
    once and cached on disk). ``store`` is the inferred graph in an Oxigraph in-memory store, the
    engine for named queries and the ``show`` card (tens of times faster than rdflib's SPARQL).
    """

    _default: KnowledgeGraph | None = None
    _lock = threading.Lock()

    def __init__(self, profile: str = "owlrl") -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}")
        self.profile = profile

    @classmethod
    def default(cls) -> KnowledgeGraph:
        with cls._lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @cached_property
    def asserted(self) -> Graph:
        graph = bind_all(Graph())
        for f in resources.ontology_files():
            graph.parse(data=f.read_text(encoding="utf-8"), format="turtle", publicID=str(f))
        return graph

    @cached_property
    def closure(self) -> bytes:
        """The closure as verified N-Triples: the one shipped with cptkg (closure/, built by
        tools/build_closure.py) when it was built from this ontology, else the cache when it is
        intact, else computed with owlrl (seconds) and cached for the next run."""
        digest = resources.ontology_digest()
        # CPTKG_CLOSURE=cache skips the shipped closure (to check it, or the cache, end to end).
        if os.environ.get("CPTKG_CLOSURE", "shipped") != "cache":
            shipped = reasoning.read_shipped(resources.folder("closure").joinpath(f"{self.profile}.nt.gz"), digest)
            if shipped is not None:
                return shipped
        path = reasoning.closure_cache_path(digest, self.profile)
        data = reasoning.read_verified(path, digest)
        if data is not None:
            return data
        log.info("computing the %s closure of the packaged graph (cached afterwards)", self.profile)
        closure = reasoning.compute_closure(self.asserted, self.profile)
        # Keep the closure just computed as `inferred` (cached_property reads __dict__ first), so
        # a first run does not parse back what it has just serialised.
        self.__dict__["inferred"] = bind_all(closure)
        data = reasoning.closure_bytes(closure, digest)
        reasoning.write_closure_cache(data, digest, self.profile)
        return data

    @cached_property
    def inferred(self) -> Graph:
        data = self.closure
        if "inferred" in self.__dict__:  # the closure was just computed
            return self.__dict__["inferred"]
        graph = bind_all(Graph())
        graph.parse(data=data, format="nt")
        return graph

    @cached_property
    def store(self) -> pyoxigraph.Store:
        return self._oxigraph_store(inferred=True)

    @cached_property
    def asserted_store(self) -> pyoxigraph.Store:
        return self._oxigraph_store(inferred=False)

    def _oxigraph_store(self, inferred: bool) -> pyoxigraph.Store:
        import pyoxigraph

        store = pyoxigraph.Store()
        data = self.closure if inferred else self.asserted.serialize(format="nt", encoding="utf-8")
        store.bulk_load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return store

    def graph(self, inferred: bool = False) -> Graph:
        return self.inferred if inferred else self.asserted
