"""`cptkg icd10cm add`: a CDC tabular XML file becomes an edition in the user's data folder, and
claims dated in its fiscal year are judged by it. The fixture is an excerpt written for these tests
in the CDC's layout (tests/fixtures/icd10cm/), standing for a FY2023 edition no release of
simple-icd-10-cm carries; its code list leaves out T84.7XXD to show that the list decides which
7th-character codes exist."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cptkg import cli
from cptkg.kg import editions, tabular
from tests.conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "icd10cm"
TABULAR = FIXTURES / "tabular-fy2023-excerpt.xml"
CODES = FIXTURES / "codes-fy2023-excerpt.txt"
EXCERPT_ROWS = [
    ("G35", "1", "", "Multiple sclerosis"),
    ("T07", "0", "", "Unspecified multiple injuries"),
    ("T07.XXXA", "1", "T07", "Unspecified multiple injuries, initial encounter"),
    ("T07.XXXD", "1", "T07", "Unspecified multiple injuries, subsequent encounter"),
    ("T07.XXXS", "1", "T07", "Unspecified multiple injuries, sequela"),
    ("T84", "0", "", "Complications of internal orthopedic prosthetic devices, implants and grafts"),
    ("T84.7", "0", "T84", "Infection and inflammatory reaction due to other internal orthopedic prosthetic "
     "devices, implants and grafts"),
    ("T84.7XXA", "1", "T84.7", "Infection and inflammatory reaction due to other internal orthopedic "
     "prosthetic devices, implants and grafts, initial encounter"),
    ("T84.7XXS", "1", "T84.7", "Infection and inflammatory reaction due to other internal orthopedic "
     "prosthetic devices, implants and grafts, sequela"),
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    editions.reload()
    yield tmp_path / "data"
    monkeypatch.undo()
    editions.reload()


def test_the_excerpt_read_with_its_code_list() -> None:
    read = tabular.read(TABULAR.read_bytes(), TABULAR.name,
                        tabular.confirmed_codes(CODES.read_text(encoding="utf-8").splitlines()))
    assert (read.fiscal_year, read.rows) == (2023, EXCERPT_ROWS)


def test_without_a_code_list_every_7th_character_makes_a_code() -> None:
    rows = tabular.read(TABULAR.read_bytes(), TABULAR.name).rows
    assert sorted(set(rows) - set(EXCERPT_ROWS)) == [
        ("T84.7XXD", "1", "T84.7", "Infection and inflammatory reaction due to other internal orthopedic "
         "prosthetic devices, implants and grafts, subsequent encounter")]


def test_the_three_layouts_of_a_code_list() -> None:
    assert tabular.confirmed_codes(["00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae",
                                    "A001    Cholera due to Vibrio cholerae 01, biovar eltor", "A00.9", ""]) \
        == {"A000", "A001", "A009"}


def _dated(tmp_path: Path, day: str) -> Path:
    """The diagnosis-edition example (T84.7XXA and G35), dated ``day``."""
    text = (ROOT / "examples" / "claims" / "diagnosis-edition_XFAIL.json").read_text(encoding="utf-8")
    target = tmp_path / f"claim-{day}.json"
    target.write_text(text.replace("2025-11-01", day), encoding="utf-8")
    return target


def _results(proc) -> list[tuple[str, str | None, str]]:
    data = json.loads(proc.stdout)
    return [(r["rule"], r["diagnosis"], r["message"]) for c in data["claims"] for r in c["results"]]


def test_an_added_edition_judges_the_claims_of_its_year(tmp_path: Path) -> None:
    env = {"CPTKG_DATA_DIR": str(tmp_path / "data")}
    claim = _dated(tmp_path, "2023-06-01")

    before = run_cli("validate", str(claim), "--format", "json", env=env)
    assert before.returncode == 0, before.stderr
    assert [(rule, dx) for rule, dx, _m in _results(before)] == [
        ("DiagnosisEditionMissing", "1"), ("DiagnosisEditionMissing", "2")]
    assert "cptkg icd10cm add TABULAR.xml" in _results(before)[0][2]

    added = run_cli("icd10cm", "add", str(TABULAR), "--codes", str(CODES), env=env)
    assert added.returncode == 0, added.stderr
    assert "added the ICD-10-CM edition 2022-10 (FY2023, in force 2022-10-01 to 2023-09-30): 9 codes, 6 billable" \
        in added.stderr
    assert (tmp_path / "data" / "icd10cm" / "2022-10.tsv.gz").is_file()

    after = run_cli("validate", str(claim), "--format", "json", env=env)
    assert (after.returncode, _results(after)) == (0, []), after.stderr

    listing = run_cli("data", env=env)
    assert f"data folder: {tmp_path / 'data'}" in listing.stdout
    assert "2022-10  FY2023, in force 2022-10-01 to 2023-09-30  9 codes (6 billable)  added: CDC tabular XML " \
           "tabular-fy2023-excerpt.xml with its code list" in listing.stdout
    shown = json.loads(run_cli("show", "20701", "--format", "json", env=env).stdout)
    assert [(e["edition"], e["origin"]) for e in shown["icd10cmEditions"]] == [
        ("2021-01", "packaged"), ("2022-10", "added"), ("2025-04", "packaged"), ("2026-04", "packaged")]

    removed = run_cli("icd10cm", "remove", "2022-10", env=env)
    assert removed.returncode == 0, removed.stderr
    again = run_cli("validate", str(claim), "--format", "json", env=env)
    assert [rule for rule, _dx, _m in _results(again)] == ["DiagnosisEditionMissing"] * 2


def test_a_code_the_added_edition_lacks_is_not_billable_in_it(data_dir: Path, tmp_path: Path) -> None:
    from cptkg.rules.validator import validate_paths

    editions.add(TABULAR.read_bytes(), TABULAR.name, codes=CODES.read_bytes())
    claim = _dated(tmp_path, "2023-06-01")
    claim.write_text(claim.read_text(encoding="utf-8").replace('"G35"', '"T84.7XXD"'), encoding="utf-8")
    report = validate_paths(str(claim))
    found = [(r.rule, r.diagnosis or f"line {r.line}", r.message) for c in report.claims for r in c.results]
    assert [(rule, where) for rule, where, _m in found] == [("DiagnosisCodeValid", "2"),
                                                            ("SeventhCharacterActiveTreatment", "line 2")]
    assert "T84.7XXD is not a billable code in ICD-10-CM October 2022 (FY2023)" in found[0][2]


def test_an_april_update_supersedes_its_october_release(data_dir: Path) -> None:
    editions.add(TABULAR.read_bytes(), TABULAR.name, codes=CODES.read_bytes())
    editions.add(TABULAR.read_bytes(), TABULAR.name, start=date(2023, 4, 1))

    assert [e.id for e in editions.editions()] == ["2021-01", "2022-10", "2023-04", "2025-04", "2026-04"]
    assert editions.deciding(date(2023, 3, 31))[0].id == "2022-10"  # type: ignore[union-attr]
    assert editions.deciding(date(2023, 4, 1))[0].id == "2023-04"  # type: ignore[union-attr]
    assert "T84.7XXD" in editions.table("2023-04") and "T84.7XXD" not in editions.table("2022-10")


@pytest.mark.parametrize(("args", "says"), [
    (["add", "README.md"], "README.md: not well-formed XML"),
    (["add", "pyproject.toml"], "pyproject.toml: not well-formed XML"),
    (["add", "no-such-file.xml"], "cannot read the tabular file no-such-file.xml"),
    (["add", str(TABULAR), "--codes", "no-such.txt"], "cannot read the code list no-such.txt"),
    (["add", str(TABULAR), "--start", "2023-13-01"], "--start takes a date as YYYY-MM-DD, not '2023-13-01'"),
    (["add", str(TABULAR), "--start", "2024-04-01"], "is the FY2023 edition (October 2022 to September 2023); "
                                                      "--start 2024-04-01 is outside that year"),
    (["remove", "2026-04"], "the 2026-04 edition is packaged with cptkg and cannot be removed"),
    (["remove", "2019-10"], "no added edition 2019-10 (added: none)"),
    ([], "the following arguments are required: ACTION"),
])
def test_bad_requests_are_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                   says: str) -> None:
    assert cli.main(["icd10cm", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not (data_dir / "icd10cm" / "editions.json").exists()


@pytest.mark.parametrize(("text", "says"), [
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
     "a DOCTYPE or ENTITY declaration: refused"),
    (b"<icd><version>2023</version></icd>", "not an ICD-10-CM tabular file: its root element is <icd>"),
    (b"<ICD10CM.tabular><version>FY23</version></ICD10CM.tabular>", "its <version> is 'FY23'"),
    (b"<ICD10CM.tabular><version>2023</version></ICD10CM.tabular>", "it holds no <chapter>/<section>/<diag> codes"),
    (b"<ICD10CM.tabular><version>2023</version><chapter><section><diag><desc>x</desc></diag></section></chapter>"
     b"</ICD10CM.tabular>", "a <diag> under a block has no <name>"),
])
def test_files_that_are_not_a_tabular_list(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           text: bytes, says: str) -> None:
    path = tmp_path / "tabular.xml"
    path.write_bytes(text)
    assert cli.main(["icd10cm", "add", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_an_edition_is_added_once_unless_replaced(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    assert cli.main(["icd10cm", "add", str(TABULAR), "--codes", str(CODES)]) == 0
    assert cli.main(["icd10cm", "add", str(TABULAR)]) == 2
    assert "the 2022-10 edition was added already" in capsys.readouterr().err
    assert cli.main(["icd10cm", "add", str(TABULAR), "--replace"]) == 0
    assert "T84.7XXD" in editions.table("2022-10")  # the replacement, read without the code list
    assert "no --codes file" in caplog.text
