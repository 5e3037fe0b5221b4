"""The edge where genomenode reads VCF, bgzipped VCF and BCF through htslib (cyvcf2); its twin
`vcf_writer.py` writes them (for the synthetic cohort). No other module imports cyvcf2.

Everything past this module sees plain Python values and numpy arrays. cyvcf2 raises bare
`Exception`/`OSError` with htslib's wording; here they become `VcfFormatError` naming the file and
the record (contig:position and record number), so a bioinformatician can open the file at the spot.
Sorting is checked here too, because only the reader sees records in file order.
"""

from __future__ import annotations

import gzip
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cyvcf2
import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import canonical_contig
from genomenode.domain.observed import ObservedGenotype
from genomenode.errors import UnsortedVcfError, VcfFormatError

# Alleles that are not variants: the spanning deletion and gVCF's reference-block placeholders.
NON_VARIANT_ALLELES = frozenset({"*", "<NON_REF>", "<*>", "."})

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_INT32_MISSING = np.iinfo(np.int32).min  # htslib's missing value; MIN+1 is "vector end"
_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class VcfHeader:
    path: Path
    samples: tuple[str, ...]
    contigs: tuple[tuple[str, int | None], ...]
    reference: str | None
    info_types: dict[str, tuple[str, str]]  # id → (Number, Type)
    format_ids: frozenset[str]
    # id → Description: what VEP CSQ, bcftools BCSQ and snpEff ANN say their fields are
    info_descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(self.samples)


@dataclass
class VcfRecord:
    """One record in file order, with its per-sample arrays (samples × ploidy)."""

    index: int  # 1-based record number in the file
    chrom: str
    pos: int
    end: int  # INFO/END for reference blocks, else POS + len(REF) - 1
    id: str | None
    ref: str
    alts: list[str]
    qual: float | None
    filters: str  # "PASS", "." or ";"-joined failed filters
    info: dict[str, Any]
    gt: npt.NDArray[np.int16]  # allele index, -1 missing, -2 absent (lower ploidy)
    phased: npt.NDArray[np.bool_]
    # raw htslib arrays (samples × values, sentinels for missing): see format_as_int
    dp: npt.NDArray[Any] | None = None
    gq: npt.NDArray[Any] | None = None
    ad: npt.NDArray[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"record {self.index} ({self.chrom}:{self.pos})"


def _check_compression(path: Path) -> None:
    """Refuse a truncated BGZF file up front: htslib would only notice at the last block."""
    with path.open("rb") as fh:
        magic = fh.read(4)
        if magic[:2] != b"\x1f\x8b":
            return
        is_bgzf = magic[3:4] == b"\x04"
        if is_bgzf:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - len(_BGZF_EOF)))
            if fh.read() != _BGZF_EOF:
                raise VcfFormatError(
                    f"{path}: truncated: the BGZF end-of-file block is missing; "
                    "the file was cut short in transfer, send it again"
                )
    if not is_bgzf:
        try:
            with gzip.open(path, "rb") as gz:
                while gz.read(1 << 20):
                    pass
        except (OSError, EOFError) as exc:
            raise VcfFormatError(f"{path}: truncated or corrupt gzip ({exc}); send the file again") from exc


def read_header(path: Path) -> VcfHeader:
    """Open just enough of the file to know its samples, contigs and fields."""
    vcf = _open(path)
    try:
        return _header(path, vcf)
    finally:
        vcf.close()


