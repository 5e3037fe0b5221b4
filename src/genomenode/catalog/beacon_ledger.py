"""The Beacon disclosure ledger in the catalog: every worker process and restart sees one budget."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
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


@dataclass(frozen=True)
class Disclosed:
    subject: int
    allele: str
    cost: float


class CatalogLedger:
    """beacon.budget's Ledger over the `beacon_disclosures` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.Session = sessions

    def history(self, actor: str, subjects: Collection[int]) -> list[Disclosed]:
        """Every disclosure made to `actor` about these people (one query: spending and repeats)."""
        if not subjects:
            return []
        with self.Session() as s:
            rows = s.execute(
                select(BeaconDisclosure.subject_id, BeaconDisclosure.allele, BeaconDisclosure.cost).where(
                    BeaconDisclosure.actor == actor, BeaconDisclosure.subject_id.in_(sorted(set(subjects)))
                )
            ).all()
        return [Disclosed(int(subject), allele, float(cost)) for subject, allele, cost in rows]

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
