"""cptkg: a knowledge graph of CPT 20701 and its related codes, with SHACL claim rules.

The public API is small: :class:`KnowledgeGraph` (the packaged graph, its inferred closure and the
named queries over it), :func:`validate` (claims in, a typed report out) and :func:`query`
(a named query, rows out). Heavy modules load only when one of these is used, so importing cptkg
is cheap and prints nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cptkg._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from cptkg.kg.graph import KnowledgeGraph
    from cptkg.report.model import ValidationReport

__all__ = ["KnowledgeGraph", "ValidationReport", "__version__", "query", "validate"]


def __getattr__(name: str) -> Any:
    # Lazy re-exports: `cptkg show` must not pay for pyshacl or fhir.resources imports.
    if name == "KnowledgeGraph":
        from cptkg.kg.graph import KnowledgeGraph

        return KnowledgeGraph
    if name == "ValidationReport":
        from cptkg.report.model import ValidationReport

        return ValidationReport
    raise AttributeError(name)


def validate(*sources: Any, rules: Iterable[str | Path] = (), severities: Mapping[str, str] | None = None,
             fhir_strict: bool = False, **options: Any) -> ValidationReport:
    """Validate claims (paths, or ClaimRecords) and return a :class:`ValidationReport`, as `cptkg
    validate` does: ``rules`` rule packs to add (as --rules), ``severities`` a rule ID to
    Violation, Warning, Info or off (as [rules.severity] of the configuration), ``fhir_strict``
    FHIR claims read with fhir.resources (as --fhir-strict). Other options (``batch_size``,
    ``engine``, ``input_format``) as cptkg.rules.validator.validate_paths takes them."""
    from cptkg.rules.validator import validate_paths

    return validate_paths(*sources, rules=rules, severities=severities, fhir_strict=fhir_strict, **options)


def query(name: str, **params: str) -> list[dict[str, Any]]:
    """Run the named query ``name`` on the inferred graph; rows as dicts of Python values."""
    from cptkg.queries import run_named

    return run_named(name, params).as_dicts()
