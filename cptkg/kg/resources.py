"""Access to the packaged data folders (ontology/, shapes/, queries/), and the shapes of one
shapes/ folder parsed once.

In a wheel they live in ``cptkg/data/``; in a source checkout (editable install, tests) they are
the top-level folders beside the package. Both are read through importlib.resources-compatible
Traversables so callers never care which.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from rdflib import Graph

from cptkg.kg.namespaces import CPTKGSH

FOLDERS = ("ontology", "shapes", "queries", "icd10cm", "closure")


@cache
def data_root() -> Traversable:
    if packaged():
        return resources.files("cptkg") / "data"
    return Path(__file__).resolve().parent.parent.parent  # cptkg/kg/resources.py -> the checkout


def packaged() -> bool:
    """Whether the data comes from an installed wheel (cptkg/data/), not from a checkout."""
    return (resources.files("cptkg") / "data").is_dir()


def folder(name: str) -> Traversable:
    if name not in FOLDERS:
        raise ValueError(f"unknown data folder {name!r}")
    return data_root() / name


def files(name: str, suffix: str) -> list[Traversable]:
    """All files below data folder ``name`` ending in ``suffix``, sorted by relative path."""

    def walk(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
        found: list[tuple[str, Traversable]] = []
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                found.extend(walk(child, rel + "/"))
            elif child.name.endswith(suffix):
                found.append((rel, child))
        return found

    return [t for _, t in sorted(walk(folder(name), ""), key=lambda pair: pair[0])]


def ontology_files() -> list[Traversable]:
    return files("ontology", ".ttl")


@cache
def ontology_digest() -> str:
    """A digest of every ontology file: the closure cache is reused while it is unchanged."""
    digest = hashlib.sha256()
    for f in ontology_files():
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


@cache
def shapes_in(folder_name: str) -> Graph:
    """Every shapes/<folder_name>/*.ttl file (claims, quality, skos) as one graph, parsed once."""
    graph = Graph()
    for f in files("shapes", ".ttl"):
        parts = str(f).replace("\\", "/").split("/")
        if len(parts) >= 2 and parts[-2] == folder_name:
            graph.parse(data=f.read_text(encoding="utf-8"), format="turtle", publicID=str(CPTKGSH))
    return graph
