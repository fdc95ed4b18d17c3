"""The Validator: claim records in, claim reports out, in input order and batch by batch (so memory
is bounded by the batch). It decides which claims the rules judge, adds cptkg's own statements
(the ICD-10-CM edition of each diagnosis) and the facts a batch's codes call for (ICD-10-CM, NCCI),
and hands the batch to one rule engine (cptkg.rules.engines), chosen once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef

from cptkg.claims import ClaimRecord, diagnosis_codes, read_paths
from cptkg.claims.files import check_form
from cptkg.claims.record import CLAIM_IRI_BASE
from cptkg.errors import InputError, valid_unicode
from cptkg.kg import icd10cm, ncci, resources
from cptkg.kg.namespaces import CPTKG
from cptkg.report.model import ClaimReport, Result, ValidationReport
from cptkg.rules import engines, results
from cptkg.rules.catalog import outcomes
from cptkg.rules.defaults import DEFAULT_BATCH_SIZE, DEFAULT_ENGINE, ENGINES
from cptkg.rules.packs import BUILT_IN, RuleSpec, build, shape_description, spec
from cptkg.rules.results import RawResult

WATCHED_CODES_QUERY = "watched-codes.rq"


def watched_codes_in(store: Any) -> frozenset[Any]:
    """The codes whose presence makes the claim rules apply (queries/watched-codes.rq), asked of
    the graph's Oxigraph store (milliseconds, against a third of a second on rdflib)."""
    text = resources.folder("queries").joinpath(WATCHED_CODES_QUERY).read_text(encoding="utf-8")
    return frozenset(URIRef(row["concept"].value) for row in store.query(text))


def edition_triples(record: ClaimRecord) -> list[tuple[Any, Any, Any]]:
    """Which ICD-10-CM edition judges each diagnosis of a claim: the one that decides the dates of
    service of the lines pointing to it (every line's date when none points to it). Where no loaded
    edition decides a date, the nearest ones are consulted and the fiscal year is named.

    These are cptkg's own statements about the claim, added after reading (a claim cannot state
    them: they are in cptkg's namespace)."""
    from datetime import date

    from cptkg.kg import editions
    from cptkg.kg.icd10cm import EDITION

    line_dates: dict[Any, set[date]] = {}
    pointers: dict[Any, set[int]] = {}
    sequences: dict[int, Any] = {}
    diagnoses = []
    # Looked up once: each attribute access on an rdflib Namespace builds a new URIRef.
    served, pointed, diagnosis, sequence = CPTKG.servicedDate, CPTKG.diagnosisSequence, CPTKG.diagnosis, CPTKG.sequence
    for s, p, o in record.triples:
        if str.__eq__(p, served):  # in C: rdflib's __eq__ runs in Python
            try:
                line_dates.setdefault(s, set()).add(date.fromisoformat(str(o)))
            except ValueError:
                continue  # a bad date is ItemHasOneDate's to report
        elif str.__eq__(p, pointed):
            pointers.setdefault(s, set()).add(int(o))
        elif str.__eq__(p, diagnosis):
            diagnoses.append(o)
    diagnosis_nodes = set(diagnoses)
    for s, p, o in record.triples:
        if str.__eq__(p, sequence) and s in diagnosis_nodes:
            sequences[int(o)] = s
    days_of: dict[Any, set[date]] = {dx: set() for dx in diagnoses}
    for line, days in line_dates.items():
        for pointer in pointers.get(line, ()):
            if pointer in sequences:
                days_of[sequences[pointer]] |= days
    every_day = set().union(*line_dates.values()) if line_dates else set()
    out: list[tuple[Any, Any, Any]] = []
    for dx, days in days_of.items():
        for day in sorted(days or every_day):
            deciding, consulted = editions.deciding(day)
            if deciding is not None:
                out.append((dx, CPTKG.judgedByEdition, EDITION[deciding.id]))
                continue
            out += [(dx, CPTKG.consultedEdition, EDITION[e.id]) for e in consulted]
            year = editions.fiscal_year(day)
            out.append((dx, CPTKG.editionMissing, Literal(
                f"FY{year} (October {year - 1} to September {year})")))
    return out


