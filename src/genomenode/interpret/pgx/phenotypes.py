"""Diplotype → phenotype and activity score, from PharmCAT's phenotype maps (CPIC's tables).

`phenotypes/<GENE>.json` lists every diplotype CPIC translates, keyed by an allele-count map
(`{"*1": 1, "*17": 1}`), so allele order never matters, with its phenotype (`generesult`) and, for
activity-score genes (CYP2C9, DPYD), the activity score as text. A diplotype absent from the map
(an allele CPIC gives no function) is "not translated": the phenotype is None and a warning says
why, never a guess. Lowest-function genes (DPYD; RYR1 has no map in this copy) reduce what the
matcher found to the two lowest-function alleles first (PharmCAT, "Calling DPYD named alleles").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_ACTIVITY_UNKNOWN = float("inf")  # an allele without an activity value sorts after every known one


def _key(alleles: Sequence[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(alleles).items()))


@dataclass(frozen=True)
class PhenotypeResult:
    phenotype: str | None
    activity_score: str | None
    functions: tuple[str | None, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenePhenotypes:
    """One gene's map: diplotype key → (phenotype, activity score); allele → function, activity."""

    gene: str
    diplotypes: Mapping[tuple[tuple[str, int], ...], tuple[str | None, str | None]]
    functions: Mapping[str, str]
    activity: Mapping[str, str] = field(default_factory=dict)

    @property
    def activity_gene(self) -> bool:
        return bool(self.activity)

    def lookup(self, alleles: Sequence[str]) -> PhenotypeResult:
        """The phenotype of a diplotype (two names) or haploid call (one name)."""
        functions = tuple(self.functions.get(a) for a in alleles)
        found = self.diplotypes.get(_key(alleles))
        if found is None:
            unknown = [a for a in alleles if a not in self.functions]
            why = (
                f"no CPIC function for {', '.join(sorted(set(unknown)))}"
                if unknown
                else "the diplotype is not in CPIC's table"
            )
            return PhenotypeResult(
                None, None, functions, (f"{self.gene} {'/'.join(alleles)}: phenotype not translated ({why})",)
            )
        phenotype, score = found
        return PhenotypeResult(phenotype, score, functions)

    def activity_value(self, allele: str) -> float:
        text = self.activity.get(allele)
        try:
            return float(text) if text is not None else _ACTIVITY_UNKNOWN
        except ValueError:
            return _ACTIVITY_UNKNOWN

    def lowest_function_pair(self, found: Sequence[str], reference: str) -> tuple[str, str]:
        """The two lowest-activity alleles of those found (PharmCAT's DPYD rule for unphased
        data); a strand written `[a + b]` counts as its lowest component; fewer than two found
        are filled with the reference."""
        singles = [self.lowest_component(a) for a in found] or []
        singles += [reference] * max(0, 2 - len(singles))
        ordered = sorted(singles, key=lambda a: (self.activity_value(a), a == reference))
        # "For normal function variants, reference is used in the calculated genotype" (PharmCAT)
        normal = self.activity_value(reference)
        pair = [reference if self.activity_value(a) >= normal else a for a in ordered[:2]]
        pair.sort(key=lambda a: (a != reference, self.activity_value(a)))
        return (pair[0], pair[1])

    def lowest_component(self, strand: str) -> str:
        """`[c.498G>A + c.2582A>G]` → its lowest-activity component; a plain name → itself."""
        if strand.startswith("[") and strand.endswith("]"):
            parts = [p.strip() for p in strand[1:-1].split(" + ")]
            return min(parts, key=self.activity_value)
        return strand


# CPIC statin guideline (PMID 35152405): "All SLCO1B1 genetic tests should interrogate c.521T>C";
# when no star-allele call can be made, PharmCAT recommends from this SNV alone (Gene Definition
# Exceptions, SLCO1B1). C alleles → CPIC's SLCO1B1 function phenotype.
SLCO1B1_FALLBACK_RSID = "rs4149056"
SLCO1B1_FALLBACK = {0: "Normal Function", 1: "Decreased Function", 2: "Poor Function"}


def slco1b1_fallback(alleles: Sequence[str], *, ref: str, alt: str) -> str | None:
    """The phenotype from the rs4149056 genotype (two alleles), None when it holds another base."""
    if len(alleles) != 2 or any(a not in (ref, alt) for a in alleles):
        return None
    return SLCO1B1_FALLBACK[sum(a == alt for a in alleles)]


def parse_phenotypes(doc: Mapping[str, Any]) -> GenePhenotypes:
    """A `phenotypes/<GENE>.json` document."""
    gene = str(doc["gene"])
    diplotypes: dict[tuple[tuple[str, int], ...], tuple[str | None, str | None]] = {}
    for entry in doc.get("diplotypes") or []:
        counts = entry.get("diplotypekey") or {}
        alleles = [name for name, n in counts.items() for _ in range(int(n))]
        if not alleles:
            continue
        phenotype = entry.get("generesult") or entry.get("phenotype")
        diplotypes[_key(alleles)] = (phenotype, entry.get("activityScore"))
    functions = {str(k): str(v) for k, v in (doc.get("haplotypes") or {}).items() if v is not None}
    activity = {str(k): str(v) for k, v in (doc.get("activityValues") or {}).items() if v is not None}
    return GenePhenotypes(gene, diplotypes, functions, activity)


def combine_ties(results: Sequence[PhenotypeResult], names: Sequence[str]) -> PhenotypeResult:
    """Tied diplotypes' phenotypes: one answer when they agree, else None with a warning that
    names each (PharmCAT reports every tie; a prescriber needs to know they disagree)."""
    if not results:
        return PhenotypeResult(None, None)
    phenotypes = {r.phenotype for r in results}
    scores = {r.activity_score for r in results}
    warnings = tuple(w for r in results for w in r.warnings)
    if len(phenotypes) == 1 and len(scores) == 1:
        first = results[0]
        return PhenotypeResult(first.phenotype, first.activity_score, first.functions, warnings)
    listed = "; ".join(f"{n} → {r.phenotype or 'not translated'}" for n, r in zip(names, results, strict=True))
    return PhenotypeResult(
        None, None, (), (*warnings, f"tied diplotypes differ in phenotype ({listed}): no single phenotype")
    )
