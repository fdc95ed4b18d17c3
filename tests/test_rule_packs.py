"""Rules users own: rule packs (shapes and facts), severities and --fail-on from a TOML
configuration, the rule catalog on the command line, and the claim data a payer's rule reads
(prior-authorization numbers from FHIR and X12)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cptkg.claims import read_bytes, read_paths
from cptkg.kg.namespaces import CPTKG
from cptkg.rules import packs
from cptkg.rules.validator import Validator
from tests.conftest import ROOT, run_cli

PACK = ROOT / "examples" / "rule-packs" / "payer-strict"
PACK_EXPECTED = json.loads((PACK / "expected-results.json").read_text(encoding="utf-8"))
FIXTURES = ROOT / "tests" / "fixtures" / "rule-packs"
EXAMPLES = ROOT / "examples" / "claims"


def _where(result) -> str:
    if result.line:
        return f"line {result.line}"
    if result.diagnosis:
        return f"dx {result.diagnosis}"
    return "claim"


def _results(paths: list[Path], spec: packs.RuleSpec | None = None, engine: str = "oxigraph") -> dict[str, list]:
    validator = Validator(engine=engine, rules=spec)
    return {Path(r.source).stem: sorted([r2.rule, _where(r2)] for r2 in r.results)
            for r in validator.validate(read_paths([str(p) for p in paths], None))}


@pytest.mark.parametrize("engine", ["oxigraph", "pyshacl"])
def test_the_example_pack_gives_its_expected_results_on_both_engines(engine: str) -> None:
    got = _results([PACK / "claims"], packs.spec([PACK]), engine)
    assert got == {name: entry["results"] for name, entry in PACK_EXPECTED.items()}
    assert len(got) == 4


def test_without_the_pack_its_rules_do_not_run() -> None:
    got = _results([PACK / "claims"])
    assert got["payer-prior-authorization_XFAIL"] == []
    assert got["payer-place-of-service_XFAIL"] == [["PlaceOfServiceTypical", "line 2"]]


def test_a_pack_of_facts_reaches_the_built_in_rules() -> None:
    claim = EXAMPLES / "no-facts-for-code_XFAIL.json"  # +20705 at place of service 11
    assert _results([claim])["no-facts-for-code_XFAIL"] == [["NoFactsForCode", "line 2"]]
    validator = Validator(rules=packs.spec([FIXTURES / "facts-only.ttl"]))
    (report,) = validator.validate(read_paths([str(claim)], None))
    found = {r.rule: r.message for r in report.results}
    assert sorted(found) == ["NoFactsForCode", "PlaceOfServiceTypical"]
    assert "typical: 21, 24" in found["PlaceOfServiceTypical"]
    assert "lists no specialties for 20705" in found["NoFactsForCode"]  # places are known now


def test_a_severity_set_off_removes_the_rule_and_one_raised_changes_conformance() -> None:
    claims = [EXAMPLES / "documentation_XFAIL.json", EXAMPLES / "place-of-service_XFAIL.json"]
    before = Validator().validate(read_paths([str(p) for p in claims], None))
    assert [(sorted(r.rule for r in c.results), c.conforms) for c in before] == [
        (["DocumentationComplete"] * 2, True), (["PlaceOfServiceTypical"], True)]
    spec = packs.spec(severities={"DocumentationComplete": "off", "PlaceOfServiceTypical": "Violation"})
    after = list(Validator(rules=spec).validate(read_paths([str(p) for p in claims], None)))
    assert [(sorted(r.rule for r in c.results), c.conforms) for c in after] == [
        ([], True), (["PlaceOfServiceTypical"], False)]
    assert after[1].results[0].severity == "Violation"


def _one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_fail_on_warning_exits_1_on_warnings_only(tmp_path: Path) -> None:
    warned = str(EXAMPLES / "specialty_XFAIL.json")  # a Warning, no Violation
    clean = str(EXAMPLES / "specialty_PASS.json")
    assert run_cli("validate", warned).returncode == 0
    assert run_cli("validate", warned, "--fail-on", "warning").returncode == 1
    assert run_cli("validate", clean, "--fail-on", "warning").returncode == 0
    config = tmp_path / "cptkg.toml"
    config.write_text('[validate]\nfail-on = "warning"\nformat = "json"\n', encoding="utf-8")
    from_file = run_cli("validate", warned, cwd=tmp_path)  # ./cptkg.toml is read by default
    assert from_file.returncode == 1 and json.loads(from_file.stdout)["conforms"] is True
    assert run_cli("validate", warned, "--fail-on", "violation", cwd=tmp_path).returncode == 0


def test_a_config_file_sets_packs_and_severities(tmp_path: Path) -> None:
    config = tmp_path / "payer.toml"
    config.write_text(f'[rules]\npacks = ["{PACK}"]\n\n[rules.severity]\nPayerPriorAuthorizationRequired = "Warning"\n'
                      'PlaceOfServiceTypical = "off"\n', encoding="utf-8")
    proc = run_cli("validate", str(PACK / "claims"), "--config", str(config), "--format", "json")
    assert proc.returncode == 1, proc.stderr  # the place-of-service Violation of the pack remains
    got = {Path(c["origin"]["file"]).stem: sorted((r["rule"], r["severity"]) for r in c["results"])
           for c in json.loads(proc.stdout)["claims"]}
    assert got["payer-prior-authorization_XFAIL"] == [("PayerPriorAuthorizationRequired", "Warning")]
    assert got["payer-place-of-service_XFAIL"] == [("PayerPlaceOfServiceRequired", "Violation")]
    listed = json.loads(run_cli("rules", "--config", str(config), "--format", "json").stdout)
    by_rule = {r["rule"]: r for r in listed}
    assert by_rule["PlaceOfServiceTypical"]["severity"] == "off"
    assert by_rule["PayerPriorAuthorizationRequired"]["severity"] == "Warning"
    assert by_rule["PayerPlaceOfServiceRequired"]["origin"] == str(PACK)


@pytest.mark.parametrize(("toml", "says"), [
    ('[rules.severity]\nNoSuchRule = "off"\n', "unknown rule 'NoSuchRule' in the severities"),
    ('[rules.severity]\nPlaceOfServiceTypical = "Fatal"\n', "PlaceOfServiceTypical = 'Fatal': use one of"),
    ('colour = "blue"\n', "unknown key 'colour' in the file"),
    ('[validate]\nformats = "json"\n', "unknown key 'formats' in [validate]"),
    ('[validate]\nfail-on = "info"\n', "fail-on = 'info': use one of violation, warning"),
    ('[rules\n', "not valid TOML"),
])
def test_a_bad_config_is_exit_2_naming_what(tmp_path: Path, toml: str, says: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    line = _one_line_error(run_cli("validate", str(EXAMPLES / "specialty_PASS.json"), "--config", str(config)))
    assert says in line and str(config) in line, line


@pytest.mark.parametrize(("pack", "says"), [
    ("uncompilable.ttl", "QuantityOneOrTwo: http://www.w3.org/ns/shacl#or is not compiled"),
    ("redefines-builtin.ttl", "is in cptkg's own namespace: a pack may not redefine a built-in rule"),
    ("no-message.ttl", "shape LineHasBodySite has no sh:message"),
    ("no-such-pack", "no such file or folder"),
])
def test_a_bad_pack_is_exit_2_naming_the_shape(pack: str, says: str) -> None:
    line = _one_line_error(run_cli("validate", str(EXAMPLES / "specialty_PASS.json"),
                                   "--rules", str(FIXTURES / pack)))
    assert says in line, line


def test_an_uncompilable_pack_runs_on_pyshacl(tmp_path: Path) -> None:
    claim = json.loads((EXAMPLES / "specialty_PASS.json").read_text(encoding="utf-8"))
    claim["item"][1]["quantity"] = {"value": 3}
    path = tmp_path / "three-units.json"
    path.write_text(json.dumps(claim), encoding="utf-8")
    proc = run_cli("validate", str(path), "--rules", str(FIXTURES / "uncompilable.ttl"), "--engine", "pyshacl",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr  # Warnings only
    found = sorted((r["rule"], r["line"]) for c in json.loads(proc.stdout)["claims"] for r in c["results"])
    assert ("QuantityOneOrTwo", "2") in found and ("QuantityOneOrTwo", "1") not in found


def test_the_rule_catalog_lists_every_rule_and_explains_one() -> None:
    listed = run_cli("rules")
    assert listed.returncode == 0, listed.stderr
    ids = re.findall(r"^(\w+)\s+(Violation|Warning|Info)\s+built in$", listed.stdout, re.M)
    assert ("PlaceOfServiceTypical", "Warning") in ids and ("AddOnModifier51", "Violation") in ids
    assert len(ids) >= 25
    shown = run_cli("rules", "show", "PayerPlaceOfServiceRequired", "--rules", str(PACK))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"PayerPlaceOfServiceRequired  (Violation, {PACK})")
    assert "payer:paidAtPlaceOfService" in shown.stdout and "XFAIL payer-place-of-service_XFAIL" in shown.stdout
    assert "sh:targetClass cptkg:ClaimItem" in shown.stdout
    detail = json.loads(run_cli("rules", "show", "PlaceOfServiceTypical", "--format", "json").stdout)
    assert detail["reads"] == ["cptkg:typicalPlaceOfService", "skos:notation"]
    assert "place-of-service_XFAIL" in detail["examples"]["xfail"]
    missing = _one_line_error(run_cli("rules", "show", "NoSuchRule"))
    assert missing.endswith("no rule 'NoSuchRule' (`cptkg rules` lists them)")


def test_prior_authorization_is_read_from_fhir_and_x12() -> None:
    fhir = json.loads((PACK / "claims" / "payer-prior-authorization_PASS.json").read_text(encoding="utf-8"))
    (record,) = read_bytes(json.dumps(fhir).encode(), "pa.json")
    assert [str(o) for _s, p, o in record.triples if p == CPTKG.priorAuthorization] == ["PA-2025-0142"]
    text = (ROOT / "examples" / "inputs" / "professional-20-claims.x12").read_text(encoding="utf-8")
    first_claim = text.index("CLM*PCN0001")
    after = text.index("~", first_claim) + 1
    text = text[:after] + "\nREF*G1*PA-837-0001~" + text[after:]
    text = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 1}*", text, count=1)
    records = list(read_bytes(text.encode(), "pa.x12"))
    assert all(r.error is None for r in records), [r.error for r in records if r.error]
    authorized = {r.claim_id: [str(o) for _s, p, o in r.triples if p == CPTKG.priorAuthorization] for r in records}
    assert authorized["PCN0001"] == ["PA-837-0001"] and authorized["PCN0002"] == []


PACK_HEAD = """@prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix ex: <https://example.org/packs/t#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
"""


@pytest.mark.parametrize(("body", "says"), [
    # a message on another shape is not this one's (nor is one on another constraint)
    ("""ex:Said a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ; sh:message "m" ;
           sh:path cptkg:bodySite ; sh:minCount 1 .
        ex:Unsaid a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ;
           sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o }" ] .""",
     "rule pack t.ttl: shape Unsaid has no sh:message: say what to do when it fires"),
    # nor is the message of a shape it names as a property shape
    ("""ex:Named a sh:PropertyShape ; sh:severity sh:Info ; sh:message "m" ; sh:path cptkg:bodySite ; sh:minCount 1 .
        ex:Naming a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ; sh:property ex:Named .""",
     "rule pack t.ttl: shape Naming has no sh:message: say what to do when it fires"),
    # a property shape a rule names is a rule of its own: an IRI and a severity of its own
    ("""ex:Nesting a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Warning ; sh:message "m" ;
           sh:property [ sh:path cptkg:bodySite ; sh:minCount 1 ] .""",
     "rule pack t.ttl: shape Nesting has a property shape without an IRI (a blank node): pySHACL reports its "
     "results under it, so it needs an IRI (its rule ID), a sh:severity and a sh:message of its own"),
    ("""ex:Nesting a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Warning ; sh:message "m" ;
           sh:property ex:Loose .
        ex:Loose sh:path cptkg:bodySite ; sh:minCount 1 ; sh:message "m" .""",
     "rule pack t.ttl: shape Loose has no sh:severity (Violation, Warning or Info)"),
    # a shape is known by its type too, not only by a severity
    ("""ex:Typed a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:message "m" ;
           sh:path cptkg:bodySite ; sh:minCount 1 .""",
     "rule pack t.ttl: shape Typed has no sh:severity (Violation, Warning or Info)"),
    ("""ex:Property a sh:PropertyShape ; sh:targetClass cptkg:ClaimItem ; sh:message "m" ;
           sh:path cptkg:bodySite ; sh:minCount 1 .""",
     "rule pack t.ttl: shape Property has no sh:severity (Violation, Warning or Info)"),
])
def test_a_pack_shape_is_judged_on_its_own_parts(body: str, says: str) -> None:
    from cptkg.errors import InputError

    pack = packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + body),))
    with pytest.raises(InputError) as caught:
        packs.build(packs.RuleSpec((pack,)))
    assert str(caught.value) == says