def _open(path: Path, *, threads: int = 2) -> Any:
    if not path.exists():
        raise VcfFormatError(f"{path}: no such file")
    _check_compression(path)
    try:
        vcf = cyvcf2.VCF(str(path), lazy=True, threads=threads)
    except OSError as exc:
        raise VcfFormatError(f"{path}: not a VCF or BCF file ({exc})") from exc
    except Exception as exc:  # cyvcf2 raises bare Exception for header errors
        duplicates = _duplicate_samples_in_text(path)
        if duplicates:
            raise VcfFormatError(
                f"{path}: duplicate sample ids in the #CHROM line: {', '.join(duplicates)}; "
                "each column needs its own id"
            ) from exc
        raise VcfFormatError(
            f"{path}: cannot parse the VCF header ({exc}); a VCF must start with ##fileformat "
            "and end its header with the #CHROM line"
        ) from exc
    if "#CHROM" not in vcf.raw_header:
        vcf.close()
        raise VcfFormatError(f"{path}: header has no #CHROM line; the column header line is required")
    return vcf


def _text_lines(path: Path) -> Iterator[bytes]:
    """Raw lines of a plain or gzipped text VCF (for diagnostics htslib does not give); none for BCF."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        head = fh.read(3)
        if head == b"BCF":
            return
        pending = head
        for block in iter(lambda: fh.read(1 << 22), b""):
            lines = (pending + block).split(b"\n")
            pending = lines.pop()
            yield from lines
        if pending:
            yield pending


def _duplicate_samples_in_text(path: Path) -> list[str]:
    try:
        for line in _text_lines(path):
            if line.startswith(b"#CHROM"):
                names = line.decode(errors="replace").rstrip("\r").split("\t")[9:]
                return sorted({n for n in names if names.count(n) > 1})
            if not line.startswith(b"#"):
                break
    except (OSError, EOFError):
        pass
    return []


def check_columns(path: Path, n_samples: int) -> str | None:
    """The first data line whose column count is not 8 (+ FORMAT + one per sample), as a message.

    htslib rejects too few sample columns but silently drops extra ones, so this scan (run beside
    the parse, on another core) catches both for text VCFs; BCF has no columns to miscount.
    """
    expected = 8 if n_samples == 0 else 9 + n_samples
    line_no = 0
    for line in _text_lines(path):
        line_no += 1
        if not line or line.startswith(b"#"):
            continue
        columns = line.count(b"\t") + 1
        if columns != expected and not (n_samples == 0 and columns == 9):
            where = line[: line.find(b"\t", line.find(b"\t") + 1)].decode(errors="replace").replace("\t", ":")
            return (
                f"{path}: line {line_no} ({where}): {columns} columns, expected {expected} "
                f"(8 fixed + FORMAT + {n_samples} samples); fix the record or re-export the file"
            )
    return None


def _header(path: Path, vcf: Any) -> VcfHeader:
    try:
        lengths = [int(x) if x and x > 0 else None for x in vcf.seqlens]
    except Exception:  # no ##contig lines: htslib has no lengths to give
        lengths = []
    contigs: list[tuple[str, int | None]] = list(zip(vcf.seqnames, lengths, strict=False))
    info: dict[str, tuple[str, str]] = {}
    descriptions: dict[str, str] = {}
    formats: set[str] = set()
    reference = None
    for rec in vcf.header_iter():
        kind = rec.type
        if kind == "INFO":
            fields = rec.info()
            info[rec["ID"]] = (fields.get("Number", "."), fields.get("Type", "String"))
            descriptions[rec["ID"]] = str(fields.get("Description", "")).strip('"')
        elif kind == "FORMAT":
            formats.add(rec["ID"])
    match = re.search(r"^##reference=(.*)$", vcf.raw_header, re.MULTILINE)
    if match:
        reference = match.group(1).strip()
    samples = tuple(vcf.samples)
    if len(set(samples)) != len(samples):
        seen: set[str] = set()
        dups = sorted({s for s in samples if s in seen or seen.add(s)})  # type: ignore[func-returns-value]
        raise VcfFormatError(f"{path}: duplicate sample ids in the #CHROM line: {', '.join(dups)}")
    return VcfHeader(path, samples, tuple(contigs), reference, info, frozenset(formats), descriptions)


def _format(record: Any, name: str) -> npt.NDArray[Any] | None:
    """The raw FORMAT array (samples × values) as htslib gives it; converted later, for kept rows only."""
    try:
        values = record.format(name)
    except Exception:  # a FORMAT key declared with another type than this record holds
        return None
    return None if values is None else values


def format_as_int(values: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
    """htslib's missing and vector-end sentinels (and NaN) become -1; floats are rounded."""
    if values.dtype.kind == "f":
        out = np.where(np.isnan(values), -1, np.rint(values))
    else:
        out = np.where(values <= _INT32_MISSING + 1, -1, values)
    return np.clip(out, -1, _INT32_MAX).astype(np.int32)


