"""The CDC's ICD-10-CM tabular XML (icd10cm_tabular_YYYY.xml, the file simple-icd-10-cm reads) as
the rows of an edition table: code, billable, parent, title.

The rows are the ones tools/gen_icd10cm_editions.py writes from simple-icd-10-cm, built the same
way: every <diag> is a code (categories have no parent; chapters and blocks are left out); a
<diag> without child <diag>s is billable unless a 7th-character definition (<sevenChrDef>, its own
or an ancestor's) applies, in which case each 7th character makes a billable child code, padded
with X to six characters (T85.79 -> T85.79XS), titled "<parent title>, <character meaning>". The
tabular file cannot say that a few codes take only some of the 7th characters; the CDC's code list
(icd10cm_codes_YYYY.txt, or the library's code list) can, and when given it keeps only the 7th-
character codes it lists.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cptkg.errors import InputError

ROOT_TAG = "ICD10CM.tabular"
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Tabular:
    """A tabular file read: its fiscal year (the <version> element) and its rows, sorted."""

    fiscal_year: int
    rows: list[tuple[str, str, str, str]]


def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _seven_characters(diag: ET.Element) -> dict[str, str]:
    """A <diag>'s own 7th-character definition: character -> meaning (notes joined with "/")."""
    definition = diag.find("sevenChrDef")
    out: dict[str, str] = {}
    if definition is None:
        return out
    last = None
    for child in definition:
        if child.tag == "extension" and child.get("char"):
            last = child.get("char", "")
            out[last] = child.text or ""
        elif child.tag == "note" and last is not None and child.text:
            # As simple-icd-10-cm joins them (whitespace is normalised in the title, not here), so
            # tables built either way agree: "type I or II/ initial encounter for open fracture NOS".
            out[last] += "/" + child.text
    return out


def _extended(code: str, character: str) -> str:
    padded = code + "." if len(code) == 3 else code
    return padded.ljust(7, "X") + character


def _rows(diag: ET.Element, parent: str, inherited: dict[str, str],
          confirmed: set[str] | None) -> Iterator[tuple[str, str, str, str]]:
    code = _text(diag.find("name"))
    if not code:
        raise InputError(f"a <diag> under {parent or 'a block'} has no <name>")
    title = _text(diag.find("desc"))
    seven = _seven_characters(diag) or inherited
    children = diag.findall("diag")
    extensions: list[tuple[str, str, str, str]] = []
    if not children and seven:
        for character, meaning in seven.items():
            extended = _extended(code, character)
            if confirmed is None or extended.replace(".", "") in confirmed:
                extensions.append((extended, "1", code, " ".join(f"{title}, {meaning}".split())))
    yield code, "0" if children or extensions else "1", parent, title
    yield from extensions
    for child in children:
        yield from _rows(child, code, seven, confirmed)


def confirmed_codes(lines: Iterable[str]) -> set[str]:
    """The codes of a code list, without dots: the CDC's order file (`00002 A000    1 Cholera...`,
    the code after the order number), its codes file (`A000    Cholera...`) or simple-icd-10-cm's
    list (`A00.0`). ICD-10-CM codes begin with a letter, order numbers are all digits."""
    out = set()
    for line in lines:
        words = line.split()
        if not words:
            continue
        code = words[1] if words[0].isdigit() and len(words) > 1 else words[0]
        out.add(code.replace(".", "").upper())
    return out


def read(data: bytes, name: str, confirmed: set[str] | None = None) -> Tabular:
    """The edition table of a tabular XML file; an InputError (one line) for anything else."""
    if _DOCTYPE.search(data[:4096]):
        raise InputError("a DOCTYPE or ENTITY declaration: refused (the CDC's file has none)", where=name)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise InputError(f"not well-formed XML ({err})", where=name) from None
    if root.tag != ROOT_TAG:
        raise InputError(f"not an ICD-10-CM tabular file: its root element is <{root.tag}>, "
                         f"not <{ROOT_TAG}>", where=name)
    version = _text(root.find("version"))
    if not re.fullmatch(r"\d{4}", version):
        raise InputError(f"its <version> is {version!r}, not a fiscal year such as 2026", where=name)
    rows: list[tuple[str, str, str, str]] = []
    for chapter in root.findall("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                rows.extend(_rows(diag, "", {}, confirmed))
    if not rows:
        raise InputError("it holds no <chapter>/<section>/<diag> codes", where=name)
    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise InputError(f"a tab or line break in {row[0]!r}", where=name)
    return Tabular(int(version), sorted(rows))
