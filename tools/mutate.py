"""Mutation testing: apply one deliberate defect at a time and check that the tests catch it.

    python tools/mutate.py [listed|shapes|python|all] [--list] [--only TEXT] [--timeout SECONDS]

- listed: the mutations in tools/mutations.toml (each once survived the suite), each with the
  tests named to kill it; only those tests run, and every one of them must fail.
- shapes: mutants made from shapes/claims/*.ttl line by line (swap a severity, drop a FILTER or a
  pattern of a rule's query, flip a comparison, widen a pattern, loosen a count, drop a datatype);
  the example, clause and NCCI tests run on each.
- python: mutmut on cptkg/rules, cptkg/claims and cptkg/report (configured in pyproject.toml;
  its working copy is mutants/); the tests reaching each mutated function run on it.

A mutant is written into the file in place and the file restored afterwards (also on Ctrl-C);
mutmut works on its own copy. Each part prints its survivors and its score; the README says how to
read them. Exit 0 when every listed mutation was killed, 1 when one survived, 2 on a catalog entry
that no longer matches the tree.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "shapes" / "claims"
CATALOG = ROOT / "tools" / "mutations.toml"
SHAPE_TESTS = ["tests/test_examples.py", "tests/test_rule_clauses.py", "tests/test_ncci.py"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]


class CatalogError(Exception):
    """A listed mutation whose text is not (or not once) where the catalog says."""


@dataclass(frozen=True)
class Mutant:
    path: Path
    start: int  # character offsets of the text replaced
    end: int
    after: str
    kind: str
    description: str
    tests: tuple[str, ...]

    def apply(self, text: str) -> str:
        return text[:self.start] + self.after + text[self.end:]


def killed(mutant: Mutant, timeout: float, every_test: bool = False) -> bool:
    """Whether the tests fail on the mutant; with every_test, whether each named test fails on its own."""
    original = mutant.path.read_text(encoding="utf-8")
    try:
        mutant.path.write_text(mutant.apply(original), encoding="utf-8")
        runs = [[test] for test in mutant.tests] if every_test else [list(mutant.tests)]
        for tests in runs:
            try:
                proc = subprocess.run([*PYTEST, *tests], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                continue  # a rule that no longer finishes is caught
            if proc.returncode == 0:
                return False
            # A named test that did not run (exit 2-5: a bad node id, a collection error) is a
            # catalog to mend, not a kill; for generated mutants any failure is one.
            if every_test and proc.returncode != 1:
                raise CatalogError(f"{mutant.description}: pytest exit {proc.returncode} on {' '.join(tests)}:\n"
                                   + proc.stdout[-800:])
        return True
    finally:
        mutant.path.write_text(original, encoding="utf-8")


# ------------------------------------------------------------------------------------------ listed

def _block(text: str, rule: str) -> tuple[int, int]:
    """The characters of one shape's block in a shapes file: from its subject to the next shape."""
    start = re.search(rf"^cptkgsh:{re.escape(rule)} a sh:(Node|Property)Shape", text, re.MULTILINE)
    if start is None:
        raise CatalogError(f"no shape cptkgsh:{rule}")
    following = re.compile(r"^cptkgsh:\w+ a sh:(Node|Property)Shape", re.MULTILINE).search(text, start.end())
    return start.start(), following.start() if following else len(text)


def listed_mutants() -> Iterator[Mutant]:
    with CATALOG.open("rb") as handle:
        entries = tomllib.load(handle)["mutation"]
    for entry in entries:
        path = ROOT / entry["file"]
        text = path.read_text(encoding="utf-8")
        low, high = _block(text, entry["within"]) if "within" in entry else (0, len(text))
        pattern = re.compile(r"\s+".join(re.escape(token) for token in entry["before"].split()))
        found = list(pattern.finditer(text, low, high))
        if len(found) != 1:
            raise CatalogError(f"{entry['name']}: its text occurs {len(found)} times in {entry['file']}"
                               + (f" ({entry['within']})" if "within" in entry else "") + ", not once")
        yield Mutant(path, found[0].start(), found[0].end(), entry["after"], "listed", entry["name"],
                     tuple(entry["killed_by"]))


# ------------------------------------------------------------------------------------------ shapes

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


