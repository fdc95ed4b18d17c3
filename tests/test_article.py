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


def verbatim_sources(root: Path) -> list[tuple[str, str, str]]:
    """docs/verbatim-sources.tsv: (source id, where, words), the sources' own words."""
    rows = []
    for line in (root / "docs" / "verbatim-sources.tsv").read_text(encoding="utf-8").splitlines()[3:]:
        source, where, words = line.split("\t")
        rows.append((source, where, words))
    return rows


def test_every_quote_is_its_sources_verbatim_words(root: Path, kg) -> None:
    """Issue 29: every cptkg:quote in the graph is found, word for word (whitespace aside), in the
    listed words of one of its statement's own sources (docs/verbatim-sources.tsv, which says where
    each comes from); anything else is a cptkg:paraphrase."""
    import re

    from rdflib.namespace import DCTERMS, RDF

    from cptkg.kg.namespaces import CPT, CPTKG, SRC

    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    listed = verbatim_sources(root)
    assert all(where.strip() for _s, where, _w in listed)
    sources = {str(s) for s in kg.asserted.subjects(None, CPTKG.Source)}
    assert {str(SRC[s]) for s, _w, _t in listed} <= sources, "a listed source the graph does not have"
    # The article's lines are the article's: the list cannot drift from the file the graph is built from.
    article = [words for source, _where, words in listed if source == "article-20701"]
    assert article == article_lines(root)
    words_of: dict[str, list[str]] = {}
    for source, _where, words in listed:
        words_of.setdefault(str(SRC[source]), []).append(norm(words))
    quotes = list(kg.asserted.subject_objects(CPTKG.quote))
    assert len(quotes) >= 120
    not_verbatim = []
    for statement, quote in quotes:
        own = [w for s in kg.asserted.objects(statement, DCTERMS.source) for w in words_of.get(str(s), [])]
        if not any(norm(str(quote)) in w for w in own):
            not_verbatim.append((str(statement), str(quote)))
    assert not_verbatim == []
    # The paraphrases issue 29 named are paraphrases, and Ohio HIMA's words stand beside them.
    paraphrases = {str(p) for p in kg.asserted.objects(None, CPTKG.paraphrase)}
    assert {"a removal performed with no primary procedure is reported with 20680",
            "report once per anatomic site"} <= paraphrases
    said = {str(q) for _s, q in quotes}
    assert not {"a removal performed with no primary procedure is reported with 20680",
                "report once per anatomic site"} & said
    once = {str(kg.asserted.value(s, RDF.subject)) for s, q in quotes
            if str(q) == "may only be reported once per anatomical site"}
    assert once == {str(CPT[c]) for c in ("20700", "20701", "20702", "20703", "20704", "20705")}
