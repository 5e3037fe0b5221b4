"""Gene panels in PanelApp's model (Genomics England / PanelApp Australia), parsed from text or dicts.

A panel has a name, PanelApp's id and a version ("3.24"); each gene has its HGNC symbol and id,
a confidence level, a mode of inheritance, a mode of pathogenicity and phenotypes. PanelApp rates
genes 3 (green: diagnostic-grade evidence), 2 (amber), 1 (red) and 0 (no list yet); values above 3
are shown green by PanelApp, so 4 counts as green here too. Genes at level 0 are on no list and are
left out of `genes` (kept by symbol in `unrated`), as PanelApp's own TSV download leaves them out.

Two sources, field names as PanelApp writes them (its `panels/views/genes.py` TSV download and
`api/v1/serializers.py`):

* the gene-list TSV download: columns `Entity Name`, `Entity type`, `Gene Symbol`, `Level4`
  (panel name), `Model_Of_Inheritance`, `Phenotypes` (`;`-separated), `GEL_Status` (the
  confidence level), `version`, `Mode of pathogenicity`, `HGNC`, among others. Only gene rows
  are kept (STR and region rows are not gene-level evidence). A hand-made panel needs only a
  symbol column and a confidence column (`GEL_Status`, `confidence_level` or `Confidence`,
  holding 0–4 or green/amber/red).
* the API v1 JSON: a panel (`/api/v1/panels/{id}/`: `id`, `name`, `version`, `genes` with
  `gene_data.gene_symbol`, `gene_data.hgnc_id`, `confidence_level`, `mode_of_inheritance`,
  `mode_of_pathogenicity`, `phenotypes`), or a page of a panel's genes (`results`, each with
  its `panel`).

Reading the file is `ingest.panels.read_panel_file`'s job; this module only parses.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genomenode.errors import PanelError


class Confidence(enum.IntEnum):
    """PanelApp's gene rating (`confidence_level`): 3 green, 2 amber, 1 red."""

    RED = 1
    AMBER = 2
    GREEN = 3

    @classmethod
    def parse(cls, text: str) -> Confidence | None:
        """`3`/`4`/`green` → GREEN, `2`/`amber` → AMBER, `1`/`red` → RED, `0` → None (no list).

        Raises ValueError for anything else.
        """
        key = text.strip().lower()
        named = {"green": cls.GREEN, "amber": cls.AMBER, "red": cls.RED}
        if key in named:
            return named[key]
        if key.isdigit():
            level = int(key)
            if level == 0:
                return None
            if level <= 4:
                return cls(min(level, 3))
        raise ValueError(text)


# Exomiser-style codes for PanelApp's modes of inheritance (its Evaluation.MODES_OF_INHERITANCE).
MODES_OF_INHERITANCE = ("AD", "AR", "XLD", "XLR", "MT")


def inheritance_modes(moi: str) -> frozenset[str]:
    """The inheritance modes a PanelApp mode-of-inheritance text allows (empty when unknown).

    MONOALLELIC → AD; BIALLELIC → AR; BOTH monoallelic and biallelic → AD, AR; X-LINKED with
    biallelic mutations in females → XLR; X-LINKED where monoallelic mutations in females may
    cause disease → XLR, XLD; MITOCHONDRIAL → MT; Unknown, Other or empty → nothing.
    """
    text = moi.strip().upper()
    if text.startswith("MONOALLELIC"):
        return frozenset({"AD"})
    if text.startswith("BIALLELIC"):
        return frozenset({"AR"})
    if text.startswith("BOTH"):
        return frozenset({"AD", "AR"})
    if text.startswith("X-LINKED"):
        return frozenset({"XLR", "XLD"}) if "MONOALLELIC" in text else frozenset({"XLR"})
    if text.startswith("MITOCHONDRIAL"):
        return frozenset({"MT"})
    return frozenset()


