"""Small counts hidden so that no combination of the shown cells gives one back (access.disclosure).

The cells come from a synthetic population, summed the way stats.py sums them: people, each in one
dataset with a sex, population and centre and a genotype per allele, counted into every
(scope, stratum, value) cell, so the cells' equations hold exactly. The reference checks rebuild
those equations from the rows alone (never from disclosure's internals) and ask numpy's rank
whether a hidden small count is determined by the shown cells.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.access.disclosure import is_protected, suppress_small_counts

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Allele = tuple[str, int, str, str]
Cell = tuple[str, str, str]  # scope, stratum, stratum_value

STRATA = ("population", "sex", "centre")
COUNTS = ("ac", "hom", "hemi")
ALLELE_KEY = ("chrom", "pos", "ref", "alt")
KEY = (*ALLELE_KEY, "scope", "stratum", "stratum_value")
NO_CALL, HEMI = -1, 3  # genotype codes beside 0, 1 and 2 alt copies
# rare, common and frequent alleles (hypothesis shrinks towards the first code of each)
GENOTYPE_POOLS = ((0, 0, 0, 0, 1), (0, 1, 2, NO_CALL), (0, 1, 1, 2, 2))
PROPERTY = settings(max_examples=40, deadline=None)


# -- a synthetic population and the variant_stats cells it adds up to ------------------------
@dataclass(frozen=True)
class People:
    """Per person a dataset and a value of each stratum; per allele × person a genotype code."""

    alleles: list[Allele]
    dataset: list[str]
    population: list[str]
    sex: list[str]  # '' is an unknown sex, diploid on chrX like stats.py's missing value
    centre: list[str]
    genotypes: Ints  # alleles × people: NO_CALL, 0, 1, 2 alt copies, or HEMI (a male's one X)


def cells_of(people: People, *, zero_rows: bool = True) -> pa.Table:
    """The variant_stats rows these people make: every cell with a called allele (an > 0) as stats.py
    writes them, or with `zero_rows` False only the cells carrying the allele (a missing row is 0)."""
    g = people.genotypes
    male = np.array(people.sex) == "male"
    on_x = np.array([a[0] == "chrX" for a in people.alleles])
    ploidy = np.where(on_x[:, None] & male[None, :], 1, 2)
    per_person = {
        "ac": np.where(g == HEMI, 1, np.maximum(g, 0)),
        "an": np.where(g == NO_CALL, 0, ploidy),
        "hom": (g == 2).astype(np.int64),
        "hemi": (g == HEMI).astype(np.int64),
    }
    labels = {"population": people.population, "sex": people.sex, "centre": people.centre}
    dataset = np.array(people.dataset)
    scopes = ["*", *sorted(set(people.dataset))]
    strata = [("all", ""), *((t, v) for t in STRATA for v in sorted(set(labels[t])))]
    cells = [(s, t, v) for s in scopes for t, v in strata]
    everyone = np.ones(len(dataset), np.bool_)
    in_scope = {s: everyone if s == "*" else dataset == s for s in scopes}
    in_value = {(t, v): everyone if t == "all" else np.array(labels[t]) == v for t, v in strata}
    member = np.stack([in_scope[s] & in_value[(t, v)] for s, t, v in cells], axis=1).astype(np.int64)  # people × cells
    sums = {c: per_person[c] @ member for c in per_person}  # alleles × cells
    keep = (sums["ac"] > 0) | (sums["an"] > 0) if zero_rows else sums["ac"] > 0
    a, k = np.nonzero(keep)
    columns: dict[str, list[object]] = {
        name: [people.alleles[i][j] for i in a.tolist()] for j, name in enumerate(ALLELE_KEY)
    }
    for j, name in enumerate(("scope", "stratum", "stratum_value")):
        columns[name] = [cells[i][j] for i in k.tolist()]
    table = pa.table(columns | {c: pa.array(sums[c][a, k], pa.int32()) for c in sums})
    return table.set_column(1, "pos", table.column("pos").cast(pa.int32()))


@st.composite
def populations(draw: st.DrawFn, *, max_people: int = 24, max_alleles: int = 3) -> People:
    """A few people in 1-3 datasets, 1-3 populations, three sexes and 1-2 centres; 1-3 alleles,
    two of them at one position, on chr1 or chrX."""
    n = draw(st.integers(1, max_people))

    def labels(choices: Sequence[str]) -> list[str]:
        return draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n))

    dataset = labels([f"d{i}" for i in range(draw(st.integers(1, 3)))])
    population = labels([f"p{i}" for i in range(draw(st.integers(1, 3)))])
    sex = labels(["female", "male", ""])
    centre = labels([f"c{i}" for i in range(draw(st.integers(1, 2)))])
    alleles, genotypes = [], []
    for i in range(draw(st.integers(1, max_alleles))):
        chrom = draw(st.sampled_from(["chr1", "chrX"]))
        codes = draw(st.lists(st.sampled_from(draw(st.sampled_from(GENOTYPE_POOLS))), min_size=n, max_size=n))
        if chrom == "chrX":  # a male carries one X: an alt there is hemizygous
            codes = [HEMI if s == "male" and c > 0 else c for c, s in zip(codes, sex, strict=True)]
        alleles.append((chrom, 1000 + i // 2, "A", "GT"[i % 2]))
        genotypes.append(codes)
    return People(alleles, dataset, population, sex, centre, np.array(genotypes, dtype=np.int64))


def random_people(rng: np.random.Generator, *, n_people: int, n_alleles: int, n_datasets: int) -> People:
    """A larger population from numpy: mostly rare alleles, as in real data."""
    af = rng.beta(0.3, 6.0, size=(n_alleles, 1))
    copies = rng.binomial(2, af, size=(n_alleles, n_people))
    genotypes = np.where(rng.random((n_alleles, n_people)) < 0.02, NO_CALL, copies)
    sex = rng.choice(["female", "male", ""], size=n_people, p=[0.49, 0.49, 0.02]).tolist()
    alleles = [("chrX" if i % 10 == 0 else "chr1", 1000 + i, "A", "G") for i in range(n_alleles)]
    on_x_male = np.array([a[0] == "chrX" for a in alleles])[:, None] & (np.array(sex) == "male")[None, :]
    genotypes = np.where(on_x_male & (genotypes > 0), HEMI, genotypes)
    return People(
        alleles,
        dataset=rng.choice([f"d{i}" for i in range(n_datasets)], size=n_people).tolist(),
        population=rng.choice(["p0", "p1", "p2", "p3"], size=n_people).tolist(),
        sex=sex,
        centre=rng.choice(["c0", "c1"], size=n_people).tolist(),
        genotypes=genotypes.astype(np.int64),
    )


def shuffled(table: pa.Table, rnd: random.Random) -> pa.Table:
    order = list(range(table.num_rows))
    rnd.shuffle(order)
    return table.take(pa.array(order, pa.int64()))


def hand_cells(
    rows: Sequence[tuple[str, str, str, int, int, int]], allele: Allele = ("chr1", 100, "A", "G")
) -> pa.Table:
    """Cells of one allele written out: (scope, stratum, stratum_value, ac, hom, hemi) per row."""
    return pa.table(
        {name: [allele[j]] * len(rows) for j, name in enumerate(ALLELE_KEY)}
        | {name: [r[j] for r in rows] for j, name in enumerate(("scope", "stratum", "stratum_value"))}
        | {name: pa.array([r[3 + j] for r in rows], pa.int32()) for j, name in enumerate(COUNTS)}
    )


def hidden_at(out: pa.Table, column: str = "ac") -> dict[Cell, bool]:
    cells = zip(*(out.column(c).to_pylist() for c in ("scope", "stratum", "stratum_value")), strict=True)
    return {cell: value is None for cell, value in zip(cells, out.column(column).to_pylist(), strict=True)}


# -- the reference: the equations an attacker can write, from the rows alone ------------------
def allele_rows(table: pa.Table) -> list[Ints]:
    """Row numbers of each allele in `table`."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, key in enumerate(zip(*(table.column(c).to_pylist() for c in ALLELE_KEY), strict=True)):
        groups.setdefault(key, []).append(i)
    return [np.array(rows, dtype=np.int64) for rows in groups.values()]


