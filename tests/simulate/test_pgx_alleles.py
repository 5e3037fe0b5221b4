"""The demo cohort's star alleles are PharmCAT's named alleles: the project's caller calls them back.

Each person's genotypes at the force-called PGx positions go through `genomenode.pgx.calling`,
exactly as a centre's VCF would, and the called diplotypes must hold the two star alleles the
simulator planted (PharmCAT's own definitions are the outside answer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from genomenode.domain.assembly import Assembly
from genomenode.domain.observed import ObservedGenotype
from genomenode.errors import ConfigurationError
from genomenode.ingest.vcf_writer import Site, read_sites
from genomenode.pgx.calling import call_sample
from genomenode.pgx.knowledge import knowledge
from genomenode.simulate.demography import POPULATIONS
from genomenode.simulate.people import People, make_people
from genomenode.simulate.pgx import (
    STAR_ALLELES,
    PlantedAllele,
    StarAllele,
    default_pgx_positions,
    pgx_blocks,
    plant,
    star_changes,
)
from genomenode.simulate.sites import NO_ALLELE, SiteBlock
from genomenode.store.pgx_reference import load_reference

if not default_pgx_positions().exists():
    pytest.skip(f"PharmCAT positions not found at {default_pgx_positions()}", allow_module_level=True)

Definitions = Mapping[str, Mapping[str, Any]]
CALLED_GENES = (
    "CYP2C19",
    "CYP2C9",
    "CYP3A5",
    "CYP4F2",
    "DPYD",
    "G6PD",
    "NUDT15",
    "SLCO1B1",
    "TPMT",
    "UGT1A1",
    "VKORC1",
)
PEOPLE = 200


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return load_reference().definitions


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    return read_sites(default_pgx_positions())


@pytest.fixture(scope="module")
def planted(definitions: Definitions, sites: list[Site]) -> list[PlantedAllele]:
    return plant(STAR_ALLELES, definitions, sites)


def _reference_name(definition: Mapping[str, Any]) -> str:
    return str(next(a["name"] for a in definition["namedAlleles"] if a.get("reference")))


def _planted_by_slot(block: SiteBlock, planted: list[PlantedAllele], reference: str) -> list[str | None]:
    """The star allele each haplotype slot of a gene block carries (None: a slot the person lacks)."""
    row = {int(p): i for i, p in enumerate(block.pos)}
    patterns = []
    for p in planted:
        want = np.zeros(len(block.pos), np.int8)
        for site, allele in zip(p.sites, p.alleles, strict=True):
            want[row[site.pos]] = allele
        patterns.append((p.star.name, want))
    out: list[str | None] = []
    for column in block.haplotypes.T:
        if (column == NO_ALLELE).all():
            out.append(None)
            continue
        names = [name for name, want in patterns if (column == want).all()]
        assert len(names) <= 1
        out.append(names[0] if names else reference if not column.any() else "?")
    return out


def _observed(blocks: list[SiteBlock], person: int, sample: str, *, phased: bool) -> list[ObservedGenotype]:
    return [
        ObservedGenotype(
            sample,
            block.chrom,
            int(block.pos[r]),
            block.refs[r],
            block.alts[r],
            tuple(int(a) for a in block.haplotypes[r, 2 * person : 2 * person + 2] if a != NO_ALLELE),
            phased,
        )
        for block in blocks
        for r in range(len(block.pos))
    ]


def _genotype(gene: str, names: list[str], definitions: Definitions) -> Counter[tuple[int, str]]:
    """The unphased genotype a set of named alleles makes: how often each (position, VCF allele) occurs."""
    return Counter(
        change[0::2]
        for name in names
        for change in star_changes(StarAllele(gene, name, (0, 0, 0, 0, 0)), definitions[gene])
    )


@pytest.fixture(scope="module")
def cohort(definitions: Definitions, planted: list[PlantedAllele]) -> tuple[People, list[SiteBlock], dict[str, Any]]:
    people = make_people(PEOPLE, np.random.default_rng(11))
    blocks = pgx_blocks(default_pgx_positions(), people, Assembly.GRCh38, np.random.default_rng(12))
    truth: dict[str, list[str | None]] = {}
    for gene in dict.fromkeys(p.star.gene for p in planted):
        chrom = str(definitions[gene]["chromosome"])
        gene_pos = {pos for p in planted if p.star.gene == gene for pos in (s.pos for s in p.sites)}
        block = next(b for b in blocks if b.chrom == chrom and gene_pos <= set(b.pos.tolist()))
        truth[gene] = _planted_by_slot(
            block, [p for p in planted if p.star.gene == gene], _reference_name(definitions[gene])
        )
    return people, blocks, truth


def _diplotype(truth: dict[str, Any], gene: str, person: int) -> list[str]:
    return [name for name in truth[gene][2 * person : 2 * person + 2] if name is not None]


def test_star_alleles__every_name_resolves_in_pharmcat_s_definitions_and_position_list(
    planted: list[PlantedAllele],
) -> None:
    assert [p.star for p in planted] == list(STAR_ALLELES)


def test_plant__an_allele_name_the_definition_lacks_raises_naming_the_file(
    definitions: Definitions, sites: list[Site]
) -> None:
    with pytest.raises(ConfigurationError, match=r"'\*2A'.*DPYD_translation\.json"):
        plant((StarAllele("DPYD", "*2A", (0.01, 0.01, 0.0, 0.0, 0.0)),), definitions, sites)


def test_plant__listing_the_reference_allele_raises(definitions: Definitions, sites: list[Site]) -> None:
    with pytest.raises(ConfigurationError, match="reference"):
        plant((StarAllele("CYP2C19", "*38", (0.01, 0.01, 0.01, 0.01, 0.01)),), definitions, sites)


def test_plant__one_gene_s_frequencies_adding_past_one_raise(definitions: Definitions, sites: list[Site]) -> None:
    stars = (StarAllele("CYP2C9", "*2", (0.6, 0, 0, 0, 0)), StarAllele("CYP2C9", "*3", (0.6, 0, 0, 0, 0)))
    with pytest.raises(ConfigurationError, match="add up"):
        plant(stars, definitions, sites)


def test_plant__cyp2c19_star2_carries_its_whole_haplotype_and_the_iupac_position_stays_reference(
    planted: list[PlantedAllele],
) -> None:
    star2 = next(p for p in planted if p.star == StarAllele("CYP2C19", "*2", p.star.frequency))
    written = {s.id: s.alts[a - 1] for s, a in zip(star2.sites, star2.alleles, strict=True)}
    assert written == {"rs12769205": "G", "rs4244285": "A", "rs3758581": "G"}  # rs58973490 is R: left G


def test_plant__the_ta_repeat_uses_the_alt_that_equals_the_definition_s_allele(planted: list[PlantedAllele]) -> None:
    by_name = {(p.star.gene, p.star.name): p for p in planted}
    ta = {
        name: [a for s, a in zip(p.sites, p.alleles, strict=True) if s.id == "rs3064744"]
        for (gene, name), p in by_name.items()
        if gene == "UGT1A1"
    }
    assert ta == {"*80+*28": [2], "*80": [], "*37": [3]}  # ALTs C, CATAT, CATATAT


def test_plant__an_allele_the_position_list_cannot_write_is_left_out(
    definitions: Definitions, sites: list[Site]
) -> None:
    edited = [s._replace(alts=("C",)) if s.id == "rs4244285" else s for s in sites]
    kept = plant(STAR_ALLELES, definitions, edited)
    assert [p.star.name for p in kept if p.star.gene == "CYP2C19"] == ["*1", "*3", "*17"]


def _called_back(
    gene: str, want: list[str], entry: Mapping[str, Any], definitions: Definitions, *, phased: bool
) -> bool:
    """True when the planted diplotype is among the calls; False when unphased data cannot tell it
    from the called one (both make the same genotypes); fails the test otherwise."""
    called = entry["diplotypes"]
    assert called, f"{gene}: no call for planted {'/'.join(want)} ({entry['warnings']})"
    if any(Counter(d.split("/")) == Counter(want) for d in called):
        return True
    # unphased data cannot tell apart pairs that make the same genotypes (SLCO1B1 *5/*37 reads as
    # *1/*15, PharmCAT's higher-scoring explanation): accept only such an equivalent call
    assert not phased, f"{gene}: phased call {called}, planted {'/'.join(want)}"
    for d in called:
        same = _genotype(gene, d.split("/"), definitions) == _genotype(gene, want, definitions)
        assert same, f"{gene}: called {called}, planted {'/'.join(want)}"
    return False


@pytest.mark.parametrize("phased", [False, True], ids=["unphased", "phased"])
def test_pgx_blocks__the_caller_finds_every_planted_diplotype(
    cohort: tuple[People, list[SiteBlock], dict[str, Any]], definitions: Definitions, phased: bool
) -> None:
    # GIVEN 200 simulated people and the planted star alleles of each of their haplotypes
    people, blocks, truth = cohort
    outcomes = Counter[bool]()
    for person in range(people.size):
        sample = people.sample_id[person]
        # WHEN their genotypes at the PGx records are called, as a centre's VCF would be
        observed = _observed(blocks, person, sample, phased=phased)
        report = call_sample(knowledge(), observed, sample=sample, source="sim")
        # THEN every gene is called, and the planted diplotype is among the calls
        for gene in CALLED_GENES:
            want = _diplotype(truth, gene, person)
            outcomes[_called_back(gene, want, report["genes"][gene], definitions, phased=phased)] += 1
    assert outcomes[True] >= 0.98 * outcomes.total()


@pytest.mark.parametrize("phased", [False, True], ids=["unphased", "phased"])
def test_plant__every_pair_of_planted_alleles_of_a_gene_is_called_back(
    definitions: Definitions, sites: list[Site], planted: list[PlantedAllele], phased: bool
) -> None:
    # GIVEN, per gene, a person for each pair of its planted alleles and its reference allele
    # (rare ones too: DPYD *2A, NUDT15 *3, UGT1A1 *37 hardly turn up in a small cohort)
    for gene in CALLED_GENES:
        stars: list[PlantedAllele | None] = [None, *(p for p in planted if p.star.gene == gene)]
        reference = _reference_name(definitions[gene])
        for i, first in enumerate(stars):
            for second in stars[i:]:
                genotypes = {(s.chrom, s.pos): [0, 0] for s in sites}
                for slot, star in enumerate((first, second)):
                    for site, allele in zip(star.sites if star else (), star.alleles if star else (), strict=True):
                        genotypes[(site.chrom, site.pos)][slot] = allele
                observed = [
                    ObservedGenotype("P", s.chrom, s.pos, s.ref, s.alts, tuple(genotypes[(s.chrom, s.pos)]), phased)
                    for s in sites
                ]
                # WHEN the caller reads them THEN it names that pair (or, unphased, an equivalent one)
                report = call_sample(knowledge(), observed, sample="P", source="sim")
                want = [star.star.name if star else reference for star in (first, second)]
                _called_back(gene, want, report["genes"][gene], definitions, phased=phased)


def test_pgx_blocks__no_star_allele_haplotypes_are_few_and_cyp2c19_star1_is_common(
    cohort: tuple[People, list[SiteBlock], dict[str, Any]],
) -> None:
    _, _, truth = cohort
    cyp2c19 = Counter(name for name in truth["CYP2C19"] if name is not None)
    assert cyp2c19.most_common(1)[0][0] == "*1"
    assert cyp2c19["*38"] < 0.06 * cyp2c19.total()
    assert "?" not in {name for names in truth.values() for name in names}


def test_pgx_blocks__planted_allele_frequencies_match_each_population_s_configuration(
    definitions: Definitions, planted: list[PlantedAllele]
) -> None:
    # GIVEN a large cohort; founders only, whose haplotypes are drawn independently
    people = make_people(6000, np.random.default_rng(21))
    blocks = pgx_blocks(default_pgx_positions(), people, Assembly.GRCh38, np.random.default_rng(22))
    founders = np.repeat(people.father < 0, 2)
    population = np.repeat(people.population, 2)
    for gene in dict.fromkeys(p.star.gene for p in planted):
        stars = [p for p in planted if p.star.gene == gene]
        block = next(b for b in blocks if {s.pos for p in stars for s in p.sites} <= set(b.pos.tolist()))
        slots = np.array(_planted_by_slot(block, stars, _reference_name(definitions[gene])), dtype=object)
        for pop, label in enumerate(POPULATIONS):
            here = slots[founders & (population == pop) & (slots != None)]  # noqa: E711 (elementwise)
            n = len(here)
            if n < 200:
                continue
            for p in stars:
                expected = p.star.frequency[pop]
                seen = float(np.mean(here == p.star.name))
                bound = 5 * np.sqrt(expected * (1 - expected) / n) + 0.01
                assert abs(seen - expected) <= bound, f"{gene} {p.star.name} in {label}: {seen:.3f} vs {expected}"
