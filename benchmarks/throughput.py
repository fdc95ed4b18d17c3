"""Claim validation throughput, measured in one run and printed as figures and ratios.

    python benchmarks/throughput.py [--claims N] [--sections command,stages,batches,folder,memory,engines]

It generates N FHIR claims covering every rule (the examples/claims templates with fresh ids) and
measures, by section:

- command: `cptkg validate` end to end (a process: FHIR NDJSON in, JSON out), in CPU seconds of
  the process: on the default engine (duckdb), on --engine oxigraph and with --fhir-strict, against
  the hand-written Python of the rules reading the same file in a process of its own;
- stages: where a claim's time goes inside the command (read, encode for the engine, load + rules,
  map results, write), ms per claim;
- floor: each compiled engine's queries alone (claims already read, encoded and loaded) against the
  hand-written rules' checks alone on the same claims, with a per-rule table for DuckDB and
  Oxigraph and whether the two gave the same results;
- batches: the per-claim cost of the validator at batches of 500, 5,000 and 50,000 claims on DuckDB
  (as many as --claims gives) and of 50, 500 and 5,000 on Oxigraph;
- folder: a folder of 20,000 one-claim files against the same claims in one NDJSON file;
- memory: peak memory of `cptkg validate` on K claims, to stdout and with --output;
- engines: naive pySHACL (one validate() per claim, RDFS inference) and pySHACL batched without
  inference on a sample, and Dask with 1 and 2 workers; whether every engine agrees.

Not a pass/fail test: these machines are noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SECTIONS = ("command", "stages", "floor", "batches", "folder", "memory", "engines")


def generate(path: Path, count: int) -> None:
    templates = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "claims").glob("*.json"))]
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps(dict(templates[i % len(templates)], id=f"claim-{i}")) + "\n")


def key(raw: object) -> tuple[str, str, str]:
    shape, focus, value = raw.shape, raw.focus, raw.value  # type: ignore[attr-defined]
    return (str(shape).rsplit("#", 1)[-1], str(focus), "" if value is None else str(value))


def process(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(CPU seconds, peak MiB, exit code) of a command run from a fresh wrapper process, so the
    figures are that command's alone."""
    wrapper = ("import resource, subprocess, sys; "
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print(u.ru_utime + u.ru_stime, u.ru_maxrss, code)")
    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=ROOT,
                         check=True, env={**os.environ, **(env or {})})
    cpu, peak, code = out.stdout.split()
    return float(cpu), int(peak) / 1024, int(code)


def cptkg(*args: str) -> list[str]:
    return [sys.executable, "-m", "cptkg", *args]


def section_command(data: Path, count: int) -> None:
    columnar, _peak, _code = process(cptkg("validate", str(data), "--format", "json", "--engine", "duckdb",
                                           "--batch-size", "5000"))
    oxigraph, _peak, _code = process(cptkg("validate", str(data), "--format", "json", "--engine", "oxigraph",
                                           "--batch-size", "500"))
    strict, _peak, _code = process(cptkg("validate", str(data), "--format", "json", "--fhir-strict"))
    hand, _peak, _code = process([sys.executable, str(ROOT / "benchmarks" / "handwritten_rules.py"), str(data)])
    print(f"command, {count} claims, FHIR NDJSON -> JSON, CPU of the process (imports included):")
    print(f"  cptkg validate --engine duckdb --batch-size 5000: {columnar:7.1f} s  "
          f"{1000 * columnar / count:6.2f} ms/claim "
          f"(cptkg / hand-written: {hand / columnar:.2f}x; at least 1.0x is the goal)")
    print(f"  cptkg validate --engine oxigraph --batch-size 500: {oxigraph:7.1f} s  "
          f"{1000 * oxigraph / count:6.2f} ms/claim (duckdb is {oxigraph / columnar:.2f}x faster; "
          f"cptkg / hand-written: {hand / oxigraph:.2f}x)")
    print(f"  cptkg validate --fhir-strict:   {strict:7.1f} s  {1000 * strict / count:6.2f} ms/claim "
          f"(on the default engine; the direct reader saves {strict / oxigraph:.2f}x)")
    print(f"  hand-written rules, same file:  {hand:7.1f} s  {1000 * hand / count:6.2f} ms/claim")


