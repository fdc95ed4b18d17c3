"""Bad and hostile input: refused or neutralised with one clear line, nothing lost, nothing
fetched. A listener on 127.0.0.1 records every connection; none may arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cptkg import claims
from cptkg.rules.validator import Validator
from tests.conftest import ROOT, run_cli, shared_scope
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
    # An ontology statement on a claim is not claim data: the claim is refused, and nothing fetched.
    assert "not claim data" in one_line(run_cli("validate", str(path), "--format", "json"))


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


def test_a_claim_of_3000_lines_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    """1,500 primary lines and 1,500 lines of 20701 on one date: every 20701 line is told it has
    1,500 units on 0 sites, and the run stays under 500 MiB (it took 4.7 GB when rules paired the
    claim's lines)."""
    wide = tmp_path / "wide.json"
    claim = json.loads(GOOD.read_text())
    primary, addon = claim["item"][0], claim["item"][1]
    claim["item"] = [dict(line, sequence=i) for i, line in enumerate([primary] * 1500 + [addon] * 1500, 1)]
    wide.write_text(json.dumps(claim))
    # A fresh parent process, so the peak is the validate child's alone.
    probe = ("import resource, subprocess, sys; "
             "done = subprocess.run([sys.executable, '-m', 'cptkg', 'validate', sys.argv[1], '--format', 'json'], "
             "capture_output=True, text=True); sys.stdout.write(done.stdout); "
             "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))")
    proc = subprocess.run([sys.executable, "-c", probe, str(wide)], capture_output=True, text=True, timeout=600)
    claims = json.loads(proc.stdout)["claims"]
    assert len(claims) == 1
    rules = [r["rule"] for r in claims[0]["results"]]
    assert rules == ["UnitsPerSite"] * 1500
    assert claims[0]["results"][0]["line"] == "1501" and claims[0]["results"][-1]["line"] == "3000"
    peak_mib = int(proc.stderr.strip().splitlines()[-1]) / 1024
    assert peak_mib < 500, f"{peak_mib:.0f} MiB"


def test_a_claim_over_the_line_limit_is_unreadable_and_the_rest_are_judged(tmp_path: Path) -> None:
    from cptkg.claims.fhir import MAX_CLAIM_LINES

    claim = json.loads(GOOD.read_text())
    huge = dict(claim, id="huge", item=[dict(claim["item"][0], sequence=i) for i in range(1, MAX_CLAIM_LINES + 2)])
    # Details count too: 1 item with the rest as its details is over the limit the same way.
    code = claim["item"][0]["productOrService"]
    details = [{"sequence": i, "productOrService": code} for i in range(1, MAX_CLAIM_LINES + 1)]
    nested = dict(claim, id="nested", item=[dict(claim["item"][0], sequence=1, detail=details)])
    many = tmp_path / "many.ndjson"
    many.write_text("\n".join(json.dumps(c) for c in (huge, claim, nested)) + "\n")
    proc = run_cli("validate", str(many), "--format", "json")
    claims = json.loads(proc.stdout)["claims"]
    assert [c["verdict"] for c in claims] == ["unreadable", "conforms", "unreadable"]
    assert f"has {MAX_CLAIM_LINES + 1:,} lines" in claims[0]["results"][0]["message"]
    assert f"at most {MAX_CLAIM_LINES:,}" in claims[2]["results"][0]["message"]


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

@pytest.fixture(scope=shared_scope)
def validator() -> Validator:
    return Validator()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(any_json_line(), min_size=1, max_size=8))
def test_fuzz_every_line_reported_exactly_once(tmp_path: Path, validator: Validator, lines: list[str]) -> None:
    path = tmp_path / "fuzz.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = [r for r in validator.validate(claims.read_paths([path]))]
    # A line is one claim, or (a Bundle) several; every non-blank line yields at least one report,
    # and reports come in line order.
    origins = [int(r.where.split(",")[0].removeprefix("line ")) for r in reports]
    assert origins == sorted(origins)
    assert set(origins) == {n for n, line in enumerate(lines, 1) if line.strip()}
    for report in reports:
        for result in report.results:
            assert result.rule and result.severity in ("Violation", "Warning", "Info") and result.message


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
    reports = [r for r in validator.validate(claims.read_paths([path]))]
    assert len(reports) == len(cases)
    for report in reports[:3]:
        assert report.results[0].rule == "Unreadable" and "empty entry" in report.results[0].message


# ---------------------------------------------------------------- a claim cannot change its own verdict

