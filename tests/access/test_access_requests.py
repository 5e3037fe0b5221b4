"""Researchers request controlled datasets for their projects; stewards grant, refuse and revoke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genomenode.access import access_requests, policy, stewardship
from genomenode.access.gate import AccessControl
from genomenode.api.app import create_app
from genomenode.errors import AccessDeniedError, InputError, NotFoundError
from genomenode.simulate.national import DATASET, DEMO_PURPOSE
from tests.secure_node import SecureNode, build_secure_node

PURPOSE = DEMO_PURPOSE


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("requests") / "node", individuals=60, seed=5)


@pytest.fixture
def gate(node: SecureNode) -> Iterator[AccessControl]:
    g = AccessControl(node.settings)
    yield g
    g.close()


def caller(gate: AccessControl, node: SecureNode, user: str) -> policy.Caller:
    return gate.caller_for_token(node.tokens[user])


def new_project(gate: AccessControl, node: SecureNode, name: str) -> None:
    steward = caller(gate, node, "steward")
    stewardship.create_project(gate, steward, name=name, purpose=PURPOSE)
    stewardship.add_member(gate, steward, project=name, subject="researcher")


def audit_actions(gate: AccessControl) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in gate.audit_log.export()]


def test_a_granted_request_gives_the_project_the_dataset_and_every_step_is_audited(
    gate: AccessControl, node: SecureNode
) -> None:
    new_project(gate, node, "study-a")
    researcher = caller(gate, node, "researcher")
    assert DATASET not in gate.project("study-a").granted_datasets
    asked = access_requests.submit(
        gate, researcher, project="study-a", dataset=DATASET, justification="Allele frequencies"
    )
    assert asked["status"] == "pending" and asked["requester"].endswith("|researcher")
    steward = caller(gate, node, "steward")
    assert [r["id"] for r in access_requests.list_requests(gate, steward, status="pending")] == [asked["id"]]
    granted = access_requests.decide(gate, steward, asked["id"], decision="grant", note="approved by the DAC")
    assert granted["status"] == "granted" and granted["decided_by"].endswith("|steward")
    assert DATASET in gate.project("study-a").granted_datasets
    actions = audit_actions(gate)
    for step in ("access_request.submit", "grant.add", "access_request.grant"):
        assert (step, "done") in actions, step
    revoked = access_requests.revoke(gate, steward, asked["id"], note="project ended")
    assert revoked["status"] == "revoked"
    assert DATASET not in gate.project("study-a").granted_datasets
    assert ("access_request.revoke", "done") in audit_actions(gate)


def test_a_second_pending_request_and_one_for_a_granted_dataset_are_refused(
    gate: AccessControl, node: SecureNode
) -> None:
    new_project(gate, node, "study-b")
    researcher = caller(gate, node, "researcher")
    access_requests.submit(gate, researcher, project="study-b", dataset=DATASET, justification="why")
    with pytest.raises(InputError, match="pending request"):
        access_requests.submit(gate, researcher, project="study-b", dataset=DATASET, justification="again")
    with pytest.raises(InputError, match="already holds a grant"):
        access_requests.submit(gate, researcher, project="hmb-cohort-study", dataset=DATASET, justification="x")


def test_only_members_of_the_project_who_are_researchers_may_ask(gate: AccessControl, node: SecureNode) -> None:
    researcher = caller(gate, node, "researcher")
    with pytest.raises(AccessDeniedError, match="not a member of project 'someone-elses'"):
        access_requests.submit(gate, researcher, project="someone-elses", dataset=DATASET, justification="x")
    for user in ("clinician-stockholm", "registered"):
        with pytest.raises(AccessDeniedError, match="only researchers"):
            access_requests.submit(
                gate, caller(gate, node, user), project="study-a", dataset=DATASET, justification="x"
            )


def test_an_empty_or_overlong_justification_is_refused(gate: AccessControl, node: SecureNode) -> None:
    new_project(gate, node, "study-c")
    researcher = caller(gate, node, "researcher")
    for text in ("   ", "x" * 2001):
        with pytest.raises(InputError, match="say why"):
            access_requests.submit(gate, researcher, project="study-c", dataset=DATASET, justification=text)
    with pytest.raises(NotFoundError, match="no dataset 'nope'"):
        access_requests.submit(gate, researcher, project="study-c", dataset="nope", justification="x")


def test_only_a_steward_decides_and_only_once(gate: AccessControl, node: SecureNode) -> None:
    new_project(gate, node, "study-d")
    researcher = caller(gate, node, "researcher")
    asked = access_requests.submit(gate, researcher, project="study-d", dataset=DATASET, justification="x")
    for user in ("researcher", "clinician-stockholm", "admin"):
        with pytest.raises(AccessDeniedError):
            access_requests.decide(gate, caller(gate, node, user), asked["id"], decision="grant")
    steward = caller(gate, node, "steward")
    refused = access_requests.decide(gate, steward, asked["id"], decision="refuse", note="no ethics approval on file")
    assert refused["status"] == "refused" and refused["decision_note"] == "no ethics approval on file"
    with pytest.raises(InputError, match="is refused, not pending"):
        access_requests.decide(gate, steward, asked["id"], decision="grant")
    assert ("access_request.refuse", "done") in audit_actions(gate)


def test_the_requester_may_withdraw_a_pending_request_and_nobody_else(gate: AccessControl, node: SecureNode) -> None:
    new_project(gate, node, "study-e")
    researcher = caller(gate, node, "researcher")
    asked = access_requests.submit(gate, researcher, project="study-e", dataset=DATASET, justification="x")
    with pytest.raises(NotFoundError):
        access_requests.withdraw(gate, caller(gate, node, "steward"), asked["id"])
    assert access_requests.withdraw(gate, researcher, asked["id"])["status"] == "withdrawn"


def test_a_researcher_lists_only_their_projects_requests(gate: AccessControl, node: SecureNode) -> None:
    researcher = caller(gate, node, "researcher")
    mine = access_requests.list_requests(gate, researcher)
    assert mine and all(r["project"] in researcher.projects for r in mine)
    with pytest.raises(AccessDeniedError):
        access_requests.list_requests(gate, caller(gate, node, "clinician-skane"))


def test_a_purpose_that_breaks_the_datasets_conditions_is_refused_up_front(
    gate: AccessControl, node: SecureNode, tmp_path: Path
) -> None:
    steward = caller(gate, node, "steward")
    stewardship.create_project(gate, steward, name="study-commercial", purpose={**PURPOSE, "commercial": True})
    stewardship.add_member(gate, steward, project="study-commercial", subject="researcher")
    stewardship.set_dataset_policy(gate, steward, dataset=DATASET, level=None, data_use=["HMB", "NCU"])
    try:
        with pytest.raises(AccessDeniedError, match="breaks dataset"):
            access_requests.submit(
                gate, caller(gate, node, "researcher"), project="study-commercial", dataset=DATASET, justification="x"
            )
    finally:
        stewardship.set_dataset_policy(gate, steward, dataset=DATASET, level=None, data_use=[])


def test_the_api_takes_a_request_and_a_stewards_decision(node: SecureNode) -> None:
    with TestClient(create_app(node.settings)) as client:
        gate = client.app.state.access  # type: ignore[attr-defined]
        new_project(gate, node, "study-api")
        asked = client.post(
            "/access-requests",
            json={"project": "study-api", "dataset": DATASET, "justification": "frequencies"},
            headers=node.headers("researcher"),
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        denied = client.post(
            f"/access-requests/{request_id}/decision", json={"decision": "grant"}, headers=node.headers("researcher")
        )
        assert denied.status_code == 403
        granted = client.post(
            f"/access-requests/{request_id}/decision", json={"decision": "grant"}, headers=node.headers("steward")
        )
        assert granted.status_code == 200 and granted.json()["status"] == "granted"
        listed = client.get("/access-requests", params={"status": "granted"}, headers=node.headers("researcher"))
        assert request_id in [r["id"] for r in listed.json()]
        assert client.get("/access-requests").status_code == 401


def test_a_request_number_beyond_the_column_is_no_request(gate: AccessControl, node: SecureNode) -> None:
    steward = caller(gate, node, "steward")
    for number in (0, -1, 2**31, 2**63):
        with pytest.raises(NotFoundError, match=f"no access request {number}"):
            access_requests.decide(gate, steward, number, decision="grant")
