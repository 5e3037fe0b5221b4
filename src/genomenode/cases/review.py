"""What a clinician reviews a case with: the cases they may see with their top candidate, one case's
family, terms, stored candidates (filtered as they ask) and notes.

Reads only, under the case's own rule (`cases.service._open_case`). A case's stored analysis shows
its members' genotypes, so each read of it is audited per member (`read.case`, as the report is)
before it is returned; the list of cases shows each analysed case's top candidate, so it is audited
the same way. Filtering is done here on the stored candidates: the page never re-runs an analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.cases import knowledge
from genomenode.cases.notes import notes as case_notes
from genomenode.cases.service import _open_case, _summary, _Visible, list_cases
from genomenode.catalog import cases as catalog_cases
from genomenode.catalog.case_notes import NoteRow
from genomenode.errors import CaseError
from genomenode.interpret.raredisease.scores import LOSS_OF_FUNCTION

CONSEQUENCE_CLASSES = {
    "lof": "Loss of function",
    "protein": "Missense or in-frame",
    "splice": "Splice region",
    "other": "Other (coding, UTR, gene-model class)",
}
_PROTEIN = ("missense", "inframe", "protein_altering")


def consequence_class(consequence: str) -> str:
    """The filter's class of a candidate's consequence (its most severe term is written first)."""
    first = consequence.replace(",", "&").split("&")[0].strip()
    if first in LOSS_OF_FUNCTION:
        return "lof"
    if any(first.startswith(p) or p in first for p in _PROTEIN):
        return "protein"
    if "splice" in first:
        return "splice"
    return "other"


@dataclass(frozen=True)
class CandidateFilter:
    """The page's filters; an unset one lets every candidate through."""

    inheritance: str | None = None  # one of the stored candidates' inheritance texts
    max_af: float | None = None  # population frequency at most this (unknown frequencies pass)
    consequence: str | None = None  # a CONSEQUENCE_CLASSES key
    min_score: float | None = None
    gene: str | None = None  # the gene symbol contains this (case-insensitive)

    def keeps(self, c: dict[str, Any]) -> bool:
        if self.inheritance and c["inheritance"] != self.inheritance:
            return False
        if self.max_af is not None and c["max_af"] is not None and c["max_af"] > self.max_af:
            return False
        if self.consequence and consequence_class(c["consequence"]) != self.consequence:
            return False
        if self.min_score is not None and c["score"] < self.min_score:
            return False
        return not (self.gene and self.gene.strip().upper() not in str(c["gene"]).upper())


def variant_key(c: dict[str, Any]) -> str:
    return f"{c['chrom']}-{c['pos']}-{c['ref']}-{c['alt']}"


@dataclass(frozen=True)
class CaseReview:
    case: dict[str, Any]  # cases.service._summary
    result: dict[str, Any] | None
    candidates: list[dict[str, Any]]  # the stored candidates the filter keeps
    modes: list[str]  # every inheritance text among the stored candidates, for the filter's choices
    notes: dict[str, list[NoteRow]]  # variant → its notes, oldest first
    term_names: dict[str, str] = field(default_factory=dict)
    erased: frozenset[str] = frozenset()  # members erased since the case was opened (no sample, no genotypes)


def overview(gate: AccessControl, caller: policy.Caller, *, request_id: str | None = None) -> list[dict[str, Any]]:
    """The cases the caller may see, each with its HPO count and top candidate (None if none)."""
    visible = list_cases(gate, caller)
    with gate.Session() as s:
        rows = {c.name: c for c in catalog_cases.list_cases(s)}
    out = []
    for summary in visible:
        row = rows[summary["name"]]
        candidates = (row.result or {}).get("candidates") or []
        if candidates:  # the top candidate is what the family carries: audited like the report
            try:
                _, visible_members = _open_case(gate, caller, row.name)
            except CaseError:  # a member's sample changed since: the case page says what to do
                candidates = []
            else:
                _audit_read(gate, caller, visible_members, via="case list", request_id=request_id)
        out.append({**summary, "top": candidates[0] if candidates else None, "candidates": len(candidates)})
    return out


def review(
    gate: AccessControl,
    caller: policy.Caller,
    name: str,
    chosen: CandidateFilter | None = None,
    *,
    request_id: str | None = None,
) -> CaseReview:
    """One case as its review page shows it."""
    row, visible = _open_case(gate, caller, name)
    if row.result is not None:
        _audit_read(gate, caller, visible, via=f"case {name}", request_id=request_id)
    stored = (row.result or {}).get("candidates") or []
    by_variant: dict[str, list[NoteRow]] = {}
    for note in case_notes(gate, caller, name, request_id=request_id):
        by_variant.setdefault(note.variant, []).append(note)
    ontology = knowledge.hpo()
    return CaseReview(
        case=_summary(row),
        result=row.result,
        candidates=[c for c in stored if (chosen or CandidateFilter()).keeps(c)],
        modes=sorted({c["inheritance"] for c in stored}),
        notes=by_variant,
        term_names={t: ontology.names.get(t, "") for t in row.hpo},
        erased=frozenset(m for m, code in row.samples.items() if code is None),
    )


def _audit_read(
    gate: AccessControl, caller: policy.Caller, visible: Sequence[_Visible], *, via: str, request_id: str | None
) -> None:
    """One `read.case` entry per member whose genotypes the stored analysis shows."""
    for v in visible:
        gate.record(caller, "read.case", target=v.pseudonym, request_id=request_id, via=via, sample=v.member)
