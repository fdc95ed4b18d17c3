"""The user's data folder: what a user adds to cptkg (ICD-10-CM editions today) lives here, never
in the package. `$CPTKG_DATA_DIR` if set, else the platform's user data folder (platformdirs:
~/.local/share/cptkg on Linux). Nothing is written until a user adds something."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "CPTKG_DATA_DIR"


def data_dir() -> Path:
    explicit = os.environ.get(ENVIRONMENT_VARIABLE)
    if explicit:
        return Path(explicit)
    import platformdirs  # only when no folder is named: the common test and CI path skips it

    return Path(platformdirs.user_data_dir("cptkg", appauthor=False))


def folder(name: str) -> Path:
    """A part of the data folder (``icd10cm``), not created."""
    return data_dir() / name
