"""The `cptkg` command line, the top stage: arguments parsed, each command run on the stages below
(claims read, rules run, reports written; queries, exports, the show card). Exit codes as pySHACL's:
0 conforming (warnings allowed), 1 not conforming, 2 bad input or runtime error (one line on
stderr), 3 not implemented. The contract is in the README and docs/ARCHITECTURE.md."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from cptkg._version import __version__
from cptkg.errors import InputError, NotImplementedFeature, UnknownRule, printable
from cptkg.rules.defaults import DEFAULT_BATCH_SIZE, DEFAULT_ENGINE, ENGINES

# The input forms of cptkg.claims.files.FORMS, restated so that --help needs no RDF stack (a test
# holds the two equal).
INPUT_FORMS = ("fhir", "ndjson", "x12", "turtle", "jsonld", "nt", "rdfxml")
# The report forms of cptkg.report.writers.WRITERS, restated for the same reason.
REPORT_FORMATS = ("human", "table", "json", "jsonl", "turtle", "operationoutcome", "html")

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NONCONFORMING, EXIT_ERROR, EXIT_NOT_IMPLEMENTED = 0, 1, 2, 3
ADHOC_TIMEOUT = 30.0  # seconds an ad-hoc query (--file) may run unless --timeout says otherwise
ENDPOINT_TIMEOUT = 120.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage and exits 2 already; keep it to one line as every other error.
        raise InputError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cptkg",
        description="Knowledge graph of CPT 20701 and its related codes: show codes, validate "
        "claims with SHACL, run named SPARQL queries, export the graph.",
    )
    parser.add_argument("--version", action="version", version=f"cptkg {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    v = sub.add_parser("validate", help="validate claims (FHIR JSON and NDJSON, X12 837P, claim graphs in RDF)")
    v.add_argument("paths", nargs="+", metavar="PATH", help="files or folders of claims; - reads standard input")
    v.add_argument("--input-format", choices=list(INPUT_FORMS), metavar="FORM",
                   help=f"the form of the input ({', '.join(INPUT_FORMS)}); default: detected from the content "
                        "and the file name")
    v.add_argument("--format", default=None, choices=REPORT_FORMATS,
                   help="the report's form (default human, or [validate] format of the config); operationoutcome: "
                        "FHIR R4 OperationOutcome, a Bundle of them for several claims; html: one page to open "
                        "in a browser (summary, chart, filterable claims)")
    v.add_argument("--rules", action="append", default=[], metavar="PACK",
                   help="add a rule pack (a folder of Turtle files, or one file); repeatable")
    v.add_argument("--config", metavar="FILE",
                   help="a TOML configuration (default: cptkg.toml in the working folder, if there)")
    v.add_argument("--fail-on", choices=["violation", "warning"], default=None,
                   help="what makes the exit code 1: a Violation (default) or any Warning too")
    v.add_argument("--engine", choices=list(ENGINES), default=None,
                   help="the rule engine: oxigraph (default: the compiled checks as SPARQL), duckdb (the same checks "
                        "as SQL, columnar, a batch at a time) or pyshacl (pySHACL itself, the reference)")
    v.add_argument("--workers", type=int, default=0, metavar="N",
                   help="validate on a local Dask cluster of N worker processes")
    v.add_argument("--scheduler", metavar="ADDRESS", help="validate on this Dask scheduler")
    v.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help=f"claims validated together (default {DEFAULT_BATCH_SIZE})")
    v.add_argument("--output", metavar="FILE", help="write results here instead of stdout")
    v.add_argument("--no-evidence", action="store_true",
                   help="leave out each result's evidence (the graph facts its rule read, with their sources)")
    v.add_argument("--fhir-strict", action="store_true", default=None,
                   help="read FHIR claims with fhir.resources, which also reports every FHIR R4 conformance "
                        "error of the resource (slower); default: cptkg's direct reader, which checks what cptkg reads")

    r = sub.add_parser("rules", help="the rule catalog: each rule, its severity, what it reads, where it is from")
    r.add_argument("action", nargs="?", choices=["show"], help="show one rule in full")
    r.add_argument("rule", nargs="?", metavar="ID", help="the rule ID (with show)")
    r.add_argument("--format", default="human", choices=["human", "json"])
    r.add_argument("--rules", action="append", default=[], metavar="PACK", help="add a rule pack; repeatable")
    r.add_argument("--config", metavar="FILE", help="a TOML configuration (default: ./cptkg.toml, if there)")

    s = sub.add_parser("show", help="show what the graph knows about a code")
    s.add_argument("code", metavar="CODE", help="a code of any system the graph holds: CPT 20701, ICD-10-CM "
                   "T85.738A, NUCC 207X00000X, place of service 21, Medicare specialty 20")
    s.add_argument("--system", choices=["cpt", "icd10cm", "nucc", "pos", "mspec"],
                   help="the code system of CODE, where a notation fits several (21: pos or mspec)")
    s.add_argument("--format", default="human", choices=["human", "json", "svg", "html"],
                   help="human or json: the card; svg: the code and its neighbours drawn as a graph; html: "
                        "that drawing with its relations, conflicts and sources, one page")
    s.add_argument("--output", metavar="FILE", help="write here instead of stdout")

    q = sub.add_parser("query", help="run a named SPARQL query (or --file)")
    q.add_argument("name", nargs="?", metavar="NAME", help="a query name from `cptkg queries`")
    q.add_argument("--file", metavar="QUERY.rq", help="run this query file instead")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    q.add_argument("--format", default="table", choices=["table", "csv", "json"])
    q.add_argument("--endpoint", metavar="QUERY_URL", help="a SPARQL 1.1 query endpoint")
    q.add_argument("--allow-service", action="store_true",
                   help="let an ad-hoc query's SERVICE clauses reach the network")
    q.add_argument("--timeout", type=float, metavar="SECONDS",
                   help=f"stop the query after this long (default: {ADHOC_TIMEOUT:g} s for --file, "
                   f"{ENDPOINT_TIMEOUT:g} s in all for an --endpoint)")

    qs = sub.add_parser("queries", help="list the named queries with their parameters")
    qs.add_argument("--all", action="store_true",
                    help="also list the graph's quality checks (*-violation: rows are problems)")

    e = sub.add_parser("export", help="export the graph for other tools")
    e.add_argument("--format", required=True,
                   choices=["turtle", "jsonld", "ntriples", "rdfxml", "skos", "fhir"])
    e.add_argument("--inferred", action="store_true", help="include the OWL-RL closure")
    e.add_argument("--output", metavar="FILE")

    ld = sub.add_parser("load", help="push the graph into a SPARQL 1.1 Graph Store Protocol store")
    ld.add_argument("--store", required=True, metavar="GSP_URL")
    pushed = ld.add_mutually_exclusive_group()
    pushed.add_argument("--inferred", action="store_true",
                        help="push the graph with its OWL-RL closure, as the embedded queries read it (the default)")
    pushed.add_argument("--asserted", action="store_true",
                        help="push only the asserted graph (named queries then answer differently than embedded)")
    ld.add_argument("--graph", metavar="IRI", help="a named graph (default: the default graph)")
    ld.add_argument("--timeout", type=float, default=ENDPOINT_TIMEOUT, metavar="SECONDS",
                    help=f"give up on a request the store has not answered in full after this long "
                    f"(default {ENDPOINT_TIMEOUT:g} s)")
    sv = sub.add_parser("serve", help="serve validation, FHIR terminology operations and SPARQL over HTTP")
    sv.add_argument("--host", default="127.0.0.1",
                    help="the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to others)")
    sv.add_argument("--port", type=int, default=8000, help="the port (default 8000; 0 picks a free one)")
    sv.add_argument("--rules", action="append", default=[], metavar="PACK", help="add a rule pack; repeatable")
    sv.add_argument("--config", metavar="FILE", help="a TOML configuration (as validate's)")
    sv.add_argument("--max-body", type=float, default=10.0, metavar="MIB",
                    help="the largest request body taken, in MiB (default 10; larger gets 413)")
    sv.add_argument("--request-timeout", type=float, default=60.0, metavar="SECONDS",
                    help="a validation request running longer gets 504 (default 60)")
    sv.add_argument("--query-timeout", type=float, default=10.0, metavar="SECONDS",
                    help="a SPARQL query running longer is stopped with 504 (default 10)")
    sv.add_argument("--validators", type=int, default=1, metavar="N",
                    help="validations run at once, each with its own compiled rules (default 1)")
    sv.add_argument("--fhir-strict", action="store_true", default=None,
                    help="read FHIR claims with fhir.resources (as validate --fhir-strict)")

    icd = sub.add_parser("icd10cm", help="the ICD-10-CM editions diagnoses are judged by: add one from a CDC file")
    icd_sub = icd.add_subparsers(dest="icd10cm_command", metavar="ACTION", parser_class=_Parser, required=True)
    add = icd_sub.add_parser("add", help="add an edition from a CDC tabular XML file (icd10cm_tabular_YYYY.xml)")
    add.add_argument("tabular", metavar="TABULAR.xml", help="the CDC's ICD-10-CM tabular XML file")
    add.add_argument("--codes", metavar="CODES.txt",
                     help="the CDC's code or order file of the same release (icd10cm_codes_YYYY.txt, "
                          "icd10cm_order_YYYY.txt): keeps only the 7th-character codes it lists")
    add.add_argument("--start", metavar="YYYY-MM-DD",
                     help="the first day the edition is in force (default October 1 before its fiscal "
                          "year; an April update: April 1)")
    add.add_argument("--replace", action="store_true", help="replace an edition added before")
    rm = icd_sub.add_parser("remove", help="remove an added edition")
    rm.add_argument("edition", metavar="EDITION", help="its id, YYYY-MM (see `cptkg data`)")
    icd_sub.add_parser("list", help="the loaded editions (packaged and added)")

    nc = sub.add_parser("ncci", help="CMS NCCI procedure-to-procedure, MUE and add-on code edits: import CMS's files")
    nc_sub = nc.add_subparsers(dest="ncci_command", metavar="ACTION", parser_class=_Parser, required=True)
    imp = nc_sub.add_parser("import", help="import CMS PTP edit, MUE or AOC files (tab/comma/fixed-width text or xlsx)")
    imp.add_argument("files", nargs="+", metavar="FILE", help="files as CMS publishes them")
    imp.add_argument("--quarter", metavar="YYYYQN",
                     help="the quarter the files are for (default: from the file name, e.g. Eff_01-01-2026)")
    nc_sub.add_parser("list", help="the imported tables, by quarter")

    sub.add_parser("data", help="what the user's data folder holds ($CPTKG_DATA_DIR)")
    return parser


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot write {output}: {err.strerror}") from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _params(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param takes KEY=VALUE, not {pair!r}")
        if key in out:
            raise InputError(f"--param {key} given twice")
        out[key] = value
    return out


def cmd_show(args: argparse.Namespace) -> int:
    from cptkg import show

    data = show.card(args.code, system=args.system)
    if args.format in ("svg", "html"):
        from cptkg.show import diagram

        drawing = diagram.build(data)
        _write(diagram.render_svg(drawing) if args.format == "svg" else diagram.render_html(drawing), args.output)
        return EXIT_OK
    _write(show.render_json(data) if args.format == "json" else show.render_human(data), args.output)
    return EXIT_OK


def cmd_queries(args: argparse.Namespace) -> int:
    from cptkg.queries import named

    def listing(named: dict[str, Any]) -> list[str]:
        lines = []
        for name, q in sorted(named.items()):
            params = " ".join(f"--param {p.name}=<{p.kind.name}>" for p in q.parameters)
            lines.append(f"{name} {params}".rstrip())
            lines.append(f"    {q.description}")
            for p in q.parameters:
                lines.append(f"    {p.name}: {p.doc}")
        return lines

    lines = listing(named.questions())
    if args.all:
        lines += ["", "Quality checks of the graph (each row is a problem; `make test` runs them):", ""]
        lines += listing(named.quality_checks())
    _write("\n".join(lines), None)
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    from cptkg import queries

    params = _params(args.param)
    if args.timeout is not None and not 0 < args.timeout <= 86400:
        raise InputError("--timeout must be a number of seconds above 0 (at most a day)")
    if args.endpoint:
        from cptkg.bounded_http import check_url

        check_url(args.endpoint, "--endpoint")
    if args.file and args.name:
        raise InputError("give a query NAME or --file, not both")
    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read {args.file}: {getattr(err, 'strerror', None) or err}") from None
        queries.check_query_text(text, allow_service=args.allow_service)
        named = queries.parse_header(Path(args.file).stem, text)
        result = queries.run_text(text, named.bind(params), endpoint=args.endpoint,
                                  timeout=args.timeout or (ENDPOINT_TIMEOUT if args.endpoint else ADHOC_TIMEOUT))
    elif args.name:
        result = queries.run_named(args.name, params, endpoint=args.endpoint, timeout=args.timeout)
    else:
        raise InputError("give a query NAME (see `cptkg queries`) or --file QUERY.rq")
    render = {"table": result.to_table, "csv": result.to_csv, "json": result.to_json}[args.format]
    text = render()
    sys.stdout.write(text if text.endswith("\n") or args.format == "csv" else text + "\n")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from cptkg.export import rdf as export
    from cptkg.kg.graph import KnowledgeGraph

    kg = KnowledgeGraph.default()
    if args.format in export.RDF_FORMATS:
        text = export.export(kg.graph(inferred=args.inferred), args.format)
    elif args.format == "skos":
        from cptkg.export import skos

        text = skos.export_skos(kg)
    else:
        from cptkg.export import fhir

        text = fhir.export_bundle(kg)
    _write(text, args.output)
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    from cptkg.export import store

    if not 0 < args.timeout <= 86400:
        raise InputError("--timeout must be a number of seconds above 0 (at most a day)")
    count = store.load(args.store, inferred=not args.asserted, graph_iri=args.graph, timeout=args.timeout)
    kind = "asserted" if args.asserted else "inferred (asserted and OWL-RL closure)"
    print(f"loaded {count} triples into {args.store}: the {kind} graph", file=sys.stderr)
    return EXIT_OK


def _count_claims(paths: list[str]) -> int:
    """Claims to expect (NDJSON lines; one per other file), for the progress bar's ETA."""
    from cptkg.claims import expand_paths

    total = 0
    for path in expand_paths(paths):
        if str(path) != "-" and path.suffix.lower() in (".ndjson", ".jsonl"):
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