def section_stages(data: Path, batch_size: int) -> None:
    """The command's work, stage by stage, in this process (imports and start-up apart)."""
    import io

    from cptkg import claims
    from cptkg.report.model import ClaimReport
    from cptkg.report.writers import JsonWriter
    from cptkg.rules import results
    from cptkg.rules.validator import Validator, edition_triples, not_applicable_reason

    validator = Validator(engine="duckdb")
    list(validator.validate(list(claims.read_paths([ROOT / "examples" / "claims"]))[:5]))  # warm-up
    timer = {k: 0.0 for k in ("read", "encode", "load + rules", "map", "write")}
    started = time.process_time()
    records = list(claims.read_paths([data]))
    timer["read"] = time.process_time() - started
    out = JsonWriter(io.StringIO())
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        t0 = time.process_time()
        judged = [r for r in batch if r.readable and not_applicable_reason(r, validator.watched) is None]
        for r in judged:
            r.triples = [*r.triples, *edition_triples(r)]
        encoded = validator._encode(judged)
        t1 = time.process_time()
        raw = validator.raw_results(judged, encoded)
        t2 = time.process_time()
        found = {id(r): f for r, f in zip(judged, results.by_claim(judged, raw), strict=True)}
        t3 = time.process_time()
        for r in batch:
            report = ClaimReport(r.claim_id, r.source, r.where, found.get(id(r), []), position=r.position)
            out.claim(report)
        t4 = time.process_time()
        timer["encode"] += t1 - t0
        timer["load + rules"] += t2 - t1
        timer["map"] += t3 - t2
        timer["write"] += t4 - t3
    total = sum(timer.values())
    print(f"stages (duckdb), {len(records)} claims, batches of {batch_size}, CPU ms per claim (this process):")
    for name, seconds in timer.items():
        print(f"  {name:14s} {1000 * seconds / len(records):6.3f}  ({100 * seconds / total:4.1f}%)")
    print(f"  {'total':14s} {1000 * total / len(records):6.3f}")


def rule_work(engine_name: str, judged: list, batch_size: int) -> tuple[float, float, dict[str, float], set]:
    """(load seconds, query seconds, query seconds by rule, results) of one engine running the
    compiled checks over claims already read and encoded, batch by batch."""
    from cptkg.rules.validator import Validator

    validator = Validator(engine=engine_name)
    for start in range(0, len(judged), batch_size):  # every diagnosis's facts into the engine first
        validator.raw_results(judged[start:start + batch_size])
    engine = validator._engine
    encoded = validator._encode(judged)
    queries = engine.queries if engine_name == "duckdb" else engine.checks
    load = spent_on_queries = 0.0
    by_rule: dict[str, float] = {}
    found: set = set()
    for start in range(0, len(judged), batch_size):
        started = time.process_time()
        engine.load([encoded[id(r)] for r in judged[start:start + batch_size]])
        load += time.process_time() - started
        for query in queries:
            started = time.process_time()
            raw = engine.run_query(query)
            spent = time.process_time() - started
            found.update(key(r) for r in raw)
            spent_on_queries += spent
            check = query[0] if engine_name == "duckdb" else query
            name = str(check.shape).rsplit("#", 1)[-1]
            by_rule[name] = by_rule.get(name, 0.0) + spent
    return load, spent_on_queries, by_rule, found