def iter_records(
    path: Path,
    header: VcfHeader,
    *,
    info_fields: frozenset[str] | None = None,
    regions: list[tuple[str, int, int]] | None = None,
) -> Iterator[VcfRecord]:
    """Yield records in file order; raise VcfFormatError at the first malformed or unsorted one.

    `regions` (contig, first, last), in file order, reads only records whose POS lies in them,
    through the file's index: how one file is split over processes. `info_fields` limits which
    INFO keys are copied (None copies all).
    """
    vcf = _open(path)
    n = header.n_samples
    has = {f: f in header.format_ids for f in ("DP", "GQ", "AD")}
    try:
        for index, rec in _in_order(path, vcf, regions):
            try:
                record = _record(rec, index, n, has, info_fields)
            except Exception as exc:  # lazy parsing: htslib reports a broken record when it is unpacked
                raise _unpack_error(path, index, rec, exc) from exc
            yield record
    finally:
        vcf.close()


def _in_order(path: Path, vcf: Any, regions: list[tuple[str, int, int]] | None) -> Iterator[tuple[int, Any]]:
    """(1-based record number, record) in file order; VcfFormatError at a record htslib cannot
    read, UnsortedVcfError at the first one out of order (a contig again, or a smaller POS)."""
    seen_contigs: set[str] = set()
    last_chrom: str | None = None
    last_pos = 0
    index = 0
    iterator = iter(vcf) if regions is None else _in_regions(vcf, regions)
    while True:
        try:
            rec = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            where = f"after record {index} ({last_chrom}:{last_pos})" if index else "at the first record"
            raise VcfFormatError(
                f"{path}: malformed record {where}: {exc}; check the number of columns "
                "(8 fixed + FORMAT + one per sample) and that the file is complete"
            ) from exc
        index += 1
        chrom, pos = rec.CHROM, rec.POS
        if chrom != last_chrom:
            if chrom in seen_contigs:
                raise UnsortedVcfError(
                    f"{path}: record {index} ({chrom}:{pos}): contig {chrom} appears again after "
                    f"{last_chrom}; sort the file (bcftools sort) and submit it again"
                )
            seen_contigs.add(chrom)
            last_chrom, last_pos = chrom, 0
        elif pos < last_pos:
            raise UnsortedVcfError(
                f"{path}: record {index} ({chrom}:{pos}) comes after position {last_pos}; "
                "sort the file (bcftools sort) and submit it again"
            )
        last_pos = pos
        yield index, rec


def _unpack_error(path: Path, index: int, rec: Any, exc: Exception) -> VcfFormatError:
    return VcfFormatError(
        f"{path}: record {index} ({rec.CHROM}:{rec.POS}): {exc}; check that it has one column per sample "
        "(8 fixed + FORMAT + samples) and that its FORMAT values match the header"
    )


def _in_regions(vcf: Any, regions: list[tuple[str, int, int]]) -> Iterator[Any]:
    for contig, first, last in regions:
        for rec in vcf(f"{contig}:{first}-{last}"):
            if first <= rec.POS <= last:  # the index also returns records that only overlap
                yield rec


