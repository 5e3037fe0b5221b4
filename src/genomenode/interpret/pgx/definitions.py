"""One gene's allele definitions, parsed from PharmCAT's `<GENE>_translation.json` and its
`exemptions.json` entry, and precomputed for the matcher.

PharmCAT method ("Named Allele Matcher 101", "Named Allele Matcher 201", "Gene Definition
Exceptions"): the reference named allele (`reference: true`) defines every position; a `null`
cell of another named allele means "the reference allele's base" and does not count towards that
allele's score; IUPAC codes are ambiguity sets; `ignoredPositions` / `ignoredAlleles` are left
out; `extraPositions` are read but never matched; NAT2's `requiredPositions` must all be present;
`unphasedDiplotypePriorities` pick one NAT2 call among unphased ties.

The matcher compares bit sets: at each position every concrete allele (the VCF REF first, then the
ALTs, then bases an IUPAC code adds) has one bit, a named allele's cell is the set of bits it
accepts, a sample's allele is one bit (or none when no named allele can hold it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from genomenode.errors import ConfigurationError

# IUPAC nucleotide ambiguity codes (NC-IUB 1984) → the bases each stands for.
IUPAC: Mapping[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}

# NamedAlleleMatcher-101 "Undocumented Variations": for these genes an allele the definitions do
# not know is read as the reference allele; for every other gene it matches no named allele.
TREAT_UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})
# Gene-Definition-Exceptions "DPYD" / "RYR1" (PharmCAT Constants.LOWEST_FUNCTION_GENES): the
# matcher lists the variants found per strand (or, unphased, all of them) instead of diplotypes.
LOWEST_FUNCTION_GENES = frozenset({"DPYD", "RYR1"})
# Chromosomes PharmCAT reads as haploid whatever the genotype says; chrX follows the calls.
HAPLOID_CHROMOSOMES = frozenset({"chrY", "chrM"})

BoolArray = npt.NDArray[np.bool_]
MaskArray = npt.NDArray[np.uint64]
IntArray = npt.NDArray[np.int64]


def is_wobble(allele: str) -> bool:
    """An IUPAC ambiguity code (one letter that stands for more than one base)."""
    return len(allele) == 1 and len(IUPAC.get(allele, "")) > 1


@dataclass(frozen=True)
class DefinitionPosition:
    """One allele-defining position: `position` is the VCF POS (the anchor base for indels)."""

    chrom: str
    position: int
    rsid: str | None
    ref: str
    alts: tuple[str, ...]
    hgvs: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.chrom, self.position)

    @property
    def label(self) -> str:
        """How reports name it: the rsID, else chrom:pos."""
        return self.rsid or f"{self.chrom}:{self.position}"


@dataclass(frozen=True)
class NamedAllele:
    """`alleles` parallel to the gene's positions, VCF notation, None = the reference's base."""

    name: str
    id: str
    reference: bool
    alleles: tuple[str | None, ...]

    @property
    def score(self) -> int:
        """PharmCAT's score: the number of positions the definition gives a base for."""
        return sum(a is not None for a in self.alleles)


@dataclass(frozen=True)
class UnphasedPriority:
    """A NAT2 pick-list: when every diplotype of `diplotypes` is possible, call `pick`."""

    diplotypes: frozenset[str]
    pick: str


