"""Rewrite the README's rule table from `cptkg rules --format json` (each rule's ID, severity and
what it checks, as its shape says), between the markers that hold it; tests/test_docs.py fails
when the table is stale. Each rule in full is `cptkg rules show ID`.

    python tools/gen_rule_table.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN = "<!-- rule table: written by tools/gen_rule_table.py from `cptkg rules --format json` -->"
END = "<!-- end of rule table -->"


def rules_json() -> list[dict[str, object]]:
    """The built-in catalog as `cptkg rules --format json` prints it (no configuration read)."""
    done = subprocess.run([sys.executable, "-m", "cptkg", "rules", "--format", "json", "--config", "/dev/null"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"cptkg rules failed: {done.stderr.strip()}")
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| rule ID | severity | checks |", "|---|---|---|"]
    lines += [f"| `{row['rule']}` | {row['severity']} | {row['checks']} |" for row in rows]
    return "\n".join(lines)


def with_table(readme: str, rows: list[dict[str, object]]) -> str:
    """The README text with its rule table replaced."""
    head, begin, rest = readme.partition(BEGIN)
    _old, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"README.md has no rule table markers ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{table(rows)}\n{END}{tail}"


def main() -> None:
    README.write_text(with_table(README.read_text(encoding="utf-8"), rules_json()), encoding="utf-8")


if __name__ == "__main__":
    main()