def equations(cells: Sequence[Cell]) -> Floats:
    """One allele's equations as rows of coefficients over its cells (parent +1, children -1, = 0).

    Per scope and stratum: the scope's 'all' cell is the sum over the stratum's values; per stratum
    and value (with 'all'): the nation's cell is the sum over the datasets. A cell without a row is
    0, known to everyone, and drops out.
    """
    index = {cell: i for i, cell in enumerate(cells)}
    datasets = sorted({s for s, _, _ in cells} - {"*"})
    values = sorted({(t, v) for _, t, v in cells})
    strata = sorted({t for t, _ in values} - {"all"})
    rules: list[tuple[Cell, list[Cell]]] = [
        ((s, "all", ""), [(s, t, v) for t2, v in values if t2 == t]) for s in ["*", *datasets] for t in strata
    ]
    rules += [(("*", t, v), [(d, t, v) for d in datasets]) for t, v in values]
    matrix = np.zeros((len(rules), len(cells)))
    for e, (parent, children) in enumerate(rules):
        if parent in index:
            matrix[e, index[parent]] = 1.0
        for child in children:
            if child in index:
                matrix[e, index[child]] = -1.0
    used: Floats = matrix[np.abs(matrix).sum(axis=1) > 0]
    return used


def rank(matrix: Floats) -> int:
    return int(np.linalg.matrix_rank(matrix)) if matrix.size else 0


