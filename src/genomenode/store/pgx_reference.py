"""PharmCAT's PGx reference data and CPIC's recommendation tables, read from disk once per process.

The reference folder holds PharmCAT's data files unmodified (MPL-2.0; CPIC content CC0, ClinPGx
CC BY-SA 4.0): `allele_definitions/<GENE>_translation.json`, `allele_definitions/exemptions.json`,
`phenotypes/<GENE>.json`, `positions/pharmcat_positions.vcf` and `reporter/messages.json`. It is
found at $GENOMENODE_PGX_REFERENCE, else at `<checkout>/../shared/reference/pgx` beside the
project (where the national centre keeps its reference data). Nothing here is retyped: the files
are read, and a folder that is absent or damaged is a ConfigurationError naming the folder or file
and the variable to set.

Recommendations are CPIC's tables (CC0) as the `pypgx` package ships them, found through the
installed distribution's files, never by importing pypgx (its `__init__` imports fuc and
scikit-learn, which `make install` leaves out: pypgx is installed `--no-deps` from
`requirements-data.txt`):

- `pypgx/api/data/recommendation-table.csv` (Drug, Gene1, Phenotype1, Gene2, Phenotype2,
  Recommendation). pypgx names no CPIC release for it: the table was added in pypgx 0.19.0
  (commit of 2022-08-31) and is unchanged through 0.27.0, so it is CPIC's recommendations as of
  mid-2022, keyed on phenotype only (see `CPIC_TABLES_AS_OF`).
- `pypgx/api/data/cpic-table.csv` (Gene, Drug, RxNorm, ATC, Guideline, CPICLevel,
  CPICLevelStatus, PharmGKBLevel, FDALabel, PMID): CPIC's gene-drug pairs, refreshed in pypgx
  0.21.0 (2023-08-19), used to cite each drug's guideline.
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
RECOMMENDATION_COLUMNS = ("Drug", "Gene1", "Phenotype1", "Gene2", "Phenotype2", "Recommendation")
GUIDELINE_COLUMNS = ("Gene", "Drug", "Guideline", "CPICLevel", "CPICLevelStatus", "PMID")
# What pypgx's history says about its CPIC tables (pypgx states no CPIC version number).
CPIC_TABLES_AS_OF = (
    "CPIC recommendations as pypgx took them in August 2022 (recommendation-table.csv, unchanged since "
    "pypgx 0.19.0) and CPIC gene-drug levels as of August 2023 (cpic-table.csv, pypgx 0.21.0)"
)


def default_folder() -> Path:
    """$GENOMENODE_PGX_REFERENCE, else `<checkout>/../shared/reference/pgx`."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "pgx"


def default_positions_vcf() -> Path:
    """PharmCAT's position list in the default folder (what the simulator writes its PGx sites from)."""
    return default_folder() / "positions" / "pharmcat_positions.vcf"


@dataclass(frozen=True)
class PgxReference:
    folder: Path
    definitions: Mapping[str, dict[str, Any]]  # gene → translation JSON
    exemptions: Mapping[str, dict[str, Any]]  # gene → its exemptions.json entry
    phenotypes: Mapping[str, dict[str, Any]]  # gene → phenotype JSON (not every gene has one)
    positions_vcf: Path
    version: str  # the data's "version" (PharmCAT's data release, e.g. 2025-11-05-00-25)
    messages: tuple[dict[str, Any], ...] = ()  # reporter/messages.json: curated warnings


def _fix(where: Path) -> str:
    return f"restore it from the reference copy, or set ${ENV} to a complete copy of PharmCAT's data (folder {where})"


