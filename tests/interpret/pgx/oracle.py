"""A slow, plain reading of PharmCAT's method to check the vectorised matcher against: enumerate
every orientation of the heterozygous calls and test each named allele on each strand."""

from __future__ import annotations

import itertools

from genomenode.interpret.pgx.calls import SampleCalls
from genomenode.interpret.pgx.definitions import IUPAC, GeneDefinition, is_wobble, sequence_name_key


def _accepts(cell: str, base: str) -> bool:
    return base in IUPAC[cell] if is_wobble(cell) else cell == base


def top_diplotypes(definition: GeneDefinition, calls: SampleCalls) -> set[str]:
    """Unphased diploid calls with at most ~12 heterozygous positions → the top-scoring names."""
    present = [(i, p, calls[p.key].alleles) for i, p in enumerate(definition.positions) if p.key in calls]
    ref = definition.reference_allele
    het = [k for k, (_, _, a) in enumerate(present) if a[0] != a[1]]
    strands = []
    for flips in itertools.product([False, True], repeat=max(len(het) - 1, 0)):
        s1 = [a[0] for _, _, a in present]
        s2 = [a[1] for _, _, a in present]
        for k, flip in zip(het[1:], flips, strict=True):
            if flip:
                s1[k], s2[k] = s2[k], s1[k]
        strands.append((s1, s2))

    def matches(allele_index: int, strand: list[str]) -> bool:
        allele = definition.named_alleles[allele_index]
        for (i, pos, _), base in zip(present, strand, strict=True):
            cell = allele.alleles[i]
            if cell is None:
                cell = ref.alleles[i]
                assert cell is not None
                if is_wobble(cell):
                    cell = pos.ref
            if not _accepts(cell, base):
                return False
        return True

    def score(allele_index: int) -> int:
        allele = definition.named_alleles[allele_index]
        total = 0
        for i, pos, alleles in present:
            cell = allele.alleles[i]
            if cell is not None:
                total += 1
                if is_wobble(cell) and alleles[0] == alleles[1] == pos.ref:
                    total -= 1
        return total

    usable = [n for n, a in enumerate(definition.named_alleles) if any(a.alleles[i] is not None for i, _, _ in present)]
    on_strands = [({n for n in usable if matches(n, s1)}, {n for n in usable if matches(n, s2)}) for s1, s2 in strands]
    found: dict[str, int] = {}
    for x, y in itertools.combinations_with_replacement(usable, 2):
        if any((x in m1 and y in m2) or (x in m2 and y in m1) for m1, m2 in on_strands):
            names = sorted([definition.names[x], definition.names[y]], key=sequence_name_key)
            found["/".join(names)] = score(x) + score(y)
    if not found:
        return set()
    best = max(found.values())
    return {name for name, s in found.items() if s == best}
