"""The validation driver: the one loop the command line, the service and the Dask workers share.
Claim records in (numbered in input order), reports out batch by batch through a Validator, and
each report handed to a writer while the verdict is tallied. Two rules live here and nowhere else:
a lone claim that cannot be read is bad input (UnreadableInput: exit 2, HTTP 422), also when it
is one the rules judge and cannot read (Validator.settle), and a report
written to ``--output`` streams into a temporary file that replaces the target only when the run
has finished (a failed run leaves the target as it was)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, TypeVar

from cptkg.claims import ClaimRecord, expand_paths
from cptkg.errors import InputError, UnreadableInput
from cptkg.report.model import UNREADABLE, ClaimReport

log = logging.getLogger(__name__)

Item = TypeVar("Item")


class RecordValidator(Protocol):
    """What the driver needs of a validator (cptkg.rules.validator.Validator)."""

    keep_content: bool

    def validate(self, records: Iterable[ClaimRecord], batch_size: int = ...) -> Iterator[ClaimReport]: ...


class ReportWriter(Protocol):
    """What the driver needs of a report writer (cptkg.report.writers.WRITERS)."""

    def claim(self, report: ClaimReport) -> None: ...

    def close(self, conforms: bool) -> None: ...


def numbered(records: Iterable[ClaimRecord]) -> Iterator[ClaimRecord]:
    """The records with their positions in input order (read_bytes leaves every one at 0)."""
    for position, record in enumerate(records):
        record.position = position
        yield record


def _refuse_lone(items: Iterable[Item], reason: Callable[[Item], str | None]) -> Iterator[Item]:
    # The first two are read now, so a lone unreadable input fails before any rule is compiled.
    rest = iter(items)
    first = next(rest, None)
    second = next(rest, None)
    if first is not None and second is None:
        why = reason(first)
        if why is not None:
            raise UnreadableInput(why)
    return _chain((first, second), rest)


def _chain(head: tuple[Item | None, Item | None], rest: Iterator[Item]) -> Iterator[Item]:
    yield from (item for item in head if item is not None)
    yield from rest


def refuse_lone_unreadable(records: Iterable[ClaimRecord]) -> Iterator[ClaimRecord]:
    """The records, unless the input is one claim that cannot be read: then UnreadableInput with
    its reason (when several claims were given, an unreadable one is reported among the rest)."""
    return _refuse_lone(records, lambda record: record.error)


def refuse_lone_unreadable_reports(reports: Iterable[ClaimReport]) -> Iterator[ClaimReport]:
    """As refuse_lone_unreadable, for reports made elsewhere (the Dask workers read the claims)."""
    def reason(report: ClaimReport) -> str | None:
        unreadable = len(report.results) == 1 and report.results[0].rule == UNREADABLE
        return report.results[0].message if unreadable else None

    return _refuse_lone(reports, reason)


def validate_records(records: Iterable[ClaimRecord], validator: RecordValidator, batch_size: int, *,
                     lone_unreadable_is_an_error: bool = True,
                     keep_content: bool = False) -> Iterator[ClaimReport]:
    """The reports of the records, in input order. ``keep_content`` keeps each claim's lines on its
    report (for writers that show them); a worker validating one partition of a larger input leaves
    the lone-unreadable rule to the driver of the whole input.

    A lone claim is refused twice over: when it cannot be read at all (before any rule runs), and
    when the validator makes it Unreadable for what only the rules read (Validator.settle: a
    diagnosis in ICD-9-CM on a claim a rule judges; on a claim no rule judges, it is no reason)."""
    checked = numbered(records)
    if lone_unreadable_is_an_error:
        checked = refuse_lone_unreadable(checked)
    validator.keep_content = keep_content
    reports = validator.validate(checked, batch_size)
    return refuse_lone_unreadable_reports(reports) if lone_unreadable_is_an_error else reports


@dataclass
class Tally:
    """The verdict so far: whether every claim conforms, and whether any had a Warning."""

    conforms: bool = True
    warned: bool = False
    claims: int = 0

    def add(self, report: ClaimReport) -> None:
        self.conforms = self.conforms and report.conforms
        self.warned = self.warned or any(r.severity == "Warning" for r in report.results)
        self.claims += 1

    def failed(self, fail_on: str = "violation") -> bool:
        """Whether the run does not conform: a Violation, or (``fail_on="warning"``) a Warning too."""
        return not self.conforms or (fail_on == "warning" and self.warned)


def write_reports(reports: Iterable[ClaimReport], writer: ReportWriter, tally: Tally | None = None,
                  each: Callable[[], None] | None = None) -> Tally:
    """Each report to the writer as it comes, then the writer closed with the overall verdict.
    ``tally`` is filled as reports pass (so a caller whose output failed part-way knows the verdict
    up to there); ``each`` runs after every report (a progress bar's step)."""
    tally = tally if tally is not None else Tally()
    for report in reports:
        tally.add(report)
        writer.claim(report)
        if each is not None:
            each()
    writer.close(tally.conforms)
    return tally


def refuse_output_over_input(output: str, paths: Iterable[str]) -> None:
    """--output may not name one of the inputs: the report would overwrite the claims."""
    files = [p for p in paths if p != "-"]
    target = Path(output).resolve()
    given = {Path(p).resolve() for p in files}
    if target in given or (target.exists() and target in {p.resolve() for p in expand_paths(files)} if files
                           else False):
        raise InputError(f"--output {output} is one of the inputs: it would be overwritten; write elsewhere")


@contextlib.contextmanager
def report_output(output: str | None) -> Iterator[IO[str]]:
    """Where a report goes: standard output, or a temporary file beside ``output`` that is renamed
    over it when the block ends without an error (memory stays flat, and the target never holds a
    partial report); on an error the temporary file is removed and the target left untouched."""
    if not output:
        yield sys.stdout
        return
    target = Path(output)
    try:
        handle, name = tempfile.mkstemp(dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as err:
        raise InputError(f"cannot write {output}: {err.strerror}") from None
    partial = Path(name)
    stream = os.fdopen(handle, "w", encoding="utf-8")
    try:
        yield stream
        try:
            stream.close()
            # mkstemp makes the file private (0600); the report gets the mode any new file would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(partial, 0o666 & ~umask)
            os.replace(partial, output)
        except OSError as err:
            raise InputError(f"cannot write {output}: {err.strerror}") from None
    finally:
        stream.close()
        partial.unlink(missing_ok=True)  # renamed already when the run finished
