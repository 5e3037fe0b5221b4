"""Clinicians' notes on a case's candidate variants, in the catalog (append-only).

Like repository.py these never commit. There is no update or delete: a changed classification is a
new note, so the record shows who classified what, when, and what they thought before; the newest
classified note of a variant is its current class (`current_classes`).

Erasure (pipeline.erasure → catalog.cases.forget_samples) keeps a case's notes: they hold a
variant key, a gene, the author and their words, never a genotype or a sample, and they are the
clinic's record of how the case was reviewed. The case's analysis is dropped with the person, so no
new note can be added until the case is analysed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from genomenode.catalog.models import NOTE_CLASSIFICATIONS, Case, CaseNote, utcnow
from genomenode.errors import NotFoundError

CLASSIFICATIONS = NOTE_CLASSIFICATIONS


@dataclass(frozen=True)
class NoteRow:
    id: int
    case: str
    variant: str
    gene: str | None
    author: str
    created_at: datetime
    text: str
    classification: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "case": self.case,
            "variant": self.variant,
            "gene": self.gene,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "text": self.text,
            "classification": self.classification,
        }


def _case_id(session: Session, case: str) -> int:
    found = session.scalar(select(Case.id).where(Case.name == case))
    if found is None:
        raise NotFoundError(f"no case {case!r}")
    return int(found)


def _row(note: CaseNote, case: str) -> NoteRow:
    return NoteRow(
        id=note.id,
        case=case,
        variant=note.variant,
        gene=note.gene,
        author=note.author,
        created_at=note.created_at,
        text=note.text,
        classification=note.classification,
    )


def add_note(
    session: Session,
    *,
    case: str,
    variant: str,
    gene: str | None,
    author: str,
    text: str,
    classification: str | None,
    created_at: datetime | None = None,
) -> NoteRow:
    """Append a note (the caller checked the text, the variant and the classification)."""
    if classification is not None and classification not in CLASSIFICATIONS:
        raise ValueError(f"classification {classification!r} is not one of {', '.join(CLASSIFICATIONS)}")
    note = CaseNote(
        case_id=_case_id(session, case),
        variant=variant,
        gene=gene,
        author=author,
        created_at=created_at or utcnow(),
        text=text,
        classification=classification,
    )
    session.add(note)
    session.flush()
    return _row(note, case)


def list_notes(session: Session, case: str) -> list[NoteRow]:
    """The case's notes, oldest first (the order they were written in)."""
    case_id = _case_id(session, case)
    notes = session.scalars(
        select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.created_at, CaseNote.id)
    )
    return [_row(n, case) for n in notes]


def current_classes(notes: Iterable[NoteRow]) -> dict[str, NoteRow]:
    """Variant → its newest note carrying a classification (notes given oldest first)."""
    out: dict[str, NoteRow] = {}
    for note in notes:
        if note.classification is not None:
            out[note.variant] = note
    return out
