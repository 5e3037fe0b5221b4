"""The Beacon disclosure ledger in the catalog: every worker process and restart sees one budget."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from genomenode.catalog.models import BeaconDisclosure


class Disclosure(Protocol):
    """A charge of beacon.budget (the catalog does not import the beacon layer)."""

    @property
    def subject(self) -> int: ...

    @property
    def allele(self) -> str: ...

    @property
    def cost(self) -> float: ...


class CatalogLedger:
    """beacon.budget's Ledger over the `beacon_disclosures` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.Session = sessions

    def spent(self, actor: str, subjects: Collection[int]) -> dict[int, float]:
        """Each person's spending for `actor` so far, summed in the database (unique index prefix)."""
        if not subjects:
            return {}
        with self.Session() as s:
            rows = s.execute(
                select(BeaconDisclosure.subject_id, func.sum(BeaconDisclosure.cost))
                .where(BeaconDisclosure.actor == actor, BeaconDisclosure.subject_id.in_(sorted(set(subjects))))
                .group_by(BeaconDisclosure.subject_id)
            ).all()
        return {int(subject): float(total) for subject, total in rows}

    def disclosed(self, actor: str, alleles: Collection[str]) -> frozenset[tuple[int, str]]:
        """Which (person, allele) of these alleles `actor` was shown before (index on actor, allele)."""
        if not alleles:
            return frozenset()
        with self.Session() as s:
            rows = s.execute(
                select(BeaconDisclosure.subject_id, BeaconDisclosure.allele).where(
                    BeaconDisclosure.actor == actor, BeaconDisclosure.allele.in_(sorted(set(alleles)))
                )
            ).all()
        return frozenset((int(subject), allele) for subject, allele in rows)

    def record(self, actor: str, charges: Sequence[Disclosure]) -> None:
        """Add the disclosures; one already there (a concurrent request made it) is kept as it was."""
        if not charges:
            return
        rows = [{"actor": actor, "subject_id": c.subject, "allele": c.allele, "cost": c.cost} for c in charges]
        with self.Session() as s, s.begin():
            dialect = s.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            s.execute(insert(BeaconDisclosure).values(rows).on_conflict_do_nothing())


def forget_subject(session: Session, subject_id: int) -> None:
    """Erasure: the person's disclosures go with them."""
    session.query(BeaconDisclosure).filter(BeaconDisclosure.subject_id == subject_id).delete()