def _silence_stdout() -> None:
    """The reader of stdout went away (`| head`): later writes, and the flush at exit, go nowhere."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _rule_spec(args: argparse.Namespace) -> tuple[Any, Any]:
    """The configuration, and the rule set that --rules, --config (or ./cptkg.toml) ask for, built
    (so an unknown rule, a bad pack or severity is exit 2 before any claim is read)."""
    from cptkg.rules import config as configuration
    from cptkg.rules import packs

    config = configuration.load(args.config)
    spec = packs.spec([*config.packs, *args.rules], config.severities)
    try:
        packs.build(spec)
    except UnknownRule as err:
        if config.path is not None:
            raise UnknownRule(err.rule, f"{config.path}: {err}") from None
        raise
    return config, spec


def cmd_rules(args: argparse.Namespace) -> int:
    from cptkg.rules import explain

    _config, spec = _rule_spec(args)
    if args.action == "show":
        if not args.rule:
            raise InputError("`cptkg rules show` needs a rule ID (`cptkg rules` lists them)")
        data = explain.rule(args.rule, spec)
        _write(explain.render_json(data) if args.format == "json" else explain.render_rule(data), None)
    elif args.rule:
        raise InputError(f"say `cptkg rules show {args.rule}` to explain one rule")
    else:
        rows = explain.catalog(spec)
        _write(explain.render_json(rows) if args.format == "json" else explain.render_catalog(rows), None)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:

    config, spec = _rule_spec(args)
    defaults = config.validate
    args.format = args.format or defaults.get("format", "human")
    args.batch_size = args.batch_size if args.batch_size is not None else defaults.get("batch-size", DEFAULT_BATCH_SIZE)
    args.input_format = args.input_format or defaults.get("input-format")
    fail_on = args.fail_on or defaults.get("fail-on", "violation")
    fhir_strict = args.fhir_strict if args.fhir_strict is not None else defaults.get("fhir-strict", False)
    args.fhir_strict = fhir_strict
    engine = args.engine or defaults.get("engine", DEFAULT_ENGINE)
    if engine == "pyshacl" and (args.workers or args.scheduler):
        raise InputError("--engine pyshacl runs without a cluster: drop --workers/--scheduler")

    if args.workers < 0:
        raise InputError("--workers must be 0 (no cluster) or a positive number of processes")
    cpus = os.cpu_count() or 1
    if args.workers > cpus:
        log.warning("--workers %d is more than the %d CPUs here: using %d", args.workers, cpus, cpus)
        args.workers = cpus
    if args.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    from cptkg.rules import driver

    if args.output:
        driver.refuse_output_over_input(args.output, args.paths)
    with driver.report_output(args.output) as out:
        return _validate_into(args, spec, engine, fail_on, out)


def _validate_into(args: argparse.Namespace, spec: Any, engine: str, fail_on: str, out: IO[str]) -> int:
    from cptkg.report.model import ClaimReport
    from cptkg.report.progress import Progress
    from cptkg.report.writers import WRITERS
    from cptkg.rules import driver

    progress = Progress(total=_count_claims(args.paths) if sys.stderr.isatty() else None)
    writer = WRITERS[args.format](out)
    tally = driver.Tally()
    cluster = client = None
    try:
        reports: Iterator[ClaimReport]
        if args.workers or args.scheduler:
            from cptkg.claims import expand_paths
            from cptkg.rules import distributed

            if args.format == "turtle":
                raise InputError("--format turtle is not available with --workers or --scheduler")
            expand_paths(args.paths)  # missing paths fail before a cluster starts
            client, cluster = distributed.client_for(args.workers, args.scheduler)
            reports = driver.refuse_lone_unreadable_reports(distributed.run(
                args.paths, client, batch_size=args.batch_size, form=args.input_format,
                rules=None if spec.is_default else spec, engine=engine, evidence=not args.no_evidence,
                fhir_strict=args.fhir_strict))
        else:
            from cptkg.claims import read_paths
            from cptkg.rules.validator import Validator

            # Read before the rules compile: a lone unreadable input fails at once; one the rules
            # refuse for what only they read (Validator.settle) is refused by the driver after.
            records = driver.refuse_lone_unreadable(read_paths(args.paths, args.input_format,
                                                               fhir_strict=args.fhir_strict))
            validator = Validator(engine=engine, rules=spec, evidence=not args.no_evidence)
            reports = driver.validate_records(records, validator, args.batch_size,
                                              keep_content=writer.wants_content)
        try:
            driver.write_reports(reports, writer, tally, each=progress.step)
        except BrokenPipeError:
            # The reader went away: "all conform" may be said only if every claim so far did.
            _silence_stdout()
            print("cptkg: output closed before the run ended", file=sys.stderr)
            return EXIT_OK if tally.conforms else EXIT_ERROR
    finally:
        progress.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return EXIT_NONCONFORMING if tally.failed(fail_on) else EXIT_OK


def _edition_lines(origin: str | None = None) -> list[str]:
    from cptkg.kg import editions

    lines = []
    for e in editions.editions():
        if origin is not None and e.origin != origin:
            continue
        added = f", added {e.added}" if e.added else ""
        lines.append(f"  {e.id}  FY{e.fiscal_year_end.year}, in force {e.start.isoformat()} to "
                     f"{e.fiscal_year_end.isoformat()}  {e.codes} codes ({e.billable} billable)  "
                     f"{e.origin}: {e.release}{added}")
    return lines


def _read_file(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {what} {path}: {err.strerror}") from None


def cmd_icd10cm(args: argparse.Namespace) -> int:
    from datetime import date

    from cptkg.kg import editions, userdata

    if args.icd10cm_command == "list":
        _write("\n".join(["ICD-10-CM editions (the date of service picks one):", *_edition_lines()]), None)
        return EXIT_OK
    if args.icd10cm_command == "remove":
        gone = editions.remove(args.edition)
        print(f"cptkg: removed the ICD-10-CM edition {gone.id} ({gone.release})", file=sys.stderr)
        return EXIT_OK
    start = None
    if args.start:
        try:
            start = date.fromisoformat(args.start)
        except ValueError:
            raise InputError(f"--start takes a date as YYYY-MM-DD, not {args.start!r}") from None
    xml = _read_file(args.tabular, "the tabular file")
    codes = _read_file(args.codes, "the code list") if args.codes else None
    edition = editions.add(xml, args.tabular, codes=codes, start=start, replace=args.replace)
    if codes is None:
        log.warning("no --codes file: every 7th character of a category's definition made a code; the "
                    "CDC's code list of the release (--codes) keeps only those that exist")
    print(f"cptkg: added the ICD-10-CM edition {edition.id} (FY{edition.fiscal_year_end.year}, in force "
          f"{edition.start.isoformat()} to {edition.fiscal_year_end.isoformat()}): {edition.codes} codes, "
          f"{edition.billable} billable, in {userdata.folder('icd10cm')}", file=sys.stderr)
    return EXIT_OK


def _ncci_lines() -> list[str]:
    from cptkg.kg import ncci

    return [f"  {i.quarter}  {i.kind.upper()}  {i.rows} rows  from {i.source}, imported {i.imported}"
            for i in ncci.imports()]


def cmd_ncci(args: argparse.Namespace) -> int:
    from cptkg.kg import ncci

    if args.ncci_command == "list":
        lines = _ncci_lines()
        _write("\n".join(["CMS NCCI tables imported:", *(lines or ["  none (`cptkg ncci import FILE...`)"])]), None)
        return EXIT_OK
    for name in args.files:
        done = ncci.import_file(_read_file(name, "the NCCI file"), name, args.quarter)
        print(f"cptkg: imported {done.rows} {done.kind.upper()} rows of {done.source} for {done.quarter}",
              file=sys.stderr)
    return EXIT_OK


def cmd_data(args: argparse.Namespace) -> int:
    from cptkg.kg import editions, userdata

    folder = userdata.data_dir()
    added = [e for e in editions.editions() if e.origin == editions.ADDED]
    lines = [f"data folder: {folder}" + ("" if folder.exists() else " (nothing added yet)"),
             f"  (set ${userdata.ENVIRONMENT_VARIABLE} to use another)", "",
             f"ICD-10-CM editions added: {len(added)} (`cptkg icd10cm add TABULAR.xml`)"]
    lines += _edition_lines(editions.ADDED)
    lines += ["", "ICD-10-CM editions packaged with cptkg:", *_edition_lines(editions.PACKAGED)]
    imported = _ncci_lines()
    lines += ["", f"CMS NCCI tables imported: {len(imported)} (`cptkg ncci import FILE...`)", *imported]
    from cptkg.kg import reasoning

    cached = sorted(reasoning.cache_dir().glob("closure-*.nt")) if reasoning.cache_dir().is_dir() else []
    lines += ["", f"Closure cache: {reasoning.cache_dir()} ({len(cached)} file{'s' if len(cached) != 1 else ''}; "
                  "used only when the shipped closure does not match the ontology)"]
    _write("\n".join(lines), None)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise InputError("--port must be between 0 and 65535")
    for name in ("max_body", "request_timeout", "query_timeout"):
        if not 0 < getattr(args, name) <= 86400:
            raise InputError(f"--{name.replace('_', '-')} must be a number above 0")
    if not 1 <= args.validators <= (os.cpu_count() or 1) * 4:
        raise InputError(f"--validators must be between 1 and {(os.cpu_count() or 1) * 4}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InputError("cptkg serve needs starlette and uvicorn: pip install 'cptkg[serve]'") from None
    from cptkg import serve

    config, spec = _rule_spec(args)
    fhir_strict = args.fhir_strict if args.fhir_strict is not None else config.validate.get("fhir-strict", False)
    settings = serve.Settings(rules=None if spec.is_default else spec, max_body_bytes=int(args.max_body * (1 << 20)),
                              fhir_strict=fhir_strict,
                              request_timeout=args.request_timeout, query_timeout=args.query_timeout,
                              validators=args.validators,
                              batch_size=config.validate.get("batch-size", DEFAULT_BATCH_SIZE))
    # The access log (one JSON line per request) and the service's own lines go to stderr.
    logging.getLogger("cptkg.serve").setLevel(logging.INFO)
    serve.run(settings, host=args.host, port=args.port)
    return EXIT_OK


COMMANDS = {
    "serve": cmd_serve,
    "rules": cmd_rules,
    "icd10cm": cmd_icd10cm,
    "ncci": cmd_ncci,
    "data": cmd_data,
    "show": cmd_show,
    "queries": cmd_queries,
    "query": cmd_query,
    "export": cmd_export,
    "load": cmd_load,
    "validate": cmd_validate,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="cptkg: %(message)s",
            stream=sys.stderr,
        )
        if not debug:
            # rdflib logs a traceback for every ill-typed literal (a bad date); cptkg reports
            # those itself, in one line.
            logging.getLogger("rdflib.term").setLevel(logging.ERROR)
        if not args.command:
            build_parser().print_help(sys.stderr)
            return EXIT_ERROR
        return COMMANDS[args.command](args)
    except InputError as err:
        if debug:
            raise
        print(f"cptkg: error: {printable(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    except NotImplementedFeature as err:
        print(f"cptkg: not implemented: {err}", file=sys.stderr)
        return EXIT_NOT_IMPLEMENTED
    except KeyboardInterrupt:
        print("cptkg: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`| head`). Later writes to stdout would fail again at exit.
        _silence_stdout()
        return EXIT_OK
    except Exception as err:  # the last line of defence: one line, no traceback
        if debug:
            raise
        print(f"cptkg: internal error: {type(err).__name__}: {printable(str(err))} (run with --debug for the "
              "traceback, and please report it)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
