"""Inheritance modes from genotype matrices: hand-made families for each mode and each missing piece,
and a brute-force oracle (every way of filling what is missing) that the vectorised rules must match."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.domain.assembly import Assembly
from genomenode.domain.pedigree import Affection, Member, Pedigree, Sex
from genomenode.errors import CaseError
from genomenode.interpret.raredisease.inheritance import (
    MISSING,
    ChromClass,
    InheritanceResult,
    Mode,
    chromosome_classes,
    genotype_matrix,
    inheritance_modes,
)
from genomenode.interpret.raredisease.mendel import mendelian_errors

AUTO, X, PAR, Y, MT, OTHER = (int(c) for c in ChromClass)
M_, F_, U_ = Sex.MALE, Sex.FEMALE, Sex.UNKNOWN
AFF, UNAFF, UNK = Affection.AFFECTED, Affection.UNAFFECTED, Affection.UNKNOWN
_ = MISSING


def _family(*, kid_sex: Sex = M_, dad: Affection = UNAFF, mum: Affection = UNAFF, sibs: int = 0) -> Pedigree:
    members = [
        Member("dad", sex=M_, affection=dad),
        Member("mum", sex=F_, affection=mum),
        Member("kid", "dad", "mum", kid_sex, AFF),
    ]
    members += [Member(f"sib{i}", "dad", "mum", F_, UNAFF) for i in range(sibs)]
    return Pedigree("FAM", tuple(members))


def _run(
    pedigree: Pedigree,
    rows: Sequence[Sequence[int]],
    classes: Sequence[int],
    *,
    samples: Sequence[str] = ("dad", "mum", "kid"),
    genes: Sequence[int] | None = None,
) -> InheritanceResult:
    g = np.array(rows, dtype=np.int8).reshape(len(rows), len(samples))
    return inheritance_modes(
        pedigree,
        g,
        samples=samples,
        chrom_class=np.array(classes, dtype=np.uint8),
        gene=None if genes is None else np.array(genes),
        proband="kid",
    )


def _state(result: InheritanceResult, mode: Mode, level: str = "proband") -> list[str]:
    calls = result.level("proband" if level == "proband" else "family")
    return [
        "fits" if f else "untold" if u else "no" for f, u in zip(calls.has(mode), calls.is_untold(mode), strict=True)
    ]


# --- de novo -------------------------------------------------------------------------------------


def test_de_novo__trio_autosome_fits_and_a_missing_parent_call_leaves_it_untold() -> None:
    #        dad mum kid
    rows = [[0, 0, 1], [_, 0, 1], [1, 0, 1], [0, 0, 0], [0, 0, _]]
    r = _run(_family(), rows, [AUTO] * 5)
    assert _state(r, Mode.DE_NOVO) == ["fits", "untold", "no", "no", "untold"]


def test_de_novo__singleton_cannot_tell_and_says_so() -> None:
    ped = Pedigree("S", (Member("kid", sex=F_, affection=AFF),))
    r = _run(ped, [[1], [2], [0]], [AUTO, X, AUTO], samples=("kid",))
    assert _state(r, Mode.DE_NOVO) == ["untold", "untold", "no"]
    assert r.structure.shape.value == "singleton"
    assert any("no parent genotyped" in note for note in r.cannot_tell[Mode.DE_NOVO])
    assert _state(r, Mode.AUTOSOMAL_DOMINANT) == ["untold", "no", "no"]


def test_de_novo__duo_with_mother_tells_a_sons_chrX_but_not_an_autosome() -> None:
    r = _run(_family(), [[0, 1], [0, 1], [1, 1]], [AUTO, X, X], samples=("mum", "kid"))
    assert _state(r, Mode.DE_NOVO) == ["untold", "fits", "no"]
    assert any("father is not genotyped" in n and "son" in n for n in r.cannot_tell[Mode.DE_NOVO])


def test_de_novo__male_chrX_needs_only_the_mother_and_ignores_the_father() -> None:
    # a son's hemizygous ALT as a haploid 1 or a diploid 1/1; the father's X is not his
    rows = [[1, 0, 1], [0, 0, 2], [0, 1, 1], [1, 0, 1]]
    r = _run(_family(), rows, [X, X, X, Y])
    assert _state(r, Mode.DE_NOVO) == ["fits", "fits", "no", "no"]
    # a daughter needs both parents hom-ref; on chrY she has nothing to inherit
    r = _run(_family(kid_sex=F_), rows, [X, X, X, Y])
    assert _state(r, Mode.DE_NOVO) == ["no", "fits", "no", "no"]
    r = _run(_family(kid_sex=F_), [[0, 0, 1]], [X])
    assert _state(r, Mode.DE_NOVO) == ["fits"]


def test_de_novo__unknown_sex_on_chrX_fits_only_if_it_fits_either_way() -> None:
    rows = [[0, 0, 1], [1, 0, 1]]  # both parents ref: de novo for a son and a daughter; father carries: son only
    r = _run(_family(kid_sex=U_), rows, [X, X])
    assert _state(r, Mode.DE_NOVO) == ["fits", "untold"]


def test_par__is_inherited_like_an_autosome_even_in_men() -> None:
    rows = [[0, 0, 1], [1, 1, 2], [0, 1, 2]]
    par = _run(_family(), rows, [PAR] * 3)
    auto = _run(_family(), rows, [AUTO] * 3)
    for mode in Mode:
        assert _state(par, mode) == _state(auto, mode)
    assert _state(par, Mode.AUTOSOMAL_RECESSIVE_HOM) == ["no", "fits", "no"]
    assert not par.proband.possible(Mode.X_LINKED_RECESSIVE).any()
    # outside the PAR the same son's 2 at [0, 1, 2] is hemizygous, inherited from a carrier mother
    assert _state(_run(_family(), rows, [X] * 3), Mode.X_LINKED_RECESSIVE) == ["no", "no", "fits"]


# --- recessive -----------------------------------------------------------------------------------


def test_autosomal_recessive_hom__carrier_parents_fit_a_hom_ref_or_unaffected_hom_parent_excludes() -> None:
    rows = [[1, 1, 2], [0, 1, 2], [2, 1, 2], [_, 1, 2], [1, 1, 1]]
    r = _run(_family(), rows, [AUTO] * 5)
    assert _state(r, Mode.AUTOSOMAL_RECESSIVE_HOM) == ["fits", "no", "no", "untold", "no"]
    affected_dad = _run(_family(dad=AFF), rows, [AUTO] * 5)
    assert _state(affected_dad, Mode.AUTOSOMAL_RECESSIVE_HOM)[2] == "fits"
    unknown_dad = _run(_family(dad=UNK), rows, [AUTO] * 5)
    assert _state(unknown_dad, Mode.AUTOSOMAL_RECESSIVE_HOM)[2] == "untold"


def test_compound_het__phased_by_parents_cis_excluded_and_unphased_when_a_parent_is_missing() -> None:
    #        dad mum kid         gene
    rows = [
        [1, 0, 1],  # 0 paternal  g1
        [0, 1, 1],  # 1 maternal  g1
        [1, 0, 1],  # 2 paternal  g2
        [1, 0, 1],  # 3 paternal  g2  (cis with 2)
        [0, 0, 1],  # 4 in neither parent (de novo)  g3
        [0, 1, 1],  # 5 maternal  g3
        [1, 0, 1],  # 6 paternal  no gene
        [0, 1, 1],  # 7 maternal  g4, alone in its gene
    ]
    genes = [1, 1, 2, 2, 3, 3, -1, 4]
    r = _run(_family(), rows, [AUTO] * 8, genes=genes)
    assert _state(r, Mode.COMPOUND_HET) == ["fits", "fits", "no", "no", "untold", "untold", "no", "no"]
    # both parents carry the first, so the mother carries both it and the maternal second: excluded
    both = _run(_family(), [[1, 1, 1], [0, 1, 1]], [AUTO] * 2, genes=[5, 5])
    assert _state(both, Mode.COMPOUND_HET) == ["no", "no"]
    pairs = r.compound_het_pairs(level="proband")
    assert sorted(zip(pairs.first.tolist(), pairs.second.tolist(), pairs.phased.tolist(), strict=True)) == [
        (0, 1, True),
        (4, 5, False),
    ]
    # a duo cannot phase: every pair is untold (unphased), the cis one too
    duo = _run(_family(), [row[1:] for row in rows], [AUTO] * 8, samples=("mum", "kid"), genes=genes)
    assert _state(duo, Mode.COMPOUND_HET) == ["untold"] * 6 + ["no", "no"]
    assert not duo.compound_het_pairs().phased.any() and len(duo.compound_het_pairs()) == 3
    assert any("unphased" in n for n in duo.cannot_tell[Mode.COMPOUND_HET])


def test_compound_het__an_unaffected_sibling_carrying_both_excludes_the_pair_for_the_family() -> None:
    #        dad mum kid sib0
    rows = [[1, 0, 1, 1], [0, 1, 1, 1], [1, 0, 1, 1], [0, 1, 1, 0]]
    r = _run(_family(sibs=1), rows, [AUTO] * 4, samples=("dad", "mum", "kid", "sib0"), genes=[1, 1, 2, 2])
    assert _state(r, Mode.COMPOUND_HET, "proband") == ["fits"] * 4
    assert _state(r, Mode.COMPOUND_HET, "family") == ["no", "no", "fits", "fits"]
    # the sibling's missing call leaves the pair untold for the family
    rows[3][3] = MISSING
    r = _run(_family(sibs=1), rows, [AUTO] * 4, samples=("dad", "mum", "kid", "sib0"), genes=[1, 1, 2, 2])
    assert _state(r, Mode.COMPOUND_HET, "family") == ["no", "no", "untold", "untold"]


# --- X-linked, dominant, mitochondrial -----------------------------------------------------------


def test_x_linked_recessive__son_from_carrier_mother_daughter_needs_both_parents() -> None:
    rows = [[0, 1, 1], [0, 0, 1], [1, 1, 1], [0, _, 1]]
    son = _run(_family(), rows, [X] * 4)
    assert _state(son, Mode.X_LINKED_RECESSIVE) == ["fits", "no", "no", "untold"]
    assert _state(son, Mode.DE_NOVO) == ["no", "fits", "no", "untold"]  # [1]: the son's ALT is new
    girls = [[1, 1, 2], [0, 1, 2], [1, 1, 1]]
    assert _state(_run(_family(kid_sex=F_, dad=AFF), girls, [X] * 3), Mode.X_LINKED_RECESSIVE) == ["fits", "no", "no"]
    # her carrier father would be affected: unaffected excludes, unknown leaves it untold
    assert _state(_run(_family(kid_sex=F_), girls, [X] * 3), Mode.X_LINKED_RECESSIVE)[0] == "no"
    assert _state(_run(_family(kid_sex=F_, dad=UNK), girls, [X] * 3), Mode.X_LINKED_RECESSIVE)[0] == "untold"


def test_autosomal_dominant__from_an_affected_parent_or_de_novo() -> None:
    rows = [[1, 0, 1], [0, 0, 1], [0, 1, 1], [1, 0, 2]]
    affected_dad = _run(_family(dad=AFF), rows, [AUTO] * 4)
    assert _state(affected_dad, Mode.AUTOSOMAL_DOMINANT) == ["fits", "fits", "no", "no"]
    assert _state(_run(_family(dad=UNK), rows, [AUTO] * 4), Mode.AUTOSOMAL_DOMINANT)[:3] == ["untold", "fits", "no"]
    # the family level: the affected father shares it; an unaffected sibling carrying it excludes it
    ped = _family(dad=AFF, sibs=1)
    fam = _run(ped, [[1, 0, 1, 0], [1, 0, 1, 1]], [AUTO] * 2, samples=("dad", "mum", "kid", "sib0"))
    assert _state(fam, Mode.AUTOSOMAL_DOMINANT, "family") == ["fits", "no"]
    assert _state(fam, Mode.AUTOSOMAL_DOMINANT, "proband") == ["fits", "fits"]


def test_mitochondrial__maternal_only_unaffected_carriers_allowed() -> None:
    rows = [[0, 1, 1], [1, 0, 1], [0, _, 2], [0, 1, 0]]
    r = _run(_family(), rows, [MT] * 4)
    assert _state(r, Mode.MITOCHONDRIAL) == ["fits", "no", "untold", "no"]
    assert _state(r, Mode.MITOCHONDRIAL, "family") == ["fits", "no", "untold", "no"]  # mum carries, unaffected
    assert not r.proband.possible(Mode.DE_NOVO).any()  # not assessed on chrM
    singleton = _run(Pedigree("S", (Member("kid", affection=AFF),)), [[1]], [MT], samples=("kid",))
    assert _state(singleton, Mode.MITOCHONDRIAL) == ["untold"]


def test_family__an_affected_sibling_must_share_and_unknown_status_members_are_ignored() -> None:
    ped = Pedigree(
        "F",
        (
            Member("dad", sex=M_, affection=UNAFF),
            Member("mum", sex=F_, affection=UNAFF),
            Member("kid", "dad", "mum", F_, AFF),
            Member("sister", "dad", "mum", F_, AFF),
            Member("brother", "dad", "mum", M_, UNK),
        ),
    )
    samples = ("dad", "mum", "kid", "sister", "brother")
    rows = [[1, 1, 2, 2, 2], [1, 1, 2, 1, 0], [1, 1, 2, _, 0]]
    r = _run(ped, rows, [AUTO] * 3, samples=samples)
    assert _state(r, Mode.AUTOSOMAL_RECESSIVE_HOM, "family") == ["fits", "no", "untold"]
    assert any("affection unknown for brother" in n for n in r.cannot_tell[Mode.AUTOSOMAL_RECESSIVE_HOM])


def test_other_contigs_and_chrY_assess_nothing_but_a_sons_de_novo() -> None:
    r = _run(_family(), [[0, 0, 1], [0, 0, 1], [1, 1, 2]], [OTHER, Y, OTHER])
    assert r.proband.fits.tolist() == [0, int(Mode.DE_NOVO), 0] and not r.proband.untold.any()


# --- inputs --------------------------------------------------------------------------------------


def test_inheritance_modes__refuses_what_cannot_be_analysed() -> None:
    ped = _family()
    cls = np.array([AUTO], dtype=np.uint8)
    with pytest.raises(CaseError, match=r"outside -1\.\.2"):
        inheritance_modes(ped, np.array([[0, 0, 3]]), samples=["dad", "mum", "kid"], chrom_class=cls)
    with pytest.raises(CaseError, match="3 genotype columns but 2 sample names"):
        inheritance_modes(ped, np.zeros((1, 3), np.int8), samples=["dad", "mum"], chrom_class=cls)
    with pytest.raises(CaseError, match="proband kid has no genotypes"):
        inheritance_modes(ped, np.zeros((1, 2), np.int8), samples=["dad", "mum"], chrom_class=cls, proband="kid")
    with pytest.raises(CaseError, match="not marked affected"):
        inheritance_modes(ped, np.zeros((1, 3), np.int8), samples=["dad", "mum", "kid"], chrom_class=cls, proband="dad")
    with pytest.raises(CaseError, match="no genotyped affected member"):
        inheritance_modes(ped, np.zeros((1, 2), np.int8), samples=["dad", "mum"], chrom_class=cls)
    with pytest.raises(CaseError, match="repeated"):
        inheritance_modes(ped, np.zeros((1, 2), np.int8), samples=["kid", "kid"], chrom_class=cls)


def test_inheritance_modes__columns_outside_the_pedigree_are_ignored() -> None:
    g = np.array([[0, 2, 0, 1]], dtype=np.int8)
    r = inheritance_modes(
        _family(), g, samples=["dad", "stranger", "mum", "kid"], chrom_class=np.array([AUTO], np.uint8)
    )
    assert _state(r, Mode.DE_NOVO) == ["fits"]


def test_genotype_matrix__counts_alt_copies_from_the_readers_allele_codes() -> None:
    # samples: 0/1, 1 (haploid, padded -2), ./., 1/., 2/1 ; the second row asks about ALT 2
    alleles = np.array(
        [[[0, 1], [1, -2], [-1, -1], [1, -1], [2, 1]], [[0, 1], [1, -2], [0, 0], [2, 2], [2, 1]]], dtype=np.int16
    )
    g = genotype_matrix(alleles, alt=np.array([1, 2]))
    assert g.tolist() == [[1, 1, MISSING, MISSING, 1], [0, 0, 0, 2, 1]]
    assert genotype_matrix(alleles[:1]).tolist() == [[1, 1, MISSING, MISSING, 1]]


@pytest.mark.parametrize(
    ("assembly", "contig", "pos", "expected"),
    [
        (Assembly.GRCh38, "chrX", 10_000, X),
        (Assembly.GRCh38, "chrX", 10_001, PAR),
        (Assembly.GRCh38, "X", 2_781_479, PAR),
        (Assembly.GRCh38, "chrX", 2_781_480, X),
        (Assembly.GRCh38, "chrX", 155_701_383, PAR),
        (Assembly.GRCh37, "X", 60_001, PAR),
        (Assembly.GRCh37, "chrX", 2_699_521, X),
        (Assembly.GRCh37, "Y", 10_001, PAR),
        (Assembly.GRCh37, "Y", 2_649_521, Y),
        (Assembly.GRCh37, "MT", 100, MT),
        (Assembly.GRCh38, "chrM", 100, MT),
        (Assembly.GRCh38, "NC_000001.11", 100, AUTO),
        (Assembly.GRCh38, "chr22", 100, AUTO),
        (Assembly.GRCh38, "chrUn_KI270302v1", 100, OTHER),
    ],
)
def test_chromosome_classes__from_the_domains_contig_names_and_pars(
    assembly: Assembly, contig: str, pos: int, expected: int
) -> None:
    cls = chromosome_classes(assembly, np.array(["chr1", contig, contig, "chr2"]), np.array([5, pos, pos, 5]))
    assert cls.tolist() == [AUTO, expected, expected, AUTO]


# --- the oracle: every way of filling in what is missing -----------------------------------------


@dataclass(frozen=True)
class Case:
    pedigree: Pedigree
    samples: tuple[str, ...]
    g: npt.NDArray[np.int8]
    cls: npt.NDArray[np.uint8]
    gene: npt.NDArray[np.int64]


@st.composite
def cases(draw: st.DrawFn, *, n_variants: int = 6, comphet: bool = False) -> Case:
    """A proband with parents (each genotyped or not, affection any), siblings and calls with gaps."""
    kid_sex = draw(st.sampled_from([M_, F_, U_]))
    members = [
        Member("dad", sex=M_, affection=draw(st.sampled_from([AFF, UNAFF, UNK]))),
        Member("mum", sex=F_, affection=draw(st.sampled_from([AFF, UNAFF, UNK]))),
        Member("kid", "dad", "mum", kid_sex, AFF),
    ]
    for i in range(draw(st.integers(0, 2))):
        members.append(
            Member(f"sib{i}", "dad", "mum", draw(st.sampled_from([M_, F_])), draw(st.sampled_from([AFF, UNAFF, UNK])))
        )
    typed = [m.id for m in members if m.id == "kid" or draw(st.booleans())]
    n = draw(st.integers(1, n_variants))
    classes = [AUTO, PAR] if comphet else [AUTO, PAR, X, Y, MT, OTHER]
    cls = np.array(draw(st.lists(st.sampled_from(classes), min_size=n, max_size=n)), dtype=np.uint8)
    # compound hets: mostly hets, fewer gaps (a pair's fillings multiply)
    cells = st.sampled_from([0, 1, 1, 2, 1, MISSING] if comphet else [0, 1, 2, MISSING])
    g = np.array(draw(st.lists(st.lists(cells, min_size=len(typed), max_size=len(typed)), min_size=n, max_size=n)))
    gene = np.array(draw(st.lists(st.sampled_from([0, 1, -1] if comphet else [-1]), min_size=n, max_size=n)))
    return Case(Pedigree("F", tuple(members)), tuple(typed), g.astype(np.int8), cls, gene.astype(np.int64))


def _hap(sex: Sex, cls: int) -> bool:
    return cls in (Y, MT) or (sex is M_ and cls == X)


def _modes_complete(
    ped: Pedigree, typed: set[str], cls: int, gt: dict[str, int], sex_kid: Sex, aff: dict[str, bool]
) -> dict[Mode, tuple[bool, bool]]:
    """The rules of the module docstring on complete data: mode → (proband level, family level)."""
    kid = ped.member("kid")
    auto = cls in (AUTO, PAR)

    def sex_of(i: str) -> Sex:
        return sex_kid if i == "kid" else ped.member(i).sex

    def carries(i: str) -> bool:
        return gt[i] >= 1

    def ref(i: str) -> bool:
        return gt[i] == 0

    def hom(i: str) -> bool:
        return gt[i] == 2 or (_hap(sex_of(i), cls) and gt[i] >= 1)

    def het(i: str) -> bool:
        return gt[i] == 1 and not _hap(sex_of(i), cls)

    male = sex_kid is M_
    d, m = "dad", "mum"
    if cls == X:
        de_novo = carries("kid") and ref(m) and (male or ref(d))
    elif cls == Y:
        de_novo = male and carries("kid") and ref(d)
    else:
        de_novo = auto and carries("kid") and ref(d) and ref(m)
    ar = (
        auto
        and hom("kid")
        and carries(d)
        and carries(m)
        and not (not aff[d] and hom(d))
        and not (not aff[m] and hom(m))
    )
    if male:
        xlr = hom("kid") and carries(m) and not (not aff[m] and hom(m)) and not (not aff[d] and carries(d))
    else:
        xlr = (
            hom("kid") and carries(d) and carries(m) and not (not aff[d] and carries(d)) and not (not aff[m] and hom(m))
        )
    xlr = xlr and cls == X
    inherited = (aff[d] and carries(d)) or (aff[m] and carries(m)) or (ref(d) and ref(m))
    ad = auto and het("kid") and not (not aff[d] and carries(d)) and not (not aff[m] and carries(m)) and inherited
    mt = cls == MT and carries("kid") and carries(m)
    trio = {
        Mode.DE_NOVO: de_novo,
        Mode.AUTOSOMAL_RECESSIVE_HOM: ar,
        Mode.X_LINKED_RECESSIVE: xlr,
        Mode.AUTOSOMAL_DOMINANT: ad,
        Mode.MITOCHONDRIAL: mt,
    }
    fam = dict(trio)
    for a in ped:
        if a.id == "kid" or a.id not in typed:
            continue
        if a.affected:
            fam[Mode.DE_NOVO] &= carries(a.id)
            fam[Mode.AUTOSOMAL_RECESSIVE_HOM] &= hom(a.id) and all(carries(p) for p in a.parents if p in typed)
            fam[Mode.X_LINKED_RECESSIVE] &= hom(a.id) and not (a.sex is M_ and a.mother in typed and not carries(m))
            fam[Mode.AUTOSOMAL_DOMINANT] &= het(a.id)
            fam[Mode.MITOCHONDRIAL] &= carries(a.id) and (a.mother not in typed or carries(m))
        elif a.unaffected:
            fam[Mode.DE_NOVO] &= not carries(a.id)
            fam[Mode.AUTOSOMAL_RECESSIVE_HOM] &= not hom(a.id)
            fam[Mode.X_LINKED_RECESSIVE] &= not hom(a.id)
            fam[Mode.AUTOSOMAL_DOMINANT] &= not carries(a.id)
    del kid
    return {mode: (trio[mode], fam[mode]) for mode in trio}


def _completions(case: Case, rows: Sequence[int]) -> Iterator[tuple[dict[int, dict[str, int]], Sex, dict[str, bool]]]:
    """Every filling of what is missing: calls, ungenotyped parents' calls, the proband's sex, parents' affection."""
    ped, typed = case.pedigree, set(case.samples)
    cells: list[tuple[int, str]] = []
    known: dict[int, dict[str, int]] = {}
    for v in rows:
        known[v] = {}
        for j, s in enumerate(case.samples):
            if case.g[v, j] >= 0:
                known[v][s] = int(case.g[v, j])
            else:
                cells.append((v, s))
        cells += [(v, p) for p in ("dad", "mum") if p not in typed]
    sexes = [M_, F_] if ped.member("kid").sex is U_ else [ped.member("kid").sex]
    parents = [ped.member("dad"), ped.member("mum")]
    affs = [[True, False] if p.affection is UNK else [p.affected] for p in parents]
    for values in itertools.product([0, 1, 2], repeat=len(cells)):
        filled = {v: dict(known[v]) for v in rows}
        for (v, s), value in zip(cells, values, strict=True):
            filled[v][s] = value
        for sex in sexes:
            for a_d, a_m in itertools.product(*affs):
                yield filled, sex, {"dad": a_d, "mum": a_m}