def not_applicable_reason(record: ClaimRecord, watched: frozenset[Any]) -> str | None:
    """Why no rule judges a readable claim, or None when the rules apply to it."""
    if record.not_applicable is not None:
        return record.not_applicable
    coded = CPTKG.productOrService
    if any(o in watched for _s, p, o in record.triples if str.__eq__(p, coded)):
        return None
    # Only for a claim set apart: its codes, as the reason names them.
    codes = sorted({results.display(o) for _s, p, o in record.triples if p == CPTKG.productOrService})
    if not codes:
        return "it has no procedure lines (no line coded in CPT or HCPCS)"
    shown = ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")
    return (f"it reports none of the codes the rules judge (the drug-delivery family 20700-20705 and the "
            f"codes beside it; cptkg queries watched-codes): its codes are {shown}")


class Validator:
    """Validates claim records against the claim rules; one per process (shapes compiled once).

    ``engine`` names the rule engine (cptkg.rules.engines): ``oxigraph`` (the default) runs the
    compiled checks as SPARQL on Oxigraph, ``duckdb`` the same checks as SQL on DuckDB,
    ``pyshacl`` pySHACL itself, the reference the differential tests hold the others to.
    ``evidence`` (on by default) gives each result the graph facts its rule read, with their
    sources (cptkg.rules.evidence), worked out after the engine's results are mapped.
    """

    def __init__(self, kg: Any = None, engine: str = DEFAULT_ENGINE, rules: RuleSpec | None = None,
                 evidence: bool = True) -> None:
        from cptkg.kg.graph import KnowledgeGraph

        if engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        kg = kg or KnowledgeGraph.default()
        self.engine = engine
        # Keep what each claim says (its lines and diagnoses) on its report, for reports that show
        # it beside the results (the HTML report); off by default, it costs a pass over the triples.
        self.keep_content = False
        self.rules = build(rules or RuleSpec())
        self.shapes = self.rules.shapes
        self._kg = kg
        # What the rules read beyond the graph: a pack's facts, as written (no reasoning over
        # them), and the ICD-10-CM editions as nodes the messages name.
        extra = Graph()
        extra += self.rules.facts
        icd10cm.edition_facts(extra)
        self.watched = watched_codes_in(kg.store)
        self._evidence = self._evidence_finder(kg, rules, extra) if evidence else None
        self._outcomes = outcomes(self.shapes)
        self._enriched: set[Any] = set()
        self._procedures_seen: set[str] = set()
        from cptkg.rules.catalog import rule_id
        from cptkg.rules.compiler import UnsupportedShape, compile_shapes

        # Each pack's shapes, so that a refusal is pinned on its pack by asking, never by reading
        # the refusal's wording. Built-in shapes always compile (tests hold them to it).
        by_pack: dict[str, list[URIRef]] = {}
        for s in set(self.shapes.subjects(None, None)):
            if isinstance(s, URIRef) and (origin := self.rules.origins.get(rule_id(s), BUILT_IN)) != BUILT_IN:
                by_pack.setdefault(origin, []).append(s)

        def refused(pack: str, err: Exception) -> InputError:
            return InputError(f"rule pack {pack}: {err}: the compiled engines do not run it "
                              "(`--engine pyshacl` runs it on pySHACL)")

        try:
            self._engine = engines.create(engine, self.shapes, engines.RuleFacts(kg, extra))
        except UnsupportedShape as err:
            failing = "a rule pack"
            for pack, shapes in by_pack.items():
                try:
                    compile_shapes(shape_description(self.shapes, shapes))
                except UnsupportedShape:
                    failing = pack
                    break
            raise refused(failing, err) from None
        for pack, shapes in sorted(by_pack.items()):
            try:
                self._engine.check_shapes(shapes)
            except UnsupportedShape as err:
                raise refused(pack, err) from None

    def _reported_as(self, found: list[Result]) -> list[Result]:
        """The results with how FHIR reports them (issue type, line element), from their shapes."""
        out = []
        for result in found:
            how = self._outcomes.get(result.rule)
            out.append(result if how is None else
                       replace(result, issue_type=how.issue_type, element=how.element))
        return out

    def settle(self, record: ClaimRecord) -> str | None:
        """Decide first whether any rule judges a readable claim, from its lines and status: the
        reason it is not applicable, or None. Only then does a problem in what only the rules read
        (``rule_input_error``: a diagnosis's code system, ...) make a judged claim Unreadable;
        on a claim no rule judges it is no reason to refuse it."""
        if not record.readable:
            return None
        reason = not_applicable_reason(record, self.watched)
        if reason is None and record.rule_input_error is not None:
            record.error = record.rule_input_error
        return reason

    def _evidence_finder(self, kg: Any, rules: RuleSpec | None, extra: Graph) -> Any:
        from cptkg.rules import evidence
        from cptkg.rules.catalog import claim_shapes
        from cptkg.rules.compiler import UnsupportedShape, compile_shapes

        facts = evidence.Facts(kg, rules)
        facts.add(extra)
        try:
            checks = compile_shapes(self.shapes)
        except UnsupportedShape:
            # A pack shape only pySHACL runs: its results carry no evidence; the built-in ones do.
            checks = compile_shapes(claim_shapes())
        return evidence.EvidenceFinder(checks, facts)

    def engine_of(self) -> dict[Any, tuple[str, str | None]]:
        """Each shape: the engine that runs it and, when it is not the one chosen, why."""
        return self._engine.engine_of()

    def validate(self, records: Iterable[ClaimRecord], batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ClaimReport]:
        """Reports in input order, batch by batch (so memory is bounded by the batch)."""
        batch: list[ClaimRecord] = []
        seen: set[URIRef] = set()
        origin: str | None = None
        graphs_in_batch = False
        for record in records:
            clash = record.iri is not None and record.iri in seen
            file_of = record.source
            # A result goes to the claim that owns its focus node, so no two claims of a batch may
            # share a node. Claims read from FHIR and X12 are named by their input's path and place
            # (urn:cptkg:claim:...), their lines below that: a batch may span such files, so a folder
            # of one-claim files runs in full batches. Claim graphs (RDF) bring their own IRIs, which
            # other files may reuse: a batch holds one such file's claims.
            own_names = record.iri is not None and str(record.iri).startswith(CLAIM_IRI_BASE)
            crosses_graph_file = file_of != origin and (graphs_in_batch or (record.iri is not None and not own_names))
            if batch and (len(batch) >= batch_size or clash or crosses_graph_file):
                yield from self._run(batch)
                batch, seen, graphs_in_batch = [], set(), False
            batch.append(record)
            origin = file_of
            graphs_in_batch = graphs_in_batch or (record.iri is not None and not own_names)
            if record.iri is not None:
                seen.add(record.iri)
        if batch:
            yield from self._run(batch)

    def _run(self, batch: list[ClaimRecord]) -> Iterator[ClaimReport]:
        # Records are told apart by their place in the batch (id), never by ``position``: that is
        # the caller's numbering, and records read with read_bytes all have position 0.
        reports = {id(r): ClaimReport(valid_unicode(r.claim_id), valid_unicode(r.source), valid_unicode(r.where),
                                      position=r.position) for r in batch}
        if self.keep_content:
            from cptkg.claims.content import content

            for r in batch:
                reports[id(r)].content = content(r)
        judged = []
        for r in batch:
            reason = self.settle(r)
            if reason is None:
                judged.append(r)
            else:
                reports[id(r)].reason = valid_unicode(reason)
        for r in judged:
            if r.readable:
                r.triples = [*r.triples, *edition_triples(r)]
        encoded = self._encode(judged)
        readable = [r for r in judged if r.readable]
        if readable:
            mapped = results.by_claim(readable, self.raw_results(readable, encoded))
            if self._evidence is not None:
                self._evidence.new_batch()
                mapped = self._evidence.attach(readable, mapped)
            for r, found in zip(readable, mapped, strict=True):
                reports[id(r)].results.extend(self._reported_as(found))
        for r in batch:
            if not r.readable:
                unreadable = results.unreadable(r)
                if self._evidence is not None:  # no rule read anything: an empty list, as for structure rules
                    unreadable = replace(unreadable, evidence=())
                reports[id(r)].results.append(unreadable)
        for r in batch:
            yield reports[id(r)]

    def _encode(self, batch: list[ClaimRecord]) -> dict[int, Any]:
        """Each readable claim in the engine's form, keyed by id(record); a claim with a term the
        engines refuse becomes Unreadable with the reason (and the rest of the batch is checked
        as usual)."""
        out: dict[int, Any] = {}
        for record in batch:
            if not record.readable:
                continue
            try:
                out[id(record)] = self._engine.encode(record.triples)
            except (ValueError, TypeError, UnicodeError) as err:
                record.error = (f"{record.origin}: {record.claim_id}: a term cannot be used "
                                f"({' '.join(str(err).split())[:200]})")
        return out

    def raw_results(self, records: list[ClaimRecord], encoded: dict[int, Any] | None = None) -> list[RawResult]:
        """The rule results for readable claims, as the engine reports them (before mapping)."""
        added: list[tuple[Any, Any, Any]] = []
        for record in records:
            added.extend(record.triples)
        # The ICD-10-CM facts of each diagnosis code in the editions this batch's dates call for
        # (edition_triples): reading every loaded edition's table cost a quarter second each.
        codes = set(diagnosis_codes(added))
        edition_links = (CPTKG.judgedByEdition, CPTKG.consultedEdition)
        wanted = {str(o).rsplit("/", 1)[-1] for _s, p, o in added
                  if str.__eq__(p, edition_links[0]) or str.__eq__(p, edition_links[1])}
        pairs = {(code, edition) for code in codes for edition in wanted}
        new_pairs = pairs - self._enriched
        self._enriched |= new_pairs
        fresh = {code for code, _edition in new_pairs}
        fresh_editions = {edition for _code, edition in new_pairs}
        # The CMS NCCI edits (user-imported) that name the procedure codes seen for the first time.
        coded = CPTKG.productOrService
        procedures = {results.display(o) for _s, p, o in added if str.__eq__(p, coded)}
        new_procedures = procedures - self._procedures_seen
        self._procedures_seen |= new_procedures
        edits = ncci.facts_for(new_procedures) if new_procedures else []
        if fresh:
            facts = Graph()
            icd10cm.enrich(facts, fresh, fresh_editions)
            self._engine.add_facts(facts)
            if self._evidence is not None:
                self._evidence.facts.add(facts)
        if edits:
            self._engine.add_facts(edits)
            if self._evidence is not None:
                self._evidence.facts.add(edits)
        if encoded is None:
            encoded = self._encode(records)
        return self._engine.run_encoded([encoded[id(r)] for r in records if id(r) in encoded])


