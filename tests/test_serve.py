"""`cptkg serve` against a real uvicorn server started on a free loopback port: every endpoint,
results equal to the command line's on the examples, each error status, the limits, and 200
concurrent validation requests each answered correctly."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from servers import cptkg_server

EXAMPLES = ROOT / "examples" / "claims"
INPUTS = ROOT / "examples" / "inputs"
# Inputs as others write them: a PAS Bundle, NDJSON, an 837P with 20 claims, detail lines.
OTHER_INPUTS = [INPUTS / "pas-bundle.json", INPUTS / "day1.ndjson", INPUTS / "professional-20-claims.x12",
                INPUTS / "detail-lines.json"]
MEDIA = {".json": "application/fhir+json", ".ttl": "text/turtle", ".ndjson": "application/x-ndjson",
         ".x12": "application/edi-x12"}
CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
FHIR_BASE = "https://w3id.org/cptkg/fhir"
MAX_BODY_MIB = 0.25  # small, so the test of the limit sends little
QUERY_TIMEOUT = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with cptkg_server("--max-body", str(MAX_BODY_MIB), "--query-timeout", str(QUERY_TIMEOUT), log=log) as base:
        yield base, log


def call(base: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def comparable(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A report's claims as the CLI and the service must agree on them: the claim, its verdict and
    each result (the focus IRI names the input, which differs: a file path against "request")."""
    return [(c["claim"], c["verdict"], c["reason"],
             [tuple(r[k] for k in ("rule", "severity", "line", "code", "diagnosis", "path", "value", "message"))
              for r in c["results"]]) for c in report["claims"]]


@pytest.fixture(scope="module")
def cli_reports() -> dict[str, list[tuple[Any, ...]]]:
    """`cptkg validate --format json` of every example and input, by file."""
    done = run_cli("validate", str(EXAMPLES), *map(str, OTHER_INPUTS), "--format", "json")
    assert done.returncode == 1, done.stderr
    by_file: dict[str, list[Any]] = {}
    for claim in json.loads(done.stdout)["claims"]:
        # An Unreadable message names its input: the file for the CLI, "request" for the service.
        for result in claim["results"]:
            result["message"] = result["message"].replace(claim["origin"]["file"], "request")
        by_file.setdefault(Path(claim["origin"]["file"]).name, []).append(claim)
    return {name: comparable({"claims": claims}) for name, claims in by_file.items()}


@pytest.mark.slow
def test_validate_answers_what_the_command_line_does(server: Any, cli_reports: Any) -> None:
    base, _log = server
    files = sorted(EXAMPLES.iterdir()) + OTHER_INPUTS
    assert len(files) > 150
    for path in files:
        status, headers, body = call(base, "/Claim/$validate", path.read_bytes(),
                                     {"Content-Type": MEDIA[path.suffix]})
        assert status == 200, (path.name, body[:300])
        assert headers["content-type"].startswith("application/json")
        assert comparable(json.loads(body)) == cli_reports[path.name], path.name