def indexed_spans(path: Path, header: VcfHeader) -> list[tuple[str, int, int]] | None:
    """(contig, first POS, last POS) of every contig with records, from the index; None if unindexed.

    A few index seeks per contig (a binary search for the last record), never a scan.
    """
    if not any(path.with_name(path.name + ext).exists() for ext in (".tbi", ".csi")):
        return None
    vcf = _open(path)
    try:
        spans = []
        for contig, length in header.contigs:
            with warnings.catch_warnings():  # cyvcf2 warns for every contig the index has no data on
                warnings.simplefilter("ignore", UserWarning)
                first_rec = next(iter(vcf(contig)), None)
            if first_rec is None:
                continue
            lo, hi = first_rec.POS, length or 2**29
            while lo < hi:  # last position p with a record starting at ≥ p
                mid = (lo + hi + 1) // 2
                if any(mid <= r.POS for r in _first(vcf(f"{contig}:{mid}-{hi}"))):
                    lo = mid
                else:
                    hi = mid - 1
            spans.append((contig, first_rec.POS, lo))
        return spans
    except Exception:  # an index htslib cannot use: read the file whole instead
        return None
    finally:
        vcf.close()


def split_spans(spans: Sequence[tuple[str, int, int]], workers: int) -> list[list[tuple[str, int, int]]]:
    """Each worker's regions: every contig's data span (from `indexed_spans`) cut into `workers`
    equal stretches of position; worker w's regions come before worker w + 1's on every contig."""
    pieces: list[list[tuple[str, int, int]]] = [[] for _ in range(workers)]
    for contig, first, last in spans:
        bounds = np.linspace(first, last + 1, workers + 1).astype(np.int64)
        for w in range(workers):
            if bounds[w + 1] > bounds[w]:
                pieces[w].append((contig, int(bounds[w]), int(bounds[w + 1]) - 1))
    return [p for p in pieces if p]


def _first(records: Any, n: int = 64) -> Iterator[Any]:
    for i, rec in enumerate(records):
        if i >= n:
            return
        yield rec


def _record(rec: Any, index: int, n: int, has: dict[str, bool], info_fields: frozenset[str] | None) -> VcfRecord:
    arr = rec.genotype.array() if n and rec.genotype is not None else None
    if arr is None:
        gt = np.full((n, 2), -1, dtype=np.int16)
        phased = np.zeros(n, dtype=np.bool_)
    else:
        gt = arr[:, :-1].astype(np.int16, copy=False)
        phased = arr[:, -1].astype(np.bool_)
    info: dict[str, Any] = {}
    for key, value in rec.INFO:
        if info_fields is None or key in info_fields:
            info[key] = value
    end_value = info.get("END") if "END" in info else rec.INFO.get("END")
    ref = rec.REF
    end = int(end_value) if end_value is not None else rec.POS + len(ref) - 1
    filters = [f for f in rec.FILTERS if f]
    return VcfRecord(
        index=index,
        chrom=rec.CHROM,
        pos=rec.POS,
        end=end,
        id=rec.ID,
        ref=ref,
        alts=list(rec.ALT),
        qual=rec.QUAL,
        filters=";".join(filters) if filters else ".",
        info=info,
        gt=gt,
        phased=phased,
        dp=_format(rec, "DP") if has["DP"] else None,
        gq=_format(rec, "GQ") if has["GQ"] else None,
        ad=_format(rec, "AD") if has["AD"] else None,
    )


SCAN_CHUNK = 1 << 16  # records judged together by `scan_sites`' keep callback


