"""The node's one door: who is calling (tokens, visas, the catalog's users), what policy says, and the
audit log that records it before anything individual-level leaves.

`AccessControl` is built once per API app or CLI command and holds the node's trusted keys, its
own issuer, the audit log and a decision cache. Everything it decides comes from access.policy.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from genomenode.access import policy
from genomenode.access.audit import AuditEvent, AuditLog
from genomenode.access.decision_cache import DecisionCache
from genomenode.access.duo import DataUse, ResearchPurpose, parse_data_use
from genomenode.access.identity import KeyStore, TrustedIssuer, VerifiedToken, load_trusted_issuers, verify_token
from genomenode.access.node_issuer import NodeIssuer, load_or_create_signing_key
from genomenode.access.passport import dataset_grants, is_registered_researcher, verify_visas
from genomenode.access.pseudonym import load_or_create_key, pseudonymise
from genomenode.catalog import sharing
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.catalog.models import Dataset
from genomenode.errors import AuthenticationError, InputError, NotFoundError
from genomenode.settings import Settings

PASSPORT_CLAIM = "ga4gh_passport_v1"


@dataclass(frozen=True)
class Individual:
    """A person as one caller may name them: the node pseudonym, or a project's own pseudonym."""

    id: str
    row: sharing.SubjectRow
    facts: policy.SubjectFacts