def determined_cells(matrix: Floats, hidden: Bools) -> Bools:
    """Hidden cells whose value the equations and the shown cells fix: e_i lies in the row space of
    the equations restricted to the hidden cells (adding it does not raise the rank)."""
    where = np.flatnonzero(hidden)
    restricted = matrix[:, where]
    base = rank(restricted)
    out = np.zeros(len(hidden), np.bool_)
    for j, i in enumerate(where):
        unit = np.zeros((1, len(where)))
        unit[0, j] = 1.0
        out[i] = rank(np.vstack([restricted, unit])) == base
    return out


@dataclass(frozen=True)
class AlleleView:
    """One allele's cells: true counts, what the answer hides, and the equations between them."""

    cells: list[Cell]
    true: dict[str, Ints]
    hidden: dict[str, Bools]
    matrix: Floats


def views(
    cells: pa.Table, out: pa.Table, columns: Sequence[str] = COUNTS, *, alleles: Sequence[Ints] | None = None
) -> list[AlleleView]:
    """Each allele's view (or those of the given `alleles`, as row numbers), checking the people
    model's counts satisfy every equation on the way."""
    result = []
    keys = list(zip(*(cells.column(c).to_pylist() for c in ("scope", "stratum", "stratum_value")), strict=True))
    for rows in allele_rows(cells) if alleles is None else alleles:
        take = pa.array(rows)
        true = {c: np.asarray(cells.column(c).take(take).to_numpy(), dtype=np.int64) for c in columns}
        hidden = {c: np.asarray(out.column(c).take(take).is_null().to_numpy(zero_copy_only=False)) for c in columns}
        matrix = equations([keys[i] for i in rows])
        for c in columns:
            assert not (matrix @ true[c]).any(), f"{c} cells do not add up"
        result.append(AlleleView([keys[i] for i in rows], true, hidden, matrix))
    return result


def lower_bounds(view: AlleleView, column: str) -> Ints:
    """What anyone knows of a hidden count: zeros are never hidden, so a hidden ac is ≥ 1, and so is a
    hidden hom or hemi beside a shown ac; beside a hidden ac it may be 0."""
    if column == "ac":
        return np.ones(len(view.cells), np.int64)
    return np.where(view.hidden["ac"], 0, 1).astype(np.int64)


def small(counts: Ints, floor: int) -> Bools:
    return (counts > 0) & (counts < floor)


# -- the guarantees, for any population ------------------------------------------------------
@PROPERTY
@given(people=populations(), floor=st.integers(2, 6), zero_rows=st.booleans(), rnd=st.randoms(use_true_random=False))
def test_suppression__shows_no_small_count_and_changes_no_shown_count(
    people: People, floor: int, zero_rows: bool, rnd: random.Random
) -> None:
    cells = shuffled(cells_of(people, zero_rows=zero_rows), rnd)
    out = suppress_small_counts(cells, floor=floor)

    assert out.column_names == [*cells.column_names, "suppressed"]
    for name in (*KEY, "an"):
        assert out.column(name).equals(cells.column(name)), name
    ac_hidden = out.column("ac").is_null().to_pylist()
    assert out.column("suppressed").to_pylist() == ac_hidden
    for c in COUNTS:
        for before, after, ac_gone in zip(
            cells.column(c).to_pylist(), out.column(c).to_pylist(), ac_hidden, strict=True
        ):
            assert after is None or after == before, c
            assert after is None or not 0 < after < floor, f"{c} {after} shown at floor {floor}"
            assert after is None or not ac_gone, f"{c} shown where ac is hidden"


