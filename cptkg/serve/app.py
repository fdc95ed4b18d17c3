"""The ASGI application of `cptkg serve`: claim validation, the FHIR terminology operations, the
SPARQL protocol (read-only) and a page for people, over one graph loaded and one rule set compiled
when the application starts.

Every error is an OperationOutcome with its HTTP status (400 bad input, 404 unknown, 413 too
large, 415 unsupported media type, 422 unprocessable, 504 over the time limit); no stack trace
leaves the server. Validation runs in worker threads, off the event loop, on a pool of validators
(each holds its own Oxigraph store, so two requests never share one)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from cptkg.errors import InputError, QueryTimeout, UnreadableInput
from cptkg.rules.defaults import DEFAULT_BATCH_SIZE
from cptkg.serve.terminology import NotFound, Terminology, TooCostly

log = logging.getLogger(__name__)
access_log = logging.getLogger("cptkg.serve.access")

FHIR_JSON = "application/fhir+json"
SPARQL_JSON = "application/sparql-results+json"
# Request media types and the claim form each means (None: detected from the content).
CLAIM_MEDIA = {"application/fhir+json": None, "application/json": None, "application/x-ndjson": "ndjson",
               "application/fhir+ndjson": "ndjson", "application/ndjson": "ndjson", "application/edi-x12": "x12",
               "application/x12": "x12", "text/plain": None, "text/turtle": "turtle"}
SOURCE = "request"
# The FHIR issue type of Starlette's own refusals (an unknown path, a method a path does not take).
HTTP_ISSUE_CODES = {404: "not-found", 405: "not-supported"}


@dataclass
class Settings:
    """What a service needs to be safe to run: limits, and the rules it checks by."""

    rules: Any = None  # a RuleSpec (packs, severities); None: the built-in rules
    max_body_bytes: int = 10 << 20
    request_timeout: float = 60.0
    query_timeout: float = 10.0
    validators: int = 1
    batch_size: int = DEFAULT_BATCH_SIZE
    fhir_strict: bool = False  # read FHIR claims with fhir.resources (as validate --fhir-strict)


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def operation_outcome(code: str, message: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "details": {"text": message}}]}


class Service:
    """The loaded graph, the compiled rules and the terminology, shared by every request."""

    def __init__(self, settings: Settings) -> None:
        from cptkg.export.fhir import bundle
        from cptkg.kg.graph import KnowledgeGraph
        from cptkg.rules.validator import Validator

        self.settings = settings
        self.kg = KnowledgeGraph.default()
        started = time.perf_counter()
        self._pool: queue.Queue[Any] = queue.Queue()
        for _ in range(max(1, settings.validators)):
            validator = Validator(self.kg, rules=settings.rules)
            self._pool.put(validator)
        self.terminology = Terminology(bundle(self.kg), self.kg.store)
        self.query_lock = threading.Lock()  # one timed SPARQL query at a time
        log.info("graph loaded and %d validator(s) compiled in %.1f s", max(1, settings.validators),
                 time.perf_counter() - started)

    def validate(self, data: bytes, form: str | None, want: str) -> str:
        """The report of a request body in the form ``want`` asks (json, operationoutcome, html)."""
        from cptkg.claims import read_bytes
        from cptkg.report.writers import WRITERS
        from cptkg.rules import driver

        # Read in full before a validator is taken (the body is bounded): a lone unreadable claim
        # is refused (UnreadableInput, 422) without holding one.
        records = list(driver.refuse_lone_unreadable(read_bytes(data, SOURCE, form,
                                                                fhir_strict=self.settings.fhir_strict)))
        out = io.StringIO()
        writer = WRITERS[want](out)
        validator = self._pool.get()
        try:
            # Whether a rule judges the claim comes first (Validator.settle): a lone claim refused
            # then for what only the rules read is UnreadableInput (422) from the driver.
            driver.write_reports(driver.validate_records(records, validator, self.settings.batch_size,
                                                         keep_content=writer.wants_content), writer)
        finally:
            self._pool.put(validator)
        return out.getvalue()


def _json_response(doc: Any, status: int = 200, media: str = FHIR_JSON) -> Any:
    from starlette.responses import Response

    return Response(json.dumps(doc, ensure_ascii=False), status_code=status, media_type=media)


def _error(status: int, code: str, message: str) -> Any:
    return _json_response(operation_outcome(code, message), status)


def _media(request: Any) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _body(request: Any, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` (the Content-Length
    header is checked first, but a chunked body is counted as it arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, "too-costly", f"the body is {int(declared)} bytes; this server takes at most {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, "too-costly", f"the body is over {limit} bytes, the most this server takes")
        chunks.append(chunk)
    return b"".join(chunks)


# What ?_format= may ask for, as a report form.
FORMATS = {"html": "html", "text/html": "html", "json": "json", "application/json": "json",
           "fhir": "operationoutcome", FHIR_JSON: "operationoutcome", "operationoutcome": "operationoutcome"}


def _wants(request: Any) -> str:
    """The report's form: ?_format= first (as FHIR servers take it), else the Accept header:
    application/fhir+json OperationOutcome(s), text/html the HTML report, anything else the JSON
    report of `cptkg validate --format json`."""
    chosen = request.query_params.get("_format")
    if chosen is not None:
        if chosen not in FORMATS:
            raise HttpError(400, "value", f"unknown _format {chosen!r} (choose from {', '.join(FORMATS)})")
        return FORMATS[chosen]
    accept = request.headers.get("accept", "")
    if FHIR_JSON in accept:
        return "operationoutcome"
    if "text/html" in accept:
        return "html"
    return "json"


def _check_claim_body(data: bytes, form: str | None) -> str | None:
    """Refuse what cannot be a claim before any reader sees it: 400 for bytes that are not what
    they say, 422 for a well-formed resource that is not a Claim or Bundle."""
    from cptkg.claims.files import detect

    if not data.strip():
        raise HttpError(400, "required", "the body is empty: send a Claim, a Bundle, NDJSON or an 837P file")
    chosen = form or detect(data[:4096], "")
    if chosen is None:
        raise HttpError(400, "structure", "the body is not a claim cptkg can read: send FHIR JSON (a Claim or "
                        "a Bundle), NDJSON, an X12 837P file or a claim graph in Turtle")
    if chosen == "fhir":
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise HttpError(400, "structure", f"the body is not JSON: {err}") from None
        if not isinstance(doc, dict) or doc.get("resourceType") not in ("Claim", "Bundle"):
            kind = doc.get("resourceType") if isinstance(doc, dict) else type(doc).__name__
            raise HttpError(422, "not-supported", f"a {kind or 'JSON document without resourceType'} is not "
                            "a claim: send a Claim or a Bundle of them")
    return chosen


def _settings(request: Any) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _service(request: Any) -> Service:
    """The application's Service, built on first use (the lifespan builds it before the first
    request; a client that skips the lifespan still gets one)."""
    state = request.app.state
    if getattr(state, "service", None) is None:
        state.service = Service(state.settings)
    service: Service = state.service
    return service


async def _within_limit(work: Callable[[], Any], limit: float, what: str) -> Any:
    from starlette.concurrency import run_in_threadpool

    try:
        return await asyncio.wait_for(run_in_threadpool(work), timeout=limit)
    except TimeoutError:
        raise HttpError(504, "timeout", f"{what} took longer than {limit:g} s and was stopped") from None


async def validate(request: Any) -> Any:
    """POST /Claim/$validate: the body's claims validated; the report in the form asked for."""
    from starlette.responses import HTMLResponse, Response

    settings = _settings(request)
    want = _wants(request)
    media = _media(request)
    if media and media not in CLAIM_MEDIA:
        raise HttpError(415, "not-supported", f"cannot read {media}: send {', '.join(sorted(CLAIM_MEDIA))}")
    data = await _body(request, settings.max_body_bytes)
    form = _check_claim_body(data, CLAIM_MEDIA.get(media))
    text = await _within_limit(partial(_service(request).validate, data, form, want),
                               settings.request_timeout, "the validation")
    if want == "html":
        return HTMLResponse(text)
    return Response(text, media_type=FHIR_JSON if want == "operationoutcome" else "application/json")


