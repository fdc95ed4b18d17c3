"""ICD-10-CM editions: the tables packaged in icd10cm/ (built by tools/gen_icd10cm_editions.py from
the CDC tabular files that the releases of simple-icd-10-cm carry) and the ones a user adds from a
CDC tabular XML file (`cptkg icd10cm add`, into the user's data folder), read without importing the
library; and which edition is in force on a date of service.

A table is gzip text, one line per code: code, billable (1/0), parent, title. Each folder's
editions.json indexes its tables: the edition id (YYYY-MM of its first day), its source, first day
and the last day of its fiscal year.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cptkg.errors import InputError
from cptkg.kg import resources, tabular, userdata

log = logging.getLogger(__name__)

INDEX = "editions.json"
HEADER = "code\tbillable\tparent\ttitle"
PACKAGED = "packaged"
ADDED = "added"


@dataclass(frozen=True)
class Edition:
    """One ICD-10-CM edition: its id (YYYY-MM), where it came from, the first day it is in force
    and the last day of its fiscal year (FY from October 1; an April update applies from April 1).
    ``origin`` is "packaged" (shipped with cptkg) or "added" (in the user's data folder)."""

    id: str
    release: str
    start: date
    fiscal_year_end: date
    origin: str = PACKAGED
    codes: int = 0
    billable: int = 0
    added: str | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.fiscal_year_end


@dataclass(frozen=True)
class CodeFacts:
    billable: bool
    parent: str | None
    title: str


def _read_index(text: str, origin: str) -> list[Edition]:
    index = json.loads(text)
    return [Edition(key, value["release"], date.fromisoformat(value["start"]),
                    date.fromisoformat(value["fiscalYearEnd"]), origin, value.get("codes", 0),
                    value.get("billable", 0), value.get("added"))
            for key, value in index.items()]


def _user_index() -> Path:
    return userdata.folder("icd10cm") / INDEX


@cache
def editions() -> tuple[Edition, ...]:
    """The loaded editions, packaged and added, oldest first."""
    found = _read_index(resources.data_root().joinpath("icd10cm", INDEX).read_text(encoding="utf-8"), PACKAGED)
    user = _user_index()
    if user.is_file():
        try:
            found += _read_index(user.read_text(encoding="utf-8"), ADDED)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InputError(f"cannot read the added ICD-10-CM editions in {user}: {err}; "
                             f"remove the file and add the editions again") from None
    return tuple(sorted(found, key=lambda e: (e.start, e.origin)))


def _find(edition_id: str) -> Edition:
    for edition in editions():
        if edition.id == edition_id:
            return edition
    raise KeyError(edition_id)


class Table(Mapping[str, CodeFacts]):
    """One edition's codes, each line parsed only when asked for: a claim needs a handful of the
    ~98,000 codes, and building them all cost 0.6 s per edition on every run."""

    def __init__(self, text: str) -> None:
        self._lines = dict(line.split("\t", 1) for line in text.splitlines()[1:])

    def __getitem__(self, code: str) -> CodeFacts:
        billable, parent, title = self._lines[code].split("\t")
        return CodeFacts(billable == "1", parent or None, title)

    def __contains__(self, code: object) -> bool:
        return code in self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)


@cache
def table(edition_id: str) -> Table:
    """Every code of one edition (categories, subcategories, billable codes): about 0.15 s, once."""
    edition = _find(edition_id)
    if edition.origin == PACKAGED:
        raw = resources.data_root().joinpath("icd10cm", f"{edition_id}.tsv.gz").read_bytes()
    else:
        path = userdata.folder("icd10cm") / f"{edition_id}.tsv.gz"
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise InputError(f"cannot read the added ICD-10-CM edition {edition_id} ({path}): {err.strerror}; "
                             f"`cptkg icd10cm remove {edition_id}` and add it again") from None
    return Table(gzip.decompress(raw).decode("utf-8"))


def reload() -> None:
    """Forget what was read, so editions added or removed in this process are seen."""
    editions.cache_clear()
    table.cache_clear()


def fiscal_year(day: date) -> int:
    """The US federal fiscal year of a date (FY2026 runs from 2025-10-01 to 2026-09-30)."""
    return day.year + 1 if day.month >= 10 else day.year


