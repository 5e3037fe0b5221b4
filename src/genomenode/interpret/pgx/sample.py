"""A sample's calls at one gene's positions, turned into the bit vectors the matcher compares.

PharmCAT method (NamedAlleleMatcher-101, VcfReader/MatchData): a position without a call is
missing and is dropped from every named allele, never assumed reference; a partial diploid call
whose only allele is the reference (`0/.`) is missing too, one whose only allele is an ALT (`1/.`)
leaves the gene uncalled; more than two alleles: the first two are used; an allele the definition
does not list is "undocumented variation" (read as the reference for the genes of
`TREAT_UNDOCUMENTED_AS_REFERENCE`, otherwise it matches no named allele).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genomenode.interpret.pgx.calls import SampleCalls
from genomenode.interpret.pgx.definitions import HAPLOID_CHROMOSOMES, GeneDefinition, IntArray, MaskArray

MISSING = frozenset({"", "."})


@dataclass(frozen=True, eq=False)
class SampleVector:
    """`present`: indices (into the definition's positions) with a usable call; `strand1/2`: the
    sample's allele there as one bit (0 = an allele no named allele holds); `block`: for
    heterozygous positions, the id of the group whose strands move together (one group per phase
    set, one for phased calls without a phase set, one per unphased call)."""

    present: IntArray
    strand1: MaskArray
    strand2: MaskArray
    block: IntArray
    haploid: bool
    missing: tuple[str, ...]
    missing_keys: frozenset[int]
    partial_alt: tuple[str, ...]
    undocumented: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def heterozygous(self) -> np.ndarray:
        return np.asarray(self.strand1 != self.strand2)

    @property
    def n_blocks(self) -> int:
        return len(set(self.block[self.heterozygous].tolist()))

    @property
    def effectively_phased(self) -> bool:
        """PharmCAT's "effectively phased": at most two strand sequences are possible."""
        return self.haploid or self.n_blocks <= 1


def read_sample(definition: GeneDefinition, calls: SampleCalls) -> tuple[SampleVector, bool]:
    """The sample's vector for `definition`, and whether every heterozygous call was phased."""
    warnings: list[str] = []
    found = []
    for index, pos in enumerate(definition.positions):
        call = calls.get(pos.key)
        if call is None:
            continue
        real = tuple(a.upper() for a in call.alleles if a not in MISSING)
        if real:
            found.append((index, pos, call, real))
    haploid = definition.chromosome in HAPLOID_CHROMOSOMES or (
        definition.chromosome == "chrX" and bool(found) and all(len(c.alleles) == 1 for _, _, c, _ in found)
    )
    present: list[int] = []
    s1: list[int] = []
    s2: list[int] = []
    blocks: list[int] = []
    partial_alt: list[str] = []
    undocumented: list[str] = []
    partial_ref: set[int] = set()
    all_het_phased = True
    next_block = 1
    phase_set_blocks: dict[int, int] = {}
    for index, pos, call, real in found:
        if haploid:
            real = real[:1]
        elif len(real) == 1:
            if real[0] == pos.ref:
                partial_ref.add(index)
                warnings.append(f"{pos.label}: only one allele called (reference); treated as missing")
            else:
                partial_alt.append(pos.label)
            continue
        elif len(real) > 2:
            warnings.append(f"{pos.label}: {len(real)} alleles called; only the first two are used")
            real = real[:2]
        vocab = definition.vocabulary[index]
        bits = []
        for allele in real:
            if allele != pos.ref and allele not in pos.alts:
                undocumented.append(pos.label)
                if definition.treat_undocumented_as_reference:
                    allele = pos.ref
            bits.append(1 << vocab[allele] if allele in vocab else 0)
        a, b = (bits[0], bits[0]) if haploid else (bits[0], bits[1])
        present.append(index)
        s1.append(a)
        s2.append(b)
        if a != b and not call.phased:
            all_het_phased = False
        if not call.phased:
            blocks.append(next_block)
            next_block += 1
        elif call.phase_set is None:
            blocks.append(0)
        else:
            if call.phase_set not in phase_set_blocks:
                phase_set_blocks[call.phase_set] = next_block
                next_block += 1
            blocks.append(phase_set_blocks[call.phase_set])
    present_set = set(present)
    missing_idx = [i for i in range(len(definition.positions)) if i not in present_set]
    if undocumented:
        seen = ", ".join(dict.fromkeys(undocumented))
        if definition.treat_undocumented_as_reference:
            warnings.append(
                f"undocumented variation at {seen}: an allele no {definition.gene} definition has; "
                "read as the reference allele, as PharmCAT does for this gene"
            )
        else:
            warnings.append(
                f"undocumented variation at {seen}: an allele no {definition.gene} definition has, "
                "so no named allele matches that chromosome"
            )
    vector = SampleVector(
        present=np.asarray(present, np.int64),
        strand1=np.asarray(s1, np.uint64),
        strand2=np.asarray(s2, np.uint64),
        block=np.asarray(blocks, np.int64),
        haploid=haploid,
        missing=tuple(definition.positions[i].label for i in missing_idx),
        missing_keys=frozenset(definition.positions[i].position for i in missing_idx),
        partial_alt=tuple(partial_alt),
        undocumented=tuple(dict.fromkeys(undocumented)),
        warnings=tuple(warnings),
    )
    return vector, all_het_phased