def validate_paths(*sources: Any, batch_size: int = DEFAULT_BATCH_SIZE, kg: Any = None,
                   engine: str = DEFAULT_ENGINE, input_format: str | None = None,
                   rules: Iterable[str | Path] | RuleSpec = (), severities: Mapping[str, str] | None = None,
                   fhir_strict: bool = False, evidence: bool = True) -> ValidationReport:
    """Validate claim files/folders (or ClaimRecords) and return the whole report, as `cptkg
    validate` does: ``rules`` the rule packs to add (paths, as --rules; or a RuleSpec),
    ``severities`` a rule ID to Violation, Warning, Info or off (as [rules.severity]),
    ``fhir_strict`` reads FHIR claims with fhir.resources (as --fhir-strict), ``evidence=False``
    leaves out each result's evidence (the graph facts its rule read, as --no-evidence)."""
    if not sources:
        raise InputError("validate needs claims: give files, folders or ClaimRecords")
    if isinstance(rules, RuleSpec):
        if severities:
            raise InputError("give severities in the RuleSpec, or rules as paths beside severities=")
        chosen = rules
    else:
        chosen = spec([rules] if isinstance(rules, (str, Path)) else rules, severities)
    validator = Validator(kg, engine=engine, rules=chosen, evidence=evidence)
    return ValidationReport(list(validator.validate(_in_order(sources, input_format, fhir_strict), batch_size)))


def _in_order(sources: tuple[Any, ...], input_format: str | None, fhir_strict: bool) -> Iterator[ClaimRecord]:
    """The claims of files, folders and ClaimRecords given together, in the order given (the
    records given beside paths were once dropped)."""
    if not any(isinstance(s, ClaimRecord) for s in sources):
        # one numbering of positions across the paths
        yield from read_paths(sources, input_format, fhir_strict=fhir_strict)
        return
    check_form(input_format)
    for source in sources:
        if isinstance(source, ClaimRecord):
            yield source
        else:
            yield from read_paths([source], input_format, fhir_strict=fhir_strict)
