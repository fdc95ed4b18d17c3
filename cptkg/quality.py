"""The graph's checks of itself: shapes/quality/ and queries/*-violation.rq."""

from __future__ import annotations

from dataclasses import dataclass

from cptkg import queries, shapes
from cptkg.graph import KnowledgeGraph


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str


def shape_problems(kg: KnowledgeGraph) -> list[Problem]:
    from pyshacl import validate

    _conforms, report, _text = validate(kg.asserted, shacl_graph=shapes.shapes_in("quality"),
                                        inference="none")
    from rdflib.namespace import SH

    out = []
    for result in report.subjects(SH.sourceShape, None):
        shape = report.value(result, SH.sourceShape)
        focus = report.value(result, SH.focusNode)
        message = report.value(result, SH.resultMessage)
        out.append(Problem(str(shape).rsplit("#", 1)[-1], f"{focus}: {message}"))
    return sorted(out, key=lambda p: (p.check, p.detail))


def violation_queries() -> list[str]:
    return sorted(n for n in queries.library() if n.endswith("-violation"))


def query_problems(kg: KnowledgeGraph) -> list[Problem]:
    out = []
    for name in violation_queries():
        result = queries.run_named(name, store=kg.asserted_store)
        for row in result.rows:
            out.append(Problem(name, " ".join(f"{k}={v.value}" for k, v in row.items())))
    return out