class AccessControl:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self._owns_engine = engine is None
        self.engine = engine or open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
        self.Session = session_factory(self.engine)
        self.issuer = NodeIssuer(
            settings.public_url, load_or_create_signing_key(settings.signing_key_path), settings.token_audience
        )
        issuers: list[TrustedIssuer] = (
            load_trusted_issuers(settings.trusted_issuers_file) if settings.trusted_issuers_file else []
        )
        self.visa_jku = frozenset(i.jwks_uri for i in issuers if i.jwks_uri and i.kind in ("visa", "both"))
        self.keys = KeyStore(issuers, local={settings.public_url: self.issuer.keyset()})
        self.audit_log = AuditLog(settings.audit_log_path, enabled=settings.audit_enabled)
        self._cache: DecisionCache[policy.Caller] = DecisionCache()
        self._pseudonym_key: bytes | None = None
        self._key_lock = threading.Lock()

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    # -- identity ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> policy.Caller:
        """The caller behind an `Authorization` header; no header is the anonymous public."""
        if not authorization:
            return policy.ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        return self.caller_for_token(token.strip())

    def caller_for_token(self, token: str, *, now: float | None = None) -> policy.Caller:
        now = time.time() if now is None else now
        verified = verify_token(token, keys=self.keys, audience=self.settings.token_audience, now=now)
        raw_visas = verified.claims.get(PASSPORT_CLAIM) or []
        if not isinstance(raw_visas, list) or not all(isinstance(v, str) for v in raw_visas):
            raise AuthenticationError(f"{PASSPORT_CLAIM} must be a list of visa JWTs")
        with self.Session() as s:
            version = sharing.policy_version(s)
        visa_digest = hashlib.sha256("\n".join(raw_visas).encode()).hexdigest()[:16]
        key = (verified.issuer, verified.subject, f"{version}:{visa_digest}")
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        caller = self._resolve(verified, raw_visas, now)
        expires = min(verified.expires_at, caller.expires_at or verified.expires_at)
        self._cache.put(key, caller, expires, now)
        return caller

    def _resolve(self, verified: VerifiedToken, raw_visas: list[str], now: float) -> policy.Caller:
        visas = (
            verify_visas(
                raw_visas,
                subject=verified.subject,
                subject_issuer=verified.issuer,
                keys=self.keys,
                allowed_jku=self.visa_jku,
                now=now,
            )
            if raw_visas
            else []
        )
        with self.Session() as s:
            user = sharing.find_user(s, issuer=verified.issuer, subject=verified.subject)
            roles = {policy.Role(r) for r in user.roles.split(",") if r} if user and user.active else set()
            projects = sharing.projects_of(s, issuer=verified.issuer, subject=verified.subject) if roles else []
            our_datasets = {d.name for d in s.query(Dataset)}
        if visas and is_registered_researcher(visas):
            roles.add(policy.Role.REGISTERED)
        granted = {_dataset_of_grant(v, our_datasets, self.settings.public_url) for v in dataset_grants(visas)}
        visa_expiry = min((v.expires_at for v in visas), default=None)
        return policy.Caller(
            issuer=verified.issuer,
            subject=verified.subject,
            roles=frozenset(roles),
            region=user.region if user and user.active else None,
            centre=user.centre if user and user.active else None,
            projects=frozenset(projects),
            visa_datasets=frozenset(g for g in granted if g),
            expires_at=float(min(verified.expires_at, visa_expiry)) if visa_expiry else float(verified.expires_at),
        )

    def issue_token(self, *, issuer: str, subject: str) -> str:
        """A token for a user this node knows (`genomenode token issue`): no user, no token."""
        if issuer != self.settings.public_url:
            raise InputError(f"this node signs tokens for its own users only (issuer {self.settings.public_url})")
        with self.Session() as s:
            user = sharing.find_user(s, issuer=issuer, subject=subject)
            if user is None or not user.active:
                raise NotFoundError(f"no active user {subject!r}; add one with `genomenode users add {subject} ...`")
        return self.issuer.issue(subject, lifetime_s=self.settings.token_lifetime_minutes * 60)

    # -- facts for policy -------------------------------------------------------------------
    def datasets(self) -> list[policy.DatasetFacts]:
        with self.Session() as s:
            return [_dataset_facts(d) for d in s.query(Dataset).order_by(Dataset.name)]

    def project(self, name: str) -> policy.ProjectFacts:
        with self.Session() as s:
            row = sharing.project_row(s, name)
        return policy.ProjectFacts(
            name=row.name,
            purpose=replace(ResearchPurpose.from_dict(row.purpose), on=date.today()),
            members=frozenset(f"{i}|{sub}" for i, sub in row.members),
            granted_datasets=row.granted_datasets,
        )

    def project_grants(self, caller: policy.Caller) -> frozenset[str]:
        """Datasets any of the caller's projects holds a live grant to."""
        if not caller.projects:
            return frozenset()
        out: set[str] = set()
        for name in caller.projects:
            out |= self.project(name).granted_datasets
        return frozenset(out)

    def floor_for(self, caller: policy.Caller, dataset: str | None = None) -> int | None:
        """The small-count floor for this caller over an answer's datasets (None: every count shown)."""
        floor = self.settings.small_count_floor
        if caller.anonymous:
            return floor if floor > 1 else None  # the public is never CONTROLLED
        datasets = [d for d in self.datasets() if dataset is None or d.name == dataset]
        return policy.suppression_floor(caller, datasets, floor=floor, project_grants=self.project_grants(caller))

    def individuals(self, caller: policy.Caller, *, project: str | None = None) -> list[Individual]:
        """Everyone this caller may see, named as they may name them."""
        proj = self.project(project) if project else None
        with self.Session() as s:
            rows = sharing.subject_rows(s)
        out = []
        for row in rows:
            facts = _subject_facts(row)
            if policy.individual_access(caller, facts, project=proj):
                out.append(Individual(self._name(row.pseudonym, project), row, facts))
        return out

    def individual(self, caller: policy.Caller, individual_id: str, *, project: str | None = None) -> Individual:
        """One person the caller may see, else NotFoundError, worded as for an unknown id.

        A denial is recorded in the audit log with its reason; the caller learns nothing more
        than that no such person is visible to them (OWASP API1).
        """
        proj = self.project(project) if project else None
        found = self._find(individual_id, project)
        decision = (
            policy.individual_access(caller, found.facts, project=proj) if found else policy.deny("no such person")
        )
        if not decision:
            if found is not None:
                self.record(
                    caller, "access.denied", target=found.row.pseudonym, outcome="denied", reason=decision.reason
                )
            raise NotFoundError(f"no individual {individual_id!r}")
        assert found is not None
        return found

    def _find(self, individual_id: str, project: str | None) -> Individual | None:
        with self.Session() as s:
            if project is None:
                subject = sharing.get_subject(s, individual_id)
                rows = sharing.subject_rows(s, [subject.id]) if subject else []
            else:
                rows = [r for r in sharing.subject_rows(s) if self._name(r.pseudonym, project) == individual_id]
        if not rows:
            return None
        return Individual(individual_id, rows[0], _subject_facts(rows[0]))

    def _name(self, node_pseudonym: str, project: str | None) -> str:
        """Researchers see a pseudonym of their own project's, so two projects cannot link people."""
        if project is None:
            return node_pseudonym
        with self._key_lock:
            if self._pseudonym_key is None:
                self._pseudonym_key = load_or_create_key(self.settings.pseudonym_key_path)
        return pseudonymise(self._pseudonym_key, node_pseudonym, context=f"project:{project}")

    # -- audit ------------------------------------------------------------------------------
    def record(
        self,
        caller: policy.Caller,
        action: str,
        *,
        target: str,
        outcome: str = "allowed",
        request_id: str | None = None,
        **details: str | int | float | bool | None,
    ) -> None:
        """Write the audit entry; raises AuditUnavailableError when it cannot be written."""
        self.audit_log.append(
            AuditEvent(
                action=action,
                actor=caller.actor,
                role=caller.role_label,
                target=target,
                outcome=outcome,
                details=details,
                request_id=request_id,
            )
        )


def _dataset_of_grant(value: str, ours: set[str], public_url: str) -> str | None:
    """A ControlledAccessGrants value names one of our datasets by URL (<node>/datasets/<name>) or name."""
    prefix = public_url.rstrip("/") + "/datasets/"
    name = value[len(prefix) :] if value.startswith(prefix) else value
    return name if name in ours else None


def _dataset_facts(d: Dataset) -> policy.DatasetFacts:
    codes = json.loads(d.data_use)
    return policy.DatasetFacts(
        name=d.name, level=policy.Level[d.security_level], data_use=parse_data_use(codes) if codes else None
    )


def _subject_facts(row: sharing.SubjectRow) -> policy.SubjectFacts:
    consent: DataUse | None = None
    if row.consent_codes and row.consent_status == "given":
        try:
            consent = parse_data_use(list(row.consent_codes))
        except InputError:
            consent = None  # an unreadable consent permits nothing
    return policy.SubjectFacts(
        pseudonym=row.pseudonym,
        regions=row.regions,
        datasets=row.datasets,
        consent=consent,
        withdrawn=row.consent_status == "withdrawn",
        erased=row.status == "erased",
        samples=tuple(name for _, _, name in row.samples),
    )


def signing_key_exists(settings: Settings) -> bool:
    return Path(settings.signing_key_path).exists()