def _json(path: Path, root: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read PharmCAT reference data ({exc}); {_fix(root)}") from None


def load_reference(path: Path | None = None) -> PgxReference:
    """The reference in `path` (default: `default_folder()`, read when called), parsed once per
    folder; ConfigurationError when the folder is absent or a file in it is damaged."""
    return _load(Path(path) if path is not None else default_folder())


@functools.cache
def _load(root: Path) -> PgxReference:
    alleles = root / "allele_definitions"
    if not alleles.is_dir():
        raise ConfigurationError(
            f"no PharmCAT reference data at {root} (looked for {alleles}); set ${ENV} to the folder holding "
            "allele_definitions/, phenotypes/ and positions/"
        )
    definitions: dict[str, dict[str, Any]] = {}
    for path in sorted(alleles.glob("*_translation.json")):
        doc = _json(path, root)
        if not isinstance(doc, dict) or not {"gene", "variants", "namedAlleles"} <= doc.keys():
            raise ConfigurationError(
                f"{path}: not a PharmCAT translation file (needs gene, variants, namedAlleles); {_fix(root)}"
            )
        definitions[str(doc["gene"])] = doc
    if not definitions:
        raise ConfigurationError(f"{alleles}: no <GENE>_translation.json files; {_fix(root)}")
    exemptions_path = alleles / "exemptions.json"
    raw = _json(exemptions_path, root) if exemptions_path.exists() else {}
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{exemptions_path}: expected an object of gene → exemptions; {_fix(root)}")
    exemptions = {str(gene): entry for gene, entry in raw.items() if isinstance(entry, dict)}
    phenotype_dir = root / "phenotypes"
    if not phenotype_dir.is_dir():
        raise ConfigurationError(f"{phenotype_dir}: missing (PharmCAT's diplotype → phenotype maps); {_fix(root)}")
    phenotypes: dict[str, dict[str, Any]] = {}
    for path in sorted(phenotype_dir.glob("*.json")):
        doc = _json(path, root)
        if not isinstance(doc, dict) or "gene" not in doc or not isinstance(doc.get("diplotypes", []), list):
            raise ConfigurationError(f"{path}: not a PharmCAT phenotype file (needs gene, diplotypes); {_fix(root)}")
        phenotypes[str(doc["gene"])] = doc
    positions = root / "positions" / "pharmcat_positions.vcf"
    if not positions.is_file():
        raise ConfigurationError(f"{positions}: missing (PharmCAT's GRCh38 position list); {_fix(root)}")
    messages_path = root / "reporter" / "messages.json"
    messages = _json(messages_path, root) if messages_path.exists() else []
    versions = sorted({str(d["version"]) for d in (*definitions.values(), *phenotypes.values()) if d.get("version")})
    return PgxReference(
        folder=root,
        definitions=definitions,
        exemptions=exemptions,
        phenotypes=phenotypes,
        positions_vcf=positions,
        version=versions[-1] if versions else "unknown",
        messages=tuple(m for m in messages if isinstance(m, dict)) if isinstance(messages, list) else (),
    )


def _pypgx_file(relative: str) -> Path:
    try:
        dist = importlib.metadata.distribution("pypgx")
    except importlib.metadata.PackageNotFoundError:
        raise ConfigurationError(
            "the pypgx package (it ships CPIC's recommendation tables) is not installed in this environment; "
            "run `make install` (it installs requirements-data.txt with --no-deps)"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ConfigurationError(
            f"pypgx {dist.version} has no {relative} (looked at {path}); "
            "reinstall the pinned version with `make install`"
        )
    return path


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str | None]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise ConfigurationError(
                    f"{path}: no column {', '.join(missing)}; pypgx changed its table format: reinstall the pinned "
                    "version with `make install`"
                )
            return [{k: (None if v in ("", "None") else v) for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigurationError(f"{path}: cannot read ({exc}); reinstall pypgx with `make install`") from None


@functools.cache
def load_recommendations() -> list[dict[str, str | None]]:
    """CPIC's recommendation rows (Drug, Gene1, Phenotype1, Gene2, Phenotype2, Recommendation),
    'None' and empty cells as None: a None Gene2 is a one-gene drug, a None phenotype in a
    two-gene row is CPIC's row for "that gene has no result", a None Recommendation is CPIC's
    "no recommendation". See `CPIC_TABLES_AS_OF` for how current it is."""
    return _rows(_pypgx_file(RECOMMENDATIONS), RECOMMENDATION_COLUMNS)


@functools.cache
def load_guidelines() -> list[dict[str, str | None]]:
    """CPIC's gene-drug pairs (Gene, Drug, Guideline URL, CPICLevel, CPICLevelStatus, PMID ...),
    to cite the guideline a recommendation comes from."""
    return _rows(_pypgx_file(GUIDELINES), GUIDELINE_COLUMNS)


def pypgx_version() -> str | None:
    """The installed pypgx's version (None when absent), for the report's sources line."""
    try:
        return importlib.metadata.version("pypgx")
    except importlib.metadata.PackageNotFoundError:
        return None
