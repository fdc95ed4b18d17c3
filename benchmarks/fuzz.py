"""A longer fuzz run of the claim reader and validator, with its counts printed.

    python benchmarks/fuzz.py [--examples N] [--lines-max K]

Hypothesis builds NDJSON files whose lines are valid FHIR Claims, nearly valid ones (fields
deleted or replaced by junk), other resources, non-JSON text and random JSON. For each file the
run checks that the validator returns a report (never an exception) and that every non-blank line
is reported, once, in order. Prints inputs tried, lines, claims reported, crashes, lost claims.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--lines-max", type=int, default=12)
    args = parser.parse_args()

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from cptkg import claims
    from cptkg.rules.validator import Validator
    from tests.strategies import any_json_line

    validator = Validator()
    counts = {"inputs": 0, "lines": 0, "reports": 0, "unreadable": 0, "crashes": 0, "lost": 0}
    workdir = Path(tempfile.mkdtemp(prefix="cptkg-fuzz-"))

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(any_json_line(), min_size=1, max_size=args.lines_max))
    def one(lines: list[str]) -> None:
        counts["inputs"] += 1
        path = workdir / "fuzz.ndjson"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected = {n for n, line in enumerate(lines, 1) if line.strip()}
        counts["lines"] += len(expected)
        try:
            reports = [r for r in validator.validate(claims.read_paths([path]))]
        except Exception:  # a crash is what this run looks for: count it, show it, go on
            counts["crashes"] += 1
            traceback.print_exc()
            return
        counts["reports"] += len(reports)
        counts["unreadable"] += sum(any(r.rule == "Unreadable" for r in rep.results) for rep in reports)
        seen = {int(r.where.split(",")[0].removeprefix("line ")) for r in reports}
        counts["lost"] += len(expected - seen)

    started = time.perf_counter()
    one()
    elapsed = time.perf_counter() - started
    print(f"fuzz: {counts['inputs']} inputs, {counts['lines']} lines, {counts['reports']} claims reported "
          f"({counts['unreadable']} unreadable), {counts['crashes']} crashes, {counts['lost']} lost claims, "
          f"{elapsed:.0f} s")
    sys.exit(1 if counts["crashes"] or counts["lost"] else 0)


if __name__ == "__main__":
    main()
