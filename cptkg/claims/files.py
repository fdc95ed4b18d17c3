"""Claims from files, folders and standard input: which files a path names, what form each is in
(given by --input-format, else detected from the content and the file name), and every claim of
each in input order.

Forms: ``fhir`` (one FHIR JSON document: a Claim, ExplanationOfBenefit or Bundle; or JSON-LD),
``ndjson`` (one FHIR resource a line, streamed), ``x12`` (837P), and the claim-graph RDF forms
``turtle``, ``nt``, ``jsonld``, ``rdfxml``.
"""

from __future__ import annotations

import json
import logging
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cptkg.claims.fhir import bounded_lines, read_json_text, read_ndjson
from cptkg.claims.rdf import read_rdf_text
from cptkg.claims.record import ClaimRecord
from cptkg.errors import InputError

FORMS = ("fhir", "ndjson", "x12", "turtle", "jsonld", "nt", "rdfxml")
SUFFIX_FORMS = {
    ".json": "fhir", ".ndjson": "ndjson", ".jsonl": "ndjson", ".x12": "x12", ".837": "x12", ".edi": "x12",
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".ntriples": "nt", ".jsonld": "jsonld",
    ".json-ld": "jsonld", ".rdf": "rdfxml", ".owl": "rdfxml",
}
RDF_PARSERS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
EXPECTED = "FHIR JSON, NDJSON, X12 837P, Turtle, N-Triples, JSON-LD or RDF/XML"
STDIN = "-"
MAX_FILE_BYTES = 512 * 1024 * 1024
HEAD_BYTES = 64 * 1024

log = logging.getLogger(__name__)


def _regular_file(path: Path, given: str) -> Path:
    """A path that names a regular file: devices (/dev/zero reports size 0 and never ends), FIFOs
    and sockets are refused before anything is read."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise InputError(f"cannot read {given}: {err.strerror}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{given} is not a regular file (a device, FIFO or socket): give claim files or "
                         "folders, or - for standard input")
    return path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The claim files that the given paths name, folders walked in sorted order; ``-`` is
    standard input (once)."""
    out: list[Path] = []
    given = list(paths)
    if not given:
        raise InputError("no claim files given: name files or folders of claims, or - for standard input")
    if sum(str(raw) == STDIN for raw in given) > 1:
        raise InputError("- (standard input) is given twice: it can be read once")
    for raw in given:
        if str(raw).strip() == "":
            raise InputError("an empty path was given: name files or folders of claims")
        if str(raw) == STDIN:
            out.append(Path(STDIN))
            continue
        path = Path(raw)
        if path.is_dir():
            found = []
            for p in sorted(path.rglob("*")):
                if p.suffix.lower() not in SUFFIX_FORMS:
                    continue
                # A link out of the folder could disclose any file the user can read: refused.
                if p.is_symlink() and not _inside(p, path):
                    raise InputError(f"{p} is a symbolic link out of the folder {path}: "
                                     "cptkg reads only the folder's own files")
                # Anything else with a claim file's name (a FIFO, a device, a broken link) is
                # refused by name, as it is when given itself: a claim is never skipped unsaid.
                if not p.is_dir():
                    found.append(_regular_file(p, str(p)))
            if not found:
                suffixes = ", ".join(sorted(SUFFIX_FORMS))
                raise InputError(f"no claim files ({suffixes}) in folder {path}")
            out.extend(found)
        elif path.exists():
            out.append(_regular_file(path, str(path)))
        else:
            raise InputError(f"no such file or folder: {path}")
    return out


def check_form(form: str | None) -> str | None:
    if form is not None and form not in FORMS:
        raise InputError(f"unknown input format {form!r} (choose from {', '.join(FORMS)})")
    return form


