"""The demo node's rare-disease families: ingested at their region's centre, opened as cases and
analysed the way `genomenode demo` does, with the planted diagnosis ranked first and each case
seen only by its own region's clinician (and the steward)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from genomenode.access.gate import AccessControl
from genomenode.cases.demo import add_demo_cases
from genomenode.cases.service import case_report, list_cases
from genomenode.errors import NotFoundError
from genomenode.simulate.demo_families import DEMO_PLANS, FamilyPlan, case_name
from tests.secure_node import SecureNode, build_secure_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("demo-cases") / "node", individuals=30, seed=5)
    add_demo_cases(node.settings, node.families)
    return node


@pytest.fixture
def gate(node: SecureNode) -> Iterator[AccessControl]:
    gate = AccessControl(node.settings)
    yield gate
    gate.close()


def test_demo__a_family_per_clinicians_region_with_distinct_samples(node: SecureNode) -> None:
    assert {f.region for f in node.families} == {"stockholm", "skane"}
    members = [line.split("\t")[1] for f in node.families for line in f.ped.read_text().splitlines()]
    assert len(members) == len(set(members)) == 6


@pytest.mark.parametrize("plan", DEMO_PLANS, ids=lambda p: p.region)
def test_demo__each_case_is_analysed_with_its_planted_gene_first(
    gate: AccessControl, node: SecureNode, plan: FamilyPlan
) -> None:
    region, gene = plan.region, plan.gene
    steward = gate.caller_for_token(node.tokens["steward"])
    listed = {c["name"]: c for c in list_cases(gate, steward)}
    case = listed[case_name(region)]
    assert case["region"] == region and case["analysed_at"] is not None and len(case["hpo"]) >= 3
    assert {m["affection"] for m in case["members"]} == {"affected", "unaffected"}
    report = json.loads(case_report(gate, steward, case_name(region)))
    assert report["candidates"][0]["gene"] == gene
    assert report["candidates"][0]["rank"] == 1


@pytest.mark.parametrize(("own", "other"), [("stockholm", "skane"), ("skane", "stockholm")])
def test_demo__a_case_is_seen_by_its_regions_clinician_only(
    gate: AccessControl, node: SecureNode, own: str, other: str
) -> None:
    clinician = gate.caller_for_token(node.tokens[f"clinician-{own}"])
    assert case_name(own) in {c["name"] for c in list_cases(gate, clinician)}
    assert case_name(other) not in {c["name"] for c in list_cases(gate, clinician)}
    json.loads(case_report(gate, clinician, case_name(own)))
    with pytest.raises(NotFoundError, match="no case"):
        case_report(gate, clinician, case_name(other))
