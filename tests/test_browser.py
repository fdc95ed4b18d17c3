"""The HTML report, a code diagram and the service's page, opened in a real headless Chromium (the
Debian package, driven by Playwright): what a person sees, a filter that hides conforming claims,
the printed page, and that no request leaves the page. Screenshots are saved by the tests (into
$CPTKG_SCREENSHOT_DIR when set: `make screenshots` refreshes the README's)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from servers import cptkg_server

# A browser and servers started per test: the slow suite (make test-slow; CI runs it).
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "claims"
CHROMIUM = os.environ.get("CPTKG_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic (updates, sync, field trials) off: the page's requests are the
# only ones, and a closed network does not slow the start.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CPTKG_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000  # a real picture, not an empty page
    target = os.environ.get("CPTKG_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


def _page(browser: Any) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.errors = errors
    return page, requests


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("report")
    html, data = folder / "report.html", folder / "report.json"
    for form, target in (("html", html), ("json", data)):
        done = run_cli("validate", str(EXAMPLES), "--format", form, "--output", str(target))
        assert done.returncode == 1, done.stderr
    return html, json.loads(data.read_text(encoding="utf-8"))


def test_report_shows_the_summary_and_each_claims_results(browser: Any, report: Any, tmp_path: Path) -> None:
    html, data = report
    page, requests = _page(browser)
    page.goto(html.as_uri())
    claims = data["claims"]
    verdicts = {v: sum(c["verdict"] == v for c in claims) for v in ("conforms", "does-not-conform")}
    assert page.inner_text('[data-verdict-count="conforms"] .count') == str(verdicts["conforms"])
    assert page.inner_text('[data-verdict-count="does-not-conform"] .count') == str(verdicts["does-not-conform"])
    violations = sum(r["severity"] == "Violation" for c in claims for r in c["results"])
    assert page.inner_text("#violations") == str(violations)
    assert page.inner_text("#shown-count") == f"{len(claims)} of {len(claims)} shown"
    # The chart has a bar per (rule, severity), the longest first.
    bars = page.locator("svg.chart g.bar")
    assert bars.count() == len({(r["rule"], r["severity"]) for c in claims for r in c["results"]})
    # A claim's rule and its message, as a person reads them.
    index = next(i for i, c in enumerate(claims, 1) if c["claim"] == "addon-modifier-51-XFAIL")
    section = page.locator(f"#claim-{index}")
    assert section.is_visible()
    row = section.locator("tr.result").first
    assert row.locator(".rule").inner_text() == "AddOnModifier51"
    assert "remove modifier 51 from this line" in row.locator(".message").inner_text()
    assert section.locator("table.lines tbody tr").count() == 2  # its two lines, 27301 and 20701
    _screenshot(page, "report-summary.png", tmp_path)
    assert requests == [html.as_uri()], requests  # nothing but the file itself
    assert page.errors == []


def test_each_result_folds_its_evidence_linked_to_the_sources_list(browser: Any, report: Any) -> None:
    """Under a result, its evidence: folded until opened (no script, no request), each fact with
    its sources, each source a link to its entry in the page's sources list."""
    html, data = report
    page, requests = _page(browser)
    page.goto(html.as_uri())
    claims = data["claims"]
    index = next(i for i, c in enumerate(claims, 1) if c["claim"] == "place-of-service-XFAIL")
    expected = next(r for r in claims[index - 1]["results"] if r["rule"] == "PlaceOfServiceTypical")["evidence"]
    row = page.locator(f'#claim-{index} tr.evidence[data-rule="PlaceOfServiceTypical"]')
    assert row.is_visible()
    summary = row.locator("summary")
    assert summary.inner_text() == f"Evidence: {len(expected)} facts the rule read"
    facts = row.locator("ul.facts li")
    assert not facts.first.is_visible()  # folded
    summary.click()
    assert facts.first.is_visible()
    assert facts.count() == len(expected) == 2
    first = facts.first.inner_text()
    assert "20701 typicalPlaceOfService 21" in first and "2025 CPT code 20701" in first
    assert expected[0]["quote"] in first
    # Each source link lands on its entry of the sources list, titled as in the JSON report.
    links = facts.first.locator("a.source")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [s["title"] for s in expected[0]["sources"]]
    target = links.first.get_attribute("href")
    assert target is not None and target.startswith("#source-")
    entry = page.locator(f"#sources li{target}")
    assert entry.count() == 1 and expected[0]["sources"][0]["title"] in entry.inner_text()
    links.first.click()
    assert page.evaluate("location.hash") == target
    summary.click()
    assert not facts.first.is_visible()  # folds again
    assert requests == [html.as_uri()], requests  # opening evidence fetches nothing
    assert page.errors == []


