"""Build the store's per-file tables from one VCF's records (the "build" of parse → build → load).

For every normalised allele we keep what AN needs, exactly as `bcftools norm -m- | +fill-tags`
counts it on a joint call set: at a record, the called alleles of each call group; away from a
record, the group's *coverage*. A variant-only VCF covers each chromosome it has records on (a
person without a record there is hom-ref, at the ploidy they show elsewhere on that chromosome); a
gVCF or all-sites VCF covers only its reference blocks and records (absence is unknown). Per-sample
work is vectorised with numpy over the samples of a record; the loop is over records and alleles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.domain.assembly import PAR_REGIONS, Assembly, canonical_contig, contig_lengths
from genomenode.domain.ploidy import expected_ploidy
from genomenode.domain.samples import Sex
from genomenode.errors import ReferenceMismatchError
from genomenode.ingest import build_kernels as K
from genomenode.ingest.normalize import Fetch, left_align, trim
from genomenode.ingest.regions import Intervals, intersect
from genomenode.ingest.vcf import NON_VARIANT_ALLELES, VcfHeader, VcfRecord, format_as_int

IntArray = npt.NDArray[np.int64]
CHUNK_RECORDS = 1024  # records counted together; bounds memory at CHUNK × samples × 2 int16


@dataclass(frozen=True)
class FileLayout:
    """What the builder needs to know about a file's samples, with ids issued by the catalog."""

    file_id: int
    assembly: Assembly
    sample_ids: npt.NDArray[np.int32]  # catalog id per VCF column
    group_of_sample: npt.NDArray[np.int32]  # index into group_ids per VCF column
    group_ids: npt.NDArray[np.int32]
    sexes: Sequence[Sex]
    gvcf_hint: bool = False
    callable_regions: Intervals | None = None  # BED: outside it a variant-only file says nothing


@dataclass
class ChromTables:
    chrom: str
    variants: pa.Table
    calls: pa.Table
    site_counts: pa.Table
    coverage: pa.Table


@dataclass
class BuildReport:
    records: int = 0
    alleles: int = 0
    reference_blocks: int = 0
    skipped_contigs: dict[str, int] = field(default_factory=dict)
    duplicate_alleles: int = 0
    non_variant_alleles: int = 0
    is_gvcf: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def merge(cls, reports: Sequence[BuildReport]) -> BuildReport:
        """One file's report from the reports of the pieces it was built in."""
        out = cls()
        for r in reports:
            out.records += r.records
            out.alleles += r.alleles
            out.reference_blocks += r.reference_blocks
            out.duplicate_alleles += r.duplicate_alleles
            out.non_variant_alleles += r.non_variant_alleles
            out.is_gvcf = out.is_gvcf or r.is_gvcf
            for contig, n in r.skipped_contigs.items():
                out.skipped_contigs[contig] = out.skipped_contigs.get(contig, 0) + n
        return out


class _Columns:
    """Column buffers for one chromosome; numpy pieces are concatenated once at the end."""

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = {}

    def add(self, **cols: Any) -> None:
        for name, value in cols.items():
            self.data.setdefault(name, []).append(value)

    def column(self, name: str) -> Any:
        parts = self.data.get(name, [])
        if parts and isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return parts


def _info_for_allele(info: dict[str, Any], types: dict[str, tuple[str, str]], k: int, n_alts: int) -> str | None:
    """INFO as JSON with Number=A fields cut to ALT k and Number=R to (REF, ALT k); END is structural."""
    if not info:
        return None
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key == "END":
            continue
        number = types.get(key, (".", ""))[0]
        if isinstance(value, tuple | list):
            values = list(value)
            if number == "A" and len(values) == n_alts:
                value = values[k - 1]
            elif number == "R" and len(values) == n_alts + 1:
                value = [values[0], values[k]]
            else:
                value = values
        elif number == "A" and n_alts > 1 and isinstance(value, str) and value.count(",") == n_alts - 1:
            value = value.split(",")[k - 1]
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return json.dumps(out, separators=(",", ":"), default=str)


