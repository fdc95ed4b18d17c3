"""SPARQL results as plain data: RDF terms as the W3C SPARQL 1.1 Query Results JSON carries them,
and a result set with its JSON, CSV and table renderings."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cptkg.errors import InputError


@dataclass(frozen=True)
class Term:
    """An RDF term as SPARQL results carry it (W3C SPARQL 1.1 Query Results JSON)."""

    type: str  # uri | literal | bnode
    value: str
    datatype: str | None = None
    lang: str | None = None

    def n3(self) -> str:
        if self.type == "uri":
            if re.search(r'[\s<>"{}|\\^`]', self.value):
                raise InputError(f"not a usable IRI: {self.value!r}")
            return f"<{self.value}>"
        if self.type == "bnode":
            raise InputError("a blank node cannot be bound as a parameter")
        text = json.dumps(self.value, ensure_ascii=False)  # a valid SPARQL string literal
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype:
            return f"{text}^^<{self.datatype}>"
        return text

    def python(self) -> Any:
        if self.type != "literal" or not self.datatype:
            return self.value
        local = self.datatype.rsplit("#", 1)[-1]
        if local == "boolean":
            return self.value == "true"
        if local in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger"):
            return int(self.value)
        if local in ("decimal", "double", "float"):
            return float(self.value)
        return self.value

    def as_json(self) -> dict[str, str]:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype:
            out["datatype"] = self.datatype
        return out


@dataclass
class QueryResult:
    variables: list[str]
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None

    def as_dicts(self) -> list[dict[str, Any]]:
        return [{k: v.python() for k, v in row.items()} for row in self.rows]

    def column(self, name: str) -> list[Any]:
        return [row[name].python() for row in self.rows if name in row]

    def to_json(self) -> str:
        if self.boolean is not None:
            return json.dumps({"head": {}, "boolean": self.boolean})
        doc = {
            "head": {"vars": self.variables},
            "results": {
                "bindings": [{k: v.as_json() for k, v in row.items()} for row in self.rows]
            },
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)

    def to_csv(self) -> str:
        # W3C SPARQL 1.1 Query Results CSV: header of variable names, plain values, CRLF lines.
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        if self.boolean is not None:
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
            return buf.getvalue()
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow(
                [("_:" + row[v].value if row[v].type == "bnode" else row[v].value)
                 if v in row else "" for v in self.variables]
            )
        return buf.getvalue()

    def to_table(self) -> str:
        if self.boolean is not None:
            return "true" if self.boolean else "false"
        cells = [[row[v].value if v in row else "" for v in self.variables] for row in self.rows]
        widths = [
            min(60, max([len(v)] + [len(r[i]) for r in cells]))
            for i, v in enumerate(self.variables)
        ]

        def fmt(values: Iterable[str]) -> str:
            out = []
            for value, width in zip(values, widths, strict=True):
                text = value if len(value) <= width else value[: width - 1] + "…"
                out.append(text.ljust(width))
            return "  ".join(out).rstrip()

        lines = [fmt(self.variables), fmt("-" * w for w in widths)]
        lines += [fmt(r) for r in cells]
        lines.append(f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})")
        return "\n".join(lines)