def test_filter_hides_conforming_claims_and_print_shows_all(browser: Any, report: Any, tmp_path: Path) -> None:
    html, data = report
    page, requests = _page(browser)
    page.goto(html.as_uri())
    claims = data["claims"]
    conforming = [i for i, c in enumerate(claims, 1) if c["verdict"] == "conforms"]
    failing = [i for i, c in enumerate(claims, 1) if c["verdict"] != "conforms"]
    page.check("#hide-conforming")
    assert page.inner_text("#shown-count") == f"{len(failing)} of {len(claims)} shown"
    assert not page.locator(f"#claim-{conforming[0]}").is_visible()
    assert not page.locator(f'tr[data-claim="claim-{conforming[0]}"]').is_visible()
    assert page.locator(f"#claim-{failing[0]}").is_visible()
    page.locator(f"#claim-{failing[0]}").scroll_into_view_if_needed()
    _screenshot(page, "report-filtered.png", tmp_path)
    page.fill("#text-filter", "addonmodifier51")
    with_rule = sum("AddOnModifier51" in {r["rule"] for r in c["results"]} for c in claims)
    assert page.inner_text("#shown-count") == f"{with_rule} of {len(claims)} shown"
    page.uncheck("#hide-conforming")
    page.fill("#text-filter", "")
    page.select_option("#verdict-filter", "conforms")
    assert page.inner_text("#shown-count") == f"{len(conforming)} of {len(claims)} shown"
    # Printed, the filter is gone and every claim is there.
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible()
    assert page.locator(f"#claim-{failing[0]}").is_visible()
    assert requests == [html.as_uri()]
    assert page.errors == []


def test_report_escapes_what_claims_say(browser: Any, tmp_path: Path) -> None:
    """A code with markup and script in it is shown as text: it runs nothing, adds no element."""
    claim = json.loads((EXAMPLES / "addon-modifier-51_XFAIL.json").read_text(encoding="utf-8"))
    hostile = "<img src=x onerror=alert(1)>"
    claim["item"][1]["productOrService"]["coding"][0]["code"] = hostile
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(claim), encoding="utf-8")
    html = tmp_path / "hostile.html"
    done = run_cli("validate", str(source), "--format", "html", "--output", str(html))
    assert done.returncode == 0, done.stderr  # not applicable: no code of the family on it
    page, requests = _page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(html.as_uri())
    assert page.locator("img").count() == 0 and dialogs == []
    assert hostile in page.inner_text("#claim-1 .reason")
    assert hostile in page.inner_text("#claim-1 table.lines")
    assert requests == [html.as_uri()]


def test_diagram_draws_the_neighbours_with_named_edges(browser: Any, tmp_path: Path) -> None:
    html = tmp_path / "20701.html"
    done = run_cli("show", "20701", "--format", "html", "--output", str(html))
    assert done.returncode == 0, done.stderr
    page, requests = _page(browser)
    page.goto(html.as_uri())
    nodes = page.locator("svg.cptkg-diagram g.nodes g.node")
    keys = {nodes.nth(i).get_attribute("data-key") for i in range(nodes.count())}
    assert {"20701", "family:20700", "procedure:20680", "procedure:62365", "place:21", "place:24",
            "specialty:207X00000X", "indication:infection"} <= keys
    edge = page.locator('g.edge[data-target="procedure:20680"]')
    assert edge.locator("text").text_content() == "stand-alone alternative"
    conflict = page.locator('g.edge.conflict[data-target="procedure:62365"]')
    assert conflict.count() == 1 and (conflict.locator("text").text_content() or "").startswith("pump removal coded as")
    _screenshot(page, "diagram-20701.png", tmp_path)
    # Each edge links to its source, listed on the page.
    edge.locator("a text").click()
    target = page.evaluate("location.hash")
    assert target.startswith("#source-") and page.locator(target).is_visible()
    assert requests == [html.as_uri()] or all(r.startswith(html.as_uri()) for r in requests)
    assert page.errors == []


def test_service_page_validates_pasted_claims_and_draws_a_code(browser: Any, tmp_path: Path) -> None:
    with cptkg_server(log=tmp_path / "serve.log") as base:
        page, requests = _page(browser)
        page.goto(base + "/")
        page.fill("#claims", (EXAMPLES / "addon-modifier-51_XFAIL.json").read_text(encoding="utf-8"))
        page.click("#validate")
        frame = page.frame_locator("#report")
        frame.locator(".rule", has_text="AddOnModifier51").wait_for(timeout=60_000)
        assert frame.locator('[data-verdict-count="does-not-conform"] .count').inner_text() == "1"
        _screenshot(page, "service-page.png", tmp_path)
        page.fill("#code", "20701")
        page.click("#lookup")
        page.frame_locator("#diagram").locator('g.node[data-key="procedure:20680"]').wait_for(timeout=60_000)
        page.fill("#code", "not-a-code")
        page.click("#lookup")
        page.locator("#lookup-error", has_text="not a code").wait_for(timeout=30_000)
        assert all(r.startswith(base) or r.startswith("about:") for r in requests), requests