@PROPERTY
@given(people=populations(), floor=st.integers(2, 6), zero_rows=st.booleans())
def test_suppression__no_hidden_small_count_is_determined_by_the_equations(
    people: People, floor: int, zero_rows: bool
) -> None:
    cells = cells_of(people, zero_rows=zero_rows)
    out = suppress_small_counts(cells, floor=floor)

    for view in views(cells, out):
        for c in COUNTS:
            given_away = determined_cells(view.matrix, view.hidden[c]) & small(view.true[c], floor)
            assert not given_away.any(), (
                f"{c} of {[view.cells[i] for i in np.flatnonzero(given_away)]} solvable from the shown cells"
            )


@PROPERTY
@given(people=populations(), floor=st.integers(2, 6), zero_rows=st.booleans())
def test_suppression__every_equation_with_a_hidden_count_hides_two_cells(
    people: People, floor: int, zero_rows: bool
) -> None:
    cells = cells_of(people, zero_rows=zero_rows)
    out = suppress_small_counts(cells, floor=floor)

    for view in views(cells, out):
        members = view.matrix != 0
        for c in COUNTS:
            hidden, nonzero = view.hidden[c], view.true[c] != 0
            holds_secret = (members & (hidden & nonzero)[None, :]).any(axis=1)
            n_hidden = (members & hidden[None, :]).sum(axis=1)
            assert (n_hidden[holds_secret] >= 2).all(), c


@PROPERTY
@given(people=populations(), floor=st.integers(2, 6), zero_rows=st.booleans())
def test_suppression__no_hidden_count_is_pinned_by_an_equation_and_its_bounds(
    people: People, floor: int, zero_rows: bool
) -> None:
    # GIVEN an equation whose parent is shown, the hidden children share what the shown ones leave;
    # if that is exactly their least values, each is known. And a shown ac bounds hom and hemi.
    cells = cells_of(people, zero_rows=zero_rows)
    out = suppress_small_counts(cells, floor=floor)

    for view in views(cells, out):
        for c in COUNTS:
            hidden, true, least = view.hidden[c], view.true[c], lower_bounds(view, c)
            for coefficients in view.matrix:
                parent = np.flatnonzero(coefficients > 0)
                children = (coefficients < 0) & hidden
                if len(parent) != 1 or hidden[parent[0]] or not children.any():
                    continue
                left = int(true[children].sum())  # parent - shown children
                assert not (left == least[children].sum() and small(true[children], floor).any()), (
                    f"{c}: hidden cells of an equation all at their least value"
                )
        ac, hom, hemi = view.true["ac"], view.true["hom"], view.true["hemi"]
        shown_ac = ~view.hidden["ac"]
        hom_most = (ac - np.where(view.hidden["hemi"], 1, hemi)) // 2
        hemi_most = ac - 2 * np.where(view.hidden["hom"], 1, hom)
        assert not (shown_ac & view.hidden["hom"] & small(hom, floor) & (hom_most <= 1)).any(), "hom pinned by ac"
        assert not (shown_ac & view.hidden["hemi"] & small(hemi, floor) & (hemi_most <= 1)).any(), "hemi pinned"


# -- the examples the module names -----------------------------------------------------------
def test_suppression__a_small_stratum_cannot_be_had_from_the_total_and_its_complement() -> None:
    # GIVEN 43 carriers, 3 of them male, all in one dataset: male = all - female would give 3
    rows = [
        (scope, stratum, value, ac, 0, 0)
        for scope in ("*", "d0")
        for stratum, value, ac in (("all", "", 43), ("sex", "male", 3), ("sex", "female", 40))
    ]
    out = suppress_small_counts(hand_cells(rows), floor=5)

    hidden = hidden_at(out)
    for scope in ("*", "d0"):
        assert hidden[(scope, "sex", "male")]
        assert hidden[(scope, "sex", "female")] or hidden[(scope, "all", "")]
    view = views(hand_cells(rows), out)[0]
    assert not (determined_cells(view.matrix, view.hidden["ac"]) & small(view.true["ac"], 5)).any()


