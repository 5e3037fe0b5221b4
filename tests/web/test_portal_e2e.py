"""The portal end to end in a real browser (Debian's chromium through Playwright) over a served demo node.

Pages are found the way a screen reader finds them (roles, accessible names, labels), so these
tests also check that every control is labelled. Each test's browser context is watched: a console
error, an uncaught script error or a request to any host but the test server fails the test.
All e2e tests stay in this one file: `pytest -n 2 --dist loadfile` then builds the node once.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from genomenode.simulate.national import DATASET, REQUESTING_PROJECT
from genomenode.web.templating import count, frequency
from tests.web.conftest import PortalNode, Watch

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(request: pytest.FixtureRequest, chromium_browser: Any, portal: PortalNode) -> Iterator[OpenPage]:
    """`open_page(user=None)`: a page in a fresh browser context, signed in through the sign-in form
    when a user is named; at the end, nothing the watch saw in any of them (a test that failed
    already has the watch's findings printed beside its failure instead)."""
    watch = Watch(portal.url)
    contexts: list[Any] = []

    def open_(user: str | None = None) -> Any:
        context = chromium_browser.new_context(base_url=portal.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        watch.attach(context)
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            sign_in(page, portal.tokens[user])
        return page

    yield open_
    for context in contexts:
        context.close()
    call = getattr(request.node, "report_call", None)
    if call is not None and not call.passed:
        if watch.problems:
            print("the browser also saw:", *watch.problems, sep="\n  ", file=sys.stderr)
        return
    assert not watch.problems, "\n".join(watch.problems)


def sign_in(page: Any, token: str, next_path: str = "/") -> None:
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")
    assert page.get_by_text("Signed in as").is_visible()


def api(portal: PortalNode, path: str, **params: Any) -> Any:
    with httpx.Client(base_url=portal.url, trust_env=False, timeout=30) as client:
        answer = client.get(path, params=params)
        answer.raise_for_status()
        return answer.json()


def variant_id(v: dict[str, Any]) -> str:
    return f"{v['chrom']}-{v['pos']}-{v['ref']}-{v['alt']}"


def national_counts(page: Any) -> dict[str, str]:
    """The variant page's 'National counts' card as label → shown value."""
    card = page.get_by_role("region", name="National counts")
    labels, values = card.locator("dl.stats dt").all_inner_texts(), card.locator("dl.stats dd").all_inner_texts()
    return dict(zip(labels, values, strict=True))


def as_the_page_shows(v: dict[str, Any]) -> dict[str, str]:
    return {
        "Allele count": count(v["ac"]),
        "Allele number": count(v["an"]),
        "Allele frequency": frequency(v["af"]),
        "Homozygotes": count(v["hom"]),
        "Hemizygotes": count(v["hemi"]),
    }


def column(table: Any, index: int) -> list[str]:
    return [c.strip() for c in table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()]


# -- public pages ---------------------------------------------------------------------------------
def test_a_gene_searched_from_the_home_page_opens_with_its_alleles_and_exon_track(open_page: OpenPage) -> None:
    page = open_page()
    page.goto("/")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("CYP2C19")
    search.press("Enter")
    page.wait_for_url("**/gene/CYP2C19")
    assert page.get_by_role("heading", level=1).inner_text() == "Gene CYP2C19"
    track = page.get_by_role("img", name=re.compile("CYP2C19"))
    assert track.locator("rect.exon").count() > 0 and track.locator("line.tick").count() > 0
    table = page.get_by_role("table", name="Alleles")
    assert table.locator("tbody tr").count() > 0
    assert page.get_by_role("status").filter(has_text="alleles").is_visible()


def test_sorting_the_gene_table_by_frequency_then_opening_the_top_allele_shows_its_counts_and_chart(
    open_page: OpenPage, portal: PortalNode
) -> None:
    page = open_page()
    page.goto("/gene/CYP2C19")
    table = page.get_by_role("table", name="Alleles")
    table.get_by_role("link", name="Frequency").click()
    page.wait_for_url(re.compile(r"sort=af"))
    header = table.get_by_role("columnheader", name="Frequency")
    assert header.get_attribute("aria-sort") == "descending"
    afs = [float(a) for a in column(table, 6) if a != "hidden"]
    assert afs and afs == sorted(afs, reverse=True)

    top = table.locator("tbody tr").first.get_by_role("link")
    chosen = top.inner_text()
    top.click()
    page.wait_for_url(f"**/variant/{chosen}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Variant {chosen}"
    assert national_counts(page) == as_the_page_shows(api(portal, f"/variants/{chosen}"))
    chart = page.get_by_role("img", name="Allele frequency by population")
    assert chart.locator("rect.bar").count() > 0


def test_an_anonymous_visitor_sees_small_counts_hidden_exactly_as_the_api_hides_them(
    open_page: OpenPage, portal: PortalNode
) -> None:
    rows = api(portal, "/frequencies", gene="CYP2C19")["variants"]
    hidden = [v for v in rows if v["ac"] is None]
    assert hidden, "a 120-person cohort has CYP2C19 alleles below the public floor"
    chosen = variant_id(hidden[0])
    expected = api(portal, f"/variants/{chosen}")  # anonymous, like the page's visitor
    page = open_page()
    page.goto(f"/variant/{chosen}")
    assert page.get_by_text("Some counts are hidden").is_visible()
    assert national_counts(page) == as_the_page_shows(expected)
    table = page.get_by_role("table", name="By population")
    on_page = {
        cells[0]: cells[1:4]
        for cells in (
            [c.strip() for c in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()
        )
    }
    from_api = {
        r["population"]: [count(r["ac"]), count(r["an"]), frequency(r["af"])] for r in expected["strata"]["population"]
    }
    assert on_page == from_api


def test_the_skip_link_is_the_first_tab_stop_and_the_search_box_is_reachable_by_keyboard(
    open_page: OpenPage,
) -> None:
    page = open_page()
    page.goto("/gene/CYP2C19")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent, document.activeElement.getAttribute('href')]")
    assert focused == ["Skip to content", "#main"]
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'", timeout=5_000)

    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "q":
            break
    else:
        pytest.fail("twenty Tab presses from the top of the home page never reached the search box")
    page.keyboard.type("CYP2C19")
    page.keyboard.press("Enter")
    page.wait_for_url("**/gene/CYP2C19")


# -- access requests ------------------------------------------------------------------------------
def test_a_researchers_request_is_granted_by_the_steward_and_both_steps_are_in_the_audit_log(
    open_page: OpenPage,
) -> None:
    researcher = open_page("researcher")
    researcher.goto("/access")
    researcher.get_by_label("Project", exact=True).select_option(REQUESTING_PROJECT)
    researcher.get_by_label("Dataset", exact=True).select_option(DATASET)
    researcher.get_by_label("Why the project needs it", exact=True).fill("CYP2C19 allele frequencies by region (e2e)")
    researcher.get_by_role("button", name="Send request").click()
    researcher.wait_for_url(re.compile(r"/access\?done="))
    mine = researcher.get_by_role("table", name="Your projects' requests")
    row = mine.get_by_role("row").filter(has_text="CYP2C19 allele frequencies by region (e2e)")
    assert row.get_by_text("pending", exact=True).is_visible()
    request_id = row.get_attribute("id").removeprefix("request-")  # type: ignore[union-attr]

    steward = open_page("steward")
    steward.goto("/access")
    pending = steward.get_by_role("table", name="Pending requests")
    decide = pending.get_by_role("form", name=f"Decide request {request_id}")
    decide.get_by_label("Note to the researcher", exact=True).fill("DAC approval 2026-11 (e2e)")
    decide.get_by_role("button", name="Grant").click()
    steward.wait_for_url(re.compile(r"done=granted"))
    decided = steward.get_by_role("table", name="Decided requests")
    assert decided.locator(f"#request-{request_id}").get_by_text("granted", exact=True).is_visible()

    researcher.reload()
    row = researcher.locator(f"#request-{request_id}")
    assert row.get_by_text("granted", exact=True).is_visible()
    assert row.get_by_text("DAC approval 2026-11 (e2e)").is_visible()

    steward.goto("/stewardship/log")
    steward.get_by_label("Action", exact=True).select_option("access_request.*")
    steward.get_by_role("button", name="Show").click()
    steward.wait_for_url(re.compile(r"action=access_request"))
    log = steward.get_by_role("table", name="Audit entries, newest first")
    actions = column(log, 3)
    assert actions[:2] == ["access_request.grant", "access_request.submit"]
    assert steward.get_by_text("Hash chain intact").is_visible()


# -- case review ----------------------------------------------------------------------------------
def test_a_clinician_reviews_a_case_filters_its_candidates_and_classifies_one_in_a_note(
    open_page: OpenPage,
) -> None:
    page = open_page("clinician-stockholm")
    page.goto("/review")
    cases = page.get_by_role("table", name="Cases you may review")
    assert cases.get_by_role("link", name="family-skane").count() == 0, "another region's case is not listed"
    cases.get_by_role("link", name="family-stockholm").click()
    page.wait_for_url("**/review/family-stockholm")
    candidates = page.get_by_role("table", name="Ranked candidates").locator("tbody > tr")
    before = candidates.count()
    assert before > 1
    top = candidates.first
    assert top.get_by_role("link", name="SCN1A").is_visible(), "the de novo SCN1A stop-gain ranks first"

    filters = page.get_by_role("form", name="Filter the candidates")
    filters.get_by_label("Gene contains", exact=True).fill("SCN1A")
    filters.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"gene=SCN1A"))
    assert 0 < candidates.count() < before
    assert all(row.get_by_role("link", name="SCN1A").count() == 1 for row in candidates.all())
    assert page.get_by_role("status").filter(has_text="match the filters").is_visible()

    text = "De novo stop-gain in SCN1A fits the Dravet phenotype (e2e)"
    note = page.get_by_role("form", name=re.compile(r"^Add a note on SCN1A "))
    note.get_by_label("Note", exact=True).fill(text)
    note.get_by_label("Classification (ACMG/AMP)", exact=True).select_option(label="Pathogenic")
    note.get_by_role("button", name="Add note").click()
    page.wait_for_url(re.compile(r"/review/family-stockholm(\?[^#]*)?#v-"))  # back at the noted candidate
    page.reload()
    written = page.get_by_role("listitem").filter(has_text=text)
    assert written.count() == 1
    shown = written.inner_text()
    assert "clinician-stockholm" in shown and "Pathogenic" in shown
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", shown), f"the note shows no time: {shown!r}"


def test_another_regions_clinician_cannot_open_the_case(open_page: OpenPage) -> None:
    page = open_page("clinician-skane")
    answer = page.goto("/review/family-stockholm")
    assert answer is not None and answer.status == 404
    assert page.get_by_role("table", name="Ranked candidates").count() == 0
    assert page.get_by_text("SCN1A").count() == 0
    page.goto("/review")
    assert page.get_by_role("link", name="family-skane").is_visible()
    assert page.get_by_role("link", name="family-stockholm").count() == 0


# -- accessibility --------------------------------------------------------------------------------
@pytest.mark.skipif(not AXE.exists(), reason=f"{AXE} not installed (make install runs npm ci)")
def test_the_pages_have_no_axe_violations(open_page: OpenPage) -> None:
    page = open_page("steward")
    source = AXE.read_text()
    found = {}
    for path in (
        "/",
        "/signin",
        "/gene/CYP2C19",
        "/variant/chr10-94781859-G-A",
        f"/dataset/{DATASET}",
        "/access",
        "/stewardship/log",
        "/review",
        "/review/family-stockholm",
    ):
        page.goto(path)
        page.evaluate(f"() => {{ {source}\n }}")  # through the debugger: the page's CSP allows no inline script
        result = page.evaluate("() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
        found[path] = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]
    assert not any(found.values()), json.dumps(found, indent=1)
