"""The HTML report and the code diagrams as files: what they say, that they load nothing from
anywhere, and that input cannot inject markup (the browser tests look at them rendered)."""

from __future__ import annotations

import json
import re
import xml.dom.minidom
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, shared_scope

EXAMPLES = ROOT / "examples" / "claims"
# Anything that would make a browser fetch: src/href/url() to another place than the page itself.
FETCHES = re.compile(r"""(?:src|href)\s*=\s*["'](?!#)[^"']+|url\(|@import|<link\b""", re.IGNORECASE)


def test_report_formats_are_the_writers() -> None:
    from cptkg.cli import REPORT_FORMATS
    from cptkg.report.writers import WRITERS

    assert tuple(WRITERS) == REPORT_FORMATS


@pytest.fixture(scope=shared_scope)
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    folder = tmp_path_factory.mktemp("html")
    out = {}
    for form in ("html", "json"):
        target = folder / f"report.{form}"
        done = run_cli("validate", str(EXAMPLES), "--format", form, "--output", str(target))
        assert done.returncode == 1, done.stderr
        out[form] = target.read_text(encoding="utf-8")
    return out["html"], json.loads(out["json"])


def test_report_holds_every_claim_and_result(report: tuple[str, dict]) -> None:
    page, data = report
    claims = data["claims"]
    assert page.count('class="claim-row"') == len(claims) == page.count('<article class="claim"')
    assert page.count('<tr class="result ') == sum(len(c["results"]) for c in claims)
    for verdict in ("conforms", "does-not-conform"):
        count = sum(c["verdict"] == verdict for c in claims)
        assert re.search(rf'data-verdict-count="{verdict}"><span class="count">{count}</span>', page)
    # Each claim's lines as the claim says them: the modifier-51 claim's 20701 line carries 51.
    heading = '<h3><span class="verdict does-not-conform">does not conform</span> addon-modifier-51-XFAIL'
    section = page.split(heading)[1]
    section = section.split("</article>")[0]
    assert re.search(r'<td class="code">20701</td><td>51</td>', section)
    assert "T84.7XXA" in section


def test_report_loads_nothing_and_says_so(report: tuple[str, dict]) -> None:
    page, _data = report
    assert "default-src 'none'" in page
    assert FETCHES.findall(page) == []


def test_report_escapes_input(tmp_path: Path) -> None:
    claim = json.loads((EXAMPLES / "addon-modifier-51_XFAIL.json").read_text(encoding="utf-8"))
    claim["item"][1]["productOrService"]["coding"][0]["code"] = "</td><script>alert(1)</script>"
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(claim), encoding="utf-8")
    done = run_cli("validate", str(source), "--format", "html")
    assert done.returncode == 0, done.stderr
    assert "<script>alert(1)" not in done.stdout
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in done.stdout


def test_report_of_no_claims_is_a_page(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_text("\n", encoding="utf-8")
    done = run_cli("validate", str(empty), "--format", "html", "--input-format", "ndjson")
    assert done.returncode == 0, done.stderr
    assert "0 claims" in done.stdout and "No rule reported anything." in done.stdout


def test_diagram_of_20701(tmp_path: Path) -> None:
    card = json.loads(run_cli("show", "20701", "--format", "json").stdout)
    done = run_cli("show", "20701", "--format", "svg")
    assert done.returncode == 0, done.stderr
    svg = xml.dom.minidom.parseString(done.stdout)
    edges = [g for g in svg.getElementsByTagName("g") if "edge" in g.getAttribute("class").split()
             and g.getAttribute("data-target")]
    drawn = {(g.getAttribute("data-relation"), g.getAttribute("data-target").split(":", 1)[1]) for g in edges}
    assert {(r["relation"], r["notation"]) for r in card["related"]} <= drawn
    assert {("typical place of service", p["pos"]) for p in card["placesOfService"]} <= drawn
    assert {("typical specialty", s["taxonomy"]) for s in card["specialties"]} <= drawn
    assert {("indication", i["indication"]) for i in card["indications"]} <= drawn
    conflicted = {g.getAttribute("data-target") for g in edges if "conflict" in g.getAttribute("class").split()}
    assert conflicted == {"procedure:62361", "procedure:62362", "procedure:62365"}
    # An edge links to its first source; the stand-alone alternative's is a guidance source.
    alternative = next(g for g in edges if g.getAttribute("data-target") == "procedure:20680")
    link = alternative.getElementsByTagName("a")[0].getAttribute("href")
    assert link == "https://w3id.org/cptkg/source/aaos-now-2022-07"
    # Links (followed only when clicked) go to source IRIs; nothing is fetched to draw it.
    links = {a.getAttribute("href") for a in svg.getElementsByTagName("a")}
    assert links and all(h.startswith("https://w3id.org/cptkg/source/") for h in links)
    assert re.findall(r"<image|<use|url\(|@import", done.stdout) == []
    page = run_cli("show", "20701", "--format", "html").stdout
    assert 'href="#source-aaos-now-2022-07"' in page and 'id="source-aaos-now-2022-07"' in page
    assert "What primary procedure 20701 goes with" in page


@pytest.mark.parametrize(("code", "neighbour"), [("T85.738A", "T85.738"), ("21", "20701"), ("207X00000X", "20")])
def test_diagram_of_other_systems(code: str, neighbour: str) -> None:
    done = run_cli("show", code, "--format", "svg")
    assert done.returncode == 0, done.stderr
    svg = xml.dom.minidom.parseString(done.stdout)
    keys = {g.getAttribute("data-key") for g in svg.getElementsByTagName("g") if g.getAttribute("data-key")}
    assert any(k.split(":", 1)[-1] == neighbour for k in keys), keys


def test_diagram_of_a_code_outside_the_graph_is_one_line() -> None:
    done = run_cli("show", "99213", "--format", "svg")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not in the graph" in done.stderr
