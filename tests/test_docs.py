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
                                                        *(ROOT / "cptkg").rglob("*.py")]}
    readme_sections = {m.strip().lower() for m in re.findall(r"^#+ (.+)$", texts[ROOT / "README.md"], re.M)}
    missing = []
    for path, text in texts.items():
        for target in re.findall(r"\b((?:docs|tools)/[\w.-]+\.(?:md|py))", text):
            if not (ROOT / target).exists():
                missing.append(f"{path.relative_to(ROOT)}: {target}")
        if "REFERENCE.md" in text and not (ROOT / "REFERENCE.md").exists():
            missing.append(f"{path.relative_to(ROOT)}: REFERENCE.md")
        cited = [*re.findall(r"\(README, ([^)]+)\)", text), *re.findall(r'README section\s+"([^"]+)"', text)]
        for section in cited:
            if " ".join(section.split()).lower() not in readme_sections:
                missing.append(f"{path.relative_to(ROOT)}: README section {' '.join(section.split())!r}")
    assert missing == []
