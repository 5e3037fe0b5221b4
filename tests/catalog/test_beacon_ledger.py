"""The Beacon disclosure ledger in the catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine

from genomenode.beacon.budget import Charge
from genomenode.catalog import repository as repo
from genomenode.catalog.beacon_ledger import CatalogLedger, forget_subject
from genomenode.catalog.database import session_factory


def _subjects(engine: Engine, n: int) -> list[int]:
    names = [hashlib.sha256(f"ledger-{i}".encode()).hexdigest() for i in range(n)]
    with session_factory(engine)() as s, s.begin():
        return [repo.get_or_create_subject(s, pseudonym=name, sex="female").id for name in names]


def test_ledger__sums_spending_per_person_and_caller(engine: Engine) -> None:
    a, b = _subjects(engine, 2)
    ledger = CatalogLedger(session_factory(engine))
    ledger.record(
        "alice", [Charge(a, "d:chr1-10-A-G", 0.5), Charge(a, "d:chr1-20-C-T", 0.25), Charge(b, "d:chr1-10-A-G", 0.5)]
    )
    ledger.record("bob", [Charge(a, "d:chr1-10-A-G", 0.5)])
    assert ledger.spent("alice", [a, b]) == {a: 0.75, b: 0.5}
    assert ledger.spent("bob", [a, b]) == {a: 0.5}
    assert ledger.spent("carol", [a]) == {}
    assert ledger.disclosed("alice", ["d:chr1-10-A-G"]) == {(a, "d:chr1-10-A-G"), (b, "d:chr1-10-A-G")}
    assert ledger.disclosed("bob", ["d:chr1-20-C-T"]) == frozenset()


def test_ledger__a_disclosure_recorded_twice_counts_once(engine: Engine) -> None:
    (a,) = _subjects(engine, 1)
    ledger = CatalogLedger(session_factory(engine))
    for _ in range(2):  # two requests racing to record the same disclosure
        ledger.record("alice", [Charge(a, "d:chr1-10-A-G", 0.5)])
    assert ledger.spent("alice", [a]) == {a: 0.5}


def test_ledger__erasure_forgets_the_persons_rows(engine: Engine) -> None:
    a, b = _subjects(engine, 2)
    ledger = CatalogLedger(session_factory(engine))
    ledger.record("alice", [Charge(a, "d:chr1-10-A-G", 0.5), Charge(b, "d:chr1-10-A-G", 0.5)])
    with session_factory(engine)() as s, s.begin():
        forget_subject(s, a)
    assert ledger.spent("alice", [a, b]) == {b: 0.5}