@dataclass(frozen=True, eq=False)
class GeneDefinition:
    """A gene's definitions plus the arrays the matcher needs (N named alleles × P positions).

    `allowed[n, p]`: bits allele n accepts at p when a null cell means the reference's base;
    `raw[n, p]`: the same without that filling (0 where the definition is null);
    `defined[n, p]`: the definition has a base there; `wobble[n, p]`: that base is an IUPAC code.
    """

    gene: str
    chromosome: str
    version: str | None
    positions: tuple[DefinitionPosition, ...]
    named_alleles: tuple[NamedAllele, ...]
    reference_index: int
    extra_positions: tuple[DefinitionPosition, ...] = ()
    required_positions: frozenset[int] = frozenset()
    amp1_alleles: tuple[str, ...] = ()
    amp1_positions: frozenset[int] = frozenset()
    unphased_priorities: tuple[UnphasedPriority, ...] = ()
    ignored_positions: tuple[str, ...] = ()
    ignored_alleles: tuple[str, ...] = ()
    # per position: concrete allele → bit index (the VCF REF is bit 0)
    vocabulary: tuple[Mapping[str, int], ...] = ()
    allowed: MaskArray = field(default_factory=lambda: np.zeros((0, 0), np.uint64))
    raw: MaskArray = field(default_factory=lambda: np.zeros((0, 0), np.uint64))
    defined: BoolArray = field(default_factory=lambda: np.zeros((0, 0), np.bool_))
    wobble: BoolArray = field(default_factory=lambda: np.zeros((0, 0), np.bool_))

    @property
    def reference_allele(self) -> NamedAllele:
        return self.named_alleles[self.reference_index]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.named_alleles)

    @property
    def treat_undocumented_as_reference(self) -> bool:
        return self.gene in TREAT_UNDOCUMENTED_AS_REFERENCE

    @property
    def lowest_function(self) -> bool:
        return self.gene in LOWEST_FUNCTION_GENES

    @property
    def positions_by_key(self) -> Mapping[tuple[str, int], DefinitionPosition]:
        return {p.key: p for p in self.positions}


def _fail(gene: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        f"allele definition for {gene or '?'}: {what}; the file should be PharmCAT's "
        "<GENE>_translation.json unmodified (check GENOMENODE_PGX_REFERENCE)"
    )


def _position(doc: Mapping[str, Any], chromosome: str) -> DefinitionPosition:
    return DefinitionPosition(
        chrom=str(doc.get("chromosome") or chromosome),
        position=int(doc["position"]),
        rsid=doc.get("rsid") or None,
        ref=str(doc["ref"]),
        alts=tuple(str(a) for a in doc.get("alts") or ()),
        hgvs=doc.get("chromosomeHgvsName") or None,
    )


def _bits(allele: str, vocabulary: Mapping[str, int]) -> int:
    bases = IUPAC[allele] if is_wobble(allele) else [allele]
    return sum(1 << vocabulary[b] for b in bases)


