"""The same named queries on a real Oxigraph server (started here on 127.0.0.1) as embedded, and
`cptkg load` over the Graph Store Protocol."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from cptkg import queries
from tests.conftest import run_cli
from tests.servers import free_port, oxigraph_server

pytestmark = pytest.mark.slow


def count_triples(base: str) -> int:
    body = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).encode()
    request = urllib.request.Request(f"{base}/query", data=body,
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        yield base


@pytest.fixture(scope="module")
def loaded(server: str, kg) -> str:
    # A plain load pushes what the embedded queries read: the inferred graph.
    proc = run_cli("load", "--store", f"{server}/store")
    assert proc.returncode == 0, proc.stderr
    assert f"loaded {len(kg.inferred)} triples" in proc.stderr and "the inferred" in proc.stderr
    assert count_triples(server) == len(kg.inferred)
    return server


def example_params(name: str) -> dict[str, str]:
    return {p.name: p.kind.example if p.kind.name != "string" else "pump"
            for p in queries.library()[name].parameters}


def as_multiset(result: queries.QueryResult) -> Counter:
    return Counter(frozenset((k, v) for k, v in row.items()) for row in result.rows)


@pytest.mark.parametrize("name", sorted(queries.library()))
def test_same_answers_embedded_and_on_oxigraph(loaded: str, name: str) -> None:
    params = example_params(name)
    embedded = queries.run_named(name, params)
    remote = queries.run_named(name, params, endpoint=f"{loaded}/query")
    assert remote.variables == embedded.variables
    assert as_multiset(remote) == as_multiset(embedded)
    if not name.endswith("-violation") and name not in ("acceptable-primaries",):
        assert embedded.rows, f"{name} with {params} should answer something"


def test_cli_query_on_endpoint(loaded: str) -> None:
    proc = run_cli("query", "codes-for-diagnosis", "--param", "icd=T85.690A", "--format", "json",
                   "--endpoint", f"{loaded}/query")
    assert proc.returncode == 0, proc.stderr
    assert "asserted graph" not in proc.stderr  # the inferred graph is there: nothing to say
    bindings = json.loads(proc.stdout)["results"]["bindings"]
    assert {b["notation"]["value"] for b in bindings} == {"20701"}


def test_hostile_parameter_stays_a_value_on_the_store(loaded: str) -> None:
    before = count_triples(loaded)
    hostile = '") } ; DELETE WHERE { ?s ?p ?o } ; SELECT * WHERE { #'
    result = queries.run_named("search-codes", {"text": hostile}, endpoint=f"{loaded}/query")
    assert result.rows == []
    assert count_triples(loaded) == before


def test_reload_replaces_instead_of_duplicating(loaded: str, kg) -> None:
    proc = run_cli("load", "--store", f"{loaded}/store", "--asserted")
    assert proc.returncode == 0, proc.stderr
    assert count_triples(loaded) == len(kg.asserted)
    # Queried there, the store says once that it lacks the closure.
    asked = run_cli("query", "code-classes", "--param", "code=20701", "--endpoint", f"{loaded}/query")
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.count("holds cptkg's asserted graph without its OWL-RL closure") == 1
    proc = run_cli("load", "--store", f"{loaded}/store", "--inferred")
    assert count_triples(loaded) == len(kg.inferred)


def test_load_errors_are_exit_2(tmp_path: Path) -> None:
    for url in ("ftp://example/store", "not a url", f"http://127.0.0.1:{free_port()}/store"):
        proc = run_cli("load", "--store", url)
        assert proc.returncode == 2, url
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = run_cli("load", "--store", "http://127.0.0.1:1/store", "--inferred", "--asserted")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr
    proc = run_cli("query", "addon-codes", "--endpoint", f"http://127.0.0.1:{free_port()}/query")
    assert proc.returncode == 2 and "cannot reach endpoint" in proc.stderr
