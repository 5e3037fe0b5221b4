"""Sample calls built from the definitions themselves: a named allele's sequence, strand by strand."""

from __future__ import annotations

from genomenode.interpret.pgx.calls import PositionCall, SampleCalls
from genomenode.interpret.pgx.definitions import IUPAC, GeneDefinition, is_wobble


def sequence(definition: GeneDefinition, name: str) -> list[str]:
    """The bases a chromosome carrying `name` has at each position (null → the reference's base;
    an IUPAC code → its first base that is not the VCF REF, so the variant shows)."""
    allele = definition.named_alleles[definition.names.index(name)]
    reference = definition.reference_allele
    out = []
    for pos, cell, ref_cell in zip(definition.positions, allele.alleles, reference.alleles, strict=True):
        base = cell if cell is not None else ref_cell
        assert base is not None
        if is_wobble(base):
            choices = [b for b in IUPAC[base] if b != pos.ref] if cell is not None else [pos.ref]
            base = (choices or [pos.ref])[0]
        out.append(base)
    return out


def calls_from(
    definition: GeneDefinition,
    strand1: list[str],
    strand2: list[str] | None = None,
    *,
    phased: bool = False,
    phase_sets: dict[int, int] | None = None,
    drop: set[int] = frozenset(),  # type: ignore[assignment]
) -> SampleCalls:
    """Calls at every position (but the indices in `drop`); `strand2=None` = haploid."""
    calls = {}
    for i, pos in enumerate(definition.positions):
        if i in drop:
            continue
        alleles = (strand1[i],) if strand2 is None else (strand1[i], strand2[i])
        ps = (phase_sets or {}).get(i)
        calls[pos.key] = PositionCall(pos.chrom, pos.position, alleles, phased, ps)
    return calls


def diplotype_calls(definition: GeneDefinition, a: str, b: str, *, phased: bool = False) -> SampleCalls:
    return calls_from(definition, sequence(definition, a), sequence(definition, b), phased=phased)
