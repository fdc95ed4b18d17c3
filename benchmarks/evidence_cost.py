"""What evidence costs: `cptkg validate` end to end (FHIR NDJSON in, JSON out, a process of its
own, CPU seconds with imports) on the same claims with evidence (the default) and with
--no-evidence, alternated over a few rounds, the best of each kept; prints the ratio. The goal:
evidence adds at most 10% of the command's CPU per claim.

    python benchmarks/evidence_cost.py [--claims 2000] [--rounds 3] [--format json]

The claims are benchmarks/throughput.py's: the example claims repeated (every rule fires), so
nearly every claim has results whose rules read facts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from throughput import cptkg, generate, process  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="json", choices=["json", "jsonl", "human", "html"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "claims.ndjson"
        generate(data, args.claims)
        process(cptkg("validate", str(data), "--format", args.format))  # warm caches (closure, plans, SQL)
        with_evidence, without = [], []
        for _ in range(args.rounds):
            with_evidence.append(process(cptkg("validate", str(data), "--format", args.format))[0])
            without.append(process(cptkg("validate", str(data), "--format", args.format, "--no-evidence"))[0])
    on, off = min(with_evidence), min(without)
    print(f"cptkg validate, {args.claims} claims, FHIR NDJSON -> {args.format}, CPU of the process, best of "
          f"{args.rounds}:")
    print(f"  with evidence:    {on:7.2f} s  {1000 * on / args.claims:6.2f} ms/claim")
    print(f"  --no-evidence:    {off:7.2f} s  {1000 * off / args.claims:6.2f} ms/claim")
    print(f"  evidence costs {100 * (on / off - 1):+.1f}% of the command's CPU per claim (ratio {on / off:.3f}; "
          f"at most +10% is the goal)")


if __name__ == "__main__":
    main()
