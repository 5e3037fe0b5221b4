"""Small counts hidden from callers below CONTROLLED, so that no set of answers gives one back.

Aggregates are open to anyone, but a count from 1 to `floor - 1` (default floor 5, the setting
`small_count_floor`) can single a person out. Hiding those cells alone is not enough: the node
publishes each allele's counts as cells (scope: the nation '*' or a dataset × stratum × value)
that add up, and a hidden cell can be solved for from visible ones (a stratum from the total and
its complement: sex male 3 = all 43 - female 40). This is statistical cell suppression as
statistical offices do it (primary and secondary suppression, Hundepool et al., *Statistical
Disclosure Control*, 2012, ch. 4 and 5), run per allele over *every* cell of that allele and
never over just the cells a query asked for, so every answer about an allele hides the same
cells and no combination of answers can undo it.

The relations an attacker can use, per allele and count column (ac, hom, hemi), the "equations":

* per scope s and stratum t: cell(s, 'all') = Σ_v cell(s, t, v)   (stats.py groups every call
  group into exactly one value of each stratum, a missing value counting as '', so these are exact);
* per stratum and value (including 'all'): cell('*', t, v) = Σ_datasets cell(d, t, v).

A missing row is a cell of count 0 (stats.py writes no row with an = ac = 0), and is public.

The algorithm, per count column (ac first; hom and hemi follow):

1. Primary: hide 0 < count < floor.
2. Secondary, to a fixed point, vectorised over all alleles: an equation with exactly one
   hidden non-zero cell gives it away, so hide one more of its cells: the visible child with the
   smallest positive count, else the parent. An equation whose parent is visible and whose hidden
   children must all sit at their lower bound (a hidden ac is at least 1: zeros are never hidden,
   so pops 1 + 1 hidden beside 20 in a total of 22 are both 1) gets one more cell the same way.
3. Audit: pairwise rules are not enough when the tables are linked (a cell can be determined by
   combining several equations, each with two or more hidden cells, e.g. a cell on the "bridge"
   between two cycles of hidden cells). For each allele with a hidden small count, a cell is
   determined by the visible cells iff its unit vector lies in the row space of the equations
   restricted to the hidden cells (rank test: the diagonal of the projection onto that row space,
   from a batched eigendecomposition of the Gram matrix). Alleles whose hidden cells balance every
   equation on their own skip the test: their true counts are then a null vector of that system,
   so no non-zero hidden cell is determined. Where a small count is determined, hide greedily the
   visible cell that leaves the fewest small counts determined (ties: the smallest count), and
   repeat; hiding every non-zero cell always ends it (the counts themselves are then a null vector).
   Steps 2 and 3 alternate until neither adds a cell.
4. hom and hemi are hidden wherever ac is (ac = het + 2·hom + hemi bounds them), and protected
   by the same steps, a hom or hemi hidden only because its ac is being taken as ≥ 0. Where ac is
   shown, a hidden hom or hemi must not be pinned by ac ≥ 2·hom + hemi (ac 7, hemi 5 → hom 1):
   such an ac is hidden too, and everything is done again.

The caller hides af (= ac / an) wherever ac is hidden; an is never hidden.

Guarantees, for the cells of each allele given (all of them, from every scope and stratum):
no shown count lies in 1..floor-1; every equation holding a hidden non-zero cell holds at least two
hidden cells; no hidden count in 1..floor-1 is determined by any linear combination of the
equations and the shown cells, nor pinned by one equation together with the bounds above.

Limits, what this does not protect against:

* bounds combined across several equations (linear programming or integer reasoning over the
  whole system) can narrow a hidden count to a range, rarely to one value; a hidden count may
  also be known to be small (that is what hiding says), just not which small count it is;
* a hidden ac in a cell whose an is 1 is 1 (an is shown), and a shown ac of 0 where an is 2
  tells one person's genotype: small *cohorts* (an) are not hidden here;
* differencing over time: counts before and after an ingest or a withdrawal differ by the
  people added or removed; callers that keep old answers can subtract them;
* callers who see some datasets exactly (CONTROLLED there) and others suppressed: pass those
  datasets as `exact_scopes`, else the nation minus their exact counts can reveal the rest;
  several callers pooling what each may see exactly are not modelled;
* other published numbers that count people, such as `n_files` (files carrying the allele,
  one per person for single-sample VCFs), are outside these columns.

Callers CONTROLLED on every dataset of an answer see every count: the caller decides whether to
call this at all (`policy.suppression_floor` returns None for them); `floor` 1 changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

COUNT_COLUMNS = ("ac", "hom", "hemi")
NATION = "*"
OVERALL = "all"
_KEY_COLUMNS = ("chrom", "pos", "ref", "alt", "scope", "stratum", "stratum_value")

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
_BATCH = 2048  # alleles per batched eigendecomposition: bounds memory at a few tens of MB


def is_protected(count: int, *, floor: int) -> bool:
    """Whether a count of people or alleles is too small to show a caller below CONTROLLED (Beacon too)."""
    return 0 < count < floor


def suppress_small_counts(
    cells: pa.Table,
    *,
    floor: int,
    columns: Sequence[str] = COUNT_COLUMNS,
    exact_scopes: Collection[str] = (),
) -> pa.Table:
    """`cells` with hidden counts set to null, and a boolean column `suppressed` (the row's ac is hidden).

    `cells` holds variant_stats rows (chrom, pos, ref, alt, scope, stratum, stratum_value and the
    count columns) of any number of alleles, with *every* row of each allele it holds: what is
    hidden is decided over all of an allele's cells, whichever the query will show. Plain or
    dictionary-encoded strings both work; rows stay in their order, other columns are untouched.
    `columns` must include "ac"; `exact_scopes` are datasets this caller sees exactly elsewhere
    (their rows are shown and treated as known to the caller).
    """
    if floor < 1:
        raise ValueError(f"floor {floor}: give 1 (show every count) or more (small_count_floor)")
    unknown = [c for c in columns if c not in COUNT_COLUMNS]
    if "ac" not in columns or unknown:
        raise ValueError(f"columns {tuple(columns)}: choose from {COUNT_COLUMNS}, including 'ac'")
    missing = [c for c in (*_KEY_COLUMNS, *columns) if c not in cells.column_names]
    if missing:
        raise ValueError(f"cells lack column(s) {', '.join(missing)}: select them from variant_stats")
    values = {c: _counts(cells, c) for c in columns}
    hidden = {c: np.zeros(cells.num_rows, np.bool_) for c in columns}
    if floor > 1 and cells.num_rows:
        layout = _layout(cells, exact_scopes)
        hidden = _suppress(layout, values, floor)
    out = cells
    for c in columns:
        field = cells.schema.field(c)
        array = pa.array(values[c], mask=hidden[c], type=field.type)
        out = out.set_column(out.schema.get_field_index(c), pa.field(c, field.type, nullable=True), array)
    flag = pa.array(hidden["ac"], type=pa.bool_())
    if "suppressed" in out.column_names:
        return out.set_column(out.schema.get_field_index("suppressed"), "suppressed", flag)
    return out.append_column("suppressed", flag)


# -- the cells' equations -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """Which allele each row belongs to, and the equations (parent = Σ children) between rows.

    An equation's members are listed as (row, equation, is_parent) triples, `m_*` below.
    """

    allele: Ints  # per row
    n_alleles: int
    fixed: Bools  # per row: shown whatever its count (a scope the caller sees exactly)
    m_row: Ints
    m_eq: Ints
    m_parent: Bools
    eq_allele: Ints  # per equation
    cell_kind: Ints  # per row: its (scope, stratum, value) whatever the allele
    eq_kind: Ints  # per equation: which relation it is, whatever the allele
    m_allele: Ints  # per member: its row's allele
    scope: Ints  # per row, codes
    stratum: Ints
    value: Ints
    nation: Bools  # per row: scope '*'
    overall: Bools  # per row: stratum 'all'
    twin: Ints  # per row: the nation's row of the same stratum and value, or -1
    top: Ints  # per row: its scope's 'all' row, or -1
    n_strata: Ints  # per allele: how many strata besides 'all' its rows have

    @property
    def n_eq(self) -> int:
        return len(self.eq_allele)

    @functools.cached_property
    def rows_by_allele(self) -> tuple[Ints, Ints]:
        """Rows sorted by allele, and where each allele starts: allele a's are rows[bounds[a]:bounds[a + 1]]."""
        rows = np.argsort(self.allele, kind="stable")
        return rows, np.searchsorted(self.allele[rows], np.arange(self.n_alleles + 1))

    @functools.cached_property
    def members_by_allele(self) -> tuple[Ints, Ints]:
        """Members sorted by allele, likewise."""
        members = np.argsort(self.m_allele, kind="stable")
        return members, np.searchsorted(self.m_allele[members], np.arange(self.n_alleles + 1))


def _counts(cells: pa.Table, name: str) -> Ints:
    column = cells.column(name)
    if column.null_count:
        raise ValueError(f"column {name} holds {column.null_count} null(s): give the stored counts, not an answer")
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _codes(column: pa.ChunkedArray) -> tuple[Ints, list[str]]:
    """Integer codes of a string column (plain or dictionary-encoded), and the strings they stand for."""
    if column.null_count:
        raise ValueError(f"a key column holds {column.null_count} null(s)")
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    strings: dict[str, int] = {}
    parts = []
    for chunk in column.chunks:
        lookup = np.array([strings.setdefault(s, len(strings)) for s in chunk.dictionary.to_pylist()], np.int64)
        parts.append(
            lookup[np.asarray(chunk.indices.to_numpy(), dtype=np.int64)] if len(lookup) else np.empty(0, np.int64)
        )
    return (np.concatenate(parts) if parts else np.empty(0, np.int64)), list(strings)


def _distinct(values: Ints) -> Ints:
    """np.unique by sorting (np.unique's own default hashes, several times slower on large arrays)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _dense(*codes: tuple[Ints, int]) -> Ints:
    """One int64 key from several (code, cardinality) pairs, first varying slowest."""
    key = np.zeros(len(codes[0][0]), np.int64)
    for code, size in codes:
        key = key * size + code
    return key


def _lookup(sorted_keys: Ints, wanted: Ints) -> tuple[Ints, Bools]:
    """Where each wanted key sits in `sorted_keys`, and whether it is there at all."""
    if not len(sorted_keys):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), np.bool_)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return at, sorted_keys[at] == wanted


def _layout(cells: pa.Table, exact_scopes: Collection[str]) -> _Layout:
    chrom, _ = _codes(cells.column("chrom"))
    ref, _ = _codes(cells.column("ref"))
    alt, _ = _codes(cells.column("alt"))
    pos = np.asarray(cells.column("pos").to_numpy(), dtype=np.int64)
    order = np.lexsort((alt, ref, pos, chrom))
    keys = np.stack([chrom, pos, ref, alt])[:, order]
    starts = np.r_[True, (keys[:, 1:] != keys[:, :-1]).any(axis=0)]
    allele = np.empty(len(order), np.int64)
    allele[order] = np.cumsum(starts) - 1
    n_alleles = int(starts.sum())

    scope, scopes = _codes(cells.column("scope"))
    stratum, strata = _codes(cells.column("stratum"))
    value, values = _codes(cells.column("stratum_value"))
    ns, nt, nv = len(scopes), len(strata), len(values)
    cell = _dense((allele, n_alleles), (scope, ns), (stratum, nt), (value, nv))
    if len(_distinct(cell)) != len(cell):
        raise ValueError("cells hold a cell (allele, scope, stratum, stratum_value) twice")
    nation = np.isin(scope, [i for i, s in enumerate(scopes) if s == NATION])
    overall = np.isin(stratum, [i for i, s in enumerate(strata) if s == OVERALL])
    fixed = np.isin(scope, [i for i, s in enumerate(scopes) if s in set(exact_scopes)])

    rows, eqs, parents = [], [], []
    eq_alleles: list[Ints] = []
    n_eq = 0
    # within a scope: the 'all' row = Σ the rows of each other stratum
    children = np.flatnonzero(~overall)
    row_key = _dense((allele[children], n_alleles), (scope[children], ns), (stratum[children], nt))
    row_eqs, inverse = np.unique(row_key, return_inverse=True)
    rows.append(children)
    eqs.append(inverse.reshape(-1))
    parents.append(np.zeros(len(children), np.bool_))
    tops = np.flatnonzero(overall)
    tops = tops[np.argsort(_dense((allele[tops], n_alleles), (scope[tops], ns)))]
    at, found = _lookup(_dense((allele[tops], n_alleles), (scope[tops], ns)), row_eqs // nt)
    rows.append(tops[at[found]])
    eqs.append(np.flatnonzero(found))
    parents.append(np.ones(int(found.sum()), np.bool_))
    eq_alleles.append(row_eqs // (ns * nt))
    n_eq += len(row_eqs)
    # across scopes: the nation's cell = Σ the datasets' cells
    children = np.flatnonzero(~nation)
    col_key = _dense((allele, n_alleles), (stratum, nt), (value, nv))
    col_eqs, inverse = np.unique(col_key[children], return_inverse=True)
    rows.append(children)
    eqs.append(n_eq + inverse.reshape(-1))
    parents.append(np.zeros(len(children), np.bool_))
    tops = np.flatnonzero(nation)
    at, found = _lookup(col_eqs, col_key[tops])
    rows.append(tops[found])
    eqs.append(n_eq + at[found])
    parents.append(np.ones(int(found.sum()), np.bool_))
    eq_alleles.append(col_eqs // (nt * nv))
    m_row = np.concatenate(rows).astype(np.int64)
    nation_rows = np.flatnonzero(nation)
    nation_rows = nation_rows[np.argsort(col_key[nation_rows])]
    at, found = _lookup(col_key[nation_rows], col_key)
    top_rows = np.flatnonzero(overall)
    top_key = _dense((allele[top_rows], n_alleles), (scope[top_rows], ns))
    top_rows = top_rows[np.argsort(top_key)]
    top_at, top_found = _lookup(np.sort(top_key), _dense((allele, n_alleles), (scope, ns)))
    strata_of = _distinct(_dense((allele[~overall], n_alleles), (stratum[~overall], nt)))
    return _Layout(
        allele=allele,
        n_alleles=n_alleles,
        fixed=fixed,
        m_row=m_row,
        m_eq=np.concatenate(eqs).astype(np.int64),
        m_parent=np.concatenate(parents),
        eq_allele=np.concatenate(eq_alleles).astype(np.int64),
        cell_kind=_dense((scope, ns), (stratum, nt), (value, nv)),
        eq_kind=np.concatenate([row_eqs % (ns * nt), ns * nt + col_eqs % (nt * nv)]).astype(np.int64),
        m_allele=allele[m_row],
        scope=scope,
        stratum=stratum,
        value=value,
        nation=nation,
        overall=overall,
        twin=np.where(found, nation_rows[at] if len(nation_rows) else -1, -1),
        top=np.where(top_found, top_rows[top_at] if len(top_rows) else -1, -1),
        n_strata=np.bincount(strata_of // nt, minlength=n_alleles),
    )


# -- suppression --------------------------------------------------------------------------------
def _suppress(layout: _Layout, values: dict[str, Ints], floor: int) -> dict[str, Bools]:
    """Steps 1-4 for every column; after the first round only the alleles that changed are revisited."""
    n = len(layout.allele)
    hidden = {c: _primary(v, floor) & ~layout.fixed for c, v in values.items()}
    active = {c: np.ones(layout.n_alleles, np.bool_) for c in values}
    while True:
        before = hidden["ac"]
        hidden["ac"] = _protect(layout, values["ac"], hidden["ac"], np.ones(n, np.int64), floor, active["ac"])
        grown = _alleles_of(layout, hidden["ac"] & ~before)
        lower = np.where(hidden["ac"], 0, 1).astype(np.int64)
        for c in values.keys() - {"ac"}:
            hidden[c] = _protect(layout, values[c], hidden[c] | hidden["ac"], lower, floor, active[c] | grown)
        pinned = _pinned_by_ac(values, hidden)
        if not pinned.any():
            return hidden
        hidden["ac"] = hidden["ac"] | pinned
        active = {c: np.zeros(layout.n_alleles, np.bool_) for c in values}
        active["ac"] = _alleles_of(layout, pinned)


def _primary(count: Ints, floor: int) -> Bools:
    return (count > 0) & (count < floor)


def _alleles_of(layout: _Layout, rows: Bools) -> Bools:
    out = np.zeros(layout.n_alleles, np.bool_)
    out[layout.allele[rows]] = True
    return out


def _pinned_by_ac(values: dict[str, Ints], hidden: dict[str, Bools]) -> Bools:
    """Cells whose shown ac pins a hidden hom or hemi to its least value, 1 (ac ≥ 2·hom + hemi)."""
    ac = values["ac"]
    zero = np.zeros(len(ac), np.int64)
    hom, hemi = values.get("hom", zero), values.get("hemi", zero)
    hom_h = hidden.get("hom", np.zeros(len(ac), np.bool_))
    hemi_h = hidden.get("hemi", np.zeros(len(ac), np.bool_))
    hom_most = (ac - np.where(hemi_h, 1, hemi)) // 2
    hemi_most = ac - 2 * np.where(hom_h, 1, hom)
    pinned = ~hidden["ac"] & ((hom_h & (hom_most <= 1)) | (hemi_h & (hemi_most <= 1)))
    return np.asarray(pinned, dtype=np.bool_)


def _protect(layout: _Layout, count: Ints, hidden: Bools, lower: Ints, floor: int, active: Bools) -> Bools:
    """`hidden` grown until no small count of this column can be worked out (steps 2 and 3), looking
    only at the `active` alleles (the others are known to be protected already)."""
    small = hidden & _primary(count, floor)
    active = active & _alleles_of(layout, hidden & (count != 0))  # hidden zeros alone give nothing away
    while active.any():
        hidden = _complementary(layout, count, hidden, lower, active)
        failing = _determined_alleles(layout, count, hidden, small, active)
        if not len(failing):
            break
        before, hidden = hidden, hidden.copy()
        for allele in failing:
            _repair(layout, count, hidden, small, int(allele))
        # an allele the repair could not change is left as it is: its small count is determined by
        # cells that cannot be hidden (exact_scopes), and looking again would never end
        active = _alleles_of(layout, hidden & ~before)
    return hidden


def _complementary(layout: _Layout, count: Ints, hidden: Bools, lower: Ints, active: Bools) -> Bools:
    """Step 2, vectorised over every equation of the active alleles, to a fixed point."""
    hidden = hidden.copy()
    n_eq = layout.n_eq
    todo = active
    while True:
        members = np.flatnonzero(todo[layout.m_allele])
        row, eq = layout.m_row[members], layout.m_eq[members]
        h = hidden[row]
        # only equations holding a hidden cell can need another
        keep = (np.bincount(eq[h], minlength=n_eq) > 0)[eq]
        row, eq, h, parent = row[keep], eq[keep], h[keep], layout.m_parent[members[keep]]
        value, least = count[row], lower[row]
        child = h & ~parent
        need = (np.bincount(eq[h], minlength=n_eq) == 1) & (np.bincount(eq[h & (value != 0)], minlength=n_eq) == 1)
        # bounds: the shown cells leave `known` for the hidden children, each at least `least`
        known = np.bincount(eq[~h], weights=np.where(parent, value, -value)[~h].astype(np.float64), minlength=n_eq)
        least_sum = np.bincount(eq[child], weights=least[child].astype(np.float64), minlength=n_eq)
        bounded = np.bincount(eq[child & (least > 0)], minlength=n_eq) > 0
        parent_hidden = np.bincount(eq[h & parent], minlength=n_eq) > 0
        need |= ~parent_hidden & bounded & (known <= least_sum)
        candidates = np.flatnonzero(need[eq] & ~h & (value > 0) & ~layout.fixed[row])
        if not len(candidates):
            return hidden
        # per equation: children before the parent, then the smallest count, then the row
        candidates = candidates[np.lexsort((row[candidates], value[candidates], parent[candidates], eq[candidates]))]
        first = np.r_[True, eq[candidates][1:] != eq[candidates][:-1]]
        chosen = row[candidates[first]]
        hidden[chosen] = True
        todo = np.zeros(layout.n_alleles, np.bool_)  # look again only at the alleles that changed
        todo[layout.allele[chosen]] = True


def _determined(matrices: Floats) -> Bools:
    """Per stacked equation matrix (… × equations × cells): which cells the equations determine.

    A cell is determined iff its unit vector lies in the row space, i.e. the projection onto the
    row space keeps it whole: diagonal entry 1 (it is 0..1, and well below 1 otherwise).
    """
    gram = np.matmul(np.swapaxes(matrices, -1, -2), matrices)
    eigenvalues, vectors = np.linalg.eigh(gram)
    tolerance = 1e-9 * np.maximum(eigenvalues.max(axis=-1, keepdims=True), 1.0)
    diagonal = np.einsum("...ik,...k->...i", vectors**2, (eigenvalues > tolerance).astype(np.float64))
    return np.asarray(diagonal > 1 - 1e-6)


def _certified(layout: _Layout, hidden: Bools) -> Bools:
    """Hidden rows that some simple change of the people behind the counts would alter while every
    shown cell stays as it is, so that nothing determines them (step 3's shortcut; sound, not complete).

    Each change is a null vector of the hidden cells' equations:
    * within a dataset, one person from one value of a stratum to another: (d, t, v1), (d, t, v2)
      and the nation's (*, t, v1), (*, t, v2) all hidden;
    * one person from a dataset to another, keeping a value in each stratum: both datasets' 'all'
      and (d1, t, v_t), (d2, t, v_t) hidden for every stratum t;
    * one person more in a dataset: (d, all), (*, all), and (d, t, v_t), (*, t, v_t) for every t;
    * two datasets swapping people between two values of a stratum: (d1, t, v1), (d1, t, v2),
      (d2, t, v1), (d2, t, v2) hidden (the 2 × 2 cycle of a two-way table).
    """
    out = np.zeros(len(hidden), np.bool_)
    n_a = layout.n_alleles
    n_s, n_t = int(layout.scope.max()) + 1, int(layout.stratum.max()) + 1
    twin = layout.twin
    paired = hidden & ~layout.nation & ~layout.overall & (twin >= 0)
    paired[paired] &= hidden[twin[paired]]
    rows = np.flatnonzero(paired)
    # one value to another
    key = _dense((layout.allele[rows], n_a), (layout.scope[rows], n_s), (layout.stratum[rows], n_t))
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    moved = rows[counts[inverse.reshape(-1)] >= 2]
    out[moved] = out[twin[moved]] = True
    # one person more: a value hidden twice in every stratum, both 'all' rows hidden
    key_st = _distinct(key)
    a_d, n_hit = np.unique(key_st // n_t, return_counts=True)
    allele_of, scope_of = a_d // n_s, a_d % n_s
    rows_ok = n_hit == layout.n_strata[allele_of]
    dataset_top = _top_of(layout, allele_of, scope_of)
    nation_top = _top_of(layout, allele_of, np.full(len(a_d), _nation_code(layout)))
    rows_ok &= (dataset_top >= 0) & (nation_top >= 0)
    rows_ok[rows_ok] &= hidden[dataset_top[rows_ok]] & hidden[nation_top[rows_ok]]
    grown = np.isin(_dense((layout.allele[rows], n_a), (layout.scope[rows], n_s)), a_d[rows_ok])
    out[rows[grown]] = out[twin[rows[grown]]] = True
    out[dataset_top[rows_ok]] = out[nation_top[rows_ok]] = True
    # one dataset to another: pairs of datasets hiding the same value, in every stratum
    rows = np.flatnonzero(hidden & ~layout.nation & ~layout.overall)
    n_v = int(layout.value.max()) + 1
    column = _dense((layout.allele[rows], n_a), (layout.stratum[rows], n_t), (layout.value[rows], n_v))
    rows = rows[np.lexsort((layout.scope[rows], column))]
    column = np.sort(column)
    firsts, seconds = [], []
    for gap in range(1, len(rows)):
        same = np.flatnonzero(column[gap:] == column[:-gap])
        if not len(same):
            break
        firsts.append(rows[same])
        seconds.append(rows[same + gap])
    if firsts:
        r1, r2 = np.concatenate(firsts), np.concatenate(seconds)
        pair = _dense((layout.allele[r1], n_a), (layout.scope[r1], n_s), (layout.scope[r2], n_s))
        pair_stratum = _distinct(pair * n_t + layout.stratum[r1])
        pairs, n_hit = np.unique(pair_stratum // n_t, return_counts=True)
        allele_of = pairs // (n_s * n_s)
        top1 = _top_of(layout, allele_of, pairs // n_s % n_s)
        top2 = _top_of(layout, allele_of, pairs % n_s)
        ok = (n_hit == layout.n_strata[allele_of]) & (top1 >= 0) & (top2 >= 0)
        ok[ok] &= hidden[top1[ok]] & hidden[top2[ok]]
        linked = np.isin(pair, pairs[ok])
        out[r1[linked]] = out[r2[linked]] = True
        out[top1[ok]] = out[top2[ok]] = True
        # a rectangle: two datasets swapping two people between two values of a stratum
        _, inverse, counts = np.unique(pair * n_t + layout.stratum[r1], return_inverse=True, return_counts=True)
        swapped = counts[inverse.reshape(-1)] >= 2
        out[r1[swapped]] = out[r2[swapped]] = True
    return out


def _nation_code(layout: _Layout) -> int:
    codes = layout.scope[layout.nation]
    return int(codes[0]) if len(codes) else -1


def _top_of(layout: _Layout, allele: Ints, scope: Ints) -> Ints:
    """The 'all' row of each (allele, scope), or -1."""
    n_s = int(layout.scope.max()) + 1
    tops = np.flatnonzero(layout.overall)
    keys = _dense((layout.allele[tops], layout.n_alleles), (layout.scope[tops], n_s))
    order = np.argsort(keys)
    at, found = _lookup(keys[order], _dense((allele, layout.n_alleles), (np.maximum(scope, 0), n_s)))
    return np.where(found & (scope >= 0), tops[order][at] if len(tops) else -1, -1)


def _determined_alleles(layout: _Layout, count: Ints, hidden: Bools, small: Bools, active: Bools) -> Ints:
    """The active alleles with a small hidden count that the equations determine (step 3's test).

    The hidden cells fall into components (cells joined by sharing an equation), and the system
    splits along them. A component whose hidden counts balance each of its equations needs no test
    (the counts are a null vector). The rest are numbered by kind (scope, stratum, value), so alike
    components share one matrix: each distinct one is decomposed once, in batches of one size.
    """
    members = np.flatnonzero(active[layout.m_allele] & hidden[layout.m_row])
    if not len(members):
        return np.empty(0, np.int64)
    m_rows, m_eqs, parent = layout.m_row[members], layout.m_eq[members], layout.m_parent[members]
    rows, r_of = np.unique(m_rows, return_inverse=True)
    eqs, e_of = np.unique(m_eqs, return_inverse=True)
    r_of, e_of = r_of.reshape(-1), e_of.reshape(-1)
    residual = np.bincount(e_of, weights=np.where(parent, 1.0, -1.0) * count[m_rows], minlength=len(eqs))
    label = np.arange(len(rows))
    while True:  # components: the least row number spreads through shared equations
        eq_label = np.full(len(eqs), len(rows))
        np.minimum.at(eq_label, e_of, label[r_of])
        spread = label.copy()
        np.minimum.at(spread, r_of, eq_label[e_of])
        spread = spread[spread]
        if np.array_equal(spread, label):
            break
        label = spread
    tested = np.zeros(len(rows), np.bool_)
    tested[eq_label[residual != 0]] = True
    has_small = np.zeros(len(rows), np.bool_)
    has_small[label[small[rows] & ~_certified(layout, hidden & active[layout.allele])[rows]]] = True
    tested &= has_small
    if not tested.any():
        return np.empty(0, np.int64)
    # rows and equations of the tested components, numbered within their component by kind
    tr = np.flatnonzero(tested[label])
    tr = tr[np.lexsort((layout.cell_kind[rows[tr]], label[tr]))]
    local_row = np.full(len(rows), -1, np.int64)
    local_row[tr] = np.arange(len(tr)) - np.searchsorted(label[tr], label[tr])
    te = np.flatnonzero(tested[eq_label])
    te = te[np.lexsort((layout.eq_kind[eqs[te]], eq_label[te]))]
    local_eq = np.full(len(eqs), -1, np.int64)
    local_eq[te] = np.arange(len(te)) - np.searchsorted(eq_label[te], eq_label[te])
    comps = _distinct(label[tr])
    slot = np.full(len(rows), -1, np.int64)
    slot[comps] = np.arange(len(comps))
    n_rows = np.bincount(slot[label[tr]], minlength=len(comps))
    n_eqs = np.bincount(slot[eq_label[te]], minlength=len(comps))
    # each component's matrix as a row of codes (equation, cell, sign); the distinct ones
    km = np.flatnonzero(tested[label[r_of]])
    width = int(n_rows.max())
    code = (local_eq[e_of[km]] * width + local_row[r_of[km]]) * 2 + parent[km]
    comp = slot[label[r_of[km]]]
    order = np.lexsort((code, comp))
    code, comp = code[order], comp[order]
    n_members = np.bincount(comp, minlength=len(comps))
    codes = np.full((len(comps), int(n_members.max()) + 2), -1, np.int64)
    codes[:, 0], codes[:, 1] = n_rows, n_eqs
    codes[comp, 2 + np.arange(len(code)) - np.searchsorted(comp, comp)] = code
    _, first, pattern = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    determined = np.zeros((len(first), width), np.bool_)
    shapes = np.stack([n_eqs[first], n_rows[first]], axis=1)
    for n_e, n_r in np.unique(shapes, axis=0):
        alike = np.flatnonzero((shapes[:, 0] == n_e) & (shapes[:, 1] == n_r))
        for start in range(0, len(alike), _BATCH):
            group = alike[start : start + _BATCH]
            matrices = np.zeros((len(group), n_e, n_r))
            cells = codes[first[group], 2:]
            b, k = np.nonzero(cells >= 0)
            cell = cells[b, k]
            matrices[b, cell // 2 // width, cell // 2 % width] = np.where(cell % 2 == 1, 1.0, -1.0)
            determined[group, :n_r] = _determined(matrices)
    hit = determined[pattern.reshape(-1)[slot[label[tr]]], local_row[tr]] & small[rows[tr]]
    return _distinct(layout.allele[rows[tr[hit]]])


def _repair(layout: _Layout, count: Ints, hidden: Bools, small: Bools, allele: int) -> None:
    """Hide more cells of one allele, greedily, until none of its small counts is determined (in place)."""
    by_allele, bounds = layout.rows_by_allele
    rows = np.sort(by_allele[bounds[allele] : bounds[allele + 1]])
    by_allele, bounds = layout.members_by_allele
    members = by_allele[bounds[allele] : bounds[allele + 1]]
    eqs, eq_local = np.unique(layout.m_eq[members], return_inverse=True)
    matrix = np.zeros((len(eqs), len(rows)))
    matrix[eq_local.reshape(-1), np.searchsorted(rows, layout.m_row[members])] = np.where(
        layout.m_parent[members], 1.0, -1.0
    )
    touches = np.abs(matrix) > 0
    value, mask, is_small = count[rows], hidden[rows].copy(), small[rows]
    open_ = (value > 0) & ~layout.fixed[rows]
    while True:
        shown = np.flatnonzero(mask)
        if not (_determined(matrix[:, shown])[is_small[shown]]).any():
            break
        # a cell that shares no equation with a hidden one cannot help
        near = touches[touches[:, mask].any(axis=1)].any(axis=0)
        candidates = np.flatnonzero(~mask & open_ & near)
        if not len(candidates):
            break  # only with counts that do not add up: nothing left to hide
        columns = np.concatenate([np.tile(shown, (len(candidates), 1)), candidates[:, None]], axis=1)
        trials = np.moveaxis(matrix[:, columns], 0, 1)
        left = (_determined(trials) & np.r_[is_small[shown], False][None]).sum(axis=1)
        best = np.lexsort((candidates, value[candidates], left))[0]
        mask[candidates[best]] = True
    hidden[rows] = mask
