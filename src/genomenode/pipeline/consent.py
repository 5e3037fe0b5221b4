"""Consent changes that reach the statistics in the same request that records them.

Withdrawing consent takes the person out of every aggregate at once: under the store's write
lock we give their one-person call groups weight 0, write an exclusion group (store.exclusion)
for their share of larger groups, recompute the statistics of the chromosomes their files hold,
and commit all of it with the consent row in one catalog transaction, as an ingest commits. A
kill at any point leaves the previous state (orphan parts are swept by the next writer).
Giving consent again reverses it: weights back to 1, exclusion groups dropped.
Research queries check the consent in force at every read (access.policy), so they need nothing
more. Clinical care is not research: a clinician still sees their patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from genomenode.access import policy
from genomenode.access.duo import parse_data_use
from genomenode.access.gate import AccessControl
from genomenode.catalog import models as m
from genomenode.catalog import repository as repo
from genomenode.catalog import sharing
from genomenode.domain.assembly import Assembly
from genomenode.domain.samples import Sex
from genomenode.errors import AccessDeniedError, NotFoundError
from genomenode.pipeline.restats import exclusion_group_of, file_id_of, recompute_stats, store_file_rows
from genomenode.store.exclusion import exclusion_tables
from genomenode.store.lock import write_lock
from genomenode.store.parquet import PartInfo, write_part


@dataclass(frozen=True)
class _Member:
    sample: int
    file_id: int
    group: m.CallGroup
    assembly: Assembly
    sex: Sex
    dataset: str


def give(
    gate: AccessControl,
    caller: policy.Caller,
    individual_id: str,
    *,
    codes: Sequence[str],
    signed_on: datetime | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Record consent (DUO codes) as given; a person who had withdrawn is counted again."""
    parse_data_use(list(codes))  # refuse unknown codes before anything changes
    return _change(gate, caller, individual_id, withdrawn=False, codes=list(codes), signed_on=signed_on, source=source)


def withdraw(gate: AccessControl, caller: policy.Caller, individual_id: str, *, source: str = "") -> dict[str, Any]:
    """Record a withdrawal; the person leaves every aggregate and research answer now."""
    return _change(gate, caller, individual_id, withdrawn=True, codes=[], signed_on=None, source=source)


def _change(
    gate: AccessControl,
    caller: policy.Caller,
    individual_id: str,
    *,
    withdrawn: bool,
    codes: list[str],
    signed_on: datetime | None,
    source: str,
) -> dict[str, Any]:
    decision = policy.may(caller, policy.Action.MANAGE_CONSENT)
    if not decision:
        raise AccessDeniedError(decision.reason)
    settings = gate.settings
    root = settings.store_root
    with write_lock(root):
        with gate.Session() as s:
            subject = sharing.get_subject(s, individual_id)
            if subject is None or subject.status == "erased":
                raise NotFoundError(f"no individual {individual_id!r}")
            members = _members(s, subject.id)
            run_id = int(s.scalar(select(func.max(m.IngestRun.id))) or 0) + 1
            next_group = int(s.scalar(select(func.max(m.CallGroup.id))) or 0) + 1
            weights, new_groups, dropped_groups = _plan_groups(s, members, withdrawn, next_group)
        written: list[PartInfo] = []
        try:
            superseded: list[int] = []
            part_dataset: dict[str, int] = {}
            with gate.Session() as s:
                for assembly, chroms in _chroms_by_assembly(s, members).items():
                    for gid, member in new_groups:
                        if member.assembly is not assembly:
                            continue
                        parts = _exclusion_parts(root, s, member, gid, run_id, chroms)
                        part_dataset |= {p.path: member.group.dataset_id for p in parts}
                        written += parts
                    stats, old = recompute_stats(
                        root,
                        s,
                        assembly,
                        sorted(chroms),
                        written,
                        [_group_dict(gid, mem) for gid, mem in new_groups if mem.assembly is assembly],
                        run_id,
                        set(),
                        lambda *_: None,
                        weights=weights,
                        drop_groups=dropped_groups,
                    )
                    written += stats
                    superseded += old
                dropped_parts = [
                    f.id
                    for table in ("site_counts", "coverage")
                    for f in repo.live_store_files(s, table_name=table)
                    if exclusion_group_of(f.path) in dropped_groups
                ]
            gate.record(
                caller,
                "consent.withdraw" if withdrawn else "consent.give",
                target=subject.pseudonym,
                outcome="done",
                codes=";".join(codes) or None,
            )
            with gate.Session() as s, s.begin():
                now = datetime.now(UTC)
                s.add(
                    m.IngestRun(
                        id=run_id,
                        started_at=now,
                        finished_at=now,
                        status="committed",
                        command=f"consent {'withdraw' if withdrawn else 'give'}",
                        report="{}",
                    )
                )
                s.flush()
                subj = s.get(m.Subject, subject.id)
                assert subj is not None
                sharing.record_consent(
                    s,
                    subject=subj,
                    codes=codes,
                    status="withdrawn" if withdrawn else "given",
                    by=caller.actor,
                    source=source,
                    signed_on=signed_on,
                )
                for gid, weight in weights.items():
                    s.execute(update(m.CallGroup).where(m.CallGroup.id == gid).values(weight=weight))
                if dropped_groups:
                    s.execute(delete(m.CallGroup).where(m.CallGroup.id.in_(dropped_groups)))
                for gid, mem in new_groups:
                    s.add(
                        m.CallGroup(
                            id=gid,
                            file_id=mem.file_id,
                            dataset_id=mem.group.dataset_id,
                            population=mem.group.population,
                            sex=mem.group.sex,
                            centre=mem.group.centre,
                            n_samples=1,
                            weight=-1,
                            excludes_sample_id=mem.sample,
                        )
                    )
                repo.mark_store_files_removed(s, ids=[*superseded, *dropped_parts], run_id=run_id)
                s.add_all(
                    store_file_rows(
                        written, run_id=run_id, dataset_of=lambda p: part_dataset.get(p.path), created_at=now
                    )
                )
        except BaseException:
            for part in written:
                (root / part.path).unlink(missing_ok=True)
            raise
    return {
        "individual": individual_id,
        "status": "withdrawn" if withdrawn else "given",
        "samples": len(members),
        "run": run_id,
    }


