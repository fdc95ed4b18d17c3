"""The source article, line by line: each statement is carried by triples of the graph.

Each entry pairs an article line (matched by its opening words, so an edit to the article shows up
here) with ASK queries that must hold on the asserted graph.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PREFIXES = """
PREFIX cptkg: <https://w3id.org/cptkg/ontology#>
PREFIX cpt: <https://w3id.org/cptkg/cpt/>
PREFIX pos: <https://w3id.org/cptkg/pos/>
PREFIX nucc: <https://w3id.org/cptkg/nucc/>
PREFIX ind: <https://w3id.org/cptkg/indication/>
PREFIX docel: <https://w3id.org/cptkg/documentation-element/>
PREFIX cptkgd: <https://w3id.org/cptkg/data/>
PREFIX src: <https://w3id.org/cptkg/source/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def sourced(s: str, p: str, o: str, source: str = "src:article-20701") -> str:
    """ASK body: the triple holds and a sourced statement attributes it to ``source``."""
    return (f"{s} {p} {o} . ?st rdf:subject {s} ; rdf:predicate {p} ; rdf:object {o} ; "
            f"dcterms:source {source} .")


ARTICLE = [
    ("2025 CPT code 20701", [
        'src:article-20701 a cptkg:Source ; dcterms:title "2025 CPT code 20701"@en ; '
        'dcterms:date "2025"^^xsd:gYear .',
        'cpt:20701 skos:notation "20701" ; skos:inScheme <https://w3id.org/cptkg/cpt> .',
    ]),
    ("Removal of drug-delivery device(s), deep", [
        sourced("cpt:20701", "cptkg:descriptor",
                '"Removal of drug-delivery device(s), deep (eg, subfascial)."@en'),
        sourced("cpt:20701", "cptkg:action", "cptkgd:action-removal"),
        sourced("cpt:20701", "cptkg:anatomicSite", "cptkgd:site-deep-subfascial"),
        sourced("cpt:20701", "rdf:type", "cptkg:AddOnCode"),
        sourced("cpt:20701", "cptkg:reportingInstruction",
                '"This code is reported separately in addition to the code for the primary '
                'procedure."@en'),
    ]),
    ("Medical necessity for the removal", [
        sourced("cpt:20701", "cptkg:necessityRestsOnIndication", "true"),
        "cpt:20701 cptkg:medicalNecessity ?text . FILTER(CONTAINS(?text, 'underlying condition'))",
        sourced("cpt:20701", "cptkg:indication", "ind:infection"),
        sourced("cpt:20701", "cptkg:indication", "ind:malfunction"),
    ]),
    ("With the patient prepared and under anesthesia", [
        "cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 8 ] . "
        "FILTER NOT EXISTS { cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 9 ] }",
        "cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 1 ; rdfs:label ?l ] . "
        "FILTER(CONTAINS(?l, 'opens the previous incision'))",
        "cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 3 ; rdfs:label ?l ] . "
        "FILTER(CONTAINS(?l, 'between the fascial and muscle layers'))",
        "cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 5 ; rdfs:label ?l ] . "
        "FILTER(CONTAINS(?l, 'disconnect the intrathecal catheter'))",
        "cpt:20701 cptkg:procedureStep [ cptkg:stepOrder 8 ; rdfs:label ?l ] . "
        "FILTER(CONTAINS(?l, 'bandage'))",
        sourced("cpt:20701", "cptkg:device", "cptkgd:device-subfascial-pump"),
        sourced("cpt:20701", "cptkg:device", "cptkgd:device-intrathecal-catheter"),
    ]),
    ("In simple words", [
        sourced("cpt:20701", "cptkg:plainDescription",
                '"The doctor removes a medicine pump from under the muscle and skin layers during '
                'a separate, main procedure."@en'),
    ]),
    ("The provider removes a previously placed", [
        "cpt:20701 cptkg:summary ?s . FILTER(STRSTARTS(?s, 'The provider removes a previously'))",
        sourced("cpt:20701", "cptkg:reportingInstruction",
                '"This code must be reported in addition to the code for the primary '
                'procedure."@en'),
        sourced("cptkgd:device-subfascial-pump", "cptkg:connectedTo",
                "cptkgd:device-intrathecal-catheter"),
        sourced("cptkgd:device-subfascial-pump", "cptkg:delivers", "cptkgd:drug-baclofen"),
        sourced("cptkgd:drug-baclofen", "cptkg:treats", "cptkgd:condition-muscle-spasms"),
        sourced("cptkgd:drug-baclofen", "cptkg:treats", "cptkgd:condition-cerebral-palsy"),
        sourced("cpt:20701", "cptkg:patientCondition", "cptkgd:condition-cerebral-palsy"),
        sourced("cpt:20701", "cptkg:patientCondition", "cptkgd:condition-spastic-conditions"),
        sourced("cpt:20701", "cptkg:indication", "ind:dislocation"),
        sourced("cpt:20701", "cptkg:indication", "ind:pump-catheter-separation"),
        sourced("cpt:20701", "cptkg:indication", "ind:other-cause"),
    ]),
    ("Example 1:", [
        sourced("cpt:20701", "cptkg:example", "cptkgd:20701-example-1"),
        "cptkgd:20701-example-1 cptkg:exampleIndication ind:infection ; "
        "cptkg:exampleCondition cptkgd:condition-cerebral-palsy ; dcterms:source src:article-20701 .",
        "cptkgd:20701-example-2 cptkg:exampleIndication ind:pump-catheter-separation .",
        "cptkgd:20701-example-3 cptkg:exampleIndication ind:dislocation ; "
        "cptkg:examplePrimaryCode cpt:62361, cpt:62362 .",
        sourced("cpt:20701", "cptkg:primaryContext", "cpt:62361"),
    ]),
    ("Documentation should include", [
        sourced("cpt:20701", "cptkg:requiresDocumentation", f"docel:{key}")
        for key in ("primary-procedure", "removal-reason", "device-location", "complications")
    ]),
    ("** For manual preparation and insertion", [
        sourced("cpt:20701", "cptkg:seeAlso", f"cpt:{code}")
        for code in ("20700", "20702", "20703", "20704", "20705")
    ]),
    ("- Specialties:", [
        sourced("cpt:20701", "cptkg:typicalSpecialty", "nucc:207X00000X"),
        sourced("cpt:20701", "cptkg:typicalSpecialty", "nucc:207T00000X"),
        sourced("cpt:20701", "cptkg:typicalSpecialty", "nucc:208VP0000X"),
    ]),
    ("- Place of Service:", [
        sourced("cpt:20701", "cptkg:typicalPlaceOfService", "pos:21"),
        sourced("cpt:20701", "cptkg:typicalPlaceOfService", "pos:24"),
    ]),
]


