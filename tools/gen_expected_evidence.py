"""Pin the evidence of each rule that reads graph facts (examples/expected-evidence.json): for each
such rule, the first XFAIL example that holds it (examples/expected-results.json), and the exact
evidence of that rule's results there (the JSON report's form), keyed by the result's line or
diagnosis. tests/test_evidence.py compares every engine's evidence with the file.

    python tools/gen_expected_evidence.py

Run it after a change to the graph's facts, their sources or the rules, and read the diff: it is
what a coder will be shown. PTPEdit and MUEExceeded read only imported CMS tables (no example has
them); tests/test_evidence.py pins theirs on the NCCI test fixtures.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.rules.compiler import compile_shapes  # noqa: E402
from cptkg.rules.evidence import EvidenceFinder, Facts  # noqa: E402
from cptkg.rules.packs import build  # noqa: E402
from cptkg.rules.validator import validate_paths  # noqa: E402

EXAMPLES = ROOT / "examples"
TARGET = EXAMPLES / "expected-evidence.json"
# The rules that read CMS tables a user imports (PTP, MUE, AOC): no example claim fires them;
# PTP and MUE evidence is pinned on the NCCI fixtures in tests/test_evidence.py.
NCCI_ONLY = {"PTPEdit", "MUEExceeded", "AOCType1PrimaryListed", "AOCType3PrimaryListed"}


def fact_rules() -> list[str]:
    """The built-in rules whose SPARQL reads graph facts (as the evidence plans see them)."""
    finder = EvidenceFinder(compile_shapes(build().shapes), Facts(None))
    return sorted(r for r in build().origins if any(p.reads_facts for p in finder.plans(r)))


def focus_key(focus: str) -> str:
    match = re.search(r"(item|dx|diagnosis)[-/](\d+)$", focus)
    assert match, focus
    return ("line " if match.group(1) == "item" else "dx ") + match.group(2)


def main() -> None:
    expected = json.loads((EXAMPLES / "expected-results.json").read_text(encoding="utf-8"))
    chosen: dict[str, str] = {}
    for rule in fact_rules():
        if rule in NCCI_ONLY:
            continue
        chosen[rule] = next(name for name in sorted(expected) if name.endswith("_XFAIL")
                            and any(r[0] == rule for r in expected[name]["results"]))
    names = sorted(set(chosen.values()))
    report = validate_paths(*[EXAMPLES / "claims" / f"{name}.json" for name in names])
    by_name = {Path(c.source).stem: c for c in report.claims}
    out: dict[str, dict[str, object]] = {}
    for rule, name in sorted(chosen.items()):
        results = [r for r in by_name[name].results if r.rule == rule]
        out[rule] = {"example": name, "results": [
            {"focus": focus_key(r.focus), "value": r.value, "evidence": [e.as_json() for e in r.evidence or ()]}
            for r in results]}
    TARGET.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {len(out)} rules")


if __name__ == "__main__":
    main()
