"""Normalisation against its definition: the same haplotype, written the one parsimonious, leftmost way."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from genomenode.ingest.normalize import left_align, trim


def _apply(seq: str, pos: int, ref: str, alt: str) -> str:
    assert seq[pos - 1 : pos - 1 + len(ref)] == ref
    return seq[: pos - 1] + alt + seq[pos - 1 + len(ref) :]


def test_trim__shared_suffix_then_prefix_keeps_one_base() -> None:
    assert trim(100, "CTT", "CT") == (100, "CT", "C")
    assert trim(100, "GATC", "GACC") == (102, "T", "C")
    assert trim(100, "ATG", "ACG") == (101, "T", "C")
    assert trim(100, "A", "G") == (100, "A", "G")


def test_trim__symbolic_alleles_are_left_alone() -> None:
    assert trim(100, "A", "<DEL>") == (100, "A", "<DEL>")


def test_left_align__deletion_in_a_repeat_moves_to_its_start() -> None:
    seq = "GCACACACAT"
    fetch = lambda chrom, start, end: seq[start - 1 : end]  # noqa: E731
    # deleting one CA anywhere in the repeat is the same haplotype; leftmost is pos 1 (GCA>G)
    assert left_align("chr1", 7, "ACA", "A", fetch) == (1, "GCA", "G")
    assert left_align("chr1", 1, "GCA", "G", fetch) == (1, "GCA", "G")


def test_left_align__insertion_in_a_homopolymer() -> None:
    seq = "TAAAAC"
    fetch = lambda chrom, start, end: seq[start - 1 : end]  # noqa: E731
    assert left_align("chr1", 5, "A", "AA", fetch) == (1, "T", "TA")


_bases = st.text(alphabet="ACGT", min_size=12, max_size=40)


@given(seq=_bases, data=st.data())
def test_left_align__keeps_the_haplotype_and_is_idempotent(seq: str, data: st.DataObject) -> None:
    fetch = lambda chrom, start, end: seq[start - 1 : end]  # noqa: E731
    pos = data.draw(st.integers(2, len(seq) - 3))
    length = data.draw(st.integers(1, 3))
    ref = seq[pos - 1 : pos - 1 + length]
    alt = data.draw(st.sampled_from([ref[0], ref + data.draw(st.text(alphabet="ACGT", min_size=1, max_size=3))]))
    if alt == ref:
        return
    npos, nref, nalt = left_align("chr1", pos, ref, alt, fetch)
    assert _apply(seq, npos, nref, nalt) == _apply(seq, pos, ref, alt)
    assert left_align("chr1", npos, nref, nalt, fetch) == (npos, nref, nalt)
    # parsimonious: one anchor base at most, and no shared last base left to shift through
    assert min(len(nref), len(nalt)) == 1 or nref[0] != nalt[0]
    assert nref[-1] != nalt[-1] or (min(len(nref), len(nalt)) == 1 and npos == 1)