EXAMPLES = ROOT / "examples" / "claims"
BAD_TTL = EXAMPLES / "addon-modifier-51_XFAIL.ttl"  # modifier 51 on add-on 20701: one Violation
EX = "@prefix ex: <https://example.org/claims/> ."


def _reports(validator: Validator, *paths: Path) -> list:
    return list(validator.validate(claims.read_paths(list(paths))))


def _rules(report) -> list[str]:
    return [r.rule for r in report.results]


def test_claims_in_our_namespace_are_unreadable_not_dropped(tmp_path: Path, validator: Validator) -> None:
    ours = tmp_path / "ours.ttl"
    ours.write_text(BAD_TTL.read_text().replace(EX, "@prefix ex: <https://w3id.org/cptkg/claims/> ."))
    based = tmp_path / "based.ttl"
    based.write_text(BAD_TTL.read_text().replace(EX, "@base <https://w3id.org/cptkg/> .\n@prefix ex: <claims/> ."))
    from rdflib import Graph

    expanded = json.loads(Graph().parse(BAD_TTL).serialize(format="json-ld"))
    text = json.dumps(expanded).replace("https://example.org/claims/", "claims/")
    jsonld = tmp_path / "based.jsonld"
    jsonld.write_text(json.dumps({"@context": {"@base": "https://w3id.org/cptkg/"}, "@graph": json.loads(text)}))
    for path in (ours, based, jsonld):
        (report,) = _reports(validator, path)
        assert _rules(report) == ["Unreadable"] and not report.conforms, path.name
        assert "cptkg's namespace" in report.results[0].message
    assert "cptkg's namespace" in one_line(run_cli("validate", str(based)))


def test_claims_cannot_define_codes_or_classes(tmp_path: Path, validator: Validator) -> None:
    source = EXAMPLES / "diagnosis-code-valid_XFAIL.ttl"  # T84.7 is a category, not billable
    (expected,) = _reports(validator, source)
    assert "DiagnosisCodeValid" in _rules(expected)
    # Facts about codes and class axioms in the file never reach the rules: the same results.
    extra = tmp_path / "extra.ttl"
    extra.write_text(source.read_text() + (
        "\n<https://w3id.org/cptkg/icd10cm/T84.7> a cptkg:BillableICD10CMCode ;\n"
        "    <http://www.w3.org/2004/02/skos/core#broader> <https://w3id.org/cptkg/icd10cm/T84.5> .\n"
        "<http://www.w3.org/2004/02/skos/core#Concept> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
        "cptkg:ClaimItem .\n"
        "cpt:20701 cptkg:typicalPlaceOfService pos:11 .\n"))
    (report,) = _reports(validator, extra)
    assert [(r.rule, r.focus, r.message) for r in report.results] == [
        (r.rule, r.focus, r.message) for r in expected.results]
    # Statements on the claim's own nodes that would change what the rules read: refused.
    for attack in ("ex:diagnosis-code-valid_XFAIL-dx-2 a cptkg:BillableICD10CMCode .",
                   "ex:diagnosis-code-valid_XFAIL-dx-2 <http://www.w3.org/2004/02/skos/core#broader> "
                   "<https://w3id.org/cptkg/icd10cm/T84.5> .",
                   "ex:diagnosis-code-valid_XFAIL-item-1 cptkg:typicalPlaceOfService pos:11 .",
                   "ex:diagnosis-code-valid_XFAIL a <http://www.w3.org/2002/07/owl#Class> ."):
        path = tmp_path / "attack.ttl"
        path.write_text(source.read_text() + "\n" + attack + "\n")
        (report,) = _reports(validator, path)
        assert _rules(report) == ["Unreadable"], attack
        assert "not claim data" in report.results[0].message


def test_violations_cannot_be_moved_to_a_decoy(tmp_path: Path, validator: Validator) -> None:
    decoy = "\nex:decoy a cptkg:Claim ; cptkg:item ex:addon-modifier-51_XFAIL-item-2 .\n"
    same_file = tmp_path / "decoy.ttl"
    same_file.write_text(BAD_TTL.read_text() + decoy)
    reports = _reports(validator, same_file)
    assert [r.claim.rsplit("/", 1)[-1] for r in reports] == ["addon-modifier-51_XFAIL", "decoy"]
    for report in reports:
        assert _rules(report) == ["Unreadable"] and "listed by another claim" in report.results[0].message
    # Across files whose paths share the text before a colon: each file is judged alone.
    (tmp_path / "x:1").mkdir()
    (tmp_path / "x:2").mkdir()
    (tmp_path / "x:1" / "bad.ttl").write_text(BAD_TTL.read_text())
    (tmp_path / "x:2" / "decoy.ttl").write_text(BAD_TTL.read_text().split("\n\n")[0] + decoy)
    bad, other = _reports(validator, tmp_path / "x:1", tmp_path / "x:2")
    assert not bad.conforms and "AddOnModifier51" in _rules(bad)
    assert "AddOnModifier51" not in _rules(other)