ADDON_SOURCES = ["aaos-now-2022-07", "article-20701", "cms-ncci-addon-edits", "cpt-assistant-2021-09",
                 "cpt-code-set-sections", "ohio-hima-2020-08"]
TITLES = {"aaos-now-2022-07": "AAOS Now: Coding Update for Drug-delivery Devices",
          "article-20701": "2025 CPT code 20701", "cms-ncci-addon-edits": "CMS Medicare NCCI add-on code edits",
          "cpt-assistant-2021-09": "CPT Assistant, September 2021", "cpt-code-set-sections": "CPT code set sections",
          "ohio-hima-2020-08": "Ohio HIMA coding update"}
GUIDANCE = ["aaos-now-2022-07", "cpt-assistant-2021-09", "ohio-hima-2020-08"]
EDITORS = ["cptkg-editors"]
# Issue 29: each built-in rule's sources, derived from the facts it reads (their SourcedStatements,
# or the node stating a fact no statement reifies) and the shape's own dcterms:source.
BUILT_IN_SOURCES = {
    "AddOnModifier51": sorted([*GUIDANCE, "article-20701", "cms-ncci-addon-edits", "cpt-appendix-a-modifiers"]),
    "AddOnPlaceMatchesPrimary": ADDON_SOURCES,
    "AddOnPrimaryListed": ["cpt-assistant-2021-09"],
    # CMS's file (the shape's own source) and CPT guidance (the graph's list, named where they disagree)
    "AOCType1PrimaryListed": ["cms-ncci-aoc-file", "cpt-assistant-2021-09"],
    "AOCType3PrimaryListed": ["cms-ncci-aoc-file", "cpt-assistant-2021-09"],
    "AddOnRequiresPrimary": ADDON_SOURCES,
    "CodeEffectiveOnDate": GUIDANCE,
    "DiagnosisCodeValid": ["nchs-icd10cm"],
    "DiagnosisEditionMissing": ["nchs-icd10cm"],
    "DiagnosisHasOneCode": EDITORS, "DiagnosisPointerResolves": EDITORS, "DiagnosisReferenceResolves": EDITORS,
    "DiagnosisSupportsNecessity": ["article-20701", "cptkg-domain-reference", "nchs-icd10cm"],
    "DocumentationComplete": ["article-20701"],
    "ExcludedCodePair": ["cpt-assistant-2021-09"],
    "ItemHasOneCode": EDITORS, "ItemHasOneDate": EDITORS, "ItemHasOnePlaceOfService": EDITORS,
    "ItemQuantityPositive": EDITORS,
    "MUEExceeded": ["cms-ncci-mue"],
    "NoFactsForCode": sorted([*GUIDANCE, "article-20701", "cms-place-of-service", "cms-specialty-crosswalk",
                              "cptkg-domain-reference", "nucc-taxonomy"]),
    "PTPEdit": ["cms-hcpcs-modifiers", "cms-ncci-ptp-edits", "cpt-appendix-a-modifiers"],
    "PlaceOfServiceTypical": ["article-20701", "cms-place-of-service"],
    "ProcedureCodeFormat": EDITORS, "ProviderReferenceResolves": EDITORS,
    "PumpRemovalCode": ["aaos-now-2022-07", "cpt-assistant-2021-09", "cptkg-domain-reference", "nchs-icd10cm"],
    "SeventhCharacterActiveTreatment": sorted([*GUIDANCE, "article-20701", "cptkg-domain-reference",
                                               "icd10cm-official-guidelines", "nchs-icd10cm"]),
    "SpecialtyTypical": ["article-20701", "cms-specialty-crosswalk", "nucc-taxonomy"],
    "UnitsPerSite": sorted([*GUIDANCE, "cms-hcpcs-modifiers", "cpt-appendix-a-modifiers"]),
}


