"""How each compiled rule's cost grows: per claim at batches of 50, 500 and 5,000 claims, and per
line for claims of 1, 10 and 50 lines. A rule whose per-claim (or per-line) figure grows with the
batch (or the claim) is doing pair-wise work. Figures from one run, printed as ratios to the
smallest size; not a pass/fail test.

    python benchmarks/rule_scaling.py [--rules SUBSTRING] [--engine duckdb|oxigraph]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.claims.fhir import claim_record  # noqa: E402
from cptkg.rules.validator import Validator, edition_triples  # noqa: E402

TEMPLATES = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "claims").glob("*_XFAIL.json"))]


def records_for(claims: list[dict]) -> list:
    out = []
    for i, resource in enumerate(claims):
        record = claim_record(resource, "bench", f"line {i}", {})
        record.position = i
        if record.readable:
            record.triples = [*record.triples, *edition_triples(record)]
            out.append(record)
    return out


def timings(validator: Validator, records: list) -> dict[str, float]:
    """Seconds per rule for one batch of these records, on the validator's engine."""
    engine = validator._engine
    validator.raw_results(records)  # the batch's ICD-10-CM and NCCI facts into the engine first
    encoded = validator._encode(records)
    engine.load([encoded[id(r)] for r in records])
    queries = engine.queries if validator.engine == "duckdb" else engine.checks
    out: dict[str, float] = {}
    for query in queries:
        started = time.perf_counter()
        engine.run_query(query)
        check = query[0] if validator.engine == "duckdb" else query
        rule = str(check.shape).rsplit("#", 1)[-1]
        out[rule] = out.get(rule, 0.0) + time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", default="", help="only rules whose ID contains this")
    parser.add_argument("--sizes", default="50,500,5000", help="three batch sizes, smallest first")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "oxigraph"])
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    validator = Validator(engine=args.engine)
    by_batch = {}
    for size in sizes:
        claims = [dict(TEMPLATES[i % len(TEMPLATES)], id=f"c{i}") for i in range(size)]
        by_batch[size] = {rule: t / size * 1000 for rule, t in timings(validator, records_for(claims)).items()}
    by_lines = {}
    base = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text())
    for lines in (1, 10, 50):
        resource = copy.deepcopy(base)
        template = resource["item"][1]
        resource["item"] = [resource["item"][0]] + [dict(copy.deepcopy(template), sequence=n + 2) for n in range(lines)]
        claims = [dict(resource, id=f"l{i}") for i in range(100)]
        count = 100 * (lines + 1)
        by_lines[lines] = {rule: t / count * 1000 for rule, t in timings(validator, records_for(claims)).items()}
    small, middle, large = sizes
    print(f"{'rule':34} {'ms/claim @' + str(small):>12} {'@' + str(middle):>7} {'@' + str(large):>7} {'x':>6}   "
          f"{'ms/line @1':>10} {'@10':>7} {'@50':>7} {'x':>6}")
    for rule in sorted(by_batch[small]):
        if args.rules not in rule:
            continue
        b, line = by_batch, by_lines
        print(f"{rule:34} {b[small][rule]:12.3f} {b[middle][rule]:7.3f} {b[large][rule]:7.3f} "
              f"{b[large][rule] / max(b[small][rule], 1e-9):6.1f}   {line[1][rule]:10.3f} {line[10][rule]:7.3f} "
              f"{line[50][rule]:7.3f} {line[50][rule] / max(line[1][rule], 1e-9):6.1f}")


if __name__ == "__main__":
    main()
