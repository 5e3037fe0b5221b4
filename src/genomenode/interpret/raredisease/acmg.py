"""ACMG/AMP criteria this node can apply on its own data (Richards et al. 2015, with the ClinGen
SVI refinements cited per rule), and only where the evidence supports them.

Applied automatically:
* **PVS1** (null variant in a gene where loss of function is a known mechanism): the annotation
  predicts loss of function (stop gained, frameshift, essential splice site, start lost; not a
  LOFTEE low-confidence call) *and* the same annotation marks the gene LoF-intolerant (pLI ≥ 0.9
  or LOEUF < 0.35, the thresholds gnomAD gives), and a gene panel does not say LoF is not the
  mechanism. Gene models alone never give PVS1: they say where a change lies, not what it does.
* **PS2 / PM6** (de novo): PS2 when both parents are genotyped, the variant fits de novo
  (confirmed, not untold) and the trio's Mendelian error rate backs the stated parentage; PM6
  ("assumed de novo") when parentage is not checked. ClinGen SVI's de novo point table is not
  applied: the phenotype-consistency half of it is a clinician's judgement.
* **PM2_Supporting** (absent from controls; ClinGen SVI 2020 downgraded PM2 to supporting): no
  carrier among at least 2,000 population alleles (the national database without the family, or
  the VCF's other samples), and no annotated population frequency above zero.
* **PP4** (phenotype highly specific for a single-gene disease): the gene is among the five that
  best match the patient's terms and random term sets match it as well in fewer than 1 of 100
  draws.

Nothing here classifies a variant: criteria are listed for a clinical scientist to weigh, with
those that need evidence the node does not hold (segregation counts, functional studies, case
reports, in-silico predictors) left to them.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CONTROL_ALLELES = 2000
PP4_MAX_P = 0.01
PP4_MAX_RANK = 5
PLI_INTOLERANT = 0.9
LOEUF_INTOLERANT = 0.35


@dataclass(frozen=True)
class Criterion:
    code: str
    why: str

    def __str__(self) -> str:
        return f"{self.code} ({self.why})"


@dataclass(frozen=True)
class VariantFacts:
    """What the rules read about one candidate variant."""

    predicted_lof: bool  # an annotated loss-of-function consequence
    lof_low_confidence: bool  # LOFTEE called it LC (or OS)
    pli: float | None  # the annotation's value for the gene, if it carries one
    loeuf: float | None
    lof_not_mechanism: bool  # a gene panel says LoF is not the disease mechanism
    de_novo: bool  # fits de novo (confirmed) at the family level
    de_novo_untold: bool
    parents_genotyped: bool
    parentage_confirmed: bool | None  # None: not checked
    population_alleles: int  # alleles the population frequency stands on (family excluded)
    population_carriers: int
    annotated_af: float | None  # highest frequency the annotation carries
    phenotype_rank: int | None
    phenotype_p: float | None


def lof_intolerant(pli: float | None, loeuf: float | None) -> bool:
    return (pli is not None and pli >= PLI_INTOLERANT) or (loeuf is not None and loeuf < LOEUF_INTOLERANT)


def criteria(f: VariantFacts) -> list[Criterion]:
    """The criteria this variant meets on the node's evidence, strongest first."""
    out: list[Criterion] = []
    if f.predicted_lof and not f.lof_low_confidence and lof_intolerant(f.pli, f.loeuf) and not f.lof_not_mechanism:
        measure = f"pLI {f.pli:.2f}" if f.pli is not None else f"LOEUF {f.loeuf:.2f}"
        out.append(Criterion("PVS1", f"predicted loss of function in a LoF-intolerant gene, {measure}"))
    if f.de_novo and f.parents_genotyped and f.parentage_confirmed:
        out.append(Criterion("PS2", "de novo, both parents genotyped, parentage consistent with the genotypes"))
    elif f.de_novo or (f.de_novo_untold and f.parents_genotyped):
        why = "parentage not confirmed" if f.parentage_confirmed is not True else "a parental call is missing"
        out.append(Criterion("PM6", f"assumed de novo ({why})"))
    absent = f.population_carriers == 0 and (f.annotated_af is None or f.annotated_af <= 0)
    if absent and f.population_alleles >= MIN_CONTROL_ALLELES:
        out.append(Criterion("PM2_Supporting", f"absent from {f.population_alleles:,} population alleles"))
    if (
        f.phenotype_rank is not None
        and f.phenotype_p is not None
        and f.phenotype_rank <= PP4_MAX_RANK
        and f.phenotype_p < PP4_MAX_P
    ):
        out.append(
            Criterion("PP4", f"phenotype match rank {f.phenotype_rank}, p = {f.phenotype_p:.3f} against random terms")
        )
    return out