def test_suppression__a_small_dataset_cannot_be_had_from_the_nation_and_the_other_datasets() -> None:
    # GIVEN 30 carriers in the nation: 20 in d0, 8 in d1 and 2 in d2 = 30 - 20 - 8
    rows = [("*", "all", "", 30, 0, 0), ("d0", "all", "", 20, 0, 0), ("d1", "all", "", 8, 0, 0)]
    rows.append(("d2", "all", "", 2, 0, 0))
    out = suppress_small_counts(hand_cells(rows), floor=5)

    hidden = hidden_at(out)
    assert hidden[("d2", "all", "")]
    assert sum(hidden.values()) >= 2
    assert not hidden[("*", "all", "")]  # another dataset goes before the nation: the total stays useful


def test_suppression__floor_1_shows_every_count() -> None:
    cells = cells_of(random_people(np.random.default_rng(1), n_people=30, n_alleles=20, n_datasets=2))

    out = suppress_small_counts(cells, floor=1)

    assert out.column("suppressed").to_pylist() == [False] * cells.num_rows
    for c in COUNTS:
        assert out.column(c).null_count == 0
        assert out.column(c).to_pylist() == cells.column(c).to_pylist()


def test_suppression__empty_cells_give_an_empty_answer() -> None:
    cells = hand_cells([])

    out = suppress_small_counts(cells, floor=5)

    assert out.num_rows == 0
    assert out.column_names == [*cells.column_names, "suppressed"]


@pytest.mark.parametrize("floor", [0, -3])
def test_suppression__refuses_a_floor_below_1(floor: int) -> None:
    with pytest.raises(ValueError, match="small_count_floor"):
        suppress_small_counts(hand_cells([("*", "all", "", 3, 0, 0)]), floor=floor)


@pytest.mark.parametrize("missing", ["scope", "stratum_value", "pos", "hom"])
def test_suppression__names_the_columns_it_lacks(missing: str) -> None:
    cells = hand_cells([("*", "all", "", 3, 0, 0)])

    with pytest.raises(ValueError, match=rf"lack column\(s\) {missing}: select them from variant_stats"):
        suppress_small_counts(cells.drop_columns([missing]), floor=5)


@pytest.mark.parametrize("columns", [("hom",), ("ac", "an"), ("ac", "filters")])
def test_suppression__refuses_columns_that_are_not_counts_or_lack_ac(columns: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="including 'ac'"):
        suppress_small_counts(hand_cells([("*", "all", "", 3, 0, 0)]), floor=5, columns=columns)


def test_suppression__refuses_a_cell_given_twice() -> None:
    cells = hand_cells([("*", "all", "", 30, 0, 0), ("d0", "all", "", 30, 0, 0), ("d0", "all", "", 30, 0, 0)])

    with pytest.raises(ValueError, match="twice"):
        suppress_small_counts(cells, floor=5)


def test_suppression__keeps_row_order_and_other_columns() -> None:
    cells = cells_of(random_people(np.random.default_rng(2), n_people=40, n_alleles=30, n_datasets=3))
    cells = shuffled(cells, random.Random(3)).append_column("rsid", pa.array([f"rs{i}" for i in range(cells.num_rows)]))
    reversed_cells = cells.take(pa.array(range(cells.num_rows - 1, -1, -1)))

    out = suppress_small_counts(cells, floor=5)
    out_reversed = suppress_small_counts(reversed_cells, floor=5)

    assert out.column("suppressed").to_pylist().count(True) > 0  # the data does hide something
    for name in (*KEY, "an", "rsid"):
        assert out.column(name).equals(cells.column(name))
    # the same cells in another order hide the same cells
    assert out_reversed.take(pa.array(range(cells.num_rows - 1, -1, -1))).equals(out)