def section_floor(data: Path, batch_size: int, oxigraph_batch: int = 500) -> None:
    """The rule work alone: each compiled engine running its queries over loaded claims, against
    the hand-written Python checks on the same claims, nothing else timed."""
    import handwritten_rules

    from cptkg import claims
    from cptkg.kg.graph import KnowledgeGraph
    from cptkg.rules.validator import Validator, edition_triples, not_applicable_reason

    watched = Validator().watched
    facts = handwritten_rules.Facts(KnowledgeGraph.default().inferred)
    judged = [r for r in claims.read_paths([data]) if r.readable and not_applicable_reason(r, watched) is None]
    for r in judged:
        r.triples = [*r.triples, *edition_triples(r)]
    started = time.process_time()
    for r in judged:
        handwritten_rules.check(r, facts)
    hand = time.process_time() - started
    count = len(judged)
    print(f"floor, {count} claims, CPU ms per claim (rule work only):")
    print(f"  hand-written checks                                   {1000 * hand / count:6.3f}")
    figures = {}
    for name, size in (("duckdb", batch_size), ("oxigraph", oxigraph_batch)):
        load, queries, by_rule, found = rule_work(name, judged, size)
        figures[name] = (queries, by_rule, found)
        print(f"  {name:8s} batches of {size:5d}: loading {1000 * load / count:6.3f}, the {len(by_rule)} compiled "
              f"queries {1000 * queries / count:6.3f}: {hand / queries:.2f}x of the hand-written checks")
    duck, ox = figures["duckdb"], figures["oxigraph"]
    print(f"  duckdb's queries are {ox[0] / duck[0]:.1f}x faster than Oxigraph's; the same results: "
          f"{duck[2] == ox[2]} ({len(duck[2])} results)")
    print("  per rule, ms per claim (duckdb / oxigraph), slowest on duckdb first:")
    for name, spent in sorted(duck[1].items(), key=lambda item: -item[1]):
        other = ox[1].get(name, 0.0)
        print(f"    {name:38s} {1000 * spent / count:7.4f} / {1000 * other / count:7.4f}")


def section_batches(data: Path, engine: str = "duckdb", sizes: tuple[int, ...] = (500, 5000, 50000)) -> None:
    """The whole validator (encode, load, rules, map) at several batch sizes, on claims read once."""
    from cptkg import claims
    from cptkg.rules.validator import Validator

    validator = Validator(engine=engine)
    read = list(claims.read_paths([data]))
    list(validator.validate(read[:50], 50))  # warm-up: editions, NCCI lookups
    figures = []
    claims_used = min(len(read), max(sizes))
    for size in sizes:
        fresh = list(claims.read_paths([data]))[:claims_used]
        started = time.process_time()
        list(validator.validate(fresh, size))
        figures.append(1000 * (time.process_time() - started) / len(fresh))
    shown = " / ".join(f"{f:.3f}" for f in figures)
    print(f"{engine}, batches of {' / '.join(map(str, sizes))} claims ({claims_used} claims): {shown} ms/claim "
          f"CPU, reading apart (largest / smallest: {figures[-1] / figures[0]:.2f}x)")


def section_folder(tmp: Path, count: int = 20000) -> None:
    folder = tmp / "folder"
    folder.mkdir()
    one_file = tmp / "same.ndjson"
    generate(one_file, count)
    for number, line in enumerate(one_file.read_text().splitlines()):
        (folder / f"claim-{number:05d}.json").write_text(line)
    in_folder, _peak, _code = process(cptkg("validate", str(folder), "--format", "jsonl"))
    in_ndjson, _peak, _code = process(cptkg("validate", str(one_file), "--format", "jsonl"))
    print(f"a folder of {count} one-claim files / the same claims as NDJSON: {in_folder:.1f} / {in_ndjson:.1f} s CPU "
          f"= {in_folder / in_ndjson:.2f}x (at most 1.5x is the goal)")


def section_memory(tmp: Path, count: int) -> None:
    big = tmp / "memory.ndjson"
    generate(big, count)
    cpu_out, peak_out, _code = process(cptkg("validate", str(big), "--format", "jsonl"))
    cpu_file, peak_file, _code = process(cptkg("validate", str(big), "--format", "jsonl", "--output",
                                               str(tmp / "memory.jsonl")))
    print(f"cptkg validate {count} claims (NDJSON -> JSONL): peak {peak_out:.0f} MiB to stdout, {peak_file:.0f} MiB "
          f"with --output ({cpu_out:.0f} / {cpu_file:.0f} s CPU)")