@pytest.mark.parametrize("text", [
    'SELECT * WHERE {{ ?s ?p "\\u0022 }} SERVICE <{url}/a> {{ ?s ?p ?o }} {{ \\u0022" }}',
    'SELECT * WHERE {{ ?s ?p ?o . \\u0053ERVICE <{url}/b> {{ ?s ?p ?x }} }}',
    'SELECT * WHERE {{ ?s ?p ?o }} # "\nSELECT * WHERE {{ SERVICE <{url}/c> {{ ?s ?p ?o }} }}',
    'SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{#x\n sErViCe\t<{url}/d> {{ ?s ?p ?x }} }} }}',
    'SELECT * WHERE {{ BIND("\\u0022" AS ?q) }}SERVICE<{url}/e>{{}}',
])
def test_service_guard_cannot_be_bypassed(tmp_path: Path, listener: Listener, text: str) -> None:
    query = tmp_path / "q.rq"
    query.write_text(text.format(url=listener.url))
    proc = run_cli("query", "--file", str(query))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "SERVICE" in proc.stderr or "not a SPARQL query" in proc.stderr


def test_closure_cache_is_verified(tmp_path: Path, monkeypatch) -> None:
    from cptkg.kg import reasoning, resources
    from cptkg.kg.graph import KnowledgeGraph

    digest = resources.ontology_digest()
    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path))
    good = KnowledgeGraph.default().closure
    path = reasoning.closure_cache_path(digest, "owlrl")
    path.write_bytes(good)
    assert reasoning.read_verified(path, digest) == good
    forged = b"<https://w3id.org/cptkg/cpt/20701> <https://w3id.org/cptkg/ontology#typicalPlaceOfService> " \
             b"<https://w3id.org/cptkg/pos/11> .\n"
    for damaged in (b"", good[: len(good) // 2], good + forged, good.replace(b"pos/21>", b"pos/11>", 1)):
        path.write_bytes(damaged)
        assert reasoning.read_verified(path, digest) is None
    path.write_bytes(good)
    assert reasoning.read_verified(path, "another-ontology") is None
    # End to end: an edited cache is recomputed with one line on stderr; the verdict stands.
    path.write_bytes(good + forged)
    proc = run_cli("validate", str(EXAMPLES / "addon-modifier-51_XFAIL.json"),
                   env={"CPTKG_CACHE_DIR": str(tmp_path), "CPTKG_CLOSURE": "cache"})
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("does not match its digest") == 1 and "Traceback" not in proc.stderr
    assert reasoning.read_verified(path, digest) == good


def test_closure_cache_write_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    from cptkg.kg import reasoning

    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path))

    def full_disk(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reasoning.os, "fsync", full_disk)
    assert reasoning.write_closure_cache(b"# x\n", "d" * 64, "owlrl") is None
    assert list(tmp_path.iterdir()) == []