def test_suppression__dictionary_encoded_strings_work_like_plain_ones() -> None:
    cells = cells_of(random_people(np.random.default_rng(4), n_people=40, n_alleles=30, n_datasets=3))
    encoded = cells
    for name in ("chrom", "ref", "alt", "scope", "stratum", "stratum_value"):
        column = pc.dictionary_encode(cells.column(name))
        encoded = encoded.set_column(encoded.schema.get_field_index(name), name, column)

    plain, dictionary = suppress_small_counts(cells, floor=5), suppress_small_counts(encoded, floor=5)

    assert dictionary.column("suppressed").to_pylist().count(True) > 0
    for name in (*COUNTS, "suppressed"):
        assert dictionary.column(name).equals(plain.column(name)), name
    assert pa.types.is_dictionary(dictionary.schema.field("scope").type)


def test_suppression__replaces_an_existing_suppressed_column() -> None:
    cells = hand_cells([("*", "all", "", 3, 0, 0)]).append_column("suppressed", pa.array([False]))

    out = suppress_small_counts(cells, floor=5)

    assert out.column_names.count("suppressed") == 1
    assert out.column("suppressed").to_pylist() == [True]


def test_suppression__only_the_given_columns_change() -> None:
    rows = [("*", "all", "", 3, 1, 1), ("d0", "all", "", 3, 1, 1)]

    out = suppress_small_counts(hand_cells(rows), floor=5, columns=("ac",))

    assert out.column("ac").to_pylist() == [None, None]
    assert out.column("hom").to_pylist() == [1, 1]
    assert out.column("hemi").to_pylist() == [1, 1]


# -- datasets the caller sees exactly ----------------------------------------------------------
def test_suppression__exact_scopes_are_shown_as_they_are() -> None:
    # GIVEN d0 seen exactly: its small count (3 women) is shown, and the nation minus d0 would give
    # d1's 2, so the nation's cells go in place of d0's
    rows = [("*", "all", "", 10, 0, 0), ("d0", "all", "", 8, 0, 0), ("d1", "all", "", 2, 0, 0)]
    rows += [("*", "sex", "male", 5, 0, 0), ("d0", "sex", "male", 5, 0, 0)]
    rows += [("*", "sex", "female", 5, 0, 0), ("d0", "sex", "female", 3, 0, 0), ("d1", "sex", "female", 2, 0, 0)]
    cells = hand_cells(rows)

    out = suppress_small_counts(cells, floor=5, exact_scopes=["d0"])

    d0 = [i for i, s in enumerate(out.column("scope").to_pylist()) if s == "d0"]
    for c in COUNTS:
        assert [out.column(c)[i].as_py() for i in d0] == [cells.column(c)[i].as_py() for i in d0]
    hidden = hidden_at(out)
    assert hidden[("d1", "all", "")] and hidden[("*", "all", "")]
    assert hidden[("d1", "sex", "female")] and hidden[("*", "sex", "female")]
    assert not hidden[("*", "sex", "male")]
    view = views(cells, out)[0]
    assert not (determined_cells(view.matrix, view.hidden["ac"]) & small(view.true["ac"], 5)).any()
    # without d0 exact, d0's own small count goes too
    assert hidden_at(suppress_small_counts(cells, floor=5))[("d0", "sex", "female")]


def test_suppression__ends_when_exact_cells_alone_give_a_small_count_away() -> None:
    # GIVEN every carrier in d0, seen exactly: the nation's 4 is d0's 4, and nothing can hide that
    rows = [("*", "all", "", 4, 0, 0), ("d0", "all", "", 4, 0, 0)]
    rows += [("*", "sex", "male", 4, 0, 0), ("d0", "sex", "male", 4, 0, 0)]

    out = suppress_small_counts(hand_cells(rows), floor=5, exact_scopes=["d0"])

    assert out.column("ac").to_pylist() == [None, 4, None, 4]
    assert out.column("suppressed").to_pylist() == [True, False, True, False]


@PROPERTY
@given(people=populations(), floor=st.integers(2, 6), data=st.data())
def test_suppression__exact_scopes_are_never_hidden(people: People, floor: int, data: st.DataObject) -> None:
    cells = cells_of(people)
    datasets = sorted(set(people.dataset))
    exact = data.draw(st.lists(st.sampled_from(datasets), unique=True, max_size=len(datasets) - 1))

    out = suppress_small_counts(cells, floor=floor, exact_scopes=exact)

    in_exact = np.isin(np.array(cells.column("scope").to_pylist()), exact)
    for c in COUNTS:
        shown = np.array(out.column(c).to_pylist(), dtype=object)
        assert (shown[in_exact] == np.array(cells.column(c).to_pylist())[in_exact]).all()
        assert not any(v is not None and 0 < v < floor for v in shown[~in_exact])


