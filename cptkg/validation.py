"""Claim validation: claims read in input order, validated in batches with pyshacl against the
claim rules of shapes/claims, and reported per claim (a typed report the command line renders).

One pyshacl call validates a whole batch: the rule facts of the inferred graph sit in one base
graph built once per Validator; each batch's claim triples (and the ICD-10-CM facts of its
diagnoses) are added, validated in place (inference "none", so pyshacl does not clone) and removed.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from cptkg import claims as claim_io
from cptkg import icd, shapes
from cptkg.claims import ClaimRecord
from cptkg.engine import RawResult
from cptkg.errors import InputError
from cptkg.namespaces import CPTKG, CPTKGSH, bind_all

log = logging.getLogger(__name__)

UNREADABLE = "Unreadable"
_PROVENANCE = {RDF.subject, RDF.predicate, RDF.object, DCTERMS.source, CPTKG.quote,
               CPTKG.verification, CPTKG.side}
_CHILD_PROPERTIES_SET = frozenset(claim_io.CHILDREN)
_SEQUENCE = CPTKG.sequence
_PRODUCT = CPTKG.productOrService


# ---------------------------------------------------------------- the report

@dataclass(frozen=True)
class Result:
    rule: str
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    line: int | None = None  # the focus line's item sequence, where the focus is a line
    code: str | None = None  # the focus line's procedure code

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "focus": self.focus,
                "path": self.path, "value": self.value, "message": self.message}


@dataclass
class ClaimReport:
    claim: str
    origin: str
    results: list[Result] = field(default_factory=list)
    position: int = 0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def as_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "conforms": self.conforms,
                "results": [r.as_json() for r in self.results]}


@dataclass
class ValidationReport:
    claims: list[ClaimReport]
    graph: Graph | None = None

    @property
    def conforms(self) -> bool:
        return all(c.conforms for c in self.claims)

    def as_json(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "claims": [c.as_json() for c in self.claims]}

    def rules_fired(self) -> set[tuple[str, str]]:
        return {(r.rule, r.focus) for c in self.claims for r in c.results}


# ---------------------------------------------------------------- the engine

def rule_facts(kg_graph: Graph) -> Graph:
    """The inferred graph without provenance: what the rules read (codes, relations, hierarchy)."""
    base = Graph()
    statements = set(kg_graph.subjects(RDF.type, CPTKG.SourcedStatement))
    for s, p, o in kg_graph:
        if p in _PROVENANCE or s in statements:
            continue
        base.add((s, p, o))
    return base


ENGINES = ("oxigraph", "pyshacl")


class Validator:
    """Validates claim records against the claim rules; one per process (shapes compiled once).

    ``engine="oxigraph"`` (the default) runs the shapes compiled to batch SPARQL on Oxigraph
    (cptkg.engine); ``engine="pyshacl"`` runs pySHACL itself on the same shapes and data, the
    reference the differential tests hold the fast engine to.
    """

    def __init__(self, kg: Any = None, engine: str = "oxigraph") -> None:
        from cptkg.graph import KnowledgeGraph

        if engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        kg = kg or KnowledgeGraph.default()
        self.engine = engine
        self.shapes = shapes.claim_shapes()
        self.base = rule_facts(kg.inferred)
        self._enriched: set[Any] = set()
        self._batch: Any = None
        if engine == "oxigraph":
            from cptkg.engine import BatchEngine

            self._batch = BatchEngine(self.shapes, self.base)

    def validate(self, records: Iterable[ClaimRecord], batch_size: int = 500,
                 keep_graph: bool = False) -> Iterator[tuple[ClaimReport, Graph | None]]:
        """Reports in input order, batch by batch (so memory is bounded by the batch)."""
        batch: list[ClaimRecord] = []
        seen: set[URIRef] = set()
        origin: str | None = None
        for record in records:
            clash = record.iri is not None and record.iri in seen
            file_of = record.origin.split(":")[0].split("#")[0]
            # Claims from different files may reuse line IRIs: a batch holds one file's claims.
            if batch and (len(batch) >= batch_size or clash or file_of != origin):
                yield from self._run(batch, keep_graph)
                batch, seen = [], set()
            batch.append(record)
            origin = file_of
            if record.iri is not None:
                seen.add(record.iri)
        if batch:
            yield from self._run(batch, keep_graph)

    def _run(self, batch: list[ClaimRecord], keep_graph: bool) -> Iterator[tuple[ClaimReport, Graph | None]]:
        reports = {r.position: ClaimReport(r.claim_id, r.origin, position=r.position) for r in batch}
        readable = [r for r in batch if r.readable]
        raw: list[RawResult] = []
        if readable:
            raw = self.raw_results(readable)
            for position, found in self._collect(readable, raw).items():
                reports[position].results.extend(found)
        report_graph = None
        if keep_graph:
            report_graph = results_graph(raw)
        for r in batch:
            if not r.readable:
                reports[r.position].results.append(
                    Result(UNREADABLE, "Violation", r.claim_id, None, None, r.error or "unreadable"))
                if report_graph is not None:
                    _add_unreadable(report_graph, r)
        for i, r in enumerate(batch):
            yield reports[r.position], report_graph if i == len(batch) - 1 else None

    def raw_results(self, records: list[ClaimRecord]) -> list[RawResult]:
        """The rule results for readable claims, as the engine reports them (before mapping)."""
        added: list[tuple[Any, Any, Any]] = []
        for record in records:
            added.extend(record.triples)
        codes = set(claim_io.diagnosis_codes(added))
        if self._batch is not None:
            fresh = codes - self._enriched
            if fresh:
                facts = Graph()
                icd.enrich(facts, fresh)
                self._batch.add_base(facts)
                self._enriched |= fresh
            return self._batch.run(added)
        return self._pyshacl(added, codes)

    def _pyshacl(self, added: list[tuple[Any, Any, Any]], codes: set[Any]) -> list[RawResult]:
        from pyshacl import validate as pyshacl_validate

        data = self.base
        icd.enrich(data, codes - self._enriched)
        self._enriched |= codes
        for t in added:
            data.add(t)
        try:
            _conforms, report, _text = pyshacl_validate(
                data, shacl_graph=self.shapes, inference="none", advanced=False,
                abort_on_first=False, allow_warnings=True,
            )
        finally:
            for t in added:
                data.remove(t)
        if not isinstance(report, Graph):
            raise RuntimeError(f"pyshacl failed: {report}")
        out = []
        for result in report.subjects(RDF.type, SH.ValidationResult):
            path = report.value(result, SH.resultPath)
            out.append(RawResult(
                report.value(result, SH.sourceShape), report.value(result, SH.resultSeverity),
                report.value(result, SH.focusNode), path if isinstance(path, URIRef) else None,
                report.value(result, SH.value), str(report.value(result, SH.resultMessage) or "")))
        return out

    def _collect(self, records: list[ClaimRecord], raw: list[RawResult]) -> dict[int, list[Result]]:
        owner: dict[Any, int] = {}
        lines: dict[Any, list[Any]] = {}
        children = _CHILD_PROPERTIES_SET
        for record in records:
            owner[record.iri] = record.position
            for s, p, o in record.triples:
                if p in children and s == record.iri:
                    owner[o] = record.position
                elif p == _SEQUENCE and isinstance(o, Literal):
                    lines.setdefault(s, [None, None])[0] = o.toPython()
                elif p == _PRODUCT:
                    lines.setdefault(s, [None, None])[1] = o
        out: dict[int, list[Result]] = {r.position: [] for r in records}
        for found in raw:
            position = owner.get(found.focus)
            if position is None:
                raise RuntimeError(f"a result names {found.focus}, which belongs to no claim of the batch")
            message = found.message
            if found.value is None:
                message = message.replace(" (got {$value})", "")
            message = message.replace("{$value}", display(found.value)).replace("{$this}", str(found.focus))
            line, code_node = lines.get(found.focus, (None, None))
            code = display(code_node) if code_node is not None else None
            out[position].append(Result(
                rule=shapes.rule_id(found.shape),
                severity=str(found.severity).rsplit("#", 1)[-1],
                focus=str(found.focus),
                path=str(found.path) if found.path is not None else None,
                value=display(found.value) if found.value is not None else None,
                message=message,
                line=line if isinstance(line, int) else None,
                code=code,
            ))
        for results in out.values():
            results.sort(key=lambda r: (r.line if r.line is not None else -1, r.focus, r.rule,
                                        r.value or "", r.message))
        return out


def results_graph(raw: list[RawResult]) -> Graph:
    graph = Graph()
    for found in raw:
        node = BNode()
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.sourceShape, found.shape))
        graph.add((node, SH.resultSeverity, found.severity))
        graph.add((node, SH.focusNode, found.focus))
        if found.path is not None:
            graph.add((node, SH.resultPath, found.path))
        if found.value is not None:
            graph.add((node, SH.value, found.value))
        graph.add((node, SH.resultMessage, Literal(found.message)))
    return graph


def display(term: Any) -> str:
    """A code IRI as its notation (20701, T85.735A), anything else as its text."""
    if term is None:
        return ""
    text = str(term)
    if isinstance(term, URIRef) and text.startswith("https://w3id.org/cptkg/"):
        from urllib.parse import unquote

        return unquote(text.rsplit("/", 1)[-1])
    return text


def _add_unreadable(graph: Graph, record: ClaimRecord) -> None:
    node = BNode()
    graph.add((node, RDF.type, SH.ValidationResult))
    graph.add((node, SH.sourceShape, CPTKGSH[UNREADABLE]))
    graph.add((node, SH.resultSeverity, SH.Violation))
    graph.add((node, SH.focusNode, record.iri if record.iri is not None else Literal(record.claim_id)))
    graph.add((node, SH.resultMessage, Literal(record.error or "unreadable")))


# ---------------------------------------------------------------- API

def validate_paths(*sources: Any, batch_size: int = 500, kg: Any = None,
                   engine: str = "oxigraph") -> ValidationReport:
    """Validate claim files/folders (or ClaimRecords) and return the whole report."""
    paths = [s for s in sources if not isinstance(s, ClaimRecord)]
    records: Iterable[ClaimRecord] = [s for s in sources if isinstance(s, ClaimRecord)]
    if paths:
        records = claim_io.read_paths(paths)
    validator = Validator(kg, engine=engine)
    reports = []
    graphs = []
    for claim_report, graph in validator.validate(records, batch_size, keep_graph=True):
        reports.append(claim_report)
        if graph is not None:
            graphs.append(graph)
    return ValidationReport(reports, merge_reports(graphs, all(c.conforms for c in reports)))


def merge_reports(graphs: list[Graph], conforms: bool) -> Graph:
    merged = Graph()
    bind_all(merged)
    report = BNode()
    merged.add((report, RDF.type, SH.ValidationReport))
    merged.add((report, SH.conforms, Literal(conforms)))
    for g in graphs:
        for result in g.subjects(RDF.type, SH.ValidationResult):
            merged.add((report, SH.result, result))
        for s, p, o in g:
            if p == SH.conforms or (p == RDF.type and o == SH.ValidationReport) or p == SH.result:
                continue
            merged.add((s, p, o))
    return merged


# ---------------------------------------------------------------- command line

class Progress:
    """A progress line on stderr (claims, rate, and ETA where the total is known), only on a TTY."""

    def __init__(self, stream: IO[str] = sys.stderr, total: int | None = None) -> None:
        self.enabled = stream.isatty()
        self.stream, self.total, self.count = stream, total, 0
        self.started = self.last = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = self.count / max(now - self.started, 1e-9)
            eta = ""
            if self.total:
                eta = f", ETA {max(self.total - self.count, 0) / max(rate, 1e-9):.0f} s"
            total = f"/{self.total}" if self.total else ""
            self.stream.write(f"\rcptkg: {self.count}{total} claims, {rate:.0f}/s{eta}  ")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.count:
            self.stream.write("\n")


def _peek_single_error(records: Iterator[ClaimRecord]) -> tuple[list[ClaimRecord], Iterator[ClaimRecord]]:
    head = []
    for record in records:
        head.append(record)
        if len(head) == 2:
            break
    return head, records


def _count_claims(paths: list[str]) -> int | None:
    """Claims to expect (NDJSON lines; one per other file), for the progress bar's ETA."""
    total = 0
    for path in claim_io.expand_paths(paths):
        if path.suffix.lower() in (".ndjson", ".jsonl"):
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


