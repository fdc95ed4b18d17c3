"""Mutation testing of the claim rules: apply one small defect at a time to shapes/claims/*.ttl
(swap a severity, drop a FILTER, flip a comparison, widen a pattern, loosen a count, drop a
pattern of a rule's query), run the tests that pin the rules, and count the mutants they kill.

    python tools/mutate_shapes.py [--list] [--only SUBSTRING] [--timeout SECONDS]

Each mutant is written into the shapes file in place and the file is restored afterwards (also on
Ctrl-C). A mutant is killed when the tests fail; a survivor is printed with its file, line and
change: either an equivalent mutation (no result can change) or a missing test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "shapes" / "claims"
TESTS = ["tests/test_examples.py", "tests/test_rule_clauses.py", "tests/test_ncci.py"]


@dataclass(frozen=True)
class Mutant:
    path: Path
    line: int  # 1-based
    kind: str
    before: str
    after: str  # the replacement line ("" drops it)

    def describe(self) -> str:
        return f"{self.path.name}:{self.line} {self.kind}: {self.before.strip()[:90]!r}"


# (kind, pattern on one line, replacement)
SUBSTITUTIONS = [
    ("severity", re.compile(r"sh:severity sh:Violation"), "sh:severity sh:Warning"),
    ("severity", re.compile(r"sh:severity sh:Warning"), "sh:severity sh:Violation"),
    ("flip-equal", re.compile(r"(?<=[^!<>=]) = (?=\?)"), " != "),
    ("flip-unequal", re.compile(r" != "), " = "),
    ("flip-order", re.compile(r" > "), " >= "),
    ("negate-bound", re.compile(r"FILTER \(!BOUND\("), "FILTER (BOUND("),
    ("widen-pattern", re.compile(r"\{2\}"), "{1,3}"),
    ("widen-pattern", re.compile(r"\[A-V\]"), "[A-Z]"),
    ("widen-pattern", re.compile(r"\[0-9FTUM\]"), "[0-9A-Z]"),
    ("loosen-count", re.compile(r"sh:minCount 1\b"), "sh:minCount 0"),
    ("loosen-count", re.compile(r"sh:maxCount 1\b"), "sh:maxCount 2"),
    ("loosen-bound", re.compile(r"sh:minInclusive 1\b"), "sh:minInclusive 0"),
    ("drop-datatype", re.compile(r"sh:datatype xsd:date ;"), ""),
]
# A single-line FILTER, or one triple pattern of a rule's query, dropped whole.
DROPPABLE = re.compile(r"^\s+(FILTER \(.*\)|[$?][A-Za-z]+ \(?[a-z]+:[A-Za-z]+\)? [?$]?[A-Za-z:.0-9]+ \.)\s*$")


def mutants() -> Iterator[Mutant]:
    for path in sorted(SHAPES.glob("*.ttl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if text.lstrip().startswith("#"):
                continue
            for kind, pattern, replacement in SUBSTITUTIONS:
                if pattern.search(text):
                    yield Mutant(path, number, kind, text, pattern.sub(replacement, text, count=1))
            if DROPPABLE.match(text):
                yield Mutant(path, number, "drop-line", text, "")


def killed(mutant: Mutant, timeout: float) -> bool:
    original = mutant.path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    lines[mutant.line - 1] = mutant.after + "\n" if mutant.after else ""
    try:
        mutant.path.write_text("".join(lines), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return proc.returncode != 0
    except subprocess.TimeoutExpired:
        return True  # a rule that no longer finishes is caught
    finally:
        mutant.path.write_text(original, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", default="", help="only mutants whose description contains this")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's test run")
    args = parser.parse_args()
    todo = [m for m in mutants() if args.only in m.describe()]
    if args.list:
        print("\n".join(m.describe() for m in todo))
        print(f"{len(todo)} mutants")
        return 0
    survivors = []
    started = time.monotonic()
    for index, mutant in enumerate(todo, 1):
        alive = not killed(mutant, args.timeout)
        print(f"[{index}/{len(todo)}] {'SURVIVED' if alive else 'killed  '} {mutant.describe()}", flush=True)
        if alive:
            survivors.append(mutant)
    score = 100.0 * (len(todo) - len(survivors)) / max(len(todo), 1)
    print(f"\nshapes: {len(todo) - len(survivors)} of {len(todo)} mutants killed ({score:.0f}%), "
          f"{time.monotonic() - started:.0f} s")
    for mutant in survivors:
        print(f"  survived: {mutant.describe()} -> {mutant.after.strip()[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