def _members(session: Any, subject_id: int) -> list[_Member]:
    """The subject's active samples with the call group each is counted in."""
    rows = session.execute(
        select(m.Sample, m.Dataset.assembly, m.Dataset.name)
        .join(m.VcfFile, m.VcfFile.id == m.Sample.file_id)
        .join(m.Dataset, m.Dataset.id == m.Sample.dataset_id)
        .where(m.Sample.subject_id == subject_id, m.Sample.status == "active", m.VcfFile.status == "active")
    ).all()
    out = []
    for sample, assembly, dataset in rows:
        centre = session.get(m.Centre, sample.centre_id)
        group = session.scalar(
            select(m.CallGroup).where(
                m.CallGroup.file_id == sample.file_id,
                m.CallGroup.population == sample.population,
                m.CallGroup.sex == sample.sex,
                m.CallGroup.centre == centre.name,
                m.CallGroup.weight >= 0,
            )
        )
        if group is not None:
            out.append(_Member(sample.id, sample.file_id, group, Assembly(assembly), Sex(sample.sex), dataset))
    return out


def _plan_groups(
    session: Any, members: list[_Member], withdrawn: bool, next_group: int
) -> tuple[dict[int, int], list[tuple[int, _Member]], set[int]]:
    """(weight changes, exclusion groups to add, exclusion groups to drop)."""
    weights: dict[int, int] = {}
    new: list[tuple[int, _Member]] = []
    dropped: set[int] = set()
    for mem in members:
        existing = set(session.scalars(select(m.CallGroup.id).where(m.CallGroup.excludes_sample_id == mem.sample)))
        if not withdrawn:
            if mem.group.n_samples == 1:
                weights[mem.group.id] = 1
            dropped |= existing
        elif mem.group.n_samples == 1:
            weights[mem.group.id] = 0
        elif not existing:
            new.append((next_group, mem))
            next_group += 1
    return weights, new, dropped


def _chroms_by_assembly(session: Any, members: list[_Member]) -> dict[Assembly, set[str]]:
    files = {mem.file_id: mem.assembly for mem in members}
    out: dict[Assembly, set[str]] = {}
    for f in repo.live_store_files(session, table_name="site_counts"):
        fid = file_id_of(f.path)
        if fid in files:
            out.setdefault(files[fid], set()).add(f.chrom)
    for f in repo.live_store_files(session, table_name="coverage"):
        fid = file_id_of(f.path)
        if fid in files:
            out.setdefault(files[fid], set()).add(f.chrom)
    return out


def _group_dict(gid: int, mem: _Member) -> dict[str, Any]:
    g = mem.group
    return {
        "group_id": gid,
        "dataset": mem.dataset,
        "population": g.population,
        "sex": g.sex,
        "centre": g.centre,
        "weight": -1,
    }


def _exclusion_parts(root: Any, session: Any, mem: _Member, gid: int, run_id: int, chroms: set[str]) -> list[PartInfo]:
    out = []
    for chrom in sorted(chroms):
        files: dict[str, list[Any]] = {}
        for table in ("site_counts", "coverage", "calls"):
            files[table] = [
                root / f.path
                for f in repo.live_store_files(session, table_name=table, assembly=mem.assembly.value, chrom=chrom)
                if file_id_of(f.path) == mem.file_id and exclusion_group_of(f.path) is None
            ]
        if not files["site_counts"] and not files["coverage"]:
            continue
        sites, coverage = exclusion_tables(
            assembly=mem.assembly,
            chrom=chrom,
            site_files=files["site_counts"],
            coverage_files=files["coverage"],
            calls_files=files["calls"],
            file_id=mem.file_id,
            group_id=mem.group.id,
            sample=mem.sample,
            sex=mem.sex,
            exclusion_group_id=gid,
        )
        name = f"{run_id:08d}-{mem.file_id:08d}-x{gid}"
        for table, data in (("site_counts", sites), ("coverage", coverage)):
            out.append(write_part(root, table=table, assembly=mem.assembly.value, chrom=chrom, name=name, data=data))
    return out
