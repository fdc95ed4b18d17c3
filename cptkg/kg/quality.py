"""The graph's checks of itself: the shapes of shapes/quality/ and the queries/*-violation.rq
files, run on the asserted graph. Each finding is a Problem; a clean graph has none."""

from __future__ import annotations

from dataclasses import dataclass

from cptkg.kg import resources
from cptkg.kg.graph import KnowledgeGraph

VIOLATION_SUFFIX = "-violation.rq"


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str


def shape_problems(kg: KnowledgeGraph) -> list[Problem]:
    from pyshacl import validate
    from rdflib.namespace import SH

    _conforms, report, _text = validate(kg.asserted, shacl_graph=resources.shapes_in("quality"),
                                        inference="none")
    out = []
    for result in report.subjects(SH.sourceShape, None):
        shape = report.value(result, SH.sourceShape)
        focus = report.value(result, SH.focusNode)
        message = report.value(result, SH.resultMessage)
        out.append(Problem(str(shape).rsplit("#", 1)[-1], f"{focus}: {message}"))
    return sorted(out, key=lambda p: (p.check, p.detail))


def violation_queries() -> dict[str, str]:
    """The quality queries (queries/*-violation.rq) by name; each returns one row per problem."""
    return {f.name[: -len(".rq")]: f.read_text(encoding="utf-8")
            for f in resources.files("queries", VIOLATION_SUFFIX)}


def query_problems(kg: KnowledgeGraph) -> list[Problem]:
    import pyoxigraph as ox

    out = []
    for name, text in violation_queries().items():
        solutions = kg.asserted_store.query(text)
        assert isinstance(solutions, ox.QuerySolutions), f"{name} must be a SELECT query"
        names = [v.value for v in solutions.variables]
        for row in solutions:
            out.append(Problem(name, " ".join(f"{k}={row[k].value}" for k in names if row[k] is not None)))
    return out
