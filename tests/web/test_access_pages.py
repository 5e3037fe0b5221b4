"""Access requests and the audit log in the portal: a researcher asks, a steward decides, the log shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from genomenode.access import stewardship
from genomenode.access.gate import AccessControl
from genomenode.simulate.national import DATASET
from genomenode.web.app import create_app
from genomenode.web.session import CSRF_COOKIE
from tests.access.test_access_requests import PURPOSE
from tests.secure_node import SecureNode, build_secure_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("access-pages") / "node", individuals=60, seed=3)
    gate = AccessControl(node.settings)
    steward = gate.caller_for_token(node.tokens["steward"])
    stewardship.create_project(gate, steward, name="new-study", purpose=PURPOSE)
    stewardship.add_member(gate, steward, project="new-study", subject="researcher")
    gate.close()
    return node


def browser(node: SecureNode, user: str) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as client:
        page = client.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        signed = client.post("/signin", data={"token": node.tokens[user], "csrf": csrf}, follow_redirects=False)
        assert signed.status_code == 303
        yield client


@pytest.fixture
def researcher(node: SecureNode) -> Iterator[TestClient]:
    yield from browser(node, "researcher")


@pytest.fixture
def steward(node: SecureNode) -> Iterator[TestClient]:
    yield from browser(node, "steward")


def form(client: TestClient, **fields: str) -> dict[str, str]:
    return {"csrf": client.cookies[CSRF_COOKIE], **fields}


def test_a_request_goes_from_researcher_to_steward_and_into_the_log(
    researcher: TestClient, steward: TestClient
) -> None:
    page = researcher.get("/access")
    assert page.status_code == 200 and '<label for="justification">' in page.text
    assert "<option>new-study</option>" in page.text and f"<option>{DATASET}</option>" in page.text
    sent = researcher.post(
        "/access",
        data=form(researcher, project="new-study", dataset=DATASET, justification="National allele frequencies"),
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/access?done=submitted"
    waiting = researcher.get("/access?done=submitted")
    assert waiting.status_code == 200 and "Your request was sent" in waiting.text
    assert ">Withdraw request " in waiting.text  # the requester's own pending request
    pending = steward.get("/access").text
    request_id = re.search(r'<tr id="request-(\d+)">', pending).group(1)  # type: ignore[union-attr]
    assert "National allele frequencies" in pending and ">Grant</button>" in pending
    granted = steward.post(
        f"/access/{request_id}/decision",
        data=form(steward, decision="grant", note="DAC 2026-11"),
        follow_redirects=False,
    )
    assert granted.status_code == 303 and "done=granted" in granted.headers["location"]
    mine = researcher.get("/access").text
    assert "granted" in mine and "DAC 2026-11" in mine
    log = steward.get("/stewardship/log", params={"action": "access_request.*"}).text
    assert "access_request.submit" in log and "access_request.grant" in log
    assert "Hash chain intact" in log


def test_a_refused_form_shows_the_reason_on_the_page(researcher: TestClient) -> None:
    answer = researcher.post("/access", data=form(researcher, project="not-mine", dataset=DATASET, justification="x"))
    assert answer.status_code == 403 and "not a member of project" in answer.text


def test_a_researcher_may_not_read_the_audit_log_or_decide(researcher: TestClient) -> None:
    assert researcher.get("/stewardship/log").status_code == 403
    answer = researcher.post("/access/1/decision", data=form(researcher, decision="grant"))
    assert answer.status_code == 403


def test_the_signed_out_are_sent_to_sign_in_and_back(node: SecureNode) -> None:
    with TestClient(create_app(node.settings)) as client:
        answer = client.get("/access", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=/access"


def test_a_decision_without_the_forms_csrf_value_is_refused(steward: TestClient) -> None:
    answer = steward.post("/access/1/decision", data={"decision": "refuse", "csrf": "wrong"})
    assert answer.status_code == 403 and "security value" in answer.text
