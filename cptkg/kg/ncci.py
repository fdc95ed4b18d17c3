"""CMS National Correct Coding Initiative tables as dated data: the procedure-to-procedure (PTP)
edits, medically unlikely edits (MUE) and add-on code (AOC) edits that a user imports from the
files CMS publishes (`cptkg ncci import`), kept in the user's data folder, and turned into graph
facts for the codes a batch of claims reports (the rules PTPEdit, MUEExceeded, AOCType1PrimaryListed
and AOCType3PrimaryListed read them, and AddOnRequiresPrimary's message names a Type 2 add-on).

The AOC file comes as fixed-width text and as xlsx, with the columns Add-On Code, Primary Code
(CCCCC for a Type 2 add-on: contractor-defined), AOC Edit Type, the add-on's deletion date, the
primary's deletion date, the edit's effective and deletion dates (Julian YYYYDDD) and special
instruction notes; the text file's columns are found where its header row's titles start.

The files are read in CMS's own layouts, tab- or comma-separated text or xlsx: the header row is
found by its column titles (practitioner PTP: "Column 1", "Column 2", "Effective Date", "Deletion
Date", "Modifier 0=not allowed 1=allowed 9=not applicable", "PTP Edit Rationale"; practitioner
MUE: "HCPCS/CPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator", "MUE
Rationale"), and every data row is checked: a row that cannot be read stops the import naming it.
cptkg ships no edit values: they come only from the files a user imports.

The tables live in one SQLite file (a full quarter is millions of PTP rows: far too many for an
in-memory graph), indexed by code, so a batch pays only for the edits of its own codes.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from cptkg.errors import InputError
from cptkg.kg import userdata
from cptkg.kg.namespaces import CPT, CPTKG, HCPCS, NCCI

log = logging.getLogger(__name__)

DATABASE = "ncci.sqlite"
_CODE = re.compile(r"[0-9A-Z]{4}[0-9A-Z]")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (id INTEGER PRIMARY KEY, kind TEXT, quarter TEXT, source TEXT,
                                    rows INTEGER, imported TEXT);
CREATE TABLE IF NOT EXISTS ptp (import INTEGER, quarter TEXT, column1 TEXT, column2 TEXT, effective TEXT,
                                deletion TEXT, indicator INTEGER, rationale TEXT);
CREATE INDEX IF NOT EXISTS ptp_column1 ON ptp (column1);
CREATE INDEX IF NOT EXISTS ptp_column2 ON ptp (column2);
CREATE TABLE IF NOT EXISTS mue (import INTEGER, quarter TEXT, code TEXT, value INTEGER, indicator INTEGER,
                                rationale TEXT, valid_from TEXT, valid_through TEXT);
CREATE INDEX IF NOT EXISTS mue_code ON mue (code);
CREATE TABLE IF NOT EXISTS aoc (import INTEGER, quarter TEXT, addon TEXT, primary_code TEXT, type INTEGER,
                                effective TEXT, deletion TEXT, addon_deleted TEXT, primary_deleted TEXT,
                                notes TEXT);
CREATE INDEX IF NOT EXISTS aoc_addon ON aoc (addon);
"""
# CMS's AOC file writes CCCCC as the primary of a Type 2 add-on code: contractor-defined primaries.
CONTRACTOR_DEFINED = "CCCCC"


@dataclass(frozen=True)
class Imported:
    kind: str  # "ptp", "mue" or "aoc"
    quarter: str
    source: str
    rows: int
    imported: str


def _path() -> Path:
    return userdata.folder("ncci") / DATABASE


def _connect(create: bool = False) -> sqlite3.Connection | None:
    path = _path()
    if not path.is_file() and not create:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path)
        connection.executescript(_SCHEMA)
    except (OSError, sqlite3.Error) as err:
        raise InputError(f"cannot open the NCCI tables in {path}: {err}") from None
    return connection


# ---------------------------------------------------------------- reading CMS's files

