"""CPIC's drug recommendations for a person's gene phenotypes.

Rows come from CPIC's tables (CC0) as pypgx ships them (`store.pgx_reference`, which says how
current they are): drug, one or two (gene, phenotype) and the recommendation text. How a row is
chosen, and what is reported when none fits (nothing is dropped silently):

- A drug is considered when one of its genes has a phenotype. Its row is the one whose every
  gene has the person's phenotype; a gene without a phenotype matches CPIC's own row for "no
  result" for that gene (the table writes 'None' there: azathioprine with NUDT15 known and TPMT
  not, fluvastatin with SLCO1B1 only). Status "recommendation".
- A row whose text is None is CPIC saying there is no recommendation for that phenotype
  ("Indeterminate", "Possible Intermediate Metabolizer" for tacrolimus...): status
  "no_recommendation", reported as such.
- No row for the person's phenotypes: status "no_row", with the phenotypes asked.
- A gene-drug pair CPIC has a published guideline for (cpic-table's Guideline URL) at CPIC level
  A or B ("genetic information should / could be used to change prescribing"; C and D pairs have
  no prescribing action) but the recommendation table has no rows for (warfarin, phenytoin, the
  G6PD drugs, the aminoglycosides of MT-RNR1, sertraline by CYP2B6): status "not_in_table",
  pointing to the guideline.
- The table keys rows on phenotype only; CPIC keys some activity-score genes' recommendations on
  the score (CYP2C9 intermediate metabolizers with 1.0 and 1.5 differ for NSAIDs). When the
  caller gives activity scores, each such recommendation carries a note saying to check the score
  against the guideline.

Nothing here is retyped; the only translations are two spellings of the same CFTR result
(PharmCAT's map says "ivacaftor responsive in CF patients", CPIC's table "Favorable Response")
and the removal of stray control characters (U+0001 in the IFNL3 rows) from the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Status = Literal["recommendation", "no_recommendation", "no_row", "not_in_table"]

# PharmCAT phenotype text → the CPIC table's spelling of the same result. CFTR's map calls a
# diplotype with one or two ivacaftor-responsive alleles "ivacaftor responsive in CF patients"
# and two non-responsive ones "... non-responsive ..."; CPIC's ivacaftor table names them
# favorable / unfavorable response.
SPELLINGS: Mapping[tuple[str, str], str] = {
    ("CFTR", "ivacaftor responsive in CF patients"): "Favorable Response",
    ("CFTR", "ivacaftor non-responsive in CF patients"): "Unfavorable Response",
}
NO_RECOMMENDATION = "CPIC gives no recommendation for this phenotype"
STATUS_TEXT: Mapping[str, str] = {
    "no_recommendation": NO_RECOMMENDATION,
    "no_row": "CPIC's table has no row for this phenotype; read the guideline",
    "not_in_table": "CPIC has a guideline for this drug, but its recommendations are not in the packaged table; "
    "read the guideline",
}
ACTIONABLE_LEVELS = frozenset({"A", "B"})  # CPIC levels whose guidelines change prescribing
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def spelled(gene: str, phenotype: str) -> str:
    """`phenotype` as CPIC's recommendation table spells it."""
    return SPELLINGS.get((gene, phenotype), phenotype)


@dataclass(frozen=True)
class Recommendation:
    drug: str
    genes: Mapping[str, str | None]  # gene → the phenotype the row was chosen on (None: no result)
    text: str | None
    guideline: str | None = None
    cpic_level: str | None = None
    source: str = "CPIC"
    status: Status = "recommendation"
    notes: tuple[str, ...] = ()

    @property
    def has_recommendation(self) -> bool:
        return self.status == "recommendation"

    def as_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "genes": dict(self.genes),
            "recommendation": self.text if self.text is not None else STATUS_TEXT[self.status],
            "has_recommendation": self.has_recommendation,
            "status": self.status,
            "guideline": self.guideline,
            "cpic_level": self.cpic_level,
            "source": self.source,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RecommendationRow:
    drug: str
    genes: tuple[tuple[str, str | None], ...]  # (gene, phenotype or None for "no result"), one or two
    text: str | None


@dataclass(frozen=True)
class Guideline:
    url: str | None
    level: str | None
    status: str | None  # CPICLevelStatus: Final / Provisional

    @property
    def actionable(self) -> bool:
        """A published guideline at CPIC level A or B."""
        return bool(self.url) and self.level in ACTIONABLE_LEVELS


