"""The house by stages: imports point one way (cli -> report/rules/queries/export/show -> claims ->
kg), no two modules import each other, and every module says what it does in its opening."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cptkg"

# Each top-level part of the package and its stage: a module may import its own stage or below.
STAGES = {
    "_version": 0, "errors": 0, "bounded_http": 0,
    "kg": 1,
    "claims": 2,
    "report": 3, "rules": 3, "queries": 3, "export": 3, "show": 3,
    "cli": 4, "serve": 4, "__init__": 4, "__main__": 4,
}
# Imports between parts of one stage, each one way: the rules build the report model, the show card
# is assembled from named queries and names the rules that cannot judge a code from the rule
# catalog, `python -m cptkg` runs the command line, HTTP errors are InputErrors, and `cptkg serve`
# starts the service.
SIDEWAYS = {("rules", "report"), ("show", "queries"), ("show", "rules"), ("__main__", "cli"),
            ("bounded_http", "errors"), ("cli", "serve")}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The cptkg modules that ``name`` imports anywhere (module level or inside a function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.startswith("cptkg") and target != name:
                found.add(target)
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    # Importing a submodule imports its package first; the package itself is not an edge.
    return {m: {t for t in _imports(m, p, modules) if not m.startswith(t + ".")} for m, p in modules.items()}


def test_every_part_has_a_stage() -> None:
    assert {_part(m) for m in _modules()} == set(STAGES)


def test_imports_point_down_the_stages() -> None:
    wrong = []
    for module, targets in _graph().items():
        here = _part(module)
        for target in targets:
            there = _part(target)
            if there == "__init__" and module != "cptkg":
                wrong.append(f"{module} imports the package root (import from the module that holds it)")
            elif STAGES[there] > STAGES[here]:
                wrong.append(f"{module} reaches up to {target}")
            elif STAGES[there] == STAGES[here] and there != here and (here, there) not in SIDEWAYS:
                wrong.append(f"{module} imports {target} across its stage")
    assert wrong == []


def test_no_import_circles() -> None:
    graph = _graph()
    circles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join([*trail, nxt]))
                elif nxt not in trail and len(trail) < 12:
                    stack.append((nxt, [*trail, nxt]))
    assert circles == []


def test_the_import_check_can_fail(tmp_path: Path) -> None:
    """The checker sees a function-level import that reaches up (as the old validation.py did)."""
    fake = tmp_path / "cptkg"
    (fake / "claims").mkdir(parents=True)
    (fake / "rules").mkdir()
    (fake / "claims" / "x.py").write_text("def f():\n    from cptkg.rules import y\n")
    (fake / "rules" / "y.py").write_text("from ..claims import x\n")
    modules = {"cptkg.claims.x": fake / "claims" / "x.py", "cptkg.rules.y": fake / "rules" / "y.py"}
    assert _imports("cptkg.claims.x", modules["cptkg.claims.x"], modules) == {"cptkg.rules.y"}
    assert _imports("cptkg.rules.y", modules["cptkg.rules.y"], modules) == {"cptkg.claims.x"}


def test_every_module_opens_with_what_it_does() -> None:
    for module, path in _modules().items():
        if module == "cptkg.__main__":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 8, f"{module} needs an opening docstring saying what it does"


def test_stages_import_alone() -> None:
    code = "import cptkg.claims, cptkg.rules, cptkg.report, cptkg.queries, cptkg.export, cptkg.kg"
    subprocess.run([sys.executable, "-c", code], check=True)
