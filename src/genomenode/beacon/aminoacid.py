"""Beacon's aminoacidChange: which stored alleles of a gene change its protein as asked.

Nothing here predicts a protein change. An allele matches when the annotation its submitting
centre wrote (VEP `CSQ` or snpEff `ANN` with an HGVSp column, bcftools `BCSQ` with its
amino_acid_change) names the asked change on a transcript of the asked gene, compared in
three-letter HGVS form (`domain.protein_change`: `V600E`, `p.V600E` and `p.Val600Glu` are one
change). Any transcript of the gene counts, so BRAF `V640E` finds the allele that is V600E on the
MANE transcript, where an isoform numbers that residue 640. The annotation is read with the header
description its file declared (kept beside the file's alleles at ingest; `query.annotations`), for
the record as it was submitted (`source_ref`, `source_alts`, `source_allele`), because annotators
write entries for the record before the store normalised and split it.

Alleles held only in files without protein annotation cannot be found this way. Whether a file
carries protein annotation is a property of its header, not of anyone's genotypes, so the answer
may say that no file on the gene's chromosome does (`warnings`) without telling whether anyone
carries anything there. A stored value that disagrees with its header is skipped (ingest checked
the header, not every value), as are bcftools `@POS` entries: a compound consequence is found at
the record bcftools reported it at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from genomenode.domain.consequence import AnnotationFormat
from genomenode.domain.consequence_terms import TERM_ACCESSION, TranscriptConsequence
from genomenode.domain.protein_change import ProteinChange, from_bcftools, read_protein_change
from genomenode.query.annotations import AnnotatedAlleles, annotation_formats, row_transcripts


@dataclass
class ProteinHit:
    """What the annotation said of one matching allele (for its record's molecularAttributes)."""

    genes: set[str] = field(default_factory=set)
    changes: set[str] = field(default_factory=set)  # one-letter, as Beacon writes aminoacidChanges
    terms: set[str] = field(default_factory=set)  # SO terms of the matching transcripts

    def molecular_attributes(self) -> dict[str, Any]:
        effects = [{"id": TERM_ACCESSION[t], "label": t} for t in sorted(self.terms) if t in TERM_ACCESSION]
        out: dict[str, Any] = {"geneIds": sorted(self.genes), "aminoacidChanges": sorted(self.changes)}
        if effects:
            out["molecularEffects"] = effects
        return out


@dataclass(frozen=True)
class ProteinMatches:
    alleles: dict[str, ProteinHit]  # `<chrom>-<pos>-<ref>-<alt>` → what matched
    annotated: bool  # some file on the chromosome carries protein annotation

    def warnings(self, *, gene: str, chrom: str, assembly: str) -> list[str]:
        if self.annotated:
            return []
        return [
            f"aminoacidChange: no file on {chrom} ({assembly}) carries protein annotation (VEP CSQ or snpEff "
            "ANN with HGVSp, bcftools BCSQ with amino_acid_change), so no allele of "
            f"{gene} can be found by its protein change here; ask by geneId or by coordinates instead"
        ]


def protein_matches(
    groups: Sequence[AnnotatedAlleles], *, chrom: str, gene: str, change: ProteinChange
) -> ProteinMatches:
    """The alleles of `groups` (read in the gene's span) whose annotation gives `change` in `gene`."""
    hits: dict[str, ProteinHit] = {}
    annotated = False
    for group in groups:
        formats = _protein_formats(group)
        annotated = annotated or bool(formats)
        if not formats or not group.rows.num_rows:
            continue
        for row in group.rows.to_pylist():
            for t in row_transcripts(formats, row):
                if not _same_gene(t, gene):
                    continue
                found = _change_of(t)
                if found is None or not change.matches(found):
                    continue
                hit = hits.setdefault(f"{chrom}-{row['pos']}-{row['ref']}-{row['alt']}", ProteinHit())
                hit.genes.add(t.gene or gene)
                hit.changes.add(found.one_letter)
                hit.terms.update(t.terms)
    return ProteinMatches(hits, annotated)


def _protein_formats(group: AnnotatedAlleles) -> list[AnnotationFormat]:
    return [fmt for fmt in annotation_formats(group) if fmt.carries_protein_changes]


def _same_gene(t: TranscriptConsequence, gene: str) -> bool:
    return (t.gene is not None and t.gene.upper() == gene.upper()) or t.gene_id == gene


def _change_of(t: TranscriptConsequence) -> ProteinChange | None:
    if t.hgvsp:
        return read_protein_change(t.hgvsp)
    if t.protein_change:
        return from_bcftools(t.protein_change)
    return None