def run_cli(args: Any) -> int:
    if args.workers < 0:
        raise InputError("--workers must be 0 (no cluster) or a positive number of processes")
    if args.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    out: IO[str] = io.StringIO() if args.output else sys.stdout
    progress = Progress(total=_count_claims(args.paths) if sys.stderr.isatty() else None)
    writer = _WRITERS[args.format](out)
    conforms = True
    cluster = client = None
    try:
        if args.workers or args.scheduler:
            from cptkg import distributed

            if args.format == "turtle":
                raise InputError("--format turtle is not available with --workers or --scheduler")
            claim_io.expand_paths(args.paths)  # missing paths fail before a cluster starts
            client, cluster = distributed.client_for(args.workers, args.scheduler)
            reports: Iterator[tuple[ClaimReport, Graph | None]] = (
                (r, None) for r in distributed.run(args.paths, client, batch_size=args.batch_size))
        else:
            records = claim_io.read_paths(args.paths)
            head, rest = _peek_single_error(records)
            if len(head) == 1 and head[0].error is not None:
                raise InputError(head[0].error)

            def all_records() -> Iterator[ClaimRecord]:
                yield from head
                yield from rest

            reports = Validator().validate(all_records(), args.batch_size,
                                           keep_graph=args.format == "turtle")
        for claim_report, graph in reports:
            conforms = conforms and claim_report.conforms
            writer.claim(claim_report, graph)
            progress.step()
    finally:
        progress.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    writer.close(conforms)
    if args.output:
        assert isinstance(out, io.StringIO)
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(out.getvalue())
        except OSError as err:
            raise InputError(f"cannot write {args.output}: {err.strerror}") from None
    return 0 if conforms else 1