def article_lines(root: Path) -> list[str]:
    # The repo keeps a copy of the source article (docs/), so the test runs anywhere; where the
    # shared original is beside the checkout, the copy must still match it.
    path = root / "docs" / "cpt-20701-article.txt"
    original = root.parent / "shared" / "domain" / "cpt-20701-article.txt"
    if original.exists():
        assert original.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            "docs/cpt-20701-article.txt differs from shared/domain: copy it again and update the graph")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_article_line_is_covered(root: Path) -> None:
    lines = article_lines(root)
    covered = [opening for opening, _ in ARTICLE]
    for line in lines:
        assert any(line.startswith(o) for o in covered), f"no triples asserted for: {line[:60]}"
    for opening in covered:
        assert any(line.startswith(opening) for line in lines), f"not in the article: {opening}"


@pytest.mark.parametrize(("opening", "ask"), [(o, a) for o, asks in ARTICLE for a in asks])
def test_article_statement_in_graph(kg, opening: str, ask: str) -> None:
    assert kg.asserted.query(PREFIXES + f"ASK {{ {ask} }}").askAnswer, f"{opening}: {ask}"


def test_article_cases_are_all_collected() -> None:
    # pySHACL's lesson: a stray filter can shrink a parametrized suite silently.
    assert sum(len(asks) for _, asks in ARTICLE) >= 45


def test_quotes_of_the_article_are_its_verbatim_words(root: Path, kg) -> None:
    """A cptkg:quote is a source's own words: every quote on a statement sourced to the article
    appears in it (whitespace aside); paraphrases live in cptkg:paraphrase."""
    import re

    from rdflib.namespace import DCTERMS

    from cptkg.kg.namespaces import CPTKG, SRC

    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    article = norm(" ".join(article_lines(root)))
    quotes = [(statement, str(quote)) for statement, quote in kg.asserted.subject_objects(CPTKG.quote)
              if (statement, DCTERMS.source, SRC["article-20701"]) in kg.asserted]
    assert len(quotes) >= 20
    not_verbatim = [(str(s), q) for s, q in quotes if norm(q) not in article]
    assert not_verbatim == []