def test_every_built_in_rules_sources_are_derived_from_the_facts_it_reads() -> None:
    """`cptkg rules` names as a rule's sources those of the graph facts it reads, never a bare
    "cptkg"; a rule that reads no sourced fact and cites none is the editors' (structure)."""
    from cptkg.rules import explain

    catalog = {entry["rule"]: entry for entry in explain.catalog(packs.RuleSpec())}
    assert {rid: entry["source"] for rid, entry in catalog.items() if rid in BUILT_IN_SOURCES} == BUILT_IN_SOURCES
    assert set(BUILT_IN_SOURCES) == {rid for rid, entry in catalog.items() if entry["origin"] == "built in"}
    assert all(entry["sources"] and all(s["title"] for s in entry["sources"]) for entry in catalog.values()
               if entry["origin"] == "built in")
    shown = explain.render_rule(explain.rule("DiagnosisSupportsNecessity", packs.RuleSpec()))
    assert "  article-20701  2025 CPT code 20701\n" in shown and "Source: cptkg" not in shown
    # the derivation itself: the sources of a property's statements, of a class's typing statements
    facts = explain._facts(packs.build(packs.RuleSpec()))
    from cptkg.kg.namespaces import CPTKG, SRC

    assert explain.sources_of_terms(facts, [str(CPTKG.necessityRestsOnIndication)]) == {SRC["article-20701"]}
    assert explain.sources_of_terms(facts, [str(CPTKG.notAppendedToAddOnCodes)]) == {SRC["cpt-appendix-a-modifiers"]}
    assert explain.sources_of_terms(facts, ["http://www.w3.org/2004/02/skos/core#notation"]) == set()


