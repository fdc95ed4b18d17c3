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
# CMS NCCI tables in CMS's layouts (tests/fixtures/ncci/), read by the NCCI and evidence tests.
NCCI_FIXTURES = ROOT / "tests" / "fixtures" / "ncci"
PTP = NCCI_FIXTURES / "ptp-practitioner-2025Q1.txt"
MUE = NCCI_FIXTURES / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv"


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The PTP and MUE fixture tables imported into a data folder of the test's own."""
    from cptkg.kg import ncci

    monkeypatch.setenv("CPTKG_DATA_DIR", str(tmp_path / "data"))
    ncci.import_file(PTP.read_bytes(), PTP.name)
    ncci.import_file(MUE.read_bytes(), MUE.name)
    return tmp_path / "data"


@pytest.fixture(scope="session")
def kg():
    from cptkg.kg.graph import KnowledgeGraph

    return KnowledgeGraph.default()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Under mutation testing (mutmut sets MUTANT_UNDER_TEST) the command line runs in the test's own
# process: mutmut chooses the tests for a mutant by the functions each test reached in-process, so
# code reached only through a subprocess would count as reached by no test.
IN_PROCESS = bool(os.environ.get("MUTANT_UNDER_TEST") or os.environ.get("CPTKG_TEST_CLI_IN_PROCESS"))


def shared_scope(fixture_name: str, config: pytest.Config) -> str:
    """The scope of a fixture that tests share (a validator, a validated folder): the module, except
    under mutation testing, where each test builds its own: mutmut links a test to the functions it
    reached, and a fixture built once would link its work to the first test only."""
    return "function" if IN_PROCESS else "module"


def files_for(request: pytest.FixtureRequest, folder: Path) -> list[Path]:
    """The files a shared validated-folder fixture reads: the whole folder, except under mutation
    testing for a test about one example (a ``name`` parameter), which gets that example's files
    alone (every test validating the whole folder made a mutant's run take minutes)."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    name = params.get("name")
    if IN_PROCESS and isinstance(name, str):
        return sorted(folder.glob(f"{Path(name).stem}.*"))
    return [folder]


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess, as a user would (under mutation testing, in this
    process, unless the test sets the environment, which only a process of its own can have)."""
    if IN_PROCESS and not env:
        return _run_cli_in_process(list(args), stdin, cwd or ROOT)
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cptkg", *args],
        capture_output=True, text=True, input=stdin, env=full_env, cwd=cwd or ROOT, timeout=600,
    )


def _run_cli_in_process(args: list[str], stdin: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``cptkg.cli.main`` with its standard streams and working folder swapped, as a subprocess
    would see them; an exception escaping main is printed as the traceback a process would print."""
    import io
    import logging
    import traceback

    from cptkg.cli import main

    def stream(data: bytes = b"") -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", write_through=True)

    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd(), list(logging.root.handlers)
    sys.stdin, sys.stdout, sys.stderr = stream((stdin or "").encode()), stream(), stream()
    logging.root.handlers.clear()  # main's basicConfig binds the log to this call's stderr
    os.chdir(cwd)
    try:
        try:
            code = main(args)
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        out = sys.stdout.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]
        err_text = sys.stderr.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]
    finally:
        sys.stdin, sys.stdout, sys.stderr, cwd_before, handlers = saved
        os.chdir(cwd_before)
        logging.root.handlers[:] = handlers
    return subprocess.CompletedProcess([sys.executable, "-m", "cptkg", *args], code, out, err_text)
