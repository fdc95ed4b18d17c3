"""SPARQL to DuckDB SQL: the compiled checks' queries (cptkg.rules.compiler), translated from
rdflib's SPARQL algebra into one SQL SELECT each, over a table of quads whose terms are encoded
as one string each (see ``encode``).

Terms. Every RDF term is one VARCHAR: an IRI is ``<`` + the IRI, a blank node ``_`` + its label,
a literal ``"`` + its datatype IRI (or ``@`` + its language tag) + ``"`` + its lexical form. Term
equality is string equality, so joins, DISTINCT and GROUP BY compare terms exactly as SPARQL
does, and a value computed by BIND (a STRAFTER, a CONCAT) is a term without a dictionary lookup:
that is why strings were chosen over integer ids with a terms table (measured: a dictionary made
every computed value a round trip, and the loading of a batch twice as slow).

Semantics. An unbound variable or an expression error is SQL NULL: SQL's three-valued AND, OR
and NOT are SPARQL's error rules for ``&&``, ``||`` and ``!``, and a FILTER drops both false and
NULL. Comparisons are by value (numbers, strings, dates, booleans) as SPARQL's operator mapping
says; ``sameTerm`` and joins by term. OPTIONAL, MINUS and joins follow SPARQL's compatible
mappings: a variable that may be unbound on either side is joined as "unbound, or equal".

What is not translated raises ``SqlUnsupported`` naming the SPARQL feature; the DuckDB engine
then runs that check on Oxigraph (never skips it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import RDF, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath

from cptkg.rules.compiler import UnsupportedShape

XSD_NS = str(XSD)
STRING = XSD_NS + "string"
BOOLEAN = XSD_NS + "boolean"
INTEGER = XSD_NS + "integer"
DECIMAL = XSD_NS + "decimal"
DOUBLE = XSD_NS + "double"
DATE = XSD_NS + "date"
DATETIME = XSD_NS + "dateTime"
LANG_STRING = str(RDF.langString)
INTEGER_TYPES = tuple(XSD_NS + t for t in (
    "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
    "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    "positiveInteger"))
NUMERIC_TYPES = (*INTEGER_TYPES, DECIMAL, XSD_NS + "float", DOUBLE)
KNOWN_TYPES = (*NUMERIC_TYPES, STRING, BOOLEAN, DATE, DATETIME)
SIMPLE_PREFIX = '"' + STRING + '"'


class SqlUnsupported(UnsupportedShape):
    """A query uses SPARQL the SQL translation does not cover (the engine runs it on Oxigraph)."""

    def __init__(self, feature: str) -> None:
        super().__init__(feature)
        self.feature = feature


# ---- terms -------------------------------------------------------------------------------------

def encode(term: Any) -> str:
    """The one-string form of an rdflib term."""
    # f-strings, not +: an rdflib term added to a string gives a term (URIRef.__radd__).
    if isinstance(term, URIRef):
        return f"<{term}"
    if isinstance(term, BNode):
        return f"_{term}"
    if isinstance(term, Literal):
        if term.language:
            return f'"@{term.language.lower()}"{term}'
        return f'"{term.datatype or STRING}"{term}'
    raise SqlUnsupported(f"the term {term!r}")


def decode(text: str) -> Any:
    """The rdflib term of an encoded one."""
    kind = text[0]
    if kind == "<":
        return URIRef(text[1:])
    if kind == "_":
        return BNode(text[1:])
    tag, _, lexical = text[1:].partition('"')
    if tag.startswith("@"):
        return Literal(lexical, lang=tag[1:])
    if tag == STRING:
        return Literal(lexical)
    return Literal(lexical, datatype=URIRef(tag))


def lexical(text: str) -> str:
    """str() of the term an encoded one stands for (what pySHACL puts in a message)."""
    if text[0] == '"':
        return text[1:].partition('"')[2]
    return text[1:]


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


def _alternatives(iris: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(i) for i in iris) + ")"


_FLOATING = (XSD_NS + "float", DOUBLE)
_NUMBER_PATTERN = (
    f'^"{_alternatives(INTEGER_TYPES)}"\\s*([+-]?[0-9]+)\\s*$'
    f'|^"{re.escape(DECIMAL)}"\\s*([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))\\s*$'
    f'|^"{_alternatives(_FLOATING)}"\\s*([+-]?(?:(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF|NaN))\\s*$')
_BOOLEANS = [f'"{BOOLEAN}"{b}' for b in ("false", "0", "true", "1")]


def _comparison(op: str) -> str:
    """A macro for one of SPARQL's ordering operators on terms whose datatypes are not known when
    translating: numbers, plain strings, dates, date-times and booleans, each only with its own."""
    return f"""CREATE OR REPLACE MACRO rdf_{ {'<': 'lt', '>': 'gt', '<=': 'le', '>=': 'ge'}[op] }(a, b) AS CASE
    WHEN t_class(a) <> t_class(b) THEN NULL
    WHEN t_class(a) = 1 THEN t_num(a) {op} t_num(b)
    WHEN t_class(a) = 2 THEN a {op} b
    WHEN t_class(a) = 3 THEN t_date(a) {op} t_date(b)
    WHEN t_class(a) = 4 THEN t_datetime(a) {op} t_datetime(b)
    WHEN t_class(a) = 5 THEN t_bool(a) {op} t_bool(b) END;
"""


# The SQL macros the translated queries call: the parts of an encoded term, SPARQL's value
# comparisons and effective boolean value. Each reads its argument once where it can (a regular
# expression over the whole term): a macro's argument is copied into its body at each mention,
# and DuckDB's planning time grows with the expanded expression. NULL in, NULL out (an error).
MACROS = f"""
CREATE OR REPLACE MACRO t_tag(t) AS split_part(t, '"', 2);
CREATE OR REPLACE MACRO t_lex(t) AS regexp_replace(t, '^(?:"[^"]*"|<)', '');
CREATE OR REPLACE MACRO t_str(t) AS CASE WHEN NOT starts_with(t, '_') THEN {quote(SIMPLE_PREFIX)} || t_lex(t) END;
CREATE OR REPLACE MACRO t_isstr(t) AS regexp_matches(t, {quote('^"(?:@|' + re.escape(STRING) + '")')});
CREATE OR REPLACE MACRO t_isnumtag(t) AS regexp_matches(t, {quote('^"' + _alternatives(NUMERIC_TYPES) + '"')});
CREATE OR REPLACE MACRO t_num(t) AS TRY_CAST(regexp_replace(t, {quote(_NUMBER_PATTERN)}, '\\1\\2\\3') AS DOUBLE);
CREATE OR REPLACE MACRO t_date(t) AS TRY_CAST(regexp_replace(t,
    {quote('^"' + re.escape(DATE) + '"(-?[0-9]{4,}-[0-9]{2}-[0-9]{2})$')}, '\\1') AS DATE);
CREATE OR REPLACE MACRO t_datetime(t) AS TRY_CAST(regexp_replace(t,
    {quote('^"' + re.escape(DATETIME) + '"(-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.][0-9]+)?)$')},
    '\\1') AS TIMESTAMP);
CREATE OR REPLACE MACRO t_bool(t) AS
    nullif(list_position({'[' + ', '.join(quote(b) for b in _BOOLEANS) + ']'}, t), 0) > 2;
CREATE OR REPLACE MACRO t_known(t) AS regexp_matches(t, {quote('^"(?:@|' + _alternatives(KNOWN_TYPES) + '")')});
CREATE OR REPLACE MACRO t_unknown(t) AS starts_with(t, '"') AND NOT t_known(t);
CREATE OR REPLACE MACRO t_class(t) AS CASE WHEN t_isnumtag(t) THEN 1
    WHEN starts_with(t, {quote(SIMPLE_PREFIX)}) THEN 2
    WHEN starts_with(t, {quote('"' + DATE + '"')}) THEN 3
    WHEN starts_with(t, {quote('"' + DATETIME + '"')}) THEN 4
    WHEN starts_with(t, {quote('"' + BOOLEAN + '"')}) THEN 5 END;