def test_a_rules_catalog_entry_and_its_explanation_whole() -> None:
    from cptkg.rules import explain

    spec = packs.spec([PACK])
    catalog = {entry["rule"]: entry for entry in explain.catalog(spec)}
    assert catalog["AddOnRequiresPrimary"] == {
        "rule": "AddOnRequiresPrimary", "iri": "https://w3id.org/cptkg/shapes#AddOnRequiresPrimary",
        "severity": "Violation", "checks": "an add-on code has a primary procedure",
        "reads": ["cptkg:AddOnCode", "cptkg:AddOnCodeEdit", "cptkg:acceptablePrimary", "cptkg:addOnCodeDeleted",
                  "cptkg:aocAddOnCode", "cptkg:aocEditType", "cptkg:editDeleted", "cptkg:editEffective",
                  "cptkg:firstCode", "cptkg:holdsPrimaryProcedures", "cptkg:lastCode", "cptkg:standaloneAlternative",
                  "skos:notation"],
        "origin": "built in", "source": ADDON_SOURCES,
        "sources": [{"id": s, "title": TITLES[s]} for s in ADDON_SOURCES],
        "engine": "duckdb", "not_on_duckdb": None}
    pack_rule = explain.rule("PayerPlaceOfServiceRequired", spec)
    pack_rule.pop("shape")
    assert pack_rule == {
        "rule": "PayerPlaceOfServiceRequired", "iri": "https://example.org/payer-strict/rules#PayerPlaceOfServiceRequired",
        "severity": "Violation",
        "checks": "the payer pays a drug-delivery device code only at the places of service it lists",
        "reads": ["payer:paidAtPlaceOfService", "skos:notation"], "origin": str(PACK), "source": [str(PACK)],
        "sources": [{"id": str(PACK), "title": ""}], "engine": "duckdb", "not_on_duckdb": None,
        "description": "",
        "messages": ["This payer pays {?code} only at places of service 21, 22 or 24, not {?place}: bill the place "
                     "where the service was rendered, or ask the payer for an exception."],
        "examples": {"folder": [str(PACK / "claims")], "xfail": ["payer-place-of-service_XFAIL"],
                     "pass": ["payer-place-of-service_PASS"]}}
    built_in = explain.rule("AddOnRequiresPrimary", packs.RuleSpec())
    assert built_in["description"].startswith("CMS: an add-on code is paid only with a primary procedure")
    assert built_in["messages"] == [
        "Add-on code {?code} has no primary procedure on this claim on the same date by the same rendering provider "
        "(a primary is a procedure of the CPT Surgery section, 10004-69990, or a listed acceptable primary; visits, "
        "imaging and drugs are not): report it with its primary procedure{?advice}."]
    assert built_in["examples"]["folder"] == ["examples/claims"]
    assert "addon-requires-primary-other-date_XFAIL" in built_in["examples"]["xfail"]
    assert "addon-requires-primary-other-date_PASS" in built_in["examples"]["pass"]