class FileBuilder:
    """Consumes one file's records, yields its tables chromosome by chromosome."""

    def __init__(self, header: VcfHeader, layout: FileLayout, *, fetch: Fetch | None = None) -> None:
        self.header = header
        self.layout = layout
        self.fetch = fetch
        self.report = BuildReport(is_gvcf=layout.gvcf_hint)
        self.n_groups = len(layout.group_ids)
        self._header_lengths = {canonical_contig(n): ln for n, ln in header.contigs if ln}
        # samples × groups indicator: per-group sums of any per-sample quantity are one matmul
        self._onehot = np.zeros((len(layout.sample_ids), self.n_groups), np.float64)
        self._onehot[np.arange(len(layout.sample_ids)), layout.group_of_sample] = 1.0

    def build(
        self, records: Iterable[VcfRecord], *, on_record: Callable[[VcfRecord], None] | None = None
    ) -> Iterator[ChromTables]:
        current: str | None = None
        state: _ChromState | None = None
        chunk: list[VcfRecord] = []
        for rec in records:
            self.report.records += 1
            chrom = canonical_contig(rec.chrom)
            if chrom is None:
                self.report.skipped_contigs[rec.chrom] = self.report.skipped_contigs.get(rec.chrom, 0) + 1
                continue
            if chrom != current:
                if state is not None:
                    self._add_chunk(state, chunk)
                    chunk = []
                    yield self._finish(state)
                current, state = chrom, _ChromState(chrom, len(self.layout.sample_ids))
            chunk.append(rec)
            if len(chunk) >= CHUNK_RECORDS:
                assert state is not None
                self._add_chunk(state, chunk)
                chunk = []
            if on_record is not None:
                on_record(rec)
        if state is not None:
            self._add_chunk(state, chunk)
            yield self._finish(state)

    # -- per chunk of records ---------------------------------------------------------------
    def _add_chunk(self, st: _ChromState, records: list[VcfRecord]) -> None:
        """Count a chunk of records as one set of array operations: one item per real ALT (a
        multi-allelic record is several items), or one for a record without a variant (a block)."""
        if not records:
            return
        chrom = st.chrom
        if self.fetch is not None:
            for rec in records:
                self._check_ref(chrom, rec)
        items: list[tuple[VcfRecord, int]] = []
        for rec in records:
            real = [k for k, a in enumerate(rec.alts, start=1) if a not in NON_VARIANT_ALLELES]
            self.report.non_variant_alleles += len(rec.alts) - len(real)
            items += [(rec, k) for k in real] or [(rec, 0)]
        self._add_items(st, chrom, items)

    def _check_ref(self, chrom: str, rec: VcfRecord) -> None:
        assert self.fetch is not None
        if rec.ref.startswith("<"):
            return
        expected = self.fetch(chrom, rec.pos, rec.pos + len(rec.ref) - 1)
        if expected.upper() != rec.ref.upper() and "N" not in expected.upper():
            raise ReferenceMismatchError(
                f"{self.header.path}: {rec.where}: REF {rec.ref} but the reference has {expected or 'nothing'} "
                "there; was the file called against another reference? check --reference"
            )

    def _normalise(self, chrom: str, rec: VcfRecord, alt: str) -> tuple[int, str, str]:
        if self.fetch is not None:
            return left_align(chrom, rec.pos, rec.ref.upper(), alt.upper(), self.fetch)
        return trim(rec.pos, rec.ref.upper(), alt.upper())

    def _add_items(self, st: _ChromState, chrom: str, items: list[tuple[VcfRecord, int]]) -> None:
        """Every count of every (record, ALT) item is one array operation over items × samples."""
        recs = [r for r, _ in items]
        n = len(self.layout.sample_ids)
        gt = K.stack_genotypes([r.gt for r in recs], width=max(2, max(r.gt.shape[1] for r in recs)))
        called, ploidy = K.called_and_ploidy(gt)
        group_called = K.group_sums(called, self._onehot)
        # a record's span and ploidy count once, however many ALTs it has
        first = np.array([i == 0 or recs[i] is not recs[i - 1] for i in range(len(recs))])
        self._vote_ploidy(st, chrom, [r for r, f in zip(recs, first, strict=True) if f], called[first], ploidy[first])
        st.spans.add(
            start=np.array([r.pos for r, f in zip(recs, first, strict=True) if f], np.int64),
            end=np.array([r.end for r, f in zip(recs, first, strict=True) if f], np.int64),
            an=group_called[first],
        )
        k = np.array([kk for _, kk in items], np.int64)
        is_variant = k > 0
        self.report.reference_blocks += int((~is_variant).sum())
        if not is_variant.all():
            self.report.is_gvcf = True
        # normalise and de-duplicate alleles (a Python step per record: strings, not genotypes)
        keep = np.zeros(len(recs), np.bool_)
        keys: list[tuple[int, str, str]] = []
        for i, (rec, kk) in enumerate(items):
            if not kk:
                keys.append((0, "", ""))
                continue
            key = self._normalise(chrom, rec, rec.alts[kk - 1])
            keys.append(key)
            if key in st.seen:
                self.report.duplicate_alleles += 1
                continue
            st.seen.add(key)
            keep[i] = True
        idx = np.flatnonzero(keep)
        if not idx.size:
            return
        self.report.alleles += int(idx.size)
        gt_v, k_v, ploidy_v = gt[idx], k[idx], ploidy[idx]
        ac, hom, hemi = K.allele_counts(gt_v, k_v, ploidy_v)
        g = self.n_groups
        kept = [items[i] for i in idx]
        kept_keys = [keys[i] for i in idx]
        allele_ids = np.arange(st.n_alleles, st.n_alleles + idx.size, dtype=np.int32)  # = variants row
        st.n_alleles += int(idx.size)
        st.sites.add(
            group=np.tile(self.layout.group_ids.astype(np.int32), idx.size),
            pos=np.repeat(np.array([kk[0] for kk in kept_keys], np.int32), g),
            allele=np.repeat(allele_ids, g),
            an=group_called[idx].reshape(-1),
            ac=K.group_sums(ac, self._onehot).reshape(-1),
            hom=K.group_sums(hom, self._onehot).reshape(-1),
            hemi=K.group_sums(hemi, self._onehot).reshape(-1),
            pass_filter=np.repeat(np.array([r.filters in ("PASS", ".") for r, _ in kept]), g),
        )
        for (rec, kk), (pos, ref, alt) in zip(kept, kept_keys, strict=True):
            self._add_variant_row(st, rec, kk, pos, ref, alt)
        r, s, codes = K.sparse_calls(gt_v, k_v)
        if not r.size:
            return
        recs_v = [rec for rec, _ in kept]
        dp = K.stack_format([x.dp for x in recs_v], n, [[0]] * len(recs_v))
        gq = K.stack_format([x.gq for x in recs_v], n, [[0]] * len(recs_v))
        ad = K.stack_format([x.ad for x in recs_v], n, [[0, int(kk)] for kk in k_v])
        m = r.size
        key_pos = np.array([kk[0] for kk in kept_keys], np.int32)
        st.calls.add(
            sample=self.layout.sample_ids[s],
            pos=key_pos[r],
            allele=allele_ids[r],
            a1=codes[:, 0],
            a2=codes[:, 1],
            phased=_gather_phased(recs_v, r, s),
            dp=format_as_int(dp[r, s, 0]) if dp is not None else np.full(m, -1, np.int32),
            gq=np.minimum(format_as_int(gq[r, s, 0]), 32767).astype(np.int16)
            if gq is not None
            else np.full(m, -1, np.int16),
            ad_ref=format_as_int(ad[r, s, 0]) if ad is not None else np.full(m, -1, np.int32),
            ad_alt=format_as_int(ad[r, s, 1]) if ad is not None else np.full(m, -1, np.int32),
        )

    def _vote_ploidy(self, st: _ChromState, chrom: str, recs: list[VcfRecord], called: Any, ploidy: Any) -> None:
        """On X and Y, remember the ploidy each sample shows in and out of the PAR (see sample_ploidy)."""
        if chrom not in ("chrX", "chrY"):
            return
        pars = PAR_REGIONS[self.layout.assembly].get(chrom, ())
        in_par = np.array([any(lo <= r.pos <= hi for lo, hi in pars) for r in recs])
        shown = called > 0
        for par in (False, True):
            rows = in_par == par
            if rows.any():
                st.votes[par][:, 0] += (shown[rows] & (ploidy[rows] == 1)).sum(axis=0)
                st.votes[par][:, 1] += (shown[rows] & (ploidy[rows] >= 2)).sum(axis=0)

    def _add_variant_row(self, st: _ChromState, rec: VcfRecord, k: int, pos: int, ref: str, alt: str) -> None:
        st.variants.add(
            pos=pos,
            ref=ref,
            alt=alt,
            rsid=rec.id,
            qual=rec.qual,
            filter=rec.filters,
            info=_info_for_allele(rec.info, self.header.info_types, k, len(rec.alts)),
            source_pos=rec.pos,
            source_ref=rec.ref,
            source_alts=",".join(rec.alts),
            source_allele=k,
        )

    # -- per chromosome ---------------------------------------------------------------------
    def _finish(self, st: _ChromState) -> ChromTables:
        chrom = st.chrom
        fid = self.layout.file_id
        v = st.variants
        refs = pa.array(v.column("ref") if v.data else [], pa.string())
        alts = pa.array(v.column("alt") if v.data else [], pa.string())
        variants = pa.table(
            {
                "file_id": pa.array(np.full(len(v.column("pos")), fid, np.int32)),
                "chrom": pa.array([chrom] * len(v.column("pos"))),
                "pos": pa.array(v.column("pos"), pa.int32()),
                "ref": v.column("ref"),
                "alt": v.column("alt"),
                "variant_rsid": [r if r and r != "." else None for r in v.column("rsid")],
                "variant_qual": pa.array(v.column("qual"), pa.float32()),
                "variant_filter": v.column("filter"),
                "variant_info": v.column("info"),
                "source_pos": pa.array(v.column("source_pos"), pa.int32()),
                "source_ref": v.column("source_ref"),
                "source_alts": v.column("source_alts"),
                "source_allele": pa.array(v.column("source_allele"), pa.int8()),
            }
        )
        c = st.calls
        n_calls = len(c.column("pos"))
        calls = pa.table(
            {
                "sample": pa.array(c.column("sample") if n_calls else [], pa.int32()),
                "file_id": pa.array(np.full(n_calls, fid, np.int32)),
                "chrom": pa.array([chrom] * n_calls),
                "pos": pa.array(c.column("pos") if n_calls else [], pa.int32()),
                "ref": _allele_column(c, "allele", refs),
                "alt": _allele_column(c, "allele", alts),
                "call_allele1": pa.array(c.column("a1") if n_calls else [], pa.int8()),
                "call_allele2": pa.array(c.column("a2") if n_calls else [], pa.int8()),
                "call_phased": pa.array(c.column("phased") if n_calls else [], pa.bool_()),
                "call_dp": pa.array(c.column("dp") if n_calls else [], pa.int32()),
                "call_gq": pa.array(c.column("gq") if n_calls else [], pa.int16()),
                "call_ad_ref": pa.array(c.column("ad_ref") if n_calls else [], pa.int32()),
                "call_ad_alt": pa.array(c.column("ad_alt") if n_calls else [], pa.int32()),
            }
        )
        s = st.sites
        n_sites = len(s.column("pos")) if s.data else 0
        site_counts = pa.table(
            {
                "group_id": pa.array(s.column("group") if n_sites else [], pa.int32()),
                "chrom": pa.array([chrom] * n_sites),
                "pos": pa.array(s.column("pos") if n_sites else [], pa.int32()),
                "ref": _allele_column(s, "allele", refs),
                "alt": _allele_column(s, "allele", alts),
                "an": pa.array(s.column("an") if n_sites else [], pa.int32()),
                "ac": pa.array(s.column("ac") if n_sites else [], pa.int32()),
                "hom": pa.array(s.column("hom") if n_sites else [], pa.int32()),
                "hemi": pa.array(s.column("hemi") if n_sites else [], pa.int32()),
                "pass_filter": pa.array(s.column("pass_filter") if n_sites else [], pa.bool_()),
            }
        )
        return ChromTables(
            chrom,
            _by_position(variants),
            _by_position(calls),
            _by_position(site_counts),
            self._coverage(st),
        )

    def _coverage(self, st: _ChromState) -> pa.Table:
        """Where absence means hom-ref, with the alleles each group calls there."""
        chrom = st.chrom
        if self.report.is_gvcf:
            starts = st.spans.column("start").astype(np.int32) if st.spans.data else np.zeros(0, np.int32)
            ends = st.spans.column("end").astype(np.int32) if st.spans.data else np.zeros(0, np.int32)
            an = st.spans.column("an") if st.spans.data else np.zeros((0, self.n_groups), np.int32)
            rows_g, rows_s, rows_e, rows_a = [], [], [], []
            for gi, gid in enumerate(self.layout.group_ids):
                keep = an[:, gi] > 0
                rows_g.append(np.full(int(keep.sum()), gid, np.int32))
                rows_s.append(starts[keep])
                rows_e.append(ends[keep])
                rows_a.append(an[keep, gi].astype(np.int32))
            return _coverage_table(chrom, rows_g, rows_s, rows_e, rows_a)
        length = self._header_lengths.get(chrom) or contig_lengths(self.layout.assembly).get(chrom)
        if length is None:
            length = int(st.spans.column("end").max())
        segments = _ploidy_segments(self.layout.assembly, chrom, length)
        if self.layout.callable_regions is not None:
            spans = self.layout.callable_regions.get(chrom, [])
            segments = [(s, e, par) for start, end, par in segments for s, e in intersect(start, end, spans)]
        rows_g, rows_s, rows_e, rows_a = [], [], [], []
        for start, end, par in segments:
            ploidy = st.sample_ploidy(chrom, par, self.layout)
            per_group = np.bincount(self.layout.group_of_sample, weights=ploidy, minlength=self.n_groups).astype(
                np.int32
            )
            keep = per_group > 0
            rows_g.append(self.layout.group_ids[keep].astype(np.int32))
            rows_s.append(np.full(int(keep.sum()), start, np.int32))
            rows_e.append(np.full(int(keep.sum()), end, np.int32))
            rows_a.append(per_group[keep])
        return _coverage_table(chrom, rows_g, rows_s, rows_e, rows_a)