CREATE OR REPLACE MACRO t_ebv(t) AS CASE
    WHEN starts_with(t, {quote('"' + BOOLEAN + '"')}) THEN coalesce(t_bool(t), FALSE)
    WHEN t_isnumtag(t) THEN coalesce(t_num(t) <> 0 AND NOT isnan(t_num(t)), FALSE)
    WHEN starts_with(t, {quote(SIMPLE_PREFIX)}) THEN length(t) > {len(SIMPLE_PREFIX)} END;
CREATE OR REPLACE MACRO rdf_eq(a, b) AS CASE
    WHEN a IS NULL OR b IS NULL THEN NULL
    WHEN a = b THEN TRUE
    WHEN t_class(a) <> t_class(b) THEN CASE WHEN t_unknown(a) OR t_unknown(b) THEN NULL ELSE FALSE END
    WHEN t_class(a) = 1 THEN t_num(a) = t_num(b)
    WHEN t_class(a) = 3 THEN t_date(a) = t_date(b)
    WHEN t_class(a) = 4 THEN t_datetime(a) = t_datetime(b)
    WHEN t_class(a) = 5 THEN t_bool(a) = t_bool(b)
    WHEN t_unknown(a) OR t_unknown(b) THEN NULL
    ELSE FALSE END;
{_comparison('<')}{_comparison('>')}{_comparison('<=')}{_comparison('>=')}
CREATE OR REPLACE MACRO t_rank(t) AS CASE WHEN t IS NULL THEN 0 WHEN starts_with(t, '_') THEN 1
    WHEN starts_with(t, '<') THEN 2 ELSE 3 END;
CREATE OR REPLACE MACRO t_int(n) AS {quote('"' + INTEGER + '"')} || CAST(n AS VARCHAR);
"""

TRUE_TERM = '"' + BOOLEAN + '"true'
FALSE_TERM = '"' + BOOLEAN + '"false'


# ---- relations ---------------------------------------------------------------------------------

def col(name: str) -> str:
    """A variable's column: its SPARQL name, quoted (any character a SPARQL name allows)."""
    return '"?' + name.replace('"', '""') + '"'


@dataclass
class Rel:
    """A solution sequence as SQL: a SELECT whose columns are the variables (``vars``, in order),
    ``certain`` the ones bound in every row, ``order`` the variables it is sorted by (kept through
    DISTINCT and projection, for GROUP_CONCAT over an ordered sub-select)."""

    sql: str
    vars: tuple[str, ...]
    certain: frozenset[str]
    order: tuple[tuple[str, bool], ...] = ()
    types: Mapping[str, str] = field(default_factory=dict)  # a variable's datatype, when known

    def select_list(self, alias: str) -> str:
        return ", ".join(f"{alias}.{col(v)}" for v in self.vars) or "TRUE AS \"_unit\""


def _unit() -> Rel:
    return Rel('SELECT TRUE AS "_unit"', (), frozenset())


def _empty(vars_: Iterable[str]) -> Rel:
    names = tuple(dict.fromkeys(vars_))
    columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {col(v)}" for v in names) or 'TRUE AS "_unit"'
    return Rel(f"SELECT {columns} WHERE FALSE", names, frozenset(names))


@dataclass
class Tables:
    """What the SQL reads: the quads view, the closure tables of the paths' predicates, the nodes
    of the graph (for zero-length paths with both ends free)."""

    quads: str = "quads"
    nodes: str = "nodes"
    closure: Scope = field(default=lambda _p: None)


@dataclass
class Translation:
    """One query's SQL, its output variables, and the predicates whose closures it reads."""

    sql: str
    vars: tuple[str, ...]
    closures: frozenset[str]


