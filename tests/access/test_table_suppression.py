"""Small counts hidden in a small table of linked counts (access.table_suppression).

The reference checks rebuild the equations' matrix here and ask numpy's matrix_rank whether a hidden
small count is determined by the shown cells (rank of the hidden cells' system unchanged when the
cell's unit vector is added), never through the module's own projection.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.access.table_suppression import (
    TOTAL,
    WHOLE,
    frequency_table,
    suppress_linked_cells,
)

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Equations = list[tuple[int, list[int]]]
PROPERTY = settings(max_examples=60, deadline=None)
# mostly small counts, some zeros, some large: hypothesis shrinks towards 0
COUNT = st.one_of(st.integers(0, 4), st.integers(0, 40))


# -- reference checks -------------------------------------------------------------------------------
def determined_by_rank(counts: Ints, equations: Sequence[tuple[int, Sequence[int]]], hidden: Bools) -> list[int]:
    """Hidden cells whose value follows from the equations and the shown cells (numpy rank test)."""
    matrix = np.zeros((len(equations), len(counts)))
    for e, (parent, children) in enumerate(equations):
        matrix[e, parent] = 1.0
        for c in children:
            matrix[e, c] = -1.0
    cells = np.flatnonzero(hidden)
    system = matrix[:, cells]
    rank = np.linalg.matrix_rank(system) if len(equations) else 0
    out = []
    for k, cell in enumerate(cells):
        unit = np.zeros((1, len(cells)))
        unit[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
            out.append(int(cell))
    return out


def assert_protected(counts: Ints, equations: Sequence[tuple[int, Sequence[int]]], hidden: Bools, floor: int) -> None:
    small = (counts > 0) & (counts < floor)
    assert not (small & ~hidden).any(), "a small count is shown"
    assert not (hidden & (counts == 0)).any(), "a zero is hidden"
    assert not [c for c in determined_by_rank(counts, equations, hidden) if small[c]], "a small count is solvable"
    for parent, children in equations:
        cells = [parent, *children]
        assert hidden[cells].sum() != 1, f"equation {parent} = Σ {children} gives its one hidden cell away"
        hidden_children = [c for c in children if hidden[c]]
        if hidden_children and not hidden[parent]:
            left = counts[parent] - sum(int(counts[c]) for c in children if not hidden[c])
            assert left > len(hidden_children), f"equation {parent} = Σ {children} pins its hidden cells at 1"


def two_way_table(interior: list[list[int]]) -> tuple[Ints, Equations]:
    """Cells of an r × c table with its row totals, column totals and grand total, and their equations.

    Layout: the (r + 1) × (c + 1) grid row-major, the totals in the last row and column.
    """
    grid = np.array(interior, np.int64)
    r, c = grid.shape
    full = np.zeros((r + 1, c + 1), np.int64)
    full[:r, :c] = grid
    full[:r, c] = grid.sum(axis=1)
    full[r, :] = full[:r, :].sum(axis=0)
    width = c + 1
    equations: Equations = [(i * width + c, [i * width + j for j in range(c)]) for i in range(r + 1)]
    equations += [(r * width + j, [i * width + j for i in range(r)]) for j in range(c + 1)]
    return full.reshape(-1), equations


# -- rules on hand-made tables ------------------------------------------------------------------------
def test_suppress_linked_cells__floor_one_hides_nothing() -> None:
    counts, equations = two_way_table([[1, 2], [3, 0]])

    hidden = suppress_linked_cells(counts, equations, floor=1)

    assert hidden.shape == counts.shape
    assert not hidden.any()


def test_suppress_linked_cells__large_counts_and_zeros_are_shown() -> None:
    counts, equations = two_way_table([[10, 0], [0, 20]])

    assert not suppress_linked_cells(counts, equations, floor=5).any()


def test_suppress_linked_cells__lone_small_cell_takes_partners_in_its_row_and_column() -> None:
    # GIVEN a 2 × 3 table whose one small cell (2) could be had from its row or column total
    counts, equations = two_way_table([[2, 30, 40], [50, 60, 70]])

    hidden = suppress_linked_cells(counts, equations, floor=5).reshape(3, 4)

    # THEN the smallest partners are hidden: 30 in its row, 50 in its column, 60 to close the rectangle
    assert hidden[0, 0] and hidden[0, 1] and hidden[1, 0] and hidden[1, 1]
    assert not hidden[:, 2:].any() and not hidden[2].any()
    assert_protected(counts, equations, hidden.reshape(-1), 5)


def test_suppress_linked_cells__small_total_is_hidden_with_partners() -> None:
    # GIVEN a region with 3 people (total 3: 2 poor, 1 normal) beside a large one
    table = frequency_table({"region": ["north", "south"]}, ["poor", "normal"])
    people = [({"region": "north"}, "poor")] * 2 + [({"region": "north"}, "normal")]
    people += [({"region": "south"}, "poor")] * 40 + [({"region": "south"}, "normal")] * 50
    counts = table.tally(people)

    hidden = suppress_linked_cells(counts, table.equations, floor=5)

    assert hidden[table.index(("region", "north"), TOTAL)]
    assert hidden[table.index(("region", "south"), TOTAL)]  # else all - south gives north's 3 back
    assert not hidden[table.index(WHOLE, TOTAL)]
    assert_protected(counts, table.equations, hidden, 5)


def test_suppress_linked_cells__children_pinned_at_one_take_another_cell() -> None:
    # GIVEN 22 = 20 + 1 + 1: the two 1s hidden together are still both 1 (hidden counts are ≥ 1)
    counts = np.array([22, 20, 1, 1], np.int64)
    equations = [(0, [1, 2, 3])]

    hidden = suppress_linked_cells(counts, equations, floor=5)

    assert hidden.tolist() == [False, True, True, True]


def test_suppress_linked_cells__pinned_parent_taken_when_no_child_is_left() -> None:
    counts = np.array([2, 1, 1], np.int64)

    hidden = suppress_linked_cells(counts, [(0, [1, 2])], floor=2)

    assert hidden.tolist() == [True, True, True]


def test_suppress_linked_cells__bridge_between_two_hidden_cycles_is_caught_by_the_audit() -> None:
    # GIVEN a 4 × 4 table with two 2 × 2 blocks of small counts joined by one small "bridge" cell:
    # every row and column holds two or more of them, yet the bridge is solvable (the blocks'
    # cycles cancel out of it), so the pairwise rules leave it and the rank audit must not
    interior = [[3, 3, 2, 50], [3, 3, 50, 50], [50, 50, 3, 3], [50, 50, 3, 3]]
    counts, equations = two_way_table(interior)
    primary = (counts > 0) & (counts < 5)
    bridge = 2
    assert bridge in determined_by_rank(counts, equations, primary)

    hidden = suppress_linked_cells(counts, equations, floor=5)

    assert hidden.sum() > primary.sum()
    assert_protected(counts, equations, hidden, 5)


def test_suppress_linked_cells__same_answer_every_time() -> None:
    counts, equations = two_way_table([[1, 7, 9, 2], [4, 0, 12, 6], [8, 3, 5, 1]])

    first = suppress_linked_cells(counts, equations, floor=5)

    assert (suppress_linked_cells(counts, equations, floor=5) == first).all()


def test_suppress_linked_cells__no_equations_hides_only_small_counts() -> None:
    counts = np.array([0, 3, 9], np.int64)

    assert suppress_linked_cells(counts, [], floor=5).tolist() == [False, True, False]


# -- failure paths --------------------------------------------------------------------------------------
def test_suppress_linked_cells__equation_that_does_not_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="equation 1: cell 3 holds 9"):
        suppress_linked_cells(np.array([5, 2, 3, 9, 9], np.int64), [(0, [1, 2]), (3, [4, 1])], floor=5)


@pytest.mark.parametrize(
    "equation",
    [(0, []), (0, [1, 7]), (-1, [1]), (0, [0, 1]), (0, [1, 1])],
    ids=["no children", "child out of range", "negative parent", "parent among children", "repeated child"],
)
def test_suppress_linked_cells__malformed_equation_is_refused(equation: tuple[int, list[int]]) -> None:
    with pytest.raises(ValueError, match="equation 0"):
        suppress_linked_cells(np.array([2, 1, 1], np.int64), [equation], floor=5)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (np.array([[1, 2]], np.int64), "1-D integer array"),
        (np.array([1.0, 2.0]), "1-D integer array"),
        (np.array([3, -1], np.int64), "negative at cell"),
    ],
    ids=["2-D", "float", "negative"],
)
def test_suppress_linked_cells__bad_counts_are_refused(counts: Ints, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suppress_linked_cells(counts, [], floor=5)


def test_suppress_linked_cells__floor_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="floor 0"):
        suppress_linked_cells(np.array([1], np.int64), [], floor=0)


# -- the guarantee on random tables ---------------------------------------------------------------------
@PROPERTY
@given(
    interior=st.integers(1, 5).flatmap(
        lambda c: st.lists(st.lists(COUNT, min_size=c, max_size=c), min_size=1, max_size=5)
    ),
    floor=st.integers(2, 6),
)
def test_suppress_linked_cells__random_two_way_table_leaves_no_small_count_solvable(
    interior: list[list[int]], floor: int
) -> None:
    counts, equations = two_way_table(interior)

    hidden = suppress_linked_cells(counts, equations, floor=floor)

    assert_protected(counts, equations, hidden, floor)


@st.composite
def pgx_people(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], list[tuple[dict[str, str], str]]]:
    """Regions, populations, phenotypes and people with one of each (a few people: many small cells)."""
    regions = [f"R{i}" for i in range(draw(st.integers(1, 4)))]
    populations = [f"P{i}" for i in range(draw(st.integers(1, 4)))]
    phenotypes = [f"ph{i}" for i in range(draw(st.integers(1, 4)))]
    person = st.tuples(
        st.fixed_dictionaries({"region": st.sampled_from(regions), "population": st.sampled_from(populations)}),
        st.sampled_from(phenotypes),
    )
    return regions, populations, phenotypes, draw(st.lists(person, max_size=60))


@PROPERTY
@given(drawn=pgx_people(), floor=st.integers(2, 6))
def test_suppress_linked_cells__random_pgx_table_leaves_no_small_count_solvable(
    drawn: tuple[list[str], list[str], list[str], list[tuple[dict[str, str], str]]], floor: int
) -> None:
    regions, populations, phenotypes, people = drawn
    table = frequency_table({"region": regions, "population": populations}, phenotypes)
    counts = table.tally(people)

    hidden = suppress_linked_cells(counts, table.equations, floor=floor)

    assert_protected(counts, table.equations, hidden, floor)


# -- the frequency table's layout -------------------------------------------------------------------------
def test_frequency_table__lays_out_groups_by_categories_and_total() -> None:
    table = frequency_table({"region": ["n", "s"], "population": ["a"]}, ["poor", "normal"])

    assert table.groups == (WHOLE, ("region", "n"), ("region", "s"), ("population", "a"))
    assert table.columns == ("poor", "normal", TOTAL)
    assert table.n_cells == 12
    assert table.index(("region", "s"), "normal") == 2 * 3 + 1
    # a total per row, then per column (the total too) the 'all' cell = Σ each partition's members
    assert table.equations[:4] == ((2, (0, 1)), (5, (3, 4)), (8, (6, 7)), (11, (9, 10)))
    assert table.equations[4:] == ((0, (3, 6)), (1, (4, 7)), (2, (5, 8)), (0, (9,)), (1, (10,)), (2, (11,)))


def test_frequency_table__tally_counts_each_person_in_every_group_they_belong_to() -> None:
    table = frequency_table({"region": ["n", "s"]}, ["poor", "normal"])

    counts = table.tally([({"region": "n"}, "poor"), ({"region": "s"}, "poor"), ({"region": "s"}, "normal")])

    assert counts.reshape(len(table.groups), len(table.columns)).tolist() == [[2, 1, 3], [1, 0, 1], [1, 1, 2]]


def test_frequency_table__without_partitions_is_one_row() -> None:
    table = frequency_table({}, ["poor"])

    assert table.groups == (WHOLE,)
    assert table.equations == ((1, (0,)),)


@pytest.mark.parametrize(
    ("partitions", "categories", "message"),
    [
        ({"region": ["n"]}, [], "categories"),
        ({"region": ["n"]}, ["a", "a"], "categories"),
        ({"region": ["n"]}, ["a", TOTAL], "categories"),
        ({"all": ["n"]}, ["a"], "partition 'all'"),
        ({"region": []}, ["a"], "partition 'region'"),
        ({"region": ["n", "n"]}, ["a"], "partition 'region'"),
    ],
    ids=["no categories", "repeated category", "category named total", "partition named all", "empty", "repeated"],
)
def test_frequency_table__malformed_layout_is_refused(
    partitions: dict[str, list[str]], categories: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        frequency_table(partitions, categories)


@pytest.mark.parametrize(
    ("person", "message"),
    [
        (({}, "poor"), "expected one of each partition"),
        (({"region": "n", "sex": "f"}, "poor"), "expected one of each partition"),
        (({"region": "east"}, "poor"), "not among the table's groups"),
        (({"region": "n"}, "rapid"), "category 'rapid'"),
    ],
    ids=["no region", "extra partition", "unknown member", "unknown category"],
)
def test_frequency_table__tally_refuses_a_person_outside_the_layout(
    person: tuple[dict[str, str], str], message: str
) -> None:
    table = frequency_table({"region": ["n", "s"]}, ["poor", "normal"])

    with pytest.raises(ValueError, match=message):
        table.tally([({"region": "s"}, "poor"), person])


def test_frequency_table__index_of_unknown_cell_is_a_key_error() -> None:
    table = frequency_table({"region": ["n"]}, ["poor"])

    with pytest.raises(KeyError, match="column 'rapid'"):
        table.index(WHOLE, "rapid")
    with pytest.raises(KeyError, match="group"):
        table.index(("region", "s"), "poor")