def _gather_phased(recs: list[VcfRecord], r: Any, s: Any) -> npt.NDArray[np.bool_]:
    phased = np.stack([x.phased for x in recs])
    return np.asarray(phased[r, s], dtype=np.bool_)


def _allele_column(columns: _Columns, name: str, dictionary: pa.Array) -> pa.DictionaryArray:
    """REF or ALT of each row as a dictionary over the chromosome's alleles: no string per call."""
    index = columns.column(name) if columns.data else np.zeros(0, np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), dictionary)


def _by_position(table: pa.Table) -> pa.Table:
    """Rows come in file order, already sorted unless normalisation moved a POS; sort only then."""
    pos = table["pos"].to_numpy()
    if pos.size < 2 or bool(np.all(pos[1:] >= pos[:-1])):
        return table
    return table.take(np.argsort(pos, kind="stable"))


def _coverage_table(chrom: str, g: list[Any], s: list[Any], e: list[Any], a: list[Any]) -> pa.Table:
    group = np.concatenate(g) if g else np.zeros(0, np.int32)
    return pa.table(
        {
            "group_id": pa.array(group, pa.int32()),
            "chrom": pa.array([chrom] * len(group)),
            "start": pa.array(np.concatenate(s) if s else [], pa.int32()),
            "end": pa.array(np.concatenate(e) if e else [], pa.int32()),
            "an": pa.array(np.concatenate(a) if a else [], pa.int32()),
        }
    ).sort_by([("start", "ascending"), ("group_id", "ascending")])