def test_a_rule_shows_its_own_messages_not_those_of_the_shapes_it_names() -> None:
    from cptkg.rules import explain

    # ex:Child is a rule of its own (it has a severity) that ex:Parent also names as a property
    # shape: pySHACL reports its results under ex:Child, so its message is not ex:Parent's.
    pack = packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + """
        ex:Parent a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ; sh:property ex:Child ;
           sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o }" ; sh:message "parent says" ] .
        ex:Child a sh:PropertyShape ; sh:severity sh:Warning ; sh:message "child says" ;
           sh:path cptkg:bodySite ; sh:minCount 1 ."""),))
    spec = packs.RuleSpec((pack,))
    assert explain.rule("Parent", spec)["messages"] == ["parent says"]
    assert explain.rule("Child", spec)["messages"] == ["child says"]
    # and so pySHACL reports it: a line without a body site breaks ex:Child, not ex:Parent
    from cptkg.claims import read_paths
    from cptkg.rules.validator import Validator

    [report] = Validator(engine="pyshacl", rules=spec).validate(list(read_paths([EXAMPLES / "specialty_PASS.json"])))
    assert [(r.rule, r.severity, r.line, r.message) for r in report.results if r.rule in ("Parent", "Child")] == [
        ("Child", "Warning", "1", "child says"), ("Parent", "Info", "1", "parent says"),
        ("Parent", "Info", "2", "parent says")]


