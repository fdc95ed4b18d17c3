"""The rule catalog: the claim shapes of shapes/claims/ (loaded once per process), each rule a shape
whose IRI is cptkgsh:<RuleID>, with its severity, label and message, and what the shape says of
itself beyond what it checks (its annotations, in the cptkgsh: namespace):

- ``cptkgsh:fhirIssueType``: the FHIR issue type (http://hl7.org/fhir/issue-type) of its results
  in an OperationOutcome; every rule has one (``business-rule`` for the coding rules);
- ``cptkgsh:fhirElement``: the element of ``Claim.item`` a result on a line points at (its
  FHIRPath); every rule that targets claim lines has one;
- ``cptkgsh:unjudgedWithout``: the facts of a code (a field of the `cptkg show` card:
  ``placesOfService``, ``specialties``, ``indications``) without which the rule cannot judge a
  line of that code, so NoFactsForCode names it.

A built-in shape without its annotations is refused when the catalog loads (a new rule's FHIRPath
once pointed at productOrService silently); a rule pack's shape may state them, else gets the
defaults (``business-rule``, ``productOrService``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SH

from cptkg.kg import resources
from cptkg.kg.namespaces import CPTKG, CPTKGSH

FHIR_ISSUE_TYPE = CPTKGSH.fhirIssueType
FHIR_ELEMENT = CPTKGSH.fhirElement
UNJUDGED_WITHOUT = CPTKGSH.unjudgedWithout
# What a result is reported as where its shape does not say (a rule pack's shape).
DEFAULT_ISSUE_TYPE = "business-rule"
DEFAULT_ELEMENT = "productOrService"
# The facts a rule may be unable to judge without: the `cptkg show` card's fields.
CODE_FACTS = ("placesOfService", "specialties", "indications")
# The FHIR R4 issue types (http://hl7.org/fhir/ValueSet/issue-type).
ISSUE_TYPES = frozenset({
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient",
    "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational"})


class InvalidShape(ValueError):
    """A built-in shape that does not say what the catalog needs of it (a defect of cptkg)."""


def claim_shapes() -> Graph:
    return resources.shapes_in("claims")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    label: str
    message: str
    issue_type: str = DEFAULT_ISSUE_TYPE
    element: str | None = DEFAULT_ELEMENT  # None: the rule does not judge claim lines
    unjudged_without: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleOutcome:
    """How a rule's results are reported in FHIR: the issue type, and the line element."""

    issue_type: str
    element: str


def _one_text(graph: Graph, shape: Any, predicate: Any) -> str | None:
    values = [str(v) for v in graph.objects(shape, predicate)]
    if len(values) > 1:
        raise InvalidShape(f"{shape}: {len(values)} values of {predicate}; give one")
    return values[0] if values else None


def shape_annotations(graph: Graph, shape: Any, *, required: bool) -> tuple[str, str | None, tuple[str, ...]]:
    """A shape's issue type, line element and unjudged-without facts; ``required`` (a built-in
    shape): refused (InvalidShape) when one is missing or not a value it may take."""
    issue_type = _one_text(graph, shape, FHIR_ISSUE_TYPE)
    element = _one_text(graph, shape, FHIR_ELEMENT)
    facts = tuple(sorted(str(v) for v in graph.objects(shape, UNJUDGED_WITHOUT)))
    on_lines = (shape, SH.targetClass, CPTKG.ClaimItem) in graph
    if required:
        if issue_type is None:
            raise InvalidShape(f"{shape}: no cptkgsh:fhirIssueType (the FHIR issue type of its results: "
                               "business-rule for a coding rule; docs/rules.md)")
        if element is None and on_lines:
            raise InvalidShape(f"{shape}: no cptkgsh:fhirElement (the element of Claim.item its results "
                               "point at, such as productOrService or locationCodeableConcept; docs/rules.md)")
    if issue_type is not None and issue_type not in ISSUE_TYPES:
        raise InvalidShape(f"{shape}: cptkgsh:fhirIssueType {issue_type!r} is not a FHIR issue type")
    unknown = sorted(set(facts) - set(CODE_FACTS))
    if unknown:
        raise InvalidShape(f"{shape}: cptkgsh:unjudgedWithout {unknown[0]!r} is not one of {', '.join(CODE_FACTS)}")
    return issue_type or DEFAULT_ISSUE_TYPE, element or (DEFAULT_ELEMENT if on_lines or not required else None), facts


def outcomes(graph: Graph, rules: Iterable[Any] | None = None) -> dict[str, RuleOutcome]:
    """How the results of each rule of a shapes graph (built in and from packs) are reported."""
    out = {}
    for shape in rules if rules is not None else graph.subjects(SH.severity, None):
        if isinstance(shape, URIRef):
            issue_type, element, _facts = shape_annotations(graph, shape, required=False)
            out[rule_id(shape)] = RuleOutcome(issue_type, element or DEFAULT_ELEMENT)
    return out


def rule_id(shape: object) -> str:
    """A shape's rule ID: its name after cptkgsh: for a built-in rule, its IRI's local name (after
    the last # or /) for a rule pack's."""
    text = str(shape)
    if text.startswith(str(CPTKGSH)):
        return text[len(str(CPTKGSH)):]
    local = text.rsplit("#", 1)[-1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]
    return local or text


@cache
def catalog() -> dict[str, Rule]:
    """Every built-in rule (a shape with an IRI in cptkgsh: and a severity), by rule ID."""
    return rules_of(claim_shapes())


def rules_of(graph: Graph) -> dict[str, Rule]:
    """The rules of a graph of built-in shapes, by rule ID; a shape without the annotations the
    catalog needs is refused (InvalidShape)."""
    out: dict[str, Rule] = {}
    for shape, severity in graph.subject_objects(SH.severity):
        if not isinstance(shape, URIRef):
            continue
        message = graph.value(shape, SH.message)
        if message is None:
            sparql = graph.value(shape, SH.sparql)
            message = graph.value(sparql, SH.message) if sparql is not None else None
        issue_type, element, facts = shape_annotations(graph, shape, required=True)
        out[rule_id(shape)] = Rule(
            rule_id(shape),
            str(severity).rsplit("#", 1)[-1],
            str(graph.value(shape, RDFS.label) or ""),
            str(message or ""),
            issue_type,
            element,
            facts,
        )
    return dict(sorted(out.items()))


def unjudged_without(fact: str) -> list[str]:
    """The built-in rules that cannot judge a line whose code lacks ``fact`` (one of CODE_FACTS),
    as NoFactsForCode names them."""
    return [rid for rid, rule in catalog().items() if fact in rule.unjudged_without]
