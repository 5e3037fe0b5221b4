"""Diplotype → phenotype and activity score, from PharmCAT's phenotype maps (CPIC's tables).

`phenotypes/<GENE>.json` lists every diplotype CPIC translates, keyed by an allele-count map
(`{"*1": 1, "*17": 1}`), so allele order never matters, with its phenotype (`generesult`) and, for
activity-score genes (those whose map gives activity values: CYP2C9, DPYD), the activity score as
text (`"1.5"`). A single-allele key (MT-RNR1's map) is a haploid call and is looked up the same way.

PharmCAT's rules (Matching-Recommendations "Method 1/2"; its reporter's diplotype annotation):
- A diplotype the map does not list (an allele CPIC gives no function, e.g. CYP2C9 `*76`) is not
  translated. For an activity-score gene PharmCAT calls it "Indeterminate" with no activity score;
  for any other gene it has no phenotype ("n/a", here None). Either way a warning says why.
- A gene without a map in the reference (CYP2D6, G6PD, RYR1 and CYP4F2 in this copy) gets no
  phenotype and a warning: nothing is inferred.
- DPYD and RYR1 are lowest-function genes (Gene-Definition-Exceptions "Calling DPYD allele
  functionality and phenotype", "RYR1"): from the variants found, PharmCAT takes the two lowest-
  function ones (unphased), or the lowest on each strand (phased), and looks that diplotype up.
  DPYD ranks by CPIC activity value, RYR1 puts "Malignant Hyperthermia associated" variants first;
  ties go by name (LowestFunctionGeneCaller).
- Tied diplotypes from the matcher are each looked up; the result has a phenotype only when they
  agree (`combine_ties`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from genomenode.interpret.pgx.definitions import sequence_name_key

INDETERMINATE = "Indeterminate"  # CPIC's term, which PharmCAT gives an untranslatable activity-score diplotype
LOWEST_FUNCTION_GENES = ("DPYD", "RYR1")  # PharmCAT's Constants.LOWEST_FUNCTION_GENES
_MALIGNANT = "Malignant"  # RYR1: a function naming malignant hyperthermia ranks lowest (PharmCAT)
_ACTIVITY_UNKNOWN = float("inf")  # an allele without an activity value sorts after every known one

DiplotypeKey = tuple[tuple[str, int], ...]


def _key(alleles: Sequence[str]) -> DiplotypeKey:
    return tuple(sorted(Counter(alleles).items()))


@dataclass(frozen=True)
class PhenotypeResult:
    """`phenotype` and `activity_score` as the map writes them (None: not translated);
    `functions`: each allele's CPIC function in the order asked (None: CPIC gives none)."""

    phenotype: str | None
    activity_score: str | None
    functions: tuple[str | None, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def function_1(self) -> str | None:
        return self.functions[0] if self.functions else None

    @property
    def function_2(self) -> str | None:
        return self.functions[1] if len(self.functions) > 1 else None


def no_phenotype_map(gene: str, diplotype: str | None = None) -> PhenotypeResult:
    """The result for a gene the reference has no phenotype map for: no phenotype, and why."""
    call = f" {diplotype}" if diplotype else ""
    return PhenotypeResult(
        None,
        None,
        (),
        (
            f"{gene}{call}: no phenotype map for {gene} in the reference data (phenotypes/{gene}.json), "
            "so the diplotype is reported without a phenotype",
        ),
    )


@dataclass(frozen=True)
class GenePhenotypes:
    """One gene's map: diplotype key → (phenotype, activity score); allele → function, activity."""

    gene: str
    diplotypes: Mapping[DiplotypeKey, tuple[str | None, str | None]]
    functions: Mapping[str, str]
    activity: Mapping[str, str] = field(default_factory=dict)

    @property
    def activity_gene(self) -> bool:
        """True when CPIC translates this gene by activity score (its map gives activity values)."""
        return bool(self.activity)

    @property
    def haploid(self) -> bool:
        """True when the map has single-allele entries (a haploid call can be looked up)."""
        return any(sum(n for _, n in key) == 1 for key in self.diplotypes)

    @property
    def phenotype_vocabulary(self) -> frozenset[str]:
        """Every phenotype this map can give."""
        return frozenset(p for p, _ in self.diplotypes.values() if p)

    def split(self, diplotype: str) -> tuple[str, ...]:
        """`*1/*17` → (`*1`, `*17`); a name the map knows whole (haploid) stays one allele. Where a
        name could split at several `/`, the split whose parts the map knows wins."""
        if diplotype in self.functions or "/" not in diplotype:
            return (diplotype,)
        cuts = [i for i, ch in enumerate(diplotype) if ch == "/"]
        for i in cuts:
            a, b = diplotype[:i], diplotype[i + 1 :]
            if a in self.functions and b in self.functions:
                return (a, b)
        i = cuts[0]
        return (diplotype[:i], diplotype[i + 1 :])

    def lookup(self, alleles: Sequence[str] | str) -> PhenotypeResult:
        """The phenotype of a diplotype (two names, in any order, or a name like `*1/*17`) or of a
        haploid call (one name)."""
        names = self.split(alleles) if isinstance(alleles, str) else tuple(alleles)
        functions = tuple(self.functions.get(a) for a in names)
        found = self.diplotypes.get(_key(names))
        if found is not None:
            phenotype, score = found
            return PhenotypeResult(phenotype, score, functions)
        unknown = sorted({a for a in names if a not in self.functions}, key=sequence_name_key)
        if unknown:
            why = f"no CPIC function for {', '.join(unknown)}"
        elif not self.diplotypes:
            why = f"the {self.gene} phenotype map lists no diplotypes"
        elif len(names) == 1 and not self.haploid:
            why = f"the {self.gene} phenotype map has no single-allele (haploid) entries"
        else:
            why = f"the diplotype is not in CPIC's {self.gene} table"
        shown = "/".join(names)
        if self.activity_gene:
            return PhenotypeResult(
                INDETERMINATE,
                None,
                functions,
                (f"{self.gene} {shown}: {INDETERMINATE}, no activity score ({why}), as PharmCAT reports it",),
            )
        return PhenotypeResult(None, None, functions, (f"{self.gene} {shown}: phenotype not translated ({why})",))

    def activity_value(self, allele: str) -> float:
        text = self.activity.get(allele)
        try:
            return float(text) if text is not None else _ACTIVITY_UNKNOWN
        except ValueError:
            return _ACTIVITY_UNKNOWN

    def lowest_function_pair(self, found: Sequence[str], reference: str) -> tuple[str, str]:
        """The two lowest-activity alleles of those found, with normal-function ones read as the
        reference: PharmCAT's translation for DPWG lookups ("treats any variant ... that has a normal
        function in CPIC as Reference"). The phenotype is the same as `lowest_function_unphased`'s,
        which keeps the names PharmCAT reports. A strand written `[a + b]` counts as its lowest
        component; fewer than two found are filled with the reference."""
        singles = [self.lowest_component(a) for a in found] or []
        singles += [reference] * max(0, 2 - len(singles))
        ordered = sorted(singles, key=lambda a: (self.activity_value(a), a == reference))
        normal = self.activity_value(reference)
        pair = [reference if self.activity_value(a) >= normal else a for a in ordered[:2]]
        pair.sort(key=lambda a: (a != reference, self.activity_value(a)))
        return (pair[0], pair[1])

    def lowest_component(self, strand: str) -> str:
        """`[c.498G>A + c.2582A>G]` → its lowest-function component; a plain name → itself."""
        parts = strand_components(strand)
        return min(parts, key=self.function_rank) if len(parts) > 1 else parts[0]

    def function_rank(self, allele: str) -> tuple[Any, ...]:
        """Lowest function first, PharmCAT's order (LowestFunctionGeneCaller): by CPIC activity
        value where the gene has them, an allele without one first (PharmCAT compares a missing
        value as the smallest); else a malignant-hyperthermia function first (RYR1); then by name."""
        if self.activity:
            value = self.activity_value(allele)
            known = value != _ACTIVITY_UNKNOWN
            return (known, value if known else 0.0, sequence_name_key(allele))
        function = self.functions.get(allele) or ""
        return (_MALIGNANT not in function, 0.0, sequence_name_key(allele))


def strand_components(strand: str) -> tuple[str, ...]:
    """`[a + b]` (a strand PharmCAT names by every variant on it) → (a, b); a plain name → (name,)."""
    if strand.startswith("[") and strand.endswith("]"):
        return tuple(p.strip() for p in strand[1:-1].split(" + "))
    return (strand,)


@dataclass(frozen=True)
class LowestFunctionCall:
    """The diplotype PharmCAT reports for a lowest-function gene and its phenotype. `diplotype`
    is None when it cannot be chosen (more than two variants and no map to rank them)."""

    gene: str
    diplotype: str | None
    alleles: tuple[str, ...]
    result: PhenotypeResult


def _named(alleles: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(alleles, key=sequence_name_key))


def _finish(gene: str, table: GenePhenotypes | None, chosen: tuple[str, ...], notes: list[str]) -> LowestFunctionCall:
    alleles = _named(chosen)
    name = "/".join(alleles)
    result = table.lookup(alleles) if table is not None else no_phenotype_map(gene, name)
    return LowestFunctionCall(gene, name, alleles, replace(result, warnings=(*result.warnings, *notes)))


def _unknown_activity(table: GenePhenotypes | None, chosen: Sequence[str]) -> list[str]:
    if table is None or not table.activity:
        return []
    missing = [a for a in chosen if a not in table.activity]
    if not missing:
        return []
    return [
        f"{table.gene}: no CPIC activity value for {', '.join(missing)}; ranked as lowest function, as PharmCAT does"
    ]


def lowest_function_unphased(
    table: GenePhenotypes | None, found: Sequence[str], *, gene: str, reference: str
) -> LowestFunctionCall:
    """Unphased data: the matcher lists every variant allele found (twice when on both strands);
    PharmCAT's diplotype is the two lowest-function ones ("the two lowest function variants found
    are used to determine the gene activity score and DPYD phenotype"); with fewer than two, the
    reference fills the gap. A `[a + b]` entry counts as its components. Without a map (RYR1 in
    this copy) the diplotype is known only when at most two variants were found."""
    variants = [c for a in found for c in strand_components(a) if c != reference]
    notes: list[str] = []
    if table is None and len(variants) > 2:
        return LowestFunctionCall(
            gene,
            None,
            (),
            PhenotypeResult(
                None,
                None,
                (),
                (
                    *no_phenotype_map(gene).warnings,
                    f"{gene}: {len(variants)} variants found unphased ({', '.join(_named(variants))}); without "
                    "CPIC functions the two lowest-function ones cannot be chosen",
                ),
            ),
        )
    ranked = sorted(variants, key=table.function_rank) if table is not None else _named(variants)
    chosen = tuple(ranked[:2]) + (reference,) * max(0, 2 - len(ranked))
    if len(variants) > 2:
        notes.append(
            f"{gene}: {len(variants)} variants found unphased ({', '.join(_named(variants))}); the two "
            f"lowest-function ones, {' and '.join(_named(chosen))}, give the phenotype (PharmCAT)"
        )
    return _finish(gene, table, chosen, [*_unknown_activity(table, chosen), *notes])


def lowest_function_phased(
    table: GenePhenotypes | None, strands: Sequence[Sequence[str] | str], *, gene: str, reference: str
) -> LowestFunctionCall:
    """Phased (or effectively phased) data: each strand's variants (a list, or PharmCAT's name
    `[a + b]`); the lowest-function one per strand makes the diplotype, `reference` for a strand
    with none. One strand is a haploid call."""
    picked: list[str] = []
    notes: list[str] = []
    for strand in strands:
        names = strand_components(strand) if isinstance(strand, str) else tuple(strand)
        variants = [a for a in names if a != reference]
        if not variants:
            picked.append(reference)
        elif len(variants) == 1:
            picked.append(variants[0])
        elif table is None:
            notes.append(
                f"{gene}: a strand carries {', '.join(_named(variants))}; without CPIC functions its lowest-function "
                "variant cannot be chosen"
            )
            return LowestFunctionCall(
                gene, None, (), PhenotypeResult(None, None, (), (*no_phenotype_map(gene).warnings, *notes))
            )
        else:
            low = min(variants, key=table.function_rank)
            picked.append(low)
            notes.append(f"{gene}: strand [{' + '.join(_named(variants))}] read as its lowest-function variant {low}")
    return _finish(gene, table, tuple(picked), [*_unknown_activity(table, picked), *notes])


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
    diplotypes: dict[DiplotypeKey, tuple[str | None, str | None]] = {}
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


def phenotype_of(tables: Mapping[str, GenePhenotypes], gene: str, alleles: Sequence[str] | str) -> PhenotypeResult:
    """`alleles` looked up in `gene`'s map, or `no_phenotype_map` when the reference has none."""
    table = tables.get(gene)
    if table is None:
        return no_phenotype_map(gene, alleles if isinstance(alleles, str) else "/".join(alleles))
    return table.lookup(alleles)


def combine_ties(results: Sequence[PhenotypeResult], names: Sequence[str]) -> PhenotypeResult:
    """Tied diplotypes' phenotypes: one answer when they agree, else None with a warning that
    names each (PharmCAT reports every tie; a prescriber needs to know they disagree)."""
    if not results:
        return PhenotypeResult(None, None)
    phenotypes = {r.phenotype for r in results}
    scores = {r.activity_score for r in results}
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    if len(phenotypes) == 1 and len(scores) == 1:
        first = results[0]
        return PhenotypeResult(first.phenotype, first.activity_score, first.functions, warnings)
    listed = "; ".join(
        f"{n} → {r.phenotype or 'not translated'}{f' (activity score {r.activity_score})' if r.activity_score else ''}"
        for n, r in zip(names, results, strict=True)
    )
    return PhenotypeResult(
        None, None, (), (*warnings, f"tied diplotypes differ in phenotype ({listed}): no single phenotype")
    )


def phenotype_of_ties(table: GenePhenotypes | None, gene: str, diplotypes: Sequence[str]) -> PhenotypeResult:
    """Every tied diplotype (names like `*1/*2`) looked up, then `combine_ties`."""
    if table is None:
        return no_phenotype_map(gene, " or ".join(diplotypes))
    return combine_ties([table.lookup(d) for d in diplotypes], diplotypes)