def test_the_rules_catalog_and_one_rule_as_text() -> None:
    from cptkg.rules import explain

    spec = packs.spec([PACK])
    text = explain.render_catalog(explain.catalog(spec)).splitlines()
    start = next(n for n, line in enumerate(text) if line.startswith("AddOnRequiresPrimary "))
    pad = " " * 33
    assert text[start:start + 4] == [
        "AddOnRequiresPrimary             Violation  built in",
        f"{pad}an add-on code has a primary procedure",
        f"{pad}reads: cptkg:AddOnCode, cptkg:AddOnCodeEdit,",
        f"{pad}  cptkg:acceptablePrimary, cptkg:addOnCodeDeleted,"]
    shown = explain.render_rule(explain.rule("PayerPlaceOfServiceRequired", spec))
    assert shown.split("\nShape:\n")[0] == (
        f"PayerPlaceOfServiceRequired  (Violation, {PACK})\n"
        "  the payer pays a drug-delivery device code only at the places of service it lists\n\n"
        "Message:\n"
        "  This payer pays {?code} only at places of service 21, 22 or 24, not {?place}: bill the place where the "
        "service was rendered, or ask the payer for an exception.\n\n"
        "Reads from the graph:\n  payer:paidAtPlaceOfService, skos:notation\n\n"
        f"Sources (of the facts it reads, and its own):\n  {PACK}\n\n"
        "With --engine duckdb: DuckDB (the compiled check as SQL)\n\n"
        f"Examples ({PACK / 'claims'}):\n"
        "  XFAIL payer-place-of-service_XFAIL\n"
        "  PASS  payer-place-of-service_PASS\n")


