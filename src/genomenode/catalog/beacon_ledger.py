"""The Beacon disclosure ledger in the catalog: every worker process and restart sees one budget.

A public request asks the ledger about every rare allele in its answer, so reading the table per
request (two queries, one `IN` list per allele and per person) cost more than the rest of the
answer. The ledger therefore keeps a mirror of the callers it has served lately in memory and
catches up from the table before each use with one primary-key read: the rows added since it last
looked (by any process). Applying a row is idempotent, since the table holds one row per (caller,
person, allele), so a row seen twice (its own write, then the catch-up) counts once. An erasure
deletes rows and bumps the catalog's policy version; a new version drops every mirror.

Known limit: with several processes writing to PostgreSQL, a row whose transaction commits after
a later id was already read is seen only at the next policy change (SQLite commits in id order).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from genomenode.catalog.models import BeaconDisclosure
from genomenode.catalog.sharing import POLICY_VERSION

MIRRORED_ACTORS = 256  # callers whose ledger stays in memory (least recently served go first)


class Disclosure(Protocol):
    """A charge of beacon.budget (the catalog does not import the beacon layer)."""

    @property
    def subject(self) -> int: ...

    @property
    def allele(self) -> str: ...

    @property
    def cost(self) -> float: ...


@dataclass
class _Mirror:
    """One caller's rows: spending per person, and who was disclosed per allele."""

    spent: dict[int, float] = field(default_factory=dict)
    disclosed: dict[str, set[int]] = field(default_factory=dict)

    def apply(self, rows: Iterable[tuple[int, str, float]]) -> None:
        for subject, allele, cost in rows:
            seen = self.disclosed.setdefault(allele, set())
            if subject in seen:
                continue
            seen.add(subject)
            self.spent[subject] = self.spent.get(subject, 0.0) + cost


class CatalogLedger:
    """beacon.budget's Ledger over the `beacon_disclosures` table, mirrored in memory."""

    def __init__(self, sessions: sessionmaker[Session], *, mirrored_actors: int = MIRRORED_ACTORS) -> None:
        self.Session = sessions
        self.mirrored_actors = mirrored_actors
        self._mirrors: OrderedDict[str, _Mirror] = OrderedDict()
        self._version: int | None = None
        self._high = 0  # the highest row id applied to every mirror
        self._lock = threading.Lock()

    def _mirror(self, actor: str) -> _Mirror:
        """The actor's mirror, caught up with the table."""
        with self._lock, self.Session() as s:
            # one round trip: the policy version (erasures bump it) and the newest row id
            versions = s.execute(
                select(POLICY_VERSION.scalar_subquery(), select(func.max(BeaconDisclosure.id)).scalar_subquery())
            ).one()
            version, top = int(versions[0] or 0), int(versions[1] or 0)
            if version != self._version:
                self._mirrors.clear()
                self._version = version
            elif top > self._high and self._mirrors:
                d = BeaconDisclosure
                rows = s.execute(
                    select(d.actor, d.subject_id, d.allele, d.cost).where(
                        BeaconDisclosure.id > self._high,
                        BeaconDisclosure.id <= top,
                        BeaconDisclosure.actor.in_(list(self._mirrors)),
                    )
                ).all()
                for row_actor, subject, allele, cost in rows:
                    self._mirrors[row_actor].apply([(int(subject), allele, float(cost))])
            self._high = top
            mirror = self._mirrors.get(actor)
            if mirror is None:
                mirror = _Mirror()
                mirror.apply(
                    (int(subject), allele, float(cost))
                    for subject, allele, cost in s.execute(
                        select(BeaconDisclosure.subject_id, BeaconDisclosure.allele, BeaconDisclosure.cost).where(
                            BeaconDisclosure.actor == actor, BeaconDisclosure.id <= top
                        )
                    )
                )
                self._mirrors[actor] = mirror
                while len(self._mirrors) > self.mirrored_actors:
                    self._mirrors.popitem(last=False)
            self._mirrors.move_to_end(actor)
            return mirror

    def state(
        self, actor: str, subjects: Collection[int], alleles: Collection[str]
    ) -> tuple[dict[int, float], frozenset[tuple[int, str]]]:
        """`spent` and `disclosed` at once (one catch-up with the table)."""
        mirror = self._mirror(actor)
        spent = {s: mirror.spent[s] for s in subjects if s in mirror.spent}
        disclosed = frozenset((subject, a) for a in set(alleles) for subject in mirror.disclosed.get(a, ()))
        return spent, disclosed

    def spent(self, actor: str, subjects: Collection[int]) -> dict[int, float]:
        """Each person's spending for `actor` so far (people with none are left out)."""
        return self.state(actor, subjects, ())[0] if subjects else {}

    def disclosed(self, actor: str, alleles: Collection[str]) -> frozenset[tuple[int, str]]:
        """Which (person, allele) of these alleles `actor` was shown before."""
        return self.state(actor, (), alleles)[1] if alleles else frozenset()

    def record(self, actor: str, charges: Sequence[Disclosure]) -> None:
        """Add the disclosures; one already there (a concurrent request made it) is kept as it was."""
        if not charges:
            return
        rows = [{"actor": actor, "subject_id": c.subject, "allele": c.allele, "cost": c.cost} for c in charges]
        with self.Session() as s, s.begin():
            dialect = s.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            for start in range(0, len(rows), 2000):  # under every driver's bound-parameter limit
                s.execute(insert(BeaconDisclosure).values(rows[start : start + 2000]).on_conflict_do_nothing())


def forget_subject(session: Session, subject_id: int) -> None:
    """Erasure: the person's disclosures go with them (the caller bumps the policy version)."""
    session.query(BeaconDisclosure).filter(BeaconDisclosure.subject_id == subject_id).delete()