def parse_definition(translation: Mapping[str, Any], exemption: Mapping[str, Any] | None = None) -> GeneDefinition:
    """A `<GENE>_translation.json` document (already parsed) and that gene's `exemptions.json`
    entry → a `GeneDefinition` ready for `matcher.match_gene`."""
    gene = str(translation.get("gene") or "")
    try:
        chromosome = str(translation["chromosome"])
        all_positions = [_position(v, chromosome) for v in translation["variants"]]
        raw_alleles = translation["namedAlleles"]
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(gene, f"missing or malformed field {exc}") from exc
    exemption = exemption or {}
    ignored_keys = {int(p["position"]) for p in exemption.get("ignoredPositions") or ()}
    ignored_names = {str(n).lower() for n in exemption.get("ignoredAlleles") or ()}
    keep = [i for i, p in enumerate(all_positions) if p.position not in ignored_keys]
    positions = tuple(all_positions[i] for i in keep)

    named: list[NamedAllele] = []
    for doc in raw_alleles:
        cells = doc.get("alleles")
        if not isinstance(cells, list) or len(cells) != len(all_positions):
            raise _fail(gene, f"named allele {doc.get('name')!r} has not one allele per variant")
        if str(doc["name"]).lower() in ignored_names:
            continue
        named.append(
            NamedAllele(
                name=str(doc["name"]),
                id=str(doc.get("id") or ""),
                reference=bool(doc.get("reference")),
                alleles=tuple(cells[i] for i in keep),
            )
        )
    references = [i for i, a in enumerate(named) if a.reference]
    if len(references) != 1:
        raise _fail(gene, f"{len(references)} named alleles marked reference, expected exactly one")
    ref_index = references[0]
    if not positions:
        raise _fail(gene, "no allele-defining positions")

    vocabulary: list[dict[str, int]] = []
    for p_index, pos in enumerate(positions):
        vocab: dict[str, int] = {pos.ref: 0}
        extra = [*pos.alts]
        for allele in named:
            cell = allele.alleles[p_index]
            if cell is not None:
                extra.extend(IUPAC[cell] if is_wobble(cell) else [cell])
        for a in extra:
            vocab.setdefault(a, len(vocab))
        if len(vocab) > 64:
            raise _fail(gene, f"more than 64 alleles at {pos.label}")
        vocabulary.append(vocab)

    n, p = len(named), len(positions)
    raw = np.zeros((n, p), np.uint64)
    defined = np.zeros((n, p), np.bool_)
    wobble = np.zeros((n, p), np.bool_)
    for a_index, allele in enumerate(named):
        for p_index, cell in enumerate(allele.alleles):
            if cell is None:
                continue
            if not (is_wobble(cell) or cell in vocabulary[p_index]):
                raise _fail(gene, f"{allele.name} has unknown allele {cell!r} at {positions[p_index].label}")
            raw[a_index, p_index] = _bits(cell, vocabulary[p_index])
            defined[a_index, p_index] = True
            wobble[a_index, p_index] = is_wobble(cell)
    if not defined[ref_index].all():
        raise _fail(gene, f"reference allele {named[ref_index].name} leaves positions undefined")
    # A null cell takes the reference allele's base; where that base is itself an IUPAC code, the
    # VCF REF (PharmCAT MatchData.defaultMissingAllelesToReference).
    fill = np.where(wobble[ref_index], np.uint64(1), raw[ref_index]).astype(np.uint64)
    allowed = np.where(defined, raw, fill[None, :]).astype(np.uint64)

    priorities = tuple(
        UnphasedPriority(frozenset(str(d) for d in item["list"]), str(item["pick"]))
        for item in exemption.get("unphasedDiplotypePriorities") or ()
    )
    return GeneDefinition(
        gene=gene,
        chromosome=chromosome,
        version=translation.get("version"),
        positions=positions,
        named_alleles=tuple(named),
        reference_index=ref_index,
        extra_positions=tuple(_position(v, chromosome) for v in exemption.get("extraPositions") or ()),
        required_positions=frozenset(int(x) for x in exemption.get("requiredPositions") or ()),
        amp1_alleles=tuple(str(x) for x in exemption.get("amp1Alleles") or ()),
        amp1_positions=frozenset(int(x) for x in exemption.get("amp1Positions") or ()),
        unphased_priorities=priorities,
        ignored_positions=tuple(p.label for p in all_positions if p.position in ignored_keys),
        ignored_alleles=tuple(sorted(ignored_names)),
        vocabulary=tuple(vocabulary),
        allowed=allowed,
        raw=raw,
        defined=defined,
        wobble=wobble,
    )


def parse_definitions(
    translations: Mapping[str, Mapping[str, Any]], exemptions: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, GeneDefinition]:
    """Every gene of a reference folder: gene → parsed definition."""
    exemptions = exemptions or {}
    return {gene: parse_definition(doc, exemptions.get(gene)) for gene, doc in translations.items()}


def sequence_name_key(name: str) -> tuple[Any, ...]:
    """PharmCAT's order of haplotype names (HaplotypeNameComparator): single alleles before
    combinations `[a + b]`; star alleles before other names; numbers compared as numbers
    (`*2 < *10 < *17`, `c.85T>C < c.1627A>G`)."""
    combination = name.startswith("[") and name.endswith("]")
    parts: Sequence[str] = name[1:-1].split(" + ") if combination else [name]
    return (combination, len(parts), tuple(_single_key(p) for p in parts))


def _single_key(name: str) -> tuple[Any, ...]:
    chunks: list[tuple[int, int, str]] = []
    number = ""
    text = ""
    for ch in name:
        if ch.isdigit():
            if text:
                chunks.append((1, 0, text))
                text = ""
            number += ch
        else:
            if number:
                chunks.append((0, int(number), ""))
                number = ""
            text += ch
    if number:
        chunks.append((0, int(number), ""))
    if text:
        chunks.append((1, 0, text))
    return (not name.startswith("*"), tuple(chunks), name)