def detect(head: bytes, name: str) -> str | None:
    """The form of a file from its first bytes and its name, or None when it is none of them."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    by_name = SUFFIX_FORMS.get(Path(name).suffix.lower())
    if text.startswith(b"ISA"):
        return "x12"
    if text.startswith((b"{", b"[")):
        if by_name in ("fhir", "ndjson", "jsonld"):
            return by_name
        return "ndjson" if _several_json_lines(text) else "fhir"
    if text.startswith((b"<?xml", b"<rdf:RDF")):
        return "rdfxml"
    if by_name is not None:
        return by_name  # the name says what it should be: its reader says what is wrong with it
    while text.startswith(b"#"):  # Turtle and N-Triples comments
        text = text.partition(b"\n")[2].lstrip()
    if text[:7].lower() in (b"@prefix", b"prefix ") or text[:5].lower() in (b"@base", b"base ") \
            or text.startswith((b"<", b"_:")):
        return "turtle"
    return None


def _several_json_lines(text: bytes) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except ValueError:
        return False
    return True


def read_paths(paths: Iterable[str | Path], form: str | None = None, *,
               fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """Every claim of every path, in input order, each exactly once; ``fhir_strict`` reads FHIR
    claims with fhir.resources (cptkg.claims.fhir)."""
    check_form(form)
    position = 0
    for path in expand_paths(paths):
        for record in read_file(path, form, fhir_strict=fhir_strict):
            record.position = position
            position += 1
            yield record


def read_file(path: Path, form: str | None = None, *, fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """Every claim of one file (or of standard input), in order. A file that cannot be read is one
    Unreadable record; a failure part-way is one more Unreadable record after the claims already
    read, never an abort."""
    source = str(path)
    try:
        if source == STDIN:
            yield from read_bytes(_read_bounded(sys.stdin.buffer, source), source, form, fhir_strict=fhir_strict)
            return
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            chosen = form or detect(head, source)
            handle.seek(0)
            if chosen == "ndjson":
                # Streamed line by line: memory is bounded by the batch, not by the file.
                yield from read_ndjson(bounded_lines(handle), source, fhir_strict=fhir_strict)
                return
            data = _read_bounded(handle, source)
        yield from read_bytes(data, source, chosen, fhir_strict=fhir_strict)
    except InputError as err:
        yield ClaimRecord.unreadable(source, str(err))
    except OSError as err:
        yield ClaimRecord.unreadable(source, f"{source}: cannot read: {err.strerror}")
    except Exception as err:
        text = " ".join(str(err).split())[:200]
        log.debug("reading %s failed", source, exc_info=True)
        yield ClaimRecord.unreadable(source, f"{source}: reading stopped: {type(err).__name__}: {text}")


def _read_bounded(handle: BinaryIO, source: str) -> bytes:
    # Bounded while reading: a file's reported size can lie (devices, files still growing, pipes).
    data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{source}: larger than {MAX_FILE_BYTES >> 20} MiB: split it, or use NDJSON")
    return data


def read_bytes(data: bytes, source: str, form: str | None = None, *,
               fhir_strict: bool = False) -> Iterator[ClaimRecord]:
    """Every claim of one input held in memory (a file's bytes, standard input, a Dask partition)."""
    if len(data) > MAX_FILE_BYTES:
        yield ClaimRecord.unreadable(source, f"{source}: larger than {MAX_FILE_BYTES >> 20} MiB: split it, "
                          "or use NDJSON")
        return
    form = form or detect(data[:HEAD_BYTES], source)
    if form is None:
        what = "an empty file" if not data.strip() else "not a claim file cptkg can read"
        yield ClaimRecord.unreadable(source, f"{source}: {what}: expected {EXPECTED} "
                          "(or say which with --input-format)")
        return
    if form == "ndjson":
        yield from read_ndjson(data.splitlines(keepends=True), source, fhir_strict=fhir_strict)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        yield ClaimRecord.unreadable(source, f"{source}: not UTF-8 text (byte {err.start}); save the file as UTF-8")
        return
    if "\x00" in text:
        yield ClaimRecord.unreadable(source, f"{source}: a binary file, not claims")
        return
    if form == "fhir":
        yield from read_json_text(text, source, fhir_strict=fhir_strict)
    elif form == "x12":
        from cptkg.claims.x12 import X12Error, read_x12_text

        try:
            yield from read_x12_text(text, source)
        except X12Error as err:
            yield ClaimRecord.unreadable(source, f"{source}: {err}")
    else:
        yield from read_rdf_text(text, RDF_PARSERS[form], source)
