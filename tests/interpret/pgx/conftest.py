"""PharmCAT's allele definitions from the shared reference folder (skipped when it is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genomenode.interpret.pgx.definitions import GeneDefinition, parse_definitions

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "pgx" / "allele_definitions"


def load_documents() -> tuple[dict[str, dict], dict[str, dict]]:  # type: ignore[type-arg]
    if not (REFERENCE / "exemptions.json").is_file():
        pytest.skip(f"PharmCAT allele definitions not found at {REFERENCE}", allow_module_level=True)
    exemptions = json.loads((REFERENCE / "exemptions.json").read_text())
    translations = {
        path.name.removesuffix("_translation.json"): json.loads(path.read_text())
        for path in sorted(REFERENCE.glob("*_translation.json"))
    }
    return translations, exemptions


@pytest.fixture(scope="session")
def documents() -> tuple[dict[str, dict], dict[str, dict]]:  # type: ignore[type-arg]
    return load_documents()


@pytest.fixture(scope="session")
def definitions(documents: tuple[dict[str, dict], dict[str, dict]]) -> dict[str, GeneDefinition]:  # type: ignore[type-arg]
    return parse_definitions(*documents)
