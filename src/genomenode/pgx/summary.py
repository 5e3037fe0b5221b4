"""Phenotype frequencies per gene, in the nation and in each region and population.

What no single hospital can see: how common each pharmacogenomic phenotype is in each region and
population, to plan pre-emptive testing. Each person counts once per gene: their phenotype, or
"No call" when their genotypes could not give one (missing positions, tied diplotypes whose
phenotypes differ, an allele without a function), so that every gene counts the same people and
every gene's table has the same totals.

The answer is an aggregate open to callers below controlled access, so small counts are hidden
(`access.table_suppression`). Every gene's table shares those totals, so all genes are suppressed
as one system of cells and equations: the shared totals (group sizes) and, per gene, its
phenotype counts, with group total = Σ phenotypes, and for each phenotype and for the totals,
the nation = Σ regions = Σ populations. A caller who may see individuals (a steward) gets exact
counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from genomenode.access.table_suppression import suppress_linked_cells

NO_CALL = "No call"
UNKNOWN = "unknown"
PARTITIONS = ("region", "population")


@dataclass(frozen=True)
class PersonPhenotypes:
    """One person in the summary: where they belong and each gene's phenotype (None: no call)."""

    region: str
    population: str
    phenotypes: Mapping[str, str | None]


@dataclass(frozen=True)
class _Layout:
    groups: tuple[tuple[str, str], ...]  # ("all", "all"), then (partition, member)
    genes: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]  # per gene, phenotypes in a stable order, NO_CALL last
    offsets: Mapping[str, int]  # first cell of each gene's block (groups × categories)

    @property
    def n_cells(self) -> int:
        last = self.genes[-1] if self.genes else None
        if last is None:
            return len(self.groups)
        return self.offsets[last] + len(self.groups) * len(self.categories[last])

    def total(self, g: int) -> int:
        return g

    def cell(self, gene: str, g: int, c: int) -> int:
        return self.offsets[gene] + g * len(self.categories[gene]) + c


def _layout(people: Sequence[PersonPhenotypes], genes: Sequence[str]) -> _Layout:
    groups: list[tuple[str, str]] = [("all", "all")]
    for partition in PARTITIONS:
        members = sorted({getattr(p, partition) or UNKNOWN for p in people})
        groups.extend((partition, m) for m in members)
    categories: dict[str, tuple[str, ...]] = {}
    offsets: dict[str, int] = {}
    at = len(groups)
    for gene in genes:
        seen = sorted({p.phenotypes.get(gene) or NO_CALL for p in people} - {NO_CALL})
        categories[gene] = (*seen, NO_CALL)
        offsets[gene] = at
        at += len(groups) * len(categories[gene])
    return _Layout(tuple(groups), tuple(genes), categories, offsets)


def count_cells(people: Sequence[PersonPhenotypes], layout: _Layout) -> npt.NDArray[np.int64]:
    counts = np.zeros(layout.n_cells, np.int64)
    row = {group: g for g, group in enumerate(layout.groups)}
    for person in people:
        rows = [0, *(row[(part, getattr(person, part) or UNKNOWN)] for part in PARTITIONS)]
        counts[rows] += 1
        for gene in layout.genes:
            c = layout.categories[gene].index(person.phenotypes.get(gene) or NO_CALL)
            counts[[layout.cell(gene, g, c) for g in rows]] += 1
    return counts


def equations(layout: _Layout) -> list[tuple[int, tuple[int, ...]]]:
    """The relations a reader of the summary can use (see the module docstring)."""
    members = {part: [g for g, (p, _) in enumerate(layout.groups) if p == part] for part in PARTITIONS}
    out: list[tuple[int, tuple[int, ...]]] = []
    for part in PARTITIONS:
        if members[part]:
            out.append((layout.total(0), tuple(layout.total(g) for g in members[part])))
    for gene in layout.genes:
        width = len(layout.categories[gene])
        for g in range(len(layout.groups)):
            out.append((layout.total(g), tuple(layout.cell(gene, g, c) for c in range(width))))
        for c in range(width):
            for part in PARTITIONS:
                if members[part]:
                    out.append((layout.cell(gene, 0, c), tuple(layout.cell(gene, g, c) for g in members[part])))
    return out


def summarise(
    people: Sequence[PersonPhenotypes], genes: Sequence[str], *, floor: int, exact: bool = False
) -> dict[str, object]:
    """The summary as JSON-ready data: per gene, per group, each phenotype's count and frequency
    (null where hidden); `exact` (a caller allowed individual-level data) hides nothing."""
    layout = _layout(people, genes)
    counts = count_cells(people, layout)
    hidden = (
        np.zeros(counts.size, np.bool_)
        if exact or floor <= 1 or not people
        else suppress_linked_cells(counts, equations(layout), floor=floor)
    )

    def shown(i: int) -> int | None:
        return None if hidden[i] else int(counts[i])

    out_genes: dict[str, object] = {}
    for gene in layout.genes:
        rows = []
        for g, (partition, member) in enumerate(layout.groups):
            total = shown(layout.total(g))
            cells = {cat: shown(layout.cell(gene, g, c)) for c, cat in enumerate(layout.categories[gene])}
            rows.append(
                {
                    "stratum": partition if partition != "all" else "all",
                    "value": member if partition != "all" else "",
                    "people": total,
                    "counts": cells,
                    "frequencies": {
                        cat: (round(n / total, 4) if n is not None and total else None) for cat, n in cells.items()
                    },
                }
            )
        out_genes[gene] = {"phenotypes": list(layout.categories[gene]), "groups": rows}
    return {
        "people": shown(0) if people else 0,
        "small_count_floor": None if exact else floor,
        "suppressed_cells": int(hidden.sum()),
        "genes": out_genes,
    }