def shape_mutants() -> Iterator[Mutant]:
    for path in sorted(SHAPES.glob("*.ttl")):
        offset = 0
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), 1):
            text = line.rstrip("\n")
            if not text.lstrip().startswith("#"):
                where = f"{path.name}:{number}"
                for kind, pattern, replacement in SUBSTITUTIONS:
                    if pattern.search(text):
                        yield Mutant(path, offset, offset + len(text), pattern.sub(replacement, text, count=1), kind,
                                     f"{where} {kind}: {text.strip()[:90]!r}", tuple(SHAPE_TESTS))
                if DROPPABLE.match(text):
                    yield Mutant(path, offset, offset + len(line), "", "drop-line",
                                 f"{where} drop-line: {text.strip()[:90]!r}", tuple(SHAPE_TESTS))
            offset += len(line)


def run_mutants(title: str, todo: list[Mutant], timeout: float, every_test: bool) -> list[Mutant]:
    survivors = []
    started = time.monotonic()
    for index, mutant in enumerate(todo, 1):
        alive = not killed(mutant, timeout, every_test)
        print(f"[{index}/{len(todo)}] {'SURVIVED' if alive else 'killed  '} {mutant.description}", flush=True)
        if alive:
            survivors.append(mutant)
    score = 100.0 * (len(todo) - len(survivors)) / max(len(todo), 1)
    print(f"\n{title}: {len(todo) - len(survivors)} of {len(todo)} mutants killed ({score:.0f}%), "
          f"{time.monotonic() - started:.0f} s")
    for mutant in survivors:
        print(f"  survived: {mutant.description} -> {mutant.after.strip()[:60]!r}")
    return survivors


# ------------------------------------------------------------------------------------------ python

def run_mutmut(only: str) -> int:
    """mutmut over the configured modules; prints its counts, score and survivors."""
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if mutmut is None:
        print("mutmut is not installed: pip install -e '.[mutate]'", file=sys.stderr)
        return 2
    run = subprocess.run([mutmut, "run", *([only] if only else [])], cwd=ROOT)
    if run.returncode != 0:
        return run.returncode
    subprocess.run([mutmut, "export-cicd-stats"], cwd=ROOT, check=True, capture_output=True)
    stats = json.loads((ROOT / "mutants" / "mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    # A mutant no test reaches is not killed: it counts against the score like a survivor. A
    # timeout counts as killed (the defect made the tests hang); "suspicious" (slow, not over
    # the limit) does not.
    caught = stats["killed"] + stats.get("timeout", 0)
    judged = caught + stats["survived"] + stats.get("no_tests", 0) + stats.get("suspicious", 0)
    print(f"\npython (mutmut): {caught} of {judged} mutants killed ({100.0 * caught / max(judged, 1):.0f}%): "
          f"{stats['survived']} survived, {stats.get('no_tests', 0)} reached by no test, "
          f"{stats.get('suspicious', 0)} suspicious; {stats.get('skipped', 0)} skipped")
    survivors = subprocess.run([mutmut, "results"], cwd=ROOT, capture_output=True, text=True).stdout
    print(survivors.rstrip() or "  no survivors")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", default="all", choices=["listed", "shapes", "python", "all"])
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing (listed and shapes)")
    parser.add_argument("--only", default="", help="only mutants whose description contains this "
                        "(for python: a mutmut mutant-name glob, such as 'cptkg.rules.batch*')")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's test run")
    args = parser.parse_args()
    status = 0
    try:
        for part in (["listed", "shapes", "python"] if args.part == "all" else [args.part]):
            if part == "python":
                if not args.list:
                    status = max(status, run_mutmut(args.only))
                continue
            todo = [m for m in (listed_mutants() if part == "listed" else shape_mutants())
                    if args.only in m.description]
            if args.list:
                print("\n".join(f"{m.description}  [{', '.join(m.tests)}]" if part == "listed" else m.description
                                for m in todo))
                print(f"{len(todo)} {part} mutants")
                continue
            survivors = run_mutants(part, todo, args.timeout, every_test=part == "listed")
            if part == "listed" and survivors:
                status = max(status, 1)
    except CatalogError as err:
        print(f"mutate: {err}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