# -- hom and hemi ----------------------------------------------------------------------------
def test_suppression__hom_and_hemi_go_wherever_ac_goes() -> None:
    # GIVEN ac 3 in d1 with large hom and hemi elsewhere: the ac cells' hom and hemi are hidden
    rows = [("*", "all", "", 40, 10, 12), ("d0", "all", "", 37, 9, 11), ("d1", "all", "", 3, 1, 1)]

    out = suppress_small_counts(hand_cells(rows), floor=5)

    for c in COUNTS:
        assert out.column(c).is_null().to_pylist() == out.column("suppressed").to_pylist()
    assert out.column("suppressed").to_pylist().count(True) == 2


def test_suppression__a_shown_ac_does_not_pin_a_hidden_hom() -> None:
    # GIVEN ac 7 from 5 hemizygous men and one homozygous woman: hom ≤ (7 - 5) / 2 = 1 pins hom 1
    rows = [("*", "all", "", 7, 1, 5), ("d0", "all", "", 7, 1, 5)]

    out = suppress_small_counts(hand_cells(rows), floor=5)

    assert out.column("hom").to_pylist() == [None, None]
    assert out.column("ac").to_pylist() == [None, None]
    assert out.column("suppressed").to_pylist() == [True, True]


def test_suppression__a_shown_ac_with_room_keeps_its_value_beside_a_hidden_hom() -> None:
    # GIVEN ac 20 with hemi 5: hom could be anything from 1 to 7, so ac can be shown
    rows = [("*", "all", "", 20, 1, 5), ("d0", "all", "", 20, 1, 5)]

    out = suppress_small_counts(hand_cells(rows), floor=5)

    assert out.column("ac").to_pylist() == [20, 20]
    assert out.column("hemi").to_pylist() == [5, 5]
    assert out.column("hom").to_pylist() == [None, None]


def test_suppression__a_shown_ac_does_not_pin_a_hidden_hemi() -> None:
    # GIVEN ac 9 with hom 4 (8 alt copies): hemi ≤ 9 - 8 = 1 pins hemi 1
    rows = [("*", "all", "", 9, 4, 1), ("d0", "all", "", 9, 4, 1)]

    out = suppress_small_counts(hand_cells(rows), floor=3)

    assert out.column("hemi").to_pylist() == [None, None]
    assert out.column("ac").to_pylist() == [None, None]
    assert out.column("hom").to_pylist() == [None, None]  # hidden with its ac


# -- is_protected --------------------------------------------------------------------------------
@given(floor=st.integers(1, 50))
def test_is_protected__only_counts_from_1_to_below_the_floor(floor: int) -> None:
    assert not is_protected(0, floor=floor)
    assert all(is_protected(count, floor=floor) for count in range(1, floor))
    assert not is_protected(floor, floor=floor)
    assert not is_protected(floor + 1, floor=floor)


# -- scale ---------------------------------------------------------------------------------------
def test_suppression__runs_over_thousands_of_alleles_and_keeps_its_guarantees() -> None:
    people = random_people(np.random.default_rng(5), n_people=300, n_alleles=2000, n_datasets=3)
    cells = cells_of(people)

    out = suppress_small_counts(cells, floor=5)

    assert out.num_rows == cells.num_rows
    for c in COUNTS:
        shown = out.column(c).drop_null()
        assert not pc.any(pc.and_(pc.greater(shown, 0), pc.less(shown, 5))).as_py()
    assert out.column("suppressed").to_pylist().count(True) > 0
    # the reference on a sample of the alleles that hide something
    suppressed = np.asarray(out.column("suppressed").to_numpy(zero_copy_only=False))
    sample = [rows for rows in allele_rows(cells) if suppressed[rows].any()][:25]
    assert sample
    for view in views(cells, out, alleles=sample):
        for c in COUNTS:
            assert not (determined_cells(view.matrix, view.hidden[c]) & small(view.true[c], 5)).any()
