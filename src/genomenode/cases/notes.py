"""Clinicians' notes and ACMG/AMP classifications on a case's candidate variants.

A note is part of the case, so it is seen and written under the case's own rule
(`cases.service._open_case`): only a caller who may see every member of the family; anyone else,
including another region's clinician, is told the case does not exist. A note names one of the
case's latest analysis candidates, so a classification always points at a variant the family was
found to carry. Writing one is audited (`case.note`) before it is committed: if the audit log cannot
be written, the note is not kept; reading them is audited too. Notes hold no genotypes and survive a member's erasure
(catalog.case_notes).
"""

from __future__ import annotations

from typing import Any

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.cases.service import _open_case
from genomenode.catalog import case_notes
from genomenode.catalog.case_notes import CLASSIFICATIONS, NoteRow
from genomenode.errors import InputError, listing

MAX_TEXT = 4000


def normalise_classification(value: str | None) -> str | None:
    """`Likely pathogenic`, `likely-pathogenic` and `likely_pathogenic` are one class; empty is none."""
    if value is None or not value.strip():
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in CLASSIFICATIONS:
        raise InputError(f"classification {value!r}: give one of {', '.join(CLASSIFICATIONS)}, or none")
    return key


def clean_text(text: str) -> str:
    """The note's text with line ends made \\n; refuses empty, over-long or control-character text."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise InputError("the note is empty; write what you found or decided")
    if len(cleaned) > MAX_TEXT:
        raise InputError(f"the note has {len(cleaned)} characters; keep it to {MAX_TEXT}")
    if not all(ch.isprintable() or ch in "\n\t" for ch in cleaned):
        raise InputError("the note holds control characters; write plain text (line breaks and tabs are fine)")
    return cleaned


def _key(c: dict[str, Any]) -> str:
    return f"{c['chrom']}-{c['pos']}-{c['ref']}-{c['alt']}"


def _comparable(variant: str) -> str:
    return variant.strip().lower().removeprefix("chr")


def candidate(result: dict[str, Any] | None, case: str, variant: str, gene: str | None) -> tuple[str, str | None]:
    """(the variant key as the analysis wrote it, its gene) of the latest analysis' candidate
    `variant` (in `gene` when given: one allele may be a candidate in two overlapping genes)."""
    if result is None:
        raise InputError(f"case {case} has no analysis yet; analyse it before writing notes on its candidates")
    candidates: list[dict[str, Any]] = result.get("candidates") or []
    for c in candidates:
        if _comparable(_key(c)) == _comparable(variant) and (
            gene is None or str(c["gene"]).upper() == gene.strip().upper()
        ):
            return _key(c), c.get("gene") or None
    shown = [_key(c) for c in candidates]
    raise InputError(
        f"{variant!r}{f' in {gene}' if gene else ''} is not a candidate of case {case}'s latest analysis; "
        f"notes are kept on its candidates ({listing(shown) if shown else 'none'}), written chrom-pos-ref-alt"
    )


def add_note(
    gate: AccessControl,
    caller: policy.Caller,
    case: str,
    *,
    variant: str,
    text: str,
    classification: str | None = None,
    gene: str | None = None,
    request_id: str | None = None,
) -> NoteRow:
    """Append a note on one of the case's candidates, as the caller, now."""
    row, _ = _open_case(gate, caller, case)
    cleaned = clean_text(text)
    cls = normalise_classification(classification)
    key, found_gene = candidate(row.result, case, variant, gene)
    with gate.Session() as s, s.begin():
        note = case_notes.add_note(
            s, case=case, variant=key, gene=found_gene, author=caller.actor, text=cleaned, classification=cls
        )
        # in the transaction: if the entry cannot be written, the note is rolled back with it
        gate.record(
            caller, "case.note", target=case, request_id=request_id, variant=key, gene=found_gene, classification=cls
        )
    return note


def notes(gate: AccessControl, caller: policy.Caller, case: str, *, request_id: str | None = None) -> list[NoteRow]:
    """The case's notes, oldest first, for a caller who may see the case (one audit entry: the
    notes are about the family, though they hold no genotypes)."""
    _open_case(gate, caller, case)
    gate.record(caller, "read.case_notes", target=case, request_id=request_id)
    with gate.Session() as s:
        return case_notes.list_notes(s, case)
