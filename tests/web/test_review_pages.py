"""The case review and PGx pages over the demo's analysed families (TestClient, no browser): a
clinician sees their region's case and not the other's, filters change the candidates listed, a
note is kept with author and time and shows on reload, a POST without the CSRF value is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from genomenode.cases.demo import add_demo_cases
from genomenode.web.app import create_app
from tests.secure_node import SecureNode, build_secure_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("review") / "node", individuals=40, seed=11)
    add_demo_cases(node.settings, node.families)
    return node


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page carries no CSRF field"
    return found.group(1)


@pytest.fixture(scope="module")
def clients(node: SecureNode) -> Iterator[dict[str, TestClient]]:
    """A signed-in browser per user (and an anonymous one under None's key: "")."""
    out: dict[str, TestClient] = {}
    for user in ("", "clinician-stockholm", "clinician-skane", "steward", "researcher"):
        c = TestClient(create_app(node.settings))
        c.__enter__()
        if user:
            signin = c.post(
                "/signin",
                data={"token": node.tokens[user], "csrf": _csrf(c.get("/signin").text), "next": "/"},
                follow_redirects=False,
            )
            assert signin.status_code == 303, signin.text
        out[user] = c
    yield out
    for c in out.values():
        c.__exit__(None, None, None)


def _rows(page: str) -> list[str]:
    """The candidate rows' genes, in page order."""
    table = page.split('aria-label="Ranked candidates"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td><strong><a href="/gene/[^"]*">([^<]+)</a>', table)


def test_review__signed_out_gets_a_sign_in_prompt(clients: dict[str, TestClient]) -> None:
    page = clients[""].get("/review")
    assert page.status_code == 200 and 'href="/signin?next=/review"' in page.text
    assert "family-stockholm" not in page.text
    case = clients[""].get("/review/family-stockholm", follow_redirects=False)
    assert case.status_code == 303 and case.headers["location"].startswith("/signin?next=")


def test_review__a_clinician_lists_their_regions_case_with_its_top_candidate(clients: dict[str, TestClient]) -> None:
    page = clients["clinician-stockholm"].get("/review")
    assert page.status_code == 200
    assert 'href="/review/family-stockholm"' in page.text and "family-skane" not in page.text
    assert "<strong>SCN1A</strong>" in page.text  # the top candidate
    both = clients["steward"].get("/review").text
    assert "family-stockholm" in both and "family-skane" in both
    assert "No case you may see" in clients["researcher"].get("/review").text


def test_review__another_regions_case_is_the_not_found_page(clients: dict[str, TestClient]) -> None:
    other = clients["clinician-skane"].get("/review/family-stockholm")
    missing = clients["clinician-skane"].get("/review/family-nowhere")
    assert other.status_code == missing.status_code == 404
    assert "SCN1A" not in other.text and "Ranked candidates" not in other.text
    assert other.text.replace("family-stockholm", "X") == missing.text.replace("family-nowhere", "X")


def test_review__the_case_page_shows_family_terms_and_evidence(clients: dict[str, TestClient]) -> None:
    page = clients["clinician-stockholm"].get("/review/family-stockholm")
    assert page.status_code == 200
    text = page.text
    for member in ("RD-STO-child", "RD-STO-father", "RD-STO-mother"):
        assert f'href="/person/{member}/pgx"' in text
    assert "Bilateral tonic-clonic seizure" in text  # an HPO term's label
    genes = _rows(text)
    assert genes[0] == "SCN1A" and len(genes) >= 3
    assert "de novo" in text and "stop gained" in text and "PVS1" in text
    assert re.search(r'href="/variant/chr2-\d+-C-T"', text)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"gene": "usH"}, lambda genes: genes and set(genes) == {"USH2A"}),
        ({"consequence": "lof"}, lambda genes: genes == ["SCN1A"]),
        ({"inheritance": "de novo"}, lambda genes: set(genes) == {"SCN1A", "TTN"}),
        ({"min_score": "0.5"}, lambda genes: genes == ["SCN1A"]),
        ({"max_af": "0.5", "gene": "zzz"}, lambda genes: genes == []),
    ],
)
def test_review__filters_change_the_candidates_listed(
    clients: dict[str, TestClient], params: dict[str, str], check: object
) -> None:
    everything = _rows(clients["clinician-stockholm"].get("/review/family-stockholm").text)
    page = clients["clinician-stockholm"].get("/review/family-stockholm", params=params)
    assert page.status_code == 200
    genes = _rows(page.text)
    assert callable(check) and check(genes), genes
    assert len(genes) < len(everything)
    assert "match the filters" in page.text


