"""Build the OWL-RL closure of the packaged graph that ships with cptkg (closure/owlrl.nt.gz), so
no user computes it: owlrl is pure-Python forward chaining, about 9 s of CPU on the first run.

    python tools/build_closure.py

Run it after any change to ontology/ (as tools/canonicalize.py): the file carries the digest of the
ontology it was built from, and a test fails while the two differ. At run time a shipped closure
whose digest does not match (an edited checkout) is ignored, and the closure is computed and cached
as before. The bytes are the cache's (sorted N-Triples under a digest line), gzipped without a
timestamp: the same ontology always gives the same file.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cptkg.kg import reasoning, resources  # noqa: E402
from cptkg.kg.graph import KnowledgeGraph  # noqa: E402

TARGET = ROOT / "closure" / "owlrl.nt.gz"


def main() -> None:
    graph = KnowledgeGraph("owlrl")
    closure = reasoning.compute_closure(graph.asserted, "owlrl")
    data = reasoning.closure_bytes(closure, resources.ontology_digest())
    TARGET.parent.mkdir(exist_ok=True)
    with TARGET.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out:
        out.write(data)
    print(f"{TARGET.relative_to(ROOT)}: {len(closure)} triples, {TARGET.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
