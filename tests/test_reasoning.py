"""owlrl's OWL-RL closure: consistent, cached, and entailing what each axiom promises."""

from __future__ import annotations

import os
import time

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from cptkg.kg import reasoning
from cptkg.kg.namespaces import CPT, CPTKG, CPTKGD, ICD10CM, IND, MSPEC, NUCC


def test_closure_is_consistent_and_clean(kg) -> None:
    closure = kg.inferred
    assert reasoning.inconsistencies(closure) == []
    assert len(closure) > len(kg.asserted)
    assert (None, RDF.type, OWL.Thing) not in closure
    assert not any(isinstance(s, Literal) for s in closure.subjects())
    assert not any(s == o for s, p, o in closure.triples((None, OWL.sameAs, None)))
    # Everything asserted is still there.
    assert all(t in closure for t in kg.asserted)


def test_inconsistency_is_detected() -> None:
    # owlrl signals contradictions with triples, not exceptions; compute_closure must raise.
    g = Graph()
    a, b = CPT["x1"], CPTKG.Disjoint1
    g.add((b, OWL.disjointWith, CPTKG.Disjoint2))
    g.add((a, RDF.type, b))
    g.add((a, RDF.type, CPTKG.Disjoint2))
    with pytest.raises(reasoning.InconsistentGraph):
        reasoning.compute_closure(g)


ENTAILMENTS = [
    # owl:inverseOf removalCounterpart / insertionCounterpart
    ("inverse counterpart", (CPT["20701"], CPTKG.insertionCounterpart, CPT["20700"])),
    ("inverse counterpart 2", (CPT["20705"], CPTKG.insertionCounterpart, CPT["20704"])),
    # owl:inverseOf acceptablePrimary / acceptsAddOn
    ("inverse primary", (CPT["11010"], CPTKG.acceptsAddOn, CPT["20700"])),
    # owl:SymmetricProperty notReportedWith
    ("symmetric exclusion", (CPT["11981"], CPTKG.notReportedWith, CPT["20700"])),
    # rdfs:subPropertyOf relatedCode and skos:related
    ("sub-property relatedCode", (CPT["20701"], CPTKG.relatedCode, CPT["20680"])),
    ("sub-property skos:related", (CPT["20701"], SKOS.related, CPT["20700"])),
    ("crosswalk is a SKOS mapping", (MSPEC["20"], SKOS.relatedMatch, NUCC["207X00000X"])),
    # inverse evidencedBy / evidences; memberOfFamily / hasMember
    ("inverse evidences", (ICD10CM["T85.735"], CPTKG.evidences, IND["infection"])),
    # rdfs:subClassOf chain
    ("subclass add-on", (CPT["20701"], RDF.type, CPTKG.ProcedureCode)),
    ("subclass concept", (CPT["20701"], RDF.type, CPTKG.Code)),
    # rdfs:range of acceptablePrimary types the primaries as procedure codes
    ("range typing", (CPT["28122"], RDF.type, CPTKG.ProcedureCode)),
    ("symmetric device link", (CPTKGD["device-intrathecal-catheter"], CPTKG.connectedTo,
                               CPTKGD["device-subfascial-pump"])),
]


@pytest.mark.parametrize(("axiom", "triple"), ENTAILMENTS, ids=[e[0] for e in ENTAILMENTS])
def test_axiom_entailment(kg, axiom: str, triple: tuple) -> None:
    assert triple in kg.inferred, axiom
    if axiom != "subclass concept":
        assert triple not in kg.asserted, f"{axiom} should be inferred, not asserted"


def test_family_membership_inverse(kg) -> None:
    members = set(kg.inferred.objects(CPTKGD["drug-delivery-device-family"], CPTKG.hasMember))
    assert members == {CPT[c] for c in ("20700", "20701", "20702", "20703", "20704", "20705")}


def test_closure_is_cached_and_reused(kg, tmp_path, monkeypatch) -> None:
    from cptkg.kg.graph import KnowledgeGraph

    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CPTKG_CLOSURE", "cache")  # not the shipped closure: the cache path
    calls = []
    real = reasoning.compute_closure
    monkeypatch.setattr(reasoning, "compute_closure", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = KnowledgeGraph()
    started = time.perf_counter()
    n1 = len(first.inferred)
    cold = time.perf_counter() - started
    assert calls == [1]
    cached = list(tmp_path.glob("closure-owlrl-*.nt"))
    assert len(cached) == 1
    second = KnowledgeGraph()
    started = time.perf_counter()
    assert len(second.inferred) == n1
    warm = time.perf_counter() - started
    assert calls == [1], "the second load must read the cache, not reason again"
    print(f"closure cold {cold:.2f}s, warm {warm:.2f}s")


def test_rdfs_profile_is_a_subset(kg, tmp_path, monkeypatch) -> None:
    from cptkg.kg.graph import KnowledgeGraph

    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path))
    rdfs_closure = KnowledgeGraph(profile="rdfs").inferred
    assert (CPT["20701"], RDF.type, CPTKG.Code) in rdfs_closure
    # Inverses are OWL, not RDFS.
    assert (CPT["20701"], CPTKG.insertionCounterpart, CPT["20700"]) not in rdfs_closure
    assert (RDFS.Class, RDF.type, RDFS.Class) not in rdfs_closure


def test_the_shipped_closure_was_built_from_this_ontology() -> None:
    """closure/owlrl.nt.gz ships with cptkg so no user computes it; after an ontology edit,
    `python tools/build_closure.py` rebuilds it (this test says when it is stale)."""
    from cptkg.kg import resources

    shipped = reasoning.read_shipped(resources.folder("closure").joinpath("owlrl.nt.gz"), resources.ontology_digest())
    assert shipped is not None, "closure/owlrl.nt.gz is stale: run python tools/build_closure.py"


@pytest.mark.slow
def test_the_shipped_closure_is_what_owlrl_computes(kg) -> None:
    from cptkg.kg import resources

    recomputed = reasoning.closure_bytes(reasoning.compute_closure(kg.asserted, "owlrl"), resources.ontology_digest())
    shipped = reasoning.read_shipped(resources.folder("closure").joinpath("owlrl.nt.gz"), resources.ontology_digest())
    assert shipped == recomputed


def test_a_first_run_reads_the_shipped_closure_without_owlrl(tmp_path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom cptkg.kg.graph import KnowledgeGraph\n"
            "kg = KnowledgeGraph()\nassert len(kg.inferred) > len(kg.asserted)\n"
            "assert 'owlrl' not in sys.modules\n")
    env = {**os.environ, "CPTKG_CACHE_DIR": str(tmp_path / "empty-cache")}
    env.pop("CPTKG_CLOSURE", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (tmp_path / "empty-cache").exists()  # nothing computed, nothing cached