def test_review__a_bad_number_in_a_filter_is_said_plainly(clients: dict[str, TestClient]) -> None:
    page = clients["clinician-stockholm"].get("/review/family-stockholm", params={"max_af": "lots"})
    assert page.status_code == 400 and "is not a number" in page.text


def test_review__a_note_is_kept_with_author_and_time_and_shows_on_reload(clients: dict[str, TestClient]) -> None:
    c = clients["clinician-stockholm"]
    page = c.get("/review/family-stockholm", params={"gene": "SCN1A"})
    key = re.search(r'name="variant" value="([^"]+)"', page.text)
    assert key
    answer = c.post(
        "/review/family-stockholm/notes",
        data={
            "csrf": _csrf(page.text),
            "variant": key.group(1),
            "gene": "SCN1A",
            "text": "De novo stop-gain fits Dravet <b>syndrome</b>",
            "classification": "pathogenic",
            "filters": "gene=SCN1A&evil=1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/review/family-stockholm?gene=SCN1A#v-{key.group(1)}-SCN1A"
    again = c.get("/review/family-stockholm").text
    assert "De novo stop-gain fits Dravet &lt;b&gt;syndrome&lt;/b&gt;" in again  # escaped, not markup
    assert re.search(
        r"<strong>clinician-stockholm</strong> <time datetime=\"[^\"]+\">\d{4}-\d{2}-\d{2} \d{2}:\d{2}", again
    )
    assert 'class="badge badge-bad">Pathogenic</span>' in again
    # the other region's clinician cannot post on it
    other = clients["clinician-skane"]
    refused = other.post(
        "/review/family-stockholm/notes",
        data={"csrf": _csrf(other.get("/review").text), "variant": key.group(1), "text": "not mine"},
    )
    assert refused.status_code == 404


def test_review__a_note_without_the_csrf_value_is_refused(clients: dict[str, TestClient]) -> None:
    c = clients["clinician-stockholm"]
    page = c.get("/review/family-stockholm")
    key = re.search(r'name="variant" value="([^"]+)"', page.text)
    assert key
    for csrf in (None, "forged"):
        data = {"variant": key.group(1), "text": "sneaky note"} | ({"csrf": csrf} if csrf else {})
        answer = c.post("/review/family-stockholm/notes", data=data, follow_redirects=False)
        assert answer.status_code == 403
    assert "sneaky note" not in c.get("/review/family-stockholm").text


def test_pgx__the_page_renders_for_a_case_member_and_hides_another_regions_person(
    clients: dict[str, TestClient], node: SecureNode
) -> None:
    page = clients["clinician-stockholm"].get("/person/RD-STO-child/pgx")
    assert page.status_code == 200
    assert "Pharmacogenomic report" in page.text and "CYP2C19" in page.text and "Missing positions" in page.text
    cohort = clients["steward"].get(f"/person/{node.stockholm.pseudonym}/pgx")
    assert cohort.status_code == 200 and "Drug recommendations (CPIC)" in cohort.text
    assert clients["clinician-skane"].get("/person/RD-STO-child/pgx").status_code == 404
    assert clients[""].get("/person/RD-STO-child/pgx", follow_redirects=False).status_code == 303
