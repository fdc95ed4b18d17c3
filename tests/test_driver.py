"""The validation driver's own rules, held without a graph: a lone unreadable claim is bad input
(for records and for reports made on a cluster), several claims are each reported, and --output
replaces its target only when the block finished."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cptkg.claims import ClaimRecord
from cptkg.errors import InputError, UnreadableInput
from cptkg.report.model import UNREADABLE, ClaimReport, Result
from cptkg.rules import driver


def _bad(name: str) -> ClaimRecord:
    return ClaimRecord.unreadable(name, f"{name}: not UTF-8 text")


def test_a_lone_unreadable_record_is_bad_input_before_anything_else_is_read() -> None:
    taken = []

    def records() -> Iterator[ClaimRecord]:
        for record in (_bad("a.json"),):
            taken.append(record)
            yield record

    with pytest.raises(UnreadableInput, match=r"^a\.json: not UTF-8 text$"):
        driver.refuse_lone_unreadable(records())
    assert len(taken) == 1


def test_an_unreadable_record_among_others_is_reported_with_them() -> None:
    good = ClaimRecord("c", "b.json")
    out = list(driver.refuse_lone_unreadable([_bad("a.json"), good]))
    assert out[1] is good and not out[0].readable
    assert list(driver.refuse_lone_unreadable([good])) == [good]
    assert list(driver.refuse_lone_unreadable([])) == []


def test_a_lone_unreadable_report_from_a_cluster_is_bad_input() -> None:
    unreadable = ClaimReport("a.json", "a.json", "", [Result(UNREADABLE, "Violation", "a.json", None, None,
                                                               "a.json: cannot be read")])
    with pytest.raises(UnreadableInput, match="cannot be read"):
        driver.refuse_lone_unreadable_reports(iter([unreadable]))
    fine = ClaimReport("c", "b.json", "")
    assert list(driver.refuse_lone_unreadable_reports([unreadable, fine])) == [unreadable, fine]


def test_records_are_numbered_in_input_order() -> None:
    records = [ClaimRecord(str(i), "x.ndjson") for i in range(3)]
    assert [r.position for r in driver.numbered(records)] == [0, 1, 2]


def test_output_replaces_the_target_only_when_the_block_finished(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("before", encoding="utf-8")
    with pytest.raises(InputError, match="stopped"), driver.report_output(str(target)) as out:
        out.write("half a report")
        raise InputError("stopped")
    assert target.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no partial file left
    with driver.report_output(str(target)) as out:
        out.write("whole report")
    assert target.read_text(encoding="utf-8") == "whole report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_in_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cannot write .*: No such file or directory$"), \
            driver.report_output(str(tmp_path / "no" / "report.json")):
        pass


def test_the_tally_fails_on_what_it_is_told() -> None:
    warned = ClaimReport("c", "x", "", [Result("SpecialtyTypical", "Warning", "c", None, None, "m")])
    tally = driver.Tally()
    tally.add(warned)
    assert tally.conforms and tally.warned and tally.claims == 1
    assert not tally.failed("violation") and tally.failed("warning")


class _SettlingValidator:
    """A stand-in for the Validator's settle: a record some rule judges (here: named "judged") is
    made Unreadable by its rule_input_error; one no rule judges is not-applicable, not refused."""

    keep_content = False

    def validate(self, records, batch_size=500):  # type: ignore[no-untyped-def]
        for record in records:
            if record.claim_id == "judged" and record.rule_input_error is not None:
                yield ClaimReport(record.claim_id, record.source, "",
                                  [Result(UNREADABLE, "Violation", record.claim_id, None, None,
                                          record.rule_input_error)])
            else:
                yield ClaimReport(record.claim_id, record.source, "", reason="no rule judges it")


def test_a_lone_claim_the_rules_judge_but_cannot_read_is_bad_input_after_settle() -> None:
    """A lone claim that reads but that the Validator makes Unreadable (Validator.settle: an
    ICD-9-CM diagnosis on a claim a rule judges) is UnreadableInput too (exit 2, HTTP 422); the
    same problem on a claim no rule judges is its not-applicable report."""
    judged = ClaimRecord("judged", "a.x12", rule_input_error="a.x12: diagnosis 1 is ICD-9-CM (BK)")
    with pytest.raises(UnreadableInput, match="ICD-9-CM"):
        list(driver.validate_records([judged], _SettlingValidator(), 500))
    unjudged = ClaimRecord("other", "a.x12", rule_input_error="a.x12: diagnosis 1 is ICD-9-CM (BK)")
    (report,) = driver.validate_records([unjudged], _SettlingValidator(), 500)
    assert report.reason == "no rule judges it" and not report.results
    # Among others it is reported, and a worker's partition leaves the rule to the run's driver.
    judged = ClaimRecord("judged", "a.x12", rule_input_error="a.x12: diagnosis 1 is ICD-9-CM (BK)")
    assert len(list(driver.validate_records([judged, ClaimRecord("other", "b.x12")], _SettlingValidator(), 500))) == 2
    alone = driver.validate_records([judged], _SettlingValidator(), 500, lone_unreadable_is_an_error=False)
    assert [r.results[0].rule for r in alone] == [UNREADABLE]
