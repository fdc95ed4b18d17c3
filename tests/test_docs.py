"""The documents hold to the code: the README's rule table is what `cptkg rules --format json`
says (tools/gen_rule_table.py writes it), and no document or module points at a file or section
that is not there."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_rule_table_is_the_catalog() -> None:
    gen = _tool("gen_rule_table")
    rows = gen.rules_json()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gen.with_table(readme, rows) == readme, "the README's rule table is stale: run tools/gen_rule_table.py"
    assert len(rows) >= 27 and all(f"| `{row['rule']}` |" in readme for row in rows)


def test_a_stale_rule_table_is_seen() -> None:
    gen = _tool("gen_rule_table")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [{"rule": "AddOnModifier51", "severity": "Warning", "checks": "changed"}]
    assert gen.with_table(readme, rows) != readme


def test_pointers_name_what_is_there() -> None:
    """Every `docs/*.md`, `tools/*.py`, REFERENCE.md or README section a module or document names
    exists (fhir.py and x12.py once cited a README section that was gone, namespaces.py a file
    not in the repository)."""
    texts = {p: p.read_text(encoding="utf-8") for p in [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"),
                                                        *(ROOT / "cptkg").rglob("*.py"), *(ROOT / "tests").glob("*.py"),
                                                        *(ROOT / "tools").glob("*.py")]}

    def sections(document: Path) -> set[str]:
        headings = re.findall(r"^#+ (.+)$", document.read_text(encoding="utf-8"), re.M)
        return {" ".join(h.split()).lower() for h in headings}

    texts.pop(Path(__file__).resolve(), None)  # its own patterns are no pointers
    missing = []
    for path, text in texts.items():
        for target in re.findall(r"\b((?:docs|tools)/[\w.-]+\.(?:md|py))", text):
            if not (ROOT / target).exists():
                missing.append(f"{path.relative_to(ROOT)}: {target}")
        if path.suffix == ".md":  # a document's links, relative to it
            for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if "://" not in link and not (path.parent / link).exists():
                    missing.append(f"{path.relative_to(ROOT)}: link {link}")
        # The domain notes (REFERENCE.md) are the maintainers', outside the repository: tests and
        # tools may cite them, what ships (the package, the documents) may not.
        shipped = path.suffix == ".md" or (ROOT / "cptkg") in path.parents
        if shipped and "REFERENCE.md" in text and not (ROOT / "REFERENCE.md").exists():
            missing.append(f"{path.relative_to(ROOT)}: REFERENCE.md")
        cited = [("README.md", section) for section in re.findall(r"\(README, ([^)]+)\)", text)]
        cited += [("README.md" if doc == "README" else doc, section)
                  for doc, section in re.findall(r'(README|docs/[\w-]+\.md)(?: section)?,?\s+"([^"]+)"', text)]
        for doc, section in cited:
            if (ROOT / doc).exists() and " ".join(section.split()).lower() not in sections(ROOT / doc):
                missing.append(f"{path.relative_to(ROOT)}: {doc} section {' '.join(section.split())!r}")
    assert missing == []


def _worked_example() -> str:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```turtle\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/rules.md has one worked example shape"
    return blocks[0]


def test_the_worked_example_of_writing_a_rule_is_a_rule_the_catalog_and_compiler_take() -> None:
    from rdflib import Graph

    from cptkg.rules import catalog
    from cptkg.rules.compiler import compile_shapes

    shapes = Graph()
    shapes += catalog.claim_shapes()
    shapes.parse(data=_worked_example(), format="turtle")
    rule = catalog.rules_of(shapes)["FamilyLineNamesItsSite"]
    assert (rule.severity, rule.issue_type, rule.element) == ("Warning", "business-rule", "bodySite")
    assert "FamilyLineNamesItsSite" in {catalog.rule_id(c.shape) for c in compile_shapes(shapes)}


def test_the_worked_example_finds_a_family_line_without_a_site(tmp_path: Path) -> None:
    """Run as a pack (its own namespace: cptkgsh: is the built-in rules'), on a claim whose +20701
    line names its site and on the same claim without it."""
    import json

    from cptkg.rules import packs
    from cptkg.rules.validator import validate_paths

    pack = tmp_path / "site.ttl"
    pack.write_text(_worked_example().replace("cptkgsh:FamilyLineNamesItsSite", "<https://example.org/r#FamilyLineNamesItsSite>"),
                    encoding="utf-8")
    claim = json.loads((ROOT / "examples" / "claims" / "addon-requires-primary_PASS.json").read_text(encoding="utf-8"))
    sited = tmp_path / "sited.json"
    sited.write_text(json.dumps(claim), encoding="utf-8")
    for item in claim["item"]:
        item.pop("bodySite", None)
    unsited = tmp_path / "unsited.json"
    unsited.write_text(json.dumps(claim), encoding="utf-8")
    report = validate_paths(sited, unsited, rules=packs.spec([pack]))
    found = [[(r.rule, r.line, r.severity, r.element) for r in c.results if r.rule == "FamilyLineNamesItsSite"]
             for c in report.claims]
    assert found == [[], [("FamilyLineNamesItsSite", "2", "Warning", "bodySite")]]
    assert report.claims[1].conforms  # a Warning only
