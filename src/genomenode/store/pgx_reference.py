"""PharmCAT's PGx reference data and CPIC's recommendation table, read from disk once per process.

The reference folder holds PharmCAT's data files unmodified (MPL-2.0; CPIC content CC0, ClinPGx
CC BY-SA 4.0): `allele_definitions/<GENE>_translation.json`, `allele_definitions/exemptions.json`,
`phenotypes/<GENE>.json`, `positions/pharmcat_positions.vcf`. It is found at
$GENOMENODE_PGX_REFERENCE, else at `<checkout>/../shared/reference/pgx` beside the project (where
the national centre keeps its reference data). Nothing here is retyped: the files are read.

Recommendations are CPIC's guideline tables (CC0) as the `pypgx` package ships them
(`pypgx/api/data/recommendation-table.csv`, `cpic-table.csv`). pypgx is installed without its
dependencies, so it is never imported: its data files are found through the installed
distribution's file list.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomenode.errors import ConfigurationError

ENV = "GENOMENODE_PGX_REFERENCE"
RECOMMENDATIONS = "pypgx/api/data/recommendation-table.csv"
GUIDELINES = "pypgx/api/data/cpic-table.csv"


def default_folder() -> Path:
    """$GENOMENODE_PGX_REFERENCE, else `<checkout>/../shared/reference/pgx`."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "pgx"


@dataclass(frozen=True)
class PgxReference:
    folder: Path
    definitions: Mapping[str, dict[str, Any]]  # gene → translation JSON
    exemptions: Mapping[str, dict[str, Any]]  # gene → its exemptions.json entry
    phenotypes: Mapping[str, dict[str, Any]]  # gene → phenotype JSON (not every gene has one)
    positions_vcf: Path
    version: str  # the data's "version" (PharmCAT's data release)
    messages: tuple[dict[str, Any], ...] = ()  # reporter/messages.json: curated warnings


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read PharmCAT reference data ({exc}); restore the file from the reference "
            f"copy or point ${ENV} at a complete one"
        ) from None


@functools.cache
def load_reference(folder: Path | None = None) -> PgxReference:
    """The reference in `folder` (default: `default_folder()`), parsed; ConfigurationError when absent."""
    root = folder or default_folder()
    alleles = root / "allele_definitions"
    if not alleles.is_dir():
        raise ConfigurationError(
            f"no PharmCAT reference data at {root} (looked for {alleles}); set ${ENV} to the folder holding "
            "allele_definitions/, phenotypes/ and positions/"
        )
    definitions: dict[str, dict[str, Any]] = {}
    for path in sorted(alleles.glob("*_translation.json")):
        doc = _json(path)
        if not isinstance(doc, dict) or "gene" not in doc or "variants" not in doc or "namedAlleles" not in doc:
            raise ConfigurationError(f"{path}: not a PharmCAT translation file (no gene, variants, namedAlleles)")
        definitions[str(doc["gene"])] = doc
    if not definitions:
        raise ConfigurationError(f"{alleles}: no <GENE>_translation.json files; the reference copy is incomplete")
    exemptions_path = alleles / "exemptions.json"
    raw = _json(exemptions_path) if exemptions_path.exists() else {}
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{exemptions_path}: expected an object of gene → exemptions")
    exemptions = {str(gene): entry for gene, entry in raw.items() if isinstance(entry, dict)}
    phenotypes: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "phenotypes").glob("*.json")):
        doc = _json(path)
        if isinstance(doc, dict) and "gene" in doc:
            phenotypes[str(doc["gene"])] = doc
    messages_path = root / "reporter" / "messages.json"
    messages = _json(messages_path) if messages_path.exists() else []
    versions = sorted({str(d.get("version")) for d in definitions.values() if d.get("version")})
    return PgxReference(
        folder=root,
        definitions=definitions,
        exemptions=exemptions,
        phenotypes=phenotypes,
        positions_vcf=root / "positions" / "pharmcat_positions.vcf",
        version=versions[-1] if versions else "unknown",
        messages=tuple(m for m in messages if isinstance(m, dict)) if isinstance(messages, list) else (),
    )


def _pypgx_file(relative: str) -> Path:
    try:
        dist = importlib.metadata.distribution("pypgx")
    except importlib.metadata.PackageNotFoundError:
        raise ConfigurationError(
            "the pypgx package (CPIC recommendation tables) is not installed; run `make install`"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ConfigurationError(f"pypgx {dist.version} has no {relative}; reinstall it with `make install`")
    return path


def _rows(path: Path) -> list[dict[str, str | None]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [{k: (None if v in ("", "None") else v) for k, v in row.items()} for row in csv.DictReader(fh)]


@functools.cache
def load_recommendations() -> list[dict[str, str | None]]:
    """CPIC's recommendation rows (Drug, Gene1, Phenotype1, Gene2, Phenotype2, Recommendation),
    'None' cells as None."""
    return _rows(_pypgx_file(RECOMMENDATIONS))


@functools.cache
def load_guidelines() -> list[dict[str, str | None]]:
    """CPIC's gene-drug pairs (Gene, Drug, Guideline URL, CPICLevel, PMID ...)."""
    return _rows(_pypgx_file(GUIDELINES))


def pypgx_version() -> str | None:
    try:
        return importlib.metadata.version("pypgx")
    except importlib.metadata.PackageNotFoundError:
        return None
