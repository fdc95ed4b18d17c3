"""Bad and hostile input: refused or neutralised with one clear line, nothing lost, nothing
fetched. A listener on 127.0.0.1 records every connection; none may arrive."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cptkg import claims
from cptkg.validation import Validator
from tests.conftest import ROOT, run_cli
from tests.servers import Listener
from tests.strategies import any_json_line

GOOD = ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json"


@pytest.fixture()
def listener():
    server = Listener()
    yield server
    server.close()
    assert server.connections == [], f"something reached the network: {server.connections}"


def one_line(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[:300], proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_jsonld_remote_context_is_never_fetched(tmp_path: Path, listener: Listener) -> None:
    doc = {"@context": f"{listener.url}/context.jsonld", "@id": "https://example.org/c",
           "@type": "Claim"}
    for name in ("claim.jsonld", "claim.json"):
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        assert "remote @context" in one_line(run_cli("validate", str(path)))
    nested = {"@context": {"@vocab": "https://w3id.org/cptkg/ontology#"},
              "@graph": [{"@context": [f"{listener.url}/nested"], "@id": "https://example.org/x"}]}
    path = tmp_path / "nested.jsonld"
    path.write_text(json.dumps(nested))
    assert "remote @context" in one_line(run_cli("validate", str(path)))


def test_rdfxml_entities_are_never_expanded(tmp_path: Path, listener: Listener) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for entity in (f'SYSTEM "file://{secret}"', f'SYSTEM "{listener.url}/dtd"'):
        path = tmp_path / "claim.rdf"
        path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY x {entity}> ]>\n'
                        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                        '<rdf:Description rdf:about="https://example.org/c"><rdf:value>&x;</rdf:value>'
                        '</rdf:Description></rdf:RDF>')
        proc = run_cli("validate", str(path), "--format", "json")
        line = one_line(proc)
        assert "DOCTYPE" in line and "TOP-SECRET" not in proc.stdout + proc.stderr


def test_owl_imports_are_never_followed(tmp_path: Path, listener: Listener) -> None:
    text = GOOD.with_suffix(".ttl").read_text() + (
        f"\n<https://example.org/claims/addon-requires-primary_PASS> "
        f"<http://www.w3.org/2002/07/owl#imports> <{listener.url}/ontology.ttl> .\n")
    path = tmp_path / "imports.ttl"
    path.write_text(text)
    proc = run_cli("validate", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["conforms"] is True


def test_service_clause_is_refused(tmp_path: Path, listener: Listener) -> None:
    query = tmp_path / "service.rq"
    query.write_text(f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}")
    assert "SERVICE" in one_line(run_cli("query", "--file", str(query)))
    sneaky = tmp_path / "sneaky.rq"
    sneaky.write_text(f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ sErViCe SILENT <{listener.url}/> {{ ?s ?p ?x }} }} }}")
    assert "SERVICE" in one_line(run_cli("query", "--file", str(sneaky)))


def test_update_posing_as_query_is_refused(tmp_path: Path, listener: Listener) -> None:
    for text in ("DROP ALL", "INSERT DATA { <a:b> <a:c> <a:d> }",
                 f"LOAD <{listener.url}/data.ttl>", "DELETE WHERE { ?s ?p ?o }"):
        path = tmp_path / "update.rq"
        path.write_text(text)
        assert "update" in one_line(run_cli("query", "--file", str(path)))


@pytest.mark.parametrize("name", ["../../../etc/passwd", "/etc/passwd", "related-codes/../x",
                                  "related-codes.rq", "RELATED-CODES", "a b"])
def test_query_names_cannot_escape(name: str) -> None:
    assert "no named query" in one_line(run_cli("query", name))


@pytest.mark.parametrize("value", [
    "20701> } ; DROP ALL ; #", "20701\" }", "<file:///etc/passwd>", "20701 UNION { ?s ?p ?o }",
    "../../etc/passwd", "207 01", "2" * 10000,
])
def test_hostile_parameter_values_are_refused(value: str) -> None:
    assert "not a cpt code" in one_line(run_cli("query", "related-codes", "--param", f"code={value}"))


def test_string_parameter_stays_a_value() -> None:
    from cptkg import queries

    for text in ('") } DELETE WHERE { ?s ?p ?o } #', "' } ; DROP ALL #", "\\\" }", "${x}"):
        assert queries.run_named("search-codes", {"text": text}).rows == []
    assert queries.run_named("addon-codes").rows  # the graph is intact


def test_deeply_nested_and_huge_json(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "nested deeper" in one_line(run_cli("validate", str(deep)))
    wide = tmp_path / "wide.json"
    claim = json.loads(GOOD.read_text())
    claim["item"] = [dict(claim["item"][0], sequence=i) for i in range(1, 3001)]
    wide.write_text(json.dumps(claim))
    proc = run_cli("validate", str(wide), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert len(json.loads(proc.stdout)["claims"]) == 1


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "claims.ttl"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "binary" in one_line(run_cli("validate", str(binary))) or "UTF-8" in one_line(
        run_cli("validate", str(binary)))
    latin = tmp_path / "claims.json"
    latin.write_bytes('{"resourceType": "Claim", "id": "caf\xe9"}'.encode("latin-1"))
    assert "UTF-8" in one_line(run_cli("validate", str(latin)))
    ndjson = tmp_path / "mixed.ndjson"
    ndjson.write_bytes(GOOD.read_bytes().replace(b"\n", b" ") + b"\n\xff\xfe\n")
    proc = run_cli("validate", str(ndjson), "--format", "json")
    claims_out = json.loads(proc.stdout)["claims"]
    assert [c["conforms"] for c in claims_out] == [True, False]
    assert "UTF-8" in claims_out[1]["results"][0]["message"]


def test_directories_and_missing_files(tmp_path: Path) -> None:
    assert "no such file" in one_line(run_cli("validate", str(tmp_path / "missing.json")))
    assert "no claim files" in one_line(run_cli("validate", str(tmp_path)))
    assert "cannot read" in one_line(run_cli("query", "--file", str(tmp_path)))
    assert "cannot read" in one_line(run_cli("query", "--file", str(tmp_path / "missing.rq")))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text(GOOD.read_text())
    path.chmod(0)
    assert "cannot read" in one_line(run_cli("validate", str(path)))


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("not turtle at all")
    proc = run_cli("--debug", "validate", str(bad))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


# ---------------------------------------------------------------- fuzzing

@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(any_json_line(), min_size=1, max_size=8))
def test_fuzz_every_line_reported_exactly_once(tmp_path: Path, validator: Validator, lines: list[str]) -> None:
    path = tmp_path / "fuzz.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = [r for r, _ in validator.validate(claims.read_paths([path]))]
    # A line is one claim, or (a Bundle) several; every non-blank line yields at least one report,
    # and reports come in line order.
    origins = [int(r.origin.rsplit(":", 1)[1].split("#")[0]) for r in reports]
    assert origins == sorted(origins)
    assert set(origins) == {n for n, line in enumerate(lines, 1) if line.strip()}
    for report in reports:
        for result in report.results:
            assert result.rule and result.severity in ("Violation", "Warning") and result.message


def test_fuzz_findings_stay_fixed(tmp_path: Path, validator: Validator) -> None:
    """Inputs the long fuzz run (benchmarks/fuzz.py) once crashed on: now Unreadable, not errors."""
    claim = json.loads(GOOD.read_text())
    cases = []
    for field in ("diagnosisSequence", "careTeamSequence", "informationSequence"):
        broken = json.loads(json.dumps(claim))
        broken["item"][0][field] = [None]
        cases.append(broken)
    nan = json.loads(json.dumps(claim))
    nan["item"][0]["quantity"] = {"value": "NaN"}
    cases.append(nan)
    path = tmp_path / "found.ndjson"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    reports = [r for r, _ in validator.validate(claims.read_paths([path]))]
    assert len(reports) == len(cases)
    for report in reports[:3]:
        assert report.results[0].rule == "Unreadable" and "empty entry" in report.results[0].message