@dataclass(frozen=True)
class RecommendationTable:
    rows: tuple[RecommendationRow, ...]
    guidelines: Mapping[tuple[str, str], Guideline]  # (gene, drug) → its CPIC guideline

    @property
    def genes(self) -> frozenset[str]:
        return frozenset(g for r in self.rows for g, _ in r.genes)

    def drugs(self, gene: str) -> frozenset[str]:
        """The drugs the table has rows for that use `gene`."""
        return frozenset(r.drug for r in self.rows if any(g == gene for g, _ in r.genes))

    def vocabulary(self, gene: str, drug: str | None = None) -> frozenset[str]:
        """The phenotypes the table writes for `gene` (for one drug, if given)."""
        return frozenset(
            p for r in self.rows if drug is None or r.drug == drug for g, p in r.genes if g == gene and p is not None
        )

    def for_phenotypes(
        self, phenotypes: Mapping[str, str | None], *, activity_scores: Mapping[str, str | None] | None = None
    ) -> list[Recommendation]:
        """One entry per drug one of whose genes has a phenotype here (None counts as no result),
        sorted by drug: the row that fits, or why there is none (see the module docstring)."""
        known = {g: spelled(g, p) for g, p in phenotypes.items() if p is not None}
        scores = {g: s for g, s in (activity_scores or {}).items() if s is not None}
        by_drug: dict[str, list[RecommendationRow]] = {}
        for row in self.rows:
            by_drug.setdefault(row.drug, []).append(row)
        found: dict[str, Recommendation] = {}
        for drug, rows in by_drug.items():
            genes = list(dict.fromkeys(g for r in rows for g, _ in r.genes))
            if not any(g in known for g in genes):
                continue
            asked = {g: known.get(g) for g in genes}
            guideline = self._guideline(genes, drug)
            notes = tuple(
                f"CPIC's table gives this row by {g} phenotype; the activity score here is {scores[g]}, and CPIC's "
                "guideline may differ by score within a phenotype: check it"
                for g in genes
                if g in scores and g in known
            )
            chosen = next((r for r in rows if all(asked[g] == p for g, p in r.genes)), None)
            if chosen is None:
                found[drug] = Recommendation(
                    drug, asked, None, guideline.url, guideline.level, status="no_row", notes=notes
                )
                continue
            status: Status = "recommendation" if chosen.text is not None else "no_recommendation"
            found[drug] = Recommendation(
                drug, dict(chosen.genes), chosen.text, guideline.url, guideline.level, "CPIC", status, notes
            )
        # Guidelines whose gene-drug pair the table lacks: a note on the drug's entry, or an entry of its own.
        tabled = {(g, r.drug) for r in self.rows for g, _ in r.genes}
        untabled: dict[str, list[str]] = {}
        for (gene, drug), guideline in sorted(self.guidelines.items()):
            if guideline.actionable and gene in known and (gene, drug) not in tabled:
                untabled.setdefault(drug, []).append(gene)
        for drug, genes in untabled.items():
            guideline = self._guideline(genes, drug)
            entry = found.get(drug)
            if entry is None:
                found[drug] = Recommendation(
                    drug, {g: known[g] for g in genes}, None, guideline.url, guideline.level, status="not_in_table"
                )
                continue
            note = (
                f"CPIC's guideline ({guideline.url}) also uses {', '.join(f'{g} ({known[g]})' for g in genes)} for "
                f"{drug}, which the packaged table does not: read the guideline"
            )
            found[drug] = replace(entry, notes=(*entry.notes, note))
        return [found[d] for d in sorted(found)]

    def _guideline(self, genes: Iterable[str], drug: str) -> Guideline:
        """The first of `genes` whose pair with `drug` has a guideline URL, else any entry, else none."""
        entries = [g for g in (self.guidelines.get((gene, drug)) for gene in genes) if g is not None]
        return next((g for g in entries if g.url), entries[0] if entries else Guideline(None, None, None))


def _clean(text: str | None) -> str | None:
    return _CONTROL.sub("", text) if text is not None else None


def parse_recommendations(
    rows: Iterable[Mapping[str, str | None]], guidelines: Iterable[Mapping[str, str | None]] = ()
) -> RecommendationTable:
    """pypgx's recommendation-table rows (Drug, Gene1, Phenotype1, Gene2, Phenotype2,
    Recommendation; 'None' read as None) and cpic-table rows (Gene, Drug, Guideline, CPICLevel,
    CPICLevelStatus)."""
    parsed: list[RecommendationRow] = []
    for r in rows:
        drug, gene1 = r.get("Drug"), r.get("Gene1")
        if not drug or not gene1:
            continue
        genes: tuple[tuple[str, str | None], ...] = ((gene1, r.get("Phenotype1")),)
        if r.get("Gene2"):
            genes += ((str(r["Gene2"]), r.get("Phenotype2")),)
        parsed.append(RecommendationRow(drug, genes, _clean(r.get("Recommendation"))))
    cited = {
        (str(g["Gene"]), str(g["Drug"])): Guideline(g.get("Guideline"), g.get("CPICLevel"), g.get("CPICLevelStatus"))
        for g in guidelines
        if g.get("Gene") and g.get("Drug")
    }
    return RecommendationTable(tuple(parsed), cited)
