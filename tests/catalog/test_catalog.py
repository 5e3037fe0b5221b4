"""The catalog on SQLite and PostgreSQL: schema, constraints, id reservation and the commit point."""

from __future__ import annotations

import hashlib
import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genomenode.catalog import database as db
from genomenode.catalog import models as m
from genomenode.catalog import repository as repo
from genomenode.errors import AssemblyError, ConfigurationError, StoreError

TABLES = set(m.Base.metadata.tables)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Explicit ids for rows the helpers insert, as the ingest inserts them.
_ids = itertools.count(1000)


def _pseudonym(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _run(session: Session, *, at: datetime = T0) -> int:
    run_id = next(_ids)
    session.add(m.IngestRun(id=run_id, started_at=at, finished_at=at, status="committed", command="test"))
    session.flush()
    return run_id


def _file(session: Session, dataset: m.Dataset, run_id: int, samples: dict[str, str], *, sha: str) -> m.VcfFile:
    """A VCF file with `samples` (sample id -> centre), explicit ids as the ingest gives them."""
    centre = repo.get_or_create_centre(session, "centre-a")
    file_id = next(_ids)
    vcf = m.VcfFile(
        id=file_id,
        dataset_id=dataset.id,
        centre_id=centre.id,
        run_id=run_id,
        name=f"{sha}.vcf.gz",
        sha256=sha * 64,
        size_bytes=10,
        kind="vcf",
        n_samples=len(samples),
        status="active",
    )
    session.add(vcf)
    session.flush()
    for sample_id, centre_name in samples.items():
        subject = repo.get_or_create_subject(session, pseudonym=_pseudonym(sample_id), sex="female")
        session.add(
            m.Sample(
                id=next(_ids),
                dataset_id=dataset.id,
                sample_id=sample_id,
                subject_id=subject.id,
                centre_id=repo.get_or_create_centre(session, centre_name).id,
                file_id=file_id,
                sex="female",
                population="SWE",
                consent="HMB",
            )
        )
    session.flush()
    return vcf


def _part(path: str, run_id: int, *, table: str = "variant_stats", chrom: str = "chr22") -> m.StoreFile:
    return m.StoreFile(
        path=path, table_name=table, assembly="GRCh38", chrom=chrom, run_id=run_id, n_rows=1, size_bytes=1
    )


# -- schema -----------------------------------------------------------------------------------


def test_migrations_create_every_table_and_are_idempotent(catalog_url: str) -> None:
    for _ in range(2):
        engine = db.open_catalog(catalog_url)
        try:
            assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
            with engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() == db.HEAD_REVISION
        finally:
            engine.dispose()


def test_models_and_migration_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), m.Base.metadata) == []