def test_a_pack_rules_source_is_its_own_and_the_longest_prefix_names_a_term() -> None:
    from cptkg.rules import explain

    body = """@prefix dcterms: <http://purl.org/dc/terms/> .
        ex:Cited a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ; sh:message "m" ;
           dcterms:source <https://example.org/policy/7> ; sh:path cptkg:bodySite ; sh:minCount 1 .
        ex:Uncited a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ; sh:message "m" ;
           sh:path cptkg:bodySite ; sh:maxCount 3 ."""
    spec = packs.RuleSpec((packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + body),)),))
    catalog = {entry["rule"]: entry for entry in explain.catalog(spec)}
    assert catalog["Cited"]["source"] == ["https://example.org/policy/7"]
    assert catalog["Uncited"]["source"] == ["t.ttl"]
    assert catalog["AddOnRequiresPrimary"]["source"] == ADDON_SOURCES
    names = {"cptkg": "https://w3id.org/cptkg/", "ont": "https://w3id.org/cptkg/ontology#", "": "https://w3id.org/"}
    assert explain._short("https://w3id.org/cptkg/ontology#firstCode", names) == "ont:firstCode"
    assert explain._short("https://w3id.org/cptkg/cpt/20701", names) == "cptkg:cpt/20701"
    assert explain._short("https://w3id.org/cptkg/", names) == "<https://w3id.org/cptkg/>"
    assert explain._short("https://w3id.org/x", names) == "<https://w3id.org/x>"


@pytest.mark.parametrize(("toml", "says"), [
    ("[validate]\nbatch-size = 0\n", "[validate] batch-size must be a whole number of at least 1"),
    ('[validate]\nbatch-size = "500"\n', "[validate] batch-size must be a whole number of at least 1"),
    ('[validate]\nfhir-strict = "yes"\n', "[validate] fhir-strict must be true or false"),
    ("[validate]\nfhir-strict = 1\n", "[validate] fhir-strict must be true or false"),
    ('[rules]\npacks = "one"\n', "[rules] packs must be a list of paths"),
    ("rules = 1\n", "[rules] must be a table"),
    ("validate = 1\n", "[validate] must be a table"),
])
def test_each_configuration_value_is_checked_in_process(tmp_path: Path, toml: str, says: str) -> None:
    from cptkg.errors import InputError
    from cptkg.rules import config

    path = tmp_path / "cptkg.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        config.load(str(path))
    assert str(caught.value) == f"{path}: {says}"
    with pytest.raises(InputError):  # the same file found by its name (cptkg.toml) is refused too
        config.load(cwd=tmp_path)


def test_a_configuration_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    from cptkg.errors import InputError
    from cptkg.rules import config

    with pytest.raises(InputError) as caught:
        config.load(str(tmp_path))
    assert str(caught.value) == f"cannot read the configuration {tmp_path}: Is a directory"
    (tmp_path / "cptkg.toml").write_text('[validate]\nformat = "json"\nbatch-size = 50\nfhir-strict = true\n',
                                         encoding="utf-8")
    found = config.load(cwd=tmp_path)
    assert (found.path, found.validate) == (tmp_path / "cptkg.toml",
                                            {"format": "json", "batch-size": 50, "fhir-strict": True})
    assert config.load(cwd=tmp_path / "elsewhere").path is None


