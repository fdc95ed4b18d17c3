"""The named SPARQL queries of queries/: discovery, parameter binding, execution, results.

Each .rq file opens with ``#`` comment lines: a description, then one ``# @param NAME KIND text``
line per parameter. A parameter is validated for its kind (a CPT code, an ICD-10-CM code, ...),
turned into an RDF term and bound as a value: Oxigraph's pre-binding (substitutions) embedded, a
trailing VALUES clause of serialised terms for a remote endpoint. Query text is never spliced.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cptkg import resources
from cptkg.errors import InputError
from cptkg.icd import normalise as normalise_icd10cm

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PARAM_LINE = re.compile(r"^#\s*@param\s+(?P<name>[a-z][a-zA-Z0-9_]*)\s+(?P<kind>[a-z0-9]+)\s+(?P<doc>.*)$")


# ---------------------------------------------------------------- parameter kinds

@dataclass(frozen=True)
class ParamKind:
    """How to read a parameter value and which IRI (or literal) it becomes."""

    name: str
    pattern: re.Pattern[str]
    namespace: str | None  # None: a plain literal
    example: str

    def to_term(self, raw: str) -> Term:
        value = raw.strip()
        if self.name == "cpt":
            value = value.removeprefix("+")
        if self.name == "icd10cm":
            value = normalise_icd10cm(value)
        if self.name == "nucc":
            value = value.upper()
        if not self.pattern.fullmatch(value):
            raise InputError(f"{raw!r} is not a {self.name} code (for example {self.example})")
        if self.namespace is None:
            return Term("literal", value)
        return Term("uri", self.namespace + value)


KINDS: dict[str, ParamKind] = {
    k.name: k
    for k in (
        ParamKind("cpt", re.compile(r"[0-9]{4}[0-9A-Z]"), "https://w3id.org/cptkg/cpt/", "20701"),
        ParamKind(
            "icd10cm",
            re.compile(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?"),
            "https://w3id.org/cptkg/icd10cm/",
            "T85.735A",
        ),
        ParamKind("nucc", re.compile(r"[0-9]{3}[0-9A-Z]{6}X"), "https://w3id.org/cptkg/nucc/",
                  "207X00000X"),
        ParamKind("pos", re.compile(r"[0-9]{2}"), "https://w3id.org/cptkg/pos/", "21"),
        ParamKind("mspec", re.compile(r"[0-9A-Z]{2}"),
                  "https://w3id.org/cptkg/medicare-specialty/", "20"),
        ParamKind("string", re.compile(r".{1,200}", re.S), None, "text"),
    )
}


# ---------------------------------------------------------------- terms and results

@dataclass(frozen=True)
class Term:
    """An RDF term as SPARQL results carry it (W3C SPARQL 1.1 Query Results JSON)."""

    type: str  # uri | literal | bnode
    value: str
    datatype: str | None = None
    lang: str | None = None

    def n3(self) -> str:
        if self.type == "uri":
            if re.search(r'[\s<>"{}|\\^`]', self.value):
                raise InputError(f"not a usable IRI: {self.value!r}")
            return f"<{self.value}>"
        if self.type == "bnode":
            raise InputError("a blank node cannot be bound as a parameter")
        text = json.dumps(self.value, ensure_ascii=False)  # a valid SPARQL string literal
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype:
            return f"{text}^^<{self.datatype}>"
        return text

    def python(self) -> Any:
        if self.type != "literal" or not self.datatype:
            return self.value
        local = self.datatype.rsplit("#", 1)[-1]
        if local == "boolean":
            return self.value == "true"
        if local in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger"):
            return int(self.value)
        if local in ("decimal", "double", "float"):
            return float(self.value)
        return self.value

    def as_json(self) -> dict[str, str]:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype:
            out["datatype"] = self.datatype
        return out


@dataclass
class QueryResult:
    variables: list[str]
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None

    def as_dicts(self) -> list[dict[str, Any]]:
        return [{k: v.python() for k, v in row.items()} for row in self.rows]

    def column(self, name: str) -> list[Any]:
        return [row[name].python() for row in self.rows if name in row]

    def to_json(self) -> str:
        if self.boolean is not None:
            return json.dumps({"head": {}, "boolean": self.boolean})
        doc = {
            "head": {"vars": self.variables},
            "results": {
                "bindings": [{k: v.as_json() for k, v in row.items()} for row in self.rows]
            },
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)

    def to_csv(self) -> str:
        # W3C SPARQL 1.1 Query Results CSV: header of variable names, plain values, CRLF lines.
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        if self.boolean is not None:
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
            return buf.getvalue()
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow(
                [("_:" + row[v].value if row[v].type == "bnode" else row[v].value)
                 if v in row else "" for v in self.variables]
            )
        return buf.getvalue()

    def to_table(self) -> str:
        if self.boolean is not None:
            return "true" if self.boolean else "false"
        cells = [[row[v].value if v in row else "" for v in self.variables] for row in self.rows]
        widths = [
            min(60, max([len(v)] + [len(r[i]) for r in cells]))
            for i, v in enumerate(self.variables)
        ]

        def fmt(values: Iterable[str]) -> str:
            out = []
            for value, width in zip(values, widths, strict=True):
                text = value if len(value) <= width else value[: width - 1] + "…"
                out.append(text.ljust(width))
            return "  ".join(out).rstrip()

        lines = [fmt(self.variables), fmt("-" * w for w in widths)]
        lines += [fmt(r) for r in cells]
        lines.append(f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})")
        return "\n".join(lines)


# ---------------------------------------------------------------- the library

@dataclass(frozen=True)
class Parameter:
    name: str
    kind: ParamKind
    doc: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    description: str
    parameters: tuple[Parameter, ...]

    def bind(self, params: Mapping[str, str]) -> dict[str, Term]:
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(params) - set(known))
        if unknown:
            expected = ", ".join(known) or "none"
            raise InputError(f"query {self.name} has no parameter {unknown[0]!r} (it takes: {expected})")
        missing = [p.name for p in self.parameters if p.name not in params]
        if missing:
            p = known[missing[0]]
            raise InputError(
                f"query {self.name} needs --param {p.name}=VALUE ({p.doc})"
            )
        bound: dict[str, Term] = {}
        for name, raw in params.items():
            try:
                bound[name] = known[name].kind.to_term(raw)
            except InputError as err:
                raise InputError(f"parameter {name}: {err}") from None
        return bound


def parse_header(name: str, text: str) -> NamedQuery:
    description: list[str] = []
    parameters: list[Parameter] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = PARAM_LINE.match(line)
        if match:
            kind = KINDS.get(match["kind"])
            if kind is None:
                raise ValueError(f"{name}.rq: unknown parameter kind {match['kind']!r}")
            parameters.append(Parameter(match["name"], kind, match["doc"].strip()))
        else:
            description.append(line.lstrip("#").strip())
    return NamedQuery(name, text, " ".join(d for d in description if d), tuple(parameters))


@cache
def library() -> dict[str, NamedQuery]:
    out: dict[str, NamedQuery] = {}
    for f in resources.files("queries", ".rq"):
        name = f.name[: -len(".rq")]
        out[name] = parse_header(name, f.read_text(encoding="utf-8"))
    return out


def get(name: str) -> NamedQuery:
    # Names are looked up in the library, never turned into paths: "../x" cannot escape.
    if not NAME_PATTERN.fullmatch(name) or name not in library():
        close = [n for n in library() if name and name.split("-")[0] in n][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else "; `cptkg queries` lists them"
        raise InputError(f"no named query {name!r}{hint}")
    return library()[name]


# ---------------------------------------------------------------- execution

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
    if not allow_service and _mentions(tree, "ServiceGraphPattern"):
        raise InputError(
            "the query has a SERVICE clause, which would reach the network; "
            "pass --allow-service to run it anyway"
        )


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
             endpoint: str | None = None, timeout: float = 30.0) -> QueryResult:
    text = with_values(text, bindings or {})
    if endpoint:
        return _run_remote(text, endpoint, timeout)
    import pyoxigraph as ox

    if store is None:
        from cptkg.graph import KnowledgeGraph

        store = KnowledgeGraph.default().store
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


def _run_remote(text: str, endpoint: str, timeout: float) -> QueryResult:
    body = urllib.parse.urlencode({"query": text}).encode()
    request = urllib.request.Request(
        endpoint,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            doc = json.load(response)
    except urllib.error.HTTPError as err:
        detail = err.read(300).decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"endpoint {endpoint} answered {err.code}: {detail[0] if detail else err.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise InputError(f"cannot reach endpoint {endpoint}: {reason}") from None
    except json.JSONDecodeError:
        raise InputError(f"endpoint {endpoint} did not answer with SPARQL JSON results") from None
    if "boolean" in doc:
        return QueryResult([], boolean=bool(doc["boolean"]))
    variables = list(doc.get("head", {}).get("vars", []))
    rows = []
    for binding in doc.get("results", {}).get("bindings", []):
        row = {}
        for k, v in binding.items():
            kind = "uri" if v["type"] == "uri" else "bnode" if v["type"] == "bnode" else "literal"
            datatype = v.get("datatype")
            if datatype == "http://www.w3.org/2001/XMLSchema#string":
                datatype = None
            row[k] = Term(kind, v["value"], datatype, v.get("xml:lang"))
        rows.append(row)
    return QueryResult(variables, rows)


def run_named(name: str, params: Mapping[str, str] | None = None, *, store: Any = None,
              endpoint: str | None = None) -> QueryResult:
    named = get(name)
    return run_text(named.text, named.bind(params or {}), store=store, endpoint=endpoint)