def quarter_of(name: str, given: str | None) -> str:
    """The quarter a file belongs to: --quarter, else its name (2026Q1, 2026-Q1, or CMS's
    `Eff_01-01-2026`)."""
    if given:
        if not re.fullmatch(r"\d{4}Q[1-4]", given):
            raise InputError(f"--quarter takes a quarter as YYYYQN (2026Q1), not {given!r}")
        return given
    stem = Path(name).name
    found = re.search(r"(\d{4})[-_ ]?[Qq]([1-4])", stem)
    if found:
        return f"{found.group(1)}Q{found.group(2)}"
    effective = re.search(r"[Ee]ff[-_ ]?(\d{2})[-_](\d{2})[-_](\d{4})", stem)
    if effective:
        month = int(effective.group(1))
        if 1 <= month <= 12:
            return f"{effective.group(3)}Q{(month - 1) // 3 + 1}"
    raise InputError(f"{name}: cannot tell which quarter it is from its name: give --quarter YYYYQN")


def quarter_days(quarter: str) -> tuple[date, date]:
    year, number = int(quarter[:4]), int(quarter[5])
    first = date(year, 3 * (number - 1) + 1, 1)
    last = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def _rows(data: bytes, name: str) -> list[list[str]]:
    """Every row of a text (tab or comma) or xlsx file, as stripped strings."""
    if data[:4] == b"PK\x03\x04":
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - a dependency of cptkg
            raise InputError(f"{name}: reading xlsx needs openpyxl") from None
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many kinds for a damaged workbook
            raise InputError(f"{name}: not a readable xlsx workbook ({type(err).__name__})") from None
        sheet = book.worksheets[0]
        return [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # CMS's older text files
    lines = text.splitlines()
    # CMS's PTP text files are tab-separated, its MUE files comma-separated; notes above the header
    # may hold commas, so the delimiter is the one that splits some line into several columns.
    delimiter = "\t" if any(line.count("\t") >= 3 for line in lines[:40]) else ","
    return [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=delimiter)]


_PTP_COLUMNS: dict[str, tuple[str, ...]] = {
    "column1": ("column 1",), "column2": ("column 2",), "effective": ("effective",), "deletion": ("deletion",),
    "indicator": ("modifier",), "rationale": ("rationale",)}
_MUE_COLUMNS: dict[str, tuple[str, ...]] = {"code": ("hcpcs", "cpt code"), "value": ("mue value", "mue values"),
                "indicator": ("adjudication indicator",), "rationale": ("rationale",)}


def _header(rows: list[list[str]], columns: dict[str, tuple[str, ...]]) -> tuple[int, dict[str, int]] | None:
    for number, row in enumerate(rows[:40]):
        cells = [" ".join(c.lower().replace("/", " / ").split()) for c in row]
        found: dict[str, int] = {}
        for key, words in columns.items():
            for index, cell in enumerate(cells):
                if index not in found.values() and any(w in cell for w in words):
                    found[key] = index
                    break
        if len(found) == len(columns):
            return number, found
    return None


def _yyyymmdd(text: str, what: str, where: str) -> str:
    digits = text.replace("-", "").replace("/", "")
    if len(digits) == 8 and digits.isdigit():
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            pass
    raise InputError(f"{where}: {what} {text!r} is not a date (YYYYMMDD)")


def _title(cell: str) -> str:
    return " ".join(cell.lower().replace("_", " ").replace("-", " ").replace("/", " ").split())


# The AOC file's columns, each told by the words of its title (CMS's xlsx: ADD_ON_CODE, PRIMARY_CODE,
# AOC_EDIT_TYPE, AOC_DEL_DT, PRIMARY_CODE_DEL_DT, AOC_EDIT_EFF_DT, AOC_EDIT_DEL_DT,
# SPECIAL_INSTRUCTION_NOTES; a "julian" suffix in later files); notes may be absent.
_AOC_COLUMNS: dict[str, Any] = {
    "addon": lambda t: ("add on" in t or "addon" in t) and "del" not in t and "eff" not in t,
    "primary": lambda t: "primary" in t and "del" not in t and "eff" not in t,
    "type": lambda t: "type" in t,
    "addon_deleted": lambda t: "del" in t and "primary" not in t and "edit" not in t,
    "primary_deleted": lambda t: "primary" in t and "del" in t,
    "effective": lambda t: "edit" in t and "eff" in t,
    "deletion": lambda t: "edit" in t and "del" in t,
}
_AOC_OPTIONAL: dict[str, Any] = {"notes": lambda t: "note" in t or "instruction" in t}
_AOC_TITLES = ("Add-On Code, Primary Code, AOC Edit Type, AOC Del Dt, Primary Code Del Dt, AOC Edit Eff Dt, "
               "AOC Edit Del Dt")


