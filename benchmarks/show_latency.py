"""What a user waits for on the command line, in CPU seconds of the process (and wall time), in
one run: the first-ever `cptkg show 20701` (empty cache: the shipped closure is read), the same
when the closure is computed (CPTKG_CLOSURE=cache, empty cache: the cost the shipped closure
saves), a warm `show`, and `cptkg validate` of one claim.

Prints figures and ratios; not a pass/fail test (these machines are noisy).
    python benchmarks/show_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAIM = ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json"


def run_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cptkg", *args], check=False, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    show = ["show", "20701", "--format", "json"]
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as computed, \
            tempfile.TemporaryDirectory() as data:
        base = {**os.environ, "CPTKG_DATA_DIR": data}
        base.pop("CPTKG_CLOSURE", None)
        first_show = run_once(show, {**base, "CPTKG_CACHE_DIR": first})
        computing = run_once(show, {**base, "CPTKG_CACHE_DIR": computed, "CPTKG_CLOSURE": "cache"})
        warm = [run_once(show, {**base, "CPTKG_CACHE_DIR": first}) for _ in range(args.runs)]
        one_claim = [run_once(["validate", str(CLAIM)], {**base, "CPTKG_CACHE_DIR": first}) for _ in range(args.runs)]
        python = [run_once(["--version"], base) for _ in range(args.runs)]
    median = lambda runs, i: statistics.median(r[i] for r in runs)  # noqa: E731
    print(f"{'':44} {'CPU s':>7} {'wall s':>7}")
    print(f"{'first-ever show (shipped closure)':44} {first_show[0]:7.2f} {first_show[1]:7.2f}")
    print(f"{'first show computing the closure (owlrl)':44} {computing[0]:7.2f} {computing[1]:7.2f}")
    print(f"{'warm show, median of ' + str(args.runs):44} {median(warm, 0):7.2f} {median(warm, 1):7.2f}")
    label = f"validate one claim, median of {args.runs}"
    print(f"{label:44} {median(one_claim, 0):7.2f} {median(one_claim, 1):7.2f}")
    print(f"{'cptkg --version (start-up), median':44} {median(python, 0):7.2f} {median(python, 1):7.2f}")
    print(f"first-ever show: {computing[0] / first_show[0]:.1f}x less CPU than computing the closure")
    print(f"warm show / start-up: {median(warm, 0) / median(python, 0):.1f}x CPU")


if __name__ == "__main__":
    main()
