"""The HTML report of `cptkg validate --format html`: one self-contained page (inline CSS, a small
inline script of our own for the filter, no request leaves it) with the summary, a chart of results
by rule and severity, a filterable table of claims and, per claim, its lines, diagnoses and results.

Claim content is untrusted: the template escapes everything (Jinja2 autoescape), and the page's
Content-Security-Policy forbids loading anything from anywhere."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache
from typing import IO, Any

from cptkg._version import __version__
from cptkg.report.model import VERDICTS, ClaimReport, line_order

VERDICT_LABELS = {"conforms": "conforms", "does-not-conform": "does not conform",
                  "not-applicable": "not applicable", "unreadable": "unreadable"}


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("cptkg.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def rule_counts(claims: list[ClaimReport]) -> list[dict[str, Any]]:
    """Results by rule and severity, most frequent first (the chart's bars)."""
    counted = Counter((r.rule, r.severity) for c in claims for r in c.results)
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [{"rule": rule, "severity": severity, "count": n} for (rule, severity), n in ordered]


def cited_sources(claims: list[ClaimReport]) -> list[tuple[str, str, str]]:
    """Every source the results' evidence cites, once, by title (the page's sources list; an
    anchor each, made from its place, since a source's id may be a file path)."""
    found: dict[str, tuple[str, str, str]] = {}
    for c in claims:
        for r in c.results:
            for e in r.evidence or ():
                for source in e.sources:
                    found.setdefault(source[0], source)
    return sorted(found.values(), key=lambda s: (s[1].lower(), s[0]))


def render(claims: list[ClaimReport], conforms: bool, title: str = "cptkg validation report",
           generated: datetime | None = None, page: str = "report.html") -> str:
    for c in claims:
        if c.content:  # lines and diagnoses in claim order: 2 < 2.1 < 10
            c.content["lines"].sort(key=lambda line: (line_order(line["line"]), line["line"]))
            c.content["diagnoses"].sort(key=lambda dx: (line_order(dx["sequence"]), dx["code"]))
            for line in c.content["lines"]:
                line["diagnosisPointers"].sort(key=line_order)
    sources = cited_sources(claims)
    verdicts = Counter(c.verdict for c in claims)
    bars = rule_counts(claims)
    widest = max((b["count"] for b in bars), default=1)
    return str(_environment().get_template(page).render(
        title=title, claims=claims, conforms=conforms, version=__version__,
        generated=(generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        verdicts=[(v, VERDICT_LABELS[v], verdicts.get(v, 0)) for v in VERDICTS],
        labels=VERDICT_LABELS, bars=bars, widest=widest, sources=sources,
        source_anchors={ident: f"source-{n}" for n, (ident, _title, _iri) in enumerate(sources, 1)},
        violations=sum(r.severity == "Violation" for c in claims for r in c.results),
        warnings=sum(r.severity == "Warning" for c in claims for r in c.results),
        infos=sum(r.severity == "Info" for c in claims for r in c.results)))


def write(out: IO[str], claims: list[ClaimReport], conforms: bool) -> None:
    out.write(render(claims, conforms))
