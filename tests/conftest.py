"""Shared fixtures: real test data, a clean environment, and node settings under tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from genomenode.settings import Settings

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata"
G1K = TESTDATA / "1000g_chr22_10k"
G1K_JOINT = G1K / "10k.chr22.phase3_shapeit2_mvncall_integrated_v5.20130502.genotypes.vcf.gz"
G1K_BATCHES = sorted((G1K / "centre_batches").glob("*.vcf.gz"))
PLATINUM = TESTDATA / "platinum_ceph1463"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GENOMENODE_* variable from the developer's shell leaks into a test (httpx's clean_environ)."""
    for name in list(os.environ):
        if name.startswith("GENOMENODE_") and name != "GENOMENODE_GENE_MODELS_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "node")


@pytest.fixture(scope="session")
def bcftools() -> str:
    path = shutil.which("bcftools")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("bcftools is required in CI (scripts/install-system-deps.sh installs it)")
        pytest.skip("bcftools not installed (apt-get install bcftools)")
    return path


def require_testdata() -> None:
    if not G1K_JOINT.exists():
        pytest.skip(f"shared test data not found at {TESTDATA}")


def store_snapshot(data_dir: Path) -> dict[str, bytes]:
    """Every file under the data dir with its content: 'unchanged' means byte for byte."""
    if not data_dir.exists():
        return {}
    out: dict[str, bytes] = {}
    for p in sorted(data_dir.rglob("*")):
        if p.is_file() and p.name != ".write.lock" and not p.name.endswith(("-wal", "-shm")):
            out[p.relative_to(data_dir).as_posix()] = p.read_bytes()
    return out
