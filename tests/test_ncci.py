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
from tests.conftest import MUE, NCCI_FIXTURES, PTP, ROOT, run_cli

# 27301 on line 1 and +20701 on line 2, on 2025-03-04, by one surgeon.
BASE = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
CPT = "http://www.ama-assn.org/go/cpt"


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


# ---------------------------------------------------------------- CMS add-on code (AOC) edits

AOC_TEXT = NCCI_FIXTURES / "AOC_V2025Q1-MCR.txt"
AOC_XLSX = NCCI_FIXTURES / "AOC_V2025Q1-MCR.xlsx"
AOC_RULES = ("AOCType1PrimaryListed", "AOCType3PrimaryListed", "AddOnRequiresPrimary", "AddOnPrimaryListed")


def aoc_claim(name: str, addon: str, primary: str, day: str = "2025-03-04", second_provider: bool = False,
              more: tuple[str, ...] = ()) -> dict:
    """BASE with line 1 the primary and line 2 the add-on (and lines of ``more`` codes after them)."""
    out = claim(code=addon, day=day, second_provider=second_provider)
    out["id"] = name
    out["item"][0]["productOrService"] = {"coding": [{"system": CPT, "code": primary}]}
    for n, code in enumerate(more, 3):
        out["item"].append({**copy.deepcopy(out["item"][0]), "sequence": n,
                            "productOrService": {"coding": [{"system": CPT, "code": code}]}})
    return out


# Made-up edits (the fixtures' rows): 20700 Type 1 with 27301, 11043, 11044 (deleted 2024-12-31)
# and 27447 (which the graph's list from CPT guidance does not hold); 20701 Type 2; 20702 Type 1
# from 2026; 20703 Type 1, the add-on deleted 2024-12-31; 20704 Type 1, the edit deleted
# 2022-12-31; 20705 Type 3 with 27310; 11045 Type 1 with 11042.
# Each XFAIL differs from its PASS twin in one respect. (claim, rule, line, severity) of the AOC rules.
AOC_CASES: list[tuple[dict, list[tuple[str, str, str]]]] = [
    (aoc_claim("type1-PASS", "20700", "27301"), []),
    # 27603 is a primary of +20700 in the graph (CPT guidance) and not in the AOC file: CMS's rule speaks.
    (aoc_claim("type1-graph-only-XFAIL", "20700", "27603"), [("AOCType1PrimaryListed", "2", "Violation")]),
    # 27447 is in the AOC file and not in the graph's list: the graph's rule speaks, naming CMS's file.
    (aoc_claim("cms-only-primary-XFAIL", "20700", "27447"), [("AddOnPrimaryListed", "2", "Violation")]),
    (aoc_claim("type1-other-provider-XFAIL", "20700", "27301", second_provider=True),
     [("AOCType1PrimaryListed", "2", "Violation"), ("AddOnRequiresPrimary", "2", "Violation")]),
    (aoc_claim("type1-primary-in-effect-PASS", "20700", "11044", day="2024-06-03"), []),
    (aoc_claim("type1-primary-deleted-XFAIL", "20700", "11044"), [("AOCType1PrimaryListed", "2", "Violation")]),
    (aoc_claim("type2-PASS", "20701", "27301"), []),
    (aoc_claim("type2-XFAIL", "20701", "99213"), [("AddOnRequiresPrimary", "2", "Violation")]),
    (aoc_claim("type3-PASS", "20705", "27310"), []),
    (aoc_claim("type3-XFAIL", "20705", "27301"), [("AOCType3PrimaryListed", "2", "Warning")]),
    (aoc_claim("addon-deleted-PASS", "20703", "11010"), []),
    (aoc_claim("addon-in-effect-XFAIL", "20703", "11010", day="2024-06-03"),
     [("AOCType1PrimaryListed", "2", "Violation")]),
    (aoc_claim("edit-not-yet-PASS", "20702", "11010"), []),
    (aoc_claim("edit-in-effect-XFAIL", "20702", "11010", day="2026-02-02"),
     [("AOCType1PrimaryListed", "2", "Violation")]),
    (aoc_claim("edit-deleted-PASS", "20704", "11010"), []),
    (aoc_claim("edit-before-deletion-XFAIL", "20704", "11010", day="2021-06-01"),
     [("AOCType1PrimaryListed", "2", "Violation")]),
    # Any add-on code the file lists on a judged claim, not only the family: +11045 without 11042.
    (aoc_claim("other-addon-PASS", "20701", "27301", more=("11045", "11042")), []),
    (aoc_claim("other-addon-XFAIL", "20701", "27301", more=("11045",)), [("AOCType1PrimaryListed", "3", "Violation")]),
]


