"""Running SPARQL: updates and (unless allowed) SERVICE refused before any engine sees the text,
parameters bound by a VALUES block of validated terms, the query run on the embedded Oxigraph store
of the inferred graph or on a remote SPARQL 1.1 endpoint."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from cptkg import bounded_http
from cptkg.errors import InputError, QueryTimeout
from cptkg.queries.named import get
from cptkg.queries.terms import QueryResult, Term

log = logging.getLogger(__name__)


def check_query_text(text: str, *, allow_service: bool = False) -> None:
    """Refuse updates and (unless allowed) SERVICE before any engine sees the text."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql import parser

    try:
        tree = parser.parseQuery(text)
    except ParseException as err:
        try:
            parser.parseUpdate(text)
        except ParseException:
            raise InputError(f"not a SPARQL query: {err.msg} at line {err.lineno}, column {err.col}") from None
        raise InputError("that is a SPARQL update; cptkg query only reads (exit without change)") from None
    if not allow_service and (_mentions(tree, "ServiceGraphPattern") or mentions_service(text)):
        raise InputError(
            "the query has a SERVICE clause, which would reach the network; "
            "pass --allow-service to run it anyway"
        )


# SERVICE as a keyword: after the start, a space or punctuation, before a space, an IRI, a variable
# or a brace. Parsers disagree on escapes (rdflib expands \u0022 everywhere, Oxigraph does not), so
# the word is looked for in the raw text and in the text with escapes expanded: whatever the engine
# that runs the query makes of it, a SERVICE it could call shows up in one of the two.
_SERVICE_WORD = re.compile(r"""(?:^|(?<=[\s{}()\[\].;,>"'*]))service(?=[\s<?$({#]|$)""", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _expand_escapes(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else " "

    return _ESCAPE.sub(one, text)


def mentions_service(text: str) -> bool:
    """Whether the word SERVICE stands as a keyword anywhere in the text, raw or with its \\u
    escapes expanded (string literals and comments included: a false alarm costs --allow-service)."""
    return any(_SERVICE_WORD.search(t) for t in (text, _expand_escapes(text)))


def _mentions(node: Any, name: str) -> bool:
    """Whether rdflib's parse tree has a node called ``name`` (CompValues inside ParseResults)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == name:
                return True
            stack.extend(item.values())
        elif isinstance(item, ParseResults | list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _from_oxigraph(value: Any) -> Term:
    import pyoxigraph as ox

    if isinstance(value, ox.NamedNode):
        return Term("uri", value.value)
    if isinstance(value, ox.BlankNode):
        return Term("bnode", value.value)
    lang = value.language
    datatype = value.datatype.value
    if lang:
        return Term("literal", value.value, lang=lang)
    if datatype == "http://www.w3.org/2001/XMLSchema#string":
        return Term("literal", value.value)
    return Term("literal", value.value, datatype=datatype)


_WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_COMMENT = re.compile(r"#[^\n]*")


def with_values(text: str, bindings: Mapping[str, Term]) -> str:
    """The query with its parameters bound by a VALUES block of serialised terms.

    The block opens the query's WHERE group, so the parameters are in scope for every pattern and
    FILTER (a trailing VALUES clause would join only after FILTERs ran). Each value is a
    validated, serialised RDF term (``Term.n3``): a hostile value stays a value. One form for both
    engines keeps embedded and remote answers identical.
    """
    if not bindings:
        return text
    names = " ".join(f"?{k}" for k in bindings)
    values = " ".join(v.n3() for v in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }}"
    # Find WHERE outside comments (blank them out, keeping offsets).
    masked = _COMMENT.sub(lambda m: " " * len(m.group(0)), text)
    match = _WHERE_OPEN.search(masked)
    if match is None:
        return f"{text.rstrip()}\nVALUES ({names}) {{ ({values}) }}\n"
    return text[: match.end()] + block + text[match.end():]


def run_text(text: str, bindings: Mapping[str, Term] | None = None, *, store: Any = None,
             endpoint: str | None = None, timeout: float | None = None) -> QueryResult:
    """Run a query embedded (or on ``endpoint``). With ``timeout`` an embedded query runs in a
    child process that is killed when the time is up (Oxigraph has no way to stop a query)."""
    text = with_values(text, bindings or {})
    if endpoint:
        result = _run_remote(text, endpoint, timeout or bounded_http.DEFAULT_DEADLINE)
        _note_if_asserted_only(endpoint, timeout or bounded_http.DEFAULT_DEADLINE)
        return result
    if store is None:
        from cptkg.kg.graph import KnowledgeGraph

        store = KnowledgeGraph.default().store
    if timeout is None:
        return _evaluate(store, text)
    return _evaluate_within(store, text, timeout)


def _evaluate(store: Any, text: str) -> QueryResult:
    import pyoxigraph as ox

    try:
        result = store.query(text)
    except SyntaxError as err:
        raise InputError(f"not a SPARQL query: {err}") from None
    if isinstance(result, ox.QueryBoolean):
        return QueryResult([], boolean=bool(result))
    if isinstance(result, ox.QueryTriples):
        rows = [
            {"subject": _from_oxigraph(t.subject), "predicate": _from_oxigraph(t.predicate),
             "object": _from_oxigraph(t.object)}
            for t in result
        ]
        return QueryResult(["subject", "predicate", "object"], rows)
    variables = [v.value for v in result.variables]
    rows = []
    for solution in result:
        row = {}
        for v in variables:
            value = solution[v]
            if value is not None:
                row[v] = _from_oxigraph(value)
        rows.append(row)
    return QueryResult(variables, rows)


QUERY_MEMORY_BYTES = 4 << 30


def _evaluate_within(store: Any, text: str, timeout: float) -> QueryResult:
    """The query run in a forked child (which shares the loaded store), killed after ``timeout``
    seconds; its memory is capped too, so a runaway join cannot take the machine with it."""
    import multiprocessing
    import resource

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def work() -> None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (QUERY_MEMORY_BYTES, QUERY_MEMORY_BYTES))
        try:
            sender.send(("ok", _evaluate(store, text)))
        except InputError as err:
            sender.send(("input", str(err)))
        except MemoryError:
            sender.send(("input", f"the query needed more than {QUERY_MEMORY_BYTES >> 30} GiB of memory"))
        except Exception as err:
            sender.send(("input", f"the query failed: {type(err).__name__}: {err}"))

    child = context.Process(target=work, name="cptkg-query", daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise QueryTimeout(timeout, f"the query ran longer than {timeout:g} s and was stopped (--timeout SECONDS "
                               "gives it longer)")
        try:
            kind, payload = receiver.recv()
        except EOFError:
            raise InputError("the query failed: its process ended without an answer (out of memory?)") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if kind != "ok":
        raise InputError(payload)
    result: QueryResult = payload
    return result


# Whether the store holds cptkg's graph without its OWL-RL closure: 20701 is there, but not the
# class the closure alone gives it (cptkg:Code, from AddOnCode and ProcedureCode).
_ASSERTED_ONLY = """PREFIX cptkg: <https://w3id.org/cptkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
ASK { <https://w3id.org/cptkg/cpt/20701> skos:notation "20701" .
      FILTER NOT EXISTS { <https://w3id.org/cptkg/cpt/20701> a cptkg:Code } }"""
_endpoints_checked: set[str] = set()


def _note_if_asserted_only(endpoint: str, timeout: float) -> None:
    """Say once per endpoint when the store holds only the asserted graph: the named queries read
    the inferred graph embedded, so they would answer with fewer rows there."""
    if endpoint in _endpoints_checked:
        return
    _endpoints_checked.add(endpoint)
    try:
        asserted_only = _run_remote(_ASSERTED_ONLY, endpoint, timeout).boolean
    except InputError:
        return  # the question was answered; a store that cannot say is left alone
    if asserted_only:
        log.warning("the store at %s holds cptkg's asserted graph without its OWL-RL closure: named queries "
                    "may answer with fewer rows than embedded (reload it with `cptkg load --store GSP_URL`)",
                    endpoint)


def _run_remote(text: str, endpoint: str, timeout: float) -> QueryResult:
    body = bounded_http.request(
        endpoint, data=urllib.parse.urlencode({"query": text}).encode(), what="endpoint", deadline=timeout,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/sparql-results+json"})
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise InputError(f"endpoint {endpoint} did not answer with SPARQL JSON results") from None
    if not isinstance(doc, dict):
        raise InputError(f"endpoint {endpoint} answered a JSON {type(doc).__name__}, not SPARQL JSON results")
    if "boolean" in doc:
        return QueryResult([], boolean=bool(doc["boolean"]))
    try:
        variables = [str(v) for v in doc.get("head", {}).get("vars", [])]
        rows = []
        for binding in doc.get("results", {}).get("bindings", []):
            row = {}
            for k, v in binding.items():
                kind = "uri" if v["type"] == "uri" else "bnode" if v["type"] == "bnode" else "literal"
                datatype = v.get("datatype")
                if datatype == "http://www.w3.org/2001/XMLSchema#string":
                    datatype = None
                row[str(k)] = Term(kind, str(v["value"]), datatype, v.get("xml:lang"))
            rows.append(row)
    except (AttributeError, KeyError, TypeError):
        raise InputError(f"endpoint {endpoint} answered malformed SPARQL JSON results") from None
    return QueryResult(variables, rows)


def run_named(name: str, params: Mapping[str, str] | None = None, *, store: Any = None,
              endpoint: str | None = None, timeout: float | None = None) -> QueryResult:
    named = get(name)
    return run_text(named.text, named.bind(params or {}), store=store, endpoint=endpoint, timeout=timeout)
