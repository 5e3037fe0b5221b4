"""CPIC's drug recommendations for a person's gene phenotypes.

Rows come from CPIC's guideline tables (CC0) as pypgx ships them (`store.pgx_reference`): drug,
one or two (gene, phenotype) and the recommendation text; a 'None' phenotype in a two-gene row is
the row for "that gene has no result", which CPIC writes out (azathioprine with NUDT15 known and
TPMT not). A row whose text is None is CPIC saying there is no recommendation for that phenotype:
it is reported as such, not dropped. Nothing here is retyped; the only translation is between
two spellings of the same CFTR result (PharmCAT's phenotype map says "ivacaftor responsive in CF
patients", CPIC's table "Favorable Response").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# PharmCAT phenotype text → the CPIC table's spelling of the same result
_SPELLINGS = {
    ("CFTR", "ivacaftor responsive in CF patients"): "Favorable Response",
    ("CFTR", "ivacaftor non-responsive in CF patients"): "Unfavorable Response",
}
NO_RECOMMENDATION = "CPIC gives no recommendation for this phenotype"


@dataclass(frozen=True)
class Recommendation:
    drug: str
    genes: Mapping[str, str | None]  # gene → the phenotype the row was chosen on (None: unknown)
    text: str | None
    guideline: str | None = None
    cpic_level: str | None = None
    source: str = "CPIC"

    def as_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "genes": dict(self.genes),
            "recommendation": self.text if self.text is not None else NO_RECOMMENDATION,
            "has_recommendation": self.text is not None,
            "guideline": self.guideline,
            "cpic_level": self.cpic_level,
            "source": self.source,
        }


@dataclass(frozen=True)
class _Row:
    drug: str
    genes: tuple[tuple[str, str | None], ...]  # (gene, phenotype or None), one or two
    text: str | None


@dataclass(frozen=True)
class RecommendationTable:
    rows: tuple[_Row, ...]
    guidelines: Mapping[tuple[str, str], tuple[str | None, str | None]]  # (gene, drug) → (URL, level)

    @property
    def genes(self) -> frozenset[str]:
        return frozenset(g for r in self.rows for g, _ in r.genes)

    def for_phenotypes(self, phenotypes: Mapping[str, str]) -> list[Recommendation]:
        """Every drug of the table one of whose genes has a phenotype here, with the row that
        fits: both genes' phenotypes where the drug has two, else the row for the other gene
        being unknown. Drugs sorted by name."""
        spelled = {g: _SPELLINGS.get((g, p), p) for g, p in phenotypes.items()}
        by_drug: dict[str, list[_Row]] = {}
        for row in self.rows:
            by_drug.setdefault(row.drug, []).append(row)
        out: list[Recommendation] = []
        for drug in sorted(by_drug):
            rows = by_drug[drug]
            genes = {g for r in rows for g, _ in r.genes}
            if not genes & spelled.keys():
                continue
            chosen = next((r for r in rows if all(spelled.get(g) == p for g, p in r.genes)), None)
            if chosen is None:
                continue  # the person's phenotype is not one CPIC writes a row for (or a gene is unknown with no row)
            first_gene = chosen.genes[0][0]
            url, level = self.guidelines.get((first_gene, drug), (None, None))
            out.append(Recommendation(drug, dict(chosen.genes), chosen.text, url, level))
        return out


def parse_recommendations(
    rows: Iterable[Mapping[str, str | None]], guidelines: Iterable[Mapping[str, str | None]] = ()
) -> RecommendationTable:
    """pypgx's recommendation-table rows (Drug, Gene1, Phenotype1, Gene2, Phenotype2,
    Recommendation; 'None' read as None) and cpic-table rows (Gene, Drug, Guideline, CPICLevel)."""
    parsed: list[_Row] = []
    for r in rows:
        drug, gene1 = r.get("Drug"), r.get("Gene1")
        if not drug or not gene1:
            continue
        genes: tuple[tuple[str, str | None], ...] = ((gene1, r.get("Phenotype1")),)
        if r.get("Gene2"):
            genes += ((str(r["Gene2"]), r.get("Phenotype2")),)
        parsed.append(_Row(drug, genes, r.get("Recommendation")))
    cited = {
        (str(g["Gene"]), str(g["Drug"])): (g.get("Guideline"), g.get("CPICLevel"))
        for g in guidelines
        if g.get("Gene") and g.get("Drug")
    }
    return RecommendationTable(tuple(parsed), cited)