def _terminology_params(request: Any, body: dict[str, Any] | None) -> dict[str, str]:
    params = {k: v for k, v in request.query_params.items()}
    if body is not None:
        if body.get("resourceType") != "Parameters":
            raise HttpError(400, "structure", "POST a FHIR Parameters resource")
        for p in body.get("parameter", []):
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            if isinstance(value, dict) and "code" in value:  # valueCoding
                params.setdefault("system", value.get("system", ""))
                params.setdefault("code", value["code"])
            elif isinstance(value, (str, int, bool)):
                params[p.get("name", "")] = str(value)
    return params


async def _post_parameters(request: Any) -> dict[str, Any] | None:
    if request.method != "POST":
        return None
    data = await _body(request, _settings(request).max_body_bytes)
    try:
        body = json.loads(data)
    except ValueError as err:
        raise HttpError(400, "structure", f"the body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise HttpError(400, "structure", "POST a FHIR Parameters resource")
    return body


async def lookup(request: Any) -> Any:
    """GET /CodeSystem/$lookup."""
    from starlette.concurrency import run_in_threadpool

    p = _terminology_params(request, None)
    return _json_response(await run_in_threadpool(_service(request).terminology.lookup, p.get("system"),
                                                  p.get("code")))


async def validate_code(request: Any) -> Any:
    """GET or POST /CodeSystem/$validate-code."""
    from starlette.concurrency import run_in_threadpool

    p = _terminology_params(request, await _post_parameters(request))
    return _json_response(await run_in_threadpool(
        _service(request).terminology.validate_code, p.get("url") or p.get("system"), p.get("code"),
        p.get("display")))


async def expand(request: Any) -> Any:
    """GET /ValueSet/$expand."""
    from starlette.concurrency import run_in_threadpool

    p = _terminology_params(request, None)
    try:
        offset = int(p.get("offset", "0"))
        count = int(p["count"]) if "count" in p else None
    except ValueError:
        raise HttpError(400, "value", "offset and count are whole numbers") from None
    return _json_response(await run_in_threadpool(
        _service(request).terminology.expand, p.get("url"), p.get("filter"), offset, count))


async def translate(request: Any) -> Any:
    """GET /ConceptMap/$translate."""
    from starlette.concurrency import run_in_threadpool

    p = _terminology_params(request, None)
    return _json_response(await run_in_threadpool(
        _service(request).terminology.translate, p.get("url"), p.get("system"), p.get("code"), p.get("target")))


async def metadata(request: Any) -> Any:
    """GET /metadata: the CapabilityStatement."""
    from cptkg.serve.capability import capability_statement

    return _json_response(capability_statement())


async def _sparql_text(request: Any) -> str | None:
    """The query of a SPARQL 1.1 Protocol request (GET ?query=, or a POST body)."""
    if request.method == "GET":
        text: str | None = request.query_params.get("query")
        return text
    media = _media(request)
    data = await _body(request, _settings(request).max_body_bytes)
    if media == "application/sparql-query":
        return data.decode("utf-8", "replace")
    if media == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qs

        form = parse_qs(data.decode("utf-8", "replace"))
        if "update" in form:
            raise HttpError(400, "not-supported", "this endpoint is read-only: no SPARQL update")
        return form.get("query", [""])[0]
    raise HttpError(415, "not-supported", "POST application/sparql-query or a form with query=")


async def sparql(request: Any) -> Any:
    """GET or POST /sparql: SPARQL 1.1 Protocol, read-only, one timed query at a time."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse, Response

    from cptkg import queries

    text = await _sparql_text(request)
    if not text:
        raise HttpError(400, "required", "give the query as ?query= (GET) or in the body (POST)")
    queries.check_query_text(text)
    service = _service(request)
    limit = _settings(request).query_timeout

    def run() -> Any:
        # One timed query at a time: each runs in a forked child, killed at the limit.
        with service.query_lock:
            return queries.run_text(text, store=service.kg.store, timeout=limit)

    try:
        result = await run_in_threadpool(run)
    except QueryTimeout:
        raise HttpError(504, "timeout", f"the query ran longer than {limit:g} s and was stopped") from None
    if "text/csv" in request.headers.get("accept", ""):
        return PlainTextResponse(result.to_csv(), media_type="text/csv")
    return Response(result.to_json(), media_type=SPARQL_JSON)


async def index(request: Any) -> Any:
    """GET /: the page for people."""
    from starlette.responses import HTMLResponse

    from cptkg.serve.page import index_page

    return HTMLResponse(index_page())


async def diagram(request: Any) -> Any:
    """GET /diagram?code=: a code and its neighbours drawn (HTML, or SVG with _format=svg)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, Response

    from cptkg.show import card
    from cptkg.show import diagram as drawing

    code = request.query_params.get("code", "")
    if not code.strip():
        raise HttpError(400, "required", "give the code as ?code=20701")
    store = _service(request).kg.store

    def draw() -> str:
        built = drawing.build(card(code, store=store, system=request.query_params.get("system")), store=store)
        if request.query_params.get("_format") == "svg":
            return drawing.render_svg(built)
        return drawing.render_html(built)

    text = await run_in_threadpool(draw)
    if request.query_params.get("_format") == "svg":
        return Response(text, media_type="image/svg+xml")
    return HTMLResponse(text)


# Each path, the methods it takes and its handler.
ROUTES: list[tuple[str, Callable[[Any], Awaitable[Any]], list[str]]] = [
    ("/", index, ["GET"]),
    ("/Claim/$validate", validate, ["POST"]),
    ("/CodeSystem/$lookup", lookup, ["GET"]),
    ("/CodeSystem/$validate-code", validate_code, ["GET", "POST"]),
    ("/ValueSet/$expand", expand, ["GET"]),
    ("/ConceptMap/$translate", translate, ["GET"]),
    ("/metadata", metadata, ["GET"]),
    ("/sparql", sparql, ["GET", "POST"]),
    ("/diagram", diagram, ["GET"]),
]


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    from starlette.concurrency import run_in_threadpool

    def load() -> None:
        if getattr(app.state, "service", None) is None:
            app.state.service = Service(app.state.settings)

    await run_in_threadpool(load)  # load and compile before the first request
    yield


async def _failed(request: Any, err: Exception) -> Any:
    status, code, message = _classify(err)
    if status == 500:
        log.error("request failed: %s %s", request.method, request.url.path, exc_info=err)
    return _error(status, code, message)


def create_app(settings: Settings | None = None) -> Any:
    """The Starlette application; the graph and the rules load when it starts."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    app = Starlette(routes=[Route(path, handler, methods=methods) for path, handler, methods in ROUTES],
                    lifespan=_lifespan, exception_handlers={
                        HttpError: _failed, InputError: _failed, HTTPException: _failed, Exception: _failed})
    app.state.settings = settings or Settings()
    app.state.service = None
    return _Guard(app)


class _Guard:
    """ASGI middleware: every error an OperationOutcome with its status and never a stack trace;
    one structured access-log line per request (method, path, status, bytes, milliseconds; no
    query string, which may carry claim content)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent: dict[str, Any] = {"status": 0, "bytes": 0, "started": False}

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"], sent["started"] = message["status"], True
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as err:
            # Starlette answered already (its handler for Exception, logged there) and re-raised
            # for the server's sake: stop here, so no second trace reaches the log.
            if sent["started"]:
                self._log(scope, sent, started)
                return
            status, code, message = _classify(err)
            if status == 500:
                log.exception("request failed: %s %s", scope.get("method"), scope.get("path"))
            body = json.dumps(operation_outcome(code, message), ensure_ascii=False).encode()
            headers = [(b"content-type", FHIR_JSON.encode()), (b"content-length", str(len(body)).encode())]
            await watch({"type": "http.response.start", "status": status, "headers": headers})
            await watch({"type": "http.response.body", "body": body})
        self._log(scope, sent, started)

    @staticmethod
    def _log(scope: dict[str, Any], sent: dict[str, Any], started: float) -> None:
        access_log.info(json.dumps({"method": scope.get("method"), "path": scope.get("path"), "status": sent["status"],
                                    "bytes": sent["bytes"], "ms": round((time.perf_counter() - started) * 1000, 1),
                                    "client": (scope.get("client") or ["", 0])[0]}))


def _classify(err: Exception) -> tuple[int, str, str]:
    from starlette.exceptions import HTTPException

    if isinstance(err, HttpError):
        return err.status, err.code, err.message
    if isinstance(err, NotFound):
        return 404, "not-found", str(err)
    if isinstance(err, TooCostly):
        return 422, "too-costly", str(err)
    if isinstance(err, UnreadableInput):  # the only claim sent cannot be read
        return 422, "processing", str(err)
    if isinstance(err, InputError):
        return 400, "invalid", str(err)
    if isinstance(err, HTTPException):
        return err.status_code, HTTP_ISSUE_CODES.get(err.status_code, "processing"), str(err.detail)
    return 500, "exception", "the server failed on this request; its log says why"
