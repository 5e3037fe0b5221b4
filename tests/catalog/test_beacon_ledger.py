"""The Beacon disclosure ledger in the catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine

from genomenode.beacon.budget import Charge
from genomenode.catalog import repository as repo
from genomenode.catalog import sharing
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
    assert ledger.spent("alice", [a, b]) == {a: 0.5, b: 0.5}  # now mirrored in memory
    with session_factory(engine)() as s, s.begin():  # as pipeline.erasure does it
        forget_subject(s, a)
        sharing.bump_policy_version(s)
    assert ledger.spent("alice", [a, b]) == {b: 0.5}
    assert ledger.disclosed("alice", ["d:chr1-10-A-G"]) == {(b, "d:chr1-10-A-G")}


def test_ledger__sees_what_another_process_recorded_after_it_last_looked(engine: Engine) -> None:
    # GIVEN two server processes' ledgers over one catalog, both having read alice's budget
    a, b = _subjects(engine, 2)
    here, there = CatalogLedger(session_factory(engine)), CatalogLedger(session_factory(engine))
    here.record("alice", [Charge(a, "d:chr1-10-A-G", 0.5)])
    assert there.spent("alice", [a]) == {a: 0.5} and here.spent("alice", [a]) == {a: 0.5}
    # WHEN the other process records more disclosures (and one this one already made)
    there.record("alice", [Charge(a, "d:chr1-20-C-T", 0.25), Charge(b, "d:chr1-20-C-T", 0.25)])
    there.record("alice", [Charge(a, "d:chr1-10-A-G", 0.5)])
    # THEN this process counts each once
    assert here.spent("alice", [a, b]) == {a: 0.75, b: 0.25}
    assert here.disclosed("alice", ["d:chr1-20-C-T", "d:chr1-30-G-A"]) == {(a, "d:chr1-20-C-T"), (b, "d:chr1-20-C-T")}


def test_ledger__a_caller_evicted_from_memory_is_read_back_whole(engine: Engine) -> None:
    (a,) = _subjects(engine, 1)
    ledger = CatalogLedger(session_factory(engine), mirrored_actors=1)
    ledger.record("alice", [Charge(a, "d:chr1-10-A-G", 0.5)])
    assert ledger.spent("alice", [a]) == {a: 0.5}
    ledger.record("alice", [Charge(a, "d:chr1-20-C-T", 0.25)])
    assert ledger.spent("bob", [a]) == {}  # bob takes alice's place in memory
    assert ledger.spent("alice", [a]) == {a: 0.75}


def test_ledger__records_more_disclosures_than_one_statement_may_bind(engine: Engine) -> None:
    (a,) = _subjects(engine, 1)
    ledger = CatalogLedger(session_factory(engine))
    ledger.record("alice", [Charge(a, f"d:chr1-{pos}-A-G", 0.001) for pos in range(1, 5001)])
    assert round(ledger.spent("alice", [a])[a], 6) == 5.0