def test_fhir_accept_answers_operation_outcomes(server: Any) -> None:
    from fhir.resources.bundle import Bundle
    from fhir.resources.operationoutcome import OperationOutcome

    base, _log = server
    status, headers, body = call(base, "/Claim/$validate", (EXAMPLES / "addon-modifier-51_XFAIL.json").read_bytes(),
                                 {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"})
    assert status == 200 and headers["content-type"].startswith("application/fhir+json")
    outcome = json.loads(body)
    OperationOutcome.model_validate(outcome)
    assert [(i["severity"], i["details"]["coding"][0]["code"], i["expression"]) for i in outcome["issue"]] == [
        ("error", "AddOnModifier51", ["Claim.item.where(sequence = 2).modifier"])]
    status, _headers, body = call(base, "/Claim/$validate", (INPUTS / "day1.ndjson").read_bytes(),
                                  {"Content-Type": "application/x-ndjson", "Accept": "application/fhir+json"})
    assert status == 200
    bundle = json.loads(body)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection" and len(bundle["entry"]) > 1
    schema_file = os.environ.get("CPTKG_FHIR_SCHEMA")
    if schema_file and Path(schema_file).is_file():
        import jsonschema

        schema = json.loads(Path(schema_file).read_text(encoding="utf-8"))
        jsonschema.Draft6Validator(schema).validate(outcome)
        jsonschema.Draft6Validator(schema).validate(bundle)


def test_html_answer_is_the_report_page(server: Any) -> None:
    base, _log = server
    status, headers, body = call(base, "/Claim/$validate?_format=html",
                                 (EXAMPLES / "addon-modifier-51_XFAIL.json").read_bytes(),
                                 {"Content-Type": "application/fhir+json"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "AddOnModifier51" in page and "remove modifier 51 from this line" in page
    status, _headers, body = call(base, "/Claim/$validate?_format=xml", b"{}", {"Content-Type": "application/json"})
    assert status == 400 and "_format" in json.loads(body)["issue"][0]["details"]["text"]


@pytest.mark.parametrize(("body", "media", "status", "code", "says"), [
    (b"", "application/fhir+json", 400, "required", "the body is empty"),
    (b"{not json", "application/fhir+json", 400, "structure", "not JSON"),
    (b"hello there", "text/plain", 400, "structure", "not a claim cptkg can read"),
    (b'{"resourceType": "Patient", "id": "p"}', "application/fhir+json", 422, "not-supported",
     "a Patient is not a claim"),
    (b'{"resourceType": "Claim", "id": "c", "item": "many"}', "application/fhir+json", 422, "processing", "c"),
    (b"\x89PNG", "image/png", 415, "not-supported", "cannot read image/png"),
])
def test_bad_requests_get_operation_outcomes_with_their_status(server: Any, body: bytes, media: str, status: int,
                                                                code: str, says: str) -> None:
    from fhir.resources.operationoutcome import OperationOutcome

    base, _log = server
    got, headers, answer = call(base, "/Claim/$validate", body, {"Content-Type": media}, method="POST")
    assert got == status, answer
    assert headers["content-type"].startswith("application/fhir+json")
    outcome = json.loads(answer)
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["code"] == code and says in outcome["issue"][0]["details"]["text"]
    assert "Traceback" not in answer.decode() and 'File "' not in answer.decode()


def test_a_claim_no_rule_judges_is_not_applicable_whatever_its_diagnosis_system(server: Any) -> None:
    """Issue 29: HL7's CMS-1500 example's kind (a visit, a WHO ICD-10 diagnosis) is not-applicable;
    the same claim with a family line is refused for its WHO ICD-10 diagnosis (422), as before."""
    base, _log = server
    public = (Path(__file__).parent / "fixtures" / "public" / "cms1500-style-claim.json").read_bytes()
    status, _headers, body = call(base, "/Claim/$validate", public, {"Content-Type": "application/fhir+json"},
                                  method="POST")
    assert status == 200, body
    (claim,) = json.loads(body)["claims"]
    assert (claim["verdict"], claim["results"]) == ("not-applicable", [])
    judged = json.loads(public)
    family = {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "20701"}]}
    judged["item"].append({**judged["item"][0], "sequence": 2, "productOrService": family})
    status, _headers, body = call(base, "/Claim/$validate", json.dumps(judged).encode(),
                                  {"Content-Type": "application/fhir+json"}, method="POST")
    assert status == 422 and "WHO ICD-10" in json.loads(body)["issue"][0]["details"]["text"]


def test_a_body_over_the_limit_is_413_also_when_chunked(server: Any) -> None:
    import http.client

    base, _log = server
    big = b" " * int(MAX_BODY_MIB * (1 << 20) + 10)
    status, _headers, answer = call(base, "/Claim/$validate", big, {"Content-Type": "application/fhir+json"})
    assert status == 413 and json.loads(answer)["issue"][0]["code"] == "too-costly"
    # No Content-Length: the body is counted as it arrives.
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.putrequest("POST", "/Claim/$validate")
    connection.putheader("Content-Type", "application/fhir+json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b" " * 65536
    try:
        for _ in range(int(MAX_BODY_MIB * 16) + 2):
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close early: its answer is still read below
    answer_status = connection.getresponse().status
    connection.close()
    assert answer_status == 413


def test_unknown_paths_and_methods(server: Any) -> None:
    base, _log = server
    status, _h, body = call(base, "/Patient/1")
    assert status == 404 and json.loads(body)["issue"][0]["code"] == "not-found"
    status, _h, body = call(base, "/Claim/$validate")
    assert status == 405 and json.loads(body)["resourceType"] == "OperationOutcome"


def test_metadata_lists_exactly_the_operations(server: Any) -> None:
    from fhir.resources.capabilitystatement import CapabilityStatement

    base, _log = server
    status, _h, body = call(base, "/metadata")
    assert status == 200
    statement = json.loads(body)
    CapabilityStatement.model_validate(statement)
    listed = {(r["type"], op["name"]) for rest in statement["rest"] for r in rest["resource"] for op in r["operation"]}
    assert listed == {("Claim", "validate"), ("CodeSystem", "lookup"), ("CodeSystem", "validate-code"),
                      ("ValueSet", "expand"), ("ConceptMap", "translate")}
    # Each listed operation answers (not 404/405) at its path.
    for kind, name in listed:
        got, _h, _b = call(base, f"/{kind}/${name}", b"{}" if kind == "Claim" else None,
                           {"Content-Type": "application/fhir+json"} if kind == "Claim" else {})
        assert got not in (404, 405), (kind, name)


def _parameters(body: bytes) -> dict[str, Any]:
    from fhir.resources.parameters import Parameters

    doc = json.loads(body)
    Parameters.model_validate(doc)
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in doc["parameter"]
            if any(k.startswith("value") for k in p)}


def test_lookup(server: Any) -> None:
    base, _log = server
    status, _h, body = call(base, "/CodeSystem/$lookup?" + urllib.parse.urlencode({"system": CPT, "code": "20701"}))
    assert status == 200
    assert _parameters(body) == {"name": "CPT", "display": "Remove drug-delivery device, deep"}
    status, _h, body = call(base, "/CodeSystem/$lookup?" + urllib.parse.urlencode({"system": ICD, "code": "T85.738A"}))
    assert _parameters(body)["display"].startswith("Infection and inflammatory reaction due to other nervous system")
    status, _h, body = call(base, "/CodeSystem/$lookup?" + urllib.parse.urlencode(
        {"system": "https://w3id.org/cptkg/rule", "code": "AddOnModifier51"}))
    assert status == 200 and "modifier 51" in _parameters(body)["display"].lower()
    status, _h, body = call(base, "/CodeSystem/$lookup?" + urllib.parse.urlencode({"system": ICD, "code": "t85.738a"}))
    assert status == 404  # code systems are case-sensitive
    status, _h, body = call(base, "/CodeSystem/$lookup?" + urllib.parse.urlencode({"system": "urn:x", "code": "1"}))
    assert status == 404 and "unknown code system" in body.decode()
    status, _h, body = call(base, "/CodeSystem/$lookup?code=20701")
    assert status == 400 and "'system' is required" in body.decode()


def test_validate_code_get_and_post(server: Any) -> None:
    base, _log = server
    query = urllib.parse.urlencode({"url": "http://nucc.org/provider-taxonomy", "code": "207X00000X"})
    status, _h, body = call(base, f"/CodeSystem/$validate-code?{query}")
    assert status == 200 and _parameters(body) == {"result": True, "display": "Orthopaedic Surgery"}
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": ICD}, {"name": "code", "valueCode": "T85.738"}]}
    status, _h, body = call(base, "/CodeSystem/$validate-code", json.dumps(params).encode(),
                            {"Content-Type": "application/fhir+json"})
    # T85.738 is a category above the billable T85.738A; the graph holds it, so it is a code.
    assert status == 200 and _parameters(body)["result"] is True
    params["parameter"][1] = {"name": "code", "valueCode": "T85.999Z"}
    status, _h, body = call(base, "/CodeSystem/$validate-code", json.dumps(params).encode(),
                            {"Content-Type": "application/fhir+json"})
    assert _parameters(body)["result"] is False and "T85.999Z" in _parameters(body)["message"]
    query = urllib.parse.urlencode({"url": CPT, "code": "20701", "display": "Something else"})
    found = _parameters(call(base, f"/CodeSystem/$validate-code?{query}")[2])
    assert found["result"] is False and found["display"] == "Remove drug-delivery device, deep"


def test_expand(server: Any) -> None:
    from fhir.resources.valueset import ValueSet

    base, _log = server
    url = f"{FHIR_BASE}/ValueSet/places-of-service-20701"
    status, _h, body = call(base, "/ValueSet/$expand?" + urllib.parse.urlencode({"url": url}))
    assert status == 200
    vs = json.loads(body)
    ValueSet.model_validate(vs)
    assert [(c["code"], c["display"]) for c in vs["expansion"]["contains"]] == [
        ("21", "Inpatient Hospital"), ("24", "Ambulatory Surgical Center")]
    family = json.loads(call(base, "/ValueSet/$expand?" + urllib.parse.urlencode(
        {"url": f"{FHIR_BASE}/ValueSet/drug-delivery-device-family"}))[2])
    assert [c["code"] for c in family["expansion"]["contains"]] == [f"2070{i}" for i in range(6)]
    assert all("display" not in c for c in family["expansion"]["contains"])  # no CPT text
    whole = f"{FHIR_BASE}/ValueSet/icd10cm"
    status, _h, body = call(base, "/ValueSet/$expand?" + urllib.parse.urlencode({"url": whole}))
    assert status == 422 and json.loads(body)["issue"][0]["code"] == "too-costly"
    status, _h, body = call(base, "/ValueSet/$expand?" + urllib.parse.urlencode(
        {"url": whole, "filter": "T85.738", "count": "10"}))
    page = json.loads(body)
    assert status == 200 and {c["code"] for c in page["expansion"]["contains"]} >= {"T85.738A", "T85.738D", "T85.738S"}
    status, _h, body = call(base, "/ValueSet/$expand?" + urllib.parse.urlencode(
        {"url": whole, "count": "3", "offset": "5"}))
    page = json.loads(body)
    assert len(page["expansion"]["contains"]) == 3 and page["expansion"]["total"] > 70000
    assert call(base, "/ValueSet/$expand?url=urn:none")[0] == 404
    assert call(base, "/ValueSet/$expand?" + urllib.parse.urlencode({"url": url, "count": "x"}))[0] == 400


def test_translate(server: Any) -> None:
    base, _log = server
    status, _h, body = call(base, "/ConceptMap/$translate?" + urllib.parse.urlencode(
        {"url": f"{FHIR_BASE}/ConceptMap/removal-to-insertion", "system": CPT, "code": "20701"}))
    assert status == 200
    doc = json.loads(body)
    assert _parameters(body)["result"] is True
    matches = [p for p in doc["parameter"] if p["name"] == "match"]
    assert [[q["valueCoding"]["code"] for q in m["part"] if q["name"] == "concept"] for m in matches] == [["20700"]]
    status, _h, body = call(base, "/ConceptMap/$translate?" + urllib.parse.urlencode(
        {"system": "https://bluebutton.cms.gov/resources/variables/prvdr_spclty", "code": "14"}))
    doc = json.loads(body)
    assert [q["valueCoding"]["code"] for p in doc["parameter"] if p["name"] == "match" for q in p["part"]
            if q["name"] == "concept"] == ["207T00000X"]
    status, _h, body = call(base, "/ConceptMap/$translate?" + urllib.parse.urlencode({"system": CPT, "code": "99999"}))
    assert _parameters(body)["result"] is False


def test_sparql_protocol(server: Any) -> None:
    base, _log = server
    text = (ROOT / "queries" / "addon-codes.rq").read_text(encoding="utf-8")
    cli = json.loads(run_cli("query", "addon-codes", "--format", "json").stdout)
    status, headers, body = call(base, "/sparql?" + urllib.parse.urlencode({"query": text}))
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
    assert json.loads(body)["results"] == cli["results"]
    status, _h, body = call(base, "/sparql", text.encode(), {"Content-Type": "application/sparql-query"})
    assert status == 200 and json.loads(body)["results"] == cli["results"]
    status, _h, body = call(base, "/sparql", urllib.parse.urlencode({"query": text}).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"})
    assert status == 200 and body.decode().splitlines()[0] == ",".join(cli["head"]["vars"])
    for refused in ("INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"):
        status, _h, body = call(base, "/sparql?" + urllib.parse.urlencode({"query": refused}))
        assert status == 400 and json.loads(body)["resourceType"] == "OperationOutcome"
    status, _h, body = call(base, "/sparql", urllib.parse.urlencode({"update": "CLEAR ALL"}).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "read-only" in body.decode()


def test_a_query_over_the_time_limit_is_504(server: Any) -> None:
    base, _log = server
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    status, _h, body = call(base, "/sparql?" + urllib.parse.urlencode({"query": endless}))
    assert status == 504 and json.loads(body)["issue"][0]["code"] == "timeout"
    # The server goes on answering.
    assert call(base, "/metadata")[0] == 200


def test_page_and_diagram(server: Any) -> None:
    base, _log = server
    status, headers, body = call(base, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'id="claims"' in body and b'id="lookup"' in body
    status, headers, body = call(base, "/diagram?code=20701&_format=svg")
    assert status == 200 and headers["content-type"].startswith("image/svg+xml")
    assert b"stand-alone alternative" in body and b'data-key="procedure:20680"' in body
    status, _h, body = call(base, "/diagram?code=99999999")
    assert status == 400 and json.loads(body)["resourceType"] == "OperationOutcome"


def test_access_log_is_one_json_object_per_request(server: Any) -> None:
    base, log = server
    call(base, "/metadata?secret=claim-content")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "bytes", "ms", "client"} <= set(lines[-1])
    assert any(entry["path"] == "/metadata" and entry["status"] == 200 for entry in lines)
    assert "secret" not in log.read_text(encoding="utf-8")  # query strings are not logged


def test_binds_loopback_unless_told() -> None:
    from cptkg.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


@pytest.mark.slow
def test_200_concurrent_validations_each_answered_correctly(server: Any, cli_reports: Any) -> None:
    import httpx

    base, _log = server
    files = sorted(p for p in EXAMPLES.iterdir() if p.suffix == ".json")
    jobs = [files[i % len(files)] for i in range(200)]

    async def send_all() -> list[tuple[Path, int, bytes]]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
            async def one(path: Path) -> tuple[Path, int, bytes]:
                answer = await client.post("/Claim/$validate", content=path.read_bytes(),
                                           headers={"Content-Type": "application/fhir+json"})
                return path, answer.status_code, answer.content
            return await asyncio.gather(*(one(p) for p in jobs))

    answers = asyncio.run(send_all())
    assert len(answers) == 200
    for path, status, body in answers:
        assert status == 200, (path.name, body[:200])
        assert comparable(json.loads(body)) == cli_reports[path.name], path.name


@pytest.mark.slow
def test_a_validation_over_the_time_limit_is_504(tmp_path: Path) -> None:
    # 150 claims cannot be validated in 10 ms: the answer is 504 and the server goes on.
    lines = [json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.json"))]
    with cptkg_server("--request-timeout", "0.01", log=tmp_path / "serve.log") as base:
        status, _h, body = call(base, "/Claim/$validate", "\n".join(lines).encode(),
                                {"Content-Type": "application/x-ndjson"})
        assert status == 504 and json.loads(body)["issue"][0]["code"] == "timeout"
        assert call(base, "/metadata")[0] == 200


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_failure_inside_is_500_without_its_trace(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A bug (here: the validator raising) answers 500 with an OperationOutcome that says only
    that the server failed; the trace goes to the server's log, not to the client."""
    from starlette.testclient import TestClient

    from cptkg.serve import app as service_app

    def broken(self: Any, data: bytes, form: str | None, want: str) -> str:
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr(service_app.Service, "validate", broken)
    body = (EXAMPLES / "addon-modifier-51_XFAIL.json").read_bytes()
    with TestClient(service_app.create_app(), raise_server_exceptions=False) as client:
        answer = client.post("/Claim/$validate", content=body, headers={"Content-Type": "application/fhir+json"})
        assert client.get("/metadata").status_code == 200  # and the service goes on
    assert answer.status_code == 500
    outcome = answer.json()
    assert outcome["issue"][0]["code"] == "exception"
    assert "secret" not in answer.text and "Traceback" not in answer.text and "RuntimeError" not in answer.text
    assert any("internal detail" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