@dataclass(frozen=True)
class SiteScan:
    """Every record of a file (or of its `regions`) as columns: where it is and what the requested
    samples call, without INFO, FORMAT values or allele strings; plus, in full, the records a
    `keep` callback chose. Arrays are per record, in file order."""

    contigs: tuple[str, ...]  # names as the file writes them; `contig` indexes this
    contig: npt.NDArray[np.int32]
    pos: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]  # last reference base: INFO/END for blocks and SVs, else POS + len(REF) - 1
    n_alts: npt.NDArray[np.int16]
    # bit k - 1 set where ALT k is not a variant (`NON_VARIANT_ALLELES`: *, <NON_REF>, ...), ALTs 1..32
    non_variant: npt.NDArray[np.uint32]
    index: npt.NDArray[np.int64]  # 1-based record number (within `regions`, when given)
    alleles: npt.NDArray[np.int16]  # records × samples × 2: allele index, -1 missing, -2 absent (haploid)
    records: tuple[VcfRecord, ...] = ()  # the records `keep` chose, as `iter_records` gives them

    @property
    def n(self) -> int:
        return int(self.pos.size)

    @classmethod
    def concat(cls, scans: Sequence[SiteScan], contigs: Sequence[str]) -> SiteScan:
        """Scans of one file (pieces, or chunks) as one, contig codes renumbered to `contigs`."""
        code = {name: i for i, name in enumerate(contigs)}
        width = scans[0].alleles.shape[1] if scans else 0

        def joined(name: str, dtype: Any, shape: tuple[int, ...] = ()) -> Any:
            parts = [getattr(s, name) for s in scans]
            return np.concatenate(parts) if parts else np.zeros((0, *shape), dtype)

        recode = [np.array([code[c] for c in s.contigs] or [0], np.int32)[s.contig] for s in scans]
        return cls(
            tuple(contigs),
            np.concatenate(recode) if recode else np.zeros(0, np.int32),
            joined("pos", np.int32),
            joined("end", np.int32),
            joined("n_alts", np.int16),
            joined("non_variant", np.uint32),
            joined("index", np.int64),
            joined("alleles", np.int16, (width, 2)),
            tuple(r for s in scans for r in s.records),
        )


def scan_sites(
    path: Path,
    header: VcfHeader,
    *,
    samples: Sequence[int],
    regions: list[tuple[str, int, int]] | None = None,
    keep: Callable[[SiteScan], npt.NDArray[np.bool_]] | None = None,
    threads: int = 2,
) -> SiteScan:
    """Every record's site and the called alleles of the VCF columns `samples`, at a few µs a record.

    The lean first pass of `case analyse`: nothing per record but htslib's parse, its genotype
    array and a few integers. Every `SCAN_CHUNK` records, `keep` (if given) sees the chunk's
    columns and names the records worth reading in full; those become `VcfRecord`s exactly as
    `iter_records` makes them, while htslib still holds them (one pass over the file). Errors are
    `iter_records`': a malformed or unsorted record raises VcfFormatError/UnsortedVcfError naming
    the file, record number and position. Alleles past the second of a polyploid call are dropped.
    """
    vcf = _open(path, threads=threads)
    n = header.n_samples
    columns = np.asarray(samples, np.intp)
    has = {f: f in header.format_ids for f in ("DP", "GQ", "AD")}
    contigs: list[str] = []
    last_chrom: str | None = None
    code = -1
    done: list[SiteScan] = []
    held: list[Any] = []  # this chunk's htslib records, kept until `keep` has judged them
    gts: list[Any] = []
    pos: list[int] = []
    end: list[int] = []
    n_alts: list[int] = []
    codes: list[int] = []
    odd: dict[int, int] = {}  # chunk row → non-variant ALT bits (rare: gVCF and spanning deletions)
    first_index = 1

    def flush() -> None:
        nonlocal first_index
        rows = len(pos)
        if not rows:
            return
        non_variant = np.zeros(rows, np.uint32)
        for row, bits in odd.items():
            non_variant[row] = bits
        chunk = SiteScan(
            tuple(contigs),
            np.asarray(codes, np.int32),
            np.asarray(pos, np.int32),
            np.asarray(end, np.int32),
            np.asarray(n_alts, np.int16),
            non_variant,
            np.arange(first_index, first_index + rows, dtype=np.int64),
            _called(gts, columns) if n else np.full((rows, columns.size, 2), -1, np.int16),
        )
        records: tuple[VcfRecord, ...] = ()
        if keep is not None:
            chosen = np.flatnonzero(keep(chunk)).tolist()
            records = tuple(_full_record(path, held[i], first_index + i, n, has) for i in chosen)
        done.append(
            SiteScan(
                chunk.contigs,
                chunk.contig,
                chunk.pos,
                chunk.end,
                chunk.n_alts,
                chunk.non_variant,
                chunk.index,
                chunk.alleles,
                records,
            )
        )
        first_index += rows
        for buffer in (held, gts, pos, end, n_alts, codes):
            buffer.clear()
        odd.clear()

    try:
        for index, rec in _in_order(path, vcf, regions):
            chrom, p = rec.CHROM, rec.POS
            if chrom != last_chrom:
                contigs.append(chrom)
                code = len(contigs) - 1
                last_chrom = chrom
            try:
                alts = rec.ALT
                if n:
                    gts.append(rec.genotype.array())
                stop = rec.end
            except Exception as exc:  # lazy parsing: htslib reports a broken record when it is unpacked
                raise _unpack_error(path, index, rec, exc) from exc
            if not NON_VARIANT_ALLELES.isdisjoint(alts):
                odd[len(pos)] = sum(1 << k for k, a in enumerate(alts[:32]) if a in NON_VARIANT_ALLELES)
            held.append(rec)
            codes.append(code)
            pos.append(p)
            end.append(stop)
            n_alts.append(len(alts))
            if len(pos) >= SCAN_CHUNK:
                flush()
        flush()
    finally:
        vcf.close()
    return SiteScan.concat(done, contigs)