def test_one_hostile_claim_never_sinks_a_run(tmp_path: Path, validator: Validator) -> None:
    good = json.loads(GOOD.read_text())
    huge = json.dumps(good).replace('"quantity": {"value": 1}', '"quantity": {"value": ' + "9" * 5000 + "}")
    surrogate = json.dumps(dict(good, id="lone-\ud800-surrogate"))
    ndjson = tmp_path / "mixed.ndjson"
    ndjson.write_text("\n".join([json.dumps(good), huge, surrogate, json.dumps(dict(good, id="last"))]) + "\n")
    turtle = tmp_path / "mixed.ttl"
    turtle.write_text(BAD_TTL.read_text() + (
        '\nex:literal-line a cptkg:Claim ; cptkg:item "not a line" .\n'
        "ex:spaced a cptkg:Claim ; cptkg:item <https://example.org/a line> .\n"
        "<https://example.org/a line> cptkg:sequence 1 ; cptkg:productOrService cpt:20701 ;\n"
        '    cptkg:bodySite "\\uD800" .\n'))
    xml = tmp_path / "xinclude.rdf"
    xml.write_text('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                   'xmlns:xi="http://www.w3.org/2001/XInclude"><rdf:Description rdf:about="https://example.org/c">'
                   '<xi:include href="/etc/passwd" parse="text"/></rdf:Description></rdf:RDF>')
    reports = _reports(validator, ndjson, turtle, xml)
    assert len(reports) == 4 + 3 + 1
    first, big, lone, last = reports[:4]
    assert first.conforms and last.conforms and last.claim == "last"
    assert _rules(big) == ["Unreadable"] and "digits" in big.results[0].message
    assert _rules(lone) == ["Unreadable"]
    bad, literal, spaced = reports[4:7]  # a file's claims in IRI order
    assert "AddOnModifier51" in _rules(bad)
    assert _rules(literal) == ["Unreadable"] and "literal" in literal.results[0].message
    assert _rules(spaced) == ["Unreadable"]
    assert _rules(reports[7]) == ["Unreadable"] and "passwd" not in reports[7].results[0].message.replace(
        "/etc/passwd", "")
    proc = run_cli("validate", str(ndjson), str(turtle), str(xml), "--format", "json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert len(json.loads(proc.stdout)["claims"]) == 8


def test_inputs_must_be_regular_files_inside_the_folder(tmp_path: Path) -> None:
    assert "not a regular file" in one_line(run_cli("validate", "/dev/zero"))
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "good.json").write_text(GOOD.read_text())
    secret = tmp_path / "secret.ttl"
    secret.write_text("root:x:0:0:TOP-SECRET\n")
    (folder / "x.ttl").symlink_to(secret)
    proc = run_cli("validate", str(folder))
    assert "symbolic link out of the folder" in one_line(proc) and "TOP-SECRET" not in proc.stderr + proc.stdout
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert "not a regular file" in one_line(run_cli("validate", str(fifo)))


def test_long_ndjson_line_is_bounded(tmp_path: Path) -> None:
    from cptkg.claims.fhir import MAX_LINE_BYTES

    path = tmp_path / "long.ndjson"
    with path.open("wb") as out:
        out.write(b'{"resourceType": "Claim", "id": "' + b"x" * (MAX_LINE_BYTES + 1000) + b'"}\n')
        out.write(GOOD.read_text().replace("\n", " ").encode() + b"\n")
    records = list(claims.read_paths([path]))
    assert len(records) == 2 and "longer than" in (records[0].error or "") and records[1].readable


def test_many_prefixes_are_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "prefixes.ttl"
    path.write_text("".join(f"@prefix p{i}: <https://example.org/{i}/> .\n" for i in range(20_000)))
    (record,) = claims.read_paths([path])
    assert "prefix declarations" in (record.error or "")


def test_ad_hoc_queries_have_a_time_limit(tmp_path: Path) -> None:
    import time

    query = tmp_path / "cartesian.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    started = time.monotonic()
    line = one_line(run_cli("query", "--file", str(query), "--timeout", "2"))
    assert "longer than 2 s" in line and time.monotonic() - started < 60
    path_query = tmp_path / "paths.rq"
    path_query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:p>|!<urn:p>)* ?b . ?c ?d ?e }")
    assert "longer than 1 s" in one_line(run_cli("query", "--file", str(path_query), "--timeout", "1"))


def test_endpoints_have_a_deadline_and_a_size_cap(tmp_path: Path) -> None:
    import time

    from tests.servers import TrickleServer

    slow = TrickleServer("trickle", interval=1.0, limit=120)
    try:
        started = time.monotonic()
        line = one_line(run_cli("query", "addon-codes", "--endpoint", slow.url + "/query", "--timeout", "3"))
        assert "within 3 s" in line and time.monotonic() - started < 60
        started = time.monotonic()
        line = one_line(run_cli("load", "--store", slow.url + "/store", "--timeout", "3"))
        assert "store" in line and "within 3 s" in line and time.monotonic() - started < 60
    finally:
        slow.close()
    huge = TrickleServer("huge", limit=300)
    try:
        line = one_line(run_cli("query", "addon-codes", "--endpoint", huge.url + "/query"))
        assert "more than" in line and "MiB" in line
    finally:
        huge.close()
    assert "http(s)" in one_line(run_cli("query", "addon-codes", "--endpoint", "file:///etc/passwd"))