def _three_valued(outcomes: list[bool]) -> str:
    return "fits" if all(outcomes) else "untold" if any(outcomes) else "no"


@settings(max_examples=150, deadline=None)
@given(cases())
def test_modes__equal_every_filling_of_missing_data(case: Case) -> None:
    """fits ⇔ the mode holds however the gaps are filled; untold ⇔ for some fillings only."""
    r = inheritance_modes(case.pedigree, case.g, samples=case.samples, chrom_class=case.cls, proband="kid")
    typed = set(case.samples)
    for v in range(case.g.shape[0]):
        outcomes: dict[Mode, tuple[list[bool], list[bool]]] = {}
        for filled, sex, aff in _completions(case, [v]):
            got = _modes_complete(case.pedigree, typed, int(case.cls[v]), filled[v], sex, aff)
            for mode, (trio, fam) in got.items():
                outcomes.setdefault(mode, ([], []))[0].append(trio)
                outcomes[mode][1].append(fam)
        for mode, (trio, fam) in outcomes.items():
            assert _state(r, mode, "proband")[v] == _three_valued(trio), (mode, v)
            assert _state(r, mode, "family")[v] == _three_valued(fam), (mode, v)


def _pair_complete(
    case: Case, a: int, b: int, gt: dict[int, dict[str, int]], aff: dict[str, bool], family: bool
) -> str:
    """The compound-het rule on complete data for one pair: fits / untold (unphased) / no."""
    ped, typed = case.pedigree, set(case.samples)

    def qualifies(v: int) -> bool:
        g = gt[v]
        ok = g["kid"] == 1 and not (not aff["dad"] and g["dad"] == 2) and not (not aff["mum"] and g["mum"] == 2)
        if family:
            ok &= all(g[x.id] == 1 for x in ped if x.affected and x.id != "kid" and x.id in typed)
            ok &= all(g[x.id] != 2 for x in ped if x.unaffected and x.id in typed)
        return ok

    if not (qualifies(a) and qualifies(b)):
        return "no"

    def origin(v: int) -> int:
        if "dad" not in typed or "mum" not in typed:
            return 0
        g = gt[v]
        return 1 if g["dad"] >= 1 and g["mum"] == 0 else 2 if g["mum"] >= 1 and g["dad"] == 0 else 0

    excluders = [p for p in ("dad", "mum") if not aff[p]]
    if family:
        excluders += [
            x.id for x in ped if x.unaffected and x.id in typed and x.id not in ("dad", "mum") and x.father == "dad"
        ]
    if any(gt[a][x] >= 1 and gt[b][x] >= 1 for x in excluders):
        return "no"
    oa, ob = origin(a), origin(b)
    if oa and oa == ob:
        return "no"
    return "fits" if oa and ob and oa != ob else "untold"


