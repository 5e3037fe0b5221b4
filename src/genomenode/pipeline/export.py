"""Cohort-wide exports, run by the store engine (DuckDB on one machine, Spark on a cluster).

* `export_frequencies`: the national (or one dataset's) frequency release as a sites-only
  bgzipped VCF with its tabix index, like gnomAD's or SweFreq's release VCF: one record per stored
  (split, normalised) allele; INFO AC, AN, AF, nhomalt, nhemi overall and `AC_<value>`,
  `AN_<value>`, `AF_<value>`, `nhomalt_<value>` per population, sex and centre; FILTER as stored
  (PASS when every file passed); ID the stored rsID. With a floor, small counts are hidden exactly
  as the API hides them from the public (access.disclosure over every cell of each allele): a
  hidden count is written `.`, never 0. A stratum with no row for an allele has no called allele
  there: AC and AN 0, AF `.`.
* `export_genotypes`: one dataset's genotypes for an approved research environment, as Parquet
  (one file per chromosome, plus `manifest.json`): the person's pseudonym, never the submitted
  sample id, and the calls as the `calls` table keeps them (sparse: a person absent at an allele
  is hom-ref where their file covered it). Only active samples of people whose recorded consent
  allows research use (`research_consent`) and who have not withdrawn.

Both read the live parts the catalog lists (as the query service does), chromosome by chromosome
in contig order and, within one, in windows of positions sized from the parts' row-group
statistics, so memory stays bounded whatever the cohort. Both are decided (a data steward, or the
node's operator at the console) and audited before anything is written, and write atomically: a
failure leaves no partial output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from genomenode import __version__
from genomenode.access import policy
from genomenode.access.disclosure import suppress_small_counts
from genomenode.access.gate import AccessControl
from genomenode.catalog import repository as repo
from genomenode.catalog import sharing
from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.errors import AccessDeniedError, InputError, NotFoundError
from genomenode.ingest.vcf_writer import tabix_index, write_vcf
from genomenode.settings import Settings
from genomenode.store.engine import Parts, StoreEngine

Progress = Callable[[str, int, int | None], None]
NATION = "*"
STRATA = ("population", "sex", "centre")
STATS_ROWS_PER_READ = 2_000_000  # variant_stats cells read at once (~30 per allele)
CALLS_ROWS_PER_READ = 4_000_000  # calls rows read at once
# The consent a research export needs while no project purpose is given: a DUO permission for
# research (general, health/medical/biomedical, or no restriction) without the not-for-profit
# restriction, which an export cannot check for whoever receives it. A withdrawn consent, a
# disease-specific one (DS) or none recorded keeps the person out.
RESEARCH_PERMISSIONS = frozenset({"GRU", "HMB", "NRES"})
RESEARCH_REFUSING_MODIFIERS = frozenset({"NPU", "NPUNCU"})


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


# -- what is live ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveStore:
    """The catalog as of its last committed run: datasets, and the live parts per (assembly, chrom)."""

    datasets: list[repo.DatasetSummary]
    parts: dict[str, dict[tuple[str, str], list[Path]]]

    def files(self, table: str, assembly: str, chrom: str) -> list[Path]:
        return self.parts.get(table, {}).get((assembly, chrom), [])

    def chromosomes(self, table: str, assembly: str) -> list[str]:
        """The chromosomes with live parts of `table`, in the assembly's contig order."""
        held = {c for a, c in self.parts.get(table, {}) if a == assembly}
        ordered = [c for c in contig_lengths(Assembly(assembly)) if c in held]
        return ordered + sorted(held - set(ordered))

    def scope(self, dataset: str | None) -> tuple[str, str]:
        """(scope, assembly): the nation '*' or one dataset, as the query service resolves them."""
        if dataset is not None:
            found = next((d for d in self.datasets if d.name == dataset), None)
            if found is None:
                names = ", ".join(d.name for d in self.datasets) or "none yet"
                raise NotFoundError(f"no dataset {dataset!r} (datasets: {names})")
            return dataset, found.assembly
        assemblies = {d.assembly for d in self.datasets}
        if not assemblies:
            raise NotFoundError("the node holds no data yet; ingest VCFs with `genomenode ingest` first")
        if len(assemblies) > 1:
            raise InputError(
                f"datasets hold different assemblies ({', '.join(sorted(assemblies))}); name one with --dataset"
            )
        return NATION, assemblies.pop()


