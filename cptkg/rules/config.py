"""The configuration file: rule severities, rule packs and the defaults of `cptkg validate`, in
TOML. `--config FILE`, else `cptkg.toml` in the working folder, else none. Every key is known:
an unknown key, section or rule is exit 2 naming it, never silently ignored.

    [rules]
    packs = ["examples/rule-packs/payer-strict"]   # relative to the file's folder

    [rules.severity]
    PlaceOfServiceTypical = "Violation"            # Violation, Warning, Info or off
    DocumentationComplete = "off"

    [validate]
    format = "json"           # human, table, json, jsonl, turtle
    fail-on = "warning"       # violation (default) or warning
    batch-size = 500
    engine = "oxigraph"       # or duckdb, pyshacl
    input-format = "fhir"     # as --input-format
    fhir-strict = false       # as --fhir-strict
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cptkg.errors import InputError

DEFAULT_FILE = "cptkg.toml"
FAIL_ON = ("violation", "warning")
SEVERITY_VALUES = ("Violation", "Warning", "Info", "off")


@dataclass
class Config:
    """What a configuration file says (empty when there is none)."""

    path: Path | None = None
    packs: list[str] = field(default_factory=list)
    severities: dict[str, str] = field(default_factory=dict)
    validate: dict[str, Any] = field(default_factory=dict)


def _check_keys(table: dict[str, Any], allowed: set[str], where: str, path: Path) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"{path}: unknown key {key!r} in {where} (known: {', '.join(sorted(allowed))})")


def load(explicit: str | None = None, cwd: Path | None = None) -> Config:
    """The configuration: ``explicit`` (--config), else cptkg.toml in ``cwd``, else none."""
    if explicit is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_FILE
        if not candidate.is_file():
            return Config()
        path = candidate
    else:
        path = Path(explicit)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the configuration {path}: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    _check_keys(data, {"rules", "validate"}, "the file (sections: [rules], [rules.severity], [validate])", path)
    config = Config(path=path)
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise InputError(f"{path}: [rules] must be a table")
    _check_keys(rules, {"packs", "severity"}, "[rules]", path)
    packs = rules.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
        raise InputError(f"{path}: [rules] packs must be a list of paths")
    config.packs = [str((path.parent / p) if not Path(p).is_absolute() else Path(p)) for p in packs]
    severity = rules.get("severity", {})
    if not isinstance(severity, dict):
        raise InputError(f"{path}: [rules.severity] must be a table of RuleID = severity")
    for rule, value in severity.items():
        if value not in SEVERITY_VALUES:
            raise InputError(f"{path}: [rules.severity] {rule} = {value!r}: use one of {', '.join(SEVERITY_VALUES)}")
    config.severities = dict(severity)
    validate = data.get("validate", {})
    if not isinstance(validate, dict):
        raise InputError(f"{path}: [validate] must be a table")
    _check_keys(validate, {"format", "fail-on", "batch-size", "engine", "input-format", "fhir-strict"}, "[validate]",
                path)
    # The allowed values are the ones the code has: the writers, the engines, the input forms.
    from cptkg.claims.files import FORMS
    from cptkg.report.writers import WRITERS
    from cptkg.rules.defaults import ENGINES

    choices = {"format": tuple(WRITERS), "fail-on": FAIL_ON, "engine": ENGINES, "input-format": tuple(FORMS)}
    for key, allowed in choices.items():
        if key in validate and validate[key] not in allowed:
            raise InputError(f"{path}: [validate] {key} = {validate[key]!r}: use one of {', '.join(allowed)}")
    if "batch-size" in validate and (not isinstance(validate["batch-size"], int) or validate["batch-size"] < 1):
        raise InputError(f"{path}: [validate] batch-size must be a whole number of at least 1")
    if "fhir-strict" in validate and not isinstance(validate["fhir-strict"], bool):
        raise InputError(f"{path}: [validate] fhir-strict must be true or false")
    config.validate = dict(validate)
    return config