def section_engines(data: Path, naive_sample: int, batch_size: int) -> None:
    from pyshacl import validate
    from rdflib import Graph
    from rdflib.namespace import RDF, SH

    from cptkg import claims
    from cptkg.kg import icd10cm as icd
    from cptkg.kg.graph import KnowledgeGraph
    from cptkg.rules.validator import Validator, edition_triples

    kg = KnowledgeGraph.default()
    validator = Validator(kg)
    records = [r for r in claims.read_paths([data]) if r.readable]
    sample = records[:naive_sample]
    for r in sample:
        r.triples = [*r.triples, *edition_triples(r)]
    started = time.process_time()
    compiled = {key(r) for r in validator.raw_results(sample)}
    compiled_rate = len(sample) / max(time.process_time() - started, 1e-9)

    naive: set[tuple[str, str, str]] = set()
    started = time.process_time()
    for record in sample:
        data_graph = Graph()
        for t in kg.inferred:
            data_graph.add(t)
        for t in record.triples:
            data_graph.add(t)
        icd.enrich(data_graph, claims.diagnosis_codes(record.triples))
        _c, report, _t = validate(data_graph, shacl_graph=validator.shapes, inference="rdfs", abort_on_first=False)
        for result in report.subjects(RDF.type, SH.ValidationResult):
            value = report.value(result, SH.value)
            naive.add((str(report.value(result, SH.sourceShape)).rsplit("#", 1)[-1],
                       str(report.value(result, SH.focusNode)), "" if value is None else str(value)))
    naive_rate = len(sample) / (time.process_time() - started)
    # pySHACL run sensibly: the whole sample in one validate(), no inference, on the rule facts
    # with the sample's ICD-10-CM facts (what cptkg's --engine pyshacl does).
    reference = Validator(kg, engine="pyshacl")
    started = time.process_time()
    batched = {key(r) for r in reference.raw_results(sample)}
    batched_rate = len(sample) / (time.process_time() - started)
    print(f"engines on {len(sample)} claims (CPU): cptkg {compiled_rate:.0f} claims/s; naive pySHACL {naive_rate:.2f} "
          f"({compiled_rate / naive_rate:.0f}x); pySHACL batched, no inference {batched_rate:.1f} "
          f"({compiled_rate / batched_rate:.0f}x); same results: naive {compiled == naive}, "
          f"batched {compiled == batched}")

    from dask.distributed import Client, LocalCluster

    from cptkg.rules import distributed

    # Oxigraph's query results may only be freed on the thread that made them: collect this
    # process's leftovers here, before Dask's threads start (else one may be collected there and
    # pyo3 prints a RuntimeError; the command line never queries in the process that runs Dask).
    gc.collect()
    rates = {}
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        client.run(distributed.warm_up)
        started = time.perf_counter()
        got = list(distributed.run([data], client, batch_size=batch_size))
        rates[workers] = len(got) / (time.perf_counter() - started)
        client.close()
        cluster.close()
    print(f"Dask, 1 / 2 workers: {rates[1]:.0f} / {rates[2]:.0f} claims/s (wall): {rates[2] / rates[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=10000)
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"some of {', '.join(SECTIONS)}")
    parser.add_argument("--naive-sample", type=int, default=12)
    parser.add_argument("--memory-claims", type=int, default=100000)
    parser.add_argument("--folder-files", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=5000, help="DuckDB's batch in stages and floor")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="cptkg-bench-") as folder:
        tmp = Path(folder)
        os.environ.setdefault("CPTKG_CACHE_DIR", str(tmp / "cache"))
        os.environ.setdefault("CPTKG_DATA_DIR", str(tmp / "data"))
        data = tmp / "claims.ndjson"
        generate(data, args.claims)
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{resource.getpagesize()}-byte pages; {time.strftime('%Y-%m-%d')}")
        for name in chosen:
            if name == "command":
                section_command(data, args.claims)
            elif name == "stages":
                section_stages(data, args.batch_size)
            elif name == "floor":
                section_floor(data, args.batch_size)
            elif name == "batches":
                section_batches(data, "duckdb", (500, 5000, 50000))
                section_batches(data, "oxigraph", (50, 500, 5000))
            elif name == "folder":
                section_folder(tmp, args.folder_files)
            elif name == "memory":
                section_memory(tmp, args.memory_claims)
            elif name == "engines":
                section_engines(data, args.naive_sample, args.batch_size)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