def deciding(day: date) -> tuple[Edition | None, list[Edition]]:
    """The edition that decides a date of service, and the editions consulted when none covers it.

    Of the editions covering the date, the latest to start decides (an April update supersedes its
    October release). Otherwise a loaded edition of the same fiscal year decides (codes are set on
    October 1; the April update of that year is the closest); otherwise the nearest editions before
    and after are consulted and none decides."""
    loaded = editions()
    covering = [e for e in loaded if e.covers(day)]
    if covering:
        return covering[-1], covering[-1:]
    same_year = [e for e in loaded if fiscal_year(e.start) == fiscal_year(day)]
    if same_year:
        return same_year[0], same_year[:1]
    before = [e for e in loaded if e.fiscal_year_end < day]
    after = [e for e in loaded if e.start > day]
    return None, [*before[-1:], *after[:1]]


def write_table(target: Path, rows: list[tuple[str, str, str, str]], compresslevel: int = 6) -> None:
    """An edition table: a header line, then one sorted row per code; gzip without a timestamp."""
    body = "\n".join([HEADER, *("\t".join(row) for row in rows)]) + "\n"
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                 compresslevel=compresslevel) as out:
        out.write(body.encode("utf-8"))


def _write_index(entries: dict[str, Any]) -> None:
    """The user's index, replaced at once (a crash never leaves half a file)."""
    path = _user_index()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".editions-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps(entries, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)


def _user_entries() -> dict[str, Any]:
    path = _user_index()
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def add(xml: bytes, name: str, *, codes: bytes | None = None, start: date | None = None,
        replace: bool = False) -> Edition:
    """Read a CDC tabular XML file into the user's data folder as an edition.

    Its fiscal year comes from the file's <version>; it is in force from October 1 of the year
    before unless ``start`` says otherwise (an April update: April 1). ``codes`` is the CDC's code
    list for the same release, which keeps only the 7th-character codes that exist."""
    confirmed = tabular.confirmed_codes(codes.decode("utf-8", "replace").splitlines()) if codes else None
    read = tabular.read(xml, name, confirmed)
    first_day = start or date(read.fiscal_year - 1, 10, 1)
    if fiscal_year(first_day) != read.fiscal_year:
        raise InputError(f"{name} is the FY{read.fiscal_year} edition (October {read.fiscal_year - 1} to September "
                         f"{read.fiscal_year}); --start {first_day.isoformat()} is outside that year")
    edition_id = f"{first_day:%Y-%m}"
    packaged = [e for e in editions() if e.id == edition_id and e.origin == PACKAGED]
    if packaged:
        raise InputError(f"the {edition_id} edition is packaged with cptkg ({packaged[0].release}); "
                         f"it cannot be replaced (give --start for another first day)")
    entries = _user_entries()
    if edition_id in entries and not replace:
        raise InputError(f"the {edition_id} edition was added already (from {entries[edition_id]['release']}); "
                         f"--replace replaces it")
    target_folder = userdata.folder("icd10cm")
    try:
        target_folder.mkdir(parents=True, exist_ok=True)
        write_table(target_folder / f"{edition_id}.tsv.gz", read.rows)
        entries[edition_id] = {
            "release": f"CDC tabular XML {Path(name).name}" + (" with its code list" if codes else ""),
            "start": first_day.isoformat(), "fiscalYearEnd": date(read.fiscal_year, 9, 30).isoformat(),
            "codes": len(read.rows), "billable": sum(r[1] == "1" for r in read.rows),
            "added": datetime.now(UTC).replace(microsecond=0).isoformat()}
        _write_index(entries)
    except OSError as err:
        raise InputError(f"cannot write to the data folder {target_folder}: {err.strerror}") from None
    reload()
    log.info("added ICD-10-CM edition %s: %d codes", edition_id, len(read.rows))
    return _find(edition_id)


def remove(edition_id: str) -> Edition:
    """Take an added edition out of the user's data folder (packaged ones stay)."""
    entries = _user_entries()
    if edition_id not in entries:
        packaged = any(e.id == edition_id for e in editions())
        raise InputError(f"the {edition_id} edition is packaged with cptkg and cannot be removed" if packaged
                         else f"no added edition {edition_id} (added: {', '.join(sorted(entries)) or 'none'})")
    gone = _find(edition_id)
    del entries[edition_id]
    try:
        _write_index(entries)
        (userdata.folder("icd10cm") / f"{edition_id}.tsv.gz").unlink(missing_ok=True)
    except OSError as err:
        raise InputError(f"cannot write to the data folder {userdata.data_dir()}: {err.strerror}") from None
    reload()
    return gone
