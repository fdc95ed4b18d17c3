"""The `cptkg` command line. Exit codes as pySHACL's: 0 conforming (warnings allowed), 1 not
conforming, 2 bad input or runtime error (one line on stderr), 3 not implemented."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cptkg import __version__
from cptkg.errors import InputError, NotImplementedFeature

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NONCONFORMING, EXIT_ERROR, EXIT_NOT_IMPLEMENTED = 0, 1, 2, 3


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

    v = sub.add_parser("validate", help="validate claims (Turtle, JSON-LD, N-Triples, FHIR JSON)")
    v.add_argument("paths", nargs="+", metavar="PATH", help="files or folders of claims")
    v.add_argument("--format", default="human",
                   choices=["human", "table", "json", "jsonl", "turtle"])
    v.add_argument("--workers", type=int, default=0, metavar="N",
                   help="validate on a local Dask cluster of N worker processes")
    v.add_argument("--scheduler", metavar="ADDRESS", help="validate on this Dask scheduler")
    v.add_argument("--batch-size", type=int, default=500, metavar="N",
                   help="claims validated together (default 500)")
    v.add_argument("--output", metavar="FILE", help="write results here instead of stdout")

    s = sub.add_parser("show", help="show what the graph knows about a code")
    s.add_argument("code", metavar="CODE", help="a CPT code, e.g. 20701")
    s.add_argument("--format", default="human", choices=["human", "json"])

    q = sub.add_parser("query", help="run a named SPARQL query (or --file)")
    q.add_argument("name", nargs="?", metavar="NAME", help="a query name from `cptkg queries`")
    q.add_argument("--file", metavar="QUERY.rq", help="run this query file instead")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    q.add_argument("--format", default="table", choices=["table", "csv", "json"])
    q.add_argument("--endpoint", metavar="QUERY_URL", help="a SPARQL 1.1 query endpoint")
    q.add_argument("--allow-service", action="store_true",
                   help="let an ad-hoc query's SERVICE clauses reach the network")

    sub.add_parser("queries", help="list the named queries with their parameters")

    e = sub.add_parser("export", help="export the graph for other tools")
    e.add_argument("--format", required=True,
                   choices=["turtle", "jsonld", "ntriples", "rdfxml", "skos", "fhir"])
    e.add_argument("--inferred", action="store_true", help="include the OWL-RL closure")
    e.add_argument("--output", metavar="FILE")

    ld = sub.add_parser("load", help="push the graph into a SPARQL 1.1 Graph Store Protocol store")
    ld.add_argument("--store", required=True, metavar="GSP_URL")
    ld.add_argument("--inferred", action="store_true")
    ld.add_argument("--graph", metavar="IRI", help="a named graph (default: the default graph)")
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

    data = show.card(args.code)
    _write(show.render_json(data) if args.format == "json" else show.render_human(data), None)
    return EXIT_OK


def cmd_queries(args: argparse.Namespace) -> int:
    from cptkg import queries

    lines = []
    for name, q in sorted(queries.library().items()):
        params = " ".join(f"--param {p.name}=<{p.kind.name}>" for p in q.parameters)
        lines.append(f"{name} {params}".rstrip())
        lines.append(f"    {q.description}")
        for p in q.parameters:
            lines.append(f"    {p.name}: {p.doc}")
    _write("\n".join(lines), None)
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    from cptkg import queries

    params = _params(args.param)
    if args.file and args.name:
        raise InputError("give a query NAME or --file, not both")
    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read {args.file}: {getattr(err, 'strerror', None) or err}") from None
        queries.check_query_text(text, allow_service=args.allow_service)
        named = queries.parse_header(Path(args.file).stem, text)
        result = queries.run_text(text, named.bind(params), endpoint=args.endpoint)
    elif args.name:
        result = queries.run_named(args.name, params, endpoint=args.endpoint)
    else:
        raise InputError("give a query NAME (see `cptkg queries`) or --file QUERY.rq")
    render = {"table": result.to_table, "csv": result.to_csv, "json": result.to_json}[args.format]
    text = render()
    sys.stdout.write(text if text.endswith("\n") or args.format == "csv" else text + "\n")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from cptkg import export
    from cptkg.graph import KnowledgeGraph

    kg = KnowledgeGraph.default()
    if args.format in export.RDF_FORMATS:
        text = export.export(kg.graph(inferred=args.inferred), args.format)
    elif args.format == "skos":
        from cptkg import skos

        text = skos.export_skos(kg)
    else:
        from cptkg import fhir_export

        text = fhir_export.export_bundle(kg)
    _write(text, args.output)
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    from cptkg import store

    count = store.load(args.store, inferred=args.inferred, graph_iri=args.graph)
    print(f"loaded {count} triples into {args.store}", file=sys.stderr)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from cptkg import validation

    return validation.run_cli(args)


COMMANDS = {
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
        print(f"cptkg: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except NotImplementedFeature as err:
        print(f"cptkg: not implemented: {err}", file=sys.stderr)
        return EXIT_NOT_IMPLEMENTED
    except KeyboardInterrupt:
        print("cptkg: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except Exception as err:  # the last line of defence: one line, no traceback
        if debug:
            raise
        print(f"cptkg: internal error: {type(err).__name__}: {err} (run with --debug for the "
              "traceback, and please report it)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
