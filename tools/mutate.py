"""Mutation testing: apply one deliberate defect at a time and check that the tests catch it.

    python tools/mutate.py [listed|shapes|python|all] [--list] [--only TEXT] [--timeout SECONDS]
                           [--sample N [--seed S]]

- listed: the mutations in tools/mutations.toml (each once survived the suite), each with the
  tests named to kill it; only those tests run, and every one of them must fail.
- shapes: mutants made from shapes/claims/*.ttl line by line (swap a severity, drop a FILTER or a
  pattern of a rule's query, flip a comparison, widen a pattern, loosen a count, drop a datatype);
  the example, clause and NCCI tests run on each.
- python: mutmut on cptkg/rules, cptkg/claims and cptkg/report (configured in pyproject.toml;
  its working copy is mutants/); the tests reaching each mutated function run on it. The whole
  scope is about 5,500 mutants (hours): --sample N runs a seeded random sample of them instead and
  gives the score with its 95% interval.

A mutant is written into the file in place and the file restored afterwards (also on Ctrl-C);
mutmut works on its own copy. Each part prints its survivors and its score; the README says how to
read them. Exit 0 when every listed mutation was killed, 1 when one survived, 2 on a catalog entry
that no longer matches the tree.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
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

# mutmut's own exit codes of a mutant's test run (mutmut/stats.py), reduced to the score's terms.
# A timeout counts as killed (the defect made the tests hang); a mutant no test reaches, and a
# "suspicious" one (slow, not over the limit), count against the score like a survivor.
KILLED_CODES = {1, 3, 24, -24, 36, 152, 255, -9, -11}
UNJUDGED_CODES = {None, 2, 34}  # not checked, interrupted, skipped

# mutmut makes its mutants only inside `mutmut run`; a sample needs their names first, so this
# runs that first step alone (the calls `mutmut run` makes, in its order; mutmut is pinned).
GENERATE = ("import mutmut.__main__ as m; m.copy_src_dir(); m.copy_also_copy_files(); "
            "m.setup_source_paths(); m.create_mutants(2)")


def mutmut_verdicts() -> dict[str, int | None]:
    """Every mutant mutmut has made (name -> exit code of its test run, None if not run yet)."""
    verdicts: dict[str, int | None] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        verdicts.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return verdicts


def run_mutmut(only: str, sample: int, seed: int) -> int:
    """mutmut over the configured modules (or a seeded random sample of their mutants); prints the
    counts, the score and the survivors."""
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if mutmut is None:
        print("mutmut is not installed: pip install -e '.[mutate]'", file=sys.stderr)
        return 2
    names = [only] if only else []
    if sample:
        subprocess.run([sys.executable, "-c", GENERATE], cwd=ROOT, check=True, capture_output=True)
        pool = sorted(name for name in mutmut_verdicts() if fnmatch.fnmatch(name, only or "*"))
        names = sorted(random.Random(seed).sample(pool, min(sample, len(pool))))
        print(f"python (mutmut): a sample of {len(names)} of {len(pool)} mutants (seed {seed})", flush=True)
    run = subprocess.run([mutmut, "run", *names], cwd=ROOT)
    if run.returncode != 0:
        return run.returncode
    verdicts = mutmut_verdicts()
    judged = {name: code for name, code in verdicts.items()
              if code not in UNJUDGED_CODES and (not names or any(fnmatch.fnmatch(name, n) for n in names))}
    caught = sum(code in KILLED_CODES for code in judged.values())
    survivors = sorted(name for name, code in judged.items() if code not in KILLED_CODES)
    score = 100.0 * caught / max(len(judged), 1)
    print(f"\npython (mutmut): {caught} of {len(judged)} mutants killed ({score:.0f}%)"
          + (f", 95% interval {_wilson(caught, len(judged))}" if sample else ""))
    for name in survivors:
        reason = "reached by no test" if verdicts[name] in (5, 33) else "survived"
        print(f"  {reason}: {name}")
    return 0


def _wilson(caught: int, judged: int) -> str:
    """The 95% Wilson score interval of a sampled kill rate, as 'a-b%'."""
    if not judged:
        return "n/a"
    z, rate = 1.96, caught / judged
    centre = (rate + z * z / (2 * judged)) / (1 + z * z / judged)
    half = z * ((rate * (1 - rate) / judged + z * z / (4 * judged * judged)) ** 0.5) / (1 + z * z / judged)
    return f"{100 * (centre - half):.0f}-{100 * (centre + half):.0f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", default="all", choices=["listed", "shapes", "python", "all"])
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing (listed and shapes)")
    parser.add_argument("--only", default="", help="only mutants whose description contains this "
                        "(for python: a mutmut mutant-name glob, such as 'cptkg.rules.engines.oxigraph*')")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's test run")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="python: run a seeded random sample of N mutants (of those --only names), "
                        "and print the score's 95%% interval; the whole scope takes hours")
    parser.add_argument("--seed", type=int, default=18, help="the sample's seed (default 18)")
    args = parser.parse_args()
    status = 0
    try:
        for part in (["listed", "shapes", "python"] if args.part == "all" else [args.part]):
            if part == "python":
                if not args.list:
                    status = max(status, run_mutmut(args.only, args.sample, args.seed))
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
