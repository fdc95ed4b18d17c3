"""Build the ICD-10-CM edition tables in icd10cm/ from the releases of simple-icd-10-cm that carry
them, so validation can judge a diagnosis by the edition in force on its date of service without
importing the library (and parsing its XML) at run time.

    python tools/gen_icd10cm_editions.py [--wheels DIR]

Each release is fetched with `pip download` (a build step: nothing is fetched at run time), unpacked
in a temporary folder and read in a child process, so the releases never meet the installed
library. One table per edition, `icd10cm/<edition>.tsv.gz`, gzip without a timestamp (the same bytes
on every run): a header line, then one line per code (categories, subcategories and billable codes,
not chapters or blocks), sorted: code, billable (1 if a leaf), parent code (empty for a category),
NCHS title.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "icd10cm"

# edition id -> (simple-icd-10-cm release, first day in force, last day of its fiscal year).
# REFERENCE.md section 8: releases 1.0.x-1.2.x carry January 2021, 1.3.0/1.4.0 April 2025, 1.5.0
# April 2026. The fiscal year starts on October 1; an April update applies from April 1.
EDITIONS = {
    "2021-01": ("1.2.0", "2021-01-01", "2021-09-30"),
    "2025-04": ("1.4.0", "2025-04-01", "2025-09-30"),
    "2026-04": ("1.5.0", "2026-04-01", "2026-09-30"),
}
HEADER = "code\tbillable\tparent\ttitle"

DUMP = r"""
import json, sys
import simple_icd_10_cm as icd
rows = []
for code in icd.get_all_codes(True):
    if icd.is_chapter_or_block(code):
        continue
    parent = icd.get_parent(code)
    if parent and icd.is_chapter_or_block(parent):
        parent = ""
    title = " ".join(icd.get_description(code).split())
    rows.append([code, "1" if icd.is_leaf(code) else "0", parent or "", title])
json.dump(rows, sys.stdout)
"""


def wheel(version: str, folder: Path) -> Path:
    found = sorted(folder.glob(f"simple_icd_10_cm-{version}-*.whl"))
    if found:
        return found[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(folder),
                    f"simple-icd-10-cm=={version}"], check=True)
    return sorted(folder.glob(f"simple_icd_10_cm-{version}-*.whl"))[0]


def table(version: str, folder: Path) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel(version, folder)) as archive:
            archive.extractall(tmp)
        # -I: isolated, so the installed simple-icd-10-cm (and the user's site) stay out of it.
        done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {tmp!r})\n{DUMP}"],
                              check=True, capture_output=True, text=True)
    return sorted(json.loads(done.stdout))


def write(edition: str, rows: list[list[str]]) -> Path:
    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise SystemExit(f"{edition}: a tab or line break in {row!r}")
    body = "\n".join([HEADER, *("\t".join(row) for row in rows)]) + "\n"
    target = OUT / f"{edition}.tsv.gz"
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out:
        out.write(body.encode("utf-8"))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, default=None, help="a folder of downloaded release wheels")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.wheels or Path(tmp)
        index = {}
        for edition, (version, start, fiscal_year_end) in EDITIONS.items():
            rows = table(version, folder)
            target = write(edition, rows)
            index[edition] = {"release": f"simple-icd-10-cm {version}", "start": start,
                              "fiscalYearEnd": fiscal_year_end, "codes": len(rows),
                              "billable": sum(r[1] == "1" for r in rows)}
            print(f"{target.relative_to(ROOT)}: {len(rows)} codes", file=sys.stderr)
    (OUT / "editions.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
