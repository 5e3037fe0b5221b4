"""A data steward's acts: projects, members, grants, revocations, recorded consent.

Each act is checked by policy, written to the catalog in one transaction that bumps the policy
version, and audited; the audit entry is written first, so an act the log cannot record is not
done. Consent withdrawal also changes the precomputed statistics, so it lives in
pipeline.consent, which calls `record_consent_change` here inside its own commit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from genomenode.access import policy
from genomenode.access.duo import ResearchPurpose, match, parse_data_use
from genomenode.access.gate import AccessControl
from genomenode.catalog import sharing
from genomenode.catalog.models import Dataset, Project
from genomenode.errors import AccessDeniedError, InputError, NotFoundError


def _require(caller: policy.Caller, action: policy.Action) -> None:
    decision = policy.may(caller, action)
    if not decision:
        raise AccessDeniedError(decision.reason)


def check_purpose(purpose: dict[str, Any]) -> ResearchPurpose:
    """A project's purpose as DUO matching reads it; refused with the field at fault."""
    return ResearchPurpose.from_dict(purpose)


def purpose_within_conditions(project: Project, dataset: Dataset) -> ResearchPurpose:
    """The project's purpose as of today, refused (with DUO's reasons) when it breaks the dataset's
    own data-use conditions: what a grant, and a request for one, must meet."""
    purpose = replace(check_purpose(json.loads(project.purpose)), on=date.today())
    codes = json.loads(dataset.data_use)
    if codes:
        decision = match(purpose, parse_data_use(codes))
        if not decision.allowed:
            raise AccessDeniedError(
                f"project {project.name}'s purpose breaks dataset {dataset.name}'s conditions: "
                + "; ".join(decision.reasons)
            )
    return purpose


def create_project(gate: AccessControl, caller: policy.Caller, *, name: str, purpose: dict[str, Any]) -> None:
    _require(caller, policy.Action.MANAGE_PROJECTS)
    check_purpose(purpose)
    gate.record(caller, "project.create", target=name, outcome="done")
    with gate.Session() as s, s.begin():
        sharing.create_project(s, name=name, purpose=purpose)


def add_member(
    gate: AccessControl, caller: policy.Caller, *, project: str, subject: str, issuer: str | None = None
) -> None:
    _require(caller, policy.Action.MANAGE_PROJECTS)
    issuer = issuer or gate.settings.public_url
    with gate.Session() as s, s.begin():
        user = sharing.find_user(s, issuer=issuer, subject=subject)
        if user is None:
            raise NotFoundError(f"no user {subject!r} of {issuer}; add them with `genomenode users add` first")
        if "researcher" not in user.roles.split(","):
            raise InputError(f"user {subject!r} is not a researcher; give them the researcher role first")
        gate.record(caller, "project.member.add", target=project, outcome="done", member=f"{issuer}|{subject}")
        sharing.add_member(s, project=sharing.get_project(s, project), user=user)


def grant(
    gate: AccessControl,
    caller: policy.Caller,
    *,
    project: str,
    dataset: str,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """Grant a project a dataset, refused when its purpose breaks the dataset's own conditions.

    Per-person consent is matched at every read (people withdraw); the answer says how many of
    the dataset's people the purpose does not cover today, so the committee sees it.
    """
    _require(caller, policy.Action.MANAGE_GRANTS)
    with gate.Session() as s, s.begin():
        proj = sharing.get_project(s, project)
        ds = s.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            raise NotFoundError(f"no dataset {dataset!r}")
        purpose = purpose_within_conditions(proj, ds)
        rows = [r for r in sharing.subject_rows(s) if dataset in r.datasets]
        not_covered = 0
        for row in rows:
            codes_ = row.consent_codes
            if row.consent_status != "given" or not codes_ or not match(purpose, parse_data_use(list(codes_))).allowed:
                not_covered += 1
        gate.record(
            caller, "grant.add", target=dataset, outcome="done", project=project, people_not_covered=not_covered
        )
        sharing.add_grant(s, project=proj, dataset=ds, by=caller.actor, expires_at=expires_at)
    return {"project": project, "dataset": dataset, "people": len(rows), "people_not_covered": not_covered}


def revoke(gate: AccessControl, caller: policy.Caller, *, project: str, dataset: str) -> int:
    _require(caller, policy.Action.MANAGE_GRANTS)
    with gate.Session() as s, s.begin():
        proj = sharing.get_project(s, project)
        ds = s.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            raise NotFoundError(f"no dataset {dataset!r}")
        gate.record(caller, "grant.revoke", target=dataset, outcome="done", project=project)
        return sharing.revoke_grants(s, project=proj, dataset=ds, by=caller.actor)


def set_dataset_policy(
    gate: AccessControl, caller: policy.Caller, *, dataset: str, level: str | None, data_use: list[str] | None
) -> None:
    _require(caller, policy.Action.MANAGE_GRANTS)
    if level is not None and level not in policy.Level.__members__:
        raise InputError(f"security level {level!r}: choose PUBLIC, REGISTERED or CONTROLLED")
    if data_use:
        parse_data_use(data_use)
    gate.record(caller, "dataset.policy", target=dataset, outcome="done", level=level, data_use=json.dumps(data_use))
    with gate.Session() as s, s.begin():
        sharing.set_dataset_policy(s, name=dataset, level=level, data_use=data_use)