_HGNC = re.compile(r"HGNC:\d+")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@#/-]*")
_VERSION = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class PanelGene:
    symbol: str
    hgnc_id: str | None
    confidence: Confidence
    mode_of_inheritance: str  # as PanelApp writes it; "" when not given
    mode_of_pathogenicity: str
    phenotypes: tuple[str, ...]

    @property
    def inheritance(self) -> frozenset[str]:
        return inheritance_modes(self.mode_of_inheritance)

    @property
    def lof_not_disease_mechanism(self) -> bool:
        """PanelApp's mode of pathogenicity says loss-of-function variants do NOT cause the phenotype."""
        return "loss-of-function variants" in self.mode_of_pathogenicity.lower() and (
            "do not cause" in self.mode_of_pathogenicity.lower()
        )


@dataclass(frozen=True)
class Panel:
    name: str
    id: int | None
    version: str | None
    genes: tuple[PanelGene, ...]
    source: str = ""
    unrated: tuple[str, ...] = ()  # PanelApp level 0: on no list, left out of `genes`

    def __str__(self) -> str:
        ident = f" (PanelApp {self.id})" if self.id is not None else ""
        return f"{self.name}{ident} v{self.version or '?'}"

    def symbols(self, min_confidence: Confidence = Confidence.GREEN) -> frozenset[str]:
        return frozenset(g.symbol for g in genes_at(self, min_confidence))

    def gene(self, symbol: str) -> PanelGene | None:
        key = symbol.upper()
        return next((g for g in self.genes if g.symbol.upper() == key), None)


def genes_at(panel: Panel, min_confidence: Confidence = Confidence.GREEN) -> tuple[PanelGene, ...]:
    """The panel's genes rated `min_confidence` or better (GREEN: green only; AMBER: green and amber)."""
    return tuple(g for g in panel.genes if g.confidence >= min_confidence)


# --- TSV ---------------------------------------------------------------------------------------

_SYMBOL_COLUMNS = ("Gene Symbol", "Entity Name", "Entity Symbol", "gene_symbol", "Symbol")
_CONFIDENCE_COLUMNS = ("GEL_Status", "confidence_level", "Confidence")


