"""ICD-10-CM editions: the tables in icd10cm/ (built by tools/gen_icd10cm_editions.py from the
releases of simple-icd-10-cm), read without importing the library, and which edition is in force
on a date of service.

Not yet wired into the rules (issue 12): DiagnosisCodeValid still reads the installed library's
current edition through kg/icd10cm.py.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from functools import cache

from cptkg.kg import resources


@dataclass(frozen=True)
class Edition:
    """One ICD-10-CM edition: its id (YYYY-MM), the first day it is in force and the last day of its
    fiscal year (FY from October 1; an April update applies from April 1)."""

    id: str
    release: str
    start: date
    fiscal_year_end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.fiscal_year_end


@dataclass(frozen=True)
class CodeFacts:
    billable: bool
    parent: str | None
    title: str


@cache
def editions() -> tuple[Edition, ...]:
    """The loaded editions, oldest first."""
    index = json.loads(resources.data_root().joinpath("icd10cm", "editions.json").read_text(encoding="utf-8"))
    return tuple(sorted((Edition(key, value["release"], date.fromisoformat(value["start"]),
                                 date.fromisoformat(value["fiscalYearEnd"]))
                         for key, value in index.items()), key=lambda e: e.start))


@cache
def table(edition_id: str) -> dict[str, CodeFacts]:
    """Every code of one edition (categories, subcategories, billable codes): about 0.3 s, once."""
    raw = resources.data_root().joinpath("icd10cm", f"{edition_id}.tsv.gz").read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    out: dict[str, CodeFacts] = {}
    for line in lines[1:]:
        code, billable, parent, title = line.split("\t")
        out[code] = CodeFacts(billable == "1", parent or None, title)
    return out


def fiscal_year(day: date) -> int:
    """The US federal fiscal year of a date (FY2026 runs from 2025-10-01 to 2026-09-30)."""
    return day.year + 1 if day.month >= 10 else day.year


def deciding(day: date) -> tuple[Edition | None, list[Edition]]:
    """The edition that decides a date of service, and the editions consulted when none covers it.

    An edition covering the date decides. Otherwise a loaded edition of the same fiscal year decides
    (codes are set on October 1; the April update of that year is the closest); otherwise the
    nearest editions before and after are consulted and none decides."""
    loaded = editions()
    for edition in loaded:
        if edition.covers(day):
            return edition, [edition]
    same_year = [e for e in loaded if fiscal_year(e.start) == fiscal_year(day)]
    if same_year:
        return same_year[0], same_year
    before = [e for e in loaded if e.fiscal_year_end < day]
    after = [e for e in loaded if e.start > day]
    return None, [*before[-1:], *after[:1]]
