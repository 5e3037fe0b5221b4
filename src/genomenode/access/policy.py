"""Who may see what: every decision the node makes about a caller, as pure functions.

The API, the CLI and (later) Beacon and the portal all ask this module; none decides on its own.
Inputs are plain facts (the caller, a dataset, a subject, a project) that the access service reads
from the catalog, so each rule can be tested without a database.

The rules, in short:

* Aggregates (allele counts) are open to everyone. A caller below CONTROLLED on any dataset in
  an answer gets small counts hidden (`small_count_floor`, see access.disclosure).
* Individual-level data (a person's genotypes, record, cases, reports) only to
  - a clinician of a region the person was submitted from (care, not research: consent for
    research does not apply, withdrawal does not stop care);
  - a researcher acting for a project they belong to, with a live grant to a dataset holding the
    person, whose purpose matches the dataset's data-use conditions and the person's consent,
    which must not be withdrawn;
  - a data steward.
* Object-level denials look exactly like "not found" to the caller (OWASP API1); the reason is
  kept for the audit log only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genomenode.access.duo import DataUse, ResearchPurpose


class Role(StrEnum):
    REGISTERED = "registered"  # registered researcher: ResearcherStatus/registered access
    RESEARCHER = "researcher"  # researcher on an approved project
    CLINICIAN = "clinician"  # bound to a healthcare region
    SUBMITTER = "submitter"  # bound to a centre
    STEWARD = "steward"  # grants, revokes, records consent, erases, reads the audit log
    ADMIN = "admin"  # runs the node: users, keys; no individual-level data
    PEER = "peer"  # another node named in GENOMENODE_PEERS_FILE (federation.auth); never a user's role


class Level(IntEnum):
    """A dataset's security level, and what a caller has reached on a dataset (ordered)."""

    PUBLIC = 0
    REGISTERED = 1
    CONTROLLED = 2


class Action(StrEnum):
    """Operations beyond reading, each held by one role (and bound where the role is bound)."""

    MANAGE_USERS = "manage.users"
    MANAGE_PROJECTS = "manage.projects"
    MANAGE_GRANTS = "manage.grants"
    MANAGE_CONSENT = "manage.consent"
    ERASE = "erase"
    SHARE = "share"
    READ_AUDIT = "read.audit"
    INGEST = "ingest"


_ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.MANAGE_PROJECTS: frozenset({Role.STEWARD}),
    Action.MANAGE_GRANTS: frozenset({Role.STEWARD}),
    Action.MANAGE_CONSENT: frozenset({Role.STEWARD}),
    Action.ERASE: frozenset({Role.STEWARD}),
    Action.SHARE: frozenset({Role.STEWARD}),
    Action.READ_AUDIT: frozenset({Role.STEWARD}),
    Action.INGEST: frozenset({Role.SUBMITTER, Role.ADMIN}),
}


@dataclass(frozen=True)
class Caller:
    """Who is asking, as resolved from a verified token, its visas and the catalog's user record."""

    issuer: str | None = None
    subject: str | None = None
    roles: frozenset[Role] = frozenset()
    region: str | None = None
    centre: str | None = None
    projects: frozenset[str] = frozenset()
    visa_datasets: frozenset[str] = frozenset()  # ControlledAccessGrants naming one of our datasets
    expires_at: float | None = None
    peer_reach: Level | None = None  # a peer node's reach for this request (see peer_reach()); None for users

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @property
    def actor(self) -> str:
        """The caller as the audit log names them: issuer and subject, never a token."""
        return "anonymous" if self.subject is None else f"{self.issuer}|{self.subject}"

    @property
    def role_label(self) -> str:
        return ",".join(sorted(r.value for r in self.roles)) or ("public" if self.anonymous else "authenticated")

    def has(self, role: Role) -> bool:
        return role in self.roles


ANONYMOUS = Caller()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class DatasetFacts:
    name: str
    level: Level
    data_use: DataUse | None = None


@dataclass(frozen=True)
class ProjectFacts:
    name: str
    purpose: ResearchPurpose
    members: frozenset[str]  # actors (issuer|subject)
    granted_datasets: frozenset[str]


@dataclass(frozen=True)
class SubjectFacts:
    pseudonym: str
    regions: frozenset[str]
    datasets: frozenset[str]
    consent: DataUse | None  # None: no research consent recorded
    withdrawn: bool = False
    erased: bool = False
    samples: tuple[str, ...] = field(default=())


# -- operations -------------------------------------------------------------------------------
def may(caller: Caller, action: Action, *, centre: str | None = None) -> Decision:
    """Whether the caller holds the role for `action`; submitters only for their own centre."""
    holders = _ACTION_ROLES[action]
    held = caller.roles & holders
    if not held:
        wanted = " or ".join(sorted(r.value for r in holders))
        return deny(f"{action.value} needs the {wanted} role")
    if action is Action.INGEST and held == {Role.SUBMITTER} and centre is not None and caller.centre != centre:
        return deny(f"a submitter for centre {caller.centre!r} cannot submit for centre {centre!r}")
    return allow(f"{action.value} as {'/'.join(sorted(r.value for r in held))}")