def test_downgrade_to_base_then_upgrade_to_head(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        command.downgrade(db.alembic_config(connection=conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    with engine.connect() as conn:
        heads = ScriptDirectory.from_config(db.alembic_config()).get_heads()
        assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def test_two_processes_opening_a_new_catalog_at_once_both_succeed(catalog_url: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        engines = list(pool.map(lambda _: db.open_catalog(catalog_url), range(8)))
    for engine in engines:
        engine.dispose()


def test_alembic_config_from_a_url_migrates_on_its_own_connection(catalog_url: str) -> None:
    command.upgrade(db.alembic_config(url=catalog_url), "head")
    engine = db.create_catalog_engine(catalog_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


# -- constraints ------------------------------------------------------------------------------


def test_dataset_names_are_unique(engine: Engine) -> None:
    with Session(engine) as s:
        s.add_all([m.Dataset(name="swegen", assembly="GRCh38"), m.Dataset(name="swegen", assembly="GRCh37")])
        with pytest.raises(IntegrityError):
            s.flush()


def test_a_checksum_is_unique_within_a_dataset_only(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        run_id = _run(s)
        one = repo.get_or_create_dataset(s, name="one", assembly="GRCh38")
        two = repo.get_or_create_dataset(s, name="two", assembly="GRCh38")
        _file(s, one, run_id, {"NA1": "c"}, sha="a")
        _file(s, two, run_id, {"NA1": "c"}, sha="a")
        assert repo.find_file_by_checksum(s, dataset_id=one.id, sha256="a" * 64) is not None
        assert repo.find_file_by_checksum(s, dataset_id=one.id, sha256="b" * 64) is None
        with pytest.raises(IntegrityError), s.begin_nested():
            _file(s, one, run_id, {"NA2": "c"}, sha="a")


def test_a_sample_id_is_active_once_per_dataset(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        run_id = _run(s)
        ds = repo.get_or_create_dataset(s, name="swegen", assembly="GRCh38")
        old = _file(s, ds, run_id, {"NA1": "c", "NA2": "c"}, sha="a")
        with pytest.raises(IntegrityError), s.begin_nested():
            _file(s, ds, run_id, {"NA1": "c"}, sha="b")
        repo.mark_files_replaced(s, file_ids=[old.id], run_id=run_id)
        new = _file(s, ds, run_id, {"NA1": "c"}, sha="c")
        assert [x.file_id for x in repo.active_samples(s, dataset_id=ds.id, sample_ids=["NA1", "NA2", "NA9"])] == [
            new.id
        ]
        assert repo.active_samples_of_file(s, file_id=old.id) == []
        s.refresh(old)
        assert (old.status, old.replaced_run_id) == ("replaced", run_id)


def test_check_constraints_keep_vocabularies(engine: Engine) -> None:
    with Session(engine) as s:
        s.add(m.Dataset(name="x", assembly="hg19"))
        with pytest.raises(IntegrityError):
            s.flush()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as s:
        s.add(_part("variant_stats/orphan.parquet", run_id=424242))
        with pytest.raises(IntegrityError):
            s.flush()


# -- ids and the commit point -----------------------------------------------------------------


def test_a_rolled_back_commit_transaction_leaves_nothing(engine: Engine) -> None:
    factory = db.session_factory(engine)

    class Killed(Exception):
        pass

    with pytest.raises(Killed), factory() as s, s.begin():
        run_id = _run(s)
        ds = repo.get_or_create_dataset(s, name="swegen", assembly="GRCh38")
        _file(s, ds, run_id, {"NA1": "c"}, sha="a")
        s.add(_part("variant_stats/part-1.parquet", run_id))
        s.flush()
        raise Killed
    with factory() as s:
        for model in (m.Dataset, m.IngestRun, m.VcfFile, m.Sample, m.Subject, m.Centre, m.StoreFile):
            assert s.scalars(select(model)).first() is None, model.__tablename__
        assert repo.all_store_paths(s) == set()
        assert repo.list_datasets(s) == []


def test_live_store_files_exclude_superseded_parts(engine: Engine) -> None:
    factory = db.session_factory(engine)
    with factory() as s, s.begin():
        first = _run(s, at=T0)
        s.add_all(
            [
                _part("variant_stats/a.parquet", first),
                _part("variant_stats/b.parquet", first, chrom="chr1"),
                _part("calls/c.parquet", first, table="calls"),
            ]
        )
    with factory() as s, s.begin():
        second = _run(s, at=T0 + timedelta(hours=1))
        old = repo.live_store_files(s, table_name="variant_stats", assembly="GRCh38", chrom="chr22")
        repo.mark_store_files_removed(s, ids=[f.id for f in old], run_id=second)
        s.add(_part("variant_stats/d.parquet", second))
    with factory() as s:
        assert [f.path for f in repo.live_store_files(s, table_name="variant_stats")] == [
            "variant_stats/b.parquet",
            "variant_stats/d.parquet",
        ]
        assert repo.live_store_files(s, table_name="variant_stats", assembly="GRCh37") == []
        assert repo.all_store_paths(s) == {
            "variant_stats/a.parquet",
            "variant_stats/b.parquet",
            "variant_stats/d.parquet",
            "calls/c.parquet",
        }
        after = T0 + timedelta(hours=1, seconds=1)
        assert [f.path for f in repo.removed_store_files(s, before=after)] == ["variant_stats/a.parquet"]
        assert repo.removed_store_files(s, before=T0 + timedelta(minutes=59)) == []
        # a plan made before another run superseded a part is stale: the commit is refused
        with pytest.raises(StoreError, match="no longer live"):
            repo.mark_store_files_removed(s, ids=[f.id for f in old], run_id=second)


# -- what the query layer and the ingest read -------------------------------------------------


def test_list_datasets_counts_active_samples_and_files(engine: Engine) -> None:
    factory = db.session_factory(engine)
    with factory() as s, s.begin():
        run_id = _run(s)
        ds = repo.get_or_create_dataset(s, name="swegen", assembly="GRCh38")
        repo.get_or_create_dataset(s, name="empty", assembly="GRCh37")
        old = _file(s, ds, run_id, {"NA1": "umea", "NA2": "lund"}, sha="a")
        _file(s, ds, run_id, {"NA3": "uppsala", "NA4": "lund", "NA5": "lund"}, sha="b")
        repo.mark_files_replaced(s, file_ids={old.id}, run_id=run_id)
    with factory() as s:
        empty, swegen = repo.list_datasets(s)
    assert (empty.name, empty.assembly, empty.n_samples, empty.n_files, empty.centres) == ("empty", "GRCh37", 0, 0, [])
    assert (swegen.name, swegen.n_samples, swegen.n_files, swegen.centres) == ("swegen", 3, 1, ["lund", "uppsala"])
    assert swegen.created_at.tzinfo is not None


def test_call_groups_of_active_files_in_one_assembly(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        run_id = _run(s)
        d38 = repo.get_or_create_dataset(s, name="d38", assembly="GRCh38")
        d37 = repo.get_or_create_dataset(s, name="d37", assembly="GRCh37")
        files = [
            _file(s, d38, run_id, {"A": "c"}, sha="a"),
            _file(s, d38, run_id, {"B": "c"}, sha="b"),
            _file(s, d37, run_id, {"C": "c"}, sha="c"),
        ]
        gids = [next(_ids) for _ in files]
        for gid, f in zip(gids, files, strict=True):
            s.add(
                m.CallGroup(
                    id=gid,
                    file_id=f.id,
                    dataset_id=f.dataset_id,
                    population="SWE",
                    sex="female",
                    centre="c",
                    n_samples=1,
                )
            )
        s.flush()
        repo.mark_files_replaced(s, file_ids=[files[0].id], run_id=run_id)
        rows = repo.call_groups(s, assembly="GRCh38")
        assert [(r.group_id, r.file_id, r.dataset, r.n_samples) for r in rows] == [(gids[1], files[1].id, "d38", 1)]
        assert repo.call_groups(s, assembly="GRCh37", dataset_ids=[d38.id]) == []
        assert [r.dataset for r in repo.call_groups(s, assembly="GRCh37", dataset_ids=[d37.id])] == ["d37"]


def test_get_or_create_is_idempotent_and_guards_its_inputs(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        ds = repo.get_or_create_dataset(s, name="swegen", assembly="GRCh38")
        assert repo.get_or_create_dataset(s, name="swegen", assembly="GRCh38") is ds
        assert repo.get_dataset(s, "swegen") is ds and repo.get_dataset(s, "other") is None
        with pytest.raises(AssemblyError, match="holds GRCh38"):
            repo.get_or_create_dataset(s, name="swegen", assembly="GRCh37")
        assert repo.get_or_create_centre(s, "lund").id == repo.get_or_create_centre(s, "lund").id
        subject = repo.get_or_create_subject(s, pseudonym=_pseudonym("19121212-1212"), sex="male")
        assert repo.get_or_create_subject(s, pseudonym=_pseudonym("19121212-1212"), sex="male") is subject
        with pytest.raises(ValueError, match="never a raw identifier"):
            repo.get_or_create_subject(s, pseudonym="19121212-1212", sex="male")


def test_times_come_back_in_utc_and_naive_times_are_refused(engine: Engine) -> None:
    stockholm = T0.astimezone(ZoneInfo("Europe/Stockholm"))
    with Session(engine) as s, s.begin():
        s.add(m.IngestRun(id=1, started_at=stockholm, status="committed"))
    with Session(engine) as s:
        run = s.get_one(m.IngestRun, 1)
        assert run.started_at == T0 and run.started_at.tzinfo == UTC and run.finished_at is None
        s.add(m.IngestRun(id=2, started_at=datetime(2025, 1, 1), status="committed"))
        with pytest.raises(Exception, match="naive datetime"):
            s.flush()


# -- URLs -------------------------------------------------------------------------------------


def test_catalog_url_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    assert db.catalog_url(tmp_path, None) == f"sqlite:///{tmp_path}/catalog.sqlite"
    assert db.catalog_url(tmp_path, " ") == f"sqlite:///{tmp_path}/catalog.sqlite"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://gn:s3cr%40t@db.example:5433/node", "postgresql+psycopg://gn:s3cr%40t@db.example:5433/node"),
        ("postgres://gn@db/node?sslmode=require", "postgresql+psycopg://gn@db/node?sslmode=require"),
        ("postgresql+psycopg://gn@db/node", "postgresql+psycopg://gn@db/node"),
        ("sqlite:////srv/node/catalog.sqlite", "sqlite:////srv/node/catalog.sqlite"),
    ],
)
def test_catalog_url_takes_the_environment_url(given: str, expected: str) -> None:
    assert db.catalog_url(Path("unused"), given) == expected


@pytest.mark.parametrize("given", ["not a url", "mysql://gn@db/node"])
def test_catalog_url_refuses_what_cannot_work(given: str) -> None:
    with pytest.raises(ConfigurationError, match="GENOMENODE_CATALOG_URL"):
        db.catalog_url(Path("unused"), given)


def test_head_revision_constant__matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    from genomenode.catalog.database import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]