class Translator:
    """Translates one SELECT query (rdflib's algebra) into SQL over ``tables``."""

    def __init__(self, closure_predicates: Callable[[str], bool]) -> None:
        # Which predicates have a closure table (the graph's fixed facts); others under * or +
        # become a recursive CTE in the query.
        self._has_closure = closure_predicates
        self._aliases = itertools.count(1)
        self._fresh = itertools.count(1)
        self.closures: set[str] = set()

    def alias(self) -> str:
        return f"r{next(self._aliases)}"

    # -- entry --

    def translate(self, query_text: str) -> Translation:
        from rdflib.plugins.sparql.algebra import translateQuery
        from rdflib.plugins.sparql.parser import parseQuery

        try:
            query = translateQuery(parseQuery(query_text))
        except Exception as err:  # rdflib's parser raises pyparsing's and its own errors
            raise SqlUnsupported(f"SPARQL rdflib cannot parse ({' '.join(str(err).split())[:120]})") from None
        algebra = query.algebra
        if algebra.name != "SelectQuery":
            raise SqlUnsupported(f"a {algebra.name}")
        if _arg(algebra, "datasetClause"):
            raise SqlUnsupported("FROM (a dataset clause)")
        rel = self.node(algebra.p, {})
        names = tuple(str(v) for v in algebra.PV)
        a = self.alias()
        columns = ", ".join(f"{a}.{col(v)}" if v in rel.vars else f"NULL AS {col(v)}" for v in names)
        return Translation(f"SELECT {columns or 'TRUE'} FROM ({rel.sql}) {a}", names, frozenset(self.closures))

    # -- graph patterns --

    def node(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        name = getattr(n, "name", type(n).__name__)
        method = getattr(self, "_p_" + name, None)
        if method is None:
            raise SqlUnsupported(_FEATURE_NAMES.get(name, name))
        rel: Rel = method(n, outer)
        return rel

    def _p_BGP(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        return self.bgp(list(n.triples), outer)

    def bgp(self, triples: list[Any], outer: Mapping[str, Val]) -> Rel:
        if not triples:
            return _unit()
        sources: list[str] = []
        where: list[str] = []
        bound: dict[str, str] = {}

        def term_at(value: Any, column: str) -> None:
            if isinstance(value, (Variable, BNode)):
                name = _var_name(value)
                given = outer.get(name) if isinstance(value, Variable) else None
                if given is not None and given.bound:
                    # Inside EXISTS, an outer variable bound on every row is substituted (as
                    # SPARQL defines EXISTS): the pattern is correlated on it column by column,
                    # which DuckDB pushes into the scan instead of joining the inner pattern's
                    # triples with each other first (DocumentationComplete paired every line's
                    # informationSequence with every supportingInfo's sequence of the batch).
                    where.append(f"{column} = {term_of(given)}")
                elif name in bound:
                    where.append(f"{column} = {bound[name]}")
                else:
                    bound[name] = column
            else:
                where.append(f"{column} = {quote(encode(value))}")

        for s, p, o in triples:
            a = self.alias()
            if isinstance(p, Path):
                sources.append(f"({self.path_pairs(p, s, o)}) {a}")
            else:
                sources.append(f"{_QUADS} {a}")
                term_at(p, f"{a}.p")
            term_at(s, f"{a}.s")
            term_at(o, f"{a}.o")
        names = tuple(bound)
        columns = ", ".join(f"{bound[v]} AS {col(v)}" for v in names) or 'TRUE AS "_unit"'
        sql = f"SELECT {columns} FROM {', '.join(sources)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return Rel(sql, names, frozenset(names))

    def path_pairs(self, path: Any, s: Any, o: Any) -> str:
        """SQL of the (s, o) pairs a property path connects; ``s`` and ``o`` are the triple's ends
        (a constant end gives a zero-length path its one node, as SPARQL says)."""
        if isinstance(path, URIRef):
            return f"SELECT s, o FROM {_QUADS} WHERE p = {quote(encode(path))}"
        if isinstance(path, InvPath):
            return f"SELECT o AS s, s AS o FROM ({self.path_pairs(path.arg, None, None)}) {self.alias()}"
        if isinstance(path, SequencePath):
            parts = [self.path_pairs(a, None, None) for a in path.args]
            sql = parts[0]
            for part in parts[1:]:
                left, right = self.alias(), self.alias()
                sql = f"SELECT {left}.s, {right}.o FROM ({sql}) {left} JOIN ({part}) {right} ON {left}.o = {right}.s"
            return sql
        if isinstance(path, AlternativePath):
            return " UNION ALL ".join(f"SELECT s, o FROM ({self.path_pairs(a, None, None)}) {self.alias()}"
                                      for a in path.args)
        if isinstance(path, NegatedPath):
            forward = [quote(encode(a)) for a in path.args if isinstance(a, URIRef)]
            backward = [quote(encode(a.arg)) for a in path.args if isinstance(a, InvPath)]
            parts = []
            if forward or not backward:
                parts.append(f"SELECT s, o FROM {_QUADS} WHERE p NOT IN ({', '.join(forward) or 'NULL'})"
                             if forward else f"SELECT s, o FROM {_QUADS}")
            if backward:
                parts.append(f"SELECT o AS s, s AS o FROM {_QUADS} WHERE p NOT IN ({', '.join(backward)})")
            return " UNION ALL ".join(parts)
        if isinstance(path, MulPath):
            plus = self._plus(path.path)
            if path.mod == "+":
                return plus
            if isinstance(s, (URIRef, Literal)):
                identity = f"SELECT {quote(encode(s))} AS s, {quote(encode(s))} AS o"
            elif isinstance(o, (URIRef, Literal)):
                identity = f"SELECT {quote(encode(o))} AS s, {quote(encode(o))} AS o"
            else:
                identity = f"SELECT n AS s, n AS o FROM {_NODES}"
            if path.mod == "*":
                a = self.alias()
                return f"SELECT s, o FROM ({plus}) {a} WHERE s <> o UNION ALL {identity}"
            if path.mod == "?":
                a = self.alias()
                one = self.path_pairs(path.path, None, None)
                return f"SELECT DISTINCT s, o FROM ({one}) {a} WHERE s <> o UNION ALL {identity}"
        raise SqlUnsupported(f"the property path {path!r}")

    def _plus(self, path: Any) -> str:
        """The pairs of one or more steps of ``path``, distinct: a closure table when the path is a
        predicate of the fixed facts, else a recursive CTE."""
        if isinstance(path, URIRef) and self._has_closure(str(path)):
            self.closures.add(str(path))
            return f"SELECT s, o FROM {closure_table(str(path))}"
        step = self.path_pairs(path, None, None)
        a = self.alias()
        return (f"SELECT s, o FROM (WITH RECURSIVE {a}(s, o) AS ({step} UNION SELECT {a}.s, e.o FROM {a} "
                f"JOIN ({step}) e ON {a}.o = e.s) SELECT s, o FROM {a}) {self.alias()}")

    def _p_Join(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        return self.join(self.node(n.p1, outer), self.node(n.p2, outer))

    def join(self, left: Rel, right: Rel, condition: Callable[[Scope], str] | None = None,
             kind: str = "JOIN") -> Rel:
        la, ra = self.alias(), self.alias()
        shared = [v for v in left.vars if v in right.vars]
        on: list[str] = []
        columns: list[str] = []
        for v in left.vars:
            if v in shared:
                if v in left.certain and v in right.certain:
                    on.append(f"{la}.{col(v)} = {ra}.{col(v)}")
                    columns.append(f"{la}.{col(v)} AS {col(v)}")
                else:
                    on.append(f"({la}.{col(v)} IS NULL OR {ra}.{col(v)} IS NULL OR {la}.{col(v)} = {ra}.{col(v)})")
                    columns.append(f"COALESCE({la}.{col(v)}, {ra}.{col(v)}) AS {col(v)}")
            else:
                columns.append(f"{la}.{col(v)} AS {col(v)}")
        columns += [f"{ra}.{col(v)} AS {col(v)}" for v in right.vars if v not in shared]
        types = {v: t for v, t in left.types.items() if v not in shared or right.types.get(v) == t}
        types.update({v: t for v, t in right.types.items() if v not in shared})
        if condition is not None:
            def merged(v: str) -> Val | None:
                if v in shared:
                    if v in left.certain and v in right.certain:
                        return Val(term=f"{la}.{col(v)}", tag=types.get(v))
                    return Val(term=f"COALESCE({la}.{col(v)}, {ra}.{col(v)})", tag=types.get(v))
                if v in left.vars:
                    return Val(term=f"{la}.{col(v)}", tag=types.get(v))
                if v in right.vars:
                    return Val(term=f"{ra}.{col(v)}", tag=types.get(v))
                return None
            on.append(condition(merged))
        names = tuple(dict.fromkeys([*left.vars, *right.vars]))
        certain = left.certain | right.certain if kind == "JOIN" else left.certain
        sql = (f"SELECT {', '.join(columns) or 'TRUE AS _unit'} FROM ({left.sql}) {la} {kind} "
               f"({right.sql}) {ra} ON {' AND '.join(on) or 'TRUE'}")
        return Rel(sql, names, frozenset(certain), types=types)

    def _p_LeftJoin(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        left, right = self.node(n.p1, outer), self.node(n.p2, outer)
        expr = n.expr
        condition = None
        if expr is not None and getattr(expr, "name", None) != "TrueFilter":
            def condition(scope: Scope) -> str:
                return self.cond(expr, _with_outer(scope, outer), outer)
        return self.join(left, right, condition, kind="LEFT JOIN")

    def _p_Filter(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        a = self.alias()
        condition = self.cond(n.expr, _with_outer(_scope(inner, a), outer), outer)
        return Rel(f"SELECT {inner.select_list(a)} FROM ({inner.sql}) {a} WHERE {condition}",
                   inner.vars, inner.certain, inner.order, inner.types)

    def _p_Extend(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        a = self.alias()
        name = str(n.var)
        computed = self.val(n.expr, _with_outer(_scope(inner, a), outer), outer)
        value = term_of(computed)
        kept = [f"{a}.{col(v)}" for v in inner.vars if v != name]
        names = (*(v for v in inner.vars if v != name), name)
        certain = inner.certain - {name}
        if isinstance(n.expr, Variable) and str(n.expr) in inner.certain:
            certain |= {name}
        types = {v: t for v, t in inner.types.items() if v != name}
        if computed.tag is not None:
            types[name] = computed.tag
        elif computed.cond is not None:
            types[name] = BOOLEAN
        return Rel(f"SELECT {', '.join([*kept, f'{value} AS {col(name)}'])} FROM ({inner.sql}) {a}",
                   names, frozenset(certain), inner.order, types)

    def _p_Union(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        left, right = self.node(n.p1, outer), self.node(n.p2, outer)
        names = tuple(dict.fromkeys([*left.vars, *right.vars]))

        def side(rel: Rel) -> str:
            a = self.alias()
            columns = ", ".join(f"{a}.{col(v)}" if v in rel.vars else f"CAST(NULL AS VARCHAR) AS {col(v)}"
                                for v in names) or 'TRUE AS "_unit"'
            return f"SELECT {columns} FROM ({rel.sql}) {a}"

        types = {v: t for v, t in left.types.items() if right.types.get(v) == t}
        return Rel(f"{side(left)} UNION ALL {side(right)}", names, left.certain & right.certain, types=types)

    def _p_Minus(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        left, right = self.node(n.p1, outer), self.node(n.p2, outer)
        shared = [v for v in left.vars if v in right.vars]
        if not shared:
            return left
        la, ra = self.alias(), self.alias()
        compatible = " AND ".join(
            f"({la}.{col(v)} IS NULL OR {ra}.{col(v)} IS NULL OR {la}.{col(v)} = {ra}.{col(v)})" for v in shared)
        overlap = " OR ".join(f"({la}.{col(v)} IS NOT NULL AND {ra}.{col(v)} IS NOT NULL)" for v in shared)
        return Rel(f"SELECT {left.select_list(la)} FROM ({left.sql}) {la} WHERE NOT EXISTS "
                   f"(SELECT 1 FROM ({right.sql}) {ra} WHERE {compatible} AND ({overlap}))",
                   left.vars, left.certain, left.order, left.types)

    def _p_ToMultiSet(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        # A sub-select: its own scope (the outer row is not visible inside it).
        return self.node(n.p, {} if getattr(n.p, "name", "") == "Project" else outer)

    def _p_Project(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        names = tuple(str(v) for v in n.PV)
        a = self.alias()
        columns = ", ".join(f"{a}.{col(v)}" if v in inner.vars else f"CAST(NULL AS VARCHAR) AS {col(v)}"
                            for v in names) or 'TRUE AS "_unit"'
        order = tuple((v, d) for v, d in inner.order if v in names)
        if len(order) != len(inner.order):
            order = ()
        return Rel(f"SELECT {columns} FROM ({inner.sql}) {a}", names, inner.certain & set(names), order,
                   {v: t for v, t in inner.types.items() if v in names})

    def _p_Distinct(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        a = self.alias()
        return Rel(f"SELECT DISTINCT {inner.select_list(a)} FROM ({inner.sql}) {a}", inner.vars,
                   inner.certain, inner.order, inner.types)

    def _p_Reduced(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        return self._p_Distinct(n, outer)

    def _p_OrderBy(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        order = []
        for condition in n.expr:
            expr = getattr(condition, "expr", condition)
            if not isinstance(expr, Variable):
                return inner  # ordered by an expression: the order is not kept (only GROUP_CONCAT reads it)
            order.append((str(expr), getattr(condition, "order", None) == "DESC"))
        return Rel(inner.sql, inner.vars, inner.certain, tuple(order), inner.types)

    def _p_Slice(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        inner = self.node(n.p, outer)
        a = self.alias()
        limit = f" LIMIT {int(n.length)}" if n.length is not None else ""
        offset = f" OFFSET {int(n.start)}" if n.start else ""
        order = ""
        if inner.order:
            order = " ORDER BY " + ", ".join(_order_keys(f"{a}.{col(v)}", d) for v, d in inner.order)
        return Rel(f"SELECT {inner.select_list(a)} FROM ({inner.sql}) {a}{order}{limit}{offset}",
                   inner.vars, inner.certain, inner.order, inner.types)

    def _p_values(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        rows = list(n.res)
        names = tuple(dict.fromkeys(str(v) for row in rows for v in row))
        if not rows:
            return _empty(names)
        if not names:
            return Rel(" UNION ALL ".join('SELECT TRUE AS "_unit"' for _ in rows), (), frozenset())
        selects = []
        for row in rows:
            given = {str(k): v for k, v in row.items()}
            cells = []
            for v in names:
                value = given.get(v, "UNDEF")
                cell = "CAST(NULL AS VARCHAR)" if value == "UNDEF" or value is None else quote(encode(value))
                cells.append(f"{cell} AS {col(v)}")
            selects.append("SELECT " + ", ".join(cells))
        certain = frozenset(v for v in names if all(row.get(Variable(v), "UNDEF") not in ("UNDEF", None)
                                                    for row in rows))
        return Rel(" UNION ALL ".join(selects), names, certain)

    def _p_AggregateJoin(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        group = n.p
        if getattr(group, "name", "") != "Group":
            raise SqlUnsupported(f"aggregates over a {getattr(group, 'name', group)}")
        inner = self.node(group.p, outer)
        a = self.alias()
        scope = _with_outer(_scope(inner, a), outer)
        keys: list[str] = []
        key_vars: set[str] = set()
        for expr in group.expr or []:
            if isinstance(expr, Variable):
                key_vars.add(str(expr))
            keys.append(self.term(expr, scope, outer))
        columns = []
        names = []
        certain = set()
        types: dict[str, str] = {}
        for aggregate in n.A:
            result = str(aggregate.res)
            names.append(result)
            if aggregate.name == "Aggregate_Count":
                types[result] = INTEGER
            elif aggregate.name == "Aggregate_GroupConcat":
                types[result] = STRING
            elif aggregate.name == "Aggregate_Sample" and isinstance(aggregate.vars, Variable) and \
                    str(aggregate.vars) in inner.types:
                types[result] = inner.types[str(aggregate.vars)]
            columns.append(f"{self.aggregate(aggregate, scope, outer, key_vars, inner.order, a)} AS {col(result)}")
            if aggregate.name == "Aggregate_Count":
                certain.add(result)
            if aggregate.name == "Aggregate_Sample" and isinstance(aggregate.vars, Variable) and \
                    str(aggregate.vars) in key_vars and str(aggregate.vars) in inner.certain:
                certain.add(result)
        sql = f"SELECT {', '.join(columns) or 'TRUE AS _unit'} FROM ({inner.sql}) {a}"
        if keys:
            sql += " GROUP BY " + ", ".join(keys)
        return Rel(sql, tuple(names), frozenset(certain), types=types)

    def aggregate(self, agg: Any, scope: Scope, outer: Mapping[str, Val],
                  key_vars: set[str], order: tuple[tuple[str, bool], ...], alias: str) -> str:
        distinct = _arg(agg, "distinct") == "DISTINCT"
        name = agg.name
        if name == "Aggregate_Count":
            if agg.vars == "*":
                if distinct:
                    raise SqlUnsupported("COUNT(DISTINCT *)")
                return "t_int(count(*))"
            value = self.term(agg.vars, scope, outer)
            return f"t_int(count({'DISTINCT ' if distinct else ''}{value}))"
        value = self.term(agg.vars, scope, outer)
        if name == "Aggregate_Sample":
            if isinstance(agg.vars, Variable) and str(agg.vars) in key_vars:
                # The group key itself, not any_value() of it: DuckDB then knows the column is the
                # key, and a join on it stays a join on every key (any_value() of the keys made
                # UnitsPerSite join lines across claims by code alone: 21 million rows at 5,000 claims).
                return value
            return f"min({value})"
        if distinct and name != "Aggregate_GroupConcat":
            raise SqlUnsupported(f"{name.removeprefix('Aggregate_').upper()}(DISTINCT ...)")
        if name == "Aggregate_Sum":
            # SPARQL: integers sum to an integer, else a decimal or double; a non-number is an error.
            return (f"CASE WHEN count(*) = 0 THEN t_int(0) WHEN count(*) <> count(t_num({value})) THEN NULL "
                    f"WHEN bool_and(t_tag({value}) IN {_in_list(INTEGER_TYPES)}) "
                    f"THEN t_int(sum(TRY_CAST(trim(t_lex({value})) AS HUGEINT))) "
                    f"WHEN bool_or(t_tag({value}) IN {_in_list((DOUBLE, XSD_NS + 'float'))}) "
                    f"THEN {quote(chr(34) + DOUBLE + chr(34))} || sparql_double(sum(t_num({value}))) "
                    f"ELSE {quote(chr(34) + DECIMAL + chr(34))} || sparql_decimal(sum(t_num({value}))) END")
        if name in ("Aggregate_Min", "Aggregate_Max"):
            pick = "arg_min" if name == "Aggregate_Min" else "arg_max"
            plain = "min" if name == "Aggregate_Min" else "max"
            # Numbers by value, plain strings in code point order, else by kind then text.
            return (f"CASE WHEN bool_and(t_isnumtag({value})) FILTER (WHERE {value} IS NOT NULL) "
                    f"THEN {pick}({value}, t_num({value})) "
                    f"WHEN bool_and(starts_with({value}, {quote(SIMPLE_PREFIX)})) FILTER (WHERE {value} IS NOT NULL) "
                    f"THEN {plain}({value}) "
                    f"ELSE {pick}({value}, (t_rank({value}), t_lex({value}))) END")
        if name == "Aggregate_GroupConcat":
            separator = str(agg.separator) if _arg(agg, "separator") is not None else " "
            text = f"t_lex({value})"
            keys = ", ".join(_order_keys(f"{alias}.{col(v)}", d) for v, d in order) if order else text
            if distinct:
                return (f"{quote(SIMPLE_PREFIX)} || coalesce(string_agg(DISTINCT {text}, {quote(separator)} "
                        f"ORDER BY {text}), '')")
            return f"{quote(SIMPLE_PREFIX)} || coalesce(string_agg({text}, {quote(separator)} ORDER BY {keys}), '')"
        if name == "Aggregate_Avg":
            raise SqlUnsupported("AVG")
        raise SqlUnsupported(name)

    def _p_Group(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        raise SqlUnsupported("GROUP BY without an aggregate")

    def _p_SelectQuery(self, n: Any, outer: Mapping[str, Val]) -> Rel:
        return self.node(n.p, outer)

    #
    # An expression compiles to a Val: SQL for its term and, where the translation knows them, its
    # datatype (a constant), lexical form, number or truth value. Functions read the parts they
    # need, so a type the translation knows costs no test in SQL, and no SQL fragment is repeated
    # inside another: DuckDB's planner grew with the square of a nested expression's size (an
    # expression over macros that each read their argument several times took seconds to plan).

    def cond(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> str:
        """An expression as a SQL boolean: its effective boolean value (NULL: an error)."""
        return ebv(self.val(e, scope, outer))

    def term(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> str:
        """An expression as SQL giving an encoded term (NULL: unbound or an error)."""
        return term_of(self.val(e, scope, outer))

    def val(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> Val:
        if isinstance(e, Variable):
            return scope(str(e)) or Val(term="CAST(NULL AS VARCHAR)")
        if isinstance(e, URIRef):
            return Val(term=quote(encode(e)), tag=IRI_KIND, lex=quote(str(e)))
        if isinstance(e, Literal):
            return _constant(e)
        if isinstance(e, BNode):
            raise SqlUnsupported("a blank node in an expression")
        name = getattr(e, "name", None)
        if name is None:
            raise SqlUnsupported(f"the expression {e!r}")
        v = lambda x: self.val(x, scope, outer)  # noqa: E731
        if name == "ConditionalAndExpression":
            return Val(cond="(" + " AND ".join(ebv(v(x)) for x in [e.expr, *e.other]) + ")")
        if name == "ConditionalOrExpression":
            return Val(cond="(" + " OR ".join(ebv(v(x)) for x in [e.expr, *e.other]) + ")")
        if name == "UnaryNot":
            return Val(cond=f"(NOT {ebv(v(e.expr))})")
        if name == "RelationalExpression":
            return Val(cond=self.relation(e, scope, outer))
        if name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            return Val(cond=self.exists(e, scope, outer))
        if name == "Builtin_BOUND":
            return Val(cond=f"({term_of(v(e.arg))} IS NOT NULL)")
        if name == "Builtin_sameTerm":
            return Val(cond=f"({term_of(v(e.arg1))} = {term_of(v(e.arg2))})")
        if name in ("Builtin_isIRI", "Builtin_isURI"):
            return Val(cond=f"starts_with({term_of(v(e.arg))}, '<')")
        if name == "Builtin_isBLANK":
            return Val(cond=f"starts_with({term_of(v(e.arg))}, '_')")
        if name == "Builtin_isLITERAL":
            return Val(cond=f"starts_with({term_of(v(e.arg))}, '\"')")
        if name == "Builtin_isNUMERIC":
            x = v(e.arg)
            return Val(cond=f"(CASE WHEN {term_of(x)} IS NOT NULL THEN {number(x)} IS NOT NULL END)")
        if name == "Builtin_REGEX":
            text = v(e.text)
            pattern = _constant_string(e.pattern, "REGEX with a pattern that is not a constant")
            flags = _flags(e, "REGEX")
            options = _regex_options(flags)
            test = f"regexp_matches({lex_of(text)}, {quote(_regex(pattern))}{', ' + quote(options) if options else ''})"
            return Val(cond=_when(is_string(text), test))
        if name in ("Builtin_STRSTARTS", "Builtin_STRENDS", "Builtin_CONTAINS"):
            a, b = v(e.arg1), v(e.arg2)
            function = {"Builtin_STRSTARTS": "starts_with", "Builtin_STRENDS": "ends_with",
                        "Builtin_CONTAINS": "contains"}[name]
            return Val(cond=_when(f"{is_string(a)} AND {is_string(b)}", f"{function}({lex_of(a)}, {lex_of(b)})"))
        if name == "Builtin_STR":
            x = v(e.arg)
            if x.tag is not None and x.tag != IRI_KIND:
                return Val(tag=STRING, lex=lex_of(x))
            if x.tag == IRI_KIND:
                return Val(tag=STRING, lex=lex_of(x))
            return Val(tag=STRING, lex=f"t_lex({term_of(x)})")  # a blank node: NULL, an error
        if name == "Builtin_LANGMATCHES":
            # RFC 4647 basic filtering, as SPARQL defines it: "*" matches any non-empty tag; else
            # the range itself or the range followed by "-", case-insensitively.
            a, b = v(e.arg1), v(e.arg2)
            tag, wanted = lex_of(a), lex_of(b)
            return Val(cond=_when(f"{is_simple(a)} AND {is_simple(b)}",
                                  f"(CASE WHEN {wanted} = '*' THEN {tag} <> '' ELSE lower({tag}) = lower({wanted}) "
                                  f"OR starts_with(lower({tag}), lower({wanted}) || '-') END)"))
        if name == "Builtin_LANG":
            t = term_of(v(e.arg))
            return Val(tag=STRING, lex=f"(CASE WHEN starts_with({t}, '\"@') THEN substr(t_tag({t}), 2) "
                                        f"WHEN starts_with({t}, '\"') THEN '' END)")
        if name == "Builtin_DATATYPE":
            x = v(e.arg)
            if x.tag is not None and x.tag != IRI_KIND and not x.tag.startswith("@"):
                return Val(tag=IRI_KIND, lex=_when(f"{lex_of(x)} IS NOT NULL", quote(x.tag)))
            t = term_of(x)
            return Val(tag=IRI_KIND, lex=f"(CASE WHEN starts_with({t}, '\"@') THEN {quote(LANG_STRING)} "
                                          f"WHEN starts_with({t}, '\"') THEN t_tag({t}) END)")
        if name == "Builtin_IF":
            c = ebv(v(e.arg1))
            a, b = v(e.arg2), v(e.arg3)
            if a.cond is not None and b.cond is not None:
                return Val(cond=f"(CASE WHEN {c} THEN {a.cond} WHEN NOT {c} THEN {b.cond} END)")
            if a.tag is not None and a.tag == b.tag:
                return Val(tag=a.tag, lex=f"(CASE WHEN {c} THEN {lex_of(a)} WHEN NOT {c} THEN {lex_of(b)} END)")
            return Val(term=f"(CASE WHEN {c} THEN {term_of(a)} WHEN NOT {c} THEN {term_of(b)} END)")
        if name == "Builtin_COALESCE":
            parts = [v(x) for x in e.arg]
            if parts and all(p.cond is not None for p in parts):
                return Val(cond="COALESCE(" + ", ".join(str(p.cond) for p in parts) + ")")
            if parts and all(p.tag is not None and p.tag == parts[0].tag for p in parts):
                return Val(tag=parts[0].tag, lex="COALESCE(" + ", ".join(lex_of(p) for p in parts) + ")")
            return Val(term="COALESCE(" + ", ".join(term_of(p) for p in parts) + ")")
        if name == "Builtin_CONCAT":
            parts = [v(x) for x in e.arg]
            if not parts:
                return Val(tag=STRING, lex="''")
            valid = " AND ".join(is_string(p) for p in parts)
            return Val(tag=STRING, lex=_when(valid, "(" + " || ".join(lex_of(p) for p in parts) + ")"))
        if name == "Builtin_STRLEN":
            x = v(e.arg)
            length = _when(is_string(x), f"length({lex_of(x)})")
            return Val(tag=INTEGER, lex=f"CAST({length} AS VARCHAR)", num=f"CAST({length} AS DOUBLE)")
        if name in ("Builtin_UCASE", "Builtin_LCASE"):
            x = v(e.arg)
            function = "upper" if name == "Builtin_UCASE" else "lower"
            return _like(x, _when(is_string(x), f"{function}({lex_of(x)})"))
        if name in ("Builtin_STRAFTER", "Builtin_STRBEFORE"):
            a, b = v(e.arg1), v(e.arg2)
            la, lb = lex_of(a), lex_of(b)
            if name == "Builtin_STRAFTER":
                found = f"substr({la}, strpos({la}, {lb}) + length({lb}))"
            else:
                found = f"substr({la}, 1, strpos({la}, {lb}) - 1)"
            piece = (f"(CASE WHEN NOT ({is_string(a)} AND {is_string(b)}) THEN NULL "
                     f"WHEN strpos({la}, {lb}) > 0 OR {lb} = '' THEN {found} ELSE '' END)")
            if a.tag == STRING:
                return Val(tag=STRING, lex=piece)
            # A language-tagged string keeps its tag when the text is found; "" is a simple literal.
            t = term_of(a)
            return Val(term=f"(CASE WHEN {piece} IS NULL THEN NULL WHEN strpos({la}, {lb}) > 0 OR {lb} = '' "
                            f"THEN '\"' || t_tag({t}) || '\"' || {piece} ELSE {quote(SIMPLE_PREFIX)} END)")
        if name == "Builtin_SUBSTR":
            x = v(e.arg)
            start = f"round({number(v(e.start))})"
            if _arg(e, "length") is not None:
                end = f"({start} + round({number(v(e.length))}))"
                piece = (f"substr({lex_of(x)}, CAST(greatest({start}, 1) AS BIGINT), "
                         f"CAST(greatest({end} - greatest({start}, 1), 0) AS BIGINT))")
            else:
                piece = f"substr({lex_of(x)}, CAST(greatest({start}, 1) AS BIGINT))"
            return _like(x, _when(is_string(x), piece))
        if name == "Builtin_REPLACE":
            x = v(e.arg)
            pattern = _constant_string(e.pattern, "REPLACE with a pattern that is not a constant")
            replacement = _constant_string(e.replacement, "REPLACE with a replacement that is not a constant")
            options = _regex_options(_flags(e, "REPLACE")) + "g"
            piece = (f"regexp_replace({lex_of(x)}, {quote(_regex(pattern))}, {quote(_replacement(replacement))}, "
                     f"{quote(options)})")
            return _like(x, _when(is_string(x), piece))
        if name in ("AdditiveExpression", "MultiplicativeExpression"):
            value = v(e.expr)
            for op, other in zip(e.op, e.other, strict=True):
                value = arithmetic(op, value, v(other))
            return value
        if name == "UnaryMinus":
            x = v(e.expr)
            if x.tag in INTEGER_TYPES:
                return _integer(f"(-{number(x)})")
            return Val(term=f"(CASE WHEN t_tag({term_of(x)}) IN {_in_list(INTEGER_TYPES)} THEN "
                            f"t_int(-TRY_CAST(trim(t_lex({term_of(x)})) AS HUGEINT)) "
                            f"WHEN t_num({term_of(x)}) IS NOT NULL "
                            f"THEN '\"' || t_tag({term_of(x)}) || '\"' || sparql_decimal(-t_num({term_of(x)})) END)")
        if name == "UnaryPlus":
            return v(e.expr)
        if name == "Builtin_STRDT":
            a, d = v(e.arg1), v(e.arg2)
            return Val(term=_when(f"{is_simple(a)} AND starts_with({term_of(d)}, '<')",
                                  f"'\"' || substr({term_of(d)}, 2) || '\"' || {lex_of(a)}"))
        if name == "Function":
            return self.cast(e, scope, outer)
        raise SqlUnsupported(_FEATURE_NAMES.get(name, name.removeprefix("Builtin_")))

    def relation(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> str:
        op = e.op
        left = self.val(e.expr, scope, outer)
        if op in ("IN", "NOT IN"):
            members = [self.val(x, scope, outer) for x in e.other]
            if not members:
                return _when(f"{term_of(left)} IS NOT NULL", "FALSE" if op == "IN" else "TRUE")
            found = "(" + " OR ".join(equals(left, m) for m in members) + ")"
            return found if op == "IN" else f"(NOT {found})"
        right = self.val(e.other, scope, outer)
        if op == "=":
            return equals(left, right)
        if op == "!=":
            return f"(NOT {equals(left, right)})"
        if op not in ("<", ">", "<=", ">="):
            raise SqlUnsupported(f"the operator {op}")
        return compare(op, left, right)

    def exists(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> str:
        from rdflib.plugins.sparql.algebra import translateGroupGraphPattern

        graph = e.graph
        if getattr(graph, "name", "") == "GroupGraphPatternSub":
            graph = translateGroupGraphPattern(graph)
        # The outer row's variables, visible inside (substitution, as SPARQL defines EXISTS).
        visible: dict[str, Val] = dict(outer)
        for name in _names_in(graph):
            found = scope(name)
            if found is not None:
                visible[name] = found
        inner = self.node(graph, visible)
        a = self.alias()
        correlated = []
        for name in inner.vars:
            if name in visible:
                there = term_of(visible[name])
                if visible[name].bound and name in inner.certain:
                    # Bound on both sides: a plain equality, which DuckDB unnests into a hash
                    # join (the "unbound, or equal" form is a nested loop: quadratic in the batch).
                    correlated.append(f"{a}.{col(name)} = {there}")
                else:
                    correlated.append(f"({there} IS NULL OR {a}.{col(name)} = {there})")
        test = f"EXISTS (SELECT 1 FROM ({inner.sql}) {a}{' WHERE ' + ' AND '.join(correlated) if correlated else ''})"
        return test if e.name == "Builtin_EXISTS" else f"(NOT {test})"

    def cast(self, e: Any, scope: Scope, outer: Mapping[str, Val]) -> Val:
        iri = str(e.iri)
        args = e.expr or []
        if len(args) != 1:
            raise SqlUnsupported(f"the function <{iri}>")
        x = self.val(args[0], scope, outer)
        t = term_of(x)
        if iri == STRING:
            return Val(tag=STRING, lex=f"t_lex({t})")
        if iri == INTEGER:
            # XPath's casts: an integer's or a string's lexical form read as an integer; a
            # decimal, float or double truncated toward zero (NaN and infinities are errors); a
            # boolean as 1 or 0.
            integral = f"t_tag({t}) IN {_in_list(INTEGER_TYPES)} OR starts_with({t}, {quote(SIMPLE_PREFIX)})"
            fractional = _in_list((DECIMAL, XSD_NS + "float", DOUBLE))
            return _integer(f"(CASE WHEN {integral} THEN CAST(TRY_CAST(trim(t_lex({t})) AS HUGEINT) AS DOUBLE) "
                            f"WHEN t_tag({t}) IN {fractional} AND isfinite(t_num({t})) THEN trunc(t_num({t})) "
                            f"WHEN t_tag({t}) = {quote(BOOLEAN)} "
                            f"THEN CAST(CAST(t_bool({t}) AS INTEGER) AS DOUBLE) END)")
        raise SqlUnsupported(f"the function <{iri}>")


IRI_KIND = "<"  # a Val's tag for a value known to be an IRI


@dataclass(frozen=True)
class Val:
    """An expression's value as SQL: its encoded term, or its parts when known (``tag``: a
    constant datatype or IRI_KIND; ``lex``, ``num``: SQL of its lexical form and number; ``cond``:
    SQL of a boolean). NULL in any part is an error or an unbound variable."""

    term: str | None = None
    tag: str | None = None
    lex: str | None = None
    num: str | None = None
    cond: str | None = None
    bound: bool = False  # a variable's column that no row leaves unbound (see Rel.certain)


Scope = Callable[[str], "Val | None"]


def term_of(v: Val) -> str:
    if v.term is not None:
        return v.term
    if v.cond is not None:
        return f"list_extract([{quote(FALSE_TERM)}, {quote(TRUE_TERM)}], CAST({v.cond} AS INTEGER) + 1)"
    if v.tag is not None and v.lex is not None:
        prefix = "<" if v.tag == IRI_KIND else '"' + v.tag + '"'
        return f"({quote(prefix)} || {v.lex})"
    raise AssertionError("a value with no SQL")


def lex_of(v: Val) -> str:
    if v.lex is not None:
        return v.lex
    if v.cond is not None:
        return f"list_extract(['false', 'true'], CAST({v.cond} AS INTEGER) + 1)"
    assert v.term is not None
    if v.tag == IRI_KIND:
        return f"substr({v.term}, 2)"
    if v.tag is not None and not v.tag.startswith("@"):
        return f"substr({v.term}, {len(v.tag) + 3})"  # the tag is known: a constant offset
    return f"t_lex({v.term})"


def number(v: Val) -> str:
    """SQL of the value as a DOUBLE (NULL: not a number, or an ill-formed one)."""
    if v.num is not None:
        return v.num
    if v.tag in INTEGER_TYPES:
        return f"CAST(TRY_CAST(trim({lex_of(v)}) AS HUGEINT) AS DOUBLE)"
    if v.tag in NUMERIC_TYPES:
        return f"TRY_CAST(trim({lex_of(v)}) AS DOUBLE)"
    if v.tag is not None or v.cond is not None:
        return "CAST(NULL AS DOUBLE)"
    return f"t_num({term_of(v)})"


def is_string(v: Val) -> str:
    """SQL: the value is a string literal (simple, xsd:string or language-tagged)."""
    if v.tag is not None:
        return "TRUE" if v.tag == STRING or v.tag.startswith("@") else "FALSE"
    if v.cond is not None:
        return "FALSE"
    return f"t_isstr({term_of(v)})"


def is_simple(v: Val) -> str:
    if v.tag is not None:
        return "TRUE" if v.tag == STRING else "FALSE"
    if v.cond is not None:
        return "FALSE"
    return f"starts_with({term_of(v)}, {quote(SIMPLE_PREFIX)})"


def ebv(v: Val) -> str:
    """SPARQL's effective boolean value, as a SQL boolean."""
    if v.cond is not None:
        return v.cond
    if v.tag == BOOLEAN:
        return f"({lex_of(v)} IN ('true', '1'))"
    if v.tag in NUMERIC_TYPES:
        n = number(v)
        return f"(CASE WHEN {lex_of(v)} IS NOT NULL THEN coalesce({n} <> 0 AND NOT isnan({n}), FALSE) END)"
    if v.tag == STRING:
        return f"(length({lex_of(v)}) > 0)"
    if v.tag is not None:
        return "CAST(NULL AS BOOLEAN)"
    return f"t_ebv({term_of(v)})"


def _integer(num: str) -> Val:
    return Val(tag=INTEGER, lex=f"CAST(CAST({num} AS HUGEINT) AS VARCHAR)", num=num)


def _like(x: Val, lexical: str) -> Val:
    """A string function's result: the argument's datatype or language, a new lexical form."""
    if x.tag is not None and x.tag != IRI_KIND:
        return Val(tag=x.tag, lex=lexical)
    return Val(term=f"('\"' || t_tag({term_of(x)}) || '\"' || {lexical})")


def _when(test: str, then: str) -> str:
    if test == "TRUE":
        return then
    if test == "FALSE":
        return "NULL"
    return f"(CASE WHEN {test} THEN {then} END)"


def _constant(e: Literal) -> Val:
    if e.language:
        return Val(term=quote(encode(e)), tag="@" + e.language.lower(), lex=quote(str(e)))
    tag = str(e.datatype or STRING)
    num = None
    if tag in NUMERIC_TYPES:
        try:
            num = repr(float(str(e).strip())) if tag not in INTEGER_TYPES else repr(float(int(str(e).strip())))
        except ValueError:
            num = "CAST(NULL AS DOUBLE)"
        num = f"CAST('{num}' AS DOUBLE)" if num in ("nan", "inf", "-inf") else f"CAST({num} AS DOUBLE)"
    if tag == BOOLEAN:
        return Val(term=quote(encode(e)), tag=tag, lex=quote(str(e)),
                   cond={"true": "TRUE", "1": "TRUE", "false": "FALSE", "0": "FALSE"}.get(str(e), "FALSE"))
    return Val(term=quote(encode(e)), tag=tag, lex=quote(str(e)), num=num)


_DATE_SQL = {DATE: "DATE", DATETIME: "TIMESTAMP"}


def equals(a: Val, b: Val) -> str:
    """SPARQL's = (RDFterm-equal, by value for the datatypes the operator mapping knows)."""
    if a.tag is not None and b.tag is not None:
        if a.tag in NUMERIC_TYPES and b.tag in NUMERIC_TYPES:
            return f"({number(a)} = {number(b)})"
        if a.tag == b.tag and a.tag in (STRING, IRI_KIND):
            return f"({lex_of(a)} = {lex_of(b)})"
        if a.cond is not None and b.cond is not None:
            return f"({a.cond} = {b.cond})"
    for known, other in ((a, b), (b, a)):
        if known.tag == IRI_KIND:
            return f"({term_of(known)} = {term_of(other)})"  # an IRI equals only itself
        if known.tag == STRING and other.tag is None and other.cond is None:
            o = term_of(other)
            return (f"(CASE WHEN {o} = {term_of(known)} THEN TRUE WHEN {o} IS NULL OR {lex_of(known)} IS NULL "
                    f"THEN NULL WHEN t_unknown({o}) THEN NULL ELSE FALSE END)")
        if known.tag in NUMERIC_TYPES and other.tag is None and other.cond is None:
            o = term_of(other)
            return (f"(CASE WHEN {o} IS NULL THEN NULL WHEN t_isnumtag({o}) THEN t_num({o}) = {number(known)} "
                    f"WHEN t_unknown({o}) THEN NULL ELSE FALSE END)")
    return f"rdf_eq({term_of(a)}, {term_of(b)})"


def compare(op: str, a: Val, b: Val) -> str:
    """SPARQL's <, >, <=, >= (numbers, strings, dates, booleans; anything else an error)."""
    if a.tag in NUMERIC_TYPES and b.tag in NUMERIC_TYPES:
        return f"({number(a)} {op} {number(b)})"
    if a.tag == STRING and b.tag == STRING:
        return f"({lex_of(a)} {op} {lex_of(b)})"
    for known, other, flipped in ((a, b, False), (b, a, True)):
        if other.tag is not None or other.cond is not None:
            continue
        o = term_of(other)
        if known.tag in NUMERIC_TYPES:
            left, right = (f"t_num({o})", number(known)) if flipped else (number(known), f"t_num({o})")
            return f"({left} {op} {right})"
        if known.tag == STRING:
            left, right = (f"t_lex({o})", lex_of(known)) if flipped else (lex_of(known), f"t_lex({o})")
            return f"(CASE WHEN starts_with({o}, {quote(SIMPLE_PREFIX)}) THEN {left} {op} {right} END)"
    name = {"<": "lt", ">": "gt", "<=": "le", ">=": "ge"}[op]
    return f"rdf_{name}({term_of(a)}, {term_of(b)})"


def arithmetic(op: str, a: Val, b: Val) -> Val:
    """+, -, *, / on numbers: integers stay integers (but for /), else decimals, else doubles."""
    if a.tag in INTEGER_TYPES and b.tag in INTEGER_TYPES and op != "/":
        return _integer(f"({number(a)} {op} {number(b)})")
    ta, tb = term_of(a), term_of(b)
    na, nb = number(a), number(b)
    doubles = f"({na} {op} {nb})"
    floating = _in_list((DOUBLE, XSD_NS + "float"))
    integer_case = (f"WHEN t_tag({ta}) IN {_in_list(INTEGER_TYPES)} AND t_tag({tb}) IN {_in_list(INTEGER_TYPES)} "
                    f"THEN t_int(CAST({doubles} AS HUGEINT)) " if op != "/" else "")
    zero = f"WHEN {nb} = 0 AND NOT (t_tag({ta}) IN {floating} OR t_tag({tb}) IN {floating}) THEN NULL " \
        if op == "/" else ""
    return Val(term=(f"(CASE WHEN {na} IS NULL OR {nb} IS NULL THEN NULL {zero}{integer_case}"
                     f"WHEN t_tag({ta}) IN {floating} OR t_tag({tb}) IN {floating} "
                     f"THEN {quote(chr(34) + DOUBLE + chr(34))} || sparql_double({doubles}) "
                     f"ELSE {quote(chr(34) + DECIMAL + chr(34))} || sparql_decimal({doubles}) END)"))


def _flags(e: Any, function: str) -> str:
    if _arg(e, "flags") is None:
        return ""
    return _constant_string(e.flags, f"{function} with flags that are not a constant")


_QUADS = "quads"
_NODES = "nodes"

# The algebra's names, as a rule writer knows them.
_FEATURE_NAMES = {
    "Graph": "GRAPH", "ServiceGraphPattern": "SERVICE", "Builtin_NOW": "NOW()", "Builtin_RAND": "RAND()",
    "Builtin_UUID": "UUID()", "Builtin_STRUUID": "STRUUID()", "Builtin_BNODE": "BNODE()",
    "Builtin_IRI": "IRI()", "Builtin_URI": "URI()", "Builtin_ENCODE_FOR_URI": "ENCODE_FOR_URI()",
    "Builtin_MD5": "MD5()", "Builtin_SHA1": "SHA1()", "Builtin_SHA256": "SHA256()",
    "Builtin_LANGMATCHES": "LANGMATCHES()", "Builtin_STRLANG": "STRLANG()", "Builtin_ABS": "ABS()",
    "Builtin_CEIL": "CEIL()", "Builtin_FLOOR": "FLOOR()", "Builtin_ROUND": "ROUND()",
    "Builtin_YEAR": "YEAR()", "Builtin_MONTH": "MONTH()", "Builtin_DAY": "DAY()",
    "Builtin_HOURS": "HOURS()", "Builtin_MINUTES": "MINUTES()", "Builtin_SECONDS": "SECONDS()",
    "Builtin_TIMEZONE": "TIMEZONE()", "Builtin_TZ": "TZ()",
}
_BOOLEAN_EXPRESSIONS = {"Builtin_EXISTS", "Builtin_NOTEXISTS", "Builtin_BOUND", "Builtin_sameTerm",
                        "Builtin_isIRI", "Builtin_isURI", "Builtin_isBLANK", "Builtin_isLITERAL",
                        "Builtin_isNUMERIC", "Builtin_REGEX", "Builtin_STRSTARTS", "Builtin_STRENDS",
                        "Builtin_CONTAINS"}

# The number formats SPARQL engines print (xsd:decimal without an exponent, xsd:double with one).
NUMBER_MACROS = """
CREATE OR REPLACE MACRO sparql_decimal(x) AS CASE WHEN x = trunc(x) AND abs(x) < 1e15
    THEN CAST(CAST(x AS HUGEINT) AS VARCHAR) || '.0' ELSE rtrim(printf('%.15f', x), '0') END;
CREATE OR REPLACE MACRO sparql_double(x) AS printf('%E', x);
"""


def closure_table(predicate: str) -> str:
    """The name of the closure table of a predicate (its pairs joined by one or more steps)."""
    import hashlib

    return "closure_" + hashlib.sha1(predicate.encode("utf-8")).hexdigest()[:12]


def _arg(node: Any, key: str) -> Any:
    """A CompValue's argument, or None (its own ``get`` answers a missing key with the key's name)."""
    return node[key] if key in node else None  # noqa: SIM401 (CompValue.get is the broken one)


def _var_name(value: Any) -> str:
    if isinstance(value, BNode):
        return "_:" + str(value)  # a blank node in a pattern: a variable no one can project
    return str(value)


def _scope(rel: Rel, alias: str) -> Scope:
    names = set(rel.vars)
    return lambda v: (Val(term=f"{alias}.{col(v)}", tag=rel.types.get(v), bound=v in rel.certain)
                      if v in names else None)


def _with_outer(scope: Scope, outer: Mapping[str, Val]) -> Scope:
    if not outer:
        return scope
    return lambda v: scope(v) or outer.get(v)


def _names_in(node: Any) -> set[str]:
    """Every variable named anywhere in an algebra tree (for what EXISTS may see from outside)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    found: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, Variable):
            found.add(str(x))
        elif isinstance(x, CompValue):
            for k, v in x.items():
                if k != "_vars":
                    walk(v)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, Path):
            return

    walk(node)
    return found


def _order_keys(column: str, descending: bool) -> str:
    direction = " DESC" if descending else ""
    return (f"t_rank({column}){direction}, t_num({column}){direction}, t_date({column}){direction}, "
            f"t_lex({column}){direction}")


def _constant_string(value: Any, feature: str) -> str:
    if isinstance(value, Literal):
        return str(value)
    raise SqlUnsupported(feature)


def _regex_options(flags: str) -> str:
    options = ""
    for flag in flags:
        if flag == "i":
            options += "i"
        elif flag == "s":
            options += "s"
        elif flag == "m":
            options += "m"
        else:
            raise SqlUnsupported(f"the regular expression flag {flag!r}")
    return options


_CLASS_SUBTRACTION = re.compile(r"-\[")


def _regex(pattern: str) -> str:
    """An XPath regular expression as RE2 (DuckDB's): the two agree on what the shapes use; the
    XPath-only parts (character class subtraction) are refused."""
    if _CLASS_SUBTRACTION.search(pattern) or "\\i" in pattern or "\\c" in pattern:
        raise SqlUnsupported("an XPath-only regular expression")
    return pattern


def _replacement(text: str) -> str:
    """An XPath replacement string ($1, \\$) as RE2's (\\1, $)."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "\\$":
            out.append("\\\\" if text[i + 1] == "\\" else "$")
            i += 2
        elif c == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("\\" + text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