# -- aggregates -------------------------------------------------------------------------------
def dataset_level(caller: Caller, dataset: DatasetFacts, *, project_grants: Collection[str] = ()) -> Level:
    """How far this caller reaches on this dataset.

    CONTROLLED: a steward, or a grant (a project of theirs, or a verified ControlledAccessGrants
    visa). REGISTERED: a registered or project researcher. A peer node: its reach for the request
    (`peer_reach`), whatever the dataset. Everyone else PUBLIC.
    """
    if caller.has(Role.PEER):
        return caller.peer_reach or Level.PUBLIC
    if caller.has(Role.STEWARD):
        return Level.CONTROLLED
    if dataset.name in caller.visa_datasets or dataset.name in project_grants:
        return Level.CONTROLLED
    if caller.roles & {Role.REGISTERED, Role.RESEARCHER}:
        return Level.REGISTERED
    return Level.PUBLIC


def beacon_granularity(reach: Level, dataset: Level) -> str:
    """The most a Beacon answer may say about a dataset: "record" when the caller reaches the
    dataset's security level, "count" one level below it, "boolean" further below.

    A PUBLIC dataset answers anyone with records; a CONTROLLED one answers the public yes/no,
    registered researchers with counts and granted callers with records. Counts of people below
    the small-count floor stay hidden from callers below CONTROLLED whatever the granularity.
    """
    gap = int(dataset) - int(reach)
    return "record" if gap <= 0 else "count" if gap == 1 else "boolean"


def max_beacon_granularity(caller: Caller) -> str:
    """The most any Beacon answer may say to this caller: a peer node gets counts at most, so no
    record (not even an aggregate variant record) crosses to another node; everyone else "record"."""
    return "count" if caller.has(Role.PEER) else "record"


# -- federation -------------------------------------------------------------------------------
def vouched_reach(caller: Caller) -> Level:
    """What this node vouches for when it asks its peers on this caller's behalf: REGISTERED for a
    registered or project researcher or a steward, PUBLIC for anyone else. Grants and CONTROLLED
    access are this node's own and never cross to another node."""
    if caller.roles & {Role.REGISTERED, Role.RESEARCHER, Role.STEWARD}:
        return Level.REGISTERED
    return Level.PUBLIC


def peer_reach(configured: Level, vouched: Level) -> Level:
    """A verified peer's reach for one request: what this node's peers file allows that peer
    (default REGISTERED), never more than the peer vouches for its own caller. So a peer's
    anonymous user gets PUBLIC answers here, as they would asking this node directly."""
    return min(configured, vouched)


def suppression_floor(
    caller: Caller, datasets: Collection[DatasetFacts], *, floor: int, project_grants: Collection[str] = ()
) -> int | None:
    """The floor below which counts are hidden from this caller in an answer over `datasets`,
    or None when the caller is CONTROLLED on every one of them."""
    if floor <= 1:
        return None
    if all(dataset_level(caller, d, project_grants=project_grants) is Level.CONTROLLED for d in datasets):
        return None
    return floor


# -- individual-level data --------------------------------------------------------------------
def individual_access(caller: Caller, subject: SubjectFacts, *, project: ProjectFacts | None = None) -> Decision:
    """May the caller see this person's individual-level data (optionally as `project`)?"""
    if subject.erased:
        return deny("the person was erased")
    if project is None:
        if caller.has(Role.STEWARD):
            return allow("data steward")
        if caller.has(Role.CLINICIAN):
            if caller.region and caller.region in subject.regions:
                return allow(f"clinician of region {caller.region}")
            return deny(f"clinician of region {caller.region!r}; the person belongs to another region")
        return deny("individual-level data needs a clinician of the person's region, a project, or a steward")
    return research_access(caller, subject, project)


def research_access(caller: Caller, subject: SubjectFacts, project: ProjectFacts) -> Decision:
    from genomenode.access.duo import match

    if not caller.has(Role.RESEARCHER) or caller.actor not in project.members:
        return deny(f"the caller is not a researcher on project {project.name}")
    datasets = subject.datasets & project.granted_datasets
    if not datasets:
        return deny(f"project {project.name} has no live grant to a dataset holding the person")
    if subject.withdrawn:
        return deny("the person withdrew consent")
    if subject.consent is None:
        return deny("no research consent recorded for the person")
    decision = match(project.purpose, subject.consent)
    if not decision.allowed:
        return deny("consent does not cover the project's purpose: " + "; ".join(decision.reasons))
    return allow(f"project {project.name}, grant to {', '.join(sorted(datasets))}, consent matches")
