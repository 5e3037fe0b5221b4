"""Small counts hidden in a small table of linked counts, so that no set of shown cells gives one back.

The general form of `access.disclosure` for a single small table (tens to a few hundred cells),
such as the pharmacogenomic summary: per gene, how many people have each phenotype, in the whole
database, in each region and in each population. A count from 1 to `floor - 1` can single a person
out, and hiding it alone is not enough when the table publishes cells that add up (a region with
3 people: the 'all' total minus every other region's total). This is statistical cell suppression
as statistical offices do it (primary and secondary suppression, Hundepool et al., *Statistical
Disclosure Control*, 2012, ch. 4 and 5).

`suppress_linked_cells` takes the counts as one vector and the relations a reader can use as
"equations" (parent cell, child cells): counts[parent] == Σ counts[children]. Give it *every* cell
the answer comes from, never only the cells one request shows, so that every answer hides the
same cells. `frequency_table` lays out the cells and equations of a frequency table (groups ×
categories and a total) for it.

The algorithm (as `access.disclosure`):

1. Primary: hide 0 < count < floor. Zeros are public and never hidden, so a reader knows that a
   hidden count is at least 1.
2. Secondary, to a fixed point, one cell at a time: an equation with exactly one hidden cell gives
   it away, so hide one more of its cells: the shown child with the smallest positive count, else
   the parent. An equation whose parent is shown and whose hidden children must all sit at their
   lower bound (pops 1 + 1 hidden beside 20 shown in a total of 22: both are 1) gets one more cell
   the same way.
3. Audit: a hidden cell is determined by the shown cells iff its unit vector lies in the row space
   of the equations restricted to the hidden cells (the projection onto that row space keeps it
   whole); this catches cells that several equations, each with two or more hidden cells, pin
   together (a cell on the "bridge" between two cycles of hidden cells in a two-way table). Where
   a small count is determined, hide greedily the shown cell that leaves the fewest small counts
   determined (ties: the smallest count, then the lowest index), until none is. Hiding every
   non-zero cell always ends it: the hidden counts are then a null vector of their equations, so
   no non-zero hidden cell is determined.
   Steps 2 and 3 alternate until neither adds a cell.

Guarantees, for the cells and equations given: no shown count lies in 1..floor-1; every equation
holding a hidden cell holds at least two; no equation with a shown parent pins its hidden children
at 1; no hidden count in 1..floor-1 is determined by any linear combination of the equations and
the shown cells.

Limits, what this does not protect against:

* bounds combined across several equations (linear or integer programming over the whole table)
  can narrow a hidden count to a range, rarely to one value (pops 2 and 2 hidden in a total of 4
  are each 1..3); a hidden count may be known to be small, just not which small count it is;
* relations not given as equations: other tables of the same people (another gene's summary whose
  totals are the same people, a cross-tabulation region × population) must be suppressed together
  with this one, as one set of cells and equations, or the shown cells of one can undo the other;
* differencing over time: answers before and after an ingest or a withdrawal differ by the people
  added or removed.

The tables are small, so this is plain dense numpy: each audit is one SVD per trial, batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Equation = tuple[int, Sequence[int]]
Group = tuple[str, str]  # (partition, member); the whole table is (OVERALL, OVERALL)

OVERALL = "all"
TOTAL = "total"
WHOLE: Group = (OVERALL, OVERALL)


def suppress_linked_cells(counts: Ints, equations: Sequence[Equation], *, floor: int) -> Bools:
    """Which cells to hide (a boolean mask like `counts`) so that no count in 1..floor-1 can be read or solved for.

    `counts` is a 1-D array of non-negative integers; each equation `(parent, children)` says
    counts[parent] == Σ counts[children] (cell indices; a ValueError names an equation that does not
    hold). `floor` 1 hides nothing. See the module docstring for the rules, guarantees and limits.
    """
    if floor < 1:
        raise ValueError(f"floor {floor}: give 1 (show every count) or more (the small-count floor)")
    values = _checked_counts(counts)
    matrix = _equation_matrix(values, equations)
    small = (values > 0) & (values < floor)
    hidden = small.copy()
    while True:
        before = int(hidden.sum())
        hidden = _audited(matrix, values, _secondary(matrix, values, hidden), small)
        if int(hidden.sum()) == before:
            return hidden


# -- a frequency table's layout -------------------------------------------------------------------
@dataclass(frozen=True)
class FrequencyTable:
    """The cells of a frequency table and the equations between them, for `suppress_linked_cells`.

    One row per group: first the whole table `WHOLE` = ('all', 'all'), then (partition, member) for
    each member of each partition, in the order given. One column per category, in the order given,
    then `TOTAL` (the people in the group). Cell index = row × len(columns) + column, so a count
    vector reshaped to (len(groups), len(columns)) is the table, and so is the hidden mask.

    Equations: in each row, the total = Σ its categories; in each column (the total too), for each
    partition, the 'all' cell = Σ the partition's members. They hold for `tally`'s counts because
    each person has one category and one member of every partition; people with no known member
    (no region recorded) need a member for that ("unknown"), else the partition does not add up.
    """

    groups: tuple[Group, ...]
    columns: tuple[str, ...]
    equations: tuple[tuple[int, tuple[int, ...]], ...]

    @property
    def n_cells(self) -> int:
        return len(self.groups) * len(self.columns)

    def index(self, group: Group, column: str) -> int:
        """The cell of one group and one column (a category or `TOTAL`)."""
        if group not in self.groups:
            raise KeyError(f"group {group!r}: not in this table; use WHOLE or (partition, member) of {self.groups[1:]}")
        if column not in self.columns:
            raise KeyError(f"column {column!r}: not in this table; use one of {self.columns}")
        return self.groups.index(group) * len(self.columns) + self.columns.index(column)

    def tally(self, people: Iterable[tuple[Mapping[str, str], str]]) -> Ints:
        """The counts of these people, one (partition → member, category) pair each, as a cell vector."""
        partitions = {p for p, _ in self.groups[1:]}
        row_of = {g: i for i, g in enumerate(self.groups)}
        column_of = {c: i for i, c in enumerate(self.columns[:-1])}
        total = len(self.columns) - 1
        counts = np.zeros((len(self.groups), len(self.columns)), np.int64)
        for n, (members, category) in enumerate(people):
            if set(members) != partitions:
                raise ValueError(
                    f"person {n}: members of {sorted(members)}, expected one of each partition {sorted(partitions)}"
                    " (give an 'unknown' member where none is recorded)"
                )
            unknown = [(p, m) for p, m in members.items() if (p, m) not in row_of]
            if unknown:
                raise ValueError(f"person {n}: {unknown} not among the table's groups; add them to the partitions")
            if category not in column_of:
                raise ValueError(f"person {n}: category {category!r} not among {self.columns[:-1]}")
            rows = [0, *(row_of[(p, m)] for p, m in members.items())]
            counts[rows, column_of[category]] += 1
            counts[rows, total] += 1
        return counts.reshape(-1)


def frequency_table(partitions: Mapping[str, Sequence[str]], categories: Sequence[str]) -> FrequencyTable:
    """The layout of a table counting people by category, overall and within each member of each partition.

    `partitions` maps a name to its members (e.g. {"region": [...], "population": [...]}); each
    partition must split the whole set of people (every person in exactly one member). Example:
    `frequency_table({"region": ["north", "south"]}, ["poor", "normal"])` has rows
    ('all', 'all'), ('region', 'north'), ('region', 'south') and columns poor, normal, total.
    """
    if not categories or len(set(categories)) != len(categories) or TOTAL in categories:
        raise ValueError(f"categories {list(categories)}: give one or more distinct names, none of them {TOTAL!r}")
    groups: list[Group] = [WHOLE]
    for name, members in partitions.items():
        if name == OVERALL:
            raise ValueError(f"partition {name!r}: the name is taken by the whole table; rename the partition")
        if not members or len(set(members)) != len(members):
            raise ValueError(f"partition {name!r}: members {list(members)}; give one or more distinct members")
        groups.extend((name, m) for m in members)
    columns = (*categories, TOTAL)
    width = len(columns)
    equations = [(r * width + width - 1, tuple(range(r * width, r * width + width - 1))) for r in range(len(groups))]
    start = 1
    for members in partitions.values():
        rows = range(start, start + len(members))
        equations.extend((c, tuple(r * width + c for r in rows)) for c in range(width))
        start += len(members)
    return FrequencyTable(groups=tuple(groups), columns=columns, equations=tuple(equations))


# -- suppression ------------------------------------------------------------------------------------
def _checked_counts(counts: Ints) -> Ints:
    values = np.asarray(counts)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"counts: a 1-D integer array, not {values.ndim}-D {values.dtype}; flatten the table first")
    if (values < 0).any():
        raise ValueError(f"counts: negative at cell(s) {np.flatnonzero(values < 0).tolist()}; counts are ≥ 0")
    return values.astype(np.int64)


def _equation_matrix(counts: Ints, equations: Sequence[Equation]) -> Floats:
    """One row per equation: +1 at the parent, -1 at each child, so that matrix @ counts == 0."""
    n = len(counts)
    matrix = np.zeros((len(equations), n), np.int64)
    for e, (parent, children) in enumerate(equations):
        cells = [parent, *children]
        if not children or any(not 0 <= c < n for c in cells) or len(set(cells)) != len(cells):
            raise ValueError(
                f"equation {e} ({parent} = Σ {list(children)}): give a parent and one or more distinct"
                f" children, all cells in 0..{n - 1}"
            )
        matrix[e, parent] = 1
        matrix[e, list(children)] = -1
    broken = np.flatnonzero(matrix @ counts)
    if len(broken):
        e = int(broken[0])
        parent, children = equations[e]
        raise ValueError(
            f"equation {e}: cell {parent} holds {counts[parent]}, its children {list(children)} add up to"
            f" {int(counts[list(children)].sum())} ({len(broken)} equation(s) fail);"
            " count every cell from the same people"
        )
    return matrix.astype(np.float64)


def _secondary(matrix: Floats, counts: Ints, hidden: Bools) -> Bools:
    """Step 2: one more cell for each equation that gives a hidden cell away, one at a time."""
    hidden = hidden.copy()
    member, parent, child = matrix != 0, matrix > 0, matrix < 0
    while True:
        n_hidden = member[:, hidden].sum(axis=1)
        hidden_children = (child & hidden).sum(axis=1)
        parent_shown = (parent & ~hidden).any(axis=1)
        # what the shown cells leave for the hidden children, each of them at least 1
        left = matrix @ np.where(hidden, 0, counts).astype(np.float64)
        pinned = parent_shown & (hidden_children > 0) & (left <= hidden_children)
        open_ = member & ~hidden & (counts > 0)
        need = np.flatnonzero(((n_hidden == 1) | pinned) & open_.any(axis=1))
        if not len(need):
            return hidden
        cells = np.flatnonzero(open_[need[0]])
        # children before the parent, then the smallest count, then the lowest index
        hidden[cells[np.lexsort((cells, counts[cells], parent[need[0], cells]))[0]]] = True


def _audited(matrix: Floats, counts: Ints, hidden: Bools, small: Bools) -> Bools:
    """Step 3: more cells hidden, greedily, until no small hidden count is determined."""
    hidden = hidden.copy()
    member = matrix != 0
    while True:
        shown = np.flatnonzero(hidden)  # the hidden cells, as columns of the restricted system
        if not (_in_row_space(matrix[:, shown]) & small[shown]).any():
            return hidden
        # a cell that shares no equation with a hidden one cannot help
        near = member[member[:, hidden].any(axis=1)].any(axis=0)
        candidates = np.flatnonzero(~hidden & (counts > 0) & near)
        if not len(candidates):  # unreachable: with every non-zero cell hidden, none is determined
            raise RuntimeError("table suppression: a small count stays determined with every cell hidden")
        trials = np.stack([matrix[:, np.r_[shown, c]] for c in candidates])
        left = (_in_row_space(trials)[:, :-1] & small[shown]).sum(axis=1)
        hidden[candidates[np.lexsort((candidates, counts[candidates], left))[0]]] = True


def _in_row_space(matrices: Floats) -> Bools:
    """Per stacked matrix (… × equations × cells): which cells' unit vectors lie in the row space.

    The diagonal of the projection onto the row space is Σ over the right singular vectors with a
    non-zero singular value of their squared entries: 1 for a cell the equations determine, below 1
    (well below, for these small 0/±1 systems) otherwise.
    """
    n_eq, n_cells = matrices.shape[-2:]
    if n_eq == 0 or n_cells == 0:
        return np.zeros((*matrices.shape[:-2], n_cells), np.bool_)
    _, singular, vt = np.linalg.svd(matrices, full_matrices=False)
    tolerance = 1e-9 * np.maximum(singular.max(axis=-1, keepdims=True), 1.0)
    diagonal = np.einsum("...ki,...k->...i", vt**2, (singular > tolerance).astype(np.float64))
    return np.asarray(diagonal > 1 - 1e-6)
