"""Consent withdrawal reaches every aggregate in the request that records it, exactly.

The reference is bcftools: the node after a withdrawal must hold the same statistics, cell for
cell, as a node that was sent the same files with the person's column cut out by
`bcftools view -s ^SAMPLE`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genomenode.api.app import create_app
from genomenode.simulate.national import PROJECT
from tests.secure_node import SecureNode, build_secure_node, reference_without, sample_of, store_stats


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("consent") / "node", individuals=60, seed=5)


@pytest.fixture(scope="module")
def client(node: SecureNode) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as c:
        yield c


def test_consent__withdrawal_leaves_the_same_statistics_as_never_sending_the_person(
    client: TestClient, node: SecureNode, tmp_path: Path, bcftools: str
) -> None:
    person = node.spare[1]
    sample, _ = sample_of(node, person.pseudonym)
    before = store_stats(node.settings)
    # WHEN the steward records the withdrawal
    r = client.post(f"/individuals/{person.pseudonym}/consent/withdrawal", headers=node.headers("steward"))
    assert r.status_code == 200, r.text
    # THEN the statistics are those of a node that never had the person, cell for cell
    after = store_stats(node.settings)
    assert after != before
    assert after == reference_without(node, sample, tmp_path, bcftools)
    # AND giving consent again restores every cell
    r = client.put(f"/individuals/{person.pseudonym}/consent", json={"codes": ["HMB"]}, headers=node.headers("steward"))
    assert r.status_code == 200, r.text
    assert store_stats(node.settings) == before


def test_consent__withdrawal_hides_the_person_from_research_in_the_next_request(
    client: TestClient, node: SecureNode
) -> None:
    person = node.spare[2]
    researcher = node.headers("researcher")
    ids = {p["id"] for p in client.get("/individuals", params={"project": PROJECT}, headers=researcher).json()}
    assert person.project_id in ids
    r = client.post(f"/individuals/{person.pseudonym}/consent/withdrawal", headers=node.headers("steward"))
    assert r.status_code == 200, r.text
    ids = {p["id"] for p in client.get("/individuals", params={"project": PROJECT}, headers=researcher).json()}
    assert person.project_id not in ids
    gone = client.get(
        f"/individuals/{person.project_id}/genotypes",
        params={"gene": "CYP2C19", "project": PROJECT},
        headers=researcher,
    )
    assert gone.status_code == 404
    # care goes on: their clinician still sees them
    clinician = node.headers(f"clinician-{person.region}") if person.region in ("stockholm", "skane") else None
    if clinician:
        seen = client.get(f"/individuals/{person.pseudonym}", headers=clinician)
        assert seen.status_code == 200


def test_consent__unknown_duo_code_is_refused_and_nothing_changes(client: TestClient, node: SecureNode) -> None:
    person = node.spare[3]
    before = store_stats(node.settings)
    r = client.put(
        f"/individuals/{person.pseudonym}/consent", json={"codes": ["NOT-A-CODE"]}, headers=node.headers("steward")
    )
    assert r.status_code == 400 and "NOT-A-CODE" in r.json()["error"]["message"]
    assert store_stats(node.settings) == before
