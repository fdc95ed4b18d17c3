"""One writer per output format of `cptkg validate`, each fed claim reports as they finish (so
output streams) and closed once with the overall verdict. Writers see only the report model."""

from __future__ import annotations

import json
from typing import IO, Any, ClassVar

from cptkg.errors import printable
from cptkg.report.model import VERDICTS, ClaimReport
from cptkg.report.outcome import outcome


class Writer:
    """Counts what it has written; subclasses render."""

    # Whether the report shows what each claim says (its lines and diagnoses) beside the results.
    wants_content: ClassVar[bool] = False

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.failing = 0
        self.violations = 0
        self.warnings = 0
        self.verdicts = dict.fromkeys(VERDICTS, 0)

    def claim(self, report: ClaimReport) -> None:
        self.count += 1
        self.failing += 0 if report.conforms else 1
        self.verdicts[report.verdict] += 1
        self.violations += sum(r.severity == "Violation" for r in report.results)
        self.warnings += sum(r.severity == "Warning" for r in report.results)

    def close(self, conforms: bool) -> None:
        pass


class JsonWriter(Writer):
    # Streams: "claims" is written as claims finish; "conforms" (known at the end) comes last.
    def claim(self, report: ClaimReport) -> None:
        self.out.write('{"claims": [\n' if self.count == 0 else ",\n")
        super().claim(report)
        self.out.write(json.dumps(report.as_json(), ensure_ascii=False))

    def close(self, conforms: bool) -> None:
        if self.count == 0:
            self.out.write('{"claims": [')
        self.out.write(f'\n], "conforms": {"true" if conforms else "false"}}}\n')


class JsonlWriter(Writer):
    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        self.out.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
        self.out.flush()


class HumanWriter(Writer):
    SAID: ClassVar[dict[str, str]] = {"conforms": "conforms", "does-not-conform": "DOES NOT CONFORM",
                                      "not-applicable": "not applicable", "unreadable": "UNREADABLE"}

    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        verdict = self.SAID[report.verdict]
        warnings = sum(r.severity == "Warning" for r in report.results)
        extra = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        if report.reason:
            extra = f": {report.reason}"
        # Claim ids, file names and messages come from input: escaped, never sent raw to a terminal.
        self.out.write(f"{printable(report.claim)}  [{printable(report.origin)}]: {verdict}{printable(extra)}\n")
        for r in report.results:
            if r.line is not None:
                where = f"line {printable(r.line)} ({printable(r.code or 'no code')})"
            elif r.diagnosis is not None:
                where = f"diagnosis {printable(r.diagnosis)}"
            else:
                where = "claim"
            self.out.write(f"  {where}  {r.severity}  {printable(r.rule)}\n      {printable(r.message)}\n")
            # One line per fact the rule read, with who states it (a pack's fact: its file).
            for fact in r.evidence or ():
                self.out.write(f"      evidence: {printable(fact.said())}\n")

    def close(self, conforms: bool) -> None:
        v = self.verdicts
        self.out.write(
            f"\n{self.count} claim{'s' if self.count != 1 else ''}: {v['conforms']} conforming, "
            f"{v['does-not-conform']} not, {v['not-applicable']} not applicable, {v['unreadable']} unreadable; "
            f"{self.violations} violations, {self.warnings} warnings\n")


class TableWriter(Writer):
    """Tab-separated, one row per result (one row for a claim without results); tabs and line
    breaks inside values are written as spaces so every row stays one row."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("claim", "verdict", "file", "where", "line", "code", "diagnosis",
                                          "severity", "rule", "value", "message")

    def claim(self, report: ClaimReport) -> None:
        if self.count == 0:
            self.out.write("\t".join(self.COLUMNS) + "\n")
        super().claim(report)
        head = [report.claim, report.verdict, report.source, report.where]
        if not report.results:
            self._row([*head, "", "", "", "", "", "", report.reason or ""])
        for r in report.results:
            self._row([*head, r.line or "", r.code or "", r.diagnosis or "", r.severity, r.rule, r.value or "",
                       r.message])

    def _row(self, cells: list[str]) -> None:
        self.out.write("\t".join(" ".join(c.split()) if ("\t" in c or "\n" in c or "\r" in c) else c
                                 for c in cells) + "\n")


class HoldingWriter(Writer):
    """A writer whose form needs every claim before it writes anything (one graph, a summary
    first): it holds the claims until the run ends."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.claims: list[ClaimReport] = []

    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        self.claims.append(report)


class TurtleWriter(HoldingWriter):
    """The W3C SHACL validation report; one graph, so it is written when the run ends."""

    def close(self, conforms: bool) -> None:
        from cptkg.report.shacl import report_graph

        self.out.write(report_graph(self.claims, conforms).serialize(format="turtle"))


class OperationOutcomeWriter(Writer):
    """One OperationOutcome for one claim; a Bundle (type collection) of them for several. Written
    at the end (a lone claim's outcome is not wrapped, which is known only then)."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.outcomes: list[dict[str, Any]] = []

    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        self.outcomes.append(outcome(report, self.count))

    def close(self, conforms: bool) -> None:
        if len(self.outcomes) == 1:
            doc: dict[str, Any] = self.outcomes[0]
        else:
            doc = {"resourceType": "Bundle", "type": "collection",
                   "entry": [{"fullUrl": f"urn:cptkg:outcome:{o['id']}", "resource": o} for o in self.outcomes]}
        self.out.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


class HtmlWriter(HoldingWriter):
    """One self-contained HTML page (cptkg.report.html); its summary comes first."""

    wants_content = True

    def close(self, conforms: bool) -> None:
        from cptkg.report.html import write

        write(self.out, self.claims, conforms)


WRITERS: dict[str, type[Writer]] = {
    "human": HumanWriter, "table": TableWriter, "json": JsonWriter, "jsonl": JsonlWriter,
    "turtle": TurtleWriter, "operationoutcome": OperationOutcomeWriter,
    "html": HtmlWriter,
}