def aoc_reports(engine: str, cases: list[dict] | None = None) -> dict[str, list]:
    resources = cases if cases is not None else [c for c, _e in AOC_CASES]
    records = [r for resource in resources for r in read_bytes(json.dumps(resource).encode(), f"{resource['id']}.json")]
    return {report.claim: [r for r in report.results if r.rule in AOC_RULES]
            for report in Validator(engine=engine).validate(records)}


@pytest.fixture
def aoc_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    ncci.import_file(AOC_TEXT.read_bytes(), AOC_TEXT.name)
    return tmp_path / "data"


def test_the_aoc_file_in_both_layouts_reads_the_same_checked_rows() -> None:
    kind, text_rows = ncci.read_file(AOC_TEXT.read_bytes(), AOC_TEXT.name)
    assert kind == "aoc" and len(text_rows) == 10
    assert ncci.read_file(AOC_XLSX.read_bytes(), AOC_XLSX.name) == ("aoc", text_rows)
    # Julian dates (YYYYDDD) to calendar dates; CCCCC (contractor-defined) is no primary; empty is none.
    assert text_rows[2] == ("20700", "11044", 1, "2020-01-01", None, None, "2024-12-31",
                            "Made-up row for tests (primary deleted 2024-12-31)")
    assert text_rows[4][:3] == ("20701", None, 2)
    assert text_rows[6][5] == "2024-12-31" and text_rows[7][4] == "2022-12-31"


@pytest.mark.parametrize("engine", ["duckdb", "oxigraph"])
def test_aoc_rules_fire_on_the_lines_they_should(aoc_imported: Path, engine: str) -> None:
    reports = aoc_reports(engine)
    got = {claim: sorted((r.rule, r.line, r.severity) for r in found) for claim, found in reports.items()}
    assert got == {c["id"]: sorted(expected) for c, expected in AOC_CASES}
    # the result is the add-on line's: its focus node
    assert [r.focus for r in reports["other-addon-XFAIL"]] == [
        "urn:cptkg:claim:other-addon-XFAIL.json::other-addon-XFAIL/item/3"]


def test_aoc_messages_name_the_add_on_the_type_and_the_primaries(aoc_imported: Path) -> None:
    reports = aoc_reports("oxigraph")
    (graph_only,) = reports["type1-graph-only-XFAIL"]
    assert graph_only.message == (
        "20700 is a Type 1 add-on code in CMS's add-on code edit file (2025Q1): Medicare pays it only with one of "
        "its 3 listed primary codes (11043 ... 27447) on the same claim, date of service and rendering provider, "
        "and none is here (CPT guidance, as the graph holds it, lists 27603 on this claim as a primary of 20700; "
        "for Medicare, CMS's file decides): report it with the listed primary it was performed with, or correct "
        "the code.")
    (cms_only,) = reports["cms-only-primary-XFAIL"]
    assert cms_only.message.endswith("lists them); CMS's add-on code edit file (2025Q1) lists 27447 on this claim "
                                     "as one of its primaries: for Medicare, CMS's file decides.")
    (deleted,) = reports["type1-primary-deleted-XFAIL"]
    assert "its 3 listed primary codes (11043 ... 27447)" in deleted.message  # 11044 deleted by then
    (other,) = reports["other-addon-XFAIL"]
    assert "its 1 listed primary codes (11042)" in other.message
    (type3,) = reports["type3-XFAIL"]
    assert type3.message.startswith("20705 is a Type 3 add-on code in CMS's add-on code edit file (2025Q1): none "
                                    "of its 1 listed primary codes (27310)")
    assert "contractors may allow other primaries" in type3.message
    (type2,) = reports["type2-XFAIL"]
    assert type2.message.endswith("; a removal performed with no primary procedure is reported with 20680 instead; "
                                  "CMS's add-on code edit file lists it as Type 2: CMS names no primary codes for it "
                                  "and leaves the list to the contractor.")


def test_without_an_aoc_file_no_aoc_rule_fires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "empty"))
    reports = aoc_reports("oxigraph")
    assert {claim: [r.rule for r in found] for claim, found in reports.items() if found} == {
        "type1-other-provider-XFAIL": ["AddOnRequiresPrimary"], "type2-XFAIL": ["AddOnRequiresPrimary"],
        "cms-only-primary-XFAIL": ["AddOnPrimaryListed"]}
    assert "Type 2" not in reports["type2-XFAIL"][0].message
    assert reports["cms-only-primary-XFAIL"][0].message.endswith("lists them).")