def test_exit_codes_cannot_mislead(tmp_path: Path) -> None:
    import subprocess
    import sys

    copy = tmp_path / "claim.json"
    copy.write_text(GOOD.read_text())
    assert "one of the inputs" in one_line(run_cli("validate", str(copy), "--output", str(copy)))
    assert copy.read_text() == GOOD.read_text()
    assert "empty path" in one_line(run_cli("validate", ""))
    with pytest.raises(Exception, match="needs claims"):
        import cptkg

        cptkg.validate()
    # A reader that goes away early: exit 2 when a claim written did not conform, never 0.
    many = tmp_path / "many.ndjson"
    bad = json.loads((EXAMPLES / "addon-modifier-51_XFAIL.json").read_text())
    many.write_text("\n".join(json.dumps(dict(bad, id=f"c{i}")) for i in range(3000)) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "cptkg", "validate", str(many)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    proc.wait(timeout=600)
    assert proc.returncode == 2


def test_control_characters_are_escaped_in_human_output(tmp_path: Path) -> None:
    name = tmp_path / "x\x1b]0;title\x07.ndjson"
    name.write_text(GOOD.read_text().replace("\n", " ") + "\n" + json.dumps({"resourceType": "Evil\x1b[2J\r"}) + "\n")
    proc = run_cli("validate", str(name))
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\r" not in proc.stdout
    assert "Evil\\x1b[2J\\x0d" in proc.stdout and "x\\x1b]0;title\\x07.ndjson" in proc.stdout


# Terms an attacker would reach for: codes the rules look up, the classes they target, and the
# properties of the rule facts and the code hierarchy.
_CODE_TERMS = ["cpt/20701", "cpt/20700", "cpt/27301", "cpt/99213", "icd10cm/T84.7", "icd10cm/T84.7XXA",
               "icd10cm/T85.735A", "icd10cm/T84.5", "pos/11", "pos/21", "nucc/207X00000X", "nucc/208200000X"]
_CLASS_TERMS = ["ontology#ClaimItem", "ontology#Claim", "ontology#ClaimDiagnosis", "ontology#BillableICD10CMCode",
                "ontology#AddOnCode", "ontology#ICD10CMCode"]
_PROPERTY_TERMS = ["http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2000/01/rdf-schema#subClassOf",
                   "http://www.w3.org/2004/02/skos/core#broader", "http://www.w3.org/2002/07/owl#sameAs",
                   "https://w3id.org/cptkg/ontology#typicalPlaceOfService",
                   "https://w3id.org/cptkg/ontology#acceptablePrimary",
                   "https://w3id.org/cptkg/ontology#excludedWith"]


def _iri(term: str):
    from rdflib import URIRef

    return URIRef(term if term.startswith("http") else "https://w3id.org/cptkg/" + term)


@st.composite
def extra_triples(draw):
    from rdflib import URIRef

    nodes = st.sampled_from(_CODE_TERMS + _CLASS_TERMS + ["http://www.w3.org/2004/02/skos/core#Concept"])
    return [(_iri(draw(nodes)), URIRef(draw(st.sampled_from(_PROPERTY_TERMS))), _iri(draw(nodes)))
            for _ in range(draw(st.integers(1, 6)))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(__import__("tests.strategies", fromlist=["fhir_claims"]).fhir_claims(), min_size=1, max_size=3,
                unique_by=lambda c: len(c["item"])),
       extra_triples())
def test_extra_triples_about_codes_and_classes_change_nothing(validator: Validator, resources, extra) -> None:
    """Whatever a claim file says about codes and classes, its claims get the results they get
    without it; a code the file declares a claim is refused as one, never judged."""
    from rdflib import Graph

    from cptkg.claims.fhir import claim_record
    from cptkg.claims.rdf import claims_from_graph

    plain = Graph()
    for index, resource in enumerate(resources):
        record = claim_record(dict(resource, id=f"c{index}"), "generated", "", {})
        assume(record.readable)
        for triple in record.triples:
            plain.add(triple)
    attacked = Graph()
    for triple in [*plain, *extra]:
        attacked.add(triple)

    def results(graph: Graph) -> list:
        records = list(claims_from_graph(graph, "generated"))
        for position, record in enumerate(records):
            record.position = position
        return [(r.claim, [(x.rule, x.focus, x.value, x.message) for x in r.results])
                for r in validator.validate(records)]

    expected = dict(results(plain))
    got = dict(results(attacked))
    assert {claim: got[claim] for claim in expected} == expected  # every claim's results unchanged
    for claim in set(got) - set(expected):
        # A code or class the extra triples make look like a claim is refused, never judged.
        (rule, _focus, _value, message), = got[claim]
        # (skos:Concept typed as a claim is outside cptkg's namespace: refused for having no items)
        assert rule == "Unreadable" and ("cptkg's namespace" in message or "has no items" in message), (claim, message)