def live_store(gate: AccessControl, tables: Sequence[str] = ("variant_stats", "calls")) -> LiveStore:
    """The live parts of `tables` (catalog.repository.live_store_files, as NodeQueries reads them)."""
    root = gate.settings.store_root
    parts: dict[str, dict[tuple[str, str], list[Path]]] = {}
    with gate.Session() as s:
        datasets = repo.list_datasets(s)
        for table in tables:
            by_chrom = parts.setdefault(table, {})
            for f in repo.live_store_files(s, table_name=table):
                by_chrom.setdefault((f.assembly, f.chrom), []).append(root / f.path)
    return LiveStore(datasets, parts)


def _row_groups(paths: Sequence[Path]) -> list[tuple[int, int, int]]:
    """(min pos, max pos, rows) of every non-empty row group of these parts, from their footers."""
    groups: list[tuple[int, int, int]] = []
    for path in paths:
        meta = pq.read_metadata(path)
        col = meta.schema.to_arrow_schema().get_field_index("pos")
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            if group.num_rows == 0:
                continue
            stats = group.column(col).statistics
            lo, hi = (int(stats.min), int(stats.max)) if stats is not None and stats.has_min_max else (0, _END - 1)
            groups.append((lo, hi, group.num_rows))
    return sorted(groups)


_END = 2**31 - 1  # past every position


def position_windows(paths: Sequence[Path], rows_per_window: int) -> list[tuple[int, int]]:
    """Half-open position ranges [start, end) covering every row of these parts, each holding about
    `rows_per_window` rows, cut from the parts' row-group statistics (footers only)."""
    groups = _row_groups(paths)
    if not groups:
        return []
    windows, start, rows, reach = [], groups[0][0], 0, groups[0][1]
    for lo, hi, n in groups:
        if rows >= rows_per_window and lo > reach:
            windows.append((start, lo))
            start, rows = lo, 0
        rows += n
        reach = max(reach, hi)
    windows.append((start, reach + 1))
    return windows


@dataclass(frozen=True)
class Read:
    """One query's share of a table: whole small chromosomes together, or a window of a large one."""

    chroms: tuple[str, ...]
    paths: tuple[Path, ...]
    start: int = 0
    end: int = _END


def read_plan(parts: Sequence[tuple[str, Sequence[Path]]], rows_per_read: int) -> list[Read]:
    """The reads that cover `parts` (chromosome → its parts, in contig order), each of about
    `rows_per_read` rows at most: a chromosome larger than that in windows of positions, smaller
    ones side by side in one read (on Spark every query costs a job, so few reads matter)."""
    plan: list[Read] = []
    batch: list[tuple[str, Sequence[Path]]] = []
    batch_rows = 0

    def flush() -> None:
        nonlocal batch, batch_rows
        if batch:
            plan.append(Read(tuple(c for c, _ in batch), tuple(p for _, ps in batch for p in ps)))
        batch, batch_rows = [], 0

    for chrom, paths in parts:
        rows = sum(n for *_, n in _row_groups(paths))
        if not rows:
            continue
        if rows > rows_per_read:
            flush()
            plan += [Read((chrom,), tuple(paths), a, b) for a, b in position_windows(paths, rows_per_read)]
            continue
        if batch_rows + rows > rows_per_read:
            flush()
        batch.append((chrom, paths))
        batch_rows += rows
    flush()
    return plan


# -- who may export, and the audit entry -----------------------------------------------------------
def authorise_export(gate: AccessControl, caller: policy.Caller, action: str, *, console: bool, **details: Any) -> None:
    """Exports are a data steward's (or the node operator's, at the console); recorded before any write."""
    if not console and not caller.has(policy.Role.STEWARD):
        gate.record(caller, action, target=str(details.get("dataset") or "national"), outcome="denied")
        raise AccessDeniedError(f"{action} needs the steward role (or the node's console, without a token)")
    gate.record(
        caller,
        action,
        target=str(details.pop("dataset", None) or "national"),
        via="console" if console else None,
        **details,
    )


