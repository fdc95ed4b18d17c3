"""ICD-10-CM editions (icd10cm/): the checked-in tables agree with simple-icd-10-cm of their release,
are byte-stable, and the edition that decides a date of service is the one its rules say."""

from __future__ import annotations

import random
from datetime import date
from importlib import metadata

import pytest

from cptkg.kg import editions, resources


def test_three_editions_oldest_first() -> None:
    loaded = editions.editions()
    assert [e.id for e in loaded] == ["2021-01", "2025-04", "2026-04"]
    assert [e.release for e in loaded] == ["simple-icd-10-cm 1.2.0", "simple-icd-10-cm 1.4.0",
                                           "simple-icd-10-cm 1.5.0"]


def test_g35_became_a_category_in_fy2026() -> None:
    # REFERENCE.md section 8: G35 is billable in April 2025 and a category in April 2026.
    assert editions.table("2021-01")["G35"].billable
    assert editions.table("2025-04")["G35"].billable
    april_2026 = editions.table("2026-04")
    assert not april_2026["G35"].billable
    assert any(code.startswith("G35") and facts.billable and facts.parent == "G35"
               for code, facts in april_2026.items())


# Categories that share their name with a block: simple-icd-10-cm files them as blocks and leaves
# them out (and names no parent for their children); the tables, read from the tabular file, hold them.
BLOCK_NAMED = {"B10", "B20", "B99", "C50", "C7A", "C7B", "D3A", "D49", "D78", "E36", "E89", "F99", "H59",
               "H95", "J95", "L76", "M04", "M95", "M96", "M97", "M99", "N99", "O09", "P09", "P84", "QA0",
               "R97", "R99", "T07", "T14", "T79", "X50", "Z16", "Z17", "Z18", "Z19", "Z66", "Z67", "Z68"}


def _installed_library_edition() -> tuple[object, str]:
    icd = pytest.importorskip("simple_icd_10_cm")
    edition = {"1.2.0": "2021-01", "1.4.0": "2025-04", "1.5.0": "2026-04"}.get(metadata.version("simple-icd-10-cm"))
    if edition is None:
        pytest.skip("the installed simple-icd-10-cm has no table here")
    return icd, edition


def test_the_installed_release_agrees_with_its_table() -> None:
    icd, edition = _installed_library_edition()
    table = editions.table(edition)
    for code in random.Random(20701).sample(sorted(set(table) - BLOCK_NAMED), 400):
        parent = icd.get_parent(code)  # type: ignore[attr-defined]
        if parent and icd.is_chapter_or_block(parent):  # type: ignore[attr-defined]
            parent = None
        ours = table[code].parent if table[code].parent not in BLOCK_NAMED else None
        assert (table[code].billable, ours, table[code].title) == (
            bool(icd.is_leaf(code)), parent or None,  # type: ignore[attr-defined]
            " ".join(icd.get_description(code).split())), code  # type: ignore[attr-defined]
    assert {c for c in BLOCK_NAMED if c in table} == BLOCK_NAMED & set(table)
    assert not any(icd.is_valid_item(c) and not icd.is_chapter_or_block(c)  # type: ignore[attr-defined]
                   for c in BLOCK_NAMED)


def test_the_reader_of_cptkg_icd10cm_add_rebuilds_the_packaged_table() -> None:
    """The library's own tabular file and code list, read by cptkg.kg.tabular (the reader of
    `cptkg icd10cm add`), give the packaged table row for row."""
    from importlib import resources as importlib_resources

    from cptkg.kg import tabular

    _icd, edition = _installed_library_edition()
    data = importlib_resources.files("simple_icd_10_cm") / "data"
    xml = next(f for f in data.iterdir() if f.name.endswith(".xml"))
    listing = next(f for f in data.iterdir() if f.name.endswith(".txt"))
    read = tabular.read(xml.read_bytes(), xml.name,
                        tabular.confirmed_codes(listing.read_text(encoding="utf-8").splitlines()))
    packaged = editions.table(edition)
    assert len(read.rows) == len(packaged)
    assert all(packaged[code] == editions.CodeFacts(billable == "1", parent or None, title)
               for code, billable, parent, title in read.rows)


@pytest.mark.parametrize("edition", ["2021-01", "2025-04", "2026-04"])
def test_categories_named_like_blocks_are_in_every_table(edition: str) -> None:
    # B20 (HIV disease), F99, R99 and Z66 are billable codes; M96 and T79 categories with children.
    table = editions.table(edition)
    assert all(table[code].billable for code in ("B20", "F99", "R99", "Z66"))
    assert not table["M96"].billable and table["M96.0"].parent == "M96"
    assert not table["T79"].billable and table["T79.A0XA"].parent == "T79.A0"


@pytest.mark.parametrize(("day", "decides", "consulted"), [
    (date(2025, 3, 4), "2025-04", ["2025-04"]),  # FY2025: its April update decides
    (date(2025, 11, 1), "2026-04", ["2026-04"]),  # FY2026
    (date(2026, 5, 1), "2026-04", ["2026-04"]),  # covered
    (date(2021, 6, 30), "2021-01", ["2021-01"]),
    (date(2019, 6, 4), None, ["2021-01"]),  # before every edition: the nearest after is consulted
    (date(2023, 6, 1), None, ["2021-01", "2025-04"]),
    (date(2027, 1, 5), None, ["2026-04"]),
])
def test_the_edition_that_decides_a_date(day: date, decides: str | None, consulted: list[str]) -> None:
    edition, seen = editions.deciding(day)
    assert (edition.id if edition else None, [e.id for e in seen]) == (decides, consulted)


def test_tables_are_byte_stable() -> None:
    for edition in editions.editions():
        raw = resources.data_root().joinpath("icd10cm", f"{edition.id}.tsv.gz").read_bytes()
        assert raw[4:8] == b"\x00\x00\x00\x00"  # gzip without a timestamp: the same bytes every build


def test_validation_does_not_import_simple_icd_10_cm(root) -> None:
    """The point of the tables: judging a claim's diagnoses costs no XML parse of the library."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from cptkg.rules.validator import validate_paths\n"
            f"report = validate_paths({str(root / 'examples' / 'claims' / 'diagnosis-edition_XFAIL.json')!r})\n"
            "assert [r.rule for c in report.claims for r in c.results] == ['DiagnosisCodeValid']\n"
            "assert 'simple_icd_10_cm' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _generator():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "gen_icd10cm_editions.py"
    spec = importlib.util.spec_from_file_location("gen_icd10cm_editions", str(path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("edition", ["2021-01", "2025-04", "2026-04"])
def test_each_checked_in_table_is_its_release(edition: str) -> None:
    """Every packaged table, row for row, is what the reader makes of its release's tabular file,
    and simple-icd-10-cm of that release (run apart, in a child process) agrees on a sample of
    codes. `make test` downloads the releases into .cache/wheels (CPTKG_ICD10CM_WHEELS)."""
    import os
    from pathlib import Path

    folder = os.environ.get("CPTKG_ICD10CM_WHEELS")
    if not folder:
        pytest.skip("CPTKG_ICD10CM_WHEELS is not set (make test downloads the releases)")
    generator = _generator()
    version = generator.EDITIONS[edition][0]
    (wheel,) = sorted(Path(folder).glob(f"simple_icd_10_cm-{version}-*.whl"))
    rows = generator.read_wheel(wheel).rows
    table = editions.table(edition)
    assert len(rows) == len(table)
    assert all(table[code] == editions.CodeFacts(billable == "1", parent or None, title)
               for code, billable, parent, title in rows)
    generator.check_against_the_library(wheel, rows)  # raises SystemExit on a disagreement
