"""`cptkg validate` of one claim, with the ICD-10-CM edition tables (now) against the cost the
earlier reader paid on every run (importing simple-icd-10-cm, which parses its whole XML, and one
lookup), in one run: figures and a ratio, not a pass/fail test (these machines are noisy).

    python benchmarks/one_claim.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAIM = ROOT / "examples" / "claims" / "diagnosis-edition_XFAIL.json"
OLD_PATH = "import simple_icd_10_cm as icd; icd.is_leaf('G35')"


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CPTKG_CACHE_DIR": cache}
        timed([sys.executable, "-m", "cptkg", "show", "20701"], env)  # the closure, cached once
        now = [timed([sys.executable, "-m", "cptkg", "validate", str(CLAIM)], env) for _ in range(args.runs)]
        old_cost = [timed([sys.executable, "-c", OLD_PATH], env) for _ in range(args.runs)]
    validate, library = statistics.median(now), statistics.median(old_cost)
    print(f"cptkg validate, one claim (edition tables):        {validate:6.2f} s (median of {args.runs})")
    print(f"simple-icd-10-cm import + lookup (paid before):    {library:6.2f} s")
    print(f"one claim before (now + that cost) / now:          {(validate + library) / validate:6.2f}x")


if __name__ == "__main__":
    main()
