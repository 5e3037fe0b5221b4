"""The variant side of a candidate's score: how damaging, how rare, allowed by which mode.

* **Pathogenicity from the consequence.** Without an in-silico predictor in the store, a
  consequence class stands for the chance that such a change is damaging, in the manner of
  Exomiser's default variant-effect scores: loss of function (stop gained, frameshift, essential
  splice site, start or stop lost) 1.0; inframe indels and missense 0.6 and 0.5; splice region
  0.4; synonymous and UTR 0.1; intron and other non-coding 0. When only the gene models speak
  (no CSQ/BCSQ/ANN in the VCF) the class is where the variant lies, not what it does, so a coding
  exon counts as a missense-like 0.5 and an essential splice site 0.6: never as a certain LoF.
* **Frequency.** Exomiser's frequency score: 1 for an allele absent from every population looked
  at, falling to 0 at 2% (1.13533 − 0.13533·e^(100·AF)).
* **Per-mode frequency caps**: a dominant or de novo cause is rarer than a recessive carrier
  allele: 0.1% for de novo and dominant, 1% for recessive, compound het, X-linked and
  mitochondrial (the caps seqr and Exomiser use by default), each changeable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from genomenode.interpret.raredisease.inheritance import Mode

FloatArray = npt.NDArray[np.float64]

LOSS_OF_FUNCTION = frozenset(
    {
        "transcript_ablation",
        "splice_acceptor_variant",
        "splice_donor_variant",
        "stop_gained",
        "frameshift_variant",
        "stop_lost",
        "start_lost",
    }
)
_BY_TERM: Mapping[str, float] = MappingProxyType(
    {
        **dict.fromkeys(LOSS_OF_FUNCTION, 1.0),
        "transcript_amplification": 0.6,
        "feature_elongation": 0.6,
        "feature_truncation": 0.6,
        "inframe_insertion": 0.6,
        "inframe_deletion": 0.6,
        "disruptive_inframe_insertion": 0.6,
        "disruptive_inframe_deletion": 0.6,
        "missense_variant": 0.5,
        "protein_altering_variant": 0.5,
        "splice_donor_5th_base_variant": 0.4,
        "splice_region_variant": 0.4,
        "splice_donor_region_variant": 0.4,
        "splice_polypyrimidine_tract_variant": 0.2,
        "incomplete_terminal_codon_variant": 0.3,
        "start_retained_variant": 0.1,
        "stop_retained_variant": 0.1,
        "synonymous_variant": 0.1,
        "coding_sequence_variant": 0.3,
        "mature_miRNA_variant": 0.3,
        "5_prime_UTR_variant": 0.1,
        "3_prime_UTR_variant": 0.1,
        "non_coding_transcript_exon_variant": 0.05,
    }
)
# gene-model classes (interpret.raredisease.regions labels): where a change lies, not what it does
_BY_REGION: Mapping[str, float] = MappingProxyType(
    {
        "splice_site": 0.6,
        "coding_exon": 0.5,
        "splice_region": 0.4,
        "utr": 0.1,
        "noncoding_exon": 0.05,
    }
)


def consequence_pathogenicity(term: str, *, annotated: bool) -> float:
    """0..1 for an SO consequence term (annotated) or a gene-model class label (not annotated)."""
    table = _BY_TERM if annotated else _BY_REGION
    return table.get(term, 0.0)


def frequency_score(max_af: FloatArray) -> FloatArray:
    """Exomiser's frequency score per allele; NaN (no population data) counts as absent."""
    af = np.nan_to_num(np.asarray(max_af, np.float64), nan=0.0)
    score = np.where(af <= 0, 1.0, 1.13533 - 0.13533 * np.exp(np.minimum(af * 100.0, 50.0)))
    out: FloatArray = np.clip(score, 0.0, 1.0)
    return out


DEFAULT_MAX_AF: Mapping[Mode, float] = MappingProxyType(
    {
        Mode.DE_NOVO: 0.001,
        Mode.AUTOSOMAL_DOMINANT: 0.001,
        Mode.AUTOSOMAL_RECESSIVE_HOM: 0.01,
        Mode.COMPOUND_HET: 0.01,
        Mode.X_LINKED_RECESSIVE: 0.01,
        Mode.MITOCHONDRIAL: 0.01,
    }
)


@dataclass(frozen=True)
class RankingOptions:
    """What a user may change; the defaults are stated in the module docstring."""

    max_af: Mapping[Mode, float] = field(default_factory=lambda: dict(DEFAULT_MAX_AF))
    min_pathogenicity: float = 0.1  # below: synonymous, UTR, intronic, intergenic leave the list
    untold_factor: float = 0.9  # a mode the family's data can neither confirm nor exclude
    unphased_factor: float = 0.85  # a compound het not phased by the parents
    phenotype_floor: float = 0.05  # a gene with no phenotype evidence is not ruled out by it
    keep_failed_quality: bool = False
    max_genes: int = 100  # candidate genes reported

    def cap(self, mode: Mode) -> float:
        return float(self.max_af.get(mode, DEFAULT_MAX_AF[mode]))
