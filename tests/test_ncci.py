"""CMS NCCI tables as dated data: `cptkg ncci import` reads CMS's PTP and MUE files (text and xlsx)
into the user's data folder, and the rules PTPEdit and MUEExceeded apply them by modifier
indicator, adjudication indicator and dates. The fixture files (tests/fixtures/ncci/) are in
CMS's layouts with MADE-UP code pairs and values, as their headers say: cptkg ships no edits."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cptkg import cli
from cptkg.claims import read_bytes
from cptkg.kg import ncci
from cptkg.rules.validator import Validator
from tests.conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "ncci"
PTP = FIXTURES / "ptp-practitioner-2025Q1.txt"
MUE = FIXTURES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv"
# 27301 on line 1 and +20701 on line 2, on 2025-03-04, by one surgeon.
BASE = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    ncci.import_file(PTP.read_bytes(), PTP.name)
    ncci.import_file(MUE.read_bytes(), MUE.name)
    return tmp_path / "data"


def claim(code: str = "20701", modifiers: tuple[str, ...] = (), quantity: int = 1, day: str = "2025-03-04",
          extra: tuple[dict, ...] = (), second_provider: bool = False) -> dict:
    out = copy.deepcopy(BASE)
    line = out["item"][1]
    line["productOrService"] = {"coding": [{"system": CPT, "code": code}]}
    line["quantity"] = {"value": quantity}
    if modifiers:
        line["modifier"] = [{"coding": [{"system": CPT, "code": m}]} for m in modifiers]
    for item in out["item"]:
        item["servicedDate"] = day
    for n, more in enumerate(extra, 3):
        out["item"].append({**copy.deepcopy(line), "sequence": n, **more})
    if second_provider:
        out["careTeam"].append({"sequence": 2, "provider": {"reference": "Practitioner/dr-other"},
                                "qualification": out["careTeam"][0]["qualification"]})
        line["careTeamSequence"] = [2]
    return out


def results(resource: dict, engine: str = "oxigraph") -> list[tuple[str, str | None]]:
    (record,) = read_bytes(json.dumps(resource).encode(), "claim.json")
    (report,) = Validator(engine=engine).validate([record])
    return sorted((r.rule, r.line) for r in report.results if r.rule in ("PTPEdit", "MUEExceeded"))


@pytest.mark.parametrize(("resource", "expected"), [
    (claim(), [("PTPEdit", "2")]),                                   # indicator 1, no modifier
    (claim(modifiers=("59",)), []),                                  # 59 bypasses indicator 1
    (claim(modifiers=("XS",)), []),
    (claim(modifiers=("XU",)), []),
    (claim(modifiers=("LT",)), []),                                  # an anatomic modifier too
    (claim(modifiers=("51",)), [("PTPEdit", "2")]),                   # not a distinct-service modifier
    (claim(code="20704"), [("PTPEdit", "2")]),                        # indicator 0
    (claim(code="20704", modifiers=("59",)), [("PTPEdit", "2")]),     # 0: no modifier bypasses it
    (claim(code="20703"), []),                                       # indicator 9: not applicable
    (claim(code="20700"), []),                                       # deleted 2024-12-31
    (claim(code="20705"), []),                                       # in effect from 2026-01-01
    (claim(second_provider=True), []),                               # another rendering provider
], ids=["mi1", "mi1-59", "mi1-XS", "mi1-XU", "mi1-LT", "mi1-51", "mi0", "mi0-59", "mi9", "deleted", "not-yet",
        "other-provider"])
def test_ptp_edits(imported: Path, resource: dict, expected: list) -> None:
    assert results(resource) == expected


@pytest.mark.parametrize(("resource", "expected"), [
    (claim(quantity=2), [("MUEExceeded", "2"), ("PTPEdit", "2")]),          # MAI 1: 2 units on a line > 1
    (claim(quantity=1, extra=({"quantity": {"value": 1}},)), [("PTPEdit", "2"), ("PTPEdit", "3")]),  # MAI 1 per line
    (claim(code="20705", quantity=1, extra=({"quantity": {"value": 1}},)), [("MUEExceeded", "2")]),  # MAI 2: per date
    (claim(code="20705", quantity=1), []),
    (claim(code="20703", quantity=2, extra=({"quantity": {"value": 1}},)), [("MUEExceeded", "2")]),  # MAI 3: 3 > 2
    (claim(code="20703", quantity=2), []),
    (claim(quantity=2, day="2024-06-04"), [("PTPEdit", "2")]),             # outside the MUE's quarter
])
def test_medically_unlikely_edits(imported: Path, resource: dict, expected: list) -> None:
    assert results(resource) == expected


def test_an_edit_pairs_the_lines_of_one_claim_only(imported: Path) -> None:
    """PTPEdit pairs a line with a column 1 code on its own claim: the pair split over two claims of
    one batch (no care team on either, so no provider tells them apart) is no edit."""
    column2 = claim_without_care_team()
    del column2["item"][0]                                   # +20701 alone
    column1 = claim_without_care_team(code="20702")          # 27301 and +20702: no edit between those
    column1["id"] = "other-claim"
    ndjson = b"\n".join(json.dumps(r).encode() for r in (column2, column1))
    reports = Validator().validate(list(read_bytes(ndjson, "claims.ndjson")))
    assert [[(r.rule, r.line) for r in report.results if r.rule == "PTPEdit"] for report in reports] == [[], []]
    # The PASS twin: the same two codes on one claim without care teams are the edit.
    assert results(claim_without_care_team()) == [("PTPEdit", "2")]


def claim_without_care_team(**changes: str) -> dict:
    resource = claim(**changes)  # type: ignore[arg-type]
    del resource["careTeam"]
    for item in resource["item"]:
        item.pop("careTeamSequence", None)
    return resource


def test_both_engines_agree(imported: Path) -> None:
    for resource in (claim(), claim(quantity=2), claim(code="20705", extra=({"quantity": {"value": 1}},)),
                     claim(modifiers=("XS",))):
        assert results(resource, "pyshacl") == results(resource)


def test_the_message_says_what_to_do(imported: Path) -> None:
    (record,) = read_bytes(json.dumps(claim(code="20704")).encode(), "claim.json")
    (report,) = Validator().validate([record])
    (ptp,) = [r for r in report.results if r.rule == "PTPEdit"]
    assert ptp.message.startswith("20704 is the column 2 code of a CMS NCCI procedure-to-procedure edit with 27301 "
                                  "(line 1, same date and provider; modifier indicator 0): the two are never paid")


def test_no_tables_no_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "empty"))
    assert results(claim(quantity=5)) == []
    assert not (tmp_path / "empty").exists()  # reading never creates the data folder


def test_xlsx_and_reimport(imported: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["TEST FIXTURE in the layout of the CMS MUE file: MADE-UP values, not CMS MUEs."])
    sheet.append(["HCPCS/CPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator", "MUE Rationale"])
    sheet.append(["20702", 1, "1 Line Edit", "Made-up value for tests"])
    path = imported.parent / "mue-2025Q2.xlsx"
    book.save(path)
    done = ncci.import_file(path.read_bytes(), path.name)
    assert (done.kind, done.quarter, done.rows) == ("mue", "2025Q2", 1)
    again = ncci.import_file(PTP.read_bytes(), PTP.name)  # the same file again replaces its rows
    assert again.rows == 5
    assert [(i.quarter, i.kind, i.rows) for i in ncci.imports()] == [
        ("2025Q1", "mue", 3), ("2025Q1", "ptp", 5), ("2025Q2", "mue", 1)]
    assert results(claim(code="20702", quantity=2, day="2025-05-01")) == [("MUEExceeded", "2")]


def test_cli_import_list_and_data(tmp_path: Path) -> None:
    env = {"CPTKG_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("ncci", "import", str(PTP), str(MUE), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "imported 5 PTP rows of ptp-practitioner-2025Q1.txt for 2025Q1" in proc.stderr
    listing = run_cli("ncci", "list", env=env).stdout
    assert "2025Q1  MUE  3 rows  from MCR_MUE_PractitionerServices_Eff_01-01-2025.csv" in listing
    assert "CMS NCCI tables imported: 2" in run_cli("data", env=env).stdout


@pytest.mark.parametrize(("text", "name", "says"), [
    (b"a\tb\tc\td\n1\t2\t3\t4\n", "odd-2025Q1.txt", "neither a CMS PTP edit file"),
    (PTP.read_bytes().replace(b"20200101\t*\t1", b"2020-13-01\t*\t1"), "ptp-2025Q1.txt",
     "row 4: effective date '2020-13-01' is not a date"),
    (PTP.read_bytes().replace(b"\t1\tMade", b"\t7\tMade", 1), "ptp-2025Q1.txt",
     "modifier indicator '7' is not 0, 1 or 9"),
    (MUE.read_bytes().replace(b'"1 Line Edit"', b'"Line Edit"'), "mue-2025Q1.csv",
     "MUE adjudication indicator 'Line Edit' is not 1, 2 or 3"),
    (PTP.read_bytes(), "ptp-practitioner.txt", "cannot tell which quarter it is from its name: give --quarter"),
])
def test_bad_files_are_exit_2_naming_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], text: bytes, name: str,
                                            says: str) -> None:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / name
    path.write_bytes(text)
    assert cli.main(["ncci", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert ncci.imports() == []


def test_a_line_is_never_paired_with_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit naming one code in both columns (MADE UP here) pairs two lines of that code, never a
    line with itself."""
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    text = PTP.read_text(encoding="utf-8") + "20702\t20702\t\t20200101\t*\t0\tMade-up self pair for tests\n"
    ncci.import_file(text.encode(), PTP.name)
    one = claim(code="20702")
    two = claim(code="20702", extra=({},))
    assert results(one) == []
    assert results(two) == [("PTPEdit", "2"), ("PTPEdit", "3")]