class _Writer:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.failing = 0
        self.violations = 0
        self.warnings = 0

    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        self.count += 1
        self.failing += 0 if report.conforms else 1
        self.violations += sum(r.severity == "Violation" for r in report.results)
        self.warnings += sum(r.severity == "Warning" for r in report.results)

    def close(self, conforms: bool) -> None:
        pass


class _JsonWriter(_Writer):
    # Streams: "claims" is written as claims finish; "conforms" (known at the end) comes last.
    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        self.out.write('{"claims": [\n' if self.count == 0 else ",\n")
        super().claim(report, graph)
        self.out.write(json.dumps(report.as_json(), ensure_ascii=False))

    def close(self, conforms: bool) -> None:
        if self.count == 0:
            self.out.write('{"claims": [')
        self.out.write(f'\n], "conforms": {"true" if conforms else "false"}}}\n')


class _JsonlWriter(_Writer):
    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        super().claim(report, graph)
        self.out.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
        self.out.flush()


class _HumanWriter(_Writer):
    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        super().claim(report, graph)
        verdict = "conforms" if report.conforms else "DOES NOT CONFORM"
        warnings = sum(r.severity == "Warning" for r in report.results)
        extra = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        self.out.write(f"{report.claim}  [{report.origin}]: {verdict}{extra}\n")
        for r in report.results:
            where = f"line {r.line} ({r.code})" if r.line is not None else "claim"
            self.out.write(f"  {where}  {r.severity}  {r.rule}\n      {r.message}\n")

    def close(self, conforms: bool) -> None:
        self.out.write(
            f"\n{self.count} claim{'s' if self.count != 1 else ''}: {self.count - self.failing} "
            f"conforming, {self.failing} not; {self.violations} violations, "
            f"{self.warnings} warnings\n")


class _TableWriter(_Writer):
    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        if self.count == 0:
            self.out.write("claim\tline\tcode\tseverity\trule\tvalue\tmessage\n")
        super().claim(report, graph)
        if not report.results:
            self.out.write(f"{report.claim}\t\t\tConforms\t\t\t\n")
        for r in report.results:
            line = "" if r.line is None else str(r.line)
            self.out.write(f"{report.claim}\t{line}\t{r.code or ''}\t{r.severity}\t{r.rule}\t"
                           f"{r.value or ''}\t{r.message}\n")


class _TurtleWriter(_Writer):
    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.graphs: list[Graph] = []

    def claim(self, report: ClaimReport, graph: Graph | None) -> None:
        super().claim(report, graph)
        if graph is not None:
            self.graphs.append(graph)

    def close(self, conforms: bool) -> None:
        self.out.write(merge_reports(self.graphs, conforms).serialize(format="turtle"))


_WRITERS: dict[str, type[_Writer]] = {
    "json": _JsonWriter, "jsonl": _JsonlWriter, "human": _HumanWriter, "table": _TableWriter,
    "turtle": _TurtleWriter,
}

__all__ = ["ClaimReport", "Result", "ValidationReport", "Validator", "validate_paths"]