def _check_target(out: Path, *, force: bool, kind: str) -> None:
    parent = out.parent
    if not parent.is_dir():
        raise InputError(f"{out}: the folder {parent} does not exist (or is not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{out}: the folder {parent} is not writable")
    if out.exists() and not force:
        raise InputError(f"{out}: the {kind} exists already; pass --force to replace it")
    if out.exists() and kind == "file" and not out.is_file():
        raise InputError(f"{out}: exists and is not a file")
    if out.exists() and kind == "folder" and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")


# -- the frequency release --------------------------------------------------------------------------
@dataclass(frozen=True)
class FrequencyExport:
    path: Path
    index: Path
    scope: str
    assembly: str
    engine: str
    floor: int | None
    alleles: int
    hidden: int  # alleles whose AC is hidden
    chromosomes: list[str]
    seconds: float


_CELLS_SQL = """
SELECT CAST(scope AS STRING) AS scope, CAST(stratum AS STRING) AS stratum,
       CAST(stratum_value AS STRING) AS stratum_value, CAST(chrom AS STRING) AS chrom,
       pos, ref, alt, ac, an, hom, hemi, filters, rsid
FROM {stats}
WHERE pos >= $start AND pos < $end {scope_only}
"""

# the header's labels in one scan: the strata's values, and the failed filters of the alleles
_LABELS_SQL = """
SELECT DISTINCT CAST(stratum AS STRING) AS stratum, CAST(stratum_value AS STRING) AS stratum_value,
       CASE WHEN stratum = 'all' THEN filters ELSE '' END AS filters
FROM {stats} WHERE scope = $scope AND (stratum <> 'all' OR filters <> '')
"""

_INFO_KEY = re.compile(r"[^0-9A-Za-z_.]")


