"""Write the test fixtures of CMS's add-on code (AOC) edit file, in its two layouts (fixed-width
text and xlsx), from one list of MADE-UP rows: tests/fixtures/ncci/AOC_V2025Q1-MCR.txt and .xlsx.

The rows pair real code numbers as no CMS file is known to: they test the importer and the AOC
rules, and say so in the files' first lines. Run `python tools/gen_aoc_fixtures.py` after editing.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "ncci"
NOTE = ("TEST FIXTURE written for cptkg tests in the layout of the CMS add-on code (AOC) edit file: "
        "the rows below are MADE UP, not CMS edits.")
COPYRIGHT = "CPT only copyright 2025 American Medical Association. All rights reserved."
# The text file's titles, and the xlsx's (as CMS's spreadsheet names its columns).
TITLES = ["Add-On Code", "Primary Code", "AOC Edit Type", "AOC Del Dt", "Primary Code Del Dt",
          "AOC Edit Eff Dt", "AOC Edit Del Dt", "Special Instruction Notes"]
XLSX_TITLES = ["ADD_ON_CODE", "PRIMARY_CODE", "AOC_EDIT_TYPE", "AOC_DEL_DT_JULIAN", "PRIMARY_CODE_DEL_DT_JULIAN",
               "AOC_EDIT_EFF_DT_JULIAN", "AOC_EDIT_DEL_DT_JULIAN", "SPECIAL_INSTRUCTION_NOTES"]
# add-on, primary, type, add-on deleted, primary deleted, edit effective, edit deleted, notes (Julian YYYYDDD)
ROWS = [
    ("20700", "27301", "1", "", "", "2020001", "", "Made-up row for tests"),
    ("20700", "11043", "1", "", "", "2020001", "", "Made-up row for tests"),
    ("20700", "11044", "1", "", "2024366", "2020001", "", "Made-up row for tests (primary deleted 2024-12-31)"),
    ("20700", "27447", "1", "", "", "2020001", "", "Made-up row for tests (a primary the graph does not list)"),
    ("20701", "CCCCC", "2", "", "", "2020001", "", "Made-up row for tests (contractor-defined primaries)"),
    ("20702", "27301", "1", "", "", "2026001", "", "Made-up row for tests (in effect from 2026-01-01)"),
    ("20703", "27301", "1", "2024366", "", "2020001", "", "Made-up row for tests (add-on deleted 2024-12-31)"),
    ("20704", "27301", "1", "", "", "2020001", "2022365", "Made-up row for tests (edit deleted 2022-12-31)"),
    ("20705", "27310", "3", "", "", "2020001", "", "Made-up row for tests"),
    ("11045", "11042", "1", "", "", "2020001", "", "Made-up row for tests"),
]


def text() -> str:
    widths = [max(len(TITLES[i]), *(len(r[i]) for r in ROWS)) + 2 for i in range(len(TITLES))]
    lines = [NOTE, COPYRIGHT, "".join(t.ljust(w) for t, w in zip(TITLES, widths, strict=True)).rstrip()]
    lines += ["".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in ROWS]
    return "\n".join(lines) + "\n"


def workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "AOC"
    sheet.append([NOTE])
    sheet.append(XLSX_TITLES)
    for row in ROWS:
        # Codes as text, the type and dates as numbers (as a spreadsheet holds them), empty cells empty.
        sheet.append([row[0], row[1], int(row[2]), *[int(v) if v else None for v in row[3:7]], row[7]])
    # A fixed timestamp keeps the file byte-stable between runs.
    import datetime

    book.properties.created = book.properties.modified = datetime.datetime(2025, 1, 1)
    book.save(path)


if __name__ == "__main__":
    (OUT / "AOC_V2025Q1-MCR.txt").write_text(text(), encoding="utf-8")
    workbook(OUT / "AOC_V2025Q1-MCR.xlsx")
    print(f"wrote {len(ROWS)} made-up rows in both layouts to {OUT}")