def _pick(header: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def parse_panelapp_tsv(
    text: str, *, source: str = "<panel>", name: str | None = None, panel_id: int | None = None
) -> Panel:
    """A panel from PanelApp's gene-list TSV (or a hand-made TSV with a symbol and a confidence column).

    `name` is used when the file has no `Level4` column (PanelApp's downloads name the panel there).
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t"))
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise PanelError(f"{source}: empty file; a PanelApp TSV starts with a header line (Entity Name, ...)")
    header = [h.strip() for h in rows[0]]
    symbol_col = _pick(header, _SYMBOL_COLUMNS)
    confidence_col = _pick(header, _CONFIDENCE_COLUMNS)
    wanted = {"gene symbol": (symbol_col, _SYMBOL_COLUMNS), "confidence": (confidence_col, _CONFIDENCE_COLUMNS)}
    missing = {label: names for label, (found, names) in wanted.items() if found is None}
    if missing:
        raise PanelError(
            f"{source}: line 1: the header has no {' or '.join(missing)} column "
            f"({'; '.join(label + ': one of ' + ', '.join(names) for label, names in missing.items())}); "
            "download the panel from PanelApp as TSV, or add the column"
        )
    assert symbol_col is not None and confidence_col is not None
    col = {h: i for i, h in enumerate(header)}
    type_col = _pick(header, ("Entity type",))
    optional = {
        "moi": _pick(header, ("Model_Of_Inheritance", "Mode of inheritance", "mode_of_inheritance")),
        "mop": _pick(header, ("Mode of pathogenicity", "mode_of_pathogenicity")),
        "phenotypes": _pick(header, ("Phenotypes", "phenotypes")),
        "hgnc": _pick(header, ("HGNC", "hgnc_id", "HGNC ID")),
        "version": _pick(header, ("version",)),
        "panel": _pick(header, ("Level4",)),
    }

    def cell(row: list[str], column: str | None) -> str:
        return row[col[column]].strip() if column is not None else ""

    genes: list[PanelGene] = []
    unrated: list[str] = []
    seen: dict[str, int] = {}
    versions: dict[str, int] = {}
    names: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise PanelError(
                f"{source}: line {line}: {len(row)} columns, the header has {len(header)}; "
                "a tab is missing or extra in this row"
            )
        if type_col is not None and cell(row, type_col).lower() not in ("gene", ""):
            continue
        symbol = cell(row, symbol_col)
        gene = _gene(
            source=source,
            where=f"line {line}",
            fields=(symbol_col, confidence_col, optional["hgnc"]),
            symbol=symbol,
            confidence=cell(row, confidence_col),
            hgnc=cell(row, optional["hgnc"]),
            moi=cell(row, optional["moi"]),
            mop=cell(row, optional["mop"]),
            phenotypes=tuple(p.strip() for p in cell(row, optional["phenotypes"]).split(";") if p.strip()),
        )
        if cell(row, optional["version"]):
            versions.setdefault(cell(row, optional["version"]), line)
        if cell(row, optional["panel"]):
            names.setdefault(cell(row, optional["panel"]), line)
        key = symbol.upper()
        if key in seen:
            raise PanelError(
                f"{source}: line {line}: column {symbol_col}: gene {symbol} is listed again (first on line "
                f"{seen[key]}); a panel rates each gene once"
            )
        seen[key] = line
        if gene is None:
            unrated.append(symbol)
        else:
            genes.append(gene)
    version = _one(source, "version", versions)
    if version is not None and not _VERSION.fullmatch(version):
        raise PanelError(f"{source}: line {versions[version]}: column version: {version!r} is not a version like 3.24")
    panel_name = _one(source, "Level4", names) or name
    if not panel_name:
        raise PanelError(f"{source}: no panel name: the file has no Level4 column; give the panel a name")
    return Panel(panel_name, panel_id, version, tuple(genes), source, tuple(unrated))


def _one(source: str, column: str, values: dict[str, int]) -> str | None:
    if len(values) > 1:
        (a, la), (b, lb) = list(values.items())[:2]
        raise PanelError(
            f"{source}: line {lb}: column {column}: {b!r} differs from {a!r} on line {la}; "
            "a file holds one version of one panel"
        )
    return next(iter(values), None)


def _gene(
    *,
    source: str,
    where: str,
    fields: tuple[str, str, str | None],
    symbol: str,
    confidence: str,
    hgnc: str,
    moi: str,
    mop: str,
    phenotypes: tuple[str, ...],
) -> PanelGene | None:
    symbol_field, confidence_field, hgnc_field = fields
    if not _SYMBOL.fullmatch(symbol):
        raise PanelError(f"{source}: {where}: field {symbol_field}: {symbol!r} is not a gene symbol")
    try:
        level = Confidence.parse(confidence)
    except ValueError:
        raise PanelError(
            f"{source}: {where}: field {confidence_field}: {confidence!r} is not a PanelApp confidence level "
            "(3 or 4 green, 2 amber, 1 red, 0 no list; or green/amber/red)"
        ) from None
    hgnc_id = hgnc if hgnc not in ("", "-") else None
    if hgnc_id is not None and not _HGNC.fullmatch(hgnc_id):
        raise PanelError(f"{source}: {where}: field {hgnc_field or 'HGNC'}: {hgnc!r} is not an HGNC id like HGNC:1100")
    if level is None:
        return None
    return PanelGene(symbol, hgnc_id, level, moi, mop, phenotypes)


# --- JSON --------------------------------------------------------------------------------------


def parse_panelapp_json(data: Any, *, source: str = "<panel>") -> Panel:
    """A panel from PanelApp's API v1 JSON: a panel with `genes`, or a page of genes in `results`."""
    if not isinstance(data, Mapping):
        raise PanelError(f"{source}: field (top level): a PanelApp panel is a JSON object, not {type(data).__name__}")
    if "genes" in data:
        panel_info: Mapping[str, Any] = data
        entries, path = data["genes"], "genes"
    elif "results" in data:
        entries, path = data["results"], "results"
        panels: list[Mapping[str, Any]] = [
            e["panel"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("panel"), Mapping)
        ]
        if not panels:
            raise PanelError(f"{source}: field results: no entry names its panel; download /api/v1/panels/{{id}}/")
        ids = {p.get("id") for p in panels}
        if len(ids) > 1:
            raise PanelError(f"{source}: field results[].panel.id: genes of several panels ({sorted(map(str, ids))})")
        panel_info = panels[0]
    else:
        raise PanelError(
            f"{source}: field genes: missing; expected PanelApp's /api/v1/panels/{{id}}/ answer (with genes) "
            "or a page of its genes (with results)"
        )
    if not isinstance(entries, list):
        raise PanelError(f"{source}: field {path}: a list of genes, not {type(entries).__name__}")
    name = panel_info.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PanelError(f"{source}: field name: the panel has no name")
    panel_id = panel_info.get("id")
    if panel_id is not None and (isinstance(panel_id, bool) or not isinstance(panel_id, int)):
        raise PanelError(f"{source}: field id: {panel_id!r} is not PanelApp's numeric panel id")
    version = panel_info.get("version")
    if version is not None:
        version = str(version)
        if not _VERSION.fullmatch(version):
            raise PanelError(f"{source}: field version: {version!r} is not a version like 3.24")
    genes: list[PanelGene] = []
    unrated: list[str] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"{path}[{i}]"
        if not isinstance(entry, Mapping):
            raise PanelError(f"{source}: field {where}: a gene is a JSON object, not {type(entry).__name__}")
        if str(entry.get("entity_type", "gene")).lower() != "gene":
            continue
        gene_data = entry.get("gene_data") or {}
        if not isinstance(gene_data, Mapping):
            raise PanelError(f"{source}: field {where}.gene_data: an object, not {type(gene_data).__name__}")
        symbol = gene_data.get("gene_symbol") or entry.get("entity_name") or ""
        phenotypes = entry.get("phenotypes") or []
        if not isinstance(phenotypes, list) or not all(isinstance(p, str) for p in phenotypes):
            raise PanelError(f"{source}: field {where}.phenotypes: a list of strings")
        for key in ("mode_of_inheritance", "mode_of_pathogenicity"):
            if entry.get(key) is not None and not isinstance(entry.get(key), str):
                raise PanelError(f"{source}: field {where}.{key}: a string, not {type(entry.get(key)).__name__}")
        confidence = entry.get("confidence_level")
        gene = _gene(
            source=source,
            where=f"field {where}",
            fields=("gene_data.gene_symbol", "confidence_level", "gene_data.hgnc_id"),
            symbol=str(symbol).strip(),
            confidence="" if confidence is None or isinstance(confidence, bool) else str(confidence),
            hgnc=str(gene_data.get("hgnc_id") or "").strip(),
            moi=(entry.get("mode_of_inheritance") or "").strip(),
            mop=(entry.get("mode_of_pathogenicity") or "").strip(),
            phenotypes=tuple(p.strip() for p in phenotypes if p.strip()),
        )
        key = str(symbol).strip().upper()
        if key in seen:
            raise PanelError(
                f"{source}: field {where}: gene {symbol} is listed again (first at {path}[{seen[key]}]); "
                "a panel rates each gene once"
            )
        seen[key] = i
        if gene is None:
            unrated.append(str(symbol).strip())
        else:
            genes.append(gene)
    return Panel(name.strip(), panel_id, version, tuple(genes), source, tuple(unrated))