def _ploidy_segments(assembly: Assembly, chrom: str, length: int) -> list[tuple[int, int, bool]]:
    """Split a chromosome into (start, end, is_par) so males get the right ploidy on X and Y."""
    pars = sorted(PAR_REGIONS[assembly].get(chrom, ()))
    segments: list[tuple[int, int, bool]] = []
    cursor = 1
    for lo, hi in pars:
        if lo > length:
            break
        if lo > cursor:
            segments.append((cursor, lo - 1, False))
        segments.append((lo, min(hi, length), True))
        cursor = hi + 1
    if cursor <= length:
        segments.append((cursor, length, False))
    return segments


class _ChromState:
    def __init__(self, chrom: str, n_samples: int) -> None:
        self.chrom = chrom
        self.variants = _Columns()
        self.calls = _Columns()
        self.sites = _Columns()
        self.spans = _Columns()
        self.seen: set[tuple[int, str, str]] = set()
        self.n_alleles = 0  # alleles (variants rows) so far: calls and sites refer to them by index
        # observed ploidy votes per (is_par): [haploid, diploid] counts per sample
        self.votes = {False: np.zeros((n_samples, 2), np.int64), True: np.zeros((n_samples, 2), np.int64)}

    def region_class_seen(self, chrom: str, pos: int, assembly: Assembly, called: Any, ploidy: Any) -> None:
        par = any(lo <= pos <= hi for lo, hi in PAR_REGIONS[assembly].get(chrom, ()))
        v = self.votes[par]
        v[:, 0] += called & (ploidy == 1)
        v[:, 1] += called & (ploidy >= 2)

    def sample_ploidy(self, chrom: str, par: bool, layout: FileLayout) -> IntArray:
        """Ploidy each sample shows in this region class; the sex model where it showed none."""
        v = self.votes[par]
        observed = np.where(v[:, 0] > v[:, 1], 1, 2)
        seen = (v[:, 0] + v[:, 1]) > 0
        probe = (
            PAR_REGIONS[layout.assembly].get(chrom, ((1, 1),))[0][0] if par else _non_par_probe(layout.assembly, chrom)
        )
        model = np.array(
            [
                expected_ploidy(layout.assembly, chrom, probe, s) if s is not Sex.UNKNOWN or chrom != "chrY" else 0
                for s in layout.sexes
            ],
            np.int64,
        )
        return np.where(seen, observed, model)


def _non_par_probe(assembly: Assembly, chrom: str) -> int:
    pars = PAR_REGIONS[assembly].get(chrom)
    return pars[0][1] + 1 if pars else 1