def info_suffixes(strata: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(stratum, value) → the INFO key suffix for it: the value made a valid key (accents dropped,
    other characters `_`, '' `unknown`); values that would collide get their stratum as a prefix."""

    def clean(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        key = _INFO_KEY.sub("_", ascii_text)
        return key if key and not key[0].isdigit() and key[0] != "." else f"_{key}"

    plain = {sv: clean(sv[1] or "unknown") for sv in strata}
    taken: dict[str, int] = {}
    for key in plain.values():
        taken[key.lower()] = taken.get(key.lower(), 0) + 1
    reserved = {"ac", "an", "af", "nhomalt", "nhemi"}
    out = {}
    for (stratum, value), key in plain.items():
        if taken[key.lower()] > 1 or key.lower() in reserved:
            key = clean(f"{stratum}_{value or 'unknown'}")
        out[(stratum, value)] = key
    if len(set(out.values())) != len(out):  # two values that clean to one key within a stratum
        counts: dict[str, int] = {}
        for sv, key in sorted(out.items()):
            counts[key] = counts.get(key, 0) + 1
            out[sv] = key if counts[key] == 1 else f"{key}_{counts[key]}"
    return out


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def frequency_header(
    *,
    assembly: str,
    scope: str,
    floor: int | None,
    suffixes: Mapping[tuple[str, str], str],
    filters: Sequence[str],
    engine: str,
) -> list[str]:
    hidden = " (. where hidden: below the small-count floor, or would reveal such a count)" if floor else ""
    lines = [
        "##fileformat=VCFv4.2",
        f"##fileDate={datetime.now(UTC):%Y%m%d}",
        f"##source=genomenode {__version__} export frequencies (engine {engine})",
        f"##reference={assembly}",
        f"##genomenode_scope={'national' if scope == NATION else scope}",
        f"##genomenode_small_count_floor={floor if floor else 'none (exact counts)'}",
    ]
    lines += [
        f"##contig=<ID={c},length={n},assembly={assembly}>" for c, n in contig_lengths(Assembly(assembly)).items()
    ]
    for name in filters:
        lines.append(f'##FILTER=<ID={name},Description="Failed filter {name} in at least one submitted file">')
    lines += [
        f'##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count{hidden}">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of called alleles">',
        f'##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency, AC/AN{hidden}">',
        f'##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Homozygous alternate calls (ploidy 2+){hidden}">',
        f'##INFO=<ID=nhemi,Number=A,Type=Integer,Description="Hemizygous (haploid) alternate calls{hidden}">',
    ]
    for (stratum, value), key in suffixes.items():
        what = _quote(f"{stratum} {value or '(not given)'}")
        lines += [
            f'##INFO=<ID=AC_{key},Number=A,Type=Integer,Description="Alternate allele count, {what}{hidden}">',
            f'##INFO=<ID=AN_{key},Number=1,Type=Integer,Description="Total number of called alleles, {what}">',
            f'##INFO=<ID=AF_{key},Number=A,Type=Float,Description="Alternate allele frequency, {what}{hidden}">',
            f'##INFO=<ID=nhomalt_{key},Number=A,Type=Integer,Description="Homozygous alternate calls, {what}{hidden}">',
        ]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    return lines


def _n(value: int | None) -> str:
    return "." if value is None else str(value)


def _af(ac: int | None, an: int | None) -> str:
    return "." if ac is None or not an else f"{ac / an:.6g}"


def frequency_records(
    cells: pa.Table, scope: str, suffixes: Mapping[tuple[str, str], str], rank: Mapping[str, int]
) -> Iterator[str]:
    """VCF lines (sorted by chromosome as `rank` orders them, position, REF, ALT) of the alleles in
    `cells` (variant_stats rows, counts already hidden or not), for `scope`."""
    cells = cells.filter(pc.equal(cells["scope"], scope))
    c = cells.to_pydict()
    overall: dict[tuple[int, int, str, str], int] = {}
    strata: dict[tuple[int, int, str, str], dict[tuple[str, str], int]] = {}
    for i, (stratum, value, chrom, pos, ref, alt) in enumerate(
        zip(c["stratum"], c["stratum_value"], c["chrom"], c["pos"], c["ref"], c["alt"], strict=True)
    ):
        key = (rank.get(chrom, len(rank)), pos, ref, alt)
        if stratum == "all":
            overall[key] = i
        else:
            strata.setdefault(key, {})[(stratum, value)] = i
    for key in sorted(overall):
        i = overall[key]
        _, pos, ref, alt = key
        info = [
            f"AC={_n(c['ac'][i])}",
            f"AN={c['an'][i]}",
            f"AF={_af(c['ac'][i], c['an'][i])}",
            f"nhomalt={_n(c['hom'][i])}",
            f"nhemi={_n(c['hemi'][i])}",
        ]
        mine = strata.get(key, {})
        for sv, suffix in suffixes.items():
            j = mine.get(sv)
            if j is None:  # no row: nobody of this stratum value called here
                info += [f"AC_{suffix}=0", f"AN_{suffix}=0", f"AF_{suffix}=.", f"nhomalt_{suffix}=0"]
            else:
                ac, an = c["ac"][j], c["an"][j]
                info += [f"AC_{suffix}={_n(ac)}", f"AN_{suffix}={an}", f"AF_{suffix}={_af(ac, an)}"]
                info.append(f"nhomalt_{suffix}={_n(c['hom'][j])}")
        filters = c["filters"][i] or "PASS"
        rsid = c["rsid"][i] or "."
        yield "\t".join((c["chrom"][i], str(pos), rsid, ref, alt, ".", filters, ";".join(info)))


def export_frequencies(
    settings: Settings,
    *,
    out: Path,
    dataset: str | None = None,
    floor: int | None,
    engine: StoreEngine,
    gate: AccessControl,
    caller: policy.Caller,
    console: bool = False,
    force: bool = False,
    progress: Progress = _noop,
) -> FrequencyExport:
    """Write the frequency release of the nation (or `dataset`) to `out` (.vcf.gz) and `out.tbi`.

    `floor`: hide counts below it as the API hides them from the public (None: exact counts)."""
    started = time.monotonic()
    if not out.name.endswith(".vcf.gz"):
        raise InputError(f"{out}: a frequency release is a bgzipped VCF; name it *.vcf.gz")
    if floor is not None and floor < 1:
        raise InputError(f"floor {floor}: give 1 or more, or none for exact counts")
    floor = floor if floor is not None and floor > 1 else None  # a floor of 1 hides nothing
    live = live_store(gate, ("variant_stats",))
    scope, assembly = live.scope(dataset)
    _check_target(out, force=force, kind="file")
    chroms = live.chromosomes("variant_stats", assembly)
    all_files = [p for c in chroms for p in live.files("variant_stats", assembly, c)]
    authorise_export(
        gate,
        caller,
        "export.frequencies",
        console=console,
        dataset=dataset,
        floor=floor,
        engine=engine.name,
        out=str(out),
    )
    stats = {"stats": Parts.of("variant_stats", all_files)}
    found = engine.query(_LABELS_SQL, relations=stats, params={"scope": scope}).to_pylist()
    order = {s: i for i, s in enumerate(STRATA)}
    strata = sorted(
        {(r["stratum"], r["stratum_value"]) for r in found if r["stratum"] != "all"},
        key=lambda sv: (order.get(sv[0], 99), sv[0], sv[1]),
    )
    suffixes = info_suffixes(strata)
    filters = sorted({f for r in found if r["stratum"] == "all" for f in r["filters"].split(";") if f and f != "PASS"})
    header = frequency_header(
        assembly=assembly, scope=scope, floor=floor, suffixes=suffixes, filters=filters, engine=engine.name
    )
    counted = {"alleles": 0, "hidden": 0}

    plan = read_plan([(c, live.files("variant_stats", assembly, c)) for c in chroms], STATS_ROWS_PER_READ)
    rank = {c: i for i, c in enumerate(chroms)}

    def records() -> Iterator[str]:
        for n, read in enumerate(plan):
            sql = _CELLS_SQL.format(stats="{stats}", scope_only="" if floor else "AND scope = $scope")
            params: dict[str, Any] = {"start": read.start, "end": read.end}
            if not floor:
                params["scope"] = scope
            cells = engine.query(sql, relations={"stats": Parts.of("variant_stats", read.paths)}, params=params)
            if floor:  # over every cell of each allele, as query.frequencies hides them
                cells = suppress_small_counts(cells, floor=floor)
            for line in frequency_records(cells, scope, suffixes, rank):
                counted["alleles"] += 1
                counted["hidden"] += "\tAC=.;" in line
                yield line
            progress("frequencies", n + 1, len(plan))

    partial = _partial_name(out)
    index = partial.with_name(partial.name + ".tbi")
    try:
        write_vcf(partial, header, records())
        tabix_index(partial)
        final_index = out.with_name(out.name + ".tbi")
        os.replace(index, final_index)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        index.unlink(missing_ok=True)
    return FrequencyExport(
        path=out,
        index=final_index,
        scope=scope,
        assembly=assembly,
        engine=engine.name,
        floor=floor,
        alleles=counted["alleles"],
        hidden=counted["hidden"],
        chromosomes=chroms,
        seconds=time.monotonic() - started,
    )


def _partial_name(out: Path) -> Path:
    """A sibling name no one else uses while `out` is being written (hidden; .vcf.gz kept for htslib)."""
    token = os.urandom(6).hex()
    return out.with_name(f".{out.name.removesuffix('.vcf.gz')}.partial-{token}.vcf.gz")


# -- genotypes for a research environment --------------------------------------------------------------
@dataclass(frozen=True)
class Consented:
    """The people of a dataset whose genotypes a research export may hold, and who was left out why."""

    samples: dict[int, str]  # catalog sample id → the person's pseudonym
    left_out: dict[str, int] = field(default_factory=dict)  # reason → people


def research_consent(codes: Sequence[str] | None, status: str | None) -> str | None:
    """None when this recorded consent allows a research export, else why not."""
    if status == "withdrawn":
        return "consent withdrawn"
    if status != "given" or not codes:
        return "no research consent recorded"
    terms = {c.split(":", 1)[0].strip().upper() for c in codes}
    if not terms & RESEARCH_PERMISSIONS:
        return "consent limited to a purpose (e.g. a disease) an export cannot check"
    if terms & RESEARCH_REFUSING_MODIFIERS:
        return "consent restricted to not-for-profit use, which an export cannot check"
    return None


def consented_samples(gate: AccessControl, dataset: str) -> Consented:
    """Active samples in `dataset` of people not erased whose consent allows research use.

    No function of the catalog lists them (policy decides per person and per project purpose), so
    this applies `research_consent` to catalog.sharing.subject_rows, which lists active samples only.
    """
    samples: dict[int, str] = {}
    left_out: dict[str, int] = {}
    with gate.Session() as s:
        rows = sharing.subject_rows(s)
    for row in rows:
        mine = [code for code, d, _ in row.samples if d == dataset]
        if not mine:
            continue
        reason = "erased" if row.status == "erased" else research_consent(row.consent_codes, row.consent_status)
        if reason is not None:
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        samples |= {code: row.pseudonym for code in mine}
    return Consented(samples, dict(sorted(left_out.items())))


GENOTYPE_SCHEMA = pa.schema(
    [
        pa.field("individual", pa.string(), nullable=False, metadata={"doc": "the person's pseudonym"}),
        pa.field("chrom", pa.string(), nullable=False),
        pa.field("pos", pa.int32(), nullable=False, metadata={"doc": "1-based position of the normalised allele"}),
        pa.field("ref", pa.string(), nullable=False),
        pa.field("alt", pa.string(), nullable=False, metadata={"doc": "one ALT allele per row"}),
        pa.field(
            "call_allele1",
            pa.int8(),
            nullable=False,
            metadata={"doc": "first allele: 0 ref, 1 this ALT, 2 another ALT, -1 missing"},
        ),
        pa.field(
            "call_allele2", pa.int8(), nullable=False, metadata={"doc": "second allele as call_allele1; -2 haploid"}
        ),
        pa.field("call_phased", pa.bool_(), nullable=False, metadata={"doc": "GT written with |"}),
        pa.field("dp", pa.int32(), metadata={"doc": "FORMAT/DP; null when not given"}),
        pa.field("gq", pa.int16(), metadata={"doc": "FORMAT/GQ rounded; null when not given"}),
    ]
)

_GENOTYPES_SQL = """
SELECT p.individual AS individual, CAST(c.chrom AS STRING) AS chrom, c.pos AS pos,
       CAST(c.ref AS STRING) AS ref, CAST(c.alt AS STRING) AS alt,
       c.call_allele1 AS call_allele1, c.call_allele2 AS call_allele2, c.call_phased AS call_phased,
       CASE WHEN c.call_dp >= 0 THEN c.call_dp END AS dp,
       CASE WHEN c.call_gq >= 0 THEN c.call_gq END AS gq
FROM {calls} c JOIN {people} p ON c.sample = p.sample
WHERE c.pos >= $start AND c.pos < $end
ORDER BY pos, ref, alt, individual, call_allele1, call_allele2, call_phased, dp NULLS FIRST, gq NULLS FIRST
"""


@dataclass(frozen=True)
class GenotypeExport:
    folder: Path
    dataset: str
    assembly: str
    engine: str
    individuals: int
    rows: dict[str, int]  # chromosome → rows written
    left_out: dict[str, int]
    seconds: float


def export_genotypes(
    settings: Settings,
    *,
    out: Path,
    dataset: str,
    engine: StoreEngine,
    gate: AccessControl,
    caller: policy.Caller,
    console: bool = False,
    force: bool = False,
    progress: Progress = _noop,
) -> GenotypeExport:
    """Write `dataset`'s genotypes of consented people to the folder `out` (Parquet per chromosome
    and manifest.json), all of it or nothing."""
    started = time.monotonic()
    live = live_store(gate, ("calls",))
    _, assembly = live.scope(dataset)
    _check_target(out, force=force, kind="folder")
    consented = consented_samples(gate, dataset)
    chroms = live.chromosomes("calls", assembly)
    authorise_export(
        gate,
        caller,
        "export.genotypes",
        console=console,
        dataset=dataset,
        individuals=len(set(consented.samples.values())),
        engine=engine.name,
        out=str(out),
    )
    people = pa.table(
        {
            "sample": pa.array(list(consented.samples), pa.int32()),
            "individual": pa.array(list(consented.samples.values()), pa.string()),
        }
    )
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    plan = read_plan([(c, live.files("calls", assembly, c)) for c in chroms], CALLS_ROWS_PER_READ) if people else []
    writer = _ChromosomeFiles(work)
    try:
        for n, read in enumerate(plan):
            table = engine.query(
                _GENOTYPES_SQL,
                relations={"calls": Parts.of("calls", read.paths), "people": people},
                params={"start": read.start, "end": read.end},
            )
            table = table.select(GENOTYPE_SCHEMA.names).cast(GENOTYPE_SCHEMA)
            for chrom in read.chroms:
                writer.write(chrom, table.filter(pc.equal(table["chrom"], chrom)) if len(read.chroms) > 1 else table)
            progress("genotypes", n + 1, len(plan))
        writer.finish()
        rows = writer.rows
        files = [
            {"file": f"{c}.parquet", "chrom": c, "rows": n, "sha256": _sha256(work / f"{c}.parquet")}
            for c, n in rows.items()
        ]
        manifest = {
            "dataset": dataset,
            "assembly": assembly,
            "node": {
                "organisation": settings.organisation_id,
                "public_url": settings.public_url,
                "beacon_id": settings.beacon_id,
            },
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "genomenode": __version__,
            "engine": engine.name,
            "individuals": len(set(consented.samples.values())),
            "samples": len(consented.samples),
            "left_out": consented.left_out,
            "consent_rule": (
                f"consent given with one of {', '.join(sorted(RESEARCH_PERMISSIONS))} and none of "
                f"{', '.join(sorted(RESEARCH_REFUSING_MODIFIERS))}; not withdrawn; samples active"
            ),
            "rows": sum(rows.values()),
            "files": files,
            "columns": {f.name: (f.metadata or {}).get(b"doc", b"").decode() for f in GENOTYPE_SCHEMA},
            "note": "sparse calls: a person with no row at an allele is hom-ref where their file covered it",
        }
        _write_atomically(work / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
        _install_folder(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return GenotypeExport(
        folder=out,
        dataset=dataset,
        assembly=assembly,
        engine=engine.name,
        individuals=len(set(consented.samples.values())),
        rows=rows,
        left_out=consented.left_out,
        seconds=time.monotonic() - started,
    )


class _ChromosomeFiles:
    """Rows of one chromosome at a time into `folder`/CHROM.parquet, each written as a `.tmp`
    sibling and renamed when its chromosome is complete; a chromosome without rows has no file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, int] = {}
        self._chrom: str | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, chrom: str, table: pa.Table) -> None:
        if chrom != self._chrom:
            self.finish()
            self._chrom = chrom
        if not table.num_rows:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp(chrom), GENOTYPE_SCHEMA, compression="zstd")
        self._writer.write_table(table, row_group_size=1 << 20)
        self.rows[chrom] = self.rows.get(chrom, 0) + table.num_rows

    def finish(self) -> None:
        if self._writer is not None and self._chrom is not None:
            self._writer.close()
            self._writer = None
            os.replace(self._tmp(self._chrom), self.folder / f"{self._chrom}.parquet")
        self._chrom = None

    def _tmp(self, chrom: str) -> Path:
        return self.folder / f"{chrom}.parquet.tmp"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _install_folder(work: Path, out: Path) -> None:
    """Put the finished folder at `out`; a folder there before (with --force) goes only after."""
    if not out.exists():
        os.rename(work, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(work, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old)
