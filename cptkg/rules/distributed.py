"""Scale-out on Dask: claims partitioned over dask.distributed workers, results merged in input
order.

The driver only cuts the input into partitions (chunks of NDJSON lines, or whole files) and ships
their bytes, so workers need no shared file system; each worker parses and validates, with one
Validator per worker process (shapes compiled once). At most a few partitions per worker are in
flight, so memory stays bounded. When a worker dies, the scheduler runs its partition again
elsewhere; a partition's result is taken once, so no claim is lost or reported twice.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from cptkg.claims import expand_paths
from cptkg.claims.fhir import bounded_lines
from cptkg.errors import InputError
from cptkg.report.model import UNREADABLE, ClaimReport, Result
from cptkg.rules.defaults import DEFAULT_BATCH_SIZE, DEFAULT_ENGINE

log = logging.getLogger(__name__)

NDJSON_SUFFIXES = (".ndjson", ".jsonl")


@dataclass(frozen=True)
class Partition:
    """A unit of work: raw bytes of claims, the input they came from and its form."""

    index: int
    origin: str
    data: bytes
    ndjson: bool
    first_line: int = 1
    form: str | None = None
    fhir_strict: bool = False  # read FHIR with fhir.resources (--fhir-strict), as the driver does


def partitions(paths: Iterable[str | Path], lines_per_partition: int = 1000,
               form: str | None = None) -> Iterator[Partition]:
    from cptkg.claims.files import HEAD_BYTES, MAX_FILE_BYTES, STDIN, detect

    index = 0
    for path in expand_paths(paths):
        source = str(path)
        try:
            if source == STDIN:
                yield Partition(index, source, sys.stdin.buffer.read(MAX_FILE_BYTES + 1), False, form=form)
                index += 1
                continue
            with path.open("rb") as handle:
                chosen = form or detect(handle.read(HEAD_BYTES), source)
                handle.seek(0)
                if chosen != "ndjson":
                    # Bounded: the worker reports a larger file as Unreadable, as without a cluster.
                    yield Partition(index, source, handle.read(MAX_FILE_BYTES + 1), False, form=chosen)
                    index += 1
                    continue
                chunk: list[bytes] = []
                first = 1
                for number, line in enumerate(bounded_lines(handle), 1):
                    chunk.append(line)
                    if len(chunk) >= lines_per_partition:
                        yield Partition(index, source, b"".join(chunk), True, first, "ndjson")
                        index, chunk, first = index + 1, [], number + 1
                if chunk:
                    yield Partition(index, source, b"".join(chunk), True, first, "ndjson")
                    index += 1
        except OSError as err:
            raise InputError(f"cannot read {path}: {err.strerror}") from None


@cache
def _worker_validator(rules: Any = None, engine: str = DEFAULT_ENGINE) -> Any:
    """One Validator per worker process, rule set and engine (the spec carries the packs' text, so
    a worker needs none of the user's files)."""
    from cptkg.rules.validator import Validator

    return Validator(rules=rules, engine=engine)


def warm_up() -> int:
    """Run on each worker before timing or a big run: build its Validator; returns its pid."""
    import os

    _worker_validator()
    return os.getpid()


def validate_partition(partition: Partition, batch_size: int = DEFAULT_BATCH_SIZE, rules: Any = None,
                       engine: str = DEFAULT_ENGINE) -> list[dict[str, Any]]:
    """Run on a worker: the partition's claim reports, in order, as plain data. Nothing raises
    out of here (Dask would print the traceback): a failure is the partition's Unreadable report."""
    try:
        return _validate_partition(partition, batch_size, rules, engine)
    except Exception as err:
        log.debug("partition %s failed", partition.index, exc_info=True)
        reason = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
        where = f"line {partition.first_line}" if partition.ndjson else ""
        shown = f"{partition.origin} {where}" if where else partition.origin
        return [{"claim": shown, "source": partition.origin, "where": where, "reason": None,
                 "results": [vars(Result(UNREADABLE, "Violation", shown, None, None,
                                         f"{shown}: cannot be read ({reason})"))]}]


def _validate_partition(partition: Partition, batch_size: int, rules: Any = None,
                        engine: str = DEFAULT_ENGINE) -> list[dict[str, Any]]:
    from cptkg.claims import read_bytes
    from cptkg.claims.fhir import read_ndjson
    from cptkg.rules.driver import validate_records

    # The same readers as without a cluster, on the bytes the driver sent: names come from the
    # input's path and position, never from anything local to the worker.
    if partition.ndjson:
        records: Iterable[Any] = read_ndjson(partition.data.splitlines(keepends=True), partition.origin,
                                             partition.first_line, fhir_strict=partition.fhir_strict)
    else:
        records = read_bytes(partition.data, partition.origin, partition.form, fhir_strict=partition.fhir_strict)
    # Read in full first, as before: a partition is bounded by its lines or its file's size. A lone
    # unreadable claim of one partition is not the whole input's: the driver of the run decides.
    reports = validate_records(list(records), _worker_validator(rules, engine), batch_size,
                               lone_unreadable_is_an_error=False)
    return [_as_data(report) for report in reports]


def _as_data(report: ClaimReport) -> dict[str, Any]:
    return {"claim": report.claim, "source": report.source, "where": report.where, "reason": report.reason,
            "results": [vars(r) for r in report.results]}


def _from_data(data: dict[str, Any], position: int, evidence: bool = True) -> ClaimReport:
    results = [Result(**r) for r in data["results"]]
    if not evidence:
        results = [replace(r, evidence=None) for r in results]
    return ClaimReport(data["claim"], data["source"], data["where"], results,
                       position=position, reason=data["reason"])


def run(paths: Iterable[str | Path], client: Any, *, lines_per_partition: int = 1000,
        batch_size: int = DEFAULT_BATCH_SIZE, in_flight_per_worker: int = 2, form: str | None = None,
        task: Callable[..., list[dict[str, Any]]] = validate_partition, rules: Any = None,
        engine: str = DEFAULT_ENGINE, evidence: bool = True, fhir_strict: bool = False) -> Iterator[ClaimReport]:
    """Claim reports in input order, validated on the Dask cluster behind ``client``; ``fhir_strict``
    has the workers read FHIR with fhir.resources. Workers always find evidence; ``evidence=False``
    drops it here (the task keeps its arguments)."""
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    limit = workers * in_flight_per_worker
    pending: deque[Any] = deque()
    position = 0
    source = (replace(part, fhir_strict=True) if fhir_strict else part
              for part in partitions(paths, lines_per_partition, form))

    def submit(part: Partition) -> None:
        # pure=False: a partition re-sent is a new task; key by index so retries stay one task.
        # Only what differs from a task's defaults travels: tests' own tasks take (part, batch_size).
        args: tuple[Any, ...] = (part, batch_size)
        if rules is not None or engine != DEFAULT_ENGINE:
            args = (part, batch_size, rules, engine)
        pending.append(client.submit(task, *args, key=f"cptkg-partition-{part.index}-{id(source)}",
                                     retries=2, pure=False))

    def take(future: Any) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = future.result()
        except Exception as err:  # the cluster itself failed (a scheduler that died, ...)
            raise InputError(f"the Dask cluster failed: {type(err).__name__}: "
                             f"{' '.join(str(err).split())[:200]}") from None
        return result

    for part in source:
        submit(part)
        while len(pending) >= limit:
            for data in take(pending.popleft()):
                yield _from_data(data, position, evidence)
                position += 1
    while pending:
        for data in take(pending.popleft()):
            yield _from_data(data, position, evidence)
            position += 1


def client_for(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A dask.distributed Client (and the LocalCluster it owns, if any)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--workers and --scheduler need Dask: pip install 'cptkg[scale]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as err:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    # Dask logs its cluster's life, and its failures with tracebacks, on its own loggers; a
    # validation run shows none of it (failures come back as Unreadable claims or one line).
    for name in ("distributed", "dask", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    warnings.filterwarnings("ignore", module=r"distributed(\..*)?$")  # "Port 8787 is already in use"
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.CRITICAL + 1)
    return Client(cluster), cluster