@settings(max_examples=120, deadline=None)
@given(cases(n_variants=4, comphet=True))
def test_compound_het__bits_and_pairs_equal_every_filling_of_missing_data(case: Case) -> None:
    r = inheritance_modes(
        case.pedigree, case.g, samples=case.samples, chrom_class=case.cls, gene=case.gene, proband="kid"
    )
    n = case.g.shape[0]
    for level in ("proband", "family"):
        pairs = r.compound_het_pairs(level=level)  # type: ignore[arg-type]
        listed = {
            (a, b): ("fits" if ph else "untold")
            for a, b, ph in zip(pairs.first.tolist(), pairs.second.tolist(), pairs.phased.tolist(), strict=True)
        }
        best = ["no"] * n
        for a, b in itertools.combinations(range(n), 2):
            if case.gene[a] < 0 or case.gene[a] != case.gene[b]:
                assert (a, b) not in listed
                continue
            outcomes = [
                _pair_complete(case, a, b, filled, aff, level == "family")
                for filled, _, aff in _completions(case, [a, b])
            ]
            expected = (
                "fits" if all(o == "fits" for o in outcomes) else "no" if all(o == "no" for o in outcomes) else "untold"
            )
            assert listed.get((a, b), "no") == expected, (level, a, b, outcomes)
            for v in (a, b):
                rank = ["no", "untold", "fits"]
                best[v] = max(best[v], expected, key=rank.index)
        assert _state(r, Mode.COMPOUND_HET, level) == best