def _aoc_columns(cells: list[str]) -> dict[str, int] | None:
    """Which cell holds each AOC column, when these cells are the AOC header row."""
    titles = [_title(c) for c in cells]
    found: dict[str, int] = {}
    for key, matches in (*_AOC_COLUMNS.items(), *_AOC_OPTIONAL.items()):
        for index, title in enumerate(titles):
            if title and index not in found.values() and matches(title):
                found[key] = index
                break
    return found if all(key in found for key in _AOC_COLUMNS) else None


def _fixed_width_rows(data: bytes) -> list[list[str]] | None:
    """A fixed-width AOC text file's rows, each cut into the columns its header row's titles start
    (titles are set apart by two spaces or more), or None when no line is such a header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.splitlines()
    for number, line in enumerate(lines[:40]):
        spans = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]
        if len(spans) < len(_AOC_COLUMNS) or _aoc_columns([t for _s, t in spans]) is None:
            continue
        starts = [start for start, _t in spans]
        ends = [*starts[1:], None]
        out = [[""]] * number + [[t for _s, t in spans]]
        for later in lines[number + 1:]:
            out.append([later[a:b].strip() for a, b in zip(starts, ends, strict=True)])
        return out
    return None


def _aoc_date(text: str, what: str, where: str, required: bool = False) -> str | None:
    """A date of the AOC file: Julian YYYYDDD as CMS writes them (a calendar date from an xlsx cell
    is taken too); empty is none."""
    value = text.strip()
    if value.endswith(".0"):
        value = value[:-2]  # a whole number from an xlsx cell read as a float
    if not value:
        if required:
            raise InputError(f"{where}: {what} is empty: an AOC edit needs one (Julian YYYYDDD)")
        return None
    if len(value) == 7 and value.isdigit():
        year, day = int(value[:4]), int(value[4:])
        first = date(year, 1, 1)
        if 1 <= day <= (date(year + 1, 1, 1) - first).days:
            return date.fromordinal(first.toordinal() + day - 1).isoformat()
        raise InputError(f"{where}: {what} {text!r} is not a Julian date (YYYYDDD, day 001 to 365 or 366)")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", value):
        return _yyyymmdd(value[:10], what, where)
    raise InputError(f"{where}: {what} {text!r} is not a date (Julian YYYYDDD)")


def _aoc_rows(rows: list[list[str]], name: str) -> list[tuple[Any, ...]] | None:
    """The checked rows of a CMS AOC file, or None when the rows are not one."""
    header = next(((n, at) for n, row in enumerate(rows[:40]) if (at := _aoc_columns(row)) is not None), None)
    if header is None:
        return None
    start, at = header
    out: list[tuple[Any, ...]] = []
    for number, row in enumerate(rows[start + 1:], start + 2):
        cells = row + [""] * (max(at.values()) + 1 - len(row))
        addon = cells[at["addon"]].upper()
        if not any(c for c in cells):
            continue
        where = f"{name}: row {number}"
        if not _CODE.fullmatch(addon):
            raise InputError(f"{where}: add-on code {cells[at['addon']]!r} is not a CPT/HCPCS code")
        kind = cells[at["type"]].removesuffix(".0")
        if kind not in ("1", "2", "3"):
            raise InputError(f"{where}: AOC edit type {cells[at['type']]!r} is not 1, 2 or 3")
        primary: str | None = cells[at["primary"]].upper()
        if kind == "2":
            if primary not in ("", CONTRACTOR_DEFINED):
                raise InputError(f"{where}: a Type 2 add-on code lists no primary ({CONTRACTOR_DEFINED}), "
                                 f"not {primary!r}")
            primary = None
        elif primary == CONTRACTOR_DEFINED or not _CODE.fullmatch(primary or ""):
            raise InputError(f"{where}: primary code {cells[at['primary']]!r} is not a CPT/HCPCS code "
                             f"(a Type {kind} add-on code lists its primaries)")
        effective = _aoc_date(cells[at["effective"]], "AOC edit effective date", where, required=True)
        deletion = _aoc_date(cells[at["deletion"]], "AOC edit deletion date", where)
        if deletion is not None and effective is not None and deletion < effective:
            raise InputError(f"{where}: AOC edit deletion date {deletion} is before its effective date {effective}")
        out.append((addon, primary, int(kind), effective, deletion,
                    _aoc_date(cells[at["addon_deleted"]], "add-on code deletion date", where),
                    _aoc_date(cells[at["primary_deleted"]], "primary code deletion date", where),
                    cells[at["notes"]] if "notes" in at else ""))
    if not out:
        raise InputError(f"{name}: an AOC file with no rows of edits")
    return out


def read_file(data: bytes, name: str) -> tuple[str, list[tuple[Any, ...]]]:
    """A CMS PTP, MUE or AOC file: its kind ("ptp", "mue" or "aoc") and its checked rows."""
    rows = _rows(data, name)
    ptp = _header(rows, _PTP_COLUMNS)
    mue = None if ptp else _header(rows, _MUE_COLUMNS)
    if ptp is None and mue is None:
        aoc = _aoc_rows(rows, name)
        if aoc is None and data[:4] != b"PK\x03\x04":
            fixed = _fixed_width_rows(data)
            aoc = _aoc_rows(fixed, name) if fixed is not None else None
        if aoc is not None:
            return "aoc", aoc
        raise InputError(f"{name}: neither a CMS PTP edit file (columns Column 1, Column 2, Effective Date, "
                         "Deletion Date, Modifier, Rationale), an MUE file (HCPCS/CPT Code, MUE Values, "
                         f"MUE Adjudication Indicator, Rationale) nor an AOC file ({_AOC_TITLES})")
    kind, (start, at) = ("ptp", ptp) if ptp else ("mue", mue)  # type: ignore[misc]
    out: list[tuple[Any, ...]] = []
    for number, row in enumerate(rows[start + 1:], start + 2):
        cells = row + [""] * (max(at.values()) + 1 - len(row))
        first = cells[at["column1" if kind == "ptp" else "code"]].upper()
        if not first or not any(c for c in cells):
            continue
        if not _CODE.fullmatch(first):
            if not out:
                continue  # a second header line (CMS splits some titles over two rows)
            raise InputError(f"{name}: row {number}: {first!r} is not a CPT/HCPCS code")
        where = f"{name}: row {number}"
        if kind == "ptp":
            second = cells[at["column2"]].upper()
            if not _CODE.fullmatch(second):
                raise InputError(f"{where}: column 2 {second!r} is not a CPT/HCPCS code")
            effective = _yyyymmdd(cells[at["effective"]], "effective date", where)
            deletion_text = cells[at["deletion"]]
            deletion = None if deletion_text in ("", "*") else _yyyymmdd(deletion_text, "deletion date", where)
            indicator = cells[at["indicator"]][:1]
            if indicator not in ("0", "1", "9"):
                raise InputError(f"{where}: modifier indicator {cells[at['indicator']]!r} is not 0, 1 or 9")
            out.append((first, second, effective, deletion, int(indicator), cells[at["rationale"]]))
        else:
            value = cells[at["value"]]
            if not value.split(".")[0].isdigit():
                raise InputError(f"{where}: MUE value {value!r} is not a whole number")
            indicator = cells[at["indicator"]][:1]
            if indicator not in ("1", "2", "3"):
                raise InputError(f"{where}: MUE adjudication indicator {cells[at['indicator']]!r} is not 1, 2 or 3")
            out.append((first, int(value.split(".")[0]), int(indicator), cells[at["rationale"]]))
    if not out:
        raise InputError(f"{name}: a {kind.upper()} file with no rows of edits")
    return kind, out


def import_file(data: bytes, name: str, quarter: str | None = None) -> Imported:
    """Read one CMS file into the user's NCCI tables (replacing an earlier import of the same file
    name for the same quarter)."""
    kind, rows = read_file(data, name)
    which = quarter_of(name, quarter)
    source = Path(name).name
    connection = _connect(create=True)
    assert connection is not None
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    try:
        with connection:
            for (old,) in connection.execute("SELECT id FROM imports WHERE kind=? AND quarter=? AND source=?",
                                             (kind, which, source)).fetchall():
                connection.execute(f"DELETE FROM {kind} WHERE import=?", (old,))  # kind: ptp, mue or aoc
                connection.execute("DELETE FROM imports WHERE id=?", (old,))
            cursor = connection.execute(
                "INSERT INTO imports (kind, quarter, source, rows, imported) VALUES (?,?,?,?,?)",
                (kind, which, source, len(rows), stamp))
            ident = cursor.lastrowid
            if kind == "ptp":
                connection.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?,?,?)",
                                       ((ident, which, *row) for row in rows))
            elif kind == "aoc":
                connection.executemany("INSERT INTO aoc VALUES (?,?,?,?,?,?,?,?,?,?)",
                                       ((ident, which, *row) for row in rows))
            else:
                first, last = quarter_days(which)
                connection.executemany("INSERT INTO mue VALUES (?,?,?,?,?,?,?,?)",
                                       ((ident, which, *row, first.isoformat(), last.isoformat()) for row in rows))
    except sqlite3.Error as err:
        raise InputError(f"cannot write the NCCI tables in {_path()}: {err}") from None
    finally:
        connection.close()
    log.info("imported %d %s rows of %s for %s", len(rows), kind.upper(), source, which)
    return Imported(kind, which, source, len(rows), stamp)


def imports() -> list[Imported]:
    """What has been imported, by quarter."""
    connection = _connect()
    if connection is None:
        return []
    try:
        return [Imported(*row) for row in connection.execute(
            "SELECT kind, quarter, source, rows, imported FROM imports ORDER BY quarter, kind, source")]
    finally:
        connection.close()


# ---------------------------------------------------------------- facts for the rules

def _code_iri(code: str) -> URIRef:
    return (CPT if code[:1].isdigit() else HCPCS)[code]


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def facts_for(codes: Iterable[str]) -> list[tuple[Any, Any, Any]]:
    """The PTP edits and MUEs that name any of these codes, as graph facts."""
    wanted = sorted(set(codes))
    connection = _connect() if wanted else None
    if connection is None:
        return []
    out: list[tuple[Any, Any, Any]] = []
    try:
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for quarter, c1, c2, effective, deletion, indicator in connection.execute(
                    f"SELECT quarter, column1, column2, effective, deletion, indicator FROM ptp "
                    f"WHERE column1 IN ({marks}) OR column2 IN ({marks})", (*chunk, *chunk)):
                edit = NCCI[f"ptp/{quarter}/{c1}/{c2}"]
                out += [(edit, RDF.type, CPTKG.PTPEdit), (edit, CPTKG.column1, _code_iri(c1)),
                        (edit, CPTKG.column2, _code_iri(c2)),
                        (edit, CPTKG.editEffective, Literal(effective, datatype=XSD.date)),
                        (edit, CPTKG.modifierIndicator, Literal(indicator)),
                        (edit, CPTKG.ncciQuarter, Literal(quarter))]
                if deletion:
                    out.append((edit, CPTKG.editDeleted, Literal(deletion, datatype=XSD.date)))
            for quarter, code, value, indicator, first, last in connection.execute(
                    f"SELECT quarter, code, value, indicator, valid_from, valid_through FROM mue "
                    f"WHERE code IN ({marks})", chunk):
                edit = NCCI[f"mue/{quarter}/{code}"]
                out += [(edit, RDF.type, CPTKG.MedicallyUnlikelyEdit), (edit, CPTKG.mueCode, _code_iri(code)),
                        (edit, CPTKG.mueValue, Literal(value)), (edit, CPTKG.mueIndicator, Literal(indicator)),
                        (edit, CPTKG.validFrom, Literal(first, datatype=XSD.date)),
                        (edit, CPTKG.validThrough, Literal(last, datatype=XSD.date)),
                        (edit, CPTKG.ncciQuarter, Literal(quarter))]
        # The AOC edits of the add-on codes among these codes, every row (each primary is needed to
        # count and name them), from the latest AOC file imported: each CMS AOC file is complete,
        # its rows dated, so an older file adds nothing but what CMS has since corrected.
        latest = connection.execute("SELECT MAX(quarter) FROM imports WHERE kind='aoc'").fetchone()[0]
        for chunk in _chunks(wanted) if latest else ():
            marks = ",".join("?" * len(chunk))
            for addon, primary, kind, effective, deletion, addon_deleted, primary_deleted in connection.execute(
                    f"SELECT addon, primary_code, type, effective, deletion, addon_deleted, primary_deleted "
                    f"FROM aoc WHERE quarter=? AND addon IN ({marks})", (latest, *chunk)):
                edit = NCCI[f"aoc/{latest}/{addon}/{primary or CONTRACTOR_DEFINED}/{effective}"]
                out += [(edit, RDF.type, CPTKG.AddOnCodeEdit), (edit, CPTKG.aocAddOnCode, _code_iri(addon)),
                        (edit, CPTKG.aocEditType, Literal(kind)),
                        (edit, CPTKG.editEffective, Literal(effective, datatype=XSD.date)),
                        (edit, CPTKG.ncciQuarter, Literal(latest))]
                if primary:
                    out.append((edit, CPTKG.aocPrimaryCode, _code_iri(primary)))
                for prop, day in ((CPTKG.editDeleted, deletion), (CPTKG.addOnCodeDeleted, addon_deleted),
                                  (CPTKG.primaryCodeDeleted, primary_deleted)):
                    if day:
                        out.append((edit, prop, Literal(day, datatype=XSD.date)))
    except sqlite3.Error as err:
        raise InputError(f"cannot read the NCCI tables in {_path()}: {err}") from None
    finally:
        connection.close()
    return out


def provenance(edit: str) -> tuple[str, str, str | None] | None:
    """Where an edit fact came from, for a result's evidence: the imported file, a title naming
    the kind and quarter, and CMS's rationale of the row (its own words). ``edit`` is the edit
    node's name below the NCCI namespace: ``ptp/QUARTER/COLUMN1/COLUMN2`` or ``mue/QUARTER/CODE``."""
    parts = edit.split("/")
    connection = _connect()
    if connection is None or len(parts) not in (3, 4) or parts[0] not in ("ptp", "mue"):
        return None
    try:
        if parts[0] == "ptp" and len(parts) == 4:
            row = connection.execute(
                "SELECT imports.source, ptp.rationale FROM ptp JOIN imports ON imports.id = ptp.import "
                "WHERE ptp.quarter=? AND ptp.column1=? AND ptp.column2=? ORDER BY imports.id DESC LIMIT 1",
                parts[1:]).fetchone()
            kind = "PTP"
        elif parts[0] == "mue" and len(parts) == 3:
            row = connection.execute(
                "SELECT imports.source, mue.rationale FROM mue JOIN imports ON imports.id = mue.import "
                "WHERE mue.quarter=? AND mue.code=? ORDER BY imports.id DESC LIMIT 1", parts[1:]).fetchone()
            kind = "MUE"
        else:
            return None
    except sqlite3.Error as err:
        raise InputError(f"cannot read the NCCI tables in {_path()}: {err}") from None
    finally:
        connection.close()
    if row is None:
        return None
    source, rationale = row
    return source, f"CMS NCCI {kind} edits {parts[1]} ({source})", (rationale or None)