def _called(gts: list[Any], columns: npt.NDArray[np.intp]) -> npt.NDArray[np.int16]:
    """cyvcf2 genotype arrays (samples × (ploidy + phase)) of a chunk as records × columns × 2."""
    try:
        stacked = np.stack(gts)  # one ploidy throughout: the common case
    except ValueError:
        width = max(a.shape[1] for a in gts)
        stacked = np.full((len(gts), gts[0].shape[0], width), -2, np.int16)
        for i, a in enumerate(gts):
            stacked[i, :, : a.shape[1] - 1] = a[:, :-1]
            stacked[i, :, -1] = a[:, -1]
    calls = stacked[:, columns, : max(stacked.shape[2] - 1, 1)].astype(np.int16)
    if calls.shape[2] == 1:
        calls = np.concatenate([calls, np.full(calls.shape, -2, np.int16)], axis=2)
    out: npt.NDArray[np.int16] = np.ascontiguousarray(calls[:, :, :2])
    return out


def _full_record(path: Path, rec: Any, index: int, n: int, has: dict[str, bool]) -> VcfRecord:
    try:
        return _record(rec, index, n, has, None)
    except Exception as exc:  # as iter_records says it
        raise _unpack_error(path, index, rec, exc) from exc


# -- genotypes at given positions (pharmacogenomics) -------------------------------------------

_MERGE_GAP = 5_000  # windows closer than this are read through one index query


@dataclass(frozen=True)
class GenotypesAt:
    """The records overlapping some windows, each as written (not split, not trimmed), with the
    calls of the chosen samples as arrays: `gt` is records × samples × ploidy (allele index, -1
    missing, -2 no such copy), `phased` records × samples, `phase_set` records × samples (FORMAT/PS,
    -1 when not given). Contigs are canonical (chr10 whether the file wrote 10 or chr10)."""

    path: Path
    samples: tuple[str, ...]
    chrom: tuple[str, ...]
    pos: tuple[int, ...]
    ref: tuple[str, ...]
    alts: tuple[tuple[str, ...], ...]
    gt: npt.NDArray[np.int16]
    phased: npt.NDArray[np.bool_]
    phase_set: npt.NDArray[np.int64]

    @property
    def n_records(self) -> int:
        return len(self.pos)

    def observed(self, sample: int | str) -> list[ObservedGenotype]:
        """One sample's genotype at every record (by column number or name); a call with no copy
        (a woman's chrY) is left out. A haploid call is not phased: its GT has no separator."""
        column = self.samples.index(sample) if isinstance(sample, str) else sample
        name = self.samples[column]
        rows = self.gt[:, column, :].tolist()
        phased = self.phased[:, column].tolist()
        ps = self.phase_set[:, column].tolist()
        out = []
        for i, row in enumerate(rows):
            alleles = tuple(a for a in row if a != -2)
            if not alleles:
                continue
            is_phased = phased[i] and len(alleles) > 1
            out.append(
                ObservedGenotype(
                    name,
                    self.chrom[i],
                    self.pos[i],
                    self.ref[i],
                    self.alts[i],
                    alleles,
                    is_phased,
                    ps[i] if is_phased and ps[i] >= 0 else None,
                )
            )
        return out


