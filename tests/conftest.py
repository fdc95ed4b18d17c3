"""Shared fixtures. The closure cache and the user's data folder go to per-session folders so tests
never depend on, or leave behind, a user's ~/.cache or added ICD-10-CM editions."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_CACHE = tempfile.mkdtemp(prefix="cptkg-test-cache-")
os.environ["CPTKG_CACHE_DIR"] = _CACHE
os.environ["CPTKG_DATA_DIR"] = tempfile.mkdtemp(prefix="cptkg-test-data-")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kg():
    from cptkg.kg.graph import KnowledgeGraph

    return KnowledgeGraph.default()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cptkg", *args],
        capture_output=True, text=True, input=stdin, env=full_env, cwd=cwd or ROOT, timeout=600,
    )
