"""`cptkg show 20701` latency, cold (closure computed) and warm (closure cached), in one run.

Prints figures and ratios; not a pass/fail test (these machines are noisy).
    python benchmarks/show_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cptkg", "show", "20701", "--format", "json"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CPTKG_CACHE_DIR": cache}
        cold = run_once(env)
        warm = [run_once(env) for _ in range(args.runs)]
        baseline = [
            (lambda: (t := time.perf_counter(),
                      subprocess.run([sys.executable, "-c", "pass"], check=True),
                      time.perf_counter() - t)[2])()
            for _ in range(args.runs)
        ]
    med = statistics.median(warm)
    base = statistics.median(baseline)
    print(f"show 20701 cold (computes the closure): {cold:.3f} s")
    print(f"show 20701 warm, median of {args.runs}:  {med:.3f} s (min {min(warm):.3f} s)")
    print(f"bare python start-up, median:          {base:.3f} s")
    print(f"warm / cold ratio: {med / cold:.3f}; warm / python start-up: {med / base:.1f}x")


if __name__ == "__main__":
    main()
