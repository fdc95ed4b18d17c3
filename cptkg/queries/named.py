"""The named queries of queries/: discovery, each file's header (a description, then one
``# @param NAME KIND text`` line per parameter), and parameters checked for their kind (a CPT code,
an ICD-10-CM code, ...) and turned into RDF terms, never spliced into query text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from cptkg.errors import InputError
from cptkg.kg import resources
from cptkg.kg.icd10cm import normalise as normalise_icd10cm
from cptkg.queries.terms import Term

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PARAM_LINE = re.compile(r"^#\s*@param\s+(?P<name>[a-z][a-zA-Z0-9_]*)\s+(?P<kind>[a-z0-9]+)\s+(?P<doc>.*)$")
# Graph quality checks (rows are problems in the graph), kept apart from the user's questions.
QUALITY_SUFFIX = "-violation"


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
            what = "concept IRI of the graph" if self.name == "concept" else f"{self.name} code"
            raise InputError(f"{raw!r} is not a {what} (for example {self.example})")
        if self.name == "concept":
            return Term("uri", value)
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
        # Any coded concept of the graph, by its IRI (the cards of `cptkg show` for every system).
        ParamKind("concept", re.compile(r"https://w3id\.org/cptkg/[a-z0-9-]+/[0-9A-Za-z.+-]{1,40}"), None,
                  "https://w3id.org/cptkg/icd10cm/T85.738A"),
    )
}


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


def questions() -> dict[str, NamedQuery]:
    """The named queries that answer users' questions (the quality checks left out)."""
    return {n: q for n, q in library().items() if not n.endswith(QUALITY_SUFFIX)}


def quality_checks() -> dict[str, NamedQuery]:
    """The graph's checks of itself (queries/*-violation.rq): each row is a problem."""
    return {n: q for n, q in library().items() if n.endswith(QUALITY_SUFFIX)}
