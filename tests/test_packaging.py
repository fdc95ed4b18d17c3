"""The wheel carries ontology/, shapes/ and queries/: built, installed in a fresh virtual
environment outside the source tree, and run there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_wheel_installs_and_runs_outside_the_tree(root: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
         str(root)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list(dist.glob("cptkg-*.whl"))
    assert len(wheels) == 1

    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "cptkg/data/ontology/article-20701.ttl" in names
    assert "cptkg/data/queries/related-codes.rq" in names
    assert any(n.startswith("cptkg/data/shapes/") for n in names)
    assert {"cptkg/data/icd10cm/editions.json", "cptkg/data/icd10cm/2026-04.tsv.gz"} <= set(names)
    assert {"cptkg/py.typed", "cptkg/data/examples/expected-results.json",
            "cptkg/data/examples/claims/addon-modifier-51_XFAIL.json"} <= set(names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    # The dependencies come from this environment (a .pth line, no network); cptkg itself only
    # from the wheel, installed without dependencies.
    site = Path(subprocess.check_output(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index",
                              str(wheels[0])], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["CPTKG_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run([str(py), "-c", "import cptkg; print(cptkg.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    proc = subprocess.run([str(venv / "bin" / "cptkg"), "show", "20701", "--format", "json"],
                          capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["notation"] == "20701"
    # `rules show` names its examples from the wheel, in the folder they were installed to.
    shown = subprocess.run([str(venv / "bin" / "cptkg"), "rules", "show", "AddOnModifier51", "--format", "json"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600)
    assert shown.returncode == 0, shown.stderr
    examples = json.loads(shown.stdout)["examples"]
    assert examples["xfail"] == ["addon-modifier-51_XFAIL"]
    assert (Path(examples["folder"][0]) / "addon-modifier-51_XFAIL.json").is_file()
