"""The demo node's rare-disease cases: each ingested demo family opened as a case by the steward,
with the child's HPO terms, and analysed, so the portal's review pages have ranked candidates.

The families are written and ingested by simulate.national (a sibling layer this one may not
import, so they are taken by shape); this is the step `genomenode demo` runs after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from genomenode.access.gate import AccessControl
from genomenode.cases.analysis import CaseResult
from genomenode.cases.service import analyse_case, create_case
from genomenode.query.service import NodeQueries
from genomenode.settings import Settings


class DemoFamily(Protocol):
    @property
    def case(self) -> str: ...
    @property
    def dataset(self) -> str: ...
    @property
    def ped(self) -> Path: ...
    @property
    def proband(self) -> str: ...
    @property
    def hpo(self) -> tuple[str, ...]: ...


def add_demo_cases(settings: Settings, families: Iterable[DemoFamily]) -> dict[str, CaseResult]:
    """Case name → its first analysis, created and run as the demo's steward."""
    gate = AccessControl(settings)
    queries = NodeQueries(settings, engine=gate.engine)
    try:
        steward = gate.caller_for_token(gate.issue_token(issuer=settings.public_url, subject="steward"))
        results = {}
        for family in families:
            create_case(
                gate,
                steward,
                dataset=family.dataset,
                family=family.ped,
                proband=family.proband,
                hpo=family.hpo,
                name=family.case,
            )
            results[family.case] = analyse_case(gate, queries, steward, family.case)
        return results
    finally:
        queries.close()
        gate.close()
