"""Claim validation throughput, measured in one run and printed as figures and ratios.

    python benchmarks/throughput.py [--claims N] [--naive-sample M] [--memory-claims K]

It generates N FHIR claims covering every rule (the examples/claims templates with fresh ids),
then measures: cptkg's batch engine in one process; naive pySHACL (one validate() call per
claim with RDFS inference and the ontology mixed in, as pySHACL's README shows) on a sample; a
hand-written Python check of the same rules (the ceiling); cptkg on a Dask LocalCluster of 1 and 2
workers; and the peak memory of `cptkg validate` on K claims of NDJSON. It checks that every engine
reports the same results. Not a pass/fail test: these machines are noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def generate(path: Path, count: int) -> None:
    templates = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "claims").glob("*.json"))]
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps(dict(templates[i % len(templates)], id=f"claim-{i}")) + "\n")


def key(raw: object) -> tuple[str, str, str]:
    shape, focus, value = raw.shape, raw.focus, raw.value  # type: ignore[attr-defined]
    return (str(shape).rsplit("#", 1)[-1], str(focus), "" if value is None else str(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=20000)
    parser.add_argument("--naive-sample", type=int, default=12)
    parser.add_argument("--memory-claims", type=int, default=100000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    from cptkg import claims
    from cptkg.kg import icd10cm as icd
    from cptkg.kg.graph import KnowledgeGraph
    from cptkg.rules.validator import Validator

    tmp = Path(tempfile.mkdtemp(prefix="cptkg-bench-"))
    data = tmp / "claims.ndjson"
    generate(data, args.claims)
    kg = KnowledgeGraph.default()
    validator = Validator(kg)
    validator.raw_results(list(claims.read_paths([ROOT / "examples" / "claims"]))[:5])  # warm-up

    # cptkg, one process: read + validate + report, batch by batch
    started = time.perf_counter()
    records = list(claims.read_paths([data]))
    cptkg_results: set[tuple[str, str, str]] = set()
    for start in range(0, len(records), args.batch_size):
        batch = [r for r in records[start:start + args.batch_size] if r.readable]
        cptkg_results |= {key(r) for r in validator.raw_results(batch)}
    cptkg_seconds = time.perf_counter() - started
    cptkg_rate = len(records) / cptkg_seconds
    print(f"claims: {len(records)} (every rule fires: {len({k[0] for k in cptkg_results})} rules)")
    print(f"cptkg, 1 process:         {cptkg_rate:9.0f} claims/s  ({1000 / cptkg_rate:.2f} ms/claim)")

    # hand-written Python, same rules: the ceiling
    import handwritten_rules

    facts = handwritten_rules.Facts(kg.inferred)
    started = time.perf_counter()
    reread = list(claims.read_paths([data]))
    hand_results: set[tuple[str, str, str]] = set()
    for record in reread:
        if record.readable:
            hand_results |= {(rule, focus, value) for rule, focus, value in handwritten_rules.check(record, facts)}
    hand_seconds = time.perf_counter() - started
    hand_rate = len(reread) / hand_seconds
    print(f"hand-written Python:      {hand_rate:9.0f} claims/s  (cptkg reaches {cptkg_rate / hand_rate:.2f} of it)")

    # naive pySHACL: one validate() per claim, RDFS inference, the ontology mixed in
    from pyshacl import validate
    from rdflib import Graph
    from rdflib.namespace import RDF, SH

    sample = [r for r in records[: args.naive_sample] if r.readable]
    naive_results: set[tuple[str, str, str]] = set()
    started = time.perf_counter()
    for record in sample:
        # The ontology mixed into the claim's graph by hand: with pySHACL's ont_graph= the
        # sub-select rules of shapes/claims found nothing here (pySHACL 0.40), so the naive run
        # copies the graph in itself, as costly as ont_graph's own mixing.
        data_graph = Graph()
        for t in kg.inferred:
            data_graph.add(t)
        for t in record.triples:
            data_graph.add(t)
        icd.enrich(data_graph, claims.diagnosis_codes(record.triples))
        _c, report, _t = validate(data_graph, shacl_graph=validator.shapes, inference="rdfs",
                                  abort_on_first=False)
        for result in report.subjects(RDF.type, SH.ValidationResult):
            value = report.value(result, SH.value)
            naive_results.add((str(report.value(result, SH.sourceShape)).rsplit("#", 1)[-1],
                               str(report.value(result, SH.focusNode)), "" if value is None else str(value)))
    naive_rate = len(sample) / (time.perf_counter() - started)
    print(f"naive pySHACL (sample {len(sample)}): {naive_rate:9.2f} claims/s")
    print(f"ratio cptkg / naive pySHACL: {cptkg_rate / naive_rate:8.0f}x   "
          f"(hand-written / naive: {hand_rate / naive_rate:.0f}x)")

    sample_ids = {str(r.iri) for r in sample}
    in_sample = {k for k in cptkg_results if any(k[1] == i or k[1].startswith(i + "/") for i in sample_ids)}
    print(f"agree: cptkg = naive pySHACL on the sample: {in_sample == naive_results}; "
          f"cptkg = hand-written on all: {cptkg_results == hand_results}")
    if in_sample != naive_results:
        print("  only cptkg:", sorted(in_sample - naive_results)[:5])
        print("  only naive:", sorted(naive_results - in_sample)[:5])
    if cptkg_results != hand_results:
        print("  only cptkg:", sorted(cptkg_results - hand_results)[:5])
        print("  only hand-written:", sorted(hand_results - cptkg_results)[:5])

    # Dask: 1 and 2 workers (cluster started and warmed before the clock runs)
    from dask.distributed import Client, LocalCluster

    from cptkg.rules import distributed

    rates = {}
    reference = [(r.claim_id) for r in records]
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        list(distributed.run([ROOT / "examples" / "claims" / "structure_XFAIL.json"], client))
        client.run(distributed.warm_up)
        started = time.perf_counter()
        got = list(distributed.run([data], client, batch_size=args.batch_size))
        rates[workers] = len(got) / (time.perf_counter() - started)
        same = [r.claim for r in got] == reference
        print(f"cptkg on Dask, {workers} worker{'s' if workers > 1 else ' '}: {rates[workers]:9.0f} claims/s "
              f"(every claim once, in order: {same})")
        client.close()
        cluster.close()
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")

    # peak memory of the command line on K claims of NDJSON, streamed
    if args.memory_claims:
        big = tmp / "memory.ndjson"
        generate(big, args.memory_claims)
        started = time.perf_counter()
        # Measured from a wrapper process whose only child is the command, so the Dask workers
        # this benchmark ran earlier do not count.
        wrapper = ("import resource, subprocess, sys; "
                   "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")
        out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "cptkg", "validate", str(big),
                              "--format", "jsonl"], capture_output=True, text=True, cwd=ROOT, check=True)
        peak_kib, code = (int(x) for x in out.stdout.split())
        peak_mib = peak_kib / 1024
        print(f"cptkg validate {args.memory_claims} claims (NDJSON -> JSONL): peak memory {peak_mib:.0f} MiB "
              f"({peak_mib / 1024:.2f} GiB), {time.perf_counter() - started:.0f} s, exit {code}")


if __name__ == "__main__":
    main()
