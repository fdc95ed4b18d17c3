"""Rewrite every ontology/*.ttl file in canonical Turtle (what tests/test_quality.py expects).

    python tools/canonicalize.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from rdflib import Graph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.export.rdf import canonical_turtle  # noqa: E402


def main() -> None:
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        canonical = canonical_turtle(Graph().parse(data=text, format="turtle"))
        if canonical != text:
            path.write_text(canonical, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