def genotypes_at(
    path: Path, windows: Iterable[tuple[str, int, int]], *, samples: Sequence[str] | None = None
) -> GenotypesAt:
    """Every record of `path` overlapping a window (contig, first, last; 1-based, inclusive; any
    contig naming), with the calls of `samples` (all by default), in file order.

    A bgzipped VCF or BCF with a tabix/CSI index is read through the index (nearby windows share
    one query); otherwise in one streaming pass that parses genotypes only of overlapping records.
    Raises VcfFormatError naming the file and where, UnsortedVcfError for an unsorted plain file.
    """
    wanted = _windows_by_contig(windows)
    vcf = _open(path)
    try:
        header = _header(path, vcf)
        chosen = _choose_samples(path, header, samples)
        if samples is not None:
            vcf.set_samples(list(chosen))
            chosen = tuple(vcf.samples)  # htslib keeps file order
        has_ps = "PS" in header.format_ids
        indexed = any(path.with_name(path.name + ext).exists() for ext in (".tbi", ".csi"))
        records = _indexed_overlaps(path, vcf, wanted) if indexed else _streamed_overlaps(path, vcf, wanted)
        chrom: list[str] = []
        pos: list[int] = []
        ref: list[str] = []
        alts: list[tuple[str, ...]] = []
        arrays: list[npt.NDArray[np.int16]] = []
        ps: list[npt.NDArray[np.int64]] = []
        n = len(chosen)
        for canonical, rec in records:
            try:
                gt = rec.genotype.array() if n and rec.genotype is not None else np.full((n, 3), -1, np.int16)
                alt = tuple(rec.ALT)
                raw_ps = rec.format("PS") if has_ps else None
            except Exception as exc:  # lazy parsing: htslib reports a broken record when it is unpacked
                raise VcfFormatError(
                    f"{path}: record at {rec.CHROM}:{rec.POS}: {exc}; check that it has one column per sample "
                    "and that its FORMAT values match the header"
                ) from exc
            chrom.append(canonical)
            pos.append(int(rec.POS))
            ref.append(rec.REF)
            alts.append(alt)
            arrays.append(gt)
            if raw_ps is None:
                ps.append(np.full(n, -1, np.int64))
            else:
                values = np.asarray(raw_ps).reshape(n, -1)[:, 0].astype(np.int64)
                ps.append(np.where(values <= _INT32_MISSING + 1, -1, values))
    finally:
        vcf.close()
    width = max((a.shape[1] - 1 for a in arrays), default=2)
    gt_out = np.full((len(arrays), n, max(width, 1)), -2, np.int16)
    phased = np.zeros((len(arrays), n), np.bool_)
    for i, a in enumerate(arrays):
        gt_out[i, :, : a.shape[1] - 1] = a[:, :-1]
        phased[i] = a[:, -1].astype(np.bool_)
    phase_set = np.stack(ps) if ps else np.zeros((0, n), np.int64)
    return GenotypesAt(path, chosen, tuple(chrom), tuple(pos), tuple(ref), tuple(alts), gt_out, phased, phase_set)


def observed_at(
    path: Path, windows: Iterable[tuple[str, int, int]], *, samples: Sequence[str] | None = None
) -> dict[str, list[ObservedGenotype]]:
    """`genotypes_at` as each sample's list of ObservedGenotype."""
    found = genotypes_at(path, windows, samples=samples)
    return {name: found.observed(i) for i, name in enumerate(found.samples)}


