"""One writer per output format of `cptkg validate`, each fed claim reports as they finish (so
output streams) and closed once with the overall verdict. Writers see only the report model."""

from __future__ import annotations

import json
from typing import IO

from cptkg.errors import printable
from cptkg.report.model import ClaimReport


class Writer:
    """Counts what it has written; subclasses render."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.failing = 0
        self.violations = 0
        self.warnings = 0

    def claim(self, report: ClaimReport) -> None:
        self.count += 1
        self.failing += 0 if report.conforms else 1
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
    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        verdict = "conforms" if report.conforms else "DOES NOT CONFORM"
        warnings = sum(r.severity == "Warning" for r in report.results)
        extra = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        # Claim ids, file names and messages come from input: escaped, never sent raw to a terminal.
        self.out.write(f"{printable(report.claim)}  [{printable(report.origin)}]: {verdict}{extra}\n")
        for r in report.results:
            where = f"line {r.line} ({printable(r.code or '')})" if r.line is not None else "claim"
            self.out.write(f"  {where}  {r.severity}  {printable(r.rule)}\n      {printable(r.message)}\n")

    def close(self, conforms: bool) -> None:
        self.out.write(
            f"\n{self.count} claim{'s' if self.count != 1 else ''}: {self.count - self.failing} "
            f"conforming, {self.failing} not; {self.violations} violations, "
            f"{self.warnings} warnings\n")


class TableWriter(Writer):
    def claim(self, report: ClaimReport) -> None:
        if self.count == 0:
            self.out.write("claim\tline\tcode\tseverity\trule\tvalue\tmessage\n")
        super().claim(report)
        if not report.results:
            self.out.write(f"{report.claim}\t\t\tConforms\t\t\t\n")
        for r in report.results:
            line = "" if r.line is None else str(r.line)
            self.out.write(f"{report.claim}\t{line}\t{r.code or ''}\t{r.severity}\t{r.rule}\t"
                           f"{r.value or ''}\t{r.message}\n")


class TurtleWriter(Writer):
    """The W3C SHACL validation report; one graph, so it is written when the run ends."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.claims: list[ClaimReport] = []

    def claim(self, report: ClaimReport) -> None:
        super().claim(report)
        self.claims.append(report)

    def close(self, conforms: bool) -> None:
        from cptkg.report.shacl import report_graph

        self.out.write(report_graph(self.claims, conforms).serialize(format="turtle"))


WRITERS: dict[str, type[Writer]] = {
    "human": HumanWriter, "table": TableWriter, "json": JsonWriter, "jsonl": JsonlWriter,
    "turtle": TurtleWriter,
}