def test_aoc_facts_enter_the_rules_graph_for_the_batchs_add_on_codes_only(aoc_imported: Path) -> None:
    facts = ncci.facts_for({"20700", "27301"})
    from cptkg.kg.namespaces import CPTKG

    addons = {str(o).rsplit("/", 1)[-1] for _s, p, o in facts if p == CPTKG.aocAddOnCode}
    assert addons == {"20700"}  # 27301 is a primary: the edits naming it as one are not needed
    assert sum(1 for _s, p, _o in facts if p == CPTKG.aocPrimaryCode) == 4
    assert ncci.facts_for({"99213"}) == []


def test_aoc_reimport_replaces_and_the_latest_file_decides(aoc_imported: Path) -> None:
    again = ncci.import_file(AOC_XLSX.read_bytes(), AOC_TEXT.name)  # the same file name and period
    assert [(i.quarter, i.kind, i.rows) for i in ncci.imports()] == [("2025Q1", "aoc", 10)]
    assert again.rows == 10
    # A later file in which +20700 lists 27603 too: the latest file's rows are the ones read.
    later = AOC_TEXT.read_text(encoding="utf-8").replace(
        "20700        11043", "20700        27603", 1)
    ncci.import_file(later.encode(), "AOC_V2025Q2-MCR.txt")
    assert [(i.quarter, i.kind) for i in ncci.imports()] == [("2025Q1", "aoc"), ("2025Q2", "aoc")]
    reports = aoc_reports("oxigraph", [aoc_claim("type1-graph-only-XFAIL", "20700", "27603")])
    assert reports == {"type1-graph-only-XFAIL": []}


def test_aoc_cli_import_list_and_data(tmp_path: Path) -> None:
    env = {"CPTKG_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("ncci", "import", str(AOC_TEXT), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "imported 10 AOC rows of AOC_V2025Q1-MCR.txt for 2025Q1" in proc.stderr
    assert "2025Q1  AOC  10 rows  from AOC_V2025Q1-MCR.txt" in run_cli("ncci", "list", env=env).stdout
    assert "2025Q1  AOC  10 rows  from AOC_V2025Q1-MCR.txt" in run_cli("data", env=env).stdout


AOC_LINE = b"20705        27310         3                                               2020001"


@pytest.mark.parametrize(("change", "says"), [
    (b"20705        27310         7", "row 12: AOC edit type '7' is not 1, 2 or 3"),
    (b"207?5        27310         3", "row 12: add-on code '207?5' is not a CPT/HCPCS code"),
    (AOC_LINE.replace(b"2020001", b"2020400"), "row 12: AOC edit effective date '2020400' is not a Julian date"),
    (AOC_LINE.replace(b"2020001", b"       "), "row 12: AOC edit effective date is empty"),
    (b"20705        CCCCC         3", "row 12: primary code 'CCCCC' is not a CPT/HCPCS code (a Type 3 add-on code"),
    (b"20705        27310         2", "row 12: a Type 2 add-on code lists no primary (CCCCC), not '27310'"),
])
def test_a_bad_aoc_row_is_exit_2_naming_the_file_and_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], change: bytes,
                                                          says: str) -> None:
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    text = AOC_TEXT.read_bytes()
    assert AOC_LINE in text
    path = tmp_path / AOC_TEXT.name
    path.write_bytes(text.replace(AOC_LINE, change + AOC_LINE[len(change):], 1))
    assert cli.main(["ncci", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"cptkg: error: {path}: row 12: ") and says in err[0], err
    assert ncci.imports() == []


def test_a_bad_aoc_xlsx_row_names_the_file_and_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    book = openpyxl.load_workbook(AOC_XLSX)
    book.active["F4"] = 2020999  # row 4: the second edit's effective date
    path = tmp_path / "AOC_V2025Q1-MCR.xlsx"
    book.save(path)
    with pytest.raises(Exception) as caught:
        ncci.import_file(path.read_bytes(), path.name)
    assert str(caught.value) == ("AOC_V2025Q1-MCR.xlsx: row 4: AOC edit effective date '2020999' is not a Julian "
                                 "date (YYYYDDD, day 001 to 365 or 366)")


@pytest.mark.slow
def test_aoc_rules_agree_on_every_engine(aoc_imported: Path) -> None:
    """The differential test for the AOC rules: pySHACL, Oxigraph and DuckDB give the same results
    (rule, line, severity, message) on every PASS/XFAIL claim above."""
    def comparable(reports: dict[str, list]) -> dict[str, list]:
        return {c: sorted((r.rule, r.line, r.severity, r.message) for r in found) for c, found in reports.items()}

    reference = comparable(aoc_reports("pyshacl"))
    assert reference == comparable(aoc_reports("oxigraph")) == comparable(aoc_reports("duckdb"))
    assert sum(len(found) for found in reference.values()) == sum(len(expected) for _c, expected in AOC_CASES) == 11