def _choose_samples(path: Path, header: VcfHeader, samples: Sequence[str] | None) -> tuple[str, ...]:
    if samples is None:
        return header.samples
    unknown = [s for s in samples if s not in set(header.samples)]
    if unknown:
        raise VcfFormatError(
            f"{path}: no sample column(s) {', '.join(unknown)}; the file has {', '.join(header.samples[:10])}"
            + (" …" if header.n_samples > 10 else "")
        )
    return tuple(dict.fromkeys(samples))


@dataclass(frozen=True)
class _ContigWindows:
    """One contig's windows, sorted, and the merged stretches read through the index."""

    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]  # running maximum of window ends, for a sorted overlap test
    regions: tuple[tuple[int, int], ...]

    def overlaps(self, first: int, last: int) -> bool:
        i = int(np.searchsorted(self.starts, last, side="right"))  # windows starting at or before `last`
        return i > 0 and bool(self.ends[i - 1] >= first)


def _windows_by_contig(windows: Iterable[tuple[str, int, int]]) -> dict[str, _ContigWindows]:
    grouped: dict[str, list[tuple[int, int]]] = {}
    for contig, first, last in windows:
        name = canonical_contig(contig) or contig
        grouped.setdefault(name, []).append((int(first), int(max(first, last))))
    out = {}
    for name, spans in grouped.items():
        spans.sort()
        starts = np.array([s for s, _ in spans], np.int64)
        ends = np.maximum.accumulate(np.array([e for _, e in spans], np.int64))
        regions: list[list[int]] = []
        for s, e in spans:
            if regions and s <= regions[-1][1] + _MERGE_GAP:
                regions[-1][1] = max(regions[-1][1], e)
            else:
                regions.append([s, e])
        out[name] = _ContigWindows(starts, ends, tuple((s, e) for s, e in regions))
    return out


def _indexed_overlaps(path: Path, vcf: Any, wanted: dict[str, _ContigWindows]) -> Iterator[tuple[str, Any]]:
    """(canonical contig, record) of every record overlapping a window, through the index."""
    names: dict[str, str] = {}
    for name in vcf.seqnames:
        canonical = canonical_contig(name)
        if canonical is not None:
            names.setdefault(canonical, name)
    for canonical, contig in wanted.items():
        name = names.get(canonical)
        if name is None:
            continue  # the file has no records on this contig: every window there is missing
        previous_end = 0
        for first, last in contig.regions:
            try:
                with warnings.catch_warnings():  # cyvcf2 warns when the index has no data there
                    warnings.simplefilter("ignore", UserWarning)
                    for rec in vcf(f"{name}:{first}-{last}"):
                        start = rec.POS
                        if start <= previous_end:
                            continue  # returned by the previous region already
                        if contig.overlaps(start, max(start, rec.end)):
                            yield canonical, rec
            except VcfFormatError:
                raise
            except Exception as exc:
                raise VcfFormatError(
                    f"{path}: cannot read {name}:{first}-{last} through the index ({exc}); re-index the file "
                    "(tabix -p vcf / bcftools index) or check that it is complete"
                ) from exc
            previous_end = last


def _streamed_overlaps(path: Path, vcf: Any, wanted: dict[str, _ContigWindows]) -> Iterator[tuple[str, Any]]:
    """The same in one pass over an unindexed file (sorting and record errors as iter_records)."""
    canonical_of: dict[str, str | None] = {}
    for _, rec in _in_order(path, vcf, None):
        chrom = rec.CHROM
        if chrom not in canonical_of:
            canonical_of[chrom] = canonical_contig(chrom)
        canonical = canonical_of[chrom]
        if canonical is None or canonical not in wanted:
            continue
        contig = wanted[canonical]
        pos = rec.POS
        if contig.overlaps(pos, max(pos, rec.end)):
            yield canonical, rec