# --- scale: a simulated trio, checked against the Mendelian errors -------------------------------


def _simulated_trio(
    n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    af = rng.beta(0.3, 3, n)
    dad = (rng.random((n, 2)) < af[:, None]).astype(np.int8)
    mum = (rng.random((n, 2)) < af[:, None]).astype(np.int8)
    rows = np.arange(n)
    kid = dad[rows, rng.integers(0, 2, n)] + mum[rows, rng.integers(0, 2, n)]
    g = np.stack([dad.sum(1), mum.sum(1), kid], axis=1).astype(np.int8)
    new = rng.random(n) < 1e-3
    g[new, 2] = 1
    g[new, :2] = 0
    g[rng.random(g.shape) < 0.01] = MISSING
    gene = np.where(rng.random(n) < 0.5, np.sort(rng.integers(0, 2_000, n)), -1)
    return g, np.zeros(n, dtype=np.uint8), gene


def test_simulated_trio__de_novo_calls_are_mendelian_errors_and_pairs_match_the_bits() -> None:
    rng = np.random.default_rng(7)
    g, cls, gene = _simulated_trio(200_000, rng)
    r = inheritance_modes(_family(), g, samples=("dad", "mum", "kid"), chrom_class=cls, gene=gene)
    de_novo = r.proband.has(Mode.DE_NOVO)
    assert 150 < de_novo.sum() < 250  # ~200 injected, less those hit by a missing call
    alleles = np.stack([g >= 1, g >= 2], axis=2).astype(np.int16)  # 0/0, 0/1, 1/1 as allele indices
    alleles[g < 0] = -1
    check = mendelian_errors(_family(), alleles, samples=("dad", "mum", "kid"), chrom_class=cls)
    assert not (de_novo & ~check.errors[:, 0]).any()
    rare = rng.random(g.shape[0]) < 0.05
    pairs = r.compound_het_pairs(among=rare)
    in_pair = np.zeros(g.shape[0], dtype=np.bool_)
    in_pair[pairs.first[pairs.phased]] = in_pair[pairs.second[pairs.phased]] = True
    assert not (in_pair & ~r.family.has(Mode.COMPOUND_HET)).any()
    with pytest.raises(CaseError, match="select fewer variants"):
        r.compound_het_pairs(max_pairs=1000)
