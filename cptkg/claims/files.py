"""Claims from files and folders: which files a path names, and each file read by its form (claim
graphs by RDF suffix, FHIR JSON, NDJSON streamed line by line), every claim in input order."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from cptkg.claims.fhir import bounded_lines, read_json_document, read_ndjson
from cptkg.claims.rdf import read_rdf_text
from cptkg.claims.record import ClaimRecord
from cptkg.errors import InputError

RDF_SUFFIXES = {".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".ntriples": "nt", ".rdf": "xml", ".owl": "xml",
                ".jsonld": "json-ld", ".json-ld": "json-ld"}
JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}
MAX_FILE_BYTES = 512 * 1024 * 1024

log = logging.getLogger(__name__)


def _regular_file(path: Path, given: str) -> Path:
    """A path that names a regular file: devices (/dev/zero reports size 0 and never ends), FIFOs
    and sockets are refused before anything is read."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise InputError(f"cannot read {given}: {err.strerror}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{given} is not a regular file (a device, FIFO or socket): give claim files or folders")
    return path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The claim files that the given paths name, folders walked in sorted order."""
    out: list[Path] = []
    given = list(paths)
    if not given:
        raise InputError("no claim files given: name files or folders of claims")
    for raw in given:
        if str(raw).strip() == "":
            raise InputError("an empty path was given: name files or folders of claims")
        path = Path(raw)
        if path.is_dir():
            found = []
            for p in sorted(path.rglob("*")):
                if p.suffix.lower() not in RDF_SUFFIXES and p.suffix.lower() not in JSON_SUFFIXES:
                    continue
                # A link out of the folder could disclose any file the user can read: refused.
                if p.is_symlink() and not _inside(p, path):
                    raise InputError(f"{p} is a symbolic link out of the folder {path}: "
                                     "cptkg reads only the folder's own files")
                if p.is_file():
                    found.append(_regular_file(p, str(p)))
            if not found:
                raise InputError(f"no claim files (.ttl, .nt, .jsonld, .json, .ndjson) in folder {path}")
            out.extend(found)
        elif path.exists():
            out.append(_regular_file(path, str(path)))
        else:
            raise InputError(f"no such file or folder: {path}")
    return out


def read_paths(paths: Iterable[str | Path]) -> Iterator[ClaimRecord]:
    """Every claim of every path, in input order, each exactly once."""
    position = 0
    for path in expand_paths(paths):
        for record in read_file(path):
            record.position = position
            position += 1
            yield record


def read_file(path: Path) -> Iterator[ClaimRecord]:
    """Every claim of one file, in order. A file that cannot be read is one Unreadable record; a
    failure part-way is one more Unreadable record after the claims already read, never an abort."""
    where = str(path)
    try:
        for record in _read_file(path, where):
            record.source = where
            yield record
    except Exception as err:
        text = " ".join(str(err).split())[:200]
        log.debug("reading %s failed", where, exc_info=True)
        yield ClaimRecord(where, where, error=f"{where}: reading stopped: {type(err).__name__}: {text}",
                          source=where)


def _read_file(path: Path, where: str) -> Iterator[ClaimRecord]:
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl"):
        # Streamed line by line: memory is bounded by the batch, not by the file.
        try:
            with path.open("rb") as handle:
                yield from read_ndjson(bounded_lines(handle), where)
        except OSError as err:
            yield ClaimRecord(where, where, error=f"{where}: cannot read: {err.strerror}")
        return
    try:
        with path.open("rb") as handle:
            # Bounded while reading: a file's reported size can lie (devices, files still growing).
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        yield ClaimRecord(where, where, error=f"{where}: cannot read: {err.strerror}")
        return
    if len(raw) > MAX_FILE_BYTES:
        yield ClaimRecord(where, where, error=f"{where}: file is larger than {MAX_FILE_BYTES >> 20} MiB")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        yield ClaimRecord(where, where, error=f"{where}: not UTF-8 text (byte {err.start}); save the file as UTF-8")
        return
    if "\x00" in text:
        yield ClaimRecord(where, where, error=f"{where}: a binary file, not claims")
        return
    if suffix == ".json":
        yield from read_json_document(text, where)
        return
    yield from read_rdf_text(text, RDF_SUFFIXES.get(suffix, "turtle"), where)