def test_a_rules_own_message_and_a_path_its_query_binds() -> None:
    """A core shape's message is its own (not another shape's); a pack query that binds ?path names
    the element on both engines."""
    from cptkg.claims import read_paths
    from cptkg.rules import explain
    from cptkg.rules.validator import Validator

    assert explain.rule("ItemHasOneDate", packs.RuleSpec())["messages"] == [
        "A service line needs exactly one date of service, an xsd:date such as 2025-03-04 (got {$value})."]
    body = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        ex:SiteNamed a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ;
           sh:sparql [ sh:message "say the site" ; sh:prefixes cptkg: ; sh:select '''SELECT $this ?path
             WHERE { $this (cptkg:productOrService) ?code . BIND(cptkg:bodySite AS ?path) }''' ] .
        cptkg: sh:declare [ sh:prefix "cptkg" ;
           sh:namespace "https://w3id.org/cptkg/ontology#"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] ."""
    spec = packs.RuleSpec((packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + body),)),))
    items = [str(item["sequence"])
             for item in json.loads((EXAMPLES / "specialty_PASS.json").read_text(encoding="utf-8"))["item"]]
    for engine in ("oxigraph", "pyshacl"):
        [report] = Validator(engine=engine, rules=spec).validate(list(read_paths([EXAMPLES / "specialty_PASS.json"])))
        named = sorted((r.line, r.path) for r in report.results if r.rule == "SiteNamed")
        assert named == [(line, "https://w3id.org/cptkg/ontology#bodySite") for line in items], engine


def test_a_core_shapes_message_names_its_focus_node_and_drops_a_value_it_did_not_get() -> None:
    """{$this} in a pack's core-constraint message is the line's IRI; " (got {$value})" goes when a
    minCount result has no value; the same on both engines."""
    from cptkg.claims import read_paths
    from cptkg.rules.validator import Validator

    body = """ex:SiteNeeded a sh:PropertyShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ;
           sh:message "line {$this} needs a site (got {$value})" ; sh:path cptkg:bodySite ; sh:minCount 1 ."""
    spec = packs.RuleSpec((packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + body),)),))
    for engine in ("oxigraph", "pyshacl"):
        [report] = Validator(engine=engine, rules=spec).validate(list(read_paths([EXAMPLES / "specialty_PASS.json"])))
        said = [(r.focus, r.message) for r in report.results if r.rule == "SiteNeeded"]
        assert [focus.rsplit("::", 1)[-1] for focus, _message in said] == ["specialty-PASS/item/1"], engine
        assert [message for _focus, message in said] == [f"line {said[0][0]} needs a site"], engine


def test_a_pack_query_oxigraph_cannot_run_is_refused_before_any_claim_is_read() -> None:
    from cptkg.errors import InputError
    from cptkg.rules.validator import Validator

    body = """ex:Broken a sh:NodeShape ; sh:targetClass cptkg:ClaimItem ; sh:severity sh:Info ;
           sh:sparql [ sh:message "m" ; sh:select "SELECT $this WHERE { $this ?p ?x FILTER (?x >) }" ] ."""
    spec = packs.RuleSpec((packs.PackSource("t.ttl", (("t.ttl", PACK_HEAD + body),)),))
    with pytest.raises(InputError) as caught:
        Validator(rules=spec)
    said = str(caught.value)
    assert said.startswith("rule pack t.ttl: https://example.org/packs/t#Broken: its SPARQL does not run (error at ")
    assert said.endswith("): the compiled engines do not run it (`--engine pyshacl` runs it on pySHACL)")


def test_a_refused_pack_is_named_among_several() -> None:
    """The pack a shape comes from is found by asking each pack, not by reading the refusal."""
    from cptkg.errors import InputError
    from cptkg.rules.validator import Validator

    bad = FIXTURES / "uncompilable.ttl"
    with pytest.raises(InputError) as caught:
        Validator(rules=packs.spec([PACK, bad]))
    said = str(caught.value)
    assert said.startswith(f"rule pack {bad}: ") and "QuantityOneOrTwo" in said, said
