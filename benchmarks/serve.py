"""`cptkg serve` under load, in one run: requests per second and p50/p99 latency of
`POST /Claim/$validate` with one claim and with 100 claims (NDJSON), from a client in another
process keeping N requests in flight, and each answer checked (status and claim count).

Prints figures; not a pass/fail test (these machines are noisy).
    python benchmarks/serve.py [--requests N] [--concurrency C] [--validators V]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import cptkg_server  # noqa: E402

EXAMPLES = ROOT / "examples" / "claims"


def bodies() -> dict[str, tuple[bytes, str, int]]:
    claims = [json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.json"))]
    hundred = [claims[i % len(claims)] for i in range(100)]
    return {"1 claim": (claims[0].encode(), "application/fhir+json", 1),
            "100 claims": ("\n".join(hundred).encode(), "application/x-ndjson", 100)}


async def load(base: str, body: bytes, media: str, expected: int, requests: int, concurrency: int) -> list[float]:
    import httpx

    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                answer = await client.post("/Claim/$validate", content=body, headers={"Content-Type": media})
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200 or len(answer.json()["claims"]) != expected:
                    raise SystemExit(f"wrong answer: {answer.status_code} {answer.text[:200]}")
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--validators", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("CPTKG_CACHE_DIR", str(Path(folder) / "cache"))
        os.environ.setdefault("CPTKG_DATA_DIR", str(Path(folder) / "data"))
        with cptkg_server("--validators", str(args.validators), log=Path(folder) / "serve.log") as base:
            print(f"cptkg serve, {args.validators} validator(s), {args.concurrency} requests in flight, "
                  f"{os.cpu_count()} CPUs")
            for name, (body, media, expected) in bodies().items():
                requests = args.requests if expected == 1 else max(20, args.requests // 10)
                asyncio.run(load(base, body, media, expected, 10, 2))  # warm up
                started = time.perf_counter()
                latencies = asyncio.run(load(base, body, media, expected, requests, args.concurrency))
                elapsed = time.perf_counter() - started
                cuts = statistics.quantiles(latencies, n=100)
                print(f"POST /Claim/$validate, {name}: {requests / elapsed:,.1f} requests/s "
                      f"({requests * expected / elapsed:,.0f} claims/s), p50 {cuts[49] * 1000:,.1f} ms, "
                      f"p99 {cuts[98] * 1000:,.1f} ms, {requests} requests")


if __name__ == "__main__":
    main()
